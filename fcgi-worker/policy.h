/* policy.h — which URLs and addresses a render may reach (API.md §6).
 *
 * Secure by default: only http and https; loopback, private (RFC 1918, ULA),
 * link-local (169.254/16, fe80::/10), CGNAT (100.64/10), multicast,
 * unspecified, broadcast, documentation/benchmark/reserved ranges and
 * IPv4-mapped/NAT64 forms of them are refused unless 'allow_networks'
 * admits them; 'deny_networks' refuses more (and wins over allow). The
 * decision functions are pure; policy_check_url also resolves the host. */
#ifndef RCGI_POLICY_H
#define RCGI_POLICY_H

#include <stddef.h>
#include <sys/socket.h>

struct policy;

/* Build a policy from two comma-separated CIDR lists (NULL or "" = empty).
 * RC_OK and *out (free with policy_free); RC_INVALID with 'err' naming the
 * bad entry. */
int policy_new(const char *allow_networks, const char *deny_networks, struct policy **out,
               char *err, size_t errlen);
void policy_free(struct policy *p);

/* Pure: may a connection go to this address? RC_OK or RC_BLOCKED, with
 * 'why' naming the rule ("169.254.169.254 is link-local (169.254.0.0/16);
 * not in allow_networks"). */
int policy_check_addr(const struct policy *p, const struct sockaddr *sa, char *why,
                      size_t whylen);
/* Pure: is the scheme of 'url' allowed (http, https)? RC_OK, RC_BLOCKED
 * (other scheme, 'why' names it) or RC_INVALID (not an absolute URL). */
int policy_check_scheme(const char *url, char *why, size_t whylen);
/* Check a URL before navigating: its scheme, then every address its host
 * resolves to. RC_OK; RC_INVALID (bad_url: 'why' says what is malformed);
 * RC_BLOCKED (url_blocked: 'why' names the rule); RC_NOT_FOUND (the host
 * does not resolve: target_unreachable). */
int policy_check_url(const struct policy *p, const char *url, char *why, size_t whylen);

#endif
