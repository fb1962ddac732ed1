/* route.h — from a parsed request to its handler (API.md §3 routes). */
#ifndef RCGI_ROUTE_H
#define RCGI_ROUTE_H

struct request;

/* Answer the request: find its route, check the method, call the handler.
 * Unknown routes get 404 not_found, wrong methods 405 with Allow. */
void route_dispatch(struct request *r);

#endif
