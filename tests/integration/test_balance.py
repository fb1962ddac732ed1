#!/usr/bin/env python3
"""test_balance.py — a burst spreads over the pool's workers: 20 concurrent
requests on 2 workers of 4 page slots and a queue of 16 each fit (40), so
none may be refused, however the kernel hands out the connections.
"""

import os
import sys
import threading
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class Balance(unittest.TestCase):

    def test_a_burst_of_20_is_not_refused_by_two_workers_of_4_plus_16(self):
        with stack.Stack(workers=2, browsers=1, pages_per_browser=4, queue_max=16) as s:
            for burst in range(3):
                results = [None] * 20
                start = threading.Barrier(20)

                def render(i):
                    start.wait()
                    try:
                        results[i] = s.pdf('/simple.html?b=%d&i=%d' % (burst, i))
                    except Exception as e:       # reported below
                        results[i] = e
                threads = [threading.Thread(target=render, args=(i,)) for i in range(20)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(180)
                statuses = [getattr(r, 'status', repr(r)) for r in results]
                self.assertEqual(statuses, [200] * 20, 'burst %d: %r' % (burst, statuses))


if __name__ == '__main__':
    stack.main()
