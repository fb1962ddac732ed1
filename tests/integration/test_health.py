#!/usr/bin/env python3
"""test_health.py — GET /health answers 200 JSON with every field of
API.md §3, with values that agree with the config and with reality.

One worker, so every request reaches the same process and the counters can
be compared across requests; 2 browsers × 3 pages and queue_max 7 so that
capacity and queue size are distinguishable from defaults.
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

BROWSERS = 2
PAGES = 3
QUEUE = 7


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class Health(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=BROWSERS, pages_per_browser=PAGES,
                                queue_max=QUEUE)
        cls.stack.start()
        # The first 200 may come while the second browser is still starting.
        stack.poll(lambda: cls.stack.get('/health').json()['browsers']['alive'] == BROWSERS,
                   30, interval=0.2, what='both browsers alive')

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def health(self):
        r = self.stack.get('/health')
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/json'), r)
        self.assertTrue(r.header('x-request-id'), r.headers)
        return r.json()

    def test_every_field_is_there_with_sane_values(self):
        h = self.health()
        self.assertIn(h['status'], ('ok', 'degraded'))
        self.assertEqual(h['status'], 'ok', h)
        self.assertTrue(is_int(h['pid']), h)
        self.assertIn(h['pid'], self.stack.workers(), 'pid is not a worker of the spawner')
        self.assertIsInstance(h['version'], str)
        self.assertTrue(h['version'])
        self.assertIsInstance(h['uptime_s'], (int, float))
        self.assertGreaterEqual(h['uptime_s'], 0)
        self.assertLess(h['uptime_s'], 3600)

        b = h['browsers']
        self.assertEqual(b['configured'], BROWSERS, h)
        self.assertEqual(b['alive'], b['configured'], h)
        self.assertTrue(is_int(b['restarts']) and b['restarts'] >= 0, h)

        s = h['slots']
        self.assertEqual(s['capacity'], BROWSERS * PAGES, h)
        self.assertTrue(is_int(s['busy']) and 0 <= s['busy'] <= s['capacity'], h)

        q = h['queue']
        self.assertTrue(is_int(q['depth']) and 0 <= q['depth'] <= q['max'], h)
        self.assertEqual(q['max'], QUEUE, h)

        rq = h['requests']
        self.assertTrue(is_int(rq['total']) and rq['total'] >= 0, h)
        self.assertTrue(is_int(rq['failed']) and 0 <= rq['failed'] <= rq['total'], h)

        self.assertTrue(is_int(h['rss_bytes']), h)
        self.assertGreater(h['rss_bytes'], 1 << 20, h)
        self.assertIn('chromium', h)
        self.assertTrue(h['chromium'], h)

    def test_browser_count_matches_processes(self):
        h = self.health()
        mains = [p for p, ppid in self.stack.chromium_mains().items() if ppid == h['pid']]
        self.assertEqual(len(mains), h['browsers']['alive'], (h, mains))

    def test_requests_are_counted(self):
        before = self.health()['requests']
        r = self.stack.pdf('/simple.html')
        self.assertEqual(r.status, 200, r)
        bad = self.stack.get('/pdf')
        self.assertEqual(bad.status, 400, bad)
        after = self.health()['requests']
        self.assertGreaterEqual(after['total'], before['total'] + 2, (before, after))
        self.assertGreaterEqual(after['failed'], before['failed'], (before, after))
        self.assertLessEqual(after['failed'], after['total'], after)

    def test_head_answers_without_a_body(self):
        r = self.stack.request('HEAD', '/health')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b'')


if __name__ == '__main__':
    stack.main()
