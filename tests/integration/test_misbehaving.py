#!/usr/bin/env python3
"""test_misbehaving.py — a page that misbehaves never hurts the next request
(issue 3, part 5):

  Misbehaving       alert/confirm/prompt and beforeunload dialogs are
                    dismissed; downloads are denied (no file lands anywhere);
                    popups and new windows are closed (they stop calling
                    home; Chromium's popup blocker usually stops them
                    first, and the test then says so in its log); a
                    script that never yields ends with 504 timeout;
                    a renderer crash ends its request with 502 render_failed;
                    a page that allocates memory without bound is stopped; a
                    client that disconnects mid-render (or in the queue)
                    frees its slot at once. After each, the next request
                    renders normally.
  SameBrowser       on one browser with one page slot: cookies and
                    localStorage, history (history.back() cannot reach the
                    previous request's page) and service workers do not
                    cross from one request to the next.
  OutputLimits      output over the configured page, byte and pixel limits
                    is 413 output_too_large (pool keys max_pdf_pages,
                    max_output_size, max_screenshot_pixels; a key missing
                    from `rendercgi-spawner --list-keys` fails its test as
                    "not implemented").

On crashing a renderer: chrome://crash as the URL is refused by the URL
policy (403) and a page cannot navigate itself there (crash-nav.html renders
normally). Two other ways are used: a page that exhausts its JavaScript heap
(memory-hog.html: V8 kills its renderer), and, from outside, killing the
stack's renderer processes (SIGKILL, by pid, only processes this stack
started) while the page is loading.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def flat(text):
    return ' '.join(text.split())


def rss_bytes(pids):
    total = 0
    for p in pids:
        try:
            with open('/proc/%d/status' % p) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Misbehaving(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One worker (so /health always describes the worker that renders),
        # one browser, one page slot.
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=1, queue_max=4,
                                request_timeout=20000)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def health(self):
        r = self.stack.get('/health', timeout=10)
        self.assertIn(r.status, (200, 503), r)
        return r.json()

    def assertNextRequestWorks(self, deadline_s=30):
        """simple.html renders again within 'deadline_s' (a browser may be
        being replaced); returns the seconds it took."""
        t0 = time.monotonic()

        def ok():
            r = self.stack.pdf('/simple.html')
            return r if r.status == 200 else None
        r = stack.poll(ok, deadline_s, interval=0.3, what='the next /pdf to succeed')
        self.assertIn('RCGISIMPLEMARK', stack.pdftotext(self.stack.save(r.body)))
        return time.monotonic() - t0

    def text(self, r):
        return flat(stack.pdftotext(self.assertPdf(r)))

    def chromium(self):
        """Pids of every Chromium process of the stack: the workers' descendants."""
        # Chromium's helpers rewrite their argv into one string: look at
        # the whole command line.
        out = []
        for w in self.stack.workers():
            out += [p for p in stack.descendants(w)
                    if 'chrom' in ' '.join(stack.proc_cmdline(p)[:1])]
        return out

    def assertIdle(self, deadline_s=5):
        """No page slot busy within 'deadline_s': the wipe after a response
        runs after the response was sent, so the slot comes back a moment later."""
        stack.poll(lambda: self.health()['slots']['busy'] == 0, deadline_s, interval=0.05,
                   what='slots.busy to be 0')

    # -- dialogs

    def test_dialogs_are_dismissed(self):
        t0 = time.monotonic()
        r = self.stack.pdf('/dialogs.html', timeout=15000)
        took = time.monotonic() - t0
        text = self.text(r)
        self.assertIn('RCGIDIALOGSDONE', text)
        # Dismissed, not accepted: confirm() is false, prompt() is null.
        self.assertIn('confirm=false', text)
        self.assertIn('prompt=null', text)
        self.assertLess(took, 10, 'three dialogs took %.1f s to get past' % took)
        self.assertNextRequestWorks()

    def test_beforeunload_does_not_hold_the_page(self):
        self.assertIn('RCGIBEFOREUNLOAD', self.text(self.stack.pdf('/beforeunload.html')))
        took = self.assertNextRequestWorks()
        self.assertLess(took, 10, 'the request after a beforeunload page took %.1f s' % took)
        self.assertIdle()

    # -- downloads

    def download_files(self):
        roots = [self.stack.tmp, os.path.expanduser('~/Downloads'), '/tmp']
        for pid in self.stack.workers() + self.chromium():
            try:
                roots.append(os.readlink('/proc/%d/cwd' % pid))
            except OSError:
                pass
        found = []
        for root in set(roots):
            depth0 = root.rstrip('/').count('/')
            for d, dirs, files in os.walk(root):
                if d.count('/') - depth0 >= (8 if root == self.stack.tmp else 1):
                    dirs[:] = []
                found += [os.path.join(d, f) for f in files if f.startswith('rcgi-dl-')]
        return found

    def test_downloads_are_denied(self):
        before = self.download_files()
        r = self.stack.pdf('/download.html', wait_ms=1500)
        # The page navigates itself to an attachment: it either stays or ends
        # as a clean error, never a hang.
        self.assertNotEqual(r.status, 504, r)
        if r.status == 200:
            self.assertTrue(r.body.startswith(b'%PDF-'), r)
        self.assertNextRequestWorks()
        self.assertEqual(self.download_files(), before, 'a download was saved')

    def test_url_that_is_an_attachment(self):
        before = self.download_files()
        t0 = time.monotonic()
        r = self.stack.pdf('/download?name=rcgi-dl-main.bin', timeout=10000)
        self.assertLess(time.monotonic() - t0, 9, r)
        if r.status != 200:
            self.assertEqual(r.header('content-type', '').split(';')[0], 'application/json', r)
            self.assertIn(r.status // 100, (4, 5), r)
        self.assertNextRequestWorks()
        self.assertEqual(self.download_files(), before, 'a download was saved')

    # -- popups

    def test_popups_are_closed(self):
        self.stack.fixture_requests(clear=True)
        r = self.stack.pdf('/popup.html', wait_ms=1500)
        text = self.text(r)
        self.assertIn('RCGIPOPUPPARENT', text)
        seen = self.stack.fixture_requests()
        opened = [e['path'] for e in seen if e['path'].startswith('/popup-child.html')]
        stack.log('popup.html: %s; popup documents requested: %r'
                  % (re.search(r'window\.open=\[\w+( \w+)?\]', text).group(0), opened))
        if not opened:
            # Blocked by Chromium, or closed before it loaded: nothing to wait for.
            self.assertNextRequestWorks()
            return

        def quiet():
            pings = [e['time'] for e in self.stack.fixture_requests()
                     if e['path'].startswith('/ping?from=popup-child')]
            return not pings or time.time() - max(pings) > 1.5
        stack.poll(quiet, 10, interval=0.25,
                   what='popups opened by an earlier request (%s) to stop pinging' % opened)
        self.assertNextRequestWorks()

    # -- scripts that never yield, crashes, memory

    def test_busy_loop_times_out(self):
        t0 = time.monotonic()
        r = self.stack.pdf('/busy-loop.html', timeout=3000)
        took = time.monotonic() - t0
        self.assertError(r, 504, 'timeout')
        self.assertLess(took, 8, 'a 3000 ms timeout on a busy loop took %.1f s' % took)
        took = self.assertNextRequestWorks()
        self.assertLess(took, 15)

    def test_crash_urls_are_refused_and_pages_cannot_reach_them(self):
        r = self.stack.get('/pdf', {'url': 'chrome://crash'})
        self.assertError(r, 403, 'url_blocked')
        self.assertIn('RCGICRASHNAV', self.text(self.stack.pdf('/crash-nav.html', wait_ms=500)))

    def renderers(self):
        return [p for p in self.chromium() if '--type=renderer' in ' '.join(stack.proc_cmdline(p))]

    def test_renderer_crash_fails_its_request(self):
        self.stack.fixture_requests(clear=True)
        result = {}

        def render():
            try:
                result['r'] = self.stack.pdf('/slow?ms=5000&tag=crash')
            except Exception as e:          # reported below
                result['e'] = e
        t = threading.Thread(target=render)
        t.start()
        try:
            stack.poll(lambda: any('tag=crash' in e['path']
                                   for e in self.stack.fixture_requests()), 20,
                       what='the browser to request /slow')
            victims = self.renderers()
            self.assertTrue(victims, 'no renderer process found')
            for p in victims:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        finally:
            t.join(60)
        self.assertFalse(t.is_alive())
        self.assertNotIn('e', result, result.get('e'))
        # The document was still loading when its renderer died.
        self.assertError(result['r'], 502, 'render_failed')
        self.assertNextRequestWorks()

    def test_page_that_exhausts_its_heap_crashes_only_its_renderer(self):
        # A renderer crash a page can cause itself: V8 dies when its heap
        # is exhausted (rendercgi caps it; Chromium's own cap is higher and
        # slower to reach). The request fails with 502 render_failed; the
        # browser survives and serves the next request.
        browsers = {p for p in self.chromium()
                    if '--remote-debugging-pipe' in stack.proc_cmdline(p)
                    and '--type=' not in ' '.join(stack.proc_cmdline(p))}
        self.assertEqual(len(browsers), 1, browsers)
        r = self.stack.pdf('/memory-hog.html', timeout=20000)
        self.assertError(r, 502, 'render_failed')
        self.assertNextRequestWorks()
        self.assertTrue(browsers <= set(self.chromium()),
                        'the browser was replaced after a renderer crash')

    def test_memory_hog_is_stopped(self):
        t0 = time.monotonic()
        r = self.stack.pdf('/memory-hog.html', timeout=15000)
        took = time.monotonic() - t0
        self.assertIn(r.status, (413, 502, 504), r)
        code = r.json()['error']['code']
        self.assertIn(code, ('render_failed', 'timeout', 'output_too_large'), r)
        self.assertLess(took, 20)
        stack.log('memory-hog.html: %s %s after %.1f s' % (r.status, code, took))
        # Whatever stopped it, the memory is given back: no Chromium process
        # is left holding more than an idle renderer's few hundred MiB.
        def biggest():
            return max([rss_bytes([p]) for p in self.chromium()] or [0])
        stack.poll(lambda: biggest() < (400 << 20), 20, interval=0.5,
                   what='every Chromium process under 400 MiB RSS (biggest: %d MiB)'
                   % (biggest() >> 20))
        self.assertNextRequestWorks()

    # -- client disconnect

    def test_client_disconnect_frees_the_slot_at_once(self):
        self.assertIdle()
        self.stack.fixture_requests(clear=True)
        self.stack.request('GET', '/events?clear=1', port=self.stack.fixture_port)
        path = stack.query('/pdf', {'url': self.stack.fixture_url('/slow?ms=30000&tag=disc')})
        req = stack.RawRequest(self.stack.port, path)
        try:
            stack.poll(lambda: any('tag=disc' in e['path'] for e in self.stack.fixture_requests()),
                       20, what='the browser to request /slow')
            self.assertEqual(self.health()['slots']['busy'], 1)
        finally:
            req.close()
        t0 = time.monotonic()
        stack.poll(lambda: self.health()['slots']['busy'] == 0, 1.5, interval=0.05,
                   what='slots.busy to drop to 0 after the client hung up')
        stack.log('slot free %.2f s after the client hung up' % (time.monotonic() - t0))
        # The render was cancelled: the browser dropped its request to /slow.
        events = lambda: [e for e in stack.http_request(  # noqa: E731
            self.stack.fixture_port, 'GET', '/events').json() if 'tag=disc' in e['path']]
        stack.poll(events, 5, what='the browser to abandon /slow')
        self.assertNextRequestWorks()

    def test_client_disconnect_while_queued(self):
        self.assertIdle()
        self.stack.fixture_requests(clear=True)
        first = stack.RawRequest(self.stack.port, stack.query(
            '/pdf', {'url': self.stack.fixture_url('/slow?ms=30000&tag=q1')}))
        second = None
        try:
            stack.poll(lambda: any('tag=q1' in e['path'] for e in self.stack.fixture_requests()),
                       20, what='the first render to start')
            second = stack.RawRequest(self.stack.port, stack.query(
                '/pdf', {'url': self.stack.fixture_url('/slow?ms=100&tag=q2')}))
            stack.poll(lambda: self.health()['queue']['depth'] == 1, 10, interval=0.05,
                       what='the second request to wait in the queue')
            second.close()
            second = None
            stack.poll(lambda: self.health()['queue']['depth'] == 0, 1.5, interval=0.05,
                       what='queue.depth to drop to 0 after the queued client hung up')
        finally:
            if second is not None:
                second.close()
            first.close()
        stack.poll(lambda: self.health()['slots']['busy'] == 0, 1.5, interval=0.05,
                   what='slots.busy to drop to 0')
        self.assertFalse(any('tag=q2' in e['path'] for e in self.stack.fixture_requests()),
                         'the abandoned queued request was rendered anyway')
        self.assertNextRequestWorks()


class SameBrowser(stack.RenderAssertions, unittest.TestCase):
    """One worker, one browser, one page slot: every request reuses the same
    browser (and, if the implementation does, the same page)."""

    @classmethod
    def setUpClass(cls):
        cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=1)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def text(self, page, **options):
        r = self.stack.pdf(page, **options)
        return flat(stack.pdftotext(self.assertPdf(r)))

    def test_cookie_and_local_storage_are_invisible(self):
        self.assertIn('RCGIISOLATIONA', self.text('/isolation-a.html'))
        self.text('/probe.html', cookies='[{"name": "rc_opt", "value": "RCGIOPTLEAK"}]')
        text = self.text('/isolation-b.html')
        self.assertIn('cookie=[] storage=[] session=[] history=1', text)
        for leak in ('RCGICOOKIELEAK', 'RCGISTORAGELEAK', 'RCGISESSIONLEAK', 'RCGIOPTLEAK'):
            self.assertNotIn(leak, text)

    def test_history_back_cannot_reach_the_previous_page(self):
        self.assertIn('RCGIHISTA', self.text('/hist-a.html'))
        self.stack.fixture_requests(clear=True)
        text = self.text('/hist-b.html', wait_ms=1500)
        self.assertIn('RCGIHISTB', text)
        self.assertIn('history=1', text)
        self.assertNotIn('RCGIHISTA', text)
        self.assertEqual([e['path'] for e in self.stack.fixture_requests()
                          if e['path'].startswith('/hist-a')], [],
                         'history.back() reached the previous request\'s page')

    def test_service_worker_does_not_serve_the_next_request(self):
        text = self.text('/sw-a.html', wait_for='#sw-ready', timeout=15000)
        # Control: within its own request the service worker works.
        self.assertIn('sw=[controlled] control=[RCGISWLEAK seen]', text)
        self.stack.fixture_requests(clear=True)
        text = self.text('/sw-b.html')
        self.assertIn('RCGISWB', text)
        self.assertNotIn('RCGISWLEAK', text)
        self.assertIn('/sw-b.html', [e['path'] for e in self.stack.fixture_requests()])


# The pool keys of the output limits (docs/configuration.md).
LIMIT_KEYS = {'pages': 'max_pdf_pages', 'bytes': 'max_output_size',
              'pixels': 'max_screenshot_pixels'}


def limit_keys():
    """The LIMIT_KEYS rows that rendercgi-spawner --list-keys knows as pool keys."""
    out = subprocess.run([stack.SPAWNER, '--list-keys'], capture_output=True, timeout=30)
    pool_keys = set()
    for line in out.stdout.decode('utf-8', 'replace').splitlines()[1:]:
        words = line.split()
        if len(words) >= 2 and words[1] == 'pool':
            pool_keys.add(words[0])
    return {kind: key for kind, key in LIMIT_KEYS.items() if key in pool_keys}


LIMITS = {'pages': '3', 'bytes': '60K', 'pixels': '1000000'}


class OutputLimits(stack.RenderAssertions, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.keys = limit_keys()
        stack.log('output limit keys found: %r' % cls.keys)
        cls.stack = None
        if cls.keys:
            cls.stack = stack.Stack(workers=1, browsers=1, pages_per_browser=2,
                                    extra={cls.keys[k]: LIMITS[k] for k in cls.keys})
            cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        if cls.stack is not None:
            cls.stack.close()

    def need(self, kind):
        if kind not in self.keys:
            self.fail('not implemented: pool key %s (the %s limit) is not in '
                      'rendercgi-spawner --list-keys' % (LIMIT_KEYS[kind], kind))

    def test_too_many_pages(self):
        self.need('pages')
        r = self.stack.pdf('/paged.html')
        self.assertError(r, 413, 'output_too_large', any_of=['page', self.keys['pages']])
        self.assertPdf(self.stack.pdf('/simple.html'))

    def test_page_ranges_within_the_page_limit(self):
        self.need('pages')
        r = self.stack.pdf('/paged.html', page_ranges='1-2')
        self.assertEqual(stack.pdfinfo(self.assertPdf(r))['pages'], 2)

    def test_too_many_bytes(self):
        self.need('bytes')
        small = self.stack.pdf('/simple.html')
        self.assertPdf(small)
        self.assertLess(len(small.body), 60 * 1024, 'simple.html alone is over the byte limit')
        r = self.stack.pdf('/article.html', tagged=True, print_background=True)
        self.assertError(r, 413, 'output_too_large', any_of=['byte', self.keys['bytes']])

    def test_too_many_pixels(self):
        self.need('pixels')
        self.assertImage(self.stack.pdf('/shot.html', route='/screenshot', type='jpeg'),
                         'jpeg', 1280, 720)
        for options in ({'width': 1280, 'height': 800},
                        {'width': 800, 'height': 600, 'device_scale_factor': 2},
                        {'full_page': True}):
            with self.subTest(**options):
                page = '/tall.html' if options.get('full_page') else '/shot.html'
                r = self.stack.pdf(page, route='/screenshot', type='jpeg', **options)
                self.assertError(r, 413, 'output_too_large', any_of=['pixel', self.keys['pixels']])


if __name__ == '__main__':
    stack.main()
