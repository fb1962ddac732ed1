/* clock.h — monotonic milliseconds, the unit of every deadline in rendercgi. */
#ifndef RCGI_CLOCK_H
#define RCGI_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. Deadlines are absolute values of this clock. */
int64_t clock_ms(void);
/* Fill 'ts' with monotonic deadline 'deadline_ms', for pthread_cond_timedwait
 * on a condition variable made by clock_cond_init (CLOCK_MONOTONIC). */
void clock_deadline_timespec(int64_t deadline_ms, struct timespec *ts);
/* Initialise a condition variable that waits on CLOCK_MONOTONIC. */
#include <pthread.h>
int clock_cond_init(pthread_cond_t *cond);
/* Milliseconds left until 'deadline_ms' (0 if passed, capped at INT32_MAX). */
int clock_left_ms(int64_t deadline_ms);

#endif
