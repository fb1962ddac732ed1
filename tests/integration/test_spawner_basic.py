#!/usr/bin/env python3
"""test_spawner_basic.py — rendercgi-spawner for real, with a fake worker.

The spawner runs tests/fakes/fake_worker (through $RENDERCGI_WORKER) instead
of rendercgi-worker, so these tests need no Chromium and check only what the
spawner promises (API.md §4, spawner/*.h):

- every pool's socket is created (unix path with its mode, 127.0.0.1:port,
  [::1]:port) and each worker has exactly it on fd 0, nothing else above fd 2,
  default signal dispositions, an empty signal mask, its own session, and
  "-c ABSOLUTE_FILE --pool NAME" as arguments;
- a worker killed with SIGKILL is replaced; what it left behind (a child in
  its own process group, and that child's child) is killed by the spawner;
- a worker that keeps dying is restarted with growing delays;
- SIGTERM stops everything within the deadline (SIGKILL after
  shutdown_timeout for a worker that ignores SIGTERM), removes the socket file
  and the pid file, and the spawner exits 0;
- daemon mode detaches and reports readiness; a second spawner on the same
  pid file or socket refuses; workers die with a SIGKILLed spawner;
- --test-config, usage errors and exit codes 0/1/2.

The fake worker writes what it was given to FAKE_WORKER_DIR/<pid> and
answers every connection with "<pid> <pool>". Every wait polls with a
deadline. Only processes this file started (the spawners, and whatever
descends from them) are ever signalled, by pid.

Environment: RCGI_BUILDDIR (build tree; default: the current directory),
RCGI_SRCDIR (source tree, for conf-examples/; default: two levels up from
this file). Python 3 standard library only. Exit 0 on success, 1 on failure.
"""

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import shutil
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDDIR = os.path.abspath(os.environ.get('RCGI_BUILDDIR') or os.getcwd())
SRCDIR = os.path.abspath(os.environ.get('RCGI_SRCDIR') or os.path.join(HERE, '..', '..'))
SPAWNER = os.path.join(BUILDDIR, 'rendercgi-spawner')
FAKE_WORKER = os.path.join(BUILDDIR, 'tests', 'fakes', 'fake_worker')

DEADLINE_S = 10.0


def wait_for(pred, what, timeout=DEADLINE_S):
    """Poll pred() until it returns something true; fail after timeout."""
    end = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError('timed out after %.1f s waiting for %s' % (timeout, what))
        time.sleep(0.02)


def proc_stat(pid):
    """(state, ppid, pgid, sid) of a process, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(')') + 2:].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3])


def alive(pid):
    """Running, and not a zombie (zombies of the spawner are its business)."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ('Z', 'X')


def all_procs():
    out = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None:
                out[int(name)] = st
    return out


def descendants(root):
    """Live pids below 'root' (not root itself)."""
    procs = all_procs()
    kids = {}
    for pid, st in procs.items():
        kids.setdefault(st[1], []).append(pid)
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            if procs[k][0] not in ('Z', 'X'):
                out.append(k)
            todo.append(k)
    return out


def socket_inode(link):
    m = re.match(r'socket:\[(\d+)\]$', link)
    return int(m.group(1)) if m else None


def fd_inodes(pid):
    """{fd: socket inode} of a process."""
    out = {}
    d = '/proc/%d/fd' % pid
    for name in os.listdir(d):
        try:
            ino = socket_inode(os.readlink(os.path.join(d, name)))
        except OSError:
            continue
        if ino is not None:
            out[int(name)] = ino
    return out


def unix_listen_inode(path):
    """The inode of the socket listening at 'path', from /proc/net/unix
    (accepted connections show the path too, without the listening flag)."""
    with open('/proc/net/unix') as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path and int(parts[3], 16) & 0x10000:
                return int(parts[6])
    return None


def tcp_listen_inode(table, port):
    """The inode of the socket listening on 'port', from /proc/net/tcp{,6}."""
    with open(table) as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if int(parts[1].split(':')[1], 16) == port and parts[3] == '0A':
                return int(parts[9])
    return None


def free_port(family=socket.AF_INET, host='127.0.0.1'):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ask(family, addr, line=''):
    """Connect to a pool, send one request line (see fake_worker.c) and
    return (pid, pool) of the worker that answered."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(addr)
        s.sendall(line.encode() + b'\n')
        data = b''
        while not data.endswith(b'\n'):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
    pid, pool = data.decode().split()
    return int(pid), pool


class Spawner:
    """One rendercgi-spawner run with the fake worker, in its own temp dir."""

    def __init__(self, tmp, conf_text=None, mode='serve', args=(), foreground=True,
                 env=None, preexec_fn=None, pass_fds=()):
        self.tmp = tmp
        self.records = os.path.join(tmp, 'w')
        os.makedirs(self.records, exist_ok=True)
        self.log = os.path.join(tmp, 'spawner.log')
        self.conf = None
        argv = [SPAWNER]
        if conf_text is not None:
            self.conf = os.path.join(tmp, 'rendercgi.conf')
            with open(self.conf, 'w') as f:
                f.write(conf_text)
            argv += ['-c', self.conf]
        if foreground:
            argv.append('--foreground')
        argv += list(args)
        e = dict(os.environ)
        e.update({'RENDERCGI_WORKER': FAKE_WORKER, 'FAKE_WORKER_DIR': self.records,
                  'FAKE_WORKER_MODE': mode})
        e.update(env or {})
        with open(self.log, 'ab') as logf:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, env=e, cwd=tmp,
                                         preexec_fn=preexec_fn, pass_fds=pass_fds)
        self.pid = self.proc.pid
        STARTED.append(self)

    def log_text(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def record(self, pid):
        """What worker 'pid' reported about itself, as a dict, or None."""
        try:
            with open(os.path.join(self.records, str(pid))) as f:
                return dict(kv.split('=', 1) for kv in f.read().split())
        except OSError:
            return None

    def children_record(self, pid):
        try:
            with open(os.path.join(self.records, '%d.child' % pid)) as f:
                d = dict(kv.split('=', 1) for kv in f.read().split())
            return int(d['child']), int(d['grandchild'])
        except OSError:
            return None

    def started(self):
        """Pids of every worker started so far (live or not)."""
        return sorted(int(n) for n in os.listdir(self.records) if n.isdigit())

    def workers(self, pool=None):
        """Live workers: children of the spawner that reported in."""
        out = []
        for pid in descendants(self.pid):
            st = proc_stat(pid)
            if st is None or st[1] != self.pid:
                continue
            rec = self.record(pid)
            if rec is not None and (pool is None or rec['pool'] == pool):
                out.append(pid)
        return sorted(out)

    def wait_workers(self, n, pool=None):
        return wait_for(lambda: len(self.workers(pool)) == n and self.workers(pool),
                        '%d workers%s' % (n, ' in pool ' + pool if pool else ''))

    def stop(self, timeout=DEADLINE_S):
        """SIGTERM; return the exit status."""
        os.kill(self.pid, signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill_all(self):
        """Last resort for a failed test: SIGKILL what we started, by pid.
        The spawner is stopped first so it cannot start new workers meanwhile,
        and killed last so nothing is re-parented away from it."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            end = time.monotonic() + DEADLINE_S
            while time.monotonic() < end:
                left = descendants(self.pid)
                if not left:
                    break
                for pid in left:
                    _kill(pid)
                time.sleep(0.02)
            self.proc.kill()
            self.proc.wait()
        # Workers (and their children) that escaped to init, e.g. when a
        # test killed the spawner: known by the records they wrote, and
        # checked by their environment so a reused pid is never touched.
        mark = ('FAKE_WORKER_DIR=%s' % self.records).encode()
        pids = list(self.started())
        for pid in self.started():
            pids += list(self.children_record(pid) or ())
        for pid in pids:
            try:
                with open('/proc/%d/environ' % pid, 'rb') as f:
                    if mark in f.read().split(b'\0'):
                        _kill(pid)
            except OSError:
                pass
        # The private TMPDIRs of workers a killed spawner could not remove.
        for pid in self.started():
            rec = self.record(pid)
            if rec and rec.get('tmpdir', '-').startswith('/') and not alive(pid):
                shutil.rmtree(rec['tmpdir'], ignore_errors=True)


STARTED = []


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class SpawnerCase(unittest.TestCase):
    """The fixtures every spawner test uses (test_spawner_*.py import it):
    a temp dir, and everything started killed at the end."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='rcgi-spawner-')

    def tearDown(self):
        for sp in STARTED:
            sp.kill_all()
        STARTED.clear()
        if os.environ.get('RCGI_KEEP_TMP') != '1':
            shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run_spawner(self, args, conf_text=None, env=None):
        argv = [SPAWNER]
        if conf_text is not None:
            with open(self.path('t.conf'), 'w') as f:
                f.write(conf_text)
            argv += ['-c', self.path('t.conf')]
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run(argv + list(args), capture_output=True, text=True,
                              timeout=DEADLINE_S, env=e, cwd=self.tmp)

    def assert_gone(self, pids, what):
        wait_for(lambda: not any(alive(p) for p in pids), what + ' gone')


class SpawnerTest(SpawnerCase):

    # ---- command line and --test-config ---------------------------------

    def test_cli_exit_codes_and_test_config(self):
        r = self.run_spawner(['--help'])
        self.assertEqual(r.returncode, 0)
        for opt in ('--config', '--foreground', '--pidfile', '--test-config', '--workers',
                    '--listen', '--help', '--version', '--print-config', '--list-keys'):
            self.assertIn(opt, r.stdout)
        self.assertEqual(self.run_spawner(['--bogus']).returncode, 2)
        self.assertEqual(self.run_spawner(['-t', 'extra']).returncode, 2)
        self.assertIn('rendercgi-spawner ', self.run_spawner(['--version']).stdout)

        r = self.run_spawner(['-t'], '[a]\nlisten = /tmp/a.sock\nworkers = 3\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('is valid', r.stdout)

        r = self.run_spawner(['-t'], '[a]\nworkers = none\nbogus = 1\n[b\n')
        self.assertEqual(r.returncode, 2)
        conf = self.path('t.conf')
        self.assertIn("%s:2: workers: 'none' is not a whole number\n" % conf, r.stderr)
        self.assertIn('%s:3: bogus: unknown key\n' % conf, r.stderr)
        self.assertIn('%s:4: [b: unterminated section header' % conf, r.stderr)

        r = self.run_spawner(['-t', '--workers', '0'], '')
        self.assertEqual(r.returncode, 2)
        self.assertIn('command line: workers: 0 is out of range', r.stderr)
        r = self.run_spawner(['-t', '--listen', '/tmp/x.sock'],
                             '[a]\nlisten=/tmp/a.sock\n[b]\nlisten=/tmp/b.sock\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn('--listen needs a configuration with one pool', r.stderr)
        r = self.run_spawner(['-t'], None)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.run_spawner(['-t', '-c', self.path('missing.conf')]).returncode, 2)

        # The shipped example is valid, and --print-config reads back.
        example = os.path.join(SRCDIR, 'conf-examples', 'rendercgi.conf')
        r = self.run_spawner(['-t', '-c', example])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_spawner(['--print-config', '-c', example])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path('printed.conf'), 'w') as f:
            f.write(r.stdout)
        r2 = self.run_spawner(['--print-config', '-c', self.path('printed.conf')])
        self.assertEqual(r2.stdout.split('\n', 1)[1], r.stdout.split('\n', 1)[1])
        # Every key of the table is listed, and documented in the example.
        keys = [line.split()[0] for line in
                self.run_spawner(['--list-keys']).stdout.splitlines()[1:]]
        self.assertIn('shutdown_timeout', keys)
        with open(example) as f:
            text = f.read()
        for k in keys:
            self.assertRegex(text, r'(?m)^;?\s*%s\s*=' % re.escape(k),
                             'key %s missing from conf-examples/rendercgi.conf' % k)

        # A worker binary that is not there is a runtime error.
        r = self.run_spawner(['--foreground', '--listen', self.path('x.sock')], None,
                             env={'RENDERCGI_WORKER': self.path('nope')})
        self.assertEqual(r.returncode, 1)
        self.assertIn('is not an executable file', r.stderr)

    # ---- sockets, fd 0 and the worker's start conditions ------------------

    def test_workers_get_their_pool_socket_on_fd0(self):
        sock = self.path('u.sock')
        port = free_port()
        port6 = free_port(socket.AF_INET6, '::1')
        # An fd the spawner inherits without close-on-exec must not reach
        # the workers.
        leak = os.open(self.path('leak'), os.O_CREAT | os.O_RDWR)
        self.addCleanup(os.close, leak)
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 5s\n'
                     '[unixpool]\nlisten = %s\nworkers = 3\n'
                     '[tcppool]\nlisten = 127.0.0.1:%d\nworkers = 2\nlisten_backlog = 64\n'
                     '[v6pool]\nlisten = [::1]:%d\nworkers = 1\n' % (sock, port, port6),
                     pass_fds=(leak,))
        self.assertIn('/leak', os.readlink('/proc/%d/fd/%d' % (sp.pid, leak)))
        pools = {'unixpool': (3, unix_listen_inode, sock),
                 'tcppool': (2, lambda p: tcp_listen_inode('/proc/net/tcp', p), port),
                 'v6pool': (1, lambda p: tcp_listen_inode('/proc/net/tcp6', p), port6)}
        spawner_fds = wait_for(lambda: len(fd_inodes(sp.pid)) >= 3 and fd_inodes(sp.pid),
                               'listening sockets')
        for pool, (n, find, where) in pools.items():
            workers = sp.wait_workers(n, pool)
            ino = find(where)
            self.assertIsNotNone(ino, pool)
            self.assertIn(ino, spawner_fds.values(), pool)
            for w in workers:
                self.assertEqual(fd_inodes(w).get(0), ino, 'fd 0 of worker %d' % w)
                rec = sp.record(w)
                self.assertEqual(rec['pool'], pool)
                self.assertEqual(rec['conf'], sp.conf)
                # The socket, stdout, stderr and the scoreboard: nothing else.
                self.assertEqual(rec['fds'], '0,1,2,3')
                self.assertEqual(rec['sbfd'], '3')
                # The worker maps the scoreboard and closes fd 3 (no child of
                # it, such as Chromium, should hold it).
                with open('/proc/%d/maps' % w) as maps:
                    self.assertIn('/memfd:rendercgi-scoreboard-%s' % pool, maps.read())
                self.assertTrue(rec['tmpdir'].endswith('/rendercgi-worker.%d' % w))
                self.assertEqual(int(rec['sid']), w, 'worker leads its own session')
                self.assertEqual(int(rec['pgid']), w)
                self.assertEqual(int(rec['sigblk'], 16), 0, 'signal mask')
                # Signals 32 and 33 are glibc's own (thread cancellation,
                # setxid): it refuses to touch them, and an ignored state
                # inherited from whoever started us is harmless.
                self.assertEqual(int(rec['sigign'], 16) & ~(3 << 31), 0, 'ignored signals')
        mode = os.stat(sock).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o660)

        # Every pool answers, from one of its own workers.
        pid, pool = ask(socket.AF_UNIX, sock)
        self.assertEqual(pool, 'unixpool')
        self.assertIn(pid, sp.workers('unixpool'))
        self.assertEqual(ask(socket.AF_INET, ('127.0.0.1', port))[1], 'tcppool')
        self.assertEqual(ask(socket.AF_INET6, ('::1', port6))[1], 'v6pool')

        # kill -9 of a worker: replaced, same socket on fd 0.
        victim = sp.workers('unixpool')[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in sp.workers('unixpool')
                 and len(sp.workers('unixpool')) == 3, 'a replacement for %d' % victim)
        for w in sp.workers('unixpool'):
            self.assertEqual(fd_inodes(w).get(0), unix_listen_inode(sock))
        wait_for(lambda: re.search(r'\[pool unixpool\] worker %d exited on signal 9 \(SIGKILL\) '
                                   r'after .*; restarting\n' % victim, sp.log_text()),
                 'the log line about worker %d' % victim)
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'unixpool')

        # SIGTERM: everything stops, the socket file goes, exit 0.
        everyone = descendants(sp.pid)
        self.assertEqual(sp.stop(), 0, sp.log_text())
        self.assert_gone(everyone, 'workers after SIGTERM')
        self.assertFalse(os.path.exists(sock), 'socket file removed')
        self.assertIn('stopped', sp.log_text())

    # ---- what a dead worker leaves behind --------------------------------

    def test_leftovers_of_a_killed_worker_are_killed(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, 'listen = %s\nworkers = 2\n' % sock, mode='leave_child')
        workers = sp.wait_workers(2)
        kids = {w: wait_for(lambda w=w: sp.children_record(w), 'children of %d' % w)
                for w in workers}
        victim, bystander = workers
        child, grandchild = kids[victim]
        st = proc_stat(child)
        self.assertEqual(st[2], child, 'the child leads its own process group')
        self.assertEqual(proc_stat(grandchild)[2], child)

        os.kill(victim, signal.SIGKILL)
        self.assert_gone([child, grandchild], 'what worker %d left' % victim)
        wait_for(lambda: len(sp.workers()) == 2 and victim not in sp.workers(),
                 'a replacement')
        # The other worker and its own children are untouched.
        self.assertTrue(alive(bystander))
        self.assertTrue(all(alive(p) for p in kids[bystander]))
        self.assertIn('leftovers: killed', sp.log_text())

        # A graceful stop leaves nothing either (the fake worker exits 0 on
        # SIGTERM without taking its children along).
        everyone = wait_for(lambda: len(descendants(sp.pid)) == 6 and descendants(sp.pid),
                            '2 workers with a child and a grandchild each')
        self.assertEqual(sp.stop(), 0, sp.log_text())
        self.assert_gone(everyone, 'every process after SIGTERM')

    def test_worker_ignoring_sigterm_is_killed_after_shutdown_timeout(self):
        # Also: the spawner started with fd 0 closed must still put the
        # socket on the workers' fd 0.
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 300ms\n'
                     '[p]\nlisten = %s\nworkers = 2\n' % sock, mode='ignore_term',
                     preexec_fn=lambda: os.close(0))
        workers = sp.wait_workers(2)
        for w in workers:
            self.assertEqual(fd_inodes(w).get(0), unix_listen_inode(sock))
        t0 = time.monotonic()
        self.assertEqual(sp.stop(), 0, sp.log_text())
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assert_gone(workers, 'workers that ignored SIGTERM')
        self.assertRegex(sp.log_text(), r'2 workers still running at the deadline; sending '
                                        r'SIGKILL')

    def test_second_stop_signal_kills_at_once(self):
        sp = Spawner(self.tmp, '[global]\nshutdown_timeout = 60s\n[p]\nlisten = %s\n'
                     % self.path('u.sock'), mode='ignore_term')
        workers = sp.wait_workers(2)
        os.kill(sp.pid, signal.SIGINT)
        wait_for(lambda: 'stopping: 2 workers get up to 1 min 0 s' in sp.log_text(),
                 'the graceful stop to begin')
        os.kill(sp.pid, signal.SIGTERM)
        self.assertEqual(sp.proc.wait(timeout=DEADLINE_S), 0)
        self.assert_gone(workers, 'workers')
        self.assertIn('still running and asked again; sending SIGKILL', sp.log_text())

    # ---- restarts with backoff -------------------------------------------

    def test_crash_loop_backs_off(self):
        sp = Spawner(self.tmp, 'listen = %s\nworkers = 1\n' % self.path('u.sock'),
                     mode='exit:3')
        wait_for(lambda: '3 quick exits in a row' in sp.log_text(), 'a third quick exit')
        text = sp.log_text()
        self.assertRegex(text, r'worker \d+ exited with status 3 after \d+ ms; restarting\n')
        self.assertRegex(text, r'exited with status 3 after \d+ ms; restarting in \d+ ms '
                               r'\(2 quick exits in a row\)')
        # Without backoff there would be hundreds of starts by now.
        self.assertLess(len(sp.started()), 8)
        self.assertEqual(sp.stop(), 0)

    # ---- daemon mode, pid file, refusals ---------------------------------

    def test_daemon_pidfile_and_refusals(self):
        sock = self.path('u.sock')
        pidfile = self.path('spawner.pid')
        conf = 'listen = %s\nworkers = 2\n' % sock
        sp = Spawner(self.tmp, conf, foreground=False, args=['--pidfile', 'spawner.pid'])
        # The original process exits 0 once the daemon runs its workers.
        self.assertEqual(sp.proc.wait(timeout=DEADLINE_S), 0, sp.log_text())
        with open(pidfile) as f:
            daemon = int(f.read())
        self.assertNotEqual(daemon, sp.pid)
        sp.pid = daemon    # from now on the Spawner helper follows the daemon
        sp.proc = _Adopted(daemon)
        self.assertTrue(alive(daemon))
        st = proc_stat(daemon)
        self.assertNotEqual(st[3], daemon, 'the daemon is not a session leader')
        self.assertEqual(os.readlink('/proc/%d/cwd' % daemon), '/')
        workers = sp.wait_workers(2)

        # A second spawner on the same pid file, or the same socket, refuses.
        r = self.run_spawner(['--foreground', '--pidfile', pidfile, '--listen',
                              self.path('other.sock')], None,
                             env={'RENDERCGI_WORKER': FAKE_WORKER})
        self.assertEqual(r.returncode, 1)
        self.assertIn('already running as pid %d' % daemon, r.stderr)
        r = self.run_spawner(['--foreground', '--listen', sock], None,
                             env={'RENDERCGI_WORKER': FAKE_WORKER})
        self.assertEqual(r.returncode, 1)
        self.assertIn('in use by a running process', r.stderr)

        os.kill(daemon, signal.SIGTERM)
        wait_for(lambda: not alive(daemon), 'the daemon to exit')
        self.assert_gone(workers, 'workers')
        self.assertFalse(os.path.exists(pidfile), 'pid file removed')
        self.assertFalse(os.path.exists(sock), 'socket file removed')

    def test_workers_die_with_a_killed_spawner_and_a_stale_socket_is_reused(self):
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, 'listen = %s\nworkers = 2\n' % sock)
        workers = sp.wait_workers(2)
        sp.proc.kill()
        sp.proc.wait()
        self.assert_gone(workers, 'workers of a SIGKILLed spawner (PDEATHSIG)')
        self.assertTrue(os.path.exists(sock), 'a SIGKILLed spawner leaves its socket file')
        # The stale file does not stop the next start.
        sp2 = Spawner(self.tmp, 'listen = %s\nworkers = 1\n' % sock)
        sp2.wait_workers(1)
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'default')
        self.assertEqual(sp2.stop(), 0)

    def test_without_c_workers_get_no_config_file(self):
        sock = self.path('u.sock')
        default = None
        r = self.run_spawner(['-t'])
        m = re.search(r'configuration (\S+) is valid', r.stdout)
        if m and m.group(1).startswith('/'):
            default = m.group(1)    # a system-wide config exists: workers get it
        sp = Spawner(self.tmp, None, args=['--listen', sock, '--workers', '1'])
        w = sp.wait_workers(1)[0]
        self.assertEqual(sp.record(w)['conf'], default or '-')
        self.assertEqual(sp.record(w)['pool'], 'default')
        self.assertEqual(sp.stop(), 0)


class _Adopted:
    """Stands in for Popen for a process that is not our child (the daemon)."""

    def __init__(self, pid):
        self.pid = pid

    def poll(self):
        return None if alive(self.pid) else 0

    def wait(self, timeout=None):
        wait_for(lambda: not alive(self.pid), 'pid %d to exit' % self.pid,
                 timeout or DEADLINE_S)
        return 0

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main():
    for path in (SPAWNER, FAKE_WORKER):
        if not os.access(path, os.X_OK):
            print('missing %s: build it first (make check builds both)' % path)
            return 1
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
