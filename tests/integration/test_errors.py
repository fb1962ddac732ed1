#!/usr/bin/env python3
"""test_errors.py — every error of API.md §3 the worker can give in this
milestone, with its status, its stable code and the JSON body shape
{"error": {"code", "message"}, "request_id"}.
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class Errors(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=2)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def simple(self):
        return self.stack.fixture_url('/simple.html')

    def assertError(self, r, status, code, mentions=None):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header('content-type', '').startswith('application/json'), r)
        body = r.json()
        self.assertIsInstance(body, dict, body)
        self.assertIsInstance(body.get('error'), dict, body)
        self.assertEqual(body['error'].get('code'), code, body)
        message = body['error'].get('message')
        self.assertIsInstance(message, str, body)
        self.assertTrue(message.strip(), body)
        self.assertIsInstance(body.get('request_id'), str, body)
        self.assertTrue(body['request_id'], body)
        self.assertEqual(r.header('x-request-id'), body['request_id'], r.headers)
        if mentions:
            self.assertTrue(any(m in message for m in mentions),
                            'message %r names none of %r' % (message, mentions))
        return body

    def test_missing_url(self):
        self.assertError(self.stack.get('/pdf'), 400, 'missing_url')

    def test_bad_url(self):
        self.assertError(self.stack.get('/pdf', {'url': 'http://'}), 400, 'bad_url')

    def test_invalid_format(self):
        r = self.stack.get('/pdf', {'url': self.simple(), 'format': 'b7'})
        self.assertError(r, 400, 'invalid_option', ['format'])

    def test_invalid_boolean(self):
        r = self.stack.get('/pdf', {'url': self.simple(), 'landscape': 'maybe'})
        self.assertError(r, 400, 'invalid_option', ['landscape'])

    def test_negative_timeout(self):
        r = self.stack.get('/pdf', {'url': self.simple(), 'timeout': '-5'})
        self.assertError(r, 400, 'invalid_option', ['timeout'])

    def test_unknown_option(self):
        r = self.stack.get('/pdf', {'url': self.simple(), 'foo': '1'})
        self.assertError(r, 400, 'unknown_option', ['foo'])

    def test_unknown_route(self):
        self.assertError(self.stack.get('/nope'), 404, 'not_found')

    def test_method_not_allowed(self):
        r = self.stack.request('DELETE', stack.query('/pdf', {'url': self.simple()}))
        self.assertError(r, 405, 'method_not_allowed')

    def test_file_url_is_blocked(self):
        r = self.stack.get('/pdf', {'url': 'file:///etc/passwd'})
        self.assertError(r, 403, 'url_blocked')

    def test_ipv6_loopback_is_blocked(self):
        # Only 127.0.0.0/8 is allowed: ::1 stays refused.
        url = 'http://[::1]:%d/simple.html' % self.stack.fixture_port
        self.assertError(self.stack.get('/pdf', {'url': url}), 403, 'url_blocked')

    def test_hanging_page_times_out(self):
        url = self.stack.fixture_url('/hang')
        t0 = time.monotonic()
        r = self.stack.get('/pdf', {'url': url, 'timeout': '1500'})
        took = time.monotonic() - t0
        # The message says what was still awaited: the lifecycle event or
        # the pending request.
        self.assertError(r, 504, 'timeout', ['load', 'hang', 'domcontentloaded', url])
        self.assertLess(took, 15, 'a 1500 ms timeout took %.1f s' % took)

    def test_closed_port_is_unreachable(self):
        url = 'http://127.0.0.1:%d/simple.html' % stack.free_port()
        self.assertError(self.stack.get('/pdf', {'url': url}), 502, 'target_unreachable')

    def test_incoming_request_id_is_kept(self):
        r = self.stack.get('/nope', headers={'X-Request-Id': 'rcgi-test-4711'})
        body = self.assertError(r, 404, 'not_found')
        self.assertEqual(body['request_id'], 'rcgi-test-4711')

    def test_pool_still_renders_after_errors(self):
        r = self.stack.get('/pdf', {'url': self.simple()})
        self.assertEqual(r.status, 200, r)


if __name__ == '__main__':
    stack.main()
