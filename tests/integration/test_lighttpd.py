#!/usr/bin/env python3
"""test_lighttpd.py — the conf-examples/lighttpd/ files are working lighttpd.

Each shipped example, with its placeholders replaced (stack.fill_example), is
included by a minimal lighttpd.conf of the test's own (pid file and logs in
the test's temp dir, a free 127.0.0.1 port, server.username www-data as
root) and run as a real lighttpd -D:

- rendercgi.conf, in front of two rendercgi-spawners (one pool each): /pdf
  of a fixture page is a PDF holding its marker word, /health is the
  worker's JSON, an unknown route is the worker's 404 not_found; after
  kill -9 of the spawner of the pool that was answering (its worker and
  Chromium go with it), the following requests all succeed on the other
  pool;
- rendercgi-bin-path.conf, where lighttpd starts rendercgi-worker itself
  (socket on fd 0, as www-data when started as root, Chromium with its
  sandbox): the same three answers, and once lighttpd is stopped (SIGTERM,
  which it passes on to the worker as kill-signal) no worker and no
  Chromium is left.

Both pass lighttpd -tt first. No process is left (the harness's orphan check).
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

MARKER = 'RCGISIMPLEMARK'


def sockets_stack():
    return stack.FrontStack(front='lighttpd', example=stack.LIGHTTPD_EXAMPLE, spawners=2,
                            workers=1, browsers=1, pages_per_browser=2)


def bin_path_stack():
    return stack.FrontStack(front='lighttpd', example=stack.LIGHTTPD_BIN_EXAMPLE,
                            backend='front', browsers=1, pages_per_browser=2)


class Lighttpd(unittest.TestCase, stack.RenderAssertions):

    def check_config(self, s):
        s.tmp = s._make_tmp()
        try:
            os.makedirs(s.path('t'))
            s.conf_path = s.path('rendercgi.conf')
            rc, out = s.check_lighttpd_config()
            self.assertEqual(rc, 0, 'lighttpd -tt failed for %s:\n%s' % (s.example, out))
            with open(s.path('lighttpd', s.example)) as f:
                text = f.read()
            self.assertIn('server.stream-response-body = 2', text)
            self.assertIn('"check-local"', text)
            return text
        finally:
            stack.shutil.rmtree(s.tmp, ignore_errors=True)

    def test_sockets_example_passes_lighttpd_tt(self):
        s = sockets_stack()
        text = self.check_config(s)
        for placeholder in stack.EXAMPLE_SOCKET_PATHS:
            self.assertNotIn(placeholder, text)
        self.assertIn('"socket"       => "%s"' % s.socket_paths[1], text)

    def test_bin_path_example_passes_lighttpd_tt(self):
        s = bin_path_stack()
        text = self.check_config(s)
        self.assertIn('"bin-path"    => "%s -c %s"' % (stack.WORKER, s.conf_path), text)
        self.assertNotIn(stack.EXAMPLE_BIN_SOCKET, text)

    def assert_serves(self, s):
        body = self.assertServes(s, MARKER)
        self.assertEqual(body['browsers']['configured'], 1, body)
        return body

    def test_sockets_render_and_fail_over(self):
        with sockets_stack() as s:
            self.stack = s
            body = self.assert_serves(s)
            # Kill the pool that answered (least-connection may well send
            # every sequential request to the same one).
            s.wait_pools_ready()
            answered = stack.proc_stat(body['pid'])[1]
            victim = [sp.pid for sp in s.spawners].index(answered)
            below = s.kill_spawner(victim)
            self.assertIn(body['pid'], below)
            left = stack.wait_gone(below, stack.STOP_DEADLINE_S)
            self.assertFalse(left, 'left by the killed spawner: %r' % left)

            survivor = s.spawners[1 - victim].pid
            for i in range(4):
                r = s.get('/health')
                self.assertEqual(r.status, 200, 'request %d after the kill: %r' % (i, r))
                self.assertEqual(stack.proc_stat(r.json()['pid'])[1], survivor, r.json())
            for i in range(2):
                r = s.pdf('/simple.html?after-kill=%d' % i)
                self.assertIn(MARKER, stack.pdftotext(self.assertPdf(r)))

    def test_bin_path_lighttpd_runs_the_worker(self):
        with bin_path_stack() as s:
            self.stack = s
            body = self.assert_serves(s)
            workers = s.workers()
            self.assertEqual(workers, [body['pid']])
            # The worker is lighttpd's child, with the socket on fd 0.
            self.assertEqual(stack.proc_stat(body['pid'])[1], s.front.pid)
            self.assertFrontSpawnedWorker(body['pid'])
            # Stop lighttpd: it sends its worker SIGTERM.
            self.assertFrontStopLeavesNothing(s, 'lighttpd', workers)

if __name__ == '__main__':
    stack.main()
