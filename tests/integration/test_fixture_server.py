#!/usr/bin/env python3
"""test_fixture_server.py — the fixture server does what the other tests assume.

Starts tests/fixtures/server.py alone (no rendercgi, no nginx) and checks its
pages and behaviour endpoints, so a broken fixture shows up here and not as
a puzzling rendering failure elsewhere.
"""

import os
import signal
import subprocess
import sys
import tempfile
import shutil
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class FixtureServer(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='rcgi-it-fixture-')
        port_file = os.path.join(cls.tmp, 'port')
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(stack.FIXTURES, 'server.py'), '--port-file', port_file],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'))
        # The port is the first line on stdout, and the content of the port file.
        first = cls.proc.stdout.readline().decode().strip()
        cls.port = int(first)
        with open(port_file) as f:
            assert int(f.read()) == cls.port

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            rc = cls.proc.wait(timeout=10)
        finally:
            if cls.proc.poll() is None:
                cls.proc.kill()
            cls.proc.stdout.close()
            shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, 'fixture server exited with %s on SIGTERM' % rc

    def get(self, path, **kw):
        return stack.http_request(self.port, kw.pop('method', 'GET'), path, **kw)

    def test_site_pages_carry_their_markers(self):
        for page, marker in (('/simple.html', 'RCGISIMPLEMARK'),
                             ('/article.html', 'RCGIARTICLEMARK'),
                             ('/styled.html', 'RCGISTYLEDMARK'),
                             ('/style.css', 'RCGICSSMARK'),
                             ('/isolation-a.html', 'RCGIISOLATIONA'),
                             ('/isolation-b.html', 'RCGIISOLATIONB')):
            r = self.get(page)
            self.assertEqual(r.status, 200, page)
            self.assertIn(marker, r.text, page)

    def test_spa_marker_is_not_in_the_source(self):
        r = self.get('/spa.html')
        self.assertEqual(r.status, 200)
        self.assertNotIn('RCGISPAMARK', r.text)

    def test_missing_file_is_404(self):
        self.assertEqual(self.get('/no-such-page.html').status, 404)

    def test_slow_waits(self):
        t0 = time.monotonic()
        r = self.get('/slow?ms=400')
        self.assertGreaterEqual(time.monotonic() - t0, 0.35)
        self.assertIn('RCGISLOWMARK', r.text)

    def test_hang_never_answers(self):
        with self.assertRaises(OSError):
            self.get('/hang', timeout=1.0)

    def test_status(self):
        r = self.get('/status/503')
        self.assertEqual(r.status, 503)
        self.assertIn('RCGISTATUSMARK', r.text)

    def test_redirect(self):
        r = self.get('/redirect?to=/simple.html&code=307')
        self.assertEqual(r.status, 307)
        self.assertEqual(r.header('location'), '/simple.html')

    def test_set_cookie(self):
        r = self.get('/set-cookie?name=a&value=b')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('set-cookie'), 'a=b; Path=/')
        r = self.get('/set-cookie?name=a&value=b&next=/isolation-b.html')
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header('location'), '/isolation-b.html')

    def test_echo_headers_shows_headers_and_cookies(self):
        r = self.get('/echo-headers', headers={'X-Rcgi-Test': 'hello', 'Cookie': 'k1=v1; k2=v2'})
        self.assertIn('X-Rcgi-Test: hello', r.text)
        self.assertIn('k1=v1\nk2=v2', r.text)

    def test_echo_body(self):
        r = self.get('/echo-body', method='POST', body=b'<p>posted</p>',
                     headers={'Content-Type': 'text/html'})
        self.assertIn('length=13', r.text)
        self.assertIn('&lt;p&gt;posted&lt;/p&gt;', r.text)

    def test_requests_are_recorded(self):
        self.get('/requests?clear=1')
        self.get('/simple.html?probe=1')
        seen = self.get('/requests').json()
        self.assertEqual([e['path'] for e in seen], ['/simple.html?probe=1'])


if __name__ == '__main__':
    stack.main()
