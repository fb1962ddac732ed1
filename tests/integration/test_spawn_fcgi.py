#!/usr/bin/env python3
"""test_spawn_fcgi.py — rendercgi-worker started by spawn-fcgi, nginx in front.

    spawn-fcgi -n -s TMP/rcgi.sock -M 0600 -- rendercgi-worker -c TMP/rendercgi.conf

spawn-fcgi binds the socket and execs the worker in its place with the
socket on fd 0 (-n: no fork, as under daemontools or systemd). nginx runs
the shipped conf-examples/nginx/rendercgi.conf through the harness. Through
nginx: /pdf of a fixture page is a PDF holding its marker word, /health is
the worker's JSON, an unknown route is the worker's 404 not_found. Then
SIGTERM to the worker (the process spawn-fcgi became): it exits 0 and no
Chromium, nor anything else it started, is left — there is no spawner here
to sweep up after it.
"""

import os
import signal
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

MARKER = 'RCGISIMPLEMARK'


class SpawnFcgi(unittest.TestCase, stack.RenderAssertions):

    def test_worker_under_spawn_fcgi_serves_and_leaves_nothing(self):
        with stack.FrontStack(front='nginx', backend='spawn-fcgi', browsers=1,
                              pages_per_browser=2) as s:
            self.stack = s
            body = self.assertServes(s, MARKER)

            # spawn-fcgi -n became the worker: same pid, socket on fd 0.
            worker = s.manager.pid
            self.assertEqual(body['pid'], worker)
            self.assertEqual(os.path.basename(stack.proc_cmdline(worker)[0]),
                             'rendercgi-worker')
            self.assertTrue(os.readlink('/proc/%d/fd/0' % worker).startswith('socket:'))
            self.assertTrue(s.chromium_mains())
            everyone = stack.descendants(worker)
            everyone.update({p: None for p in s.chromium_procs()})
            self.assertTrue(everyone)

            s.manager.send_signal(signal.SIGTERM)
            s.manager.wait(stack.STOP_DEADLINE_S)
            self.assertEqual(s.manager.returncode, 0, stack.tail(s.path('spawner.log')))
            left = stack.wait_gone(everyone, stack.STOP_DEADLINE_S)
            self.assertFalse(left, 'left after the worker stopped: %r' % left)
            self.assertEqual(s.chromium_procs(), [])


if __name__ == '__main__':
    stack.main()
