#!/usr/bin/env python3
"""test_lifecycle.py — the real worker under the real spawner, at the edges of
its life: a Chromium that cannot start leaves the worker up, saying why; and
SIGTERM to the spawner with 10 renders in flight lets all 10 finish, then
leaves nothing running.
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


class Lifecycle(unittest.TestCase):

    def test_a_bad_chromium_path_gives_health_503_naming_it_and_render_503_starting(self):
        bad = '/nonexistent/chromium-for-rendercgi-test'
        with stack.Stack(workers=1, extra={'chromium': bad}, wait_browsers=False,
                         ready_statuses=(200, 503)) as s:
            def down():
                r = s.get('/health')
                return r.status == 503 and r.json().get('status') == 'down' and \
                    bad in r.json().get('error', '')
            stack.poll(down, 30, what='/health 503 down naming the chromium path')
            r = s.pdf('/simple.html')
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json()['error']['code'], 'starting')
            self.assertIn(bad, r.json()['error']['message'])
            self.assertTrue(r.header('retry-after'))
            # The worker stays up: the same pid answers again.
            pid = s.get('/health').json()['pid']
            self.assertEqual(s.get('/health').json()['pid'], pid)

    def test_sigterm_with_ten_renders_in_flight_finishes_them_all_then_stops(self):
        # shutdown_timeout is 10 s (stack.py): the renders take 2.5 s.
        s = stack.Stack(workers=2, browsers=1, pages_per_browser=4, queue_max=8)
        s.start()
        try:
            results = [None] * 10
            go = threading.Barrier(11)

            def render(i):
                go.wait()
                try:
                    results[i] = s.pdf('/slow?ms=2500&i=%d' % i)
                except Exception as e:           # reported below
                    results[i] = e
            threads = [threading.Thread(target=render, args=(i,)) for i in range(10)]
            for t in threads:
                t.start()
            go.wait()
            # All ten reached the fixture server: they are in flight.
            # The 8 page slots are rendering (the fixture server saw their
            # requests) and the other 2 wait in the queues.
            stack.poll(lambda: len([r for r in s.fixture_requests()
                                    if '/slow' in str(r)]) >= 8, 30,
                       what='eight renders at the fixture server')
            s.spawner.send_signal(signal.SIGTERM)
            for t in threads:
                t.join(120)
            statuses = [getattr(r, 'status', repr(r)) for r in results]
            self.assertEqual(statuses, [200] * 10, statuses)
            for r in results:
                self.assertIn('RCGISLOWMARK', s.pdf_text(r.body))
            deadline = time.monotonic() + 60
            while s.spawner.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(s.spawner.poll(), 0, 'spawner did not exit 0 after SIGTERM')
            self.assertEqual(s.chromium_procs(), [])
        finally:
            s.close()   # fails the test if any process of the stack is left


if __name__ == '__main__':
    stack.main()
