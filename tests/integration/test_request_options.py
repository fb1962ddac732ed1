#!/usr/bin/env python3
"""test_request_options.py — the options that shape the request to the target
and the page's environment (API.md §3): headers, cookies, user_agent,
javascript=false, width/height, and fail_on_status (502 target_http_status
with the target's status in the message and an X-Target-Status header).

What the target received is read from the fixture server's own log
(/requests: headers and cookies as it saw them) and from /echo-headers
rendered into the PDF; what the page saw, from probe.html. None of these
settings may outlive its request.
"""

import json
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def flat(text):
    return ' '.join(text.split())


class RequestOptions(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One worker, one page: a setting that leaked would reach the next
        # request for sure.
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=1)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def text(self, page, **options):
        r = self.stack.pdf(page, **options)
        return flat(stack.pdftotext(self.assertPdf(r)))

    def last_request(self, prefix):
        """The fixture's record of the last request whose path starts with 'prefix'."""
        hits = [e for e in self.stack.fixture_requests() if e['path'].startswith(prefix)]
        self.assertTrue(hits, 'the fixture server never saw %s' % prefix)
        return hits[-1]

    # -- headers

    def test_headers_reach_the_target(self):
        headers = {'X-Rcgi-Test': 'hello', 'X-Rcgi-Other': 'two words'}
        text = self.text('/echo-headers?t=hdr', headers=json.dumps(headers))
        self.assertIn('X-Rcgi-Test: hello', text)
        seen = self.last_request('/echo-headers?t=hdr')['headers']
        self.assertEqual(seen.get('x-rcgi-test'), 'hello', seen)
        self.assertEqual(seen.get('x-rcgi-other'), 'two words', seen)

    def test_headers_do_not_outlive_their_request(self):
        self.text('/echo-headers?t=hdr1', headers=json.dumps({'X-Rcgi-Leak': 'RCGIHDRLEAK'}))
        text = self.text('/echo-headers?t=hdr2')
        self.assertNotIn('RCGIHDRLEAK', text)
        self.assertNotIn('x-rcgi-leak', self.last_request('/echo-headers?t=hdr2')['headers'])

    # -- cookies

    def test_cookies_reach_the_target_and_the_page(self):
        cookies = [{'name': 'rc_one', 'value': 'V1'},
                   {'name': 'rc_two', 'value': 'V2', 'path': '/'}]
        text = self.text('/echo-headers?t=ck', cookies=json.dumps(cookies))
        self.assertIn('rc_one=V1', text)
        self.assertIn('rc_two=V2', text)
        cookie = self.last_request('/echo-headers?t=ck')['cookie']
        self.assertIn('rc_one=V1', cookie)
        self.assertIn('rc_two=V2', cookie)
        # The page sees them too (they are not httpOnly).
        probe = self.text('/probe.html', cookies=json.dumps(cookies))
        self.assertIn('rc_one=V1', probe)

    def test_cookie_with_the_url_host_as_domain(self):
        cookies = [{'name': 'rc_dom', 'value': 'D', 'domain': '127.0.0.1'}]
        self.text('/echo-headers?t=dom', cookies=json.dumps(cookies))
        self.assertIn('rc_dom=D', self.last_request('/echo-headers?t=dom')['cookie'])

    def test_cookie_for_another_domain_is_not_sent(self):
        cookies = [{'name': 'rc_other', 'value': 'X', 'domain': 'example.org'}]
        r = self.stack.pdf('/echo-headers?t=other', cookies=json.dumps(cookies))
        self.assertPdf(r)
        self.assertNotIn('rc_other', self.last_request('/echo-headers?t=other')['cookie'])

    def test_cookie_path_is_respected(self):
        cookies = [{'name': 'rc_path', 'value': 'P', 'path': '/elsewhere'}]
        self.text('/echo-headers?t=path', cookies=json.dumps(cookies))
        self.assertNotIn('rc_path', self.last_request('/echo-headers?t=path')['cookie'])

    def test_cookies_do_not_outlive_their_request(self):
        self.text('/echo-headers?t=ck1', cookies=json.dumps([{'name': 'rc_leak',
                                                               'value': 'RCGICKLEAK'}]))
        text = self.text('/echo-headers?t=ck2')
        self.assertNotIn('RCGICKLEAK', text)
        self.assertEqual(self.last_request('/echo-headers?t=ck2')['cookie'], '')

    # -- user agent

    def test_user_agent(self):
        ua = 'RcgiTestAgent/1.0 (integration)'
        text = self.text('/probe.html?t=ua', user_agent=ua)
        self.assertIn('ua=[%s]' % ua, text)
        self.assertEqual(self.last_request('/probe.html?t=ua')['user_agent'], ua)
        self.assertEqual(self.last_request('/probe.html?t=ua')['headers'].get('user-agent'), ua)

    def test_user_agent_does_not_outlive_its_request(self):
        self.text('/probe.html?t=ua1', user_agent='RcgiLeakAgent/9')
        self.text('/probe.html?t=ua2')
        self.assertNotIn('RcgiLeakAgent', self.last_request('/probe.html?t=ua2')['user_agent'])

    # -- javascript

    def test_javascript_runs_by_default(self):
        text = self.text('/probe.html')
        self.assertIn('RCGIPROBESTATIC', text)
        self.assertIn('RCGIPROBEJS', text)

    def test_javascript_false(self):
        text = self.text('/probe.html', javascript=False)
        self.assertIn('RCGIPROBESTATIC', text)
        self.assertNotIn('RCGIPROBEJS', text)

    def test_javascript_false_does_not_outlive_its_request(self):
        self.text('/probe.html', javascript=False)
        self.assertIn('RCGIPROBEJS', self.text('/probe.html'))

    # -- viewport

    def test_default_viewport(self):
        text = self.text('/probe.html')
        self.assertIn('vw=[1280]', text)
        self.assertIn('vh=[720]', text)

    def test_width_and_height(self):
        text = self.text('/probe.html', width=800, height=600)
        self.assertIn('vw=[800]', text)
        self.assertIn('vh=[600]', text)
        # And back to the default for the next request.
        self.assertIn('vw=[1280]', self.text('/probe.html'))

    def test_device_scale_factor_seen_by_the_page(self):
        r = self.stack.pdf('/probe.html', route='/screenshot', device_scale_factor=2,
                           width=100, height=100)
        self.assertImage(r, 'png', 200, 200)

    # -- fail_on_status

    def test_fail_on_status_is_on_by_default(self):
        for code in (404, 500, 503):
            with self.subTest(status=code):
                r = self.stack.pdf('/status/%d' % code)
                self.assertError(r, 502, 'target_http_status', all_of=[str(code)])
                self.assertEqual(r.header('x-target-status'), str(code), r.headers)

    def test_fail_on_status_follows_redirects(self):
        r = self.stack.pdf('/redirect?to=/status/410&code=302')
        self.assertError(r, 502, 'target_http_status', all_of=['410'])
        self.assertEqual(r.header('x-target-status'), '410')

    def test_fail_on_status_false_renders_the_error_page(self):
        self.assertIn('RCGISTATUSMARK', self.text('/status/404', fail_on_status=False))

    def test_status_below_400_is_fine(self):
        self.assertIn('RCGISTATUSMARK', self.text('/status/203'))

    def test_failed_subresource_does_not_fail_the_page(self):
        # fail_on_status is about the main document only.
        self.assertIn('RCGIBROKENIMG', self.text('/broken-img.html'))
        self.assertTrue(self.last_request('/status/404'))


if __name__ == '__main__':
    stack.main()
