#!/usr/bin/env python3
"""test_spawner_config.py — the configuration as an operator meets it.

- --test-config rejects every kind of invalid config (more than 15 of them)
  with FILE:LINE: KEY: message naming the line, exits 2, and reports every
  problem of a file at once; the spawner refuses to start on such a file;
- command-line flags override the file (--workers, --listen, --pidfile,
  --foreground), at start and again on SIGHUP;
- privileges: started as root, each pool's workers run as its user and
  group, its unix socket gets listen_owner/listen_group; started as another
  user, the spawner refuses users other than itself (as root, the test runs
  that check as "nobody"; as another user, as itself).

Helpers come from test_spawner_basic.py; the spawner runs
tests/fakes/fake_worker.
"""

import grp
import os
import pwd
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_spawner_basic import (  # noqa: E402
    DEADLINE_S, FAKE_WORKER, SPAWNER, Spawner, SpawnerCase, ask, wait_for)

# (file text, line named, key named, a piece of the message)
INVALID = [
    ('[p]\nlisten = /tmp/p.sock\nworkerz = 2\n', 3, 'workerz',
     "unknown key (did you mean 'workers'?)"),
    ('workers = two\n', 1, 'workers', "'two' is not a whole number"),
    ('\n\nworkers = 0\n', 3, 'workers', '0 is out of range: must be between 1 and 1024'),
    ('request_timeout = 5 minutes\n', 1, 'request_timeout', 'is not a duration'),
    ('max_memory = lots\n', 1, 'max_memory', "'lots' is not a size"),
    ('[global]\ndaemonize = perhaps\n', 2, 'daemonize', "'perhaps' is not a boolean"),
    ('[global]\nlog_level = loud\n', 2, 'log_level', "'loud' is not one of error|warn|info"),
    ('listen = 9000\n', 1, 'listen', "'9000' has no host: write 127.0.0.1:9000"),
    ('listen = www.example.com:9000\n', 1, 'listen', 'host names are not resolved'),
    ('[a]\nlisten = /tmp/a.sock\n[b]\nlisten = /tmp/b.sock\n[a]\n', 5, 'a',
     'duplicate pool (first defined at line 1)'),
    ('workers = 1\nqueue_max = 3\nworkers = 2\n', 3, 'workers',
     'duplicate key (first set at line 1)'),
    ('[a]\nlisten = 127.0.0.1:9000\n[b]\nlisten = *:9000\n', 4, 'listen',
     "pool 'b' would listen on *:9000, which pool 'a' already uses"),
    ('request_timeout = 60s\nrequest_terminate_timeout = 45s\n', 2,
     'request_terminate_timeout', 'must be above request_timeout (60000 ms)'),
    ('[global]\nworkers = 2\n', 2, 'workers', 'is a pool key; [global] holds only'),
    ('[p]\nlisten = /tmp/p.sock\npid_file = /run/x.pid\n', 3, 'pid_file',
     'is a [global] key, not a pool key'),
    ('[pool\n', 1, '[pool', "unterminated section header (missing ']')"),
    ('allow_networks = 10.0.0.1/8\n', 1, 'allow_networks', 'did you mean 10.0.0.0/8?'),
    ('browsers = 2\n; comment\npages_per_browser = 0\n', 3, 'pages_per_browser',
     'must be at least 1 when browsers = 2'),
    ('[p]\nlisten = /tmp/p.sock\nuser = no-such-user-rcgi\n', 3, 'user',
     "no such user 'no-such-user-rcgi'"),
    ('[p]\nlisten = /tmp/p.sock\nlisten_group = no-such-group-rcgi\n', 3, 'listen_group',
     "no such group 'no-such-group-rcgi'"),
    ('[global]\nemergency_restart_threshold = 5\n', 2, 'emergency_restart_threshold',
     'needs emergency_restart_interval too'),
    ('liveness_timeout = 2s\n', 1, 'liveness_timeout', 'must be 0 (off) or at least 3000 ms'),
    ('listen = 127.0.0.1:9000\nlisten_owner = root\n', 2, 'listen_owner',
     'applies to a unix socket file only'),
    ('chromium = chromium\n', 1, 'chromium', "'chromium' is not an absolute path"),
    ('[p]\nlisten = /tmp/p.sock\ngroup = root\n', 3, 'group', "group 'root' needs user"),
    ('workers 2\n', 1, 'workers 2', "expected 'key = value', '[section]' or a comment"),
    ('[a b]\n', 1, 'a b', 'a pool name is 1 to 64 letters'),
    ('chromium = "/usr/bin\n', 1, 'chromium', 'unterminated quoted value'),
    ('listen_mode = 0999\n', 1, 'listen_mode', "'0999' is not an octal file mode"),
    ('log_level = debug\n', 1, 'log_level', 'is a [global] key, but keys before the first'),
    ('ready_timeout = 10\n', 1, 'ready_timeout', 'out of range: must be between 1000 and'),
]


def check(conf, *args, preexec_fn=None):
    return subprocess.run([SPAWNER, '-t', '-c', conf] + list(args), capture_output=True,
                          text=True, timeout=DEADLINE_S, preexec_fn=preexec_fn)


class ConfigTest(SpawnerCase):

    def write(self, name, text):
        path = self.path(name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_every_kind_of_invalid_config_is_rejected_with_its_line(self):
        self.assertGreaterEqual(len(INVALID), 15)
        for n, (text, line, key, msg) in enumerate(INVALID):
            with self.subTest(case=n, key=key):
                conf = self.write('bad%d.conf' % n, text)
                r = check(conf)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertNotIn('is valid', r.stdout)
                lines = r.stderr.splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertTrue(lines[0].startswith('%s:%d: %s: ' % (conf, line, key)),
                                lines[0])
                self.assertIn(msg, lines[0])

    def test_every_problem_of_a_file_is_reported_at_once(self):
        conf = self.write('bad.conf', '[global]\nlog_level = loud\n'
                          '[a]\nlisten = /tmp/a.sock\nworkers = 0\nrequest_timeout = 10s\n'
                          'request_terminate_timeout = 5s\n'
                          '[b]\nlisten = /tmp/a.sock\nbogus = 1\n')
        r = check(conf)
        self.assertEqual(r.returncode, 2)
        self.assertEqual([line.split(': ')[0] for line in r.stderr.splitlines()],
                         ['%s:%d' % (conf, n) for n in (2, 5, 10, 7, 9)], r.stderr)
        # And the spawner does not start on it.
        with open(conf) as f:
            sp = Spawner(self.tmp, f.read())
        self.assertEqual(sp.proc.wait(timeout=DEADLINE_S), 2)
        self.assertEqual(sp.started(), [])
        self.assertIn('bogus: unknown key', sp.log_text())

    def test_command_line_overrides_the_file_at_start_and_on_reload(self):
        sock, other = self.path('u.sock'), self.path('other.sock')
        pidfile = self.path('p.pid')
        # daemonize = yes and one worker in the file; the flags win.
        sp = Spawner(self.tmp, '[global]\ndaemonize = yes\npid_file = %s\n'
                     '[p]\nlisten = %s\nworkers = 1\n' % (self.path('file.pid'), other),
                     args=['--workers', '3', '--listen', sock, '--pidfile', 'p.pid'])
        workers = sp.wait_workers(3)
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'p')
        self.assertFalse(os.path.exists(other))
        with open(pidfile) as f:
            self.assertEqual(int(f.read()), sp.pid, 'in the foreground, with the flag\'s pid file')
        self.assertFalse(os.path.exists(self.path('file.pid')))
        # A reload reads the file again, and the flags again win.
        with open(sp.conf, 'a') as f:
            f.write('max_requests = 1000\n')
        os.kill(sp.pid, signal.SIGHUP)
        wait_for(lambda: '[pool p] reload done' in sp.log_text(), 'the reload', timeout=30)
        new = sp.wait_workers(3)
        self.assertFalse(set(new) & set(workers))
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'p')
        self.assertFalse(os.path.exists(other))
        self.assertEqual(sp.stop(), 0)
        self.assertFalse(os.path.exists(pidfile))
        # A bad flag is a configuration error like any other.
        r = check(self.write('ok.conf', ''), '--workers', '0')
        self.assertEqual(r.returncode, 2)
        self.assertIn('command line: workers: 0 is out of range', r.stderr)

    def test_privileges(self):
        conf = self.write('p.conf', '[p]\nlisten = /tmp/p.sock\nuser = root\n'
                          'listen_owner = root\nlisten_group = root\n')
        if os.geteuid() != 0:
            # Not root: the spawner may run workers only as itself.
            r = check(conf)
            self.assertEqual(r.returncode, 2)
            self.assertIn("%s:3: user: [p] running workers as 'root' needs the spawner to "
                          "start as root" % conf, r.stderr)
            self.assertIn('%s:4: listen_owner: [p] giving the socket to' % conf, r.stderr)
            return
        nobody = pwd.getpwnam('nobody')
        nogroup = grp.getgrgid(nobody.pw_gid)
        os.chmod(conf, 0o644)
        os.chmod(self.tmp, 0o755)

        def as_nobody():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        r = check(conf, preexec_fn=as_nobody)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s:3: user: [p] running workers as 'root' needs the spawner to start as "
                      "root" % conf, r.stderr)
        self.assertIn("%s:4: listen_owner: [p] giving the socket to 'root' needs" % conf,
                      r.stderr)
        self.assertIn("%s:5: listen_group: [p] the spawner is not in group 'root'" % conf,
                      r.stderr)

        # As root: the socket goes to listen_owner:listen_group, the workers
        # run as user:group with that user's groups, in a TMPDIR of theirs.
        sock = self.path('u.sock')
        sp = Spawner(self.tmp, '[p]\nlisten = %s\nworkers = 2\nuser = nobody\ngroup = %s\n'
                     'listen_owner = nobody\nlisten_group = %s\nlisten_mode = 0660\n'
                     % (sock, nogroup.gr_name, nogroup.gr_name))
        os.chmod(sp.records, 0o777)
        workers = sp.wait_workers(2)
        st = os.stat(sock)
        self.assertEqual((st.st_uid, st.st_gid), (nobody.pw_uid, nobody.pw_gid))
        for w in workers:
            rec = sp.record(w)
            self.assertEqual(rec['uid'], ','.join([str(nobody.pw_uid)] * 4), rec)
            self.assertEqual(rec['gid'], ','.join([str(nobody.pw_gid)] * 4), rec)
            self.assertEqual(rec['groups'], str(nobody.pw_gid), rec)
            tst = os.stat(rec['tmpdir'])
            self.assertEqual((tst.st_uid, tst.st_mode & 0o777), (nobody.pw_uid, 0o700))
        self.assertEqual(ask(socket.AF_UNIX, sock)[1], 'p')
        self.assertNotIn('workers run as root', sp.log_text())
        self.assertEqual(sp.stop(), 0)
        for w in workers:
            self.assertFalse(os.path.exists(sp.record(w)['tmpdir']), 'TMPDIR removed')


def main():
    for path in (SPAWNER, FAKE_WORKER):
        if not os.access(path, os.X_OK):
            print('missing %s: build it first (make check builds both)' % path)
            return 1
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
