# tests/unit/ — one Check suite per source file, named check_<module>.
# Each block below belongs to one module; keep edits inside your block.
UNIT_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS) $(YAJL_CFLAGS) $(GUMBO_CFLAGS)
UNIT_WORKER_LIBS = $(WORKER_LIBS) $(CHECK_LIBS)
UNIT_SPAWNER_LIBS = $(SPAWNER_LIBS) $(CHECK_LIBS)

# --- common
check_PROGRAMS += tests/unit/check_buf
tests_unit_check_buf_SOURCES = tests/unit/check_buf.c
tests_unit_check_buf_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_buf_LDADD = common/libcommon.a $(CHECK_LIBS)

# --- conf (common/conf.c)
check_PROGRAMS += tests/unit/check_conf
tests_unit_check_conf_SOURCES = tests/unit/check_conf.c
tests_unit_check_conf_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_conf_LDADD = common/libcommon.a $(CHECK_LIBS)

# --- cdp + transport_pipe (fcgi-worker/cdp.c), with a scripted fake peer
check_PROGRAMS += tests/unit/check_cdp tests/fakes/fake_cdp_peer
tests_unit_check_cdp_SOURCES = tests/unit/check_cdp.c
tests_unit_check_cdp_CPPFLAGS = $(UNIT_CPPFLAGS) -DFAKE_CDP_PEER='"$(abs_top_builddir)/tests/fakes/fake_cdp_peer"'
tests_unit_check_cdp_LDADD = $(UNIT_WORKER_LIBS)
tests_fakes_fake_cdp_peer_SOURCES = tests/fakes/fake_cdp_peer.c
tests_fakes_fake_cdp_peer_CPPFLAGS = $(AM_CPPFLAGS)

# --- url, cidr, policy
check_PROGRAMS += tests/unit/check_policy
tests_unit_check_policy_SOURCES = tests/unit/check_policy.c
tests_unit_check_policy_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_policy_LDADD = $(UNIT_WORKER_LIBS)

# --- spawner (spawner/supervise.c, watchdog.c, procs.c, sockets.c, privs.c,
# common/scoreboard.c), and the fake worker that tests/integration/
# test_spawner_*.py run under the real spawner
check_PROGRAMS += tests/unit/check_supervise tests/fakes/fake_worker
tests_unit_check_supervise_SOURCES = tests/unit/check_supervise.c
tests_unit_check_supervise_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_supervise_LDADD = $(UNIT_SPAWNER_LIBS)
tests_fakes_fake_worker_SOURCES = tests/fakes/fake_worker.c
tests_fakes_fake_worker_CPPFLAGS = $(AM_CPPFLAGS)
tests_fakes_fake_worker_LDADD = common/libcommon.a

# --- worker core (options, route, respond, pool)
check_PROGRAMS += tests/unit/check_worker
tests_unit_check_worker_SOURCES = tests/unit/check_worker.c
tests_unit_check_worker_CPPFLAGS = $(UNIT_CPPFLAGS) $(FCGI_CFLAGS)
tests_unit_check_worker_LDADD = $(UNIT_WORKER_LIBS)

# --- convert (fcgi-worker/convert.c), corpus in tests/fixtures/convert/
check_PROGRAMS += tests/unit/check_convert
tests_unit_check_convert_SOURCES = tests/unit/check_convert.c
tests_unit_check_convert_CPPFLAGS = $(UNIT_CPPFLAGS) -DCONVERT_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/convert"'
tests_unit_check_convert_LDADD = $(UNIT_WORKER_LIBS)
# Built by 'make check', run by hand: speed (MB/s) and memory of convert_html.
check_PROGRAMS += tests/unit/bench_convert
tests_unit_bench_convert_SOURCES = tests/unit/bench_convert.c
tests_unit_bench_convert_CPPFLAGS = $(UNIT_CPPFLAGS) -DCONVERT_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/convert"'
tests_unit_bench_convert_LDADD = $(WORKER_LIBS)
EXTRA_DIST += tests/fixtures/convert

# --- main_content (fcgi-worker/main_content.c), pages in tests/fixtures/main-content/
check_PROGRAMS += tests/unit/check_main_content
tests_unit_check_main_content_SOURCES = tests/unit/check_main_content.c
tests_unit_check_main_content_CPPFLAGS = $(UNIT_CPPFLAGS) -DMAIN_CONTENT_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/main-content"'
tests_unit_check_main_content_LDADD = $(UNIT_WORKER_LIBS)
EXTRA_DIST += tests/fixtures/main-content

# --- fetch (fcgi-worker/fetch.c: the auto heuristic; css_select.c; engine rules)
check_PROGRAMS += tests/unit/check_fetch
tests_unit_check_fetch_SOURCES = tests/unit/check_fetch.c
tests_unit_check_fetch_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_fetch_LDADD = $(UNIT_WORKER_LIBS)

TESTS += tests/unit/check_convert tests/unit/check_main_content tests/unit/check_fetch
TESTS += tests/unit/check_buf tests/unit/check_conf tests/unit/check_cdp \
	tests/unit/check_policy tests/unit/check_supervise tests/unit/check_worker

# --- batch (fcgi-worker/batch.c, with respond.c's capture mode)
check_PROGRAMS += tests/unit/check_batch
tests_unit_check_batch_SOURCES = tests/unit/check_batch.c
tests_unit_check_batch_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_batch_LDADD = $(UNIT_WORKER_LIBS)
TESTS += tests/unit/check_batch
