#!/usr/bin/env python3
"""test_overload.py — a full worker says so at once: 503 overloaded with
Retry-After, the signal nginx's fastcgi_next_upstream http_503 acts on.

One worker, one browser, one page slot and a queue of one: of three
concurrent slow renders, one runs, one waits, and at least one is refused.
Nothing else may go wrong.
"""

import os
import sys
import threading
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class Overload(unittest.TestCase):

    def test_full_queue_answers_503_with_retry_after(self):
        with stack.Stack(workers=1, browsers=1, pages_per_browser=1, queue_max=1) as s:
            results = [None] * 3
            start = threading.Barrier(3)

            def render(i):
                start.wait()
                try:
                    results[i] = s.pdf('/slow?ms=3000&n=%d' % i)
                except Exception as e:      # reported below
                    results[i] = e
            threads = [threading.Thread(target=render, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertFalse(any(t.is_alive() for t in threads), 'a request hung')

            statuses = []
            for r in results:
                self.assertIsInstance(r, stack.Response, r)
                statuses.append(r.status)
                if r.status == 503:
                    self.assertEqual(r.json()['error']['code'], 'overloaded', r)
                    retry = r.header('retry-after')
                    self.assertTrue(retry and retry.strip().isdigit(), r.headers)
                else:
                    self.assertEqual(r.status, 200, r)
                    self.assertIn('RCGISLOWMARK', s.pdf_text(r.body))
            self.assertIn(503, statuses, statuses)
            self.assertIn(200, statuses, statuses)


if __name__ == '__main__':
    stack.main()
