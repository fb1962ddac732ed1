#!/usr/bin/env python3
"""test_spawner_reload.py — SIGHUP, the emergency restart and SIGUSR1, for real.

The real rendercgi-spawner runs tests/fakes/fake_worker (which keeps its
scoreboard entry as rendercgi-worker does; see fake_worker.c), so these tests
need no Chromium:

- SIGHUP under a steady stream of requests: every worker is replaced, one at
  a time, with zero failed or refused requests, on the very same socket;
- SIGHUP with an invalid file changes nothing and logs every problem with
  its line; fixing the file and SIGHUP again applies it;
- new workers that never become ready: the reload stops for that pool after
  ready_timeout and the old workers keep serving;
- a reload that moves a pool to another address, adds a pool and removes
  one; the worker count of a pool going up and down;
- emergency_restart_threshold crashes within emergency_restart_interval
  replace every worker;
- SIGUSR1 reopens error_log, for the spawner and its running workers alike.

Every wait polls with a deadline; only processes these tests started are
signalled, by pid. Helpers come from test_spawner_basic.py.
"""

import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_spawner_basic import (  # noqa: E402
    DEADLINE_S, FAKE_WORKER, SPAWNER, Spawner, SpawnerCase, ask, unix_listen_inode, wait_for)


class Load:
    """Clients sending requests to a unix socket, as fast as answers come,
    until stopped; every answer or failure is counted."""

    def __init__(self, sock, clients=4, line='slow 20'):
        self.sock = sock
        self.line = line
        self.ok = 0
        self.failures = []
        self.pids = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def run(self):
        while not self.stopping.is_set():
            try:
                pid, _ = ask(socket.AF_UNIX, self.sock, self.line)
                with self.lock:
                    self.ok += 1
                    self.pids.add(pid)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with self.lock:
                    self.failures.append(repr(e))

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=DEADLINE_S)

    def count(self):
        with self.lock:
            return self.ok


def read(path):
    with open(path, errors='replace') as f:
        return f.read()


class ReloadTest(SpawnerCase):

    def conf(self, sock, workers=3, extra=''):
        return ('[global]\nshutdown_timeout = 5s\n'
                '[p]\nlisten = %s\nworkers = %d\nready_timeout = 2s\n%s' % (sock, workers, extra))

    def rewrite(self, sp, text):
        with open(sp.conf + '.new', 'w') as f:
            f.write(text)
        os.rename(sp.conf + '.new', sp.conf)

    def test_sighup_under_load_replaces_every_worker_without_a_failed_request(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, self.conf(sock))
        old = sp.wait_workers(3)
        inode = unix_listen_inode(sock)
        load = Load(sock)
        try:
            wait_for(lambda: load.count() > 20, 'requests flowing')
            # Two reloads in a row, the second with one worker fewer.
            os.kill(sp.pid, signal.SIGHUP)
            wait_for(lambda: '[pool p] reload done: 3 workers replaced' in sp.log_text(),
                     'the first reload to finish', timeout=30)
            mid = sp.wait_workers(3)
            self.assertFalse(set(mid) & set(old), 'every worker was replaced')
            self.rewrite(sp, self.conf(sock, workers=2))
            os.kill(sp.pid, signal.SIGHUP)
            wait_for(lambda: sp.log_text().count('[pool p] reload done') == 2,
                     'the second reload to finish', timeout=30)
            new = sp.wait_workers(2)
            self.assertFalse(set(new) & set(mid))
            before = load.count()
            wait_for(lambda: load.count() > before + 20, 'requests still flowing')
        finally:
            load.stop()
        self.assertEqual(load.failures, [], 'failed requests during the reloads')
        self.assertGreater(load.ok, 100)
        # Old and new workers both answered: the stream really spanned them.
        self.assertTrue(load.pids & set(old) and load.pids & set(new), load.pids)
        # The socket is the one created at start: nothing was refused.
        self.assertEqual(unix_listen_inode(sock), inode)
        for w in new:
            self.assertEqual(sp.record(w)['sbfd'], '3')
        text = sp.log_text()
        # One at a time: each old worker was stopped only once its
        # replacement was ready, and said why it exited.
        self.assertRegex(text, r'\[pool p\] worker \d+ is ready after .*; it replaces worker '
                               r'%d' % old[0])
        self.assertRegex(text, r'\[pool p\] worker %d exited with status 0 after .* \(reload: '
                               r'replaced by worker \d+\)' % old[0])
        self.assertEqual(sp.stop(), 0, text)
        self.assert_gone(old + mid + new, 'every worker')

    def test_invalid_config_on_sighup_keeps_the_running_one(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, self.conf(sock, workers=2))
        old = sp.wait_workers(2)
        self.rewrite(sp, self.conf(sock, workers=2) + 'workers = many\nbogus = 1\n')
        os.kill(sp.pid, signal.SIGHUP)
        wait_for(lambda: 'keeping the running one' in sp.log_text(), 'the reload to be refused')
        text = sp.log_text()
        self.assertIn("reload: %s:7: workers: duplicate key (first set at line 5)" % sp.conf,
                      text)
        self.assertIn('reload: %s:8: bogus: unknown key' % sp.conf, text)
        self.assertEqual(sp.workers(), old, 'the workers were left alone')
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'p')
        # Fixed, it applies.
        self.rewrite(sp, self.conf(sock, workers=3))
        os.kill(sp.pid, signal.SIGHUP)
        wait_for(lambda: '[pool p] reload done' in sp.log_text(), 'the reload', timeout=30)
        new = sp.wait_workers(3)
        self.assertFalse(set(new) & set(old))
        self.assertEqual(sp.stop(), 0)

    def test_new_workers_that_never_get_ready_stop_the_reload(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, self.conf(sock, workers=2))
        old = sp.wait_workers(2)
        # Workers started from now on never say ready (a wrong chromium
        # path would do that to rendercgi-worker).
        with open(os.path.join(sp.records, 'mode'), 'w') as f:
            f.write('never_ready\n')
        load = Load(sock, clients=2, line='')
        try:
            os.kill(sp.pid, signal.SIGHUP)
            wait_for(lambda: '[pool p] reload aborted' in sp.log_text(), 'the reload to stop',
                     timeout=15)
            text = sp.log_text()
            self.assertRegex(text, r'\[pool p\] worker (\d+) did not become ready within 2 s '
                                   r'\(ready_timeout\); worker %d keeps serving' % old[0])
            self.assertIn('0 workers run the new configuration, 2 the previous one', text)
            not_ready = int(re.search(r'worker (\d+) did not become ready', text).group(1))
            self.assert_gone([not_ready], 'the worker that did not get ready')
            # Still two workers, the old ones, and no replacement is tried
            # again until the next SIGHUP.
            self.assertEqual(sp.workers(), old)
            self.assertEqual(len(sp.started()), 3)
        finally:
            load.stop()
        self.assertEqual(load.failures, [])
        self.assertEqual(sp.stop(), 0)

    def test_a_second_sighup_gives_up_a_replacement_not_ready_yet(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 5s\n'
                     '[p]\nlisten = %s\nworkers = 2\nready_timeout = 3600s\n' % sock)
        old = sp.wait_workers(2)
        mode = os.path.join(sp.records, 'mode')
        with open(mode, 'w') as f:
            f.write('never_ready\n')
        os.kill(sp.pid, signal.SIGHUP)
        stuck = wait_for(lambda: [w for w in sp.workers() if w not in old], 'a replacement')[0]
        os.remove(mode)
        # The file is fixed: a second SIGHUP does not wait an hour for it.
        os.kill(sp.pid, signal.SIGHUP)
        wait_for(lambda: '[pool p] reload done' in sp.log_text(), 'the second reload',
                 timeout=15)
        new = sp.wait_workers(2)
        self.assertFalse(set(new) & set(old + [stuck]))
        self.assert_gone(old + [stuck], 'the old workers and the one never ready')
        self.assertIn('worker %d: a newer configuration replaces it before it was ready'
                      % stuck, sp.log_text())
        self.assertEqual(sp.stop(), 0)

    def test_reload_moves_adds_and_removes_pools(self):
        a, a2, b, c = (self.path(n) for n in ('a.sock', 'a2.sock', 'b.sock', 'c.sock'))
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 5s\n'
                     '[a]\nlisten = %s\nworkers = 2\n[b]\nlisten = %s\nworkers = 1\n' % (a, b))
        olda = sp.wait_workers(2, 'a')
        oldb = sp.wait_workers(1, 'b')
        self.rewrite(sp, '[global]\nshutdown_timeout = 5s\n'
                     '[a]\nlisten = %s\nworkers = 1\n[c]\nlisten = %s\nworkers = 2\n' % (a2, c))
        os.kill(sp.pid, signal.SIGHUP)
        wait_for(lambda: '[pool a] reload done' in sp.log_text(), 'pool a rolled', timeout=30)
        newa = sp.wait_workers(1, 'a')
        sp.wait_workers(2, 'c')
        wait_for(lambda: not sp.workers('b'), 'pool b stopped')
        self.assertFalse(set(newa) & set(olda))
        self.assert_gone(olda + oldb, 'the workers of the old pools')
        self.assertEqual(ask(socket.AF_UNIX, a2)[1], 'a')
        self.assertEqual(ask(socket.AF_UNIX, c)[1], 'c')
        # The sockets no pool uses any more are closed and their files gone.
        wait_for(lambda: not os.path.exists(a) and not os.path.exists(b), 'old socket files')
        text = sp.log_text()
        self.assertIn('[pool b] removed from the configuration', text)
        self.assertIn('[pool c] added: starting 2 workers', text)
        self.assertRegex(text, r'worker %d exited with status 0 after .* \(pool removed\)'
                         % oldb[0])
        self.assertEqual(sp.stop(), 0)
        self.assertFalse(os.path.exists(a2) or os.path.exists(c))

    def test_emergency_restart_replaces_every_worker(self):
        sock = self.path('u.sock')
        other = self.path('o.sock')
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 5s\n'
                     'emergency_restart_threshold = 3\nemergency_restart_interval = 20s\n'
                     '[p]\nlisten = %s\nworkers = 3\n[q]\nlisten = %s\nworkers = 1\n'
                     % (sock, other))
        old = sp.wait_workers(3, 'p')
        oldq = sp.wait_workers(1, 'q')
        # Two crashes and a kill: no emergency yet (SIGKILL is no crash).
        os.kill(old[0], signal.SIGSEGV)
        os.kill(old[1], signal.SIGKILL)
        os.kill(old[2], signal.SIGBUS)
        wait_for(lambda: len(sp.workers('p')) == 3 and not set(sp.workers('p')) & set(old),
                 'the three replaced')
        self.assertNotIn('emergency restart', sp.log_text())
        self.assertEqual(sp.workers('q'), oldq)
        # The third crash within the interval restarts everyone, q too.
        victim = sp.workers('p')[0]
        ask(socket.AF_UNIX, sock, 'crash 11')
        wait_for(lambda: 'emergency restart: 3 workers crashed within 20 s' in sp.log_text(),
                 'the emergency restart')
        wait_for(lambda: '[pool q] emergency restart done' in sp.log_text() and
                 '[pool p] emergency restart done' in sp.log_text(), 'both pools rolled',
                 timeout=30)
        self.assertNotEqual(sp.workers('q'), oldq)
        self.assertNotIn(victim, sp.workers('p'))
        self.assertEqual(sp.stop(), 0)

    def test_sigusr1_reopens_error_log_for_spawner_and_workers(self):
        sock = self.path('u.sock')
        log = self.path('rendercgi.log')
        sp = Spawner(self.tmp, '[global]\nerror_log = %s\n[p]\nlisten = %s\nworkers = 1\n'
                     % (log, sock))
        w = sp.wait_workers(1)[0]
        # The worker's stderr is the spawner's pipe, not the file.
        self.assertTrue(sp.record(w)['stderr'].startswith('pipe:'), sp.record(w))
        ask(socket.AF_UNIX, sock, 'log before rotation')
        wait_for(lambda: os.path.exists(log) and
                 'fake_worker[%d]: before rotation\n' % w in read(log), 'the first line')
        os.rename(log, log + '.1')
        os.kill(sp.pid, signal.SIGUSR1)
        wait_for(lambda: os.path.exists(log), 'the new file')
        ask(socket.AF_UNIX, sock, 'log after rotation')
        wait_for(lambda: 'fake_worker[%d]: after rotation\n' % w in read(log),
                 'the running worker writing to the new file')
        self.assertIn('error_log: (re)opened %s' % log, read(log))
        self.assertNotIn('after rotation', read(log + '.1'))
        self.assertEqual(sp.stop(), 0)
        self.assertIn('stopped', read(log))
        self.assertNotIn('would not die', read(log))


def main():
    for path in (SPAWNER, FAKE_WORKER):
        if not os.access(path, os.X_OK):
            print('missing %s: build it first (make check builds both)' % path)
            return 1
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
