#!/usr/bin/env python3
"""test_isolation.py — nothing a page leaves behind reaches the next request.

One worker, one browser, one page slot: every request uses the same browser
and, if the implementation reuses it, the same page. isolation-a.html sets a
cookie, localStorage, sessionStorage and pushes a history entry;
isolation-b.html, on the same host, prints what it can see.
isolation-c.html leaves what isolation-a.html does not (window.name,
IndexedDB, Cache Storage, an HTTP cache entry, a permission request, writes
from pagehide/unload handlers and a timer); isolation-d.html must then print
what it prints on a fresh page. perm-ask.html asks for permissions nobody can
grant here: answered "denied" at once, with no trace for the next request.
"""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def report(text):
    """The four lines isolation-b.html prints, as a dict."""
    flat = ' '.join(text.split())
    out = {}
    for key in ('cookie', 'storage', 'session'):
        m = re.search(r'%s=\[([^\]]*)\]' % key, flat)
        out[key] = m.group(1).strip() if m else None
    m = re.search(r'history=(\d+)', flat)
    out['history'] = int(m.group(1)) if m else None
    return out


class Isolation(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=1)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def render(self, page):
        r = self.stack.pdf(page)
        self.assertEqual(r.status, 200, r)
        return self.stack.pdf_text(r.body)

    def assertClean(self, text):
        self.assertIn('RCGIISOLATIONB', text)
        rep = report(text)
        self.assertEqual(rep, {'cookie': '', 'storage': '', 'session': '', 'history': 1},
                         'state leaked into a new request:\n' + text)
        for leak in ('RCGICOOKIELEAK', 'RCGISTORAGELEAK', 'RCGISESSIONLEAK', 'RCGIPROBE'):
            self.assertNotIn(leak, text)

    def test_page_b_sees_nothing_of_page_a(self):
        self.assertIn('RCGIISOLATIONA', self.render('/isolation-a.html'))
        self.assertClean(self.render('/isolation-b.html'))

    def test_report_page_does_show_state_when_there_is_some(self):
        # Control: the report is able to show a cookie, so the empty report
        # above means "no cookie", not "the page cannot see cookies".
        text = self.render('/set-cookie?name=rcgi_probe&value=RCGIPROBE&next=/isolation-b.html')
        self.assertIn('rcgi_probe=RCGIPROBE', ' '.join(text.split()))
        # And that cookie is gone again for the next request.
        self.assertClean(self.render('/isolation-b.html'))

    def report_d(self, query=''):
        """isolation-d.html's report, whitespace-normalised."""
        r = self.stack.pdf('/isolation-d.html' + query, wait_for_expression='window.rcgiReported')
        self.assertEqual(r.status, 200, r)
        flat = ' '.join(self.stack.pdf_text(r.body).split())
        self.assertIn('RCGIISOLATIOND', flat)
        m = re.search(r'name=\[.*storage=\[[^\]]*\]', flat)
        self.assertIsNotNone(m, 'no report in:\n' + flat)
        return m.group(0)

    def test_page_d_sees_nothing_of_page_c(self):
        fresh = self.report_d()
        for empty in ('name=[]', 'idb=[]', 'caches=[]', 'httpcache=[miss]', 'referrer=[]',
                      'cookie=[]', 'storage=[]'):
            self.assertIn(empty, fresh)
        r = self.stack.pdf('/isolation-c.html', wait_for_expression='window.rcgiWritten')
        self.assertEqual(r.status, 200, r)
        written = ' '.join(self.stack.pdf_text(r.body).split())
        # Control: page C did write everything it was meant to.
        self.assertRegex(written, r'written:(?=.* idb)(?=.* cache)(?=.* http)', written)
        self.assertEqual(self.report_d(), fresh)
        # Once more: whatever C's leaving handlers and timer did, they did
        # before the wipe, not on a later request.
        self.assertEqual(self.report_d(), fresh)

    def test_permission_requests_are_answered_and_leave_nothing(self):
        # Unanswered prompts would count towards Chromium's embargo of the
        # permission for the origin (after two, "denied" instead of
        # "prompt"); requests are denied at once instead, every time.
        fresh = self.report_d()
        for _ in range(3):
            r = self.stack.pdf('/perm-ask.html', wait_for_expression='window.rcgiAsked',
                               timeout=10000)
            self.assertEqual(r.status, 200, r)
            asked = ' '.join(self.stack.pdf_text(r.body).split())
            self.assertIn('asked: notifications=denied geolocation=error-1', asked)
        self.assertEqual(self.report_d(), fresh)
        self.assertIn('notifications=[denied]', fresh)

    def test_report_d_does_show_state_when_there_is_some(self):
        # Control: page D can see each kind of state it reports as empty.
        seen = self.report_d('?prep=1')
        for state in ('name=[RCGINAMELEAK]', 'idb=[rcgi_iso]', 'caches=[rcgi_iso]',
                      'httpcache=[hit]', 'RCGILATECOOKIE', 'RCGILATESTORAGE'):
            self.assertIn(state, seen)
        self.assertNotIn('RCGI', self.report_d())


if __name__ == '__main__':
    stack.main()
