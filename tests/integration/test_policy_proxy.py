#!/usr/bin/env python3
"""test_policy_proxy.py — the URL policy holds on the address connected to,
for every redirect and subresource (API.md §6, DESIGN.md decision 9).

The pool admits 127.0.0.0/8 but denies 127.0.0.2/32. Two target servers
count the TCP connections they accept: one on 127.0.0.2 (denied), one on
127.0.0.3 (allowed, the control that shows the page really reaches out).
Only loopback is ever contacted.

- a redirect from the fixture server to 127.0.0.2 is 403 url_blocked naming
  the deny rule, and 127.0.0.2 sees no connection;
- reach.html (image, stylesheet, iframe, fetch, WebSocket, a worker's fetch)
  pointed at 127.0.0.3 makes that server see connections; pointed at
  127.0.0.2, the PDF still renders and 127.0.0.2 sees none;
- the same for a redirect chain that ends allowed: it renders.
"""

import http.server
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class CountingServer(http.server.ThreadingHTTPServer):
    """Accepts on HOST:0, counts connections and request paths."""
    daemon_threads = True

    def __init__(self, host):
        self.lock = threading.Lock()
        self.connections = 0
        self.paths = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.paths.append(self.path)
                body = b'<!DOCTYPE html><title>target</title><p>RCGITARGETMARK</p>'
                self.send_response(200)
                self.send_header('Content-Type', 'text/html')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__((host, 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def verify_request(self, request, client_address):
        with self.lock:
            self.connections += 1
        return True

    def seen(self):
        with self.lock:
            return self.connections, list(self.paths)

    def stop(self):
        self.shutdown()
        self.server_close()


class PolicyProxy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.denied = CountingServer('127.0.0.2')
        cls.allowed = CountingServer('127.0.0.3')
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2,
                                extra={'deny_networks': '127.0.0.2/32'})
        try:
            cls.stack.start()
        except BaseException:
            cls.denied.stop()
            cls.allowed.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stack.close()
        finally:
            cls.denied.stop()
            cls.allowed.stop()

    def reach_url(self, server, host):
        return self.stack.fixture_url('/reach.html?' + urllib.parse.urlencode(
            {'host': host, 'target': server.server_address[1]}))

    def wait_connections(self, server, least, deadline_s=10.0):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            n, paths = server.seen()
            if n >= least:
                return n, paths
            time.sleep(0.05)
        return server.seen()

    def test_redirect_to_denied_address(self):
        target = 'http://127.0.0.2:%d/secret' % self.denied.server_address[1]
        url = self.stack.fixture_url('/redirect?' + urllib.parse.urlencode({'to': target}))
        r = self.stack.get('/pdf', {'url': url})
        self.assertEqual(r.status, 403, r)
        err = r.json()['error']
        self.assertEqual(err['code'], 'url_blocked', err)
        self.assertIn('deny_networks', err['message'])
        self.assertIn('127.0.0.2', err['message'])
        self.assertEqual(self.denied.seen(), (0, []))

    def test_redirect_to_allowed_address_renders(self):
        target = 'http://127.0.0.3:%d/page' % self.allowed.server_address[1]
        url = self.stack.fixture_url('/redirect?' + urllib.parse.urlencode({'to': target}))
        r = self.stack.get('/pdf', {'url': url})
        self.assertEqual(r.status, 200, r)
        self.assertIn('RCGITARGETMARK', self.stack.pdf_text(r.body))

    def test_subresources(self):
        # Control: pointed at the allowed address, every kind of load arrives.
        r = self.stack.get('/pdf', {'url': self.reach_url(self.allowed, '127.0.0.3'),
                                    'wait_for_expression': 'window.reachDone === true'})
        self.assertEqual(r.status, 200, r)
        n, paths = self.wait_connections(self.allowed, 1)
        self.assertGreaterEqual(n, 1)
        for path in ('/img.png', '/style.css', '/frame.html', '/fetch', '/ws', '/worker-fetch'):
            self.assertIn(path, paths, 'the control server saw only %r' % paths)

        # Pointed at the denied address: the page renders, nothing connects.
        r = self.stack.get('/pdf', {'url': self.reach_url(self.denied, '127.0.0.2'),
                                    'wait_for_expression': 'window.reachDone === true'})
        self.assertEqual(r.status, 200, r)
        self.assertIn('RCGIREACHMARK', self.stack.pdf_text(r.body))
        self.assertEqual(self.denied.seen(), (0, []))


class BrowserOwnTraffic(unittest.TestCase):
    """Chromium's own requests (sign-in, component updates, network time)
    would reach the proxy like a page's; the browser is set up to make none.
    The proxy logs every connection it cannot resolve at debug."""

    def test_a_start_and_a_render_ask_the_proxy_for_no_other_host(self):
        st = stack.Stack(workers=1, browsers=1, pages_per_browser=2,
                         global_extra={'log_level': 'debug'})
        st.start()
        try:
            r = st.pdf('/simple.html')
            self.assertEqual(r.status, 200, r)
            with open(st.path('spawner.log'), errors='replace') as f:
                lines = [ln.strip() for ln in f if ' proxy: ' in ln]
        finally:
            st.close()
        foreign = [ln for ln in lines if '127.0.0.1:%d' % st.fixture_port not in ln]
        self.assertEqual(foreign, [], 'the browser asked the proxy for other hosts')


if __name__ == '__main__':
    stack.main()
