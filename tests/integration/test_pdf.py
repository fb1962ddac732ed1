#!/usr/bin/env python3
"""test_pdf.py — GET /pdf through nginx renders fixture pages to real PDFs.

One stack (2 workers, 1 browser each) serves both nginx examples: the root
mount (rendercgi.conf, every path to the pool) and the /render/ mount
(rendercgi-render-subpath.conf). PDFs are checked with pdftotext and pdfinfo.
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)


class Pdf(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=2,
                                examples=(stack.ROOT_EXAMPLE, stack.SUBPATH_EXAMPLE))
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def assertPdf(self, r, marker=None):
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/pdf'), r)
        self.assertTrue(r.header('x-request-id'), 'no X-Request-Id: %r' % r.headers)
        self.assertTrue(r.body.startswith(b'%PDF-'), r)
        if marker:
            self.assertIn(marker, self.stack.pdf_text(r.body))

    def assertSize(self, r, size):
        info = self.stack.pdf_info(r.body)
        self.assertIn('size', info, info)
        self.assertAlmostEqual(info['size'][0], size[0], delta=2, msg=info.get('Page size'))
        self.assertAlmostEqual(info['size'][1], size[1], delta=2, msg=info.get('Page size'))

    def test_simple_page_holds_its_marker(self):
        self.assertPdf(self.stack.pdf('/simple.html'), 'RCGISIMPLEMARK')

    def test_article_spans_several_pages(self):
        r = self.stack.pdf('/article.html')
        self.assertPdf(r, 'RCGIARTICLEMARK')
        self.assertGreater(self.stack.pdf_info(r.body)['pages'], 1)

    def test_default_format_is_letter(self):
        self.assertSize(self.stack.pdf('/simple.html'), LETTER)

    def test_format_a4_and_letter_differ(self):
        a4 = self.stack.pdf('/simple.html', format='a4')
        letter = self.stack.pdf('/simple.html', format='letter')
        self.assertPdf(a4)
        self.assertPdf(letter)
        self.assertSize(a4, A4)
        self.assertSize(letter, LETTER)

    def test_landscape_swaps_the_page_size(self):
        r = self.stack.pdf('/simple.html', format='letter', landscape=True)
        self.assertPdf(r, 'RCGISIMPLEMARK')
        self.assertSize(r, (LETTER[1], LETTER[0]))

    def test_margin_and_print_background_are_accepted(self):
        r = self.stack.pdf('/styled.html', print_background=True, margin='1in')
        self.assertPdf(r, 'RCGISTYLEDMARK')

    def test_stylesheet_and_image_are_loaded(self):
        # The CSS marker comes from a ::after rule in style.css: present only
        # if the stylesheet (a loopback subresource) was fetched.
        r = self.stack.pdf('/styled.html')
        self.assertPdf(r, 'RCGICSSMARK')
        seen = [e['path'] for e in self.stack.fixture_requests()]
        self.assertIn('/image.svg', seen)

    def test_each_response_has_its_own_request_id(self):
        ids = {self.stack.pdf('/simple.html').header('x-request-id') for _ in range(3)}
        self.assertEqual(len(ids), 3, ids)

    def test_render_subpath_mount(self):
        port = self.stack.ports[stack.SUBPATH_EXAMPLE]
        r = self.stack.get('/render/pdf', {'url': self.stack.fixture_url('/simple.html')},
                           port=port)
        self.assertPdf(r, 'RCGISIMPLEMARK')
        health = self.stack.get('/render/health', port=port)
        self.assertEqual(health.status, 200, health)
        # Outside /render/ the rest of the site answers, not the pool.
        other = self.stack.get('/pdf', {'url': self.stack.fixture_url('/simple.html')}, port=port)
        self.assertEqual(other.status, 404)
        self.assertFalse(other.body.startswith(b'%PDF'))

    def test_deep_mount_routes_on_the_last_segment(self):
        r = self.stack.get('/tenant-a/render/pdf', {'url': self.stack.fixture_url('/simple.html')})
        self.assertPdf(r, 'RCGISIMPLEMARK')


if __name__ == '__main__':
    stack.main()
