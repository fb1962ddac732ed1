/* proxy.h — the policy proxy: where the browser's connections are checked
 * (API.md §6, DESIGN.md decision 9).
 *
 * Every Chromium of a worker is started with
 * --proxy-server=socks5://127.0.0.1:PORT --proxy-bypass-list=<-loopback>,
 * so every TCP connection a page makes — the main document, each redirect,
 * subresources, fetch/XHR, WebSockets, workers — is a SOCKS5 CONNECT to
 * this proxy, naming the host. The proxy resolves the host itself, checks
 * every address with the worker's URL policy and connects to the checked
 * address (no second lookup the page could rebind), or refuses with SOCKS5
 * reply 2 "connection not allowed by ruleset". The browser never resolves
 * names itself: with a SOCKS5 proxy it hands them over.
 *
 * One proxy per worker, listening on a kernel-chosen loopback port; one
 * thread per connection, at most PROXY_MAX_CONNS at once. Refusals are
 * remembered (the last PROXY_REFUSALS, with their time) so that a request
 * whose main document was refused can answer 403 url_blocked naming the
 * rule, instead of the browser's bare "net::ERR_SOCKS_CONNECTION_FAILED". */
#ifndef RCGI_PROXY_H
#define RCGI_PROXY_H

#include <stddef.h>
#include <stdint.h>

struct policy;
struct proxy;

#define PROXY_MAX_CONNS 512
#define PROXY_REFUSALS 32

/* Listen on 127.0.0.1 (port chosen by the kernel) and start serving with
 * 'pol' (borrowed: it must outlive the proxy). RC_OK and *out, or RC_ERROR
 * with 'err' saying why. */
int proxy_start(const struct policy *pol, struct proxy **out, char *err, size_t errlen);
/* The port it listens on. */
int proxy_port(const struct proxy *px);
/* Stop listening, end every connection and wait for their threads.
 * NULL-safe. */
void proxy_stop(struct proxy *px);

/* The most recent refusal of a connection to 'host' (any port; a host as
 * the browser named it, IPv6 without brackets) since 'since_ms'
 * (clock_ms()); RC_OK with the policy's sentence in 'why', else
 * RC_NOT_FOUND. Thread-safe. */
int proxy_refusal(struct proxy *px, const char *host, int64_t since_ms, char *why,
                  size_t whylen);

/* Pure, for the tests: parse a SOCKS5 CONNECT request (RFC 1928 §4) in
 * 'msg' ('len' bytes). RC_OK with the host (a name, or an address in text
 * form), port and *used (its length); RC_DECLINED when more bytes are
 * needed; RC_INVALID when it
 * is malformed, with *reply the SOCKS5 reply code to answer (1 general
 * failure, 7 command not supported, 8 address type not supported). */
int proxy_parse_connect(const unsigned char *msg, size_t len, char *host, size_t hostlen,
                        int *port, size_t *used, int *reply);

#endif
