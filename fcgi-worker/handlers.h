/* handlers.h — one function per route. Each answers the request fully
 * (success or error via respond.c). A handler that borrowed a page slot
 * leaves it in r->slot for the request loop to give back after the FastCGI
 * request is finished, so that slot clean-up is off the client's path. */
#ifndef RCGI_HANDLERS_H
#define RCGI_HANDLERS_H

struct request;

void handle_pdf(struct request *r);
void handle_screenshot(struct request *r);
void handle_extract(struct request *r);
void handle_health(struct request *r);
void handle_status(struct request *r);
void handle_metrics(struct request *r);

#endif
