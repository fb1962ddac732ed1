#!/usr/bin/env python3
"""test_screenshot.py — /screenshot through nginx (API.md §3): PNG by default,
JPEG and WebP with quality, the viewport (width, height, device_scale_factor),
full_page, selector (clip to one element; 422 selector_not_found), and the
page options that show in pixels (media, javascript).

Image type and dimensions are read from the bytes; pixels are read by
decoding the PNG (stack.png_pixels), so those tests keep their images small.
shot.html, tall.html and noise.html are the fixtures.
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 160, 0)
GREY = (128, 128, 128)
WHITE = (255, 255, 255)


class Screenshot(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=2)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def shot(self, page, **options):
        return self.stack.pdf(page, route='/screenshot', **options)

    def pixels(self, r):
        self.assertImage(r, 'png')
        return stack.png_pixels(r.body)

    def assertColor(self, got, want, where):
        self.assertTrue(stack.color_near(got, want, 24),
                        '%s is %r, expected about %r' % (where, got, want))

    # -- types

    def test_png_is_the_default_and_viewport_sized(self):
        r = self.shot('/shot.html')
        self.assertImage(r, 'png', 1280, 720)
        self.assertTrue(r.header('x-request-id'), r.headers)

    def test_png_explicitly(self):
        self.assertImage(self.shot('/shot.html', type='png'), 'png', 1280, 720)

    def test_jpeg(self):
        self.assertImage(self.shot('/shot.html', type='jpeg'), 'jpeg', 1280, 720)

    def test_webp(self):
        self.assertImage(self.shot('/shot.html', type='webp'), 'webp', 1280, 720)

    def test_jpeg_quality_changes_the_size(self):
        low = self.shot('/noise.html', type='jpeg', quality=10)
        high = self.shot('/noise.html', type='jpeg', quality=95)
        self.assertImage(low, 'jpeg', 1280, 720)
        self.assertImage(high, 'jpeg', 1280, 720)
        self.assertLess(len(low.body) * 2, len(high.body),
                        'jpeg quality 10: %d bytes, quality 95: %d bytes'
                        % (len(low.body), len(high.body)))

    def test_webp_quality_changes_the_size(self):
        low = self.shot('/noise.html', type='webp', quality=10)
        high = self.shot('/noise.html', type='webp', quality=95)
        self.assertImage(low, 'webp', 1280, 720)
        self.assertImage(high, 'webp', 1280, 720)
        self.assertLess(len(low.body) * 2, len(high.body),
                        'webp quality 10: %d bytes, quality 95: %d bytes'
                        % (len(low.body), len(high.body)))

    # -- viewport

    def test_width_and_height_set_the_viewport(self):
        self.assertImage(self.shot('/shot.html', width=640, height=360), 'png', 640, 360)
        self.assertImage(self.shot('/shot.html', width=333, height=777, type='jpeg'),
                         'jpeg', 333, 777)

    def test_pixels_are_where_the_page_put_them(self):
        w, h, px = self.pixels(self.shot('/shot.html', width=320, height=200))
        self.assertEqual((w, h), (320, 200))
        self.assertColor(px(150, 100), RED, 'inside #target')
        self.assertColor(px(99, 100), WHITE, 'left of #target')
        self.assertColor(px(100, 49), WHITE, 'above #target')
        self.assertColor(px(299, 149), RED, 'last pixel of #target')
        self.assertColor(px(300, 150), WHITE, 'past #target')

    def test_device_scale_factor_multiplies_the_pixels(self):
        r = self.shot('/shot.html', width=320, height=200, device_scale_factor=2)
        w, h, px = self.pixels(r)
        self.assertEqual((w, h), (640, 400))
        # #target is CSS (100..299, 50..149): device (200..599, 100..299).
        self.assertColor(px(201, 101), RED, 'top-left of #target at factor 2')
        self.assertColor(px(598, 298), RED, 'bottom-right of #target at factor 2')
        self.assertColor(px(198, 200), WHITE, 'left of #target at factor 2')
        self.assertColor(px(400, 301), WHITE, 'below #target at factor 2')

    def test_fractional_device_scale_factor(self):
        self.assertImage(self.shot('/shot.html', width=400, height=300, device_scale_factor=1.5,
                                   type='jpeg'), 'jpeg', 600, 450)

    # -- full page

    def test_without_full_page_only_the_viewport(self):
        w, h, px = self.pixels(self.shot('/tall.html', width=100, height=200))
        self.assertEqual((w, h), (100, 200))
        self.assertColor(px(50, 199), WHITE, 'bottom of the viewport')

    def test_full_page_captures_the_whole_document(self):
        w, h, px = self.pixels(self.shot('/tall.html', width=100, height=200, full_page=True))
        self.assertEqual((w, h), (100, 3000))
        self.assertColor(px(50, 100), WHITE, 'top of the page')
        self.assertColor(px(50, 2899), WHITE, 'just above the bottom band')
        self.assertColor(px(50, 2950), RED, 'bottom band')
        self.assertColor(px(50, 2999), RED, 'last row')

    def test_full_page_with_device_scale_factor(self):
        r = self.shot('/tall.html', width=100, height=200, full_page=True,
                      device_scale_factor=2, type='jpeg')
        self.assertImage(r, 'jpeg', 200, 6000)

    # -- selector

    def test_selector_clips_to_the_element(self):
        w, h, px = self.pixels(self.shot('/shot.html', selector='#target'))
        self.assertEqual((w, h), (200, 100))
        for x, y in ((0, 0), (199, 0), (0, 99), (199, 99), (100, 50)):
            self.assertColor(px(x, y), RED, 'pixel (%d, %d) of the clip' % (x, y))

    def test_selector_picks_the_element_it_names(self):
        w, h, px = self.pixels(self.shot('/shot.html', selector='#other'))
        self.assertEqual((w, h), (100, 100))
        self.assertColor(px(50, 50), BLUE, 'middle of #other')

    def test_selector_with_device_scale_factor(self):
        w, h, px = self.pixels(self.shot('/shot.html', selector='#target',
                                         device_scale_factor=2))
        self.assertEqual((w, h), (400, 200))
        self.assertColor(px(200, 100), RED, 'middle of #target at factor 2')

    def test_selector_outside_the_viewport(self):
        # #bottom starts at y=2900, far below a 200 px high viewport.
        w, h, px = self.pixels(self.shot('/tall.html', width=100, height=200,
                                         selector='#bottom'))
        self.assertEqual((w, h), (100, 100))
        self.assertColor(px(50, 50), RED, 'middle of #bottom')

    def test_selector_not_found(self):
        t0 = time.monotonic()
        r = self.shot('/shot.html', selector='#missing')
        took = time.monotonic() - t0
        self.assertError(r, 422, 'selector_not_found', any_of=['#missing', 'selector'])
        self.assertLess(took, 10, 'selector_not_found took %.1f s' % took)

    # -- page options seen in pixels

    def test_scripts_run_by_default(self):
        _, _, px = self.pixels(self.shot('/shot.html', width=320, height=200))
        self.assertColor(px(10, 10), GREEN, '#js (painted by the script)')

    def test_javascript_false(self):
        _, _, px = self.pixels(self.shot('/shot.html', width=320, height=200, javascript=False))
        self.assertColor(px(10, 10), GREY, '#js with javascript=false')

    def test_media_defaults_to_screen(self):
        _, _, px = self.pixels(self.shot('/media.html', width=400, height=300))
        self.assertColor(px(395, 295), BLUE, 'background with screen media')

    def test_media_print(self):
        _, _, px = self.pixels(self.shot('/media.html', width=400, height=300, media='print'))
        self.assertColor(px(395, 295), RED, 'background with print media')

    def test_timeout_applies(self):
        t0 = time.monotonic()
        r = self.stack.pdf('/slow?ms=8000', route='/screenshot', timeout=1500)
        self.assertError(r, 504, 'timeout')
        self.assertLess(time.monotonic() - t0, 6)

    def test_fail_on_status(self):
        r = self.stack.pdf('/status/404', route='/screenshot')
        self.assertError(r, 502, 'target_http_status', all_of=['404'])
        self.assertEqual(r.header('x-target-status'), '404')
        self.assertImage(self.stack.pdf('/status/404', route='/screenshot', fail_on_status=False,
                                        width=100, height=100), 'png', 100, 100)


if __name__ == '__main__':
    stack.main()
