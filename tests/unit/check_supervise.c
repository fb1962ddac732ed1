/* check_supervise.c — tests of the spawner's pure decisions (spawner/
 * supervise.c: restart backoff, exit descriptions, the stop sequence, which
 * leftovers to kill, the target count, the emergency restart; watchdog.c:
 * liveness, request_terminate_timeout, max_memory, max_requests), plus the
 * small I/O helpers around them that need no child process (procs.c's stat
 * parser, sockets.c on a unix socket, common/scoreboard.c, privs.c's
 * lookups and checks, children.c's removal of a worker's TMPDIR).
 * Forking, signals and the event loop are tested for real by
 * tests/integration/test_spawner_*.py. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"
#include "conf.h"
#include "privs.h"
#include "procs.h"
#include "rc.h"
#include "scoreboard.h"
#include "sockets.h"
#include "supervise.h"
#include "watchdog.h"

static const struct backoff B = BACKOFF_DEFAULTS;

/* ---- restart backoff ---------------------------------------------------- */

START_TEST(first_quick_exit_restarts_at_once)
{
    ck_assert_int_eq(supervise_quick_exits(&B, 0, 10, 0), 1);
    ck_assert_int_eq(supervise_restart_delay(&B, 1, 12345), 0);
    ck_assert_int_eq(supervise_restart_delay(&B, 0, 12345), 0);
}
END_TEST

START_TEST(quick_exits_in_a_row_accumulate_and_a_long_life_resets)
{
    int q = 0;

    q = supervise_quick_exits(&B, q, 100, 0);
    q = supervise_quick_exits(&B, q, 4999, 0);
    q = supervise_quick_exits(&B, q, 0, 0);
    ck_assert_int_eq(q, 3);
    ck_assert_int_eq(supervise_quick_exits(&B, q, 5000, 0), 0);
    ck_assert_int_eq(supervise_quick_exits(&B, q, 3600 * 1000, 0), 0);
}
END_TEST

START_TEST(clean_exit_after_a_second_is_a_recycle_not_a_crash)
{
    /* A busy pool with a small max_requests recycles every few seconds. */
    ck_assert_int_eq(supervise_quick_exits(&B, 4, 2000, 1), 0);
    ck_assert_int_eq(supervise_quick_exits(&B, 0, 1000, 1), 0);
    /* But a worker that exits 0 at once is looping. */
    ck_assert_int_eq(supervise_quick_exits(&B, 2, 50, 1), 3);
}
END_TEST

START_TEST(delay_doubles_from_base_with_equal_jitter)
{
    /* Equal jitter: half fixed, half random, so [d/2, d]. */
    ck_assert_int_eq(supervise_restart_delay(&B, 2, 0), B.base_ms / 2);
    ck_assert_int_eq(supervise_restart_delay(&B, 2, (uint32_t)(B.base_ms / 2)), B.base_ms);
    ck_assert_int_eq(supervise_restart_delay(&B, 3, 0), B.base_ms);
    ck_assert_int_eq(supervise_restart_delay(&B, 4, 0), B.base_ms * 2);
    for (uint32_t r = 0; r < 100000; r += 997) {
        int64_t d = supervise_restart_delay(&B, 5, r);
        ck_assert_int_ge(d, B.base_ms * 4);
        ck_assert_int_le(d, B.base_ms * 8);
    }
}
END_TEST

START_TEST(delay_is_capped_at_max_however_many_exits)
{
    for (int q = 2; q < 200; q++) {
        int64_t lo = supervise_restart_delay(&B, q, 0);
        int64_t hi = supervise_restart_delay(&B, q, UINT32_MAX);
        ck_assert_int_le(hi, B.max_ms);
        ck_assert_int_le(lo, hi);
        ck_assert_int_gt(lo, 0);
    }
    ck_assert_int_eq(supervise_restart_delay(&B, 100, 0), B.max_ms / 2);
    ck_assert_int_eq(supervise_restart_delay(&B, 1000000, 0), B.max_ms / 2);
}
END_TEST

START_TEST(jitter_spreads_workers_that_died_together)
{
    int64_t seen[8];
    int distinct = 0;

    for (uint32_t i = 0; i < 8; i++) {
        int64_t d = supervise_restart_delay(&B, 6, i * 2654435761u);
        int dup = 0;
        for (int k = 0; k < distinct; k++)
            dup |= seen[k] == d;
        if (!dup)
            seen[distinct++] = d;
    }
    ck_assert_int_ge(distinct, 6);
}
END_TEST

/* ---- log text ----------------------------------------------------------- */

START_TEST(exit_status_descriptions)
{
    char b[96];

    supervise_describe_exit(W_EXITCODE(3, 0), b, sizeof b);
    ck_assert_str_eq(b, "exited with status 3");
    ck_assert(!supervise_exit_clean(W_EXITCODE(3, 0)));
    supervise_describe_exit(W_EXITCODE(0, 0), b, sizeof b);
    ck_assert_str_eq(b, "exited with status 0");
    ck_assert(supervise_exit_clean(W_EXITCODE(0, 0)));
    supervise_describe_exit(W_EXITCODE(0, 9), b, sizeof b);
    ck_assert_str_eq(b, "exited on signal 9 (SIGKILL)");
    ck_assert(!supervise_exit_clean(W_EXITCODE(0, 9)));
    supervise_describe_exit(W_EXITCODE(0, 11) | 0x80, b, sizeof b);
    ck_assert_str_eq(b, "exited on signal 11 (SIGSEGV) (core dumped)");
}
END_TEST

START_TEST(durations_read_naturally)
{
    char b[32];

    supervise_format_duration(0, b, sizeof b);
    ck_assert_str_eq(b, "0 ms");
    supervise_format_duration(812, b, sizeof b);
    ck_assert_str_eq(b, "812 ms");
    supervise_format_duration(12999, b, sizeof b);
    ck_assert_str_eq(b, "12 s");
    supervise_format_duration(244000, b, sizeof b);
    ck_assert_str_eq(b, "4 min 4 s");
    supervise_format_duration(7500000, b, sizeof b);
    ck_assert_str_eq(b, "2 h 5 min");
}
END_TEST

/* ---- the stop sequence -------------------------------------------------- */

START_TEST(stop_sequence_transitions)
{
    /* Running: only a stop signal starts the sequence. */
    ck_assert_int_eq(supervise_stop_next(STOP_RUNNING, STOP_EV_SIGNAL), STOP_GRACEFUL);
    ck_assert_int_eq(supervise_stop_next(STOP_RUNNING, STOP_EV_DEADLINE), STOP_RUNNING);
    ck_assert_int_eq(supervise_stop_next(STOP_RUNNING, STOP_EV_ALL_EXITED), STOP_RUNNING);
    /* Graceful: done when all exited, kill at the deadline or when asked again. */
    ck_assert_int_eq(supervise_stop_next(STOP_GRACEFUL, STOP_EV_ALL_EXITED), STOP_DONE);
    ck_assert_int_eq(supervise_stop_next(STOP_GRACEFUL, STOP_EV_DEADLINE), STOP_KILLING);
    ck_assert_int_eq(supervise_stop_next(STOP_GRACEFUL, STOP_EV_SIGNAL), STOP_KILLING);
    /* Killing: done when all exited or when even SIGKILL did not help in time. */
    ck_assert_int_eq(supervise_stop_next(STOP_KILLING, STOP_EV_ALL_EXITED), STOP_DONE);
    ck_assert_int_eq(supervise_stop_next(STOP_KILLING, STOP_EV_DEADLINE), STOP_DONE);
    ck_assert_int_eq(supervise_stop_next(STOP_KILLING, STOP_EV_SIGNAL), STOP_KILLING);
    /* Never back. */
    ck_assert_int_eq(supervise_stop_next(STOP_DONE, STOP_EV_SIGNAL), STOP_DONE);
    ck_assert_int_eq(supervise_stop_next(STOP_DONE, STOP_EV_DEADLINE), STOP_DONE);
    ck_assert_str_eq(supervise_stop_state_name(STOP_GRACEFUL), "graceful");
    ck_assert_str_eq(supervise_stop_state_name(STOP_DONE), "done");
}
END_TEST

/* ---- which leftovers die ------------------------------------------------ */

/* The spawner is pid 100 in group/session 50. Workers 200 and 300 live;
 * worker 199 died. */
static const struct proc_info self = { 100, 1, 50, 50, 'S' };
static const int live[] = { 200, 300 };
static const struct proc_info procs[] = {
    { 1, 0, 1, 1, 'S' },        /* init */
    { 100, 1, 50, 50, 'S' },    /* the spawner itself */
    { 200, 100, 200, 200, 'S' },/* live worker */
    { 201, 200, 201, 200, 'S' },/* its browser, own group */
    { 202, 201, 201, 200, 'S' },/* its renderer */
    { 300, 100, 300, 300, 'S' },/* live worker */
    { 210, 100, 210, 199, 'S' },/* browser of dead worker 199, re-parented */
    { 211, 210, 210, 199, 'S' },/* its zygote */
    { 212, 211, 210, 199, 'R' },/* a renderer below that */
    { 220, 100, 220, 200, 'S' },/* double-forked by live worker 200's browser */
    { 230, 100, 230, 199, 'Z' },/* a zombie: waitpid's business */
    { 240, 1, 240, 240, 'S' },  /* unrelated */
    { 250, 240, 240, 240, 'S' },/* unrelated child */
    { 260, 100, 50, 50, 'S' },  /* in our own group and session */
    { 270, 100, 300, 199, 'S' },/* claims a live worker's pgid: never signal that group */
    { 280, 100, 280, 50, 'S' }, /* our session, own group */
};
#define NPROCS (sizeof procs / sizeof procs[0])

static const struct orphan_kill *
kill_for(const struct orphan_kill *k, size_t n, int pid)
{
    for (size_t i = 0; i < n; i++)
        if (k[i].pid == pid)
            return &k[i];
    return NULL;
}

START_TEST(orphans_are_what_no_live_worker_owns)
{
    struct orphan_kill k[32];
    size_t n = supervise_orphans(procs, NPROCS, &self, live, 2, k, 32);

    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(kill_for(k, n, 210)->pgid, 210);
    ck_assert_int_eq(kill_for(k, n, 211)->pgid, 210);
    ck_assert_int_eq(kill_for(k, n, 212)->pgid, 210);
    /* Groups that are ours or a live worker's are never signalled. */
    ck_assert_int_eq(kill_for(k, n, 260)->pgid, 0);
    ck_assert_int_eq(kill_for(k, n, 270)->pgid, 0);
    ck_assert_int_eq(kill_for(k, n, 280)->pgid, 0);
    /* Live workers and what they own, zombies and strangers are spared. */
    ck_assert_ptr_null(kill_for(k, n, 200));
    ck_assert_ptr_null(kill_for(k, n, 201));
    ck_assert_ptr_null(kill_for(k, n, 202));
    ck_assert_ptr_null(kill_for(k, n, 220));
    ck_assert_ptr_null(kill_for(k, n, 230));
    ck_assert_ptr_null(kill_for(k, n, 240));
    ck_assert_ptr_null(kill_for(k, n, 250));
    ck_assert_ptr_null(kill_for(k, n, 100));
    ck_assert_ptr_null(kill_for(k, n, 1));
}
END_TEST

START_TEST(with_no_live_worker_every_descendant_goes)
{
    struct orphan_kill k[32];
    size_t n = supervise_orphans(procs, NPROCS, &self, NULL, 0, k, 32);

    /* 200, 201, 202, 300, 210, 211, 212, 220, 260, 270, 280 */
    ck_assert_uint_eq(n, 11);
    ck_assert_int_eq(kill_for(k, n, 201)->pgid, 201);
    ck_assert_int_eq(kill_for(k, n, 200)->pgid, 200);
    ck_assert_int_eq(kill_for(k, n, 270)->pgid, 300);
    ck_assert_ptr_null(kill_for(k, n, 250));
}
END_TEST

START_TEST(orphan_count_exceeds_the_output_size_safely)
{
    struct orphan_kill k[2];

    ck_assert_uint_eq(supervise_orphans(procs, NPROCS, &self, live, 2, k, 2), 6);
    ck_assert_uint_eq(supervise_orphans(procs, NPROCS, &self, live, 2, NULL, 0), 6);
}
END_TEST

START_TEST(a_parent_cycle_in_a_torn_snapshot_does_not_hang)
{
    const struct proc_info cyc[] = {
        { 400, 401, 400, 400, 'S' },
        { 401, 400, 400, 400, 'S' },
        { 402, 402, 402, 402, 'S' },
    };
    struct orphan_kill k[4];

    ck_assert_uint_eq(supervise_orphans(cyc, 3, &self, NULL, 0, k, 4), 0);
}
END_TEST

START_TEST(stat_lines_parse_even_with_odd_command_names)
{
    struct proc_info p;

    ck_assert_int_eq(procs_parse_stat("4213 (rendercgi-worke) S 100 4213 4213 0 -1", &p), RC_OK);
    ck_assert_int_eq(p.pid, 4213);
    ck_assert_int_eq(p.ppid, 100);
    ck_assert_int_eq(p.pgid, 4213);
    ck_assert_int_eq(p.sid, 4213);
    ck_assert_int_eq(p.state, 'S');
    ck_assert_int_eq(procs_parse_stat("77 (a) b (c)) Z 5 6 7 0", &p), RC_OK);
    ck_assert_int_eq(p.pid, 77);
    ck_assert_int_eq(p.state, 'Z');
    ck_assert_int_eq(p.ppid, 5);
    ck_assert_int_eq(p.sid, 7);
    ck_assert_int_eq(procs_parse_stat("garbage", &p), RC_INVALID);
    ck_assert_int_eq(procs_parse_stat("1 (x) S", &p), RC_INVALID);
}
END_TEST

START_TEST(snapshot_sees_this_process_with_its_parent)
{
    struct proc_info *all;
    size_t n;
    int found = 0;

    ck_assert_int_eq(procs_snapshot(&all, &n), RC_OK);
    for (size_t i = 0; i < n; i++) {
        if (all[i].pid == getpid()) {
            ck_assert_int_eq(all[i].ppid, getppid());
            ck_assert_int_eq(all[i].sid, getsid(0));
            found = 1;
        }
    }
    ck_assert(found);
    free(all);
}
END_TEST

/* ---- the target count --------------------------------------------------- */

static struct slot_view
sv(enum slot_state st, int replaced, int probation, int64_t started)
{
    struct slot_view v = { st, replaced, probation, started };
    return v;
}

START_TEST(serving_counts_waiting_and_running_but_not_the_replaced)
{
    struct slot_view v[6] = {
        sv(SLOT_RUNNING, 0, 0, 10), sv(SLOT_RUNNING, 1, 0, 20), sv(SLOT_RUNNING, 0, 1, 30),
        sv(SLOT_WAITING, 0, 0, 0),  sv(SLOT_STOPPING, 0, 0, 5), sv(SLOT_FREE, 0, 0, 0),
    };

    /* The replaced worker counts through its replacement on probation. */
    ck_assert_int_eq(supervise_serving(v, 6), 3);
}
END_TEST

START_TEST(scale_up_takes_free_slots_lowest_first)
{
    struct slot_view v[5] = {
        sv(SLOT_RUNNING, 0, 0, 1), sv(SLOT_FREE, 0, 0, 0), sv(SLOT_KILLING, 0, 0, 0),
        sv(SLOT_FREE, 0, 0, 0),    sv(SLOT_FREE, 0, 0, 0),
    };
    int out[5], grow = -1;

    ck_assert_int_eq(supervise_scale(v, 5, 3, out, 5, &grow), 2);
    ck_assert_int_eq(grow, 1);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 3);
    /* At the target: nothing to do. */
    ck_assert_int_eq(supervise_scale(v, 5, 1, out, 5, &grow), 0);
    /* Too few free slots: as many as there are. */
    ck_assert_int_eq(supervise_scale(v, 5, 9, out, 5, &grow), 3);
}
END_TEST

START_TEST(scale_down_lets_waiting_go_first_then_the_oldest_running)
{
    struct slot_view v[6] = {
        sv(SLOT_RUNNING, 0, 0, 300), sv(SLOT_RUNNING, 0, 0, 100), sv(SLOT_WAITING, 0, 0, 0),
        sv(SLOT_RUNNING, 0, 1, 50),  sv(SLOT_RUNNING, 1, 0, 10),  sv(SLOT_RUNNING, 0, 0, 200),
    };
    int out[6], grow = -1;

    /* Serving: 0, 1, 2 (waiting), 3 (probation), 5 = 5; target 2: let 3 go. */
    ck_assert_int_eq(supervise_scale(v, 6, 2, out, 6, &grow), 3);
    ck_assert_int_eq(grow, 0);
    ck_assert_int_eq(out[0], 2);
    ck_assert_int_eq(out[1], 1);
    ck_assert_int_eq(out[2], 5);
    /* To zero: never the one on probation nor the one being replaced. */
    ck_assert_int_eq(supervise_scale(v, 6, 0, out, 6, &grow), 4);
    for (int i = 0; i < 4; i++)
        ck_assert(out[i] != 3 && out[i] != 4);
}
END_TEST

/* ---- the emergency restart ---------------------------------------------- */

START_TEST(crash_signals_are_the_ones_of_broken_code)
{
    ck_assert(supervise_crash_signal(SIGSEGV));
    ck_assert(supervise_crash_signal(SIGBUS));
    ck_assert(supervise_crash_signal(SIGABRT));
    ck_assert(!supervise_crash_signal(SIGKILL));
    ck_assert(!supervise_crash_signal(SIGTERM));
}
END_TEST

START_TEST(threshold_crashes_within_the_interval_trigger_once)
{
    int64_t t[3];
    struct crash_ring r = { .times = t, .threshold = 3 };

    ck_assert_int_eq(supervise_crash_note(&r, 1000, 0), 0);
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 500), 0);
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 1000), 1);
    /* The ring starts over: two more are not enough. */
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 1100), 0);
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 1200), 0);
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 1300), 1);
}
END_TEST

START_TEST(crashes_spread_wider_than_the_interval_do_not_trigger)
{
    int64_t t[3];
    struct crash_ring r = { .times = t, .threshold = 3 };

    ck_assert_int_eq(supervise_crash_note(&r, 1000, 0), 0);
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 600), 0);
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 1200), 0);
    /* 600, 1200, 1500: within 1000 of each other. */
    ck_assert_int_eq(supervise_crash_note(&r, 1000, 1500), 1);
}
END_TEST

START_TEST(emergency_restart_is_off_without_threshold_or_interval)
{
    int64_t t[1];
    struct crash_ring off = { .times = NULL, .threshold = 0 };
    struct crash_ring one = { .times = t, .threshold = 1 };

    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(supervise_crash_note(&off, 1000, i), 0);
    ck_assert_int_eq(supervise_crash_note(&one, 0, 0), 0);
    ck_assert_int_eq(supervise_crash_note(&one, 1000, 0), 1);
}
END_TEST

/* ---- the watchdog ------------------------------------------------------- */

static struct sb_worker wentry;
static const struct watch_limits WL = {
    .liveness_ms = 30000, .start_grace_ms = 60000, .drain_grace_ms = 35000, .terminate_ms = 40000,
    .max_memory = 1 << 30, .max_requests = 100,
};

static void
watch_setup(void)
{
    memset((void *)&wentry, 0, sizeof wentry);
    atomic_store(&wentry.pss_bytes, -1);
}

START_TEST(a_healthy_worker_is_left_alone)
{
    struct watch_result r;

    atomic_store(&wentry.heartbeat_ms, 100500);
    atomic_store(&wentry.requests, 99);
    atomic_store(&wentry.pss_bytes, 500 << 20);
    watchdog_check(&wentry, 1000, &WL, 101000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    ck_assert_str_eq(watchdog_verdict_name(r.verdict), "ok");
}
END_TEST

START_TEST(a_silent_worker_fails_the_liveness_check)
{
    struct watch_result r;

    atomic_store(&wentry.heartbeat_ms, 5000);
    watchdog_check(&wentry, 1000, &WL, 35000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    watchdog_check(&wentry, 1000, &WL, 35001, &r);
    ck_assert_int_eq(r.verdict, WATCH_LIVENESS);
    ck_assert_int_eq(r.age_ms, 30001);
    /* Draining on its own, it gets its own stop grace on top. */
    atomic_store(&wentry.draining, 1);
    watchdog_check(&wentry, 1000, &WL, 70000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    watchdog_check(&wentry, 1000, &WL, 70001, &r);
    ck_assert_int_eq(r.verdict, WATCH_LIVENESS);
}
END_TEST

START_TEST(before_its_first_heartbeat_a_worker_gets_the_start_grace)
{
    struct watch_result r;
    struct watch_limits l = WL;

    /* A heartbeat older than the start is the previous worker's. */
    atomic_store(&wentry.heartbeat_ms, 500);
    watchdog_check(&wentry, 1000, &l, 61000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    watchdog_check(&wentry, 1000, &l, 61001, &r);
    ck_assert_int_eq(r.verdict, WATCH_LIVENESS);
    ck_assert_int_eq(r.age_ms, 60001);
    /* A grace shorter than the liveness timeout does not shorten it. */
    l.start_grace_ms = 1000;
    watchdog_check(&wentry, 1000, &l, 31000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    /* Off is off. */
    l.liveness_ms = 0;
    watchdog_check(&wentry, 1000, &l, 1000000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
}
END_TEST

START_TEST(the_oldest_request_over_the_terminate_timeout_is_named)
{
    struct watch_result r;

    atomic_store(&wentry.heartbeat_ms, 99000);
    atomic_store(&wentry.threads[3].state, SB_RENDERING);
    atomic_store(&wentry.threads[3].started_ms, 50000);
    snprintf(wentry.threads[3].route, sizeof wentry.threads[3].route, "screenshot");
    atomic_store(&wentry.threads[200].state, SB_WRITING);
    atomic_store(&wentry.threads[200].started_ms, 40000);
    memcpy(wentry.threads[200].route, "pdf\n\033[31mx\0", 11);
    /* An idle thread with an old start time, and a busy one with none. */
    atomic_store(&wentry.threads[7].started_ms, 1);
    atomic_store(&wentry.threads[8].state, SB_READING);
    watchdog_check(&wentry, 1000, &WL, 80000, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    watchdog_check(&wentry, 1000, &WL, 80001, &r);
    ck_assert_int_eq(r.verdict, WATCH_TERMINATE);
    ck_assert_int_eq(r.thread, 200);
    ck_assert_int_eq(r.age_ms, 40001);
    /* What the worker wrote reaches the log as printable text only. */
    ck_assert_str_eq(r.route, "pdf??[31mx");
    ck_assert_str_eq(watchdog_verdict_name(r.verdict), "terminate");
}
END_TEST

START_TEST(memory_and_requests_ask_for_a_recycle)
{
    struct watch_result r;

    atomic_store(&wentry.heartbeat_ms, 99000);
    /* -1: not measured yet. */
    watchdog_check(&wentry, 1000, &WL, 99500, &r);
    ck_assert_int_eq(r.verdict, WATCH_OK);
    atomic_store(&wentry.pss_bytes, (1 << 30) + 1);
    watchdog_check(&wentry, 1000, &WL, 99500, &r);
    ck_assert_int_eq(r.verdict, WATCH_MEMORY);
    ck_assert_int_eq(r.pss_bytes, (1 << 30) + 1);
    atomic_store(&wentry.pss_bytes, 1 << 30);
    atomic_store(&wentry.requests, 100);
    watchdog_check(&wentry, 1000, &WL, 99500, &r);
    ck_assert_int_eq(r.verdict, WATCH_REQUESTS);
    ck_assert_int_eq(r.requests, 100);
}
END_TEST

START_TEST(a_kill_takes_precedence_over_a_recycle)
{
    struct watch_result r;

    atomic_store(&wentry.heartbeat_ms, 2000);
    atomic_store(&wentry.requests, 1000);
    atomic_store(&wentry.pss_bytes, (int64_t)1 << 40);
    watchdog_check(&wentry, 1000, &WL, 99500, &r);
    ck_assert_int_eq(r.verdict, WATCH_LIVENESS);
}
END_TEST

/* ---- the scoreboard ----------------------------------------------------- */

START_TEST(a_new_scoreboard_is_sealed_zeroed_and_named)
{
    struct scoreboard *sb;
    int fd;

    ck_assert_int_eq(scoreboard_create("pdf", 3, &fd, &sb), RC_OK);
    ck_assert_uint_eq(sb->magic, SB_MAGIC);
    ck_assert_uint_eq(sb->nworkers, 3);
    ck_assert_str_eq(sb->pool, "pdf");
    ck_assert_int_eq(atomic_load(&sb->workers[2].pid), 0);
    ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    /* A worker cannot shrink it under the spawner's mapping. */
    ck_assert_int_eq(ftruncate(fd, 0), -1);
    ck_assert_int_eq(errno, EPERM);
    ck_assert_int_eq(ftruncate(fd, (off_t)scoreboard_size(4)), -1);
    scoreboard_detach(sb);
    close(fd);
    ck_assert_int_eq(scoreboard_create("x", 0, &fd, &sb), RC_ERROR);
    ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(a_worker_attaches_its_own_entry_from_the_environment)
{
    struct scoreboard *sb, *wsb;
    struct sb_worker *self;
    char num[16];
    int fd;

    unsetenv("RENDERCGI_SCOREBOARD_FD");
    unsetenv("RENDERCGI_SCOREBOARD_INDEX");
    ck_assert_int_eq(scoreboard_attach(&wsb, &self), RC_NOT_FOUND);
    ck_assert_int_eq(scoreboard_create("p", 4, &fd, &sb), RC_OK);
    snprintf(num, sizeof num, "%d", fd);
    setenv("RENDERCGI_SCOREBOARD_FD", num, 1);
    setenv("RENDERCGI_SCOREBOARD_INDEX", "2", 1);
    ck_assert_int_eq(scoreboard_attach(&wsb, &self), RC_OK);
    ck_assert_ptr_eq(self, &wsb->workers[2]);
    /* One memory: what the worker writes, the spawner reads. */
    atomic_store(&self->heartbeat_ms, 12345);
    ck_assert_int_eq(atomic_load(&sb->workers[2].heartbeat_ms), 12345);
    scoreboard_detach(wsb);
    setenv("RENDERCGI_SCOREBOARD_INDEX", "4", 1);
    ck_assert_int_eq(scoreboard_attach(&wsb, &self), RC_ERROR);
    setenv("RENDERCGI_SCOREBOARD_INDEX", "x", 1);
    ck_assert_int_eq(scoreboard_attach(&wsb, &self), RC_ERROR);
    unsetenv("RENDERCGI_SCOREBOARD_INDEX");
    ck_assert_int_eq(scoreboard_attach(&wsb, &self), RC_ERROR);
    /* An fd that is no scoreboard. */
    setenv("RENDERCGI_SCOREBOARD_INDEX", "0", 1);
    setenv("RENDERCGI_SCOREBOARD_FD", "0", 1);
    ck_assert_int_eq(scoreboard_attach(&wsb, &self), RC_ERROR);
    unsetenv("RENDERCGI_SCOREBOARD_FD");
    unsetenv("RENDERCGI_SCOREBOARD_INDEX");
    scoreboard_detach(sb);
    scoreboard_detach(NULL);
    close(fd);
}
END_TEST

/* ---- users and groups ---------------------------------------------------- */

START_TEST(users_and_groups_by_name_or_number)
{
    uid_t uid = 99;
    gid_t gid = 99;

    ck_assert_int_eq(privs_user("root", &uid, &gid), RC_OK);
    ck_assert_int_eq(uid, 0);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(privs_user("0", &uid, NULL), RC_OK);
    ck_assert_int_eq(uid, 0);
    /* A uid with no passwd entry is taken as it is. */
    ck_assert_int_eq(privs_user("4000321", &uid, &gid), RC_OK);
    ck_assert_int_eq(uid, 4000321);
    ck_assert_int_eq(gid, 4000321);
    ck_assert_int_eq(privs_user("no-such-user-rcgi", &uid, NULL), RC_NOT_FOUND);
    ck_assert_int_eq(privs_group("root", &gid), RC_OK);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(privs_group("no-such-group-rcgi", &gid), RC_NOT_FOUND);
}
END_TEST

START_TEST(privilege_keys_are_checked_with_their_lines)
{
    char dir[] = "/tmp/check_privs.XXXXXX", path[128];
    struct conf c;
    struct buf e;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/p.conf", dir);
    f = fopen(path, "w");
    fputs("[a]\nlisten = /tmp/a.sock\nuser = no-such-user-rcgi\n"
          "listen_group = no-such-group-rcgi\n"
          "[b]\nlisten = /tmp/b.sock\ngroup = no-such-group-rcgi\nuser = root\n", f);
    fclose(f);
    buf_init(&e, 1 << 16);
    ck_assert_int_eq(conf_load(path, &c, &e), RC_OK);
    ck_assert_int_eq(privs_check_conf(&c, &e), RC_INVALID);
    {
        char want[1024];
        snprintf(want, sizeof want,
                 "%s:3: user: [a] no such user 'no-such-user-rcgi'\n"
                 "%s:4: listen_group: [a] no such group 'no-such-group-rcgi'\n"
                 "%s:7: group: [b] no such group 'no-such-group-rcgi'\n", path, path, path);
        /* As root, user = root is fine; as anyone else it is refused too. */
        if (geteuid() == 0)
            ck_assert_str_eq(e.data, want);
        else
            ck_assert_ptr_nonnull(strstr(e.data, want));
    }
    conf_free(&c);
    buf_free(&e);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- a worker's TMPDIR --------------------------------------------------- */

START_TEST(a_dead_workers_tmpdir_goes_without_following_links)
{
    char base[] = "/tmp/check_tmpdir.XXXXXX", outside[] = "/tmp/check_outside.XXXXXX";
    char dir[256], p[512];
    const char *old = getenv("TMPDIR");
    char *saved = old != NULL ? strdup(old) : NULL;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(base));
    ck_assert_ptr_nonnull(mkdtemp(outside));
    snprintf(p, sizeof p, "%s/keep", outside);
    f = fopen(p, "w");
    fclose(f);
    setenv("TMPDIR", base, 1);
    children_tmpdir(4242, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/rendercgi-worker.4242", base);
    ck_assert_str_eq(dir, p);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(p, sizeof p, "%s/a", dir);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/a/b", dir);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/a/b/file", dir);
    f = fopen(p, "w");
    fclose(f);
    snprintf(p, sizeof p, "%s/a/link", dir);
    ck_assert_int_eq(symlink(outside, p), 0);
    children_tmpdir_remove(4242);
    ck_assert_int_eq(access(dir, F_OK), -1);
    snprintf(p, sizeof p, "%s/keep", outside);
    ck_assert_int_eq(access(p, F_OK), 0);
    /* A symbolic link in place of the directory is not followed either. */
    ck_assert_int_eq(symlink(outside, dir), 0);
    children_tmpdir_remove(4242);
    ck_assert_int_eq(access(p, F_OK), 0);
    unlink(dir);
    unlink(p);
    rmdir(outside);
    rmdir(base);
    if (saved != NULL)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
}
END_TEST

/* ---- unix listening sockets --------------------------------------------- */

static char sdir[] = "/tmp/check_sockets.XXXXXX";
static char spath[256];
static struct conf sconf;

static void
sockets_setup(void)
{
    struct buf e;

    ck_assert_ptr_nonnull(mkdtemp(sdir));
    snprintf(spath, sizeof spath, "%s/pool.sock", sdir);
    ck_assert_int_eq(conf_defaults(&sconf), RC_OK);
    buf_init(&e, 4096);
    ck_assert_int_eq(conf_override(&sconf, "listen", spath, "test", &e), RC_OK);
    ck_assert_int_eq(conf_override(&sconf, "listen_mode", "0600", "test", &e), RC_OK);
    buf_free(&e);
}

static void
sockets_teardown(void)
{
    unlink(spath);
    rmdir(sdir);
    conf_free(&sconf);
    memcpy(sdir + strlen(sdir) - 6, "XXXXXX", 6);
}

START_TEST(unix_socket_gets_its_mode_and_is_removed_on_close)
{
    struct listener l;
    struct stat st;

    ck_assert_int_eq(sockets_open(&sconf.pools[0], &l), RC_OK);
    ck_assert_int_ge(l.fd, 0);
    ck_assert_int_eq(stat(spath, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    sockets_close(&l, true);
    ck_assert_int_eq(l.fd, -1);
    ck_assert_int_eq(stat(spath, &st), -1);
    sockets_close(&l, true);
}
END_TEST

START_TEST(stale_socket_file_is_replaced_but_a_live_one_is_not)
{
    struct listener a, b;

    /* Stale: bound, then its owner went away without removing it. */
    ck_assert_int_eq(sockets_open(&sconf.pools[0], &a), RC_OK);
    sockets_close(&a, false);
    ck_assert_int_eq(access(spath, F_OK), 0);
    ck_assert_int_eq(sockets_open(&sconf.pools[0], &b), RC_OK);
    /* Live: b accepts there, so a second open must refuse. */
    ck_assert_int_eq(sockets_open(&sconf.pools[0], &a), RC_ERROR);
    ck_assert_int_eq(access(spath, F_OK), 0);
    sockets_close(&a, true);
    sockets_close(&b, true);
    ck_assert_int_eq(access(spath, F_OK), -1);
}
END_TEST

START_TEST(a_regular_file_in_the_way_is_never_removed)
{
    struct listener l;
    FILE *f = fopen(spath, "w");

    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(sockets_open(&sconf.pools[0], &l), RC_ERROR);
    ck_assert_int_eq(access(spath, F_OK), 0);
}
END_TEST

START_TEST(a_socket_replaced_by_someone_else_is_left_alone)
{
    struct listener l;
    struct stat st;

    ck_assert_int_eq(sockets_open(&sconf.pools[0], &l), RC_OK);
    /* Another process replaced the file: closing ours must not remove it. */
    ck_assert_int_eq(unlink(spath), 0);
    FILE *f = fopen(spath, "w");
    fclose(f);
    sockets_close(&l, true);
    ck_assert_int_eq(stat(spath, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(a_listener_is_found_again_by_address_and_takes_new_settings)
{
    struct listener l;
    struct buf e;
    struct stat st;
    char alias[300];

    ck_assert_int_eq(sockets_open(&sconf.pools[0], &l), RC_OK);
    ck_assert(sockets_match(&l, &sconf.pools[0]));
    buf_init(&e, 4096);
    /* The same address spelled another way is the same socket. */
    snprintf(alias, sizeof alias, "unix:%s", spath);
    ck_assert_int_eq(conf_override(&sconf, "listen", alias, "test", &e), RC_OK);
    ck_assert(sockets_match(&l, &sconf.pools[0]));
    ck_assert_int_eq(conf_override(&sconf, "listen_mode", "0666", "test", &e), RC_OK);
    ck_assert_int_eq(conf_override(&sconf, "listen_backlog", "7", "test", &e), RC_OK);
    ck_assert_int_eq(sockets_update(&l, &sconf.pools[0]), RC_OK);
    ck_assert_int_eq(stat(spath, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0666);
    ck_assert_int_eq(conf_override(&sconf, "listen", "127.0.0.1:1", "test", &e), RC_OK);
    ck_assert(!sockets_match(&l, &sconf.pools[0]));
    sockets_close(&l, true);
    buf_free(&e);
}
END_TEST

START_TEST(tcp_socket_on_a_loopback_port)
{
    struct conf c;
    struct listener l, m;
    struct buf e;
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    char addr[64];
    int probe = socket(AF_INET, SOCK_STREAM, 0);

    /* Find a free port the portable way: let the kernel pick one. */
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(probe, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(getsockname(probe, (struct sockaddr *)&sin, &len), 0);
    close(probe);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sin.sin_port));
    buf_init(&e, 4096);
    ck_assert_int_eq(conf_defaults(&c), RC_OK);
    ck_assert_int_eq(conf_override(&c, "listen", addr, "test", &e), RC_OK);
    ck_assert_int_eq(sockets_open(&c.pools[0], &l), RC_OK);
    /* The port is taken now. */
    ck_assert_int_eq(sockets_open(&c.pools[0], &m), RC_ERROR);
    sockets_close(&l, true);
    /* And free again after close, at once (SO_REUSEADDR). */
    ck_assert_int_eq(sockets_open(&c.pools[0], &l), RC_OK);
    sockets_close(&l, true);
    conf_free(&c);
    buf_free(&e);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("supervise");
    TCase *tc = tcase_create("backoff");
    tcase_add_test(tc, first_quick_exit_restarts_at_once);
    tcase_add_test(tc, quick_exits_in_a_row_accumulate_and_a_long_life_resets);
    tcase_add_test(tc, clean_exit_after_a_second_is_a_recycle_not_a_crash);
    tcase_add_test(tc, delay_doubles_from_base_with_equal_jitter);
    tcase_add_test(tc, delay_is_capped_at_max_however_many_exits);
    tcase_add_test(tc, jitter_spreads_workers_that_died_together);
    suite_add_tcase(s, tc);

    tc = tcase_create("text");
    tcase_add_test(tc, exit_status_descriptions);
    tcase_add_test(tc, durations_read_naturally);
    suite_add_tcase(s, tc);

    tc = tcase_create("stop");
    tcase_add_test(tc, stop_sequence_transitions);
    suite_add_tcase(s, tc);

    tc = tcase_create("orphans");
    tcase_add_test(tc, orphans_are_what_no_live_worker_owns);
    tcase_add_test(tc, with_no_live_worker_every_descendant_goes);
    tcase_add_test(tc, orphan_count_exceeds_the_output_size_safely);
    tcase_add_test(tc, a_parent_cycle_in_a_torn_snapshot_does_not_hang);
    tcase_add_test(tc, stat_lines_parse_even_with_odd_command_names);
    tcase_add_test(tc, snapshot_sees_this_process_with_its_parent);
    suite_add_tcase(s, tc);

    tc = tcase_create("scale");
    tcase_add_test(tc, serving_counts_waiting_and_running_but_not_the_replaced);
    tcase_add_test(tc, scale_up_takes_free_slots_lowest_first);
    tcase_add_test(tc, scale_down_lets_waiting_go_first_then_the_oldest_running);
    suite_add_tcase(s, tc);

    tc = tcase_create("emergency");
    tcase_add_test(tc, crash_signals_are_the_ones_of_broken_code);
    tcase_add_test(tc, threshold_crashes_within_the_interval_trigger_once);
    tcase_add_test(tc, crashes_spread_wider_than_the_interval_do_not_trigger);
    tcase_add_test(tc, emergency_restart_is_off_without_threshold_or_interval);
    suite_add_tcase(s, tc);

    tc = tcase_create("watchdog");
    tcase_add_checked_fixture(tc, watch_setup, NULL);
    tcase_add_test(tc, a_healthy_worker_is_left_alone);
    tcase_add_test(tc, a_silent_worker_fails_the_liveness_check);
    tcase_add_test(tc, before_its_first_heartbeat_a_worker_gets_the_start_grace);
    tcase_add_test(tc, the_oldest_request_over_the_terminate_timeout_is_named);
    tcase_add_test(tc, memory_and_requests_ask_for_a_recycle);
    tcase_add_test(tc, a_kill_takes_precedence_over_a_recycle);
    suite_add_tcase(s, tc);

    tc = tcase_create("scoreboard");
    tcase_add_test(tc, a_new_scoreboard_is_sealed_zeroed_and_named);
    tcase_add_test(tc, a_worker_attaches_its_own_entry_from_the_environment);
    suite_add_tcase(s, tc);

    tc = tcase_create("privs");
    tcase_add_test(tc, users_and_groups_by_name_or_number);
    tcase_add_test(tc, privilege_keys_are_checked_with_their_lines);
    tcase_add_test(tc, a_dead_workers_tmpdir_goes_without_following_links);
    suite_add_tcase(s, tc);

    tc = tcase_create("sockets");
    tcase_add_checked_fixture(tc, sockets_setup, sockets_teardown);
    tcase_add_test(tc, a_listener_is_found_again_by_address_and_takes_new_settings);
    tcase_add_test(tc, unix_socket_gets_its_mode_and_is_removed_on_close);
    tcase_add_test(tc, stale_socket_file_is_replaced_but_a_live_one_is_not);
    tcase_add_test(tc, a_regular_file_in_the_way_is_never_removed);
    tcase_add_test(tc, a_socket_replaced_by_someone_else_is_left_alone);
    tcase_add_test(tc, tcp_socket_on_a_loopback_port);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
