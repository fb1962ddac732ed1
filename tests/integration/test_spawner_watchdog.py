#!/usr/bin/env python3
"""test_spawner_watchdog.py — recycling, the watchdog and the backoff, for real.

The real rendercgi-spawner runs tests/fakes/fake_worker, which keeps its
scoreboard entry as rendercgi-worker does and can be told to misbehave (see
fake_worker.c):

- max_requests: workers are replaced once they served that many, the
  replacement first (ready before the old one stops), with no failed
  request; the recycling shows in the pids that answer;
- max_memory: a worker reporting more PSS is drained and replaced;
- request_terminate_timeout: a worker with a request stuck past it is
  killed and replaced, and the log names the route and the age;
- liveness_timeout: a worker that stops its heartbeat (and ignores
  SIGTERM) is killed with SIGKILL and replaced;
- a worker binary that exits at start backs off: over 30 s it is started
  only a handful of times, and the spawner uses almost no CPU meanwhile.

Every wait polls with a deadline; only processes these tests started are
signalled, by pid. Helpers come from test_spawner_basic.py.
"""

import os
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_spawner_basic import (  # noqa: E402
    FAKE_WORKER, SPAWNER, Spawner, SpawnerCase, alive, ask, wait_for)

CLK_TCK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    """User + system CPU time a process used so far."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class WatchdogTest(SpawnerCase):

    def test_max_requests_recycles_with_the_replacement_ready_first(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[p]\nlisten = %s\nworkers = 2\nmax_requests = 10\n' % sock)
        first = sp.wait_workers(2)
        served = {}
        failures = []
        # Requests one after the other until four workers have been
        # recycled; every one must be answered.
        deadline = time.monotonic() + 20
        while len([p for p in served if not alive(p)]) < 4:
            self.assertLess(time.monotonic(), deadline, 'recycling too slow: %r' % served)
            try:
                pid, _ = ask(socket.AF_UNIX, sock, 'slow 5')
                served[pid] = served.get(pid, 0) + 1
            except OSError as e:
                failures.append(repr(e))
        self.assertEqual(failures, [])
        gone = [p for p in served if not alive(p)]
        for p in gone:
            # Replaced only after max_requests; it kept serving while its
            # replacement started, so a few more is fine.
            self.assertGreaterEqual(served[p], 10, served)
        self.assertTrue(set(first) <= set(gone) | set(sp.workers()))
        # A dead worker is logged once the spawner has reaped it.
        for p in gone:
            wait_for(lambda p=p: re.search(
                r'\[pool p\] worker %d exited with status 0 after .* \(\d+ requests served, '
                r'max_requests 10: replaced by worker \d+\)' % p, sp.log_text()),
                'the exit of worker %d in the log' % p)
        text = sp.log_text()
        for p in gone:
            self.assertRegex(text, r'\[pool p\] worker \d+ started \(replacing worker %d: \d+ '
                                   r'requests served, max_requests 10\)' % p)
        # The replacement was up before the old one was told to stop.
        for p in gone:
            ready = re.search(r'worker \d+ is ready after [^;]*; it replaces worker %d\n' % p, text)
            stop = re.search(r'worker %d: \d+ requests served, max_requests 10: replaced by '
                             r'worker \d+; sending SIGTERM' % p, text)
            self.assertIsNotNone(ready, text)
            self.assertIsNotNone(stop, text)
            self.assertLess(ready.start(), stop.start())
        # Once the last replacement is done, the pool is back to two.
        wait_for(lambda: len(sp.workers()) == 2, 'two workers')
        self.assertEqual(sp.stop(), 0)

    def test_max_memory_drains_and_replaces_the_worker(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[p]\nlisten = %s\nworkers = 2\nmax_memory = 100M\n' % sock)
        workers = sp.wait_workers(2)
        pid, _ = ask(socket.AF_UNIX, sock, 'pss %d' % (150 << 20))
        wait_for(lambda: re.search(r'worker %d exited with status 0 after .* \(PSS 150 MiB is '
                                   r'above max_memory 100 MiB: replaced by worker \d+\)' % pid,
                                   sp.log_text()), 'worker %d replaced' % pid)
        wait_for(lambda: len(sp.workers()) == 2, 'two workers')
        other = [w for w in workers if w != pid][0]
        self.assertIn(other, sp.workers(), 'the other worker stays')
        # Below the limit: nothing happens.
        ask(socket.AF_UNIX, sock, 'pss %d' % (50 << 20))
        self.assertEqual(sp.stop(), 0)

    def test_a_request_stuck_past_the_terminate_timeout_gets_its_worker_replaced(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[p]\nlisten = %s\nworkers = 2\nrequest_timeout = 500\n'
                     'request_terminate_timeout = 1s\n' % sock)
        sp.wait_workers(2)
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(10)
            c.connect(sock)
            c.sendall(b'stick pdf\n')
            t0 = time.monotonic()
            # The client sees its connection closed when the worker dies.
            self.assertEqual(c.recv(100), b'')
            waited = time.monotonic() - t0
        self.assertGreater(waited, 0.9)
        self.assertLess(waited, 5)
        text = wait_for(lambda: re.search(r'worker (\d+) exited .*\(request on /pdf \(thread 0\) '
                                          r'running for 1 s, over request_terminate_timeout 1 s\)',
                                          sp.log_text()), 'the log line')
        stuck = int(text.group(1))
        wait_for(lambda: len(sp.workers()) == 2 and stuck not in sp.workers(), 'a replacement')
        self.assertRegex(sp.log_text(), r'worker \d+ started \(replacement\)')
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'p')
        self.assertEqual(sp.stop(), 0)

    def test_a_worker_that_stops_its_heartbeat_is_killed_and_replaced(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[p]\nlisten = %s\nworkers = 1\nliveness_timeout = 3s\n' % sock)
        sp.wait_workers(1)
        hung, _ = ask(socket.AF_UNIX, sock, 'hang')
        # It ignores SIGTERM too: SIGKILL follows 3 s later.
        wait_for(lambda: re.search(r'worker %d exited on signal 9 \(SIGKILL\) after .* \(no '
                                   r'heartbeat' % hung, sp.log_text()), 'the hung worker killed',
                 timeout=15)
        new = sp.wait_workers(1)
        self.assertNotIn(hung, new)
        text = sp.log_text()
        self.assertRegex(text, r'worker %d: no heartbeat for 3 s \(liveness_timeout 3 s\); '
                               r'sending SIGTERM \(SIGKILL in 3 s\)' % hung)
        self.assertRegex(text, r'worker %d still running 3 s after SIGTERM' % hung)
        self.assertEqual(ask(socket.AF_UNIX, sock)[0], new[0])
        self.assertEqual(sp.stop(), 0)

    def test_a_worker_binary_that_exits_at_start_backs_off_for_30_s(self):
        sp = Spawner(self.tmp, '[p]\nlisten = %s\nworkers = 2\n' % self.path('u.sock'),
                     mode='exit:1')
        cpu0 = cpu_seconds(sp.pid)
        # Watch for 30 s (the length of the window is the point of the test).
        end = time.monotonic() + 30
        wait_for(lambda: time.monotonic() >= end, '30 s to pass', timeout=40)
        starts = len(sp.started())
        # Two workers, each: at once, then about 0.25, 0.5, 1, 2, 4, 8, 16 s
        # (half of it random): at most 9 each in 30 s. A loop would be
        # thousands.
        self.assertGreaterEqual(starts, 8)
        self.assertLessEqual(starts, 20)
        self.assertLess(cpu_seconds(sp.pid) - cpu0, 1.0, 'the spawner spun the CPU')
        text = sp.log_text()
        self.assertRegex(text, r'exited with status 1 after \d+ ms; restarting in \d+ (ms|s) '
                               r'\(\d quick exits in a row\)')
        self.assertEqual(len(re.findall(r'worker \d+ started', text)), starts)
        self.assertEqual(sp.stop(), 0)


def main():
    for path in (SPAWNER, FAKE_WORKER):
        if not os.access(path, os.X_OK):
            print('missing %s: build it first (make check builds both)' % path)
            return 1
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
