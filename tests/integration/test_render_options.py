#!/usr/bin/env python3
"""test_render_options.py — every /pdf option of API.md §3, through nginx, with
its effect seen in the PDF itself:

  page size and count      pdfinfo
  text, header and footer  pdftotext (-bbox for where the words sit and how big)
  margins, scale, print_background
                           the page rasterised with pdftoppm at 72 dpi (one pixel
                           per point) and the coloured squares of boxes.html
                           measured
  tagged, outline          pdfinfo's Tagged field; the /Outlines entry
  filename                 the Content-Disposition header

One stack (2 workers, 1 browser, 2 pages each) for the whole file: no test
here changes anything a later one depends on.
"""

import os
import re
import sys
import time
import unittest
import urllib.parse
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

# Portrait paper sizes in PDF points (1/72 in).
SIZES = {
    'letter': (612.0, 792.0),
    'legal': (612.0, 1008.0),
    'tabloid': (792.0, 1224.0),
    'a3': (841.89, 1190.55),
    'a4': (595.28, 841.89),
    'a5': (419.53, 595.28),
}
BLUE = (0, 0, 255)
GREEN = (0, 160, 0)
YELLOW = (255, 255, 0)
WHITE = (255, 255, 255)
PX = 2      # tolerance in points (= pixels at 72 dpi) for anti-aliased edges


def flat(text):
    return ' '.join(text.split())


def pdf_has_token(body, token):
    """True if 'token' is in the PDF, in its plain objects or in any of its
    Flate-compressed streams (object streams included)."""
    if token in body:
        return True
    for m in re.finditer(rb'stream\r?\n', body):
        try:
            data = zlib.decompressobj().decompress(body[m.end():m.end() + (8 << 20)])
        except zlib.error:
            continue
        if token in data:
            return True
    return False


class RenderOptions(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=2)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    # -- helpers

    def render(self, page, **options):
        r = self.stack.pdf(page, **options)
        return self.assertPdf(r)

    def assertPageSize(self, path, size):
        info = stack.pdfinfo(path)
        self.assertIn('size', info, info)
        self.assertAlmostEqual(info['size'][0], size[0], delta=2, msg=info.get('Page size'))
        self.assertAlmostEqual(info['size'][1], size[1], delta=2, msg=info.get('Page size'))
        return info

    def boxes(self, **options):
        """Render boxes.html; returns (width, height, pixel, blue bbox, green bbox)."""
        path = self.render('/boxes.html', **options)
        w, h, pixel = stack.pdf_raster(path)
        return (w, h, pixel, stack.color_bbox(w, h, pixel, BLUE),
                stack.color_bbox(w, h, pixel, GREEN))

    def assertBox(self, bbox, x0, y0, x1, y1, what):
        self.assertIsNotNone(bbox, '%s: square not found on the page' % what)
        for got, want, name in zip(bbox, (x0, y0, x1, y1), ('x0', 'y0', 'x1', 'y1')):
            self.assertAlmostEqual(got, want, delta=PX,
                                   msg='%s: %s is %s, expected %s (bbox %r)'
                                   % (what, name, got, want, bbox))

    # -- paper

    def test_every_format_has_its_paper_size(self):
        for fmt, size in SIZES.items():
            with self.subTest(format=fmt):
                self.assertPageSize(self.render('/simple.html', format=fmt), size)

    def test_landscape_swaps_width_and_height(self):
        for fmt in ('a4', 'legal'):
            with self.subTest(format=fmt):
                w, h = SIZES[fmt]
                self.assertPageSize(self.render('/simple.html', format=fmt, landscape=True), (h, w))

    def test_custom_paper_size_in_every_unit(self):
        # 5 in x 7 in = 360 x 504 pt, spelled in each unit of API.md §3.
        for pw, ph in (('5in', '7in'), ('12.7cm', '17.78cm'), ('127mm', '177.8mm'),
                       ('480px', '672px'), ('480', '672')):
            with self.subTest(paper_width=pw, paper_height=ph):
                self.assertPageSize(self.render('/simple.html', paper_width=pw, paper_height=ph),
                                    (360, 504))

    def test_paper_width_overrides_format_whatever_the_order(self):
        path = self.render('/simple.html', paper_width='5in', format='a4')
        self.assertPageSize(path, (360, SIZES['a4'][1]))

    def test_custom_paper_size_in_landscape(self):
        path = self.render('/simple.html', paper_width='5in', paper_height='7in', landscape=True)
        self.assertPageSize(path, (504, 360))

    def test_prefer_css_page_size(self):
        # css-page-size.html asks for 5in x 7in in @page.
        self.assertPageSize(self.render('/css-page-size.html', prefer_css_page_size=True),
                            (360, 504))
        self.assertPageSize(self.render('/css-page-size.html', prefer_css_page_size=False,
                                        format='a4'), SIZES['a4'])

    # -- margins, scale, background (measured on the rasterised page)

    def test_default_margins_are_zero(self):
        # docs/api.md: margins default to 0.
        w, h, _, blue, green = self.boxes()
        self.assertEqual((w, h), (612, 792))
        self.assertBox(blue, 0, 0, 71, 71, 'top-left square')
        self.assertBox(green, 612 - 72, 792 - 72, 611, 791, 'bottom-right square')

    def test_margin_moves_content_in_on_all_sides(self):
        _, _, _, blue, green = self.boxes(margin='1in')
        self.assertBox(blue, 72, 72, 143, 143, 'top-left square, margin=1in')
        self.assertBox(green, 612 - 144, 792 - 144, 612 - 73, 792 - 73,
                       'bottom-right square, margin=1in')

    def test_each_margin_side_on_its_own(self):
        _, _, _, blue, green = self.boxes(margin_top='0.5in', margin_right='1in',
                                          margin_bottom='1.5in', margin_left='2in')
        self.assertBox(blue, 144, 36, 215, 107, 'top-left square')
        self.assertBox(green, 612 - 144, 792 - 180, 612 - 73, 792 - 109, 'bottom-right square')

    def test_margin_units(self):
        # 1in = 2.54cm = 25.4mm = 96px = 96 (bare number: CSS px).
        for value in ('2.54cm', '25.4mm', '96px', '96'):
            with self.subTest(margin=value):
                _, _, _, blue, _ = self.boxes(margin=value)
                self.assertBox(blue, 72, 72, 143, 143, 'top-left square, margin=%s' % value)

    def test_side_margin_overrides_margin_whatever_the_order(self):
        _, _, _, blue, _ = self.boxes(margin_left='0', margin='1in')
        self.assertBox(blue, 0, 72, 71, 143, 'top-left square, margin=1in margin_left=0')

    def test_print_background(self):
        # The yellow page background prints only with print_background; the
        # squares print either way (print-color-adjust: exact).
        w, h, pixel, blue, _ = self.boxes()
        self.assertIsNotNone(blue)
        self.assertTrue(stack.color_near(pixel(300, 300), WHITE),
                        'background printed without print_background: %r' % (pixel(300, 300),))
        w, h, pixel, blue, _ = self.boxes(print_background=True)
        self.assertTrue(stack.color_near(pixel(300, 300), YELLOW),
                        'no background with print_background=true: %r' % (pixel(300, 300),))

    def test_scale_shrinks_and_grows_content(self):
        for scale, side in (('0.5', 36), ('2', 144), ('1', 72)):
            with self.subTest(scale=scale):
                _, _, _, blue, _ = self.boxes(scale=scale)
                self.assertBox(blue, 0, 0, side - 1, side - 1, 'top-left square, scale=%s' % scale)

    # -- pages

    def test_paged_fixture_has_five_pages(self):
        path = self.render('/paged.html')
        self.assertEqual(stack.pdfinfo(path)['pages'], 5)
        for n in range(1, 6):
            self.assertIn('RCGIPAGE%d' % n, stack.pdf_pages_text(path, n))

    def test_page_ranges_select_pages(self):
        path = self.render('/paged.html', page_ranges='2-3,5')
        self.assertEqual(stack.pdfinfo(path)['pages'], 3)
        for page, marker in ((1, 'RCGIPAGE2'), (2, 'RCGIPAGE3'), (3, 'RCGIPAGE5')):
            self.assertIn(marker, stack.pdf_pages_text(path, page))
        text = stack.pdftotext(path)
        self.assertNotIn('RCGIPAGE1', text)
        self.assertNotIn('RCGIPAGE4', text)

    def test_page_ranges_single_page(self):
        path = self.render('/paged.html', page_ranges='4')
        self.assertEqual(stack.pdfinfo(path)['pages'], 1)
        self.assertIn('RCGIPAGE4', stack.pdftotext(path))

    # -- header and footer templates

    HEADER = ('<div style="font-size:10px; width:100%; text-align:center">RCGIHDR '
              '<span class="pageNumber"></span> of <span class="totalPages"></span></div>')
    FOOTER = ('<div style="font-size:10px; width:100%; text-align:center">RCGIFTR '
              '[<span class="title"></span>] [<span class="url"></span>] '
              '[<span class="date"></span>]</div>')

    def test_header_and_footer_templates_with_their_classes(self):
        path = self.render('/paged.html', header_template=self.HEADER,
                           footer_template=self.FOOTER, margin_top='1in', margin_bottom='1in')
        self.assertEqual(stack.pdfinfo(path)['pages'], 5)
        for n in (1, 3, 5):
            text = flat(stack.pdf_pages_text(path, n))
            self.assertIn('RCGIHDR %d of 5' % n, text, 'header of page %d' % n)
            self.assertIn('RCGIFTR', text, 'footer of page %d' % n)
            m = re.search(r'RCGIFTR \[(.*?)\] \[(.*?)\] \[(.*?)\]', text)
            self.assertIsNotNone(m, 'footer of page %d not found in: %s' % (n, text))
            title, url, date = m.groups()
            self.assertEqual(title, 'Paged fixture')
            self.assertIn('paged.html', url.replace(' ', ''))
            self.assertIn('127.0.0.1', url)
            self.assertRegex(date, r'\d')
        # The header sits in the top margin, the footer in the bottom one.
        words = stack.pdf_words(path)
        hdr = [w for w in words if w['text'] == 'RCGIHDR']
        ftr = [w for w in words if w['text'] == 'RCGIFTR']
        self.assertEqual(len(hdr), 5, hdr)
        self.assertEqual(len(ftr), 5, ftr)
        for w in hdr:
            self.assertLess(w['y1'], 72, 'header word below the top margin: %r' % w)
        for w in ftr:
            self.assertGreater(w['y0'], 792 - 72, 'footer word above the bottom margin: %r' % w)

    def test_template_without_font_size_is_readable(self):
        # Chromium draws template text without a font-size tiny; rendercgi
        # gives templates a readable default. A word box at least 6 pt high
        # is text of about 8 px or more.
        path = self.render('/simple.html', header_template='<div>RCGIHDRSIZE</div>',
                           footer_template='<div>RCGIFTRSIZE</div>',
                           margin_top='1in', margin_bottom='1in')
        words = {w['text']: w for w in stack.pdf_words(path)}
        for marker in ('RCGIHDRSIZE', 'RCGIFTRSIZE'):
            self.assertIn(marker, words, 'template text missing: %s' % sorted(words)[:40])
            height = words[marker]['y1'] - words[marker]['y0']
            self.assertGreaterEqual(height, 6, '%s is %.1f pt high: not readable'
                                    % (marker, height))

    def test_template_font_size_given_is_kept(self):
        path = self.render('/simple.html',
                           header_template='<div style="font-size:20px">RCGIHDRBIG</div>',
                           margin_top='1in')
        words = {w['text']: w for w in stack.pdf_words(path)}
        self.assertIn('RCGIHDRBIG', words)
        height = words['RCGIHDRBIG']['y1'] - words['RCGIHDRBIG']['y0']
        # 20 px = 15 pt text: its word box is about 15-20 pt high.
        self.assertGreater(height, 12, height)
        self.assertLess(height, 26, height)

    def test_no_template_no_header(self):
        text = stack.pdftotext(self.render('/paged.html', margin_top='1in'))
        self.assertNotIn('RCGIHDR', text)
        self.assertNotIn('of 5', flat(text))

    # -- media, tagged, outline

    def test_media_defaults_to_print(self):
        text = flat(stack.pdftotext(self.render('/media.html')))
        self.assertIn('RCGIMEDIAPRINT', text)
        self.assertNotIn('RCGIMEDIASCREEN', text)

    def test_media_screen(self):
        text = flat(stack.pdftotext(self.render('/media.html', media='screen')))
        self.assertIn('RCGIMEDIASCREEN', text)
        self.assertNotIn('RCGIMEDIAPRINT', text)
        self.assertIn('media=screen', text)

    def test_media_print(self):
        text = flat(stack.pdftotext(self.render('/media.html', media='print')))
        self.assertIn('RCGIMEDIAPRINT', text)
        self.assertIn('media=print', text)

    def test_tagged(self):
        self.assertEqual(stack.pdfinfo(self.render('/article.html', tagged=True)).get('Tagged'),
                         'yes')
        self.assertEqual(stack.pdfinfo(self.render('/article.html')).get('Tagged'), 'no',
                         'tagged must default to false')

    def test_outline(self):
        with open(self.render('/article.html', outline=True), 'rb') as f:
            self.assertTrue(pdf_has_token(f.read(), b'/Outlines'),
                            'outline=true: no /Outlines in the PDF')
        with open(self.render('/article.html'), 'rb') as f:
            self.assertFalse(pdf_has_token(f.read(), b'/Outlines'),
                             'an outline without outline=true')

    # -- filename

    def content_disposition(self, name):
        r = self.stack.pdf('/simple.html', filename=name)
        self.assertPdf(r)
        cd = r.header('content-disposition')
        self.assertIsNotNone(cd, 'no Content-Disposition for filename=%r: %r' % (name, r.headers))
        self.assertTrue(all(0x20 <= ord(c) < 0x7f for c in cd),
                        'Content-Disposition is not plain ASCII: %r' % cd)
        self.assertRegex(cd, r'^(inline|attachment)\s*;')
        return r, cd

    def ascii_filename(self, cd):
        m = re.search(r'(?:^|;)\s*filename="((?:[^"\\]|\\.)*)"\s*(?:;|$)', cd)
        self.assertIsNotNone(m, 'no well-formed filename="..." in %r' % cd)
        return re.sub(r'\\(.)', r'\1', m.group(1))

    def utf8_filename(self, cd):
        m = re.search(r"(?:^|;)\s*filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]*)\s*(?:;|$)",
                      cd, re.I)
        self.assertIsNotNone(m, "no well-formed filename*=UTF-8''... in %r" % cd)
        return urllib.parse.unquote(m.group(1), encoding='utf-8', errors='strict')

    def test_filename_sets_content_disposition(self):
        _, cd = self.content_disposition('report-2024.pdf')
        self.assertEqual(self.ascii_filename(cd), 'report-2024.pdf')

    def test_filename_non_ascii_is_encoded(self):
        name = 'Résumé ✓ 日本.pdf'
        _, cd = self.content_disposition(name)
        self.assertEqual(self.utf8_filename(cd), name)
        fallback = self.ascii_filename(cd)
        self.assertTrue(fallback, cd)

    def test_filename_quotes_and_separators_are_safe(self):
        name = 'a"b;c\\d.pdf'
        _, cd = self.content_disposition(name)
        # The ASCII form parses as one quoted-string (checked by the regex);
        # the UTF-8 form gives the name back exactly.
        self.ascii_filename(cd)
        self.assertEqual(self.utf8_filename(cd), name)

    def test_filename_with_line_break_cannot_inject_a_header(self):
        r = self.stack.pdf('/simple.html', filename='x.pdf\r\nX-Rcgi-Injected: yes')
        self.assertNotIn('x-rcgi-injected', r.headers, r.headers)
        if r.status == 400:
            self.assertError(r, 400, 'invalid_option', all_of=['filename'])
        else:
            self.assertPdf(r)
            cd = r.header('content-disposition', '')
            self.assertNotIn('\n', cd)
            self.assertNotIn('\r', cd)

    def test_no_filename_no_attachment(self):
        r = self.stack.pdf('/simple.html')
        self.assertPdf(r)
        self.assertNotIn('attachment', r.header('content-disposition', ''))

    # -- all together

    def test_many_options_at_once(self):
        t0 = time.monotonic()
        path = self.render('/paged.html', format='a5', landscape=True, margin='1cm',
                           print_background=True, scale='0.8', page_ranges='1-2',
                           header_template=self.HEADER, margin_top='2cm',
                           prefer_css_page_size=False, tagged=True, outline=True,
                           filename='all.pdf', media='print')
        info = self.assertPageSize(path, (SIZES['a5'][1], SIZES['a5'][0]))
        self.assertEqual(info['pages'], 2)
        self.assertEqual(info.get('Tagged'), 'yes')
        self.assertRegex(flat(stack.pdf_pages_text(path, 2)), r'RCGIHDR 2 of \d')
        self.assertLess(time.monotonic() - t0, 30)


if __name__ == '__main__':
    stack.main()
