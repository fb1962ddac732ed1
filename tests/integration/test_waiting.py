#!/usr/bin/env python3
"""test_waiting.py — when a render takes its picture (API.md §3): wait_until
load | domcontentloaded | networkidle, wait_for (selector),
wait_for_expression, wait_ms, scroll_page (lazy-loaded images appear), and
timeout, which bounds the whole request and answers 504 timeout naming what
was still awaited: the lifecycle event, the selector, or the URLs of the
requests still pending. After a timeout the page is discarded and a healthy
browser is reused.

Every wait is observed in the PDF (markers the fixture pages write when
their event has happened), in the fixture server's request log, and in the
time the request took. Each positive test has a control without the option,
so a marker cannot be present by accident.
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def flat(text):
    return ' '.join(text.split())


class Waiting(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=2,
                                request_timeout=10000)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def timed(self, page, route='/pdf', **options):
        t0 = time.monotonic()
        r = self.stack.pdf(page, route=route, **options)
        return r, time.monotonic() - t0

    def text(self, r):
        return flat(stack.pdftotext(self.assertPdf(r)))

    def seen(self, needle):
        return [e['path'] for e in self.stack.fixture_requests() if needle in e['path']]

    # -- lifecycle events

    def test_load_is_the_default_and_waits_for_images(self):
        r, took = self.timed('/wait-load.html')
        text = self.text(r)
        self.assertIn('RCGILOADDONE', text)
        self.assertGreaterEqual(took, 2.8, 'load came after a 3 s image, yet %.1f s' % took)

    def test_wait_until_load(self):
        self.assertIn('RCGILOADDONE', self.text(self.timed('/wait-load.html',
                                                           wait_until='load')[0]))

    def test_wait_until_domcontentloaded_does_not_wait_for_images(self):
        r, took = self.timed('/wait-load.html', wait_until='domcontentloaded')
        text = self.text(r)
        self.assertIn('RCGIDOMREADY', text)
        self.assertNotIn('RCGILOADDONE', text)
        self.assertLess(took, 2.8, 'domcontentloaded waited for the 3 s image (%.1f s)' % took)

    def test_wait_until_networkidle_waits_for_late_requests(self):
        r, took = self.timed('/wait-idle.html', wait_until='networkidle')
        self.assertIn('RCGIIDLEDONE', self.text(r))
        self.assertGreaterEqual(took, 1.5)

    def test_load_does_not_wait_for_requests_after_load(self):
        # Control for networkidle: the fetch starts at load and takes 1.5 s.
        self.assertNotIn('RCGIIDLEDONE', self.text(self.timed('/wait-idle.html')[0]))

    # -- wait_for, wait_for_expression, wait_ms

    def test_without_waiting_late_content_is_missing(self):
        text = self.text(self.timed('/wait-late.html')[0])
        self.assertIn('RCGILATEPAGE', text)
        self.assertNotIn('RCGILATEMARK', text)

    def test_wait_for_selector(self):
        r, took = self.timed('/wait-late.html', wait_for='#late')
        self.assertIn('RCGILATEMARK', self.text(r))
        self.assertGreaterEqual(took, 1.4)

    def test_wait_for_selector_already_there_returns_at_once(self):
        r, took = self.timed('/simple.html', wait_for='h1')
        self.assertIn('RCGISIMPLEMARK', self.text(r))
        self.assertLess(took, 5)

    def test_wait_for_selector_timeout_names_the_selector(self):
        r, took = self.timed('/wait-late.html', wait_for='#never-there', timeout=2500)
        self.assertError(r, 504, 'timeout', all_of=['#never-there'])
        self.assertLess(took, 7, 'a 2500 ms timeout took %.1f s' % took)

    def test_wait_for_expression(self):
        r, took = self.timed('/wait-late.html', wait_for_expression='window.rcgiReady === true')
        self.assertIn('RCGILATEMARK', self.text(r))
        self.assertGreaterEqual(took, 1.4)

    def test_wait_for_expression_timeout(self):
        r, took = self.timed('/wait-late.html', wait_for_expression='window.rcgiNever === 42',
                             timeout=2500)
        self.assertError(r, 504, 'timeout', any_of=['window.rcgiNever', 'wait_for_expression'])
        self.assertLess(took, 7)

    def test_wait_for_on_screenshot(self):
        r = self.stack.pdf('/wait-late.html', route='/screenshot', wait_for='#late',
                           width=200, height=100)
        self.assertImage(r, 'png', 200, 100)

    def test_wait_ms_delays_the_render(self):
        r, took = self.timed('/wait-late.html?ms=800', wait_ms=2500)
        self.assertIn('RCGILATEMARK', self.text(r))
        self.assertGreaterEqual(took, 2.5, 'wait_ms=2500 yet %.1f s' % took)

    def test_wait_ms_is_cut_short_by_timeout(self):
        r, took = self.timed('/simple.html', wait_ms=15000, timeout=2000)
        # Either the render gives up (504) or it renders when the budget is
        # spent; it never keeps the client 15 s.
        self.assertIn(r.status, (200, 504), r)
        self.assertLess(took, 7, 'wait_ms=15000 with timeout=2000 took %.1f s' % took)

    # -- scroll_page

    def test_without_scroll_page_lazy_images_stay_unloaded(self):
        self.stack.fixture_requests(clear=True)
        text = self.text(self.timed('/lazy.html')[0])
        self.assertIn('RCGILAZY1', text)
        self.assertNotIn('RCGILAZY3', text)
        self.assertEqual(self.seen('lazy=3'), [])

    def test_scroll_page_loads_lazy_images(self):
        self.stack.fixture_requests(clear=True)
        text = self.text(self.timed('/lazy.html', scroll_page=True)[0])
        for n in (1, 2, 3):
            self.assertIn('RCGILAZY%d' % n, text)
            self.assertTrue(self.seen('lazy=%d' % n), 'image %d never requested' % n)
        self.assertTrue(self.seen('native=1'), 'the loading=lazy image was never requested')

    def test_scroll_page_on_screenshot(self):
        self.stack.fixture_requests(clear=True)
        r = self.stack.pdf('/lazy.html', route='/screenshot', scroll_page=True, full_page=True,
                           width=100, height=200, type='jpeg')
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.seen('lazy=3'), 'scroll_page did not reach the last section')

    # -- timeout

    def test_timeout_bounds_a_slow_document(self):
        r, took = self.timed('/slow?ms=15000', timeout=1500)
        self.assertError(r, 504, 'timeout')
        self.assertLess(took, 5, 'a 1500 ms timeout took %.1f s' % took)

    def test_timeout_names_the_lifecycle_event(self):
        r, took = self.timed('/hang-img.html', timeout=2000)
        self.assertError(r, 504, 'timeout', all_of=['load'])
        self.assertLess(took, 6)

    def test_timeout_names_domcontentloaded(self):
        # /partial commits but never ends: the parser never finishes.
        r, _ = self.timed('/partial', timeout=2000, wait_until='domcontentloaded')
        self.assertError(r, 504, 'timeout', any_of=['domcontentloaded', 'DOMContentLoaded'])

    def test_timeout_names_pending_requests_for_networkidle(self):
        r, took = self.timed('/hang-fetch.html', wait_until='networkidle', timeout=2500)
        self.assertError(r, 504, 'timeout', all_of=['rcgipending'])
        self.assertLess(took, 7)

    def test_timeout_after_a_timeout_the_browser_is_reused(self):
        mains = self.browsers()
        self.assertEqual(len(mains), 2, 'expected one browser per worker: %r' % mains)
        restarts = self.restarts()
        for page in ('/hang-img.html', '/hang-fetch.html'):
            r, _ = self.timed(page, timeout=1500, wait_until='networkidle')
            self.assertError(r, 504, 'timeout')
        # Both slots of both workers can render right away.
        for _ in range(4):
            self.assertIn('RCGISIMPLEMARK', self.text(self.timed('/simple.html')[0]))
        self.assertEqual(self.browsers(), mains,
                         'a healthy browser was replaced after a timeout')
        self.assertEqual(self.restarts(), restarts)

    def browsers(self):
        """Pids of the Chromium main processes: the workers' descendants that
        speak CDP on the pipe and are no helper (--type=...)."""
        out = set()
        for w in self.stack.workers():
            for p in stack.descendants(w):
                argv = stack.proc_cmdline(p)
                if ('--remote-debugging-pipe' in argv
                        and not any(a.startswith('--type=') for a in argv)):
                    out.add(p)
        return out

    def restarts(self):
        # /health reaches one worker at a time: sum what each reports until
        # both pids were seen.
        seen = {}

        def both():
            body = self.stack.get('/health').json()
            seen[body['pid']] = body['browsers']['restarts']
            return len(seen) >= 2
        stack.poll(both, 20, interval=0.05, what='/health from both workers')
        return sum(seen.values())

    def test_timeout_default_is_the_configured_request_timeout(self):
        # request_timeout = 10000 in this stack; a larger timeout is capped.
        r, took = self.timed('/hang', timeout=600000)
        self.assertError(r, 504, 'timeout')
        self.assertGreaterEqual(took, 9.5)
        self.assertLess(took, 15)


if __name__ == '__main__':
    stack.main()
