#!/usr/bin/env python3
"""test_reload.py — SIGHUP to the spawner with the real worker and Chromium:
every worker is replaced, one at a time, while a steady stream of renders
goes on, and not one of them fails.
"""

import os
import signal
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class Reload(unittest.TestCase):

    def test_sighup_replaces_every_worker_without_failing_a_request(self):
        with stack.Stack(workers=2, browsers=1, pages_per_browser=2) as s:
            old = set(s.workers())
            self.assertEqual(len(old), 2)
            results, stop = [], threading.Event()

            def stream():
                i = 0
                while not stop.is_set():
                    try:
                        r = s.pdf('/simple.html?r=%d' % i)
                        results.append(r.status)
                    except Exception as e:     # counted as a failure below
                        results.append(repr(e))
                    i += 1
            threads = [threading.Thread(target=stream) for _ in range(2)]
            for t in threads:
                t.start()
            try:
                stack.poll(lambda: len(results) >= 4, 60, what='the stream running')
                s.spawner.send_signal(signal.SIGHUP)
                stack.poll(lambda: len(s.workers()) == 2 and not (set(s.workers()) & old), 120,
                           interval=0.2, what='both workers replaced')
                n = len(results)
                stack.poll(lambda: len(results) >= n + 4, 60, what='the stream after reload')
            finally:
                stop.set()
                for t in threads:
                    t.join(120)
            failed = [r for r in results if r != 200]
            self.assertEqual(failed, [], '%d of %d renders failed' % (len(failed), len(results)))
            self.assertEqual(s.get('/health').status, 200)


if __name__ == '__main__':
    stack.main()
