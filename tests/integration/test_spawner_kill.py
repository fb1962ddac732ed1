#!/usr/bin/env python3
"""test_spawner_kill.py — kill -9 each kind of process the spawner runs.

The real rendercgi-spawner runs tests/fakes/fake_worker in "leave_child"
mode: each worker has a child in a process group of its own, which has a
child of its own (what Chromium's browser and zygote look like to the
spawner). Then, with SIGKILL:

- one worker: the pool is restored, what it left is killed, nothing else is
  touched;
- every worker of a pool at once: the pool is restored at once (no backoff
  for workers that had lived), every leftover is killed, the other pool
  keeps its workers;
- a worker's child: the worker is not the spawner's business to replace,
  and stays;
- the spawner itself: every worker exits (PDEATHSIG).

After each, no orphan: every process is a live worker of the right count,
or one of their own children.
"""

import os
import signal
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_spawner_basic import (  # noqa: E402
    FAKE_WORKER, SPAWNER, Spawner, SpawnerCase, alive, all_procs, ask, descendants, wait_for)


class KillTest(SpawnerCase):

    def start(self):
        self.a, self.b = self.path('a.sock'), self.path('b.sock')
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 5s\n'
                     '[a]\nlisten = %s\nworkers = 3\n[b]\nlisten = %s\nworkers = 2\n'
                     % (self.a, self.b), mode='leave_child')
        sp.wait_workers(3, 'a')
        sp.wait_workers(2, 'b')
        return sp

    def family(self, sp, w):
        """A worker's child and grandchild, once it has written them down."""
        return wait_for(lambda: sp.children_record(w), 'the children of %d' % w)

    def assert_no_orphans(self, sp, pools):
        """Every process below the spawner is a worker of the expected
        count per pool, or a child of one of them."""
        def settled():
            workers = {p: sp.workers(p) for p in pools}
            if any(len(workers[p]) != n for p, n in pools.items()):
                return None
            known = set()
            for ws in workers.values():
                for w in ws:
                    kids = sp.children_record(w)
                    if kids is None:
                        return None
                    known |= {w, *kids}
            return set(descendants(sp.pid)) == known and known
        wait_for(settled, 'the pools restored with no orphan: %r' % pools)

    def test_kill_one_worker(self):
        sp = self.start()
        victim = sp.workers('a')[0]
        kids = self.family(sp, victim)
        others = {w: self.family(sp, w) for w in sp.workers() if w != victim}
        os.kill(victim, signal.SIGKILL)
        self.assert_gone([victim, *kids], 'the worker and what it left')
        self.assert_no_orphans(sp, {'a': 3, 'b': 2})
        for w, k in others.items():
            self.assertTrue(alive(w) and all(alive(p) for p in k), 'bystander %d' % w)
        self.assertEqual(ask(socket.AF_UNIX, self.a)[1], 'a')
        self.assertEqual(sp.stop(), 0)

    def test_kill_every_worker_of_a_pool_at_once(self):
        sp = self.start()
        victims = sp.workers('a')
        left = [p for v in victims for p in self.family(sp, v)]
        pool_b = sp.workers('b')
        for v in victims:
            os.kill(v, signal.SIGKILL)
        self.assert_gone(victims + left, 'every worker of pool a and what they left')
        self.assert_no_orphans(sp, {'a': 3, 'b': 2})
        self.assertEqual(sp.workers('b'), pool_b, 'pool b untouched')
        # Workers that had lived were restarted at once, without backoff.
        self.assertNotIn('restarting in', sp.log_text())
        self.assertEqual(ask(socket.AF_UNIX, self.a)[1], 'a')
        everyone = descendants(sp.pid)
        self.assertEqual(sp.stop(), 0)
        self.assert_gone(everyone, 'every process after SIGTERM')

    def test_kill_a_workers_child(self):
        sp = self.start()
        w = sp.workers('b')[0]
        child, grandchild = self.family(sp, w)
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: not alive(child), 'the child to die')
        # The worker owns its children: the spawner restarts nobody.
        self.assertIn(w, sp.workers('b'))
        self.assertEqual(len(sp.started()), 5)
        everyone = descendants(sp.pid) + [grandchild]
        self.assertEqual(sp.stop(), 0)
        self.assert_gone(everyone, 'every process after SIGTERM')

    def test_kill_the_spawner(self):
        sp = Spawner(self.tmp, '[a]\nlisten = %s\nworkers = 2\n[b]\nlisten = %s\nworkers = 1\n'
                     % (self.path('a.sock'), self.path('b.sock')))
        workers = sp.wait_workers(2, 'a') + sp.wait_workers(1, 'b')
        sp.proc.kill()
        sp.proc.wait()
        self.assert_gone(workers, 'the workers of a SIGKILLed spawner')
        mark = ('FAKE_WORKER_DIR=%s' % sp.records).encode()
        for pid in all_procs():
            try:
                with open('/proc/%d/environ' % pid, 'rb') as f:
                    self.assertNotIn(mark, f.read().split(b'\0'), 'process %d left' % pid)
            except OSError:
                pass
        # Their TMPDIRs stayed (nobody was left to remove them); the next
        # spawner removes them before it starts its own workers.
        dirs = [sp.record(w)['tmpdir'] for w in workers]
        self.assertTrue(all(os.path.isdir(d) for d in dirs))
        sp2 = Spawner(self.tmp, '[a]\nlisten = %s\nworkers = 1\n' % self.path('a.sock'))
        sp2.wait_workers(1)
        self.assertFalse(any(os.path.exists(d) for d in dirs))
        self.assertRegex(sp2.log_text(), r'removed \d+ temporary director(y|ies) of workers')
        self.assertEqual(sp2.stop(), 0)


def main():
    for path in (SPAWNER, FAKE_WORKER):
        if not os.access(path, os.X_OK):
            print('missing %s: build it first (make check builds both)' % path)
            return 1
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
