#!/usr/bin/env python3
"""test_crash.py — a crash is contained one level up (DESIGN.md decision 1).

kill -9 of a worker: the spawner starts a new one, the dead worker's
Chromium processes all go away, the pool keeps rendering.
kill -9 of a Chromium main process mid-render: that request fails with 502
render_failed, the worker replaces the browser and keeps its own pid, and
the browser's zygote and renderers go away too.
Each test has its own stack; teardown then proves nothing was orphaned.
"""

import os
import signal
import sys
import threading
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def render_until_ok(s, deadline_s=30):
    """Poll /pdf of simple.html until it answers 200 (a browser may be restarting)."""
    def attempt():
        r = s.pdf('/simple.html')
        return r if r.status == 200 else None
    return stack.poll(attempt, deadline_s, interval=0.3, what='a successful /pdf')


class WorkerCrash(unittest.TestCase):

    def test_killed_worker_is_replaced_and_its_browsers_die(self):
        with stack.Stack(workers=2, browsers=1, pages_per_browser=2) as s:
            before = stack.poll(lambda: s.workers() if len(s.workers()) == 2 else None, 30,
                                what='two workers')
            victim = before[0]
            # Everything the worker started, captured before it dies.
            tree = stack.poll(lambda: stack.descendants(victim) or None, 30,
                              what='the worker to start Chromium')
            chromium = {p: t for p, t in tree.items()
                        if 'chrom' in os.path.basename((stack.proc_cmdline(p) or [''])[0])}
            self.assertTrue(chromium, 'worker %d has no Chromium children: %r' % (victim, tree))

            os.kill(victim, signal.SIGKILL)

            left = stack.wait_gone(tree, 10)
            self.assertEqual(left, {}, 'processes of the killed worker still alive after 10 s: %s'
                             % {p: stack.proc_cmdline(p)[:2] for p in left})
            after = stack.poll(lambda: (lambda w: w if len(w) == 2 and victim not in w else None)(
                s.workers()), 15, what='a replacement worker')
            new = set(after) - set(before)
            self.assertEqual(len(new), 1, (before, after))
            render_until_ok(s)


class BrowserCrash(unittest.TestCase):

    def test_killed_browser_fails_its_request_and_is_replaced(self):
        with stack.Stack(workers=1, browsers=1, pages_per_browser=1) as s:
            worker = stack.poll(lambda: s.workers()[0] if len(s.workers()) == 1 else None, 30,
                                what='the worker')
            mains = stack.poll(lambda: {p: pp for p, pp in s.chromium_mains().items()
                                        if pp == worker} or None, 30, what='its Chromium')
            self.assertEqual(len(mains), 1, mains)
            main = next(iter(mains))
            tree = stack.descendants(main)
            tree[main] = stack.proc_stat(main)[2]

            s.fixture_requests(clear=True)
            result = {}

            def slow_render():
                try:
                    result['r'] = s.pdf('/slow?ms=4000')
                except Exception as e:      # reported by the main thread
                    result['e'] = e
            t = threading.Thread(target=slow_render)
            t.start()
            try:
                # Wait until the browser is really loading the page.
                stack.poll(lambda: any(e['path'].startswith('/slow')
                                       for e in s.fixture_requests()), 20,
                           what='the browser to request /slow')
                os.kill(main, signal.SIGKILL)
            finally:
                t.join(60)
            self.assertFalse(t.is_alive(), 'the in-flight request did not finish within 60 s')
            self.assertNotIn('e', result, result.get('e'))
            r = result['r']
            self.assertEqual(r.status, 502, r)
            self.assertEqual(r.json()['error']['code'], 'render_failed', r)

            left = stack.wait_gone(tree, 10)
            self.assertEqual(left, {}, 'processes of the killed browser still alive after 10 s: %s'
                             % {p: stack.proc_cmdline(p)[:2] for p in left})

            render_until_ok(s)
            self.assertEqual(s.workers(), [worker], 'the worker itself must survive')
            self.assertNotIn(main, s.chromium_mains())


if __name__ == '__main__':
    stack.main()
