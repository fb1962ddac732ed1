# tests/integration/ — the real stack on loopback (owned by the integration harness).
#
# Each test_*.py is one automake test: python3 runs it, it starts what it needs
# (fixture server, rendercgi-spawner, nginx, Chromium) under its own temp dir,
# exits 0 on success and 1 on failure (never 77: nothing is skipped), and its
# teardown fails the test if any process it started is left behind.
# stack.py is the shared harness; tests/fixtures/ holds the pages it serves.
# test_spawner_basic.py belongs to the spawner (it runs a fake worker).
TEST_EXTENSIONS = .py
PY_LOG_COMPILER = python3
AM_TESTS_ENVIRONMENT = \
	RCGI_BUILDDIR='$(abs_top_builddir)'; export RCGI_BUILDDIR; \
	RCGI_SRCDIR='$(abs_top_srcdir)'; export RCGI_SRCDIR; \
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE;

INTEGRATION_TESTS = \
	tests/integration/test_fixture_server.py \
	tests/integration/test_nginx_examples.py \
	tests/integration/test_apache.py \
	tests/integration/test_lighttpd.py \
	tests/integration/test_spawn_fcgi.py \
	tests/integration/test_policy_proxy.py \
	tests/integration/test_spawner_basic.py \
	tests/integration/test_spawner_config.py \
	tests/integration/test_spawner_kill.py \
	tests/integration/test_spawner_reload.py \
	tests/integration/test_spawner_watchdog.py \
	tests/integration/test_health.py \
	tests/integration/test_pdf.py \
	tests/integration/test_errors.py \
	tests/integration/test_isolation.py \
	tests/integration/test_overload.py \
	tests/integration/test_crash.py \
	tests/integration/test_recycle.py \
	tests/integration/test_extract.py \
	tests/integration/test_batch.py \
	tests/integration/test_extract_fetch.py \
	tests/integration/test_status.py \
	tests/integration/test_balance.py \
	tests/integration/test_lifecycle.py \
	tests/integration/test_reload.py \
	tests/integration/test_render_options.py \
	tests/integration/test_inputs.py \
	tests/integration/test_screenshot.py \
	tests/integration/test_waiting.py \
	tests/integration/test_request_options.py \
	tests/integration/test_misbehaving.py \
	tests/integration/test_validation.py \
	tests/integration/test_fonts.py

TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/stack.py \
	tests/fixtures/server.py \
	tests/fixtures/site/index.html \
	tests/fixtures/site/reach.html \
	tests/fixtures/site/extract.html \
	tests/fixtures/site/fetch-static.html \
	tests/fixtures/site/fetch-js.html \
	tests/fixtures/site/simple.html \
	tests/fixtures/site/article.html \
	tests/fixtures/site/spa.html \
	tests/fixtures/site/styled.html \
	tests/fixtures/site/style.css \
	tests/fixtures/site/image.svg \
	tests/fixtures/site/isolation-a.html \
	tests/fixtures/site/isolation-b.html \
	tests/fixtures/site/paged.html \
	tests/fixtures/site/boxes.html \
	tests/fixtures/site/css-page-size.html \
	tests/fixtures/site/media.html \
	tests/fixtures/site/probe.html \
	tests/fixtures/site/shot.html \
	tests/fixtures/site/tall.html \
	tests/fixtures/site/noise.html \
	tests/fixtures/site/wait-load.html \
	tests/fixtures/site/wait-idle.html \
	tests/fixtures/site/wait-late.html \
	tests/fixtures/site/lazy.html \
	tests/fixtures/site/hang-img.html \
	tests/fixtures/site/hang-fetch.html \
	tests/fixtures/site/busy-loop.html \
	tests/fixtures/site/dialogs.html \
	tests/fixtures/site/beforeunload.html \
	tests/fixtures/site/download.html \
	tests/fixtures/site/popup.html \
	tests/fixtures/site/popup-child.html \
	tests/fixtures/site/memory-hog.html \
	tests/fixtures/site/crash-nav.html \
	tests/fixtures/site/sw-a.html \
	tests/fixtures/site/sw.js \
	tests/fixtures/site/sw-b.html \
	tests/fixtures/site/hist-a.html \
	tests/fixtures/site/hist-b.html \
	tests/fixtures/site/fonts.html \
	tests/fixtures/site/broken-img.html \
	.ci/run
