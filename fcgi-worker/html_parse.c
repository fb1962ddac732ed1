/* html_parse.c — gumbo on untrusted input: an arena with budgets, and
 * crash containment. See html_parse.h for the contract. */
#include "html_parse.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rc.h"

#define ARENA_CHUNK ((size_t)64 << 10)
#define ARENA_PER_BYTE 24 /* memory budget: 24 x input + floor */
#define ARENA_FLOOR ((size_t)32 << 20)
#define PARSE_NS_FLOOR 250000000LL /* time budget: 250 ms + 1 us a byte */
#define PARSE_NS_PER_BYTE 1000LL

/* ---- The parse arena ------------------------------------------------------
 * Gumbo allocates through our callbacks. Everything comes from chunks that
 * are freed together, which is faster than malloc/free for gumbo's many
 * small nodes and, more importantly, lets us stop a parse that goes wrong:
 * when the budget of memory or CPU time is spent (gumbo's tree construction
 * is quadratic in nesting depth: 1 MB of nested <div> takes over a minute)
 * we jump out of gumbo and free the chunks. Gumbo holds no other resource
 * and no global state, so nothing leaks. */

struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct html_arena {
    struct chunk *head;
    size_t total, budget;
    unsigned long allocs;
    int64_t start_ns, budget_ns;
    sigjmp_buf *jmp;
};

static int64_t
thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *
arena_alloc(void *userdata, size_t n)
{
    struct html_arena *a = userdata;
    struct chunk *c = a->head;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if ((++a->allocs & 1023) == 0 && thread_cpu_ns() - a->start_ns > a->budget_ns)
        siglongjmp(*a->jmp, RC_TOO_LARGE);
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;

        if (a->total + size > a->budget)
            siglongjmp(*a->jmp, RC_TOO_LARGE);
        if ((c = malloc(sizeof *c + size)) == NULL)
            siglongjmp(*a->jmp, RC_ERROR);
        c->size = size;
        c->used = 0;
        a->total += size;
        if (size > ARENA_CHUNK && a->head != NULL) {
            /* A big block gets a chunk of its own, behind the current one,
             * which keeps serving the small allocations. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    p = c->data + c->used;
    c->used += n;
    return p;
}

static void
arena_free_nothing(void *userdata, void *p)
{
    /* Everything goes at once in arena_free(). */
}

static void
arena_free(struct html_arena *a)
{
    struct chunk *c = a->head, *next;

    for (; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
}

/* ---- Containing gumbo's crashes ---------------------------------------
 * gumbo 0.10.1 is unmaintained and crashes on some crafted input: our fuzz
 * test found that "<table><svg><select><title><select><caption>" fails an
 * assertion (Debian keeps gumbo's assertions: abort()); without them the
 * same path dereferences NULL. One request must not take down the worker
 * and every request in it. So while a thread is inside gumbo it has a
 * recovery point: SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT raised in that
 * thread jumps back to parse(), which abandons the parse; all of gumbo's
 * memory is in the arena and it holds no locks. A signal anywhere else
 * goes to whatever handler was installed before ours, or to the default
 * action, as if we had never been there. */

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static struct sigaction fault_saved[sizeof fault_signals / sizeof fault_signals[0]];
static __thread sigjmp_buf *parse_guard;

static void
on_fault(int sig, siginfo_t *info, void *uctx)
{
    sigjmp_buf *guard = parse_guard;
    size_t i;

    if (guard != NULL) {
        parse_guard = NULL;
        siglongjmp(*guard, RC_INVALID);
    }
    for (i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++) {
        struct sigaction *old = &fault_saved[i];
        if (fault_signals[i] != sig)
            continue;
        if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
            old->sa_sigaction(sig, info, uctx);
        } else if (old->sa_handler != SIG_IGN && old->sa_handler != SIG_DFL) {
            old->sa_handler(sig);
        } else if (old->sa_handler == SIG_DFL) {
            /* Back to the default; the signal, blocked while we run, is
             * delivered again when we return (a fault repeats anyway). */
            sigaction(sig, old, NULL);
            raise(sig);
        }
        return;
    }
}

static void
install_fault_handlers(void)
{
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++)
        sigaction(fault_signals[i], &sa, &fault_saved[i]);
}

/* Parse into the arena. RC_OK; RC_TOO_LARGE when over budget; RC_INVALID
 * when gumbo crashed on the input; RC_ERROR when out of memory. The tree
 * lives until arena_free(). */
static int
parse(struct html_arena *a, const char *html, size_t len, GumboOutput **out)
{
    GumboOptions opts = kGumboDefaultOptions;
    sigjmp_buf jmp;
    int rc;

    opts.allocator = arena_alloc;
    opts.deallocator = arena_free_nothing;
    opts.userdata = a;
    opts.max_errors = 0; /* we never read gumbo's error list */
    a->budget = ARENA_FLOOR +
                (len > SIZE_MAX / 2 / ARENA_PER_BYTE ? SIZE_MAX / 2 : len * ARENA_PER_BYTE);
    a->budget_ns = PARSE_NS_FLOOR + (int64_t)len * PARSE_NS_PER_BYTE;
    a->start_ns = thread_cpu_ns();
    a->jmp = &jmp;
    if ((rc = sigsetjmp(jmp, 1)) != 0) {
        parse_guard = NULL;
        return rc;
    }
    parse_guard = &jmp;
    *out = gumbo_parse_with_options(&opts, html, len);
    parse_guard = NULL;
    return RC_OK;
}

int
html_parse(const char *html, size_t len, const char *charset, struct html_doc *doc)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    int rc;

    memset(doc, 0, sizeof *doc);
    pthread_once(&once, install_fault_handlers);
    if ((rc = html_input_decode(html, len, charset, &doc->input)) != RC_OK)
        return rc;
    if ((doc->arena = calloc(1, sizeof *doc->arena)) == NULL)
        return RC_ERROR;
    return parse(doc->arena, doc->input.data, doc->input.len, &doc->output);
}

void
html_doc_free(struct html_doc *doc)
{
    if (doc == NULL)
        return;
    if (doc->arena != NULL)
        arena_free(doc->arena);
    free(doc->arena);
    html_input_free(&doc->input);
    memset(doc, 0, sizeof *doc);
}

const char *
html_attr(const GumboElement *e, const char *name)
{
    const GumboAttribute *a = gumbo_get_attribute(&e->attributes, name);

    return a != NULL ? a->value : NULL;
}
