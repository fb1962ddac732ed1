/* cidr.c — parsing, matching and printing IPv4/IPv6 prefixes; see cidr.h.
 *
 * Nothing here allocates except cidr_list_parse(), whose array the caller
 * owns. Addresses are kept in network byte order so that a prefix test is a
 * byte-wise comparison under a mask. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "rc.h"

/* The longest item we accept; anything longer cannot be a prefix
 * ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49 bytes). */
#define CIDR_TEXT_MAX 64

static const unsigned char v4mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

/* Do the first 'bits' bits of a and b agree? */
static bool
bits_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest != 0) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[whole] & mask) != (b[whole] & mask))
            return false;
    }
    return true;
}

/* Are any bits after the first 'bits' set, in an address of 'len' bytes? */
static bool
host_bits_set(const unsigned char *a, size_t len, int bits)
{
    size_t i = (size_t)bits / 8;
    int rest = bits % 8;

    if (rest != 0) {
        if (a[i] & (0xff >> rest))
            return true;
        i++;
    }
    for (; i < len; i++)
        if (a[i] != 0)
            return true;
    return false;
}

static void
clear_host_bits(unsigned char *a, size_t len, int bits)
{
    size_t i = (size_t)bits / 8;
    int rest = bits % 8;

    if (rest != 0) {
        a[i] &= (unsigned char)(0xff << (8 - rest));
        i++;
    }
    for (; i < len; i++)
        a[i] = 0;
}

/* Parse one prefix, saying what is wrong in 'why' (without naming the item:
 * the caller does that). */
static int
parse_one(const char *s, size_t len, struct cidr *out, char *why, size_t whylen)
{
    char text[CIDR_TEXT_MAX + 1], addr[CIDR_TEXT_MAX + 1];
    const char *slash;
    size_t alen, addrlen;
    int max, prefix = -1;
    struct cidr c;

    memset(&c, 0, sizeof c);
    if (len == 0) {
        snprintf(why, whylen, "empty network");
        return RC_INVALID;
    }
    if (len > CIDR_TEXT_MAX) {
        snprintf(why, whylen, "too long to be a network");
        return RC_INVALID;
    }
    memcpy(text, s, len);
    text[len] = '\0';

    slash = strchr(text, '/');
    alen = slash != NULL ? (size_t)(slash - text) : len;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (strchr(addr, ':') != NULL) {
        c.family = AF_INET6;
        addrlen = 16;
        max = 128;
    } else {
        c.family = AF_INET;
        addrlen = 4;
        max = 32;
    }
    if (alen == 0 || inet_pton(c.family, addr, c.addr) != 1) {
        snprintf(why, whylen, "'%s' is not an %s address", addr,
                 c.family == AF_INET ? "IPv4" : "IPv6");
        return RC_INVALID;
    }

    if (slash == NULL) {
        prefix = max;
    } else {
        /* Plain decimal only: no sign, no blanks, at most three digits. */
        const char *p = slash + 1;
        size_t nd = strlen(p);

        if (nd == 0 || nd > 3 || strspn(p, "0123456789") != nd) {
            snprintf(why, whylen, "prefix length '%s' is not a number 0..%d", p, max);
            return RC_INVALID;
        }
        prefix = atoi(p);
        if (prefix > max) {
            snprintf(why, whylen, "prefix length %d is over %d", prefix, max);
            return RC_INVALID;
        }
    }
    c.prefix = prefix;

    if (host_bits_set(c.addr, addrlen, prefix)) {
        char net[INET6_ADDRSTRLEN + 8];

        clear_host_bits(c.addr, addrlen, prefix);
        cidr_format(&c, net, sizeof net);
        snprintf(why, whylen, "host bits are set (did you mean %s?)", net);
        return RC_INVALID;
    }
    *out = c;
    return RC_OK;
}

int
cidr_parse(const char *s, struct cidr *out)
{
    char why[128];

    if (s == NULL)
        return RC_INVALID;
    return parse_one(s, strlen(s), out, why, sizeof why);
}

int
cidr_list_parse(const char *list, struct cidr **out, size_t *n, char *err, size_t errlen)
{
    struct cidr *arr = NULL;
    size_t count = 0, cap = 0;
    const char *p, *end, *b, *e;
    char why[160];

    *out = NULL;
    *n = 0;
    if (err == NULL)
        errlen = 0; /* snprintf(NULL, 0, ...) is allowed */
    else if (errlen > 0)
        err[0] = '\0';
    if (list == NULL)
        return RC_OK;
    for (p = list; isspace((unsigned char)*p); p++)
        ;
    if (*p == '\0')
        return RC_OK;

    for (p = list;; p = end + 1) {
        end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        for (b = p; b < end && isspace((unsigned char)*b); b++)
            ;
        for (e = end; e > b && isspace((unsigned char)e[-1]); e--)
            ;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct cidr *na = realloc(arr, ncap * sizeof *na);

            if (na == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            arr = na;
            cap = ncap;
        }
        if (e == b) {
            snprintf(err, errlen, "empty item in the list (a stray comma?)");
            goto fail;
        }
        if (parse_one(b, (size_t)(e - b), &arr[count], why, sizeof why) != RC_OK) {
            int shown = (int)(e - b) > CIDR_TEXT_MAX ? CIDR_TEXT_MAX : (int)(e - b);

            snprintf(err, errlen, "'%.*s%s': %s", shown, b, shown < (int)(e - b) ? "..." : "",
                     why);
            goto fail;
        }
        count++;
        if (*end == '\0')
            break;
    }
    *out = arr;
    *n = count;
    return RC_OK;
fail:
    free(arr);
    return RC_INVALID;
}

bool
cidr_contains(const struct cidr *c, int family, const unsigned char *addr)
{
    if (c == NULL || addr == NULL)
        return false;
    if (family == AF_INET6 && memcmp(addr, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
        /* The kernel sends ::ffff:a.b.c.d over IPv4: judge it as that. */
        family = AF_INET;
        addr += 12;
    }
    if (family == AF_INET && c->family == AF_INET)
        return bits_equal(addr, c->addr, c->prefix);
    if (family == AF_INET6 && c->family == AF_INET6)
        return bits_equal(addr, c->addr, c->prefix);
    if (family == AF_INET && c->family == AF_INET6) {
        /* Only a prefix within ::ffff:0:0/96 can speak about IPv4. */
        unsigned char mapped[16];

        if (c->prefix < 96 || memcmp(c->addr, v4mapped_prefix, sizeof v4mapped_prefix) != 0)
            return false;
        memcpy(mapped, v4mapped_prefix, sizeof v4mapped_prefix);
        memcpy(mapped + 12, addr, 4);
        return bits_equal(mapped, c->addr, c->prefix);
    }
    return false;
}

bool
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        return cidr_contains(c, AF_INET, (const unsigned char *)&sin->sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        return cidr_contains(c, AF_INET6, sin6->sin6_addr.s6_addr);
    }
    return false;
}

void
cidr_format(const struct cidr *c, char *buf, size_t len)
{
    char text[INET6_ADDRSTRLEN];

    if (buf == NULL || len == 0)
        return;
    if (c == NULL || (c->family != AF_INET && c->family != AF_INET6) ||
        inet_ntop(c->family, c->addr, text, sizeof text) == NULL) {
        snprintf(buf, len, "(invalid)");
        return;
    }
    snprintf(buf, len, "%s/%d", text, c->prefix);
}
