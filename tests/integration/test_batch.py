#!/usr/bin/env python3
"""test_batch.py — POST /batch (API.md §3): items of every route answered as
NDJSON lines, the short form, failed items beside good ones, lines streamed
through nginx as items complete, and the whole body's validation errors.

Kept lean for a 2-core machine: a handful of renders of small pages.
"""

import base64
import http.client
import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

MAX_ITEMS = 3


class Batch(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2,
                                extra={'batch_max_items': MAX_ITEMS, 'batch_concurrency': 2})
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def url(self, path):
        return self.stack.fixture_url(path)

    def batch(self, body, **kw):
        return self.stack.post('/batch', body, **kw)

    def lines(self, r, count):
        """The response's NDJSON lines, checked for shape: 'count' lines with
        the indices 0..count-1 once each. Returns them by index."""
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/x-ndjson'),
                        r.headers)
        self.assertTrue(r.body.endswith(b'\n'), r)
        raw = r.body.decode('utf-8').split('\n')[:-1]
        items = [json.loads(line) for line in raw]
        self.assertEqual(sorted(item['index'] for item in items), list(range(count)), items)
        return {item['index']: item for item in items}

    def assertItemError(self, item, status, code, mentions):
        self.assertEqual(item['status'], status, item)
        self.assertEqual(item['error']['code'], code, item)
        self.assertNotIn('body', item)
        self.assertNotIn('body_base64', item)
        self.assertIn(mentions, item['error']['message'], item)

    def assertError(self, r, status, code, mentions):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header('content-type', '').startswith('application/json'), r)
        err = r.json()['error']
        self.assertEqual(err['code'], code, r)
        self.assertIn(mentions, err['message'], r)

    # -- items of every route

    def test_extract_pdf_and_screenshot_items(self):
        simple = self.url('/simple.html')
        r = self.batch({'requests': [
            {'route': 'extract', 'url': simple},
            {'route': 'pdf', 'url': simple, 'options': {'format': 'a4'}},
            {'route': 'screenshot', 'url': simple},
        ]}, headers={'X-Request-Id': 'rcgi-batch-1'})
        self.assertEqual(r.header('x-request-id'), 'rcgi-batch-1', r.headers)
        items = self.lines(r, 3)
        for i, item in items.items():
            self.assertEqual(item['status'], 200, item)
            self.assertEqual(item['url'], simple, item)
            self.assertEqual(item['request_id'], 'rcgi-batch-1-%d' % i, item)

        text = items[0]
        self.assertTrue(text['content_type'].startswith('text/plain'), text)
        self.assertIn('RCGISIMPLEMARK', text['body'])
        self.assertNotIn('body_base64', text)

        pdf = items[1]
        self.assertEqual(pdf['content_type'], 'application/pdf', pdf)
        data = base64.b64decode(pdf['body_base64'], validate=True)
        self.assertTrue(data.startswith(b'%PDF-'), data[:16])
        self.assertIn('RCGISIMPLEMARK', self.stack.pdf_text(data))

        shot = items[2]
        self.assertEqual(shot['content_type'], 'image/png', shot)
        png = base64.b64decode(shot['body_base64'], validate=True)
        self.assertEqual(stack.image_info(png), ('png', 1280, 720))

    def test_short_form(self):
        urls = [self.url('/simple.html'), self.url('/extract.html')]
        r = self.batch({'route': 'extract', 'urls': urls, 'options': {'format': 'markdown'}})
        items = self.lines(r, 2)
        for i, url in enumerate(urls):
            self.assertEqual(items[i]['status'], 200, items[i])
            self.assertEqual(items[i]['url'], url)
            self.assertTrue(items[i]['content_type'].startswith('text/markdown'), items[i])
        self.assertIn('RCGISIMPLEMARK', items[0]['body'])
        self.assertIn('RCGIEXTRACTMARK', items[1]['body'])

    def test_failed_items_do_not_fail_the_batch(self):
        simple = self.url('/simple.html')
        r = self.batch({'requests': [
            {'route': 'pdf', 'url': self.url('/status/404')},
            {'route': 'pdf', 'url': simple, 'options': {'scale': '9'}},
            {'route': 'extract', 'url': simple},
        ]})
        items = self.lines(r, 3)
        self.assertItemError(items[0], 502, 'target_http_status', '404')
        self.assertItemError(items[1], 400, 'invalid_option', 'requests[1].options.scale')
        self.assertEqual(items[2]['status'], 200, items[2])
        self.assertIn('RCGISIMPLEMARK', items[2]['body'])

    def test_unknown_option_of_an_item_is_its_own_error(self):
        r = self.batch({'route': 'screenshot', 'urls': [self.url('/simple.html')],
                        'options': {'colour': 'red'}})
        items = self.lines(r, 1)
        self.assertItemError(items[0], 400, 'unknown_option', 'options.colour')

    # -- streaming

    def test_lines_arrive_as_items_complete(self):
        body = json.dumps({'route': 'extract', 'urls': [
            self.url('/slow?ms=1500'), self.url('/simple.html')]})
        conn = http.client.HTTPConnection('127.0.0.1', self.stack.port, timeout=60)
        try:
            t0 = time.monotonic()
            conn.request('POST', '/batch', body=body,
                         headers={'Content-Type': 'application/json'})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            first = json.loads(resp.readline())
            t_first = time.monotonic() - t0
            second = json.loads(resp.readline())
            t_second = time.monotonic() - t0
            self.assertEqual(resp.read(), b'')
        finally:
            conn.close()
        # The fast page's line comes first, and reaches the client while the
        # slow one is still loading: nginx does not hold the lines back.
        self.assertEqual(first['index'], 1, first)
        self.assertIn('RCGISIMPLEMARK', first['body'])
        self.assertEqual(second['index'], 0, second)
        self.assertIn('RCGISLOWMARK', second['body'])
        self.assertLess(t_first, 1.4, 'the fast line came after %.2f s' % t_first)
        self.assertGreater(t_second - t_first, 0.3,
                           'lines came together (%.2f s, %.2f s)' % (t_first, t_second))

    # -- validation of the whole body

    def test_client_hang_up_stops_the_batch(self):
        # Two items that would take 30 s each (a browser one and a fetch
        # one); the client hangs up once both reached the fixture: both
        # loads are abandoned at once, the slot is given back, and the next
        # request is served.
        self.stack.request('GET', '/events?clear=1', port=self.stack.fixture_port)
        self.stack.fixture_requests(clear=True)
        body = json.dumps({'requests': [
            {'route': 'pdf', 'url': self.stack.fixture_url('/slow?ms=30000&tag=bgone-pdf')},
            {'route': 'extract', 'url': self.stack.fixture_url('/slow?ms=30000&tag=bgone-fetch'),
             'options': {'engine': 'fetch'}},
        ]}).encode()
        req = stack.RawRequest(self.stack.port, '/batch', body=body)
        try:
            stack.poll(lambda: sum(1 for e in self.stack.fixture_requests()
                                   if 'tag=bgone' in e['path']) >= 2,
                       20, what='both items to reach /slow')
        finally:
            req.close()
        gone = lambda: {e['path'] for e in stack.http_request(  # noqa: E731
            self.stack.fixture_port, 'GET', '/events').json() if 'tag=bgone' in e['path']}
        stack.poll(lambda: len(gone()) >= 2, 5,
                   what='both items to abandon /slow after the client hung up')
        stack.poll(lambda: self.stack.get('/health').json()['slots']['busy'] == 0, 5,
                   what='the page slot to be given back')
        r = self.stack.get('/extract', {'url': self.stack.fixture_url('/simple.html'),
                                        'engine': 'fetch'})
        self.assertEqual(r.status, 200, r)

    def test_invalid_json(self):
        self.assertError(self.batch('{"requests": ['), 400, 'invalid_json', 'malformed')

    def test_empty_list(self):
        self.assertError(self.batch({'requests': []}), 400, 'invalid_option', 'requests')

    def test_no_items(self):
        self.assertError(self.batch({}), 400, 'invalid_option', 'requests')

    def test_too_many_items(self):
        urls = [self.url('/simple.html')] * (MAX_ITEMS + 1)
        self.assertError(self.batch({'route': 'extract', 'urls': urls}), 400, 'invalid_option',
                         'batch_max_items')

    def test_unknown_route(self):
        r = self.batch({'requests': [{'route': 'pdf', 'url': self.url('/simple.html')},
                                     {'route': 'print', 'url': self.url('/simple.html')}]})
        self.assertError(r, 400, 'invalid_option', 'requests[1].route')

    def test_unknown_top_level_key(self):
        r = self.batch({'requests': [{'route': 'pdf', 'url': self.url('/simple.html')}],
                        'parallel': 4})
        self.assertError(r, 400, 'unknown_option', 'parallel')

    def test_get_is_not_allowed(self):
        self.assertError(self.stack.get('/batch'), 405, 'method_not_allowed', 'POST')


if __name__ == '__main__':
    stack.main()
