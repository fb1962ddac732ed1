#!/usr/bin/env python3
"""test_fonts.py — text in Latin, CJK and emoji survives into the PDF's text
layer (pdftotext), from a fetched page and from a posted one. Depends on the
fonts ./quickstart installs (fonts-noto-core, fonts-noto-cjk,
fonts-noto-color-emoji): a missing font shows here as missing text.

Also checks with pdffonts that every font is embedded with a ToUnicode map.
"""

import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

SAMPLES = {
    'latin': ['Grüße', 'Köln', 'naïve', 'café', 'Ångström', 'Żółć', 'Œuvre', 'façade'],
    'japanese': ['日本語の文章です'],
    'chinese': ['中文测试文本'],
    'korean': ['한국어', '텍스트'],
    'emoji': ['😀', '🎉', '👍'],
}


def squeeze(text):
    """Text without any whitespace: pdftotext may space out CJK glyphs."""
    return ''.join(text.split())


class Fonts(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2)
        cls.stack.start()
        r = cls.stack.pdf('/fonts.html')
        cls.fetched = r
        with open(os.path.join(stack.FIXTURES, 'site', 'fonts.html'), 'rb') as f:
            cls.posted = cls.stack.post('/pdf', f.read(), content_type='text/html; charset=utf-8')

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def check(self, r, script):
        path = self.assertPdf(r)
        text = stack.pdftotext(path)
        self.assertIn('RCGIFONTSMARK', text)
        line = [ln for ln in text.splitlines() if script + ':' in ln]
        self.assertTrue(line, 'no "%s:" line in the PDF text:\n%s' % (script, text))
        for word in SAMPLES[script]:
            self.assertIn(squeeze(word), squeeze(line[0]),
                          '%s text %r lost: the PDF says %r' % (script, word, line[0]))

    def test_latin(self):
        self.check(self.fetched, 'latin')

    def test_japanese(self):
        self.check(self.fetched, 'japanese')

    def test_chinese(self):
        self.check(self.fetched, 'chinese')

    def test_korean(self):
        self.check(self.fetched, 'korean')

    def test_emoji(self):
        self.check(self.fetched, 'emoji')

    def test_posted_page_keeps_every_script(self):
        for script in SAMPLES:
            with self.subTest(script=script):
                self.check(self.posted, script)

    def test_every_font_is_embedded_with_a_unicode_map(self):
        # What makes text survive extraction: each font in the file (Skia
        # writes CFF-based CJK and colour emoji fonts as Type 3) is embedded
        # and carries a ToUnicode map.
        path = self.assertPdf(self.fetched)
        out = subprocess.run(['pdffonts', path], capture_output=True, timeout=60)
        lines = out.stdout.decode('utf-8', 'replace').splitlines()[2:]
        self.assertGreaterEqual(len(lines), 2, lines)
        for line in lines:
            words = line.split()
            emb, uni = words[-5], words[-3]
            self.assertEqual((emb, uni), ('yes', 'yes'),
                             'font not embedded or without ToUnicode: %s' % line)


if __name__ == '__main__':
    stack.main()
