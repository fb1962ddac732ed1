# fcgi-worker/ — rendercgi-worker, the FastCGI responder. Everything but
# main.c is a convenience library that the unit tests link too.
noinst_LIBRARIES += fcgi-worker/libworker.a
fcgi_worker_libworker_a_CPPFLAGS = $(AM_CPPFLAGS) $(YAJL_CFLAGS) $(FCGI_CFLAGS) $(CURL_CFLAGS) \
	$(GUMBO_CFLAGS)
fcgi_worker_libworker_a_SOURCES = \
	fcgi-worker/worker.h \
	fcgi-worker/fcgi.c fcgi-worker/fcgi.h \
	fcgi-worker/request.c fcgi-worker/request.h \
	fcgi-worker/body.c fcgi-worker/body.h \
	fcgi-worker/respond.c fcgi-worker/respond.h \
	fcgi-worker/route.c fcgi-worker/route.h \
	fcgi-worker/handlers.h \
	fcgi-worker/health.c \
	fcgi-worker/status.c \
	fcgi-worker/report.c fcgi-worker/report.h \
	fcgi-worker/options.c fcgi-worker/options.h \
	fcgi-worker/render.c fcgi-worker/render.h \
	fcgi-worker/render_pdf.c \
	fcgi-worker/pdf_pages.c fcgi-worker/pdf_pages.h \
	fcgi-worker/render_screenshot.c \
	fcgi-worker/render_extract.c \
	fcgi-worker/pool.c fcgi-worker/pool.h \
	fcgi-worker/page.c fcgi-worker/page.h \
	fcgi-worker/serve.c fcgi-worker/serve.h \
	fcgi-worker/wait.c \
	fcgi-worker/browser.c fcgi-worker/browser.h \
	fcgi-worker/base64.c fcgi-worker/base64.h \
	fcgi-worker/convert.c fcgi-worker/convert.h fcgi-worker/html_input.c fcgi-worker/html_input.h fcgi-worker/html_parse.c fcgi-worker/html_parse.h fcgi-worker/urljoin.c fcgi-worker/urljoin.h \
	fcgi-worker/main_content.c fcgi-worker/main_content.h \
	fcgi-worker/css_select.c fcgi-worker/css_select.h \
	fcgi-worker/transport.h \
	fcgi-worker/transport_pipe.c \
	fcgi-worker/cdp.c fcgi-worker/cdp.h \
	fcgi-worker/url.c fcgi-worker/url.h \
	fcgi-worker/policy.c fcgi-worker/policy.h \
	fcgi-worker/proxy.c fcgi-worker/proxy.h \
	fcgi-worker/fetch.c fcgi-worker/fetch.h \
	fcgi-worker/batch.c fcgi-worker/batch.h

WORKER_LIBS = fcgi-worker/libworker.a common/libcommon.a $(YAJL_LIBS) $(FCGI_LIBS) $(CURL_LIBS) \
	$(GUMBO_LIBS) -lm

bin_PROGRAMS += rendercgi-worker
rendercgi_worker_SOURCES = fcgi-worker/main.c
rendercgi_worker_CPPFLAGS = $(fcgi_worker_libworker_a_CPPFLAGS)
rendercgi_worker_LDADD = $(WORKER_LIBS)
