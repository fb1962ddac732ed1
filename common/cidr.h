/* cidr.h — IPv4/IPv6 network prefixes ("10.0.0.0/8", "::1/128", "127.0.0.1").
 *
 * Pure functions, no I/O, no global state (safe from any thread): used by
 * the config check and the URL policy (fcgi-worker/policy.c).
 *
 * Parsing is strict, like a firewall's: addresses are what inet_pton(3)
 * accepts (dotted-quad IPv4 only — no "10.1", no octal, no zone ids), the
 * prefix length is plain decimal, and a prefix with host bits set
 * ("10.0.0.1/8") is refused with a hint ("did you mean 10.0.0.0/8?")
 * rather than silently masked, since such an entry is usually a typo. */
#ifndef RCGI_CIDR_H
#define RCGI_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network address, host bits zeroed */
    int prefix;             /* 0..32 or 0..128 */
};

/* Parse one prefix; a bare address is a host prefix (/32, /128).
 * RC_OK or RC_INVALID (host bits set, bad address, prefix out of range). */
int cidr_parse(const char *s, struct cidr *out);
/* Parse a comma-separated list (blanks around items ignored; an empty or
 * all-blank list is valid, an empty item between commas is not). On RC_OK
 * *out is a new array the caller frees with free() (NULL when empty). On
 * RC_INVALID *out is NULL and 'err' names the bad item and what is wrong
 * with it ("'10.0.0.1/8': host bits are set (did you mean 10.0.0.0/8?)"). */
int cidr_list_parse(const char *list, struct cidr **out, size_t *n, char *err, size_t errlen);
/* Does the address fall inside the prefix? An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is treated as the IPv4 address it maps: it matches IPv4
 * prefixes and prefixes inside ::ffff:0:0/96, and nothing else — so "::/0"
 * does not admit ::ffff:127.0.0.1. Conversely a plain IPv4 address matches
 * an IPv6 prefix only when that prefix lies inside ::ffff:0:0/96.
 * Families other than AF_INET/AF_INET6 never match. */
bool cidr_match(const struct cidr *c, const struct sockaddr *sa);
/* The same test on raw bytes: 'addr' holds 4 bytes for AF_INET, 16 for
 * AF_INET6 (network order). */
bool cidr_contains(const struct cidr *c, int family, const unsigned char *addr);
/* Write "a.b.c.d/n" or "x::/n" into buf (truncated to fit 'len'). */
void cidr_format(const struct cidr *c, char *buf, size_t len);

#endif
