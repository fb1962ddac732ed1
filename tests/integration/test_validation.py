#!/usr/bin/env python3
"""test_validation.py — what rendercgi refuses before it renders anything
(API.md §3, Responses and errors):

  400 invalid_option          every option type- and range-checked; the
                              message names the option and what it accepts
  400 unknown_option          an option the route does not take
  400 invalid_json            malformed JSON, with the byte offset
  400 missing_url
  405 method_not_allowed      with Allow
  413 body_too_large          a body over max_body, refused before it is read
                              whole (checked straight on the FastCGI socket:
                              nginx itself buffers whole bodies)
  415 unsupported_media_type

The pool runs with max_body = 64K.
"""

import json
import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

MAX_BODY = 64 * 1024

# (route, option, bad value, strings the message must all contain).
# Each message names the option and something of what it accepts.
INVALID = [
    ('/pdf', 'timeout', 'abc', ['timeout']),
    ('/pdf', 'timeout', '0', ['timeout']),
    ('/pdf', 'timeout', '1.5', ['timeout']),
    ('/pdf', 'wait_until', 'idle', ['wait_until', 'load', 'domcontentloaded', 'networkidle']),
    ('/pdf', 'wait_ms', '-1', ['wait_ms']),
    ('/pdf', 'wait_ms', 'soon', ['wait_ms']),
    ('/pdf', 'wait_for', '', ['wait_for']),
    ('/pdf', 'javascript', 'maybe', ['javascript', 'true', 'false']),
    ('/pdf', 'media', 'tv', ['media', 'print', 'screen']),
    ('/pdf', 'width', '0', ['width']),
    ('/pdf', 'width', '99999', ['width']),
    ('/pdf', 'width', 'wide', ['width']),
    ('/pdf', 'width', '100.5', ['width']),
    ('/pdf', 'height', '-1', ['height']),
    ('/pdf', 'fail_on_status', 'sometimes', ['fail_on_status', 'true', 'false']),
    ('/pdf', 'scroll_page', 'yes', ['scroll_page', 'true', 'false']),
    ('/pdf', 'headers', 'not json', ['headers']),
    ('/pdf', 'headers', '{"X-Num": 1}', ['headers']),
    ('/pdf', 'headers', '{"Bad Name": "v"}', ['headers']),
    ('/pdf', 'headers', '{"X-Split": "a\\r\\nX-Evil: 1"}', ['headers']),
    ('/pdf', 'headers', '["X-A", "b"]', ['headers']),
    ('/pdf', 'cookies', '[{"name": "a"}]', ['cookies']),
    ('/pdf', 'cookies', '{"name": "a", "value": "b"}', ['cookies']),
    ('/pdf', 'cookies', '[{"name": "a", "value": "b", "color": "red"}]', ['cookies']),
    ('/pdf', 'cookies', '[{"name": "a", "value": 5}]', ['cookies']),
    ('/pdf', 'format', 'b7', ['format', 'letter', 'a4']),
    ('/pdf', 'format', 'A4 ', ['format']),
    ('/pdf', 'paper_width', '-1in', ['paper_width']),
    ('/pdf', 'paper_width', '10furlongs', ['paper_width', 'px', 'in', 'cm', 'mm']),
    ('/pdf', 'paper_width', '0', ['paper_width']),
    ('/pdf', 'paper_height', 'tall', ['paper_height']),
    ('/pdf', 'landscape', 'maybe', ['landscape', 'true', 'false']),
    ('/pdf', 'margin', '1parsec', ['margin']),
    ('/pdf', 'margin', '-1cm', ['margin']),
    ('/pdf', 'margin_top', 'x', ['margin_top']),
    ('/pdf', 'margin_right', '1 in', ['margin_right']),
    ('/pdf', 'margin_bottom', '1e999in', ['margin_bottom']),
    ('/pdf', 'margin_left', 'NaN', ['margin_left']),
    ('/pdf', 'print_background', 'on', ['print_background', 'true', 'false']),
    ('/pdf', 'scale', '0', ['scale', '0.1', '2']),
    ('/pdf', 'scale', '2.5', ['scale', '0.1', '2']),
    ('/pdf', 'scale', 'big', ['scale']),
    ('/pdf', 'page_ranges', 'abc', ['page_ranges']),
    ('/pdf', 'page_ranges', '1-a', ['page_ranges']),
    ('/pdf', 'page_ranges', '0', ['page_ranges']),
    ('/pdf', 'prefer_css_page_size', '2', ['prefer_css_page_size', 'true', 'false']),
    ('/pdf', 'tagged', 'yes', ['tagged', 'true', 'false']),
    ('/pdf', 'outline', 'no', ['outline', 'true', 'false']),
    ('/screenshot', 'type', 'gif', ['type', 'png', 'jpeg', 'webp']),
    ('/screenshot', 'quality', '101', ['quality']),
    ('/screenshot', 'quality', '-1', ['quality']),
    ('/screenshot', 'quality', 'high', ['quality']),
    ('/screenshot', 'full_page', 'yes', ['full_page', 'true', 'false']),
    ('/screenshot', 'device_scale_factor', '0', ['device_scale_factor']),
    ('/screenshot', 'device_scale_factor', '100', ['device_scale_factor']),
    ('/screenshot', 'device_scale_factor', 'x', ['device_scale_factor']),
    ('/screenshot', 'selector', '', ['selector']),
    ('/screenshot', 'width', '0', ['width']),
    ('/screenshot', 'timeout', '-5', ['timeout']),
]

# Options of one route given to the other.
FOREIGN = [
    ('/pdf', 'type', 'png'), ('/pdf', 'quality', '50'), ('/pdf', 'full_page', 'true'),
    ('/pdf', 'device_scale_factor', '2'), ('/pdf', 'selector', '#x'),
    ('/screenshot', 'format', 'a4'), ('/screenshot', 'landscape', 'true'),
    ('/screenshot', 'margin', '1in'), ('/screenshot', 'scale', '1'),
    ('/screenshot', 'page_ranges', '1'), ('/screenshot', 'header_template', '<div></div>'),
    ('/screenshot', 'filename', 'a.png'), ('/screenshot', 'tagged', 'true'),
]


class Validation(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2,
                                extra={'max_body': '64K'})
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def url(self):
        return self.stack.fixture_url('/simple.html')

    # -- invalid_option

    def test_every_option_is_checked(self):
        for route, name, value, words in INVALID:
            with self.subTest(route=route, option=name, value=value):
                t0 = time.monotonic()
                r = self.stack.get(route, {'url': self.url(), name: value})
                self.assertError(r, 400, 'invalid_option', all_of=words)
                self.assertLess(time.monotonic() - t0, 5, 'validation should not render')

    def test_quality_is_refused_for_png(self):
        r = self.stack.get('/screenshot', {'url': self.url(), 'quality': '50'})
        self.assertError(r, 400, 'invalid_option', all_of=['quality'])
        r = self.stack.get('/screenshot', {'url': self.url(), 'type': 'png', 'quality': '50'})
        self.assertError(r, 400, 'invalid_option', all_of=['quality'])

    def test_invalid_selector_syntax(self):
        # A CSS selector querySelector cannot parse is the client's mistake,
        # not a render failure.
        for route, name in (('/pdf', 'wait_for'), ('/screenshot', 'selector')):
            with self.subTest(option=name):
                r = self.stack.get(route, {'url': self.url(), name: 'div[[['})
                self.assertError(r, 400, 'invalid_option', all_of=[name])

    def test_user_agent_with_a_line_break(self):
        r = self.stack.get('/pdf', {'url': self.url(), 'user_agent': 'A\r\nX-Evil: 1'})
        self.assertError(r, 400, 'invalid_option', all_of=['user_agent'])

    def test_every_option_is_checked_in_json_too(self):
        cases = [
            ({'landscape': 'maybe'}, 'landscape'),
            ({'landscape': 2}, 'landscape'),
            ({'scale': 5}, 'scale'),
            ({'scale': 'big'}, 'scale'),
            ({'width': 1.5}, 'width'),
            ({'width': -3}, 'width'),
            ({'format': 4}, 'format'),
            ({'timeout': [1]}, 'timeout'),
            ({'headers': ['X-A']}, 'headers'),
            ({'headers': {'X-A': 1}}, 'headers'),
            ({'cookies': {'name': 'a', 'value': 'b'}}, 'cookies'),
            ({'cookies': [{'name': 'a'}]}, 'cookies'),
            ({'margin': {'top': '1in'}}, 'margin'),
        ]
        for options, name in cases:
            with self.subTest(options=options):
                r = self.stack.post('/pdf', {'url': self.url(), 'options': options})
                self.assertError(r, 400, 'invalid_option', all_of=[name])

    # -- unknown_option

    def test_unknown_option(self):
        r = self.stack.get('/pdf', {'url': self.url(), 'colour': 'red'})
        self.assertError(r, 400, 'unknown_option', all_of=['colour'])

    def test_options_of_the_other_route_are_unknown(self):
        for route, name, value in FOREIGN:
            with self.subTest(route=route, option=name):
                r = self.stack.get(route, {'url': self.url(), name: value})
                self.assertError(r, 400, 'unknown_option', all_of=[name])

    def test_unknown_option_in_json(self):
        r = self.stack.post('/pdf', {'url': self.url(), 'options': {'colour': 'red'}})
        self.assertError(r, 400, 'unknown_option', all_of=['colour'])
        r = self.stack.post('/pdf', {'url': self.url(), 'colour': 'red'})
        self.assertError(r, 400, 'unknown_option', all_of=['colour'])
        r = self.stack.post('/screenshot', {'url': self.url(), 'options': {'format': 'a4'}})
        self.assertError(r, 400, 'unknown_option', all_of=['format'])

    def test_option_names_are_case_sensitive(self):
        r = self.stack.get('/pdf', {'url': self.url(), 'Format': 'a4'})
        self.assertError(r, 400, 'unknown_option', all_of=['Format'])

    # -- missing_url

    def test_missing_url(self):
        self.assertError(self.stack.get('/screenshot'), 400, 'missing_url')
        self.assertError(self.stack.post('/pdf', {'options': {'format': 'a4'}}), 400,
                         'missing_url')

    # -- invalid_json

    def json_error_offset(self, body, offset):
        r = self.stack.post('/pdf', body)
        err = self.assertError(r, 400, 'invalid_json')
        message = err['error']['message']
        numbers = [int(n) for n in re.findall(r'\d+', message)]
        self.assertTrue(any(abs(n - offset) <= 1 for n in numbers),
                        'invalid_json message %r gives no byte offset near %d' % (message, offset))
        return message

    def test_malformed_json_names_the_byte_offset(self):
        url = self.url()
        body = '{"url": "%s", "options": {"format": @}}' % url
        self.json_error_offset(body, body.index('@'))

    def test_truncated_json(self):
        body = '{"url": "%s", "options": {"format": "a4"' % self.url()
        self.json_error_offset(body, len(body))

    def test_trailing_garbage_after_json(self):
        body = '{"url": "%s"} xyz' % self.url()
        self.json_error_offset(body, body.index('xyz'))

    def test_json_that_is_not_an_object(self):
        for body in ('[1, 2]', '"just a string"', '42'):
            with self.subTest(body=body):
                r = self.stack.post('/pdf', body)
                self.assertError(r, 400, 'invalid_json')

    def test_json_with_invalid_utf8(self):
        body = b'{"url": "' + self.url().encode() + b'", "filename": "\xff\xfe.pdf"}'
        r = self.stack.post('/pdf', body)
        self.assertError(r, 400, 'invalid_json')

    def test_empty_json_body(self):
        r = self.stack.post('/pdf', b'')
        self.assertIn(r.status, (400,), r)
        self.assertIn(r.json()['error']['code'], ('invalid_json', 'missing_url'), r)

    # -- method_not_allowed

    def test_wrong_methods(self):
        for method, route in (('PUT', '/pdf'), ('DELETE', '/pdf'), ('PATCH', '/screenshot'),
                              ('PUT', '/screenshot'), ('POST', '/health'), ('DELETE', '/health')):
            with self.subTest(method=method, route=route):
                r = self.stack.request(method, stack.query(route, {'url': self.url()}),
                                       body=b'' if method != 'DELETE' else None)
                self.assertError(r, 405, 'method_not_allowed', all_of=[method])
                allow = r.header('allow', '')
                self.assertIn('GET', allow, r.headers)
                if route != '/health':
                    self.assertIn('POST', allow, r.headers)

    # -- unsupported_media_type

    def test_wrong_content_types(self):
        for ctype in ('text/plain', 'application/xml', 'application/octet-stream',
                      'image/png', 'application/jsonx'):
            with self.subTest(content_type=ctype):
                r = self.stack.post('/pdf', '{"url": "%s"}' % self.url(), content_type=ctype)
                self.assertError(r, 415, 'unsupported_media_type', all_of=[ctype])

    def test_body_without_content_type(self):
        r = self.stack.request('POST', '/pdf', body=('{"url": "%s"}' % self.url()).encode())
        self.assertError(r, 415, 'unsupported_media_type')

    def test_multipart_without_boundary(self):
        r = self.stack.post('/pdf', b'--x\r\n\r\n--x--\r\n', content_type='multipart/form-data')
        self.assertEqual(r.status, 400, r)

    # -- body_too_large

    def test_body_over_max_body(self):
        page = '<p>RCGIBIG</p>' + 'x' * (MAX_BODY + 1024)
        r = self.stack.post('/pdf', page, content_type='text/html')
        self.assertError(r, 413, 'body_too_large')
        r = self.stack.post('/pdf', {'url': self.url(), 'options': {'filename': 'y' * MAX_BODY}})
        self.assertError(r, 413, 'body_too_large')

    def test_body_at_max_body_is_fine(self):
        head = '<!DOCTYPE html><html><body><p>RCGIATLIMIT</p><!-- '
        tail = ' --></body></html>'
        page = head + 'x' * (MAX_BODY - len(head) - len(tail)) + tail
        self.assertEqual(len(page), MAX_BODY)
        r = self.stack.post('/pdf', page, content_type='text/html')
        self.assertPdf(r)

    def test_body_too_large_is_refused_before_it_is_read(self):
        # Straight to the pool's socket: announce 1 GiB, send 4 KiB, keep the
        # stream open. A worker that read the body first would wait for ever;
        # the right one answers 413 from CONTENT_LENGTH alone.
        params = {
            'REQUEST_METHOD': 'POST', 'REQUEST_URI': '/pdf', 'DOCUMENT_URI': '/pdf',
            'SCRIPT_NAME': '/pdf', 'QUERY_STRING': '', 'CONTENT_TYPE': 'text/html',
            'CONTENT_LENGTH': str(1 << 30), 'SERVER_PROTOCOL': 'HTTP/1.1',
            'GATEWAY_INTERFACE': 'CGI/1.1', 'SERVER_SOFTWARE': 'rcgi-test',
            'REMOTE_ADDR': '127.0.0.1', 'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
        }
        t0 = time.monotonic()
        try:
            out, _, _ = stack.fcgi_request(self.stack.socket_path, params,
                                           stdin_chunks=[b'x' * 4096], close_stdin=False,
                                           timeout=15)
        except OSError as e:
            self.fail('no answer within 15 s to a 1 GiB CONTENT_LENGTH (%r): the worker '
                      'waits for the body instead of refusing it' % e)
        head, _, body = out.partition(b'\r\n\r\n')
        self.assertRegex(head.decode('latin-1'), r'(?im)^Status:\s*413\b', out[:300])
        self.assertEqual(json.loads(body.decode('utf-8'))['error']['code'], 'body_too_large')
        self.assertLess(time.monotonic() - t0, 15)

    def test_pool_still_renders(self):
        self.assertPdf(self.stack.get('/pdf', {'url': self.url()}))


if __name__ == '__main__':
    stack.main()
