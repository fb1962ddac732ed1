/* policy.h — which URLs and addresses a render may reach (API.md §6).
 *
 * Secure by default: only http and https; loopback, private (RFC 1918, ULA),
 * link-local (169.254/16, fe80::/10), CGNAT (100.64/10), multicast,
 * unspecified, broadcast, documentation/benchmark/reserved ranges and
 * IPv4-mapped/NAT64 forms of them are refused unless 'allow_networks'
 * admits them; 'deny_networks' refuses more (and wins over allow). The
 * decision functions are pure; policy_check_url also resolves the host.
 *
 * The rule, for one address:
 *   1. an IPv4-mapped address (::ffff:a.b.c.d) is judged as a.b.c.d;
 *   2. in deny_networks → blocked; for NAT64 (64:ff9b::/96) and 6to4
 *      (2002::/16) addresses the embedded IPv4 address is tested too;
 *   3. in allow_networks (the address, or its embedded IPv4) → allowed;
 *   4. NAT64/6to4: the embedded IPv4 address decides (by the default
 *      ranges), so 64:ff9b::8.8.8.8 is allowed and 64:ff9b::10.0.0.1 not;
 *   5. in a default-deny range → blocked, 'why' naming the range;
 *   6. otherwise allowed.
 * Beyond the ranges listed above, the default-deny table also holds the
 * deprecated IPv4-compatible (::/96) and site-local (fec0::/10) ranges, the
 * whole of 2001::/23 (IETF protocol assignments, including Teredo
 * 2001::/32, whose client address is obfuscated), 100::/64 (discard) and
 * 3fff::/20 (documentation).
 *
 * A struct policy is immutable once built: share it between threads. */
#ifndef RCGI_POLICY_H
#define RCGI_POLICY_H

#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

struct addrinfo;
struct policy;

/* Build a policy from two comma-separated CIDR lists (NULL or "" = empty).
 * RC_OK and *out (free with policy_free); RC_INVALID with 'err' naming the
 * list and the bad entry ("allow_networks: '10.0.0.1/8': host bits are set
 * (did you mean 10.0.0.0/8?)"); RC_ERROR when out of memory. */
int policy_new(const char *allow_networks, const char *deny_networks, struct policy **out,
               char *err, size_t errlen);
/* NULL-safe. */
void policy_free(struct policy *p);

/* Pure: may a connection go to this address? RC_OK or RC_BLOCKED, with
 * 'why' naming the rule ("169.254.169.254 is link-local (169.254.0.0/16);
 * not in allow_networks", "10.1.2.3 is in deny_networks (10.0.0.0/8)").
 * Families other than IPv4/IPv6 are blocked. 'why' is "" on RC_OK. */
int policy_check_addr(const struct policy *p, const struct sockaddr *sa, char *why,
                      size_t whylen);
/* Pure: every address of a resolved list (as from getaddrinfo(3)) must be
 * allowed; the first blocked one decides, with 'why' prefixed by the host
 * ("host db.example: 10.0.0.5 is private (10.0.0.0/8); not in
 * allow_networks"). An empty list is RC_NOT_FOUND. For callers that
 * resolve themselves (the policy proxy, libcurl's open-socket callback). */
int policy_check_addrinfo(const struct policy *p, const char *host, const struct addrinfo *ai,
                          char *why, size_t whylen);
/* Pure: is the scheme of 'url' allowed (http, https)? RC_OK, RC_BLOCKED
 * (other scheme, 'why' names it) or RC_INVALID (not an absolute URL). */
int policy_check_scheme(const char *url, char *why, size_t whylen);
/* Check a URL before navigating: its scheme, then every address its host
 * resolves to. RC_OK; RC_INVALID (bad_url: 'why' says what is malformed);
 * RC_BLOCKED (url_blocked: 'why' names the rule); RC_NOT_FOUND (the host
 * does not resolve: target_unreachable, 'why' is "cannot resolve host X:
 * ..."). "localhost", "*.localhost" (and with a trailing dot) are not
 * resolved: like Chromium we take them as 127.0.0.1 and ::1, so both must
 * be allowed. Other names go to getaddrinfo(AF_UNSPEC, SOCK_STREAM) — which
 * may block on DNS — and every address is checked. This is advisory: the
 * browser resolves again (DNS rebinding), so the connection itself must be
 * checked too (DESIGN.md decision 9). Thread-safe. */
int policy_check_url(const struct policy *p, const char *url, char *why, size_t whylen);
/* Pure: is 'host' (lower-case) "localhost" or "*.localhost", with or without
 * one trailing dot? Chromium answers these itself with ::1 and 127.0.0.1,
 * never asking DNS or /etc/hosts, and so do policy_check_url and the proxy. */
int policy_is_localhost(const char *host);

/* The addresses of a host as the policy judges them: "localhost" and
 * "*.localhost" are ::1 and 127.0.0.1 (Chromium's rule, no lookup); any other
 * name or literal goes to getaddrinfo(AF_UNSPEC, SOCK_STREAM), every address.
 * Walk 'list'; the struct points into itself, so it is not copied. */
struct policy_addrs {
    struct addrinfo *list;
    struct addrinfo *res, local[2];     /* private */
    struct sockaddr_in6 six;
    struct sockaddr_in four;
};
/* RC_OK and *out (free with policy_addrs_free), or RC_NOT_FOUND with 'why'
 * ("cannot resolve host X: ..."). May block on DNS. Thread-safe. Used by
 * policy_check_url and the policy proxy, so both resolve alike. */
int policy_resolve(const char *host, struct policy_addrs *out, char *why, size_t whylen);
void policy_addrs_free(struct policy_addrs *a);

#endif
