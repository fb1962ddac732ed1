#!/usr/bin/env python3
"""test_inputs.py — the four ways to ask for a render (API.md §3, Parameters):

  GET                  options in the query string (most other tests)
  POST JSON            {"url", "options": {...}}, or the options at the top
                       level; typed JSON values (true, 0.5, objects, lists)
  POST text/html       the page itself in the body, options in the query
                       string, 'url' (if given) the base for relative links
  POST multipart       an index.html part with its assets (CSS, image, font)
                       served to the page from memory, for that request only;
                       options as parts without a file name

Every option given in a body must have its effect (page size, text), and a
posted page must never be fetched from the network itself.
"""

import glob
import os
import struct
import sys
import unittest
import uuid
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)
A5 = (419.53, 595.28)

# A font nothing on the page would fall back to: if the PDF embeds it, it
# came from the upload.
FONT_CANDIDATES = ['/usr/share/fonts/truetype/dejavu/DejaVuSansMono-BoldOblique.ttf'] + \
    sorted(glob.glob('/usr/share/fonts/truetype/*/*Mono*Oblique*.ttf'))


def flat(text):
    return ' '.join(text.split())


def make_png(width, height, rgb):
    """A valid RGB PNG of one colour."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    raw = b''.join(b'\0' + bytes(rgb) * width for _ in range(height))
    return (b'\x89PNG\r\n\x1a\n'
            + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def multipart(parts):
    """parts: (name, filename or None, content type or None, bytes or str).
    Returns (body, Content-Type header value)."""
    boundary = 'rcgi-' + uuid.uuid4().hex
    out = []
    for name, filename, ctype, data in parts:
        if isinstance(data, str):
            data = data.encode('utf-8')
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        head = 'Content-Disposition: %s\r\n' % disp
        if ctype:
            head += 'Content-Type: %s\r\n' % ctype
        out.append(b'--' + boundary.encode() + b'\r\n' + head.encode() + b'\r\n' + data + b'\r\n')
    out.append(b'--' + boundary.encode() + b'--\r\n')
    return b''.join(out), 'multipart/form-data; boundary=' + boundary


UPLOAD_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Uploaded page</title>
<link rel="stylesheet" href="css/upload.css">
<link rel="preload" href="fonts/upload.ttf" as="font" type="font/ttf" crossorigin>
<style>
@font-face { font-family: RcgiUpload; src: url(fonts/upload.ttf) format("truetype"); }
.f { font-family: RcgiUpload, monospace; font-size: 18px; }
</style></head>
<body>
<h1>Uploaded page RCGIUPLOADPAGE</h1>
<p class="css-upload"></p>
<img id="pic" src="img/pic.png" alt="">
<p class="f">RcgiFontSample</p>
<pre id="report">no report</pre>
<script>
window.addEventListener('load', function () {
    var img = document.getElementById('pic'), face = 'none';
    document.fonts.forEach(function (f) {
        if (f.family.replace(/["']/g, '') === 'RcgiUpload') face = f.status;
    });
    document.getElementById('report').textContent =
        'img=[' + (img.complete && img.naturalWidth ? img.naturalWidth + 'x' + img.naturalHeight
                                                    : 'missing') + '] font=[' + face + ']';
});
</script>
</body></html>
"""

UPLOAD_CSS = '.css-upload::after { content: "Uploaded stylesheet RCGIUPLOADCSS"; }\n'


class Inputs(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=2, browsers=1, pages_per_browser=2)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def assertPageSize(self, path, size):
        info = stack.pdfinfo(path)
        self.assertIn('size', info, info)
        self.assertAlmostEqual(info['size'][0], size[0], delta=2, msg=info.get('Page size'))
        self.assertAlmostEqual(info['size'][1], size[1], delta=2, msg=info.get('Page size'))

    def text(self, path):
        return flat(stack.pdftotext(path))

    def paths_seen(self):
        return [e['path'] for e in self.stack.fixture_requests()]

    # -- GET

    def test_get(self):
        path = self.assertPdf(self.stack.pdf('/simple.html', format='a4'))
        self.assertPageSize(path, A4)
        self.assertIn('RCGISIMPLEMARK', self.text(path))

    # -- POST application/json

    def test_json_with_options_object(self):
        r = self.stack.post('/pdf', {'url': self.stack.fixture_url('/simple.html'),
                                     'options': {'format': 'a4', 'landscape': True}})
        path = self.assertPdf(r)
        self.assertPageSize(path, (A4[1], A4[0]))
        self.assertIn('RCGISIMPLEMARK', self.text(path))

    def test_json_with_options_at_the_top_level(self):
        r = self.stack.post('/pdf', {'url': self.stack.fixture_url('/simple.html'),
                                     'format': 'a5'})
        self.assertPageSize(self.assertPdf(r), A5)

    def test_json_typed_values(self):
        # Booleans, numbers and strings as JSON types, not only as strings.
        r = self.stack.post('/pdf', {'url': self.stack.fixture_url('/probe.html'),
                                     'options': {'width': 800, 'height': 600, 'scale': 0.5,
                                                 'print_background': True, 'landscape': False,
                                                 'timeout': 20000, 'margin': '1cm',
                                                 'javascript': True}})
        text = self.text(self.assertPdf(r))
        self.assertIn('vw=[800]', text)
        self.assertIn('vh=[600]', text)

    def test_json_string_values_are_accepted_too(self):
        r = self.stack.post('/pdf', {'url': self.stack.fixture_url('/probe.html'),
                                     'options': {'width': '800', 'landscape': 'true'}})
        path = self.assertPdf(r)
        self.assertIn('vw=[800]', self.text(path))
        self.assertPageSize(path, (LETTER[1], LETTER[0]))

    def test_json_headers_object_and_cookies_list(self):
        r = self.stack.post('/pdf', {
            'url': self.stack.fixture_url('/echo-headers?t=json'),
            'options': {'headers': {'X-Rcgi-Json': 'from-json'},
                        'cookies': [{'name': 'rc_json', 'value': 'JV'}]}})
        text = self.text(self.assertPdf(r))
        self.assertIn('X-Rcgi-Json: from-json', text)
        self.assertIn('rc_json=JV', text)
        seen = [e for e in self.stack.fixture_requests() if e['path'] == '/echo-headers?t=json']
        self.assertTrue(seen)
        self.assertEqual(seen[-1]['headers'].get('x-rcgi-json'), 'from-json')
        self.assertIn('rc_json=JV', seen[-1]['cookie'])

    def test_json_with_charset_parameter(self):
        r = self.stack.post('/pdf', {'url': self.stack.fixture_url('/simple.html')},
                            content_type='application/json; charset=utf-8')
        self.assertPdf(r)

    def test_json_screenshot(self):
        r = self.stack.post('/screenshot', {'url': self.stack.fixture_url('/shot.html'),
                                            'options': {'type': 'jpeg', 'width': 640,
                                                        'height': 480, 'quality': 80}})
        self.assertImage(r, 'jpeg', 640, 480)

    def test_json_url_in_query_string(self):
        # url in the query, options in the body: both are parameters.
        r = self.stack.post('/pdf', {'options': {'format': 'a4'}},
                            params={'url': self.stack.fixture_url('/simple.html')})
        self.assertPageSize(self.assertPdf(r), A4)

    # -- POST text/html

    POSTED = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Posted</title>'
              '<link rel="stylesheet" href="style.css"></head><body>'
              '<h1>Posted page RCGIPOSTEDHTML Grüße</h1><p class="css-check"></p>'
              '<img src="image.svg?posted=1" width="40" height="20" alt=""></body></html>')

    def test_html_body_with_url_as_base(self):
        self.stack.fixture_requests(clear=True)
        base = self.stack.fixture_url('/posted-doc.html')
        r = self.stack.post('/pdf', self.POSTED, params={'url': base, 'format': 'a5'},
                            content_type='text/html; charset=utf-8')
        path = self.assertPdf(r)
        self.assertPageSize(path, A5)
        text = self.text(path)
        self.assertIn('RCGIPOSTEDHTML', text)
        self.assertIn('Grüße', text)
        self.assertIn('RCGICSSMARK', text, 'relative stylesheet not loaded from the base URL')
        seen = self.paths_seen()
        self.assertIn('/style.css', seen)
        self.assertIn('/image.svg?posted=1', seen)
        self.assertNotIn('/posted-doc.html', seen, 'the posted page was fetched from the network')

    def test_html_body_without_url(self):
        r = self.stack.post('/pdf', self.POSTED, content_type='text/html')
        text = self.text(self.assertPdf(r))
        self.assertIn('RCGIPOSTEDHTML', text)

    def test_html_body_to_screenshot(self):
        page = ('<!DOCTYPE html><html><body style="margin:0;background:rgb(255,0,0)">'
                '</body></html>')
        r = self.stack.post('/screenshot', page, params={'width': 64, 'height': 32},
                            content_type='text/html')
        self.assertImage(r, 'png', 64, 32)
        _, _, px = stack.png_pixels(r.body)
        self.assertTrue(stack.color_near(px(32, 16), (255, 0, 0), 24), px(32, 16))

    def test_html_body_options_are_validated(self):
        r = self.stack.post('/pdf', self.POSTED, params={'format': 'b7'},
                            content_type='text/html')
        self.assertError(r, 400, 'invalid_option', all_of=['format'])
        r = self.stack.post('/pdf', self.POSTED, params={'bogus': '1'}, content_type='text/html')
        self.assertError(r, 400, 'unknown_option', all_of=['bogus'])

    # -- POST multipart/form-data

    def font(self):
        for path in FONT_CANDIDATES:
            if os.path.exists(path):
                with open(path, 'rb') as f:
                    return os.path.basename(path)[:-4], f.read()
        self.fail('no TrueType font found for the upload test: %r' % FONT_CANDIDATES)

    def upload(self, route='/pdf', assets=True, options=(), params=None):
        font_name, font = self.font()
        parts = [('index.html', 'index.html', 'text/html', UPLOAD_PAGE)]
        if assets:
            parts += [('css/upload.css', 'css/upload.css', 'text/css', UPLOAD_CSS),
                      ('img/pic.png', 'img/pic.png', 'image/png', make_png(37, 23, (0, 0, 255))),
                      ('fonts/upload.ttf', 'fonts/upload.ttf', 'font/ttf', font)]
        parts += [(k, None, None, v) for k, v in options]
        body, ctype = multipart(parts)
        r = self.stack.request('POST', stack.query(route, params), body=body,
                               headers={'Content-Type': ctype})
        return r, font_name

    def test_multipart_page_with_its_assets(self):
        self.stack.fixture_requests(clear=True)
        r, font_name = self.upload()
        path = self.assertPdf(r)
        text = self.text(path)
        self.assertIn('RCGIUPLOADPAGE', text)
        self.assertIn('RCGIUPLOADCSS', text, 'uploaded stylesheet not applied')
        self.assertIn('img=[37x23]', text, 'uploaded image not served')
        self.assertIn('font=[loaded]', text, 'uploaded font not served')
        fonts = stack.subprocess.run(['pdffonts', path], capture_output=True, timeout=60)
        self.assertIn(font_name, fonts.stdout.decode('utf-8', 'replace'),
                      'the uploaded font is not embedded in the PDF')
        self.assertEqual(self.paths_seen(), [], 'an uploaded page went to the network')

    def test_multipart_options_as_parts(self):
        r, _ = self.upload(options=[('format', 'a5'), ('landscape', 'true')])
        self.assertPageSize(self.assertPdf(r), (A5[1], A5[0]))

    def test_multipart_options_in_the_query(self):
        r, _ = self.upload(params={'format': 'a4'})
        self.assertPageSize(self.assertPdf(r), A4)

    def test_multipart_assets_are_for_that_request_only(self):
        r, _ = self.upload()
        self.assertIn('img=[37x23]', self.text(self.assertPdf(r)))
        # The same page without its assets: nothing is left from before.
        r, _ = self.upload(assets=False)
        text = self.text(self.assertPdf(r))
        self.assertIn('RCGIUPLOADPAGE', text)
        self.assertIn('img=[missing]', text)
        self.assertNotIn('RCGIUPLOADCSS', text)
        self.assertNotIn('font=[loaded]', text)

    def test_multipart_to_screenshot(self):
        r, _ = self.upload(route='/screenshot', options=[('width', '300'), ('height', '200')])
        self.assertImage(r, 'png', 300, 200)

    def test_multipart_option_is_validated(self):
        r, _ = self.upload(options=[('scale', '9')])
        self.assertError(r, 400, 'invalid_option', all_of=['scale'])

    def test_multipart_without_index_html(self):
        body, ctype = multipart([('pic.png', 'pic.png', 'image/png', make_png(2, 2, (0, 0, 0)))])
        r = self.stack.request('POST', '/pdf', body=body, headers={'Content-Type': ctype})
        self.assertEqual(r.status, 400, r)
        self.assertIn('index.html', r.json()['error']['message'])


if __name__ == '__main__':
    stack.main()
