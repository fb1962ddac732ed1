#!/usr/bin/env python3
"""test_recycle.py — browsers are recycled between requests without failing one:
after browser_max_pages pages, and above browser_max_memory (PSS).

One worker, one browser, one slot, so every request lands on the browser
being recycled: each must still succeed (it waits for the replacement).
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def restarts(s):
    return s.get('/health').json()['browsers']['restarts']


class Recycle(unittest.TestCase):

    def test_browser_is_replaced_after_max_pages_and_no_request_fails(self):
        with stack.Stack(workers=1, browsers=1, pages_per_browser=1,
                         extra={'browser_max_pages': 3}) as s:
            mains = set()
            for i in range(7):
                r = s.pdf('/simple.html?n=%d' % i)
                self.assertEqual(r.status, 200, r)
                self.assertIn('RCGISIMPLEMARK', s.pdf_text(r.body))
                mains.update(s.chromium_mains())
            # Pages 1-3 on the first browser, 4-6 on the second, 7 on a third.
            stack.poll(lambda: restarts(s) >= 2, 30, what='two recycles in /health')
            self.assertGreaterEqual(len(mains), 3, mains)
            self.assertEqual(s.get('/health').json()['requests']['failed'], 0)

    def test_browser_above_max_memory_is_replaced_and_no_request_fails(self):
        # Any real Chromium is above 1 MiB of PSS: it is recycled at the
        # first memory check, and again after every launch.
        with stack.Stack(workers=1, browsers=1, pages_per_browser=1,
                         extra={'browser_max_memory': '1M', 'browser_max_pages': 0}) as s:
            first = restarts(s)

            def recycled_while_serving():
                r = s.pdf('/simple.html')
                self.assertEqual(r.status, 200, r)
                return restarts(s) > first
            stack.poll(recycled_while_serving, 60, interval=0.5,
                       what='a recycle above browser_max_memory')
            self.assertEqual(s.get('/health').json()['requests']['failed'], 0)


if __name__ == '__main__':
    stack.main()
