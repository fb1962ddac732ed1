#!/usr/bin/env python3
"""test_extract.py — /extract with the browser engine: the rendered DOM as
text, markdown, html or json, a selector, hidden elements left out, and the
X-Render-Engine header.
"""

import json
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class Extract(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def extract(self, page, **options):
        # These tests are about the browser engine; engine=auto (the
        # default) serves extract.html with the fetch engine
        # (test_extract_fetch.py).
        params = {'url': self.stack.fixture_url(page), 'engine': 'browser'}
        params.update(options)
        return self.stack.get('/extract', params)

    def assertOk(self, r, ctype):
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith(ctype), r.headers)
        self.assertEqual(r.header('x-render-engine'), 'browser', r.headers)
        self.assertTrue(r.header('x-request-id'))

    def test_text_is_the_default_and_holds_the_rendered_content(self):
        r = self.extract('/extract.html')
        self.assertOk(r, 'text/plain')
        text = r.text
        self.assertIn('Extraction heading RCGIEXTRACTMARK', text)
        self.assertIn('Added by script RCGISCRIPTMARK', text)   # the rendered DOM
        self.assertNotIn('<p', text)
        self.assertNotIn('#', text.split('\n')[0])

    def test_hidden_elements_are_left_out(self):
        for fmt in ('text', 'markdown'):
            body = self.extract('/extract.html', format=fmt).text
            for marker in ('RCGIHIDDENCSS', 'RCGIHIDDENVIS', 'RCGIHIDDENATTR'):
                self.assertNotIn(marker, body, fmt)
            self.assertNotIn('display: none', body)

    def test_markdown_keeps_structure_and_absolute_links(self):
        r = self.extract('/extract.html', format='markdown')
        self.assertOk(r, 'text/markdown')
        md = r.text
        self.assertIn('# Extraction heading RCGIEXTRACTMARK', md)
        self.assertIn('*emphasis*', md)
        self.assertIn('**strong**', md)
        self.assertIn('[relative link](%s)' % self.stack.fixture_url('/relative/page.html'), md)
        self.assertRegex(md, r'(?m)^[-*] item one$')

    def test_html_is_the_rendered_dom(self):
        r = self.extract('/extract.html', format='html')
        self.assertOk(r, 'text/html')
        self.assertIn('RCGISCRIPTMARK', r.text)
        self.assertIn('<main>', r.text)

    def test_json_has_the_contract_fields(self):
        r = self.extract('/extract.html', format='json')
        self.assertOk(r, 'application/json')
        doc = r.json()
        for key in ('url', 'final_url', 'status', 'title', 'engine', 'content', 'links'):
            self.assertIn(key, doc)
        self.assertEqual(doc['status'], 200)
        self.assertEqual(doc['title'], 'Extract fixture')
        self.assertEqual(doc['engine'], 'browser')
        self.assertIn('RCGIEXTRACTMARK', doc['content'])
        self.assertIn(self.stack.fixture_url('/relative/page.html'), doc['links'])

    def test_selector_keeps_only_that_element(self):
        r = self.extract('/extract.html', selector='#box')
        self.assertOk(r, 'text/plain')
        self.assertIn('RCGIBOXMARK', r.text)
        self.assertNotIn('RCGIEXTRACTMARK', r.text)

    def test_selector_not_found_is_422(self):
        r = self.extract('/extract.html', selector='#nope')
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()['error']['code'], 'selector_not_found')

    def test_bad_selector_is_400(self):
        r = self.extract('/extract.html', selector='p[')
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()['error']['code'], 'invalid_option')

    def test_spa_content_inserted_by_script_is_extracted(self):
        r = self.extract('/spa.html', wait_for='#app-ready')
        self.assertOk(r, 'text/plain')
        self.assertIn('RCGISPAMARK', r.text)

    def test_an_empty_page_is_waited_for_until_its_script_fills_it(self):
        # No wait option: the body has no text at 'load', so the worker waits
        # (extract_content_wait) for the script that fills it 200 ms later.
        r = self.extract('/spa-empty.html')
        self.assertOk(r, 'text/plain')
        self.assertIn('Filled in by script RCGISPAEMPTYMARK', r.text)
        # The same through engine=auto: the fetched page needs JavaScript.
        r = self.stack.get('/extract', {'url': self.stack.fixture_url('/spa-empty.html')})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('x-render-engine'), 'browser', r.headers)
        self.assertIn('RCGISPAEMPTYMARK', r.text)

    def test_a_request_that_names_its_own_wait_gets_just_that(self):
        r = self.extract('/spa-empty.html', wait_until='domcontentloaded')
        self.assertOk(r, 'text/plain')
        self.assertNotIn('RCGISPAEMPTYMARK', r.text)

    def test_a_page_that_never_fills_in_is_answered_empty(self):
        r = self.extract('/never-filled.html', format='json')
        self.assertOk(r, 'application/json')
        body = r.json()
        self.assertEqual(body['content'].strip(), '')
        self.assertEqual(body['title'], 'Never filled RCGINEVERFILLED')

    def test_main_content_drops_the_navigation(self):
        r = self.extract('/extract.html', main_content='true')
        self.assertOk(r, 'text/plain')
        self.assertIn('RCGIEXTRACTMARK', r.text)
        self.assertNotIn('About', r.text)

    def test_unknown_and_invalid_options(self):
        r = self.extract('/extract.html', format='pdf')
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()['error']['code'], 'invalid_option')
        r = self.extract('/extract.html', landscape='true')
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()['error']['code'], 'unknown_option')


if __name__ == '__main__':
    stack.main()
