#!/usr/bin/env python3
"""test_extract_fetch.py — /extract with engine=fetch and engine=auto: libcurl
and the converter without a browser, the URL policy on every connection the
fetch makes (a redirect to a denied address is refused before any byte goes
there), the fetch engine's errors, auto's choice between fetch and browser,
and a fetch-only worker (browsers = 0).
"""

import errno
import json
import os
import socket
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

DENIED = '127.0.0.2'


class ExtractFetch(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2,
                                extra={'deny_networks': DENIED + '/32',
                                       'max_fetch_size': '256K'})
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def extract(self, page, **options):
        params = {'url': self.stack.fixture_url(page) if page.startswith('/') else page}
        params.update(options)
        return self.stack.get('/extract', params)

    def assertOk(self, r, ctype, engine):
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith(ctype), r.headers)
        self.assertEqual(r.header('x-render-engine'), engine, r.headers)

    def chromium_requests(self):
        """Requests the fixture server saw from Chromium (its user agent)."""
        return [e for e in self.stack.fixture_requests() if 'HeadlessChrome' in e['user_agent']
                or 'Chrome/' in e['user_agent']]

    # -- engine=fetch: the formats, selector, main_content

    def test_fetch_text_markdown_html(self):
        r = self.extract('/fetch-static.html', engine='fetch')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('Static heading RCGIFETCHMARK', r.text)
        self.assertNotIn('<p', r.text)
        r = self.extract('/fetch-static.html', engine='fetch', format='markdown')
        self.assertOk(r, 'text/markdown', 'fetch')
        self.assertIn('# Static heading RCGIFETCHMARK', r.text)
        self.assertIn('[relative link](%s)' % self.stack.fixture_url('/docs/guide.html'), r.text)
        self.assertRegex(r.text, r'(?m)^[-*] first point$')
        r = self.extract('/fetch-static.html', engine='fetch', format='html')
        self.assertOk(r, 'text/html', 'fetch')
        self.assertIn('<h1>Static heading RCGIFETCHMARK</h1>', r.text)
        self.assertIn('window.rcgiAnalytics', r.text)       # the source, as fetched

    def test_fetch_json_after_a_redirect(self):
        start = self.stack.fixture_url('/redirect?to=/fetch-static.html')
        r = self.stack.get('/extract', {'url': start, 'engine': 'fetch', 'format': 'json'})
        self.assertOk(r, 'application/json', 'fetch')
        doc = r.json()
        self.assertEqual(sorted(doc), sorted(['url', 'final_url', 'status', 'title', 'engine',
                                              'content', 'links']))
        self.assertEqual(doc['url'], start)
        self.assertEqual(doc['final_url'], self.stack.fixture_url('/fetch-static.html'))
        self.assertEqual(doc['status'], 200)
        self.assertEqual(doc['title'], 'Static fetch fixture')
        self.assertEqual(doc['engine'], 'fetch')
        self.assertIn('# Static heading RCGIFETCHMARK', doc['content'])
        self.assertIn(self.stack.fixture_url('/docs/guide.html'), doc['links'])

    def test_fetch_selector_and_main_content(self):
        r = self.extract('/fetch-static.html', engine='fetch', selector='article > #box')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('RCGIFETCHBOX', r.text)
        self.assertNotIn('RCGIFETCHMARK', r.text)
        r = self.extract('/fetch-static.html', engine='fetch', selector='section#box',
                         format='html')
        self.assertOk(r, 'text/html', 'fetch')
        self.assertEqual(r.text.strip(),
                         '<section id="box"><p>Inside the box RCGIFETCHBOX.</p></section>')
        r = self.extract('/fetch-static.html', engine='fetch', main_content='true')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('RCGIFETCHMARK', r.text)
        self.assertNotIn('About us', r.text)
        self.assertNotIn('RCGIFETCHFOOTER', r.text)
        r = self.extract('/fetch-static.html', engine='fetch', selector='#nope')
        self.assertError(r, 422, 'selector_not_found', all_of=('#nope',))
        r = self.extract('/fetch-static.html', engine='fetch', selector='p[')
        self.assertError(r, 400, 'invalid_option', all_of=('selector',))
        r = self.extract('/fetch-static.html', engine='fetch', selector='a:hover')
        self.assertError(r, 400, 'invalid_option', all_of=('selector', ':hover',
                                                           'engine=browser'))

    def test_fetch_sends_user_agent_headers_cookies(self):
        r = self.extract('/echo-headers', engine='fetch', user_agent='RcgiFetchAgent/1',
                         headers=json.dumps({'X-Rcgi-Test': 'hdrvalue'}),
                         cookies=json.dumps([{'name': 'rcgicookie', 'value': 'cookieval'}]))
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('User-Agent: RcgiFetchAgent/1', r.text)
        self.assertIn('X-Rcgi-Test: hdrvalue', r.text)
        self.assertIn('rcgicookie=cookieval', r.text)

    def test_fetch_compressed_and_charset(self):
        r = self.extract('/gzip', engine='fetch')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('Compressed page RCGIGZIPMARK', r.text)
        seen = [e for e in self.stack.fixture_requests() if e['path'] == '/gzip']
        self.assertIn('gzip', seen[-1]['headers'].get('accept-encoding', ''))
        r = self.extract('/latin1', engine='fetch')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('Caf\u00e9 RCGILATIN1MARK', r.text)

    # -- the URL policy on the fetch's connections

    def test_redirect_to_a_denied_address_is_blocked_before_connecting(self):
        # Something listens on the denied address, so a connection would
        # succeed and be seen: the fetch must never make one.
        trap = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            trap.bind((DENIED, 0))
            trap.listen(8)
            trap.setblocking(False)
            target = 'http://%s:%d/secret' % (DENIED, trap.getsockname()[1])
            self.stack.fixture_requests(clear=True)
            for engine in ('fetch', 'auto'):
                r = self.extract('/redirect?to=' + target, engine=engine)
                self.assertError(r, 403, 'url_blocked', all_of=(DENIED, 'deny_networks'))
                self.assertIsNone(r.header('x-render-engine'))
            paths = [e['path'] for e in self.stack.fixture_requests()]
            self.assertEqual(len([p for p in paths if p.startswith('/redirect')]), 2, paths)
            self.assertEqual(self.chromium_requests(), [])
            with self.assertRaises(OSError) as cm:
                trap.accept()
            self.assertIn(cm.exception.errno, (errno.EAGAIN, errno.EWOULDBLOCK))
        finally:
            trap.close()

    def test_direct_denied_address_and_scheme(self):
        r = self.extract('http://%s:1/' % DENIED, engine='fetch')
        self.assertError(r, 403, 'url_blocked', all_of=(DENIED,))
        r = self.extract('/redirect?to=file:///etc/passwd', engine='fetch')
        self.assertError(r, 403, 'url_blocked', all_of=('scheme',))

    # -- the fetch engine's errors

    def test_fetch_errors(self):
        r = self.extract('/status/404', engine='fetch')
        body = self.assertError(r, 502, 'target_http_status', all_of=('404',))
        self.assertEqual(r.header('x-target-status'), '404', body)
        r = self.extract('/status/404', engine='fetch', fail_on_status='false', format='json')
        self.assertOk(r, 'application/json', 'fetch')
        self.assertEqual(r.json()['status'], 404)
        self.assertIn('RCGISTATUSMARK', r.json()['content'])
        r = self.extract('/typed?type=application/pdf', engine='fetch')
        self.assertError(r, 422, 'unsupported_content_type', all_of=('application/pdf',))
        r = self.extract('/typed?type=image/png', engine='fetch')
        self.assertError(r, 422, 'unsupported_content_type', all_of=('image/png',))
        r = self.extract('/big?kb=1024', engine='fetch')
        self.assertError(r, 502, 'target_too_large', all_of=('max_fetch_size',))
        r = self.extract('/big?kb=64', engine='fetch')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('RCGIBIGMARK', r.text)
        r = self.extract('http://127.0.0.1:%d/' % stack.free_port(), engine='fetch')
        self.assertError(r, 502, 'target_unreachable')

    def test_fetch_timeout_is_504(self):
        r = self.extract('/slow?ms=10000', engine='fetch', timeout='1000')
        self.assertError(r, 504, 'timeout', all_of=('1000 ms', '/slow'))

    def test_client_hang_up_stops_the_fetch(self):
        # A fetch of a page that answers after 30 s; the client hangs up
        # once it started: the worker must drop the fetch at once (the
        # fixture sees its client go), not hold it until the deadline.
        self.stack.request('GET', '/events?clear=1', port=self.stack.fixture_port)
        self.stack.fixture_requests(clear=True)
        path = stack.query('/extract', {'url': self.stack.fixture_url('/slow?ms=30000&tag=fgone'),
                                        'engine': 'fetch'})
        req = stack.RawRequest(self.stack.port, path)
        try:
            stack.poll(lambda: any('tag=fgone' in e['path']
                                   for e in self.stack.fixture_requests()),
                       20, what='the fetch to reach /slow')
        finally:
            req.close()
        gone = lambda: [e for e in stack.http_request(  # noqa: E731
            self.stack.fixture_port, 'GET', '/events').json() if 'tag=fgone' in e['path']]
        stack.poll(gone, 5, what='the fetch to abandon /slow after the client hung up')
        r = self.stack.get('/extract', {'url': self.stack.fixture_url('/simple.html'),
                                        'engine': 'fetch'})
        self.assertEqual(r.status, 200, r)

    def test_browser_only_options_with_fetch_are_invalid(self):
        for name, value in (('wait_for', '#x'), ('wait_ms', '100'), ('scroll_page', 'true'),
                            ('width', '800'), ('wait_until', 'networkidle')):
            r = self.extract('/fetch-static.html', engine='fetch', **{name: value})
            self.assertError(r, 400, 'invalid_option', all_of=(name, 'engine=browser'))

    # -- engine=auto

    def test_auto_serves_a_static_page_with_fetch(self):
        self.stack.fixture_requests(clear=True)
        r = self.extract('/fetch-static.html')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertIn('RCGIFETCHMARK', r.text)
        self.assertEqual(self.chromium_requests(), [])

    def test_auto_hands_a_javascript_page_to_the_browser(self):
        r = self.extract('/fetch-js.html', engine='fetch')
        self.assertOk(r, 'text/plain', 'fetch')
        self.assertNotIn('RCGIJSROOTMARK', r.text)
        r = self.extract('/fetch-js.html', format='json')
        self.assertOk(r, 'application/json', 'browser')
        self.assertEqual(r.json()['engine'], 'browser')
        self.assertIn('RCGIJSROOTMARK', r.json()['content'])

    def test_auto_falls_back_when_the_fetch_is_refused(self):
        # Not HTML for the fetch engine: the browser renders it.
        r = self.extract('/typed?type=text/plain')
        self.assertOk(r, 'text/plain', 'browser')
        self.assertIn('RCGITYPEDMARK', r.text)
        # A browser-only option goes to the browser at once.
        self.stack.fixture_requests(clear=True)
        r = self.extract('/fetch-static.html', wait_for='#box')
        self.assertOk(r, 'text/plain', 'browser')
        self.assertIn('RCGIFETCHMARK', r.text)
        self.assertEqual([e['path'] for e in self.stack.fixture_requests()
                          if 'rendercgi/' in e['user_agent']], [])

    def test_auto_timeout_does_not_fall_back(self):
        r = self.extract('/slow?ms=10000', timeout='1000')
        self.assertError(r, 504, 'timeout')


class FetchOnlyWorker(stack.RenderAssertions, unittest.TestCase):
    """browsers = 0: /extract is served by the fetch engine alone."""

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=0, pages_per_browser=1)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def extract(self, page, **options):
        params = {'url': self.stack.fixture_url(page)}
        params.update(options)
        return self.stack.get('/extract', params)

    def test_fetch_and_auto_work_without_a_browser(self):
        self.assertEqual(self.stack.chromium_procs(), [])
        for engine in ('fetch', 'auto'):
            r = self.extract('/fetch-static.html', engine=engine)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header('x-render-engine'), 'fetch')
            self.assertIn('RCGIFETCHMARK', r.text)
        # auto has nothing to fall back to: what the fetch gives ...
        r = self.extract('/fetch-js.html')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('x-render-engine'), 'fetch')
        # ... or the fetch's error.
        r = self.extract('/typed?type=application/pdf')
        self.assertError(r, 422, 'unsupported_content_type')

    def test_browser_engine_and_browser_routes_are_404(self):
        r = self.extract('/fetch-static.html', engine='browser')
        self.assertError(r, 404, 'not_found', all_of=('browsers = 0',))
        r = self.extract('/fetch-static.html', wait_for='#box')
        self.assertError(r, 404, 'not_found', all_of=('wait_for',))
        r = self.stack.get('/pdf', {'url': self.stack.fixture_url('/fetch-static.html')})
        self.assertError(r, 404, 'not_found')


if __name__ == '__main__':
    stack.main()
