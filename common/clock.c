/* clock.c — monotonic time helpers; see clock.h. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

int64_t
clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_deadline_timespec(int64_t deadline_ms, struct timespec *ts)
{
    /* Condition variables made by clock_cond_init wait on CLOCK_MONOTONIC,
     * so the deadline converts directly. */
    ts->tv_sec = deadline_ms / 1000;
    ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000;
}

int
clock_left_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - clock_ms();
    if (left < 0)
        return 0;
    if (left > INT32_MAX)
        return INT32_MAX;
    return (int)left;
}

int
clock_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int r;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    r = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return r == 0 ? 0 : -1;
}
