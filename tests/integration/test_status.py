#!/usr/bin/env python3
"""test_status.py — /status (PHP-FPM style) and /metrics (Prometheus) describe
the whole pool from the shared scoreboard, whichever worker answers.
"""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def metric(text, name):
    m = re.search(r'(?m)^%s\{pool="default"\} (\d+)$' % re.escape(name), text)
    return int(m.group(1)) if m else None


class Status(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=1)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def status_json(self, full=False):
        r = self.stack.get('/status', {'json': '', 'full': ''} if full else {'json': ''})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/json'))
        return r.json()

    def test_json_covers_every_worker_of_the_pool(self):
        # Both workers report once a second; wait for both to be ready.
        stack.poll(lambda: self.status_json()['workers_ready'] == 2, 30,
                   what='two ready workers in /status')
        doc = self.status_json(full=True)
        self.assertEqual(doc['pool'], 'default')
        self.assertEqual(doc['workers'], 2)
        self.assertEqual(doc['slots_total'], 2)
        self.assertEqual(doc['browsers_alive'], 2)
        pids = sorted(p['pid'] for p in doc['processes'])
        self.assertEqual(pids, sorted(self.stack.workers()))
        for p in doc['processes']:
            self.assertEqual(p['state'], 'ready')

    def test_text_format_and_counters_follow_requests(self):
        before = self.status_json()['accepted_requests']
        for i in range(3):
            self.assertEqual(self.stack.pdf('/simple.html?n=%d' % i).status, 200)
        stack.poll(lambda: self.status_json()['accepted_requests'] >= before + 3, 10,
                   what='three more accepted requests')
        r = self.stack.get('/status')
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('text/plain'))
        self.assertRegex(r.text, r'(?m)^pool:\s+default$')
        self.assertRegex(r.text, r'(?m)^workers:\s+2$')

    def test_metrics_are_prometheus_text_with_the_prefix(self):
        r = self.stack.get('/metrics')
        self.assertEqual(r.status, 200, r)
        self.assertIn('# TYPE rendercgi_requests_total counter', r.text)
        self.assertEqual(metric(r.text, 'rendercgi_workers'), 2)
        n = metric(r.text, 'rendercgi_requests_total')
        self.assertIsNotNone(n)
        self.assertEqual(self.stack.pdf('/simple.html?m=1').status, 200)
        stack.poll(lambda: metric(self.stack.get('/metrics').text,
                                  'rendercgi_requests_total') > n, 10, what='counter grows')

    def test_openmetrics_ends_with_eof(self):
        r = self.stack.get('/status', {'openmetrics': ''})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/openmetrics-text'))
        self.assertTrue(r.text.rstrip().endswith('# EOF'))
        self.assertIn('# TYPE rendercgi_requests counter', r.text)


if __name__ == '__main__':
    stack.main()
