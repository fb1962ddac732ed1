/* cidr.h — IPv4/IPv6 network prefixes ("10.0.0.0/8", "::1/128", "127.0.0.1").
 *
 * Pure functions, no I/O: used by the config check and the URL policy. */
#ifndef RCGI_CIDR_H
#define RCGI_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];  /* network address, host bits zeroed */
    int prefix;              /* 0..32 or 0..128 */
};

/* Parse one prefix; a bare address is a host prefix (/32, /128).
 * RC_OK or RC_INVALID. */
int cidr_parse(const char *s, struct cidr *out);
/* Parse a comma-separated list (blanks around items ignored; an empty list
 * is valid). On RC_OK *out is a new array the caller frees with free() (NULL
 * when empty). On RC_INVALID 'err' names the bad item. */
int cidr_list_parse(const char *list, struct cidr **out, size_t *n, char *err, size_t errlen);
/* Does the address fall inside the prefix? IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) match IPv4 prefixes. */
bool cidr_match(const struct cidr *c, const struct sockaddr *sa);
/* Write "a.b.c.d/n" or "x::/n" into buf. */
void cidr_format(const struct cidr *c, char *buf, size_t len);

#endif
