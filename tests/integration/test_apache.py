#!/usr/bin/env python3
"""test_apache.py — conf-examples/apache/rendercgi.conf is a working Apache.

The shipped example (mod_proxy_fcgi + mod_proxy_balancer over two pool
sockets), with its placeholders replaced (stack.fill_example), is included
by a minimal httpd.conf of the test's own (its ServerRoot, pid file and logs
in the test's temp dir, a free 127.0.0.1 port, User www-data as root) and
run as a real apache2 -DFOREGROUND in front of two rendercgi-spawners, one
pool each. Through Apache:

- apache2 -t accepts the configuration;
- /pdf of a fixture page is a PDF holding the page's marker word, /health
  is the worker's JSON, an unknown route is the worker's 404 not_found;
- the balancer uses both pools;
- after kill -9 of one spawner (its worker and Chromium go with it), the
  following requests all succeed on the other pool: Apache fails over when
  a member refuses the connection;
- conf-examples/apache/rendercgi-fcgid.conf, where mod_fcgid starts
  rendercgi-worker itself (socket on fd 0, as www-data when started as
  root, Chromium with its sandbox): apache2 -t accepts it, the same three
  answers, and once Apache is stopped (mod_fcgid sends its process SIGTERM)
  no worker and no Chromium is left;
- no process is left (the harness's orphan check).
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

MARKER = 'RCGISIMPLEMARK'


def apache_stack():
    return stack.FrontStack(front='apache', example=stack.APACHE_EXAMPLE, spawners=2,
                            workers=1, browsers=1, pages_per_browser=2)


def fcgid_stack():
    # mod_fcgid sends one request at a time to a process: one page slot, no queue.
    return stack.FrontStack(front='apache', example=stack.APACHE_FCGID_EXAMPLE, backend='front',
                            browsers=1, pages_per_browser=1, queue_max=0)


class Apache(unittest.TestCase, stack.RenderAssertions):

    def test_example_passes_apache_configtest(self):
        s = apache_stack()
        s.tmp = s._make_tmp()
        try:
            rc, out = s.check_apache_config()
            self.assertEqual(rc, 0, 'apache2 -t failed:\n%s' % out)
            self.assertIn('Syntax OK', out)
            with open(s.path('apache', stack.APACHE_EXAMPLE)) as f:
                text = f.read()
            for placeholder in stack.EXAMPLE_SOCKET_PATHS:
                self.assertNotIn(placeholder, text)
            for sock in s.socket_paths:
                self.assertIn('unix:%s|fcgi://' % sock, text)
            self.assertIn('failonstatus=503', text)
            self.assertIn('flushpackets=on', text)
            self.assertNotIn('enablereuse', text.replace('No "enablereuse"', ''))
        finally:
            stack.shutil.rmtree(s.tmp, ignore_errors=True)

    def test_render_health_404_and_failover_through_apache(self):
        with apache_stack() as s:
            self.stack = s
            r = s.pdf('/simple.html')
            self.assertIn(MARKER, stack.pdftotext(self.assertPdf(r)))

            self.assertError(s.get('/no-such-route'), 404, 'not_found')

            # byrequests alternates between the pools. A pool that answered
            # 503 while its browser was starting was put in error state
            # (failonstatus) for retry=2 s: within a deadline, both answer.
            spawners = {sp.pid for sp in s.spawners}
            seen = set()

            def both_pools_answer():
                r = s.get('/health')
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.header('content-type', '').startswith('application/json'), r)
                body = r.json()
                self.assertEqual(body['status'], 'ok', body)
                self.assertEqual(body['browsers']['configured'], 1, body)
                st = stack.proc_stat(body['pid'])
                if st is not None:
                    seen.add(st[1])
                return seen == spawners
            stack.poll(both_pools_answer, 20, interval=0.1, what='/health from both pools')

            # kill -9 the second pool's spawner: its worker gets SIGTERM
            # (PDEATHSIG) and takes its Chromium with it; the socket file
            # stays, and nobody accepts on it any more.
            below = s.kill_spawner(1)
            self.assertTrue(below, 'spawner 2 had no worker')
            left = stack.wait_gone(below, stack.STOP_DEADLINE_S)
            self.assertFalse(left, 'left by the killed spawner: %r' % left)
            self.assertTrue(os.path.exists(s.socket_paths[1]))

            # Every following request succeeds, on the first pool.
            survivor = s.spawners[0].pid
            for i in range(4):
                r = s.get('/health')
                self.assertEqual(r.status, 200, 'request %d after the kill: %r' % (i, r))
                self.assertEqual(stack.proc_stat(r.json()['pid'])[1], survivor, r.json())
            for i in range(2):
                r = s.pdf('/simple.html?after-kill=%d' % i)
                self.assertIn(MARKER, stack.pdftotext(self.assertPdf(r)))

    def test_fcgid_example_passes_apache_configtest(self):
        s = fcgid_stack()
        s.tmp = s._make_tmp()
        try:
            os.makedirs(s.path('t'))
            s.conf_path = s.path('rendercgi.conf')
            rc, out = s.check_apache_config()
            self.assertEqual(rc, 0, 'apache2 -t failed:\n%s' % out)
            self.assertIn('Syntax OK', out)
            with open(s.path('apache', stack.APACHE_FCGID_EXAMPLE)) as f:
                text = f.read()
            self.assertIn('FcgidWrapper "%s -c %s" virtual' % (stack.WORKER, s.conf_path), text)
            self.assertIn('FcgidOutputBufferSize 0', text)
        finally:
            stack.shutil.rmtree(s.tmp, ignore_errors=True)

    def test_fcgid_apache_runs_the_worker(self):
        with fcgid_stack() as s:
            self.stack = s
            body = self.assertServes(s, MARKER)
            self.assertEqual(body['slots']['capacity'], 1, body)

            # The worker is a child of mod_fcgid's process manager (a child
            # of Apache's parent), with the socket on fd 0.
            workers = s.workers()
            self.assertIn(body['pid'], workers)
            pm = stack.proc_stat(body['pid'])[1]
            self.assertEqual(stack.proc_stat(pm)[1], s.front.pid)
            self.assertFrontSpawnedWorker(body['pid'])
            # Stop Apache: mod_fcgid sends its processes SIGTERM.
            self.assertFrontStopLeavesNothing(s, 'apache2', workers)

if __name__ == '__main__':
    stack.main()
