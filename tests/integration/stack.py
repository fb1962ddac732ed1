"""stack.py — the real rendercgi stack for one integration test, and its teardown.

A Stack owns everything it starts, in one private temporary directory:

    TMP/                    mkdtemp(); removed at the end unless RCGI_KEEP_TMP=1
      rendercgi.conf        the pool config (unix socket TMP/rcgi.sock)
      spawner.log           spawner and worker stderr
      t/                    TMPDIR of the spawner, so every Chromium profile lives here
      fixture/              fixture server's port file and log
      nginx/                nginx prefix: nginx.conf, the example(s), logs, temp paths
      out/                  PDFs written for pdftotext/pdfinfo

Start order: fixture server, spawner (`rendercgi-spawner -c TMP/rendercgi.conf
--foreground`), nginx (`nginx -p TMP/nginx/ -c TMP/nginx/nginx.conf`), then
poll GET /health through nginx until it answers 200.

Teardown (Stack.close(), also run by `with Stack(...)` and on any start
failure) stops nginx, the spawner and the fixture server by PID, with
deadlines, then looks for orphans: any live process whose command line or
environment mentions TMP. Every rendercgi process and every Chromium process
descends from the spawner, which runs with TMPDIR=TMP/t, so such a process
can only be one that rendercgi failed to clean up (Chromium's crashpad
handler, for example, is reparented away from its browser and carries no
profile path on its command line, but does inherit the environment). A
remaining process FAILS the test and is killed with SIGKILL so it cannot
disturb the next test.

nginx as root: the harness starts nginx as the same user as the spawner. When
that user is root, nginx's workers would otherwise drop to "nobody" and could
not connect to a socket that only root may use, so the generated nginx.conf
says "user root;". (As a normal user, nginx's workers keep that user.) A real
deployment instead gives the socket to nginx's group.

Environment: RCGI_BUILDDIR (where rendercgi-spawner and rendercgi-worker are
built; set by `make check`), RCGI_SRCDIR (the source tree, for fixtures and
conf-examples), RCGI_NGINX (default /usr/sbin/nginx), RCGI_NGINX_CONF_DIR (where the stock
fastcgi_params is, default /etc/nginx), RCGI_KEEP_TMP=1 (keep
TMP for a post-mortem), RCGI_TEST_TIMEOUT (seconds for a whole test file,
default 900).

Python 3 standard library only. Tests exit 0 on success and 1 otherwise,
never 77: a missing tool is a failure, not a skip.
"""

import atexit
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get('RCGI_SRCDIR') or os.path.join(HERE, '..', '..'))
BUILDDIR = os.path.abspath(os.environ.get('RCGI_BUILDDIR') or SRCDIR)
NGINX = os.environ.get('RCGI_NGINX', '/usr/sbin/nginx')
# Where the system's stock fastcgi_params lives (the examples include it).
NGINX_CONF_DIR = os.environ.get('RCGI_NGINX_CONF_DIR', '/etc/nginx')

FIXTURES = os.path.join(SRCDIR, 'tests', 'fixtures')
NGINX_EXAMPLES = os.path.join(SRCDIR, 'conf-examples', 'nginx')
SPAWNER = os.path.join(BUILDDIR, 'rendercgi-spawner')
WORKER = os.path.join(BUILDDIR, 'rendercgi-worker')

# The exact strings the nginx examples use as placeholders (see their header).
EXAMPLE_SOCKET = 'unix:/run/rendercgi/default.sock'
EXAMPLE_LISTEN = '127.0.0.1:8080'
ROOT_EXAMPLE = 'rendercgi.conf'
SUBPATH_EXAMPLE = 'rendercgi-render-subpath.conf'

START_DEADLINE_S = 90.0      # Chromium start-up on a busy 2-core machine
STOP_DEADLINE_S = 30.0       # API.md §2: everything stopped within 30 s
ORPHAN_GRACE_S = 3.0         # reparented processes may take a moment to die
LOG_TAIL_LINES = 60

# Stacks not yet closed, for the watchdog and atexit.
_live = []
_live_lock = threading.Lock()


def log(msg):
    sys.stderr.write('[stack] %s\n' % msg)
    sys.stderr.flush()


# --- processes ----------------------------------------------------------------

def proc_stat(pid):
    """(state, ppid, starttime) of 'pid', or None if it does not exist."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(')') + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])


def proc_cmdline(pid):
    """argv of 'pid' as a list of str ([] for zombies and vanished processes)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return []
    return [a.decode('utf-8', 'replace') for a in raw.split(b'\0') if a]


def proc_environ(pid):
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


def all_pids():
    return [int(p) for p in os.listdir('/proc') if p.isdigit()]


def is_alive(pid, starttime=None):
    """True if 'pid' exists, is not a zombie and (if given) started at 'starttime'."""
    st = proc_stat(pid)
    if st is None or st[0] in ('Z', 'X'):
        return False
    return starttime is None or st[2] == starttime


def children(pid):
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st is not None and st[1] == pid and st[0] not in ('Z', 'X'):
            out.append(p)
    return sorted(out)


def descendants(pid):
    """{pid: starttime} of every live descendant of 'pid' (not 'pid' itself)."""
    table = {}
    for p in all_pids():
        st = proc_stat(p)
        if st is not None and st[0] not in ('Z', 'X'):
            table[p] = st
    found = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for p, st in table.items():
            if st[1] == parent and p not in found:
                found[p] = st[2]
                frontier.append(p)
    return found


def pids_mentioning(text, exclude=()):
    """Live pids whose command line or environment contains 'text'."""
    me = os.getpid()
    out = []
    for p in all_pids():
        if p == me or p in exclude or not is_alive(p):
            continue
        if text in '\0'.join(proc_cmdline(p)) or text in proc_environ(p):
            out.append(p)
    return sorted(out)


def wait_gone(procs, deadline_s):
    """Wait until every {pid: starttime} in 'procs' is gone. Returns those still alive."""
    end = time.monotonic() + deadline_s
    while True:
        left = {p: s for p, s in procs.items() if is_alive(p, s)}
        if not left or time.monotonic() >= end:
            return left
        time.sleep(0.05)


def poll(predicate, deadline_s, interval=0.1, what='condition'):
    """Call predicate() until it returns a true value; return it. AssertionError on timeout."""
    end = time.monotonic() + deadline_s
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError('timed out after %.1f s waiting for %s (last: %r)'
                                 % (deadline_s, what, last))
        time.sleep(interval)


def free_port():
    """A loopback TCP port nobody listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, 'rb') as f:
            data = f.read().decode('utf-8', 'replace').splitlines()
    except OSError as e:
        return '(%s)' % e
    return '\n'.join(data[-lines:])


# --- HTTP ---------------------------------------------------------------------

class Response:
    """status (int), headers (dict, lower-case names), body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def __repr__(self):
        body = self.body[:300]
        return '<Response %d %s %r>' % (self.status, self.headers.get('content-type'), body)


def http_request(port, method, path, body=None, headers=None, timeout=120.0):
    """One HTTP/1.1 request to 127.0.0.1:port; the path is sent as given."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, data)
    finally:
        conn.close()


def query(path, params=None):
    """path + '?' + urlencoded params (keeps insertion order)."""
    if not params:
        return path
    return path + '?' + urllib.parse.urlencode(params)


# --- PDF tools ----------------------------------------------------------------

def pdftotext(pdf_path):
    out = subprocess.run(['pdftotext', '-layout', pdf_path, '-'], capture_output=True,
                         timeout=60)
    if out.returncode != 0:
        raise AssertionError('pdftotext failed on %s: %s'
                             % (pdf_path, out.stderr.decode('utf-8', 'replace')))
    return out.stdout.decode('utf-8', 'replace')


def pdfinfo(pdf_path):
    """pdfinfo's fields as a dict; adds 'pages' (int) and 'size' ((w, h) in pt)."""
    out = subprocess.run(['pdfinfo', pdf_path], capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError('pdfinfo failed on %s: %s'
                             % (pdf_path, out.stderr.decode('utf-8', 'replace')))
    info = {}
    for line in out.stdout.decode('utf-8', 'replace').splitlines():
        if ':' in line:
            key, value = line.split(':', 1)
            info[key.strip()] = value.strip()
    info['pages'] = int(info.get('Pages', '0'))
    # "Page size:      612 x 792 pts (letter)"
    words = info.get('Page size', '').split()
    if len(words) >= 3 and words[1] == 'x':
        info['size'] = (float(words[0]), float(words[2]))
    return info


# --- the stack ----------------------------------------------------------------

class StackError(AssertionError):
    pass


class Stack:
    """Fixture server + spawner + nginx for one test. Use as a context manager.

    Pool options (None = leave the key out, so the built-in default applies):
    workers, browsers, pages_per_browser, queue_max, request_timeout,
    max_requests, allow_networks; 'extra' adds raw "key = value" lines to the
    pool; 'global_extra' to [global]. 'examples' lists the nginx examples to
    serve, each on its own port (self.ports[name]); self.port is the first.
    """

    def __init__(self, workers=2, browsers=1, pages_per_browser=2, queue_max=None,
                 request_timeout=None, max_requests=None, allow_networks='127.0.0.0/8',
                 extra=None, global_extra=None, examples=(ROOT_EXAMPLE,),
                 wait_browsers=True, ready_statuses=(200,)):
        self.pool = {
            'workers': workers,
            'browsers': browsers,
            'pages_per_browser': pages_per_browser,
            'queue_max': queue_max,
            'request_timeout': request_timeout,
            'max_requests': max_requests,
            'allow_networks': allow_networks,
        }
        self.extra = dict(extra or {})
        self.global_extra = dict(global_extra or {})
        self.examples = list(examples)
        self.wait_browsers = wait_browsers
        # /health statuses that count as "the stack is up" (503 too for a
        # test of a worker whose browsers cannot start).
        self.ready_statuses = tuple(ready_statuses)
        self.tmp = None
        self.fixture = None
        self.fixture_port = None
        self.spawner = None
        self.nginx = None
        self.ports = {}
        self.port = None
        self.closed = False
        self._out_seq = 0

    # -- context manager

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.close()
        except AssertionError:
            if exc_type is None:
                raise
            # The test already failed; report the teardown problem too, but
            # let the original failure propagate.
            log('teardown also failed (see above)')
        return False

    # -- paths

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    @property
    def socket_path(self):
        return self.path('rcgi.sock')

    def fixture_url(self, path='/'):
        return 'http://127.0.0.1:%d%s' % (self.fixture_port, path)

    # -- start

    def start(self):
        for tool, path in (('rendercgi-spawner', SPAWNER), ('rendercgi-worker', WORKER),
                           ('nginx', NGINX)):
            if not os.access(path, os.X_OK):
                raise StackError('%s not found at %s (RCGI_BUILDDIR=%s)' % (tool, path, BUILDDIR))
        for tool in ('pdftotext', 'pdfinfo'):
            if shutil.which(tool) is None:
                raise StackError('%s not found: install poppler-utils' % tool)
        self.tmp = self._make_tmp()
        with _live_lock:
            _live.append(self)
        try:
            for d in ('t', 'fixture', 'nginx', 'out'):
                os.makedirs(self.path(d))
            self._start_fixture()
            self._write_conf()
            self._start_spawner()
            self._start_nginx()
            self._wait_ready()
        except BaseException:
            log('start failed; tearing down')
            try:
                self.close()
            except AssertionError:
                pass
            raise
        return self

    @staticmethod
    def _make_tmp():
        # A unix socket path must fit in 108 bytes: fall back to /tmp when
        # TMPDIR is deep.
        base = os.environ.get('TMPDIR') or '/tmp'
        if len(base) > 60 or not os.access(base, os.W_OK):
            base = '/tmp'
        return tempfile.mkdtemp(prefix='rcgi-it-', dir=base)

    def _start_fixture(self):
        port_file = self.path('fixture', 'port')
        logf = open(self.path('fixture', 'server.log'), 'wb')
        try:
            self.fixture = subprocess.Popen(
                [sys.executable, os.path.join(FIXTURES, 'server.py'), '--port-file', port_file],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'))
        finally:
            logf.close()

        def port_ready():
            if self.fixture.poll() is not None:
                raise StackError('fixture server exited with %s:\n%s'
                                 % (self.fixture.returncode,
                                    tail(self.path('fixture', 'server.log'))))
            try:
                with open(port_file) as f:
                    return int(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0
        self.fixture_port = poll(port_ready, 15, interval=0.05, what='fixture server port')

    def conf_text(self):
        lines = ['; rendercgi.conf written by tests/integration/stack.py for one test',
                 '[global]',
                 'shutdown_timeout = 10s']
        if 'log_level' not in self.global_extra:
            lines.append('log_level = info')
        lines += ['%s = %s' % kv for kv in self.global_extra.items()]
        lines += ['', '[default]', 'listen = %s' % self.socket_path]
        for key, value in self.pool.items():
            if value is not None:
                lines.append('%s = %s' % (key, value))
        lines += ['%s = %s' % kv for kv in self.extra.items()]
        return '\n'.join(lines) + '\n'

    def _write_conf(self):
        self.conf_path = self.path('rendercgi.conf')
        with open(self.conf_path, 'w') as f:
            f.write(self.conf_text())

    def _start_spawner(self):
        env = dict(os.environ)
        env['TMPDIR'] = self.path('t')
        env['RENDERCGI_WORKER'] = WORKER
        logf = open(self.path('spawner.log'), 'wb')
        try:
            self.spawner = subprocess.Popen(
                [SPAWNER, '-c', self.conf_path, '--foreground',
                 '--pidfile', self.path('spawner.pid')],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        finally:
            logf.close()

    def nginx_conf_text(self):
        prefix = self.path('nginx')
        includes = '\n'.join('    include %s;' % os.path.join(prefix, name)
                             for name in self.examples)
        user = 'user root;\n' if os.geteuid() == 0 else ''
        return (
            '# nginx.conf written by tests/integration/stack.py for one test.\n'
            'daemon off;\n'
            'master_process on;\n'
            'worker_processes 1;\n'
            '%s'
            'pid %s/nginx.pid;\n'
            'error_log %s/error.log notice;\n'
            'events { worker_connections 256; }\n'
            'http {\n'
            '    access_log %s/access.log;\n'
            '    client_body_temp_path %s/client_body;\n'
            '    proxy_temp_path %s/proxy;\n'
            '    fastcgi_temp_path %s/fastcgi;\n'
            '    uwsgi_temp_path %s/uwsgi;\n'
            '    scgi_temp_path %s/scgi;\n'
            '    default_type application/octet-stream;\n'
            '%s\n'
            '}\n' % ((user,) + (prefix,) * 8 + (includes,)))

    def _write_nginx_conf(self):
        prefix = self.path('nginx')
        self.ports = {}
        for name in self.examples:
            port = free_port()
            while port in self.ports.values():
                port = free_port()
            self.ports[name] = port
            write_example(os.path.join(NGINX_EXAMPLES, name), os.path.join(prefix, name),
                          'unix:' + self.socket_path, '127.0.0.1:%d' % port)
        shutil.copyfile(os.path.join(NGINX_CONF_DIR, 'fastcgi_params'),
                        os.path.join(prefix, 'fastcgi_params'))
        self.nginx_conf = os.path.join(prefix, 'nginx.conf')
        with open(self.nginx_conf, 'w') as f:
            f.write(self.nginx_conf_text())
        self.port = self.ports[self.examples[0]]

    def nginx_command(self, *extra):
        prefix = self.path('nginx')
        return [NGINX, '-p', prefix + '/', '-c', os.path.join(prefix, 'nginx.conf'),
                '-e', os.path.join(prefix, 'error.log')] + list(extra)

    def check_nginx_config(self):
        """Write the nginx config into TMP/nginx (TMP must exist) and run nginx -t.
        Returns (exit status, output). Starts nothing."""
        os.makedirs(self.path('nginx'), exist_ok=True)
        self._write_nginx_conf()
        out = subprocess.run(self.nginx_command('-t'), stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=30)
        return out.returncode, (out.stdout + out.stderr).decode('utf-8', 'replace')

    def _start_nginx(self):
        prefix = self.path('nginx')
        for attempt in range(3):
            self._write_nginx_conf()
            logf = open(os.path.join(prefix, 'stderr.log'), 'ab')
            try:
                self.nginx = subprocess.Popen(
                    self.nginx_command(),
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                    start_new_session=True)
            finally:
                logf.close()
            # nginx binds its ports before it forks workers: once every port
            # accepts, it is up. If it died, a port was probably taken: retry.
            end = time.monotonic() + 15
            while time.monotonic() < end and self.nginx.poll() is None:
                if all(_port_open(p) for p in self.ports.values()):
                    return
                time.sleep(0.05)
            if self.nginx.poll() is None:
                raise StackError('nginx did not open its ports within 15 s:\n%s'
                                 % tail(os.path.join(prefix, 'error.log')))
            log('nginx exited with %s (attempt %d):\n%s'
                % (self.nginx.returncode, attempt + 1, tail(os.path.join(prefix, 'error.log'))))
            self.nginx = None
        raise StackError('nginx would not start')

    def _check_running(self):
        if self.spawner.poll() is not None:
            raise StackError('rendercgi-spawner exited with %s during start-up:\n%s'
                             % (self.spawner.returncode, tail(self.path('spawner.log'))))
        if self.nginx.poll() is not None:
            raise StackError('nginx exited with %s during start-up:\n%s'
                             % (self.nginx.returncode, tail(self.path('nginx', 'error.log'))))

    def _wait_ready(self):
        end = time.monotonic() + START_DEADLINE_S
        last = None
        while True:
            self._check_running()
            try:
                last = self.get('/health', timeout=10)
                if last.status in self.ready_statuses:
                    break
            except (OSError, http.client.HTTPException) as e:
                last = e
            if time.monotonic() >= end:
                raise StackError('GET /health did not answer 200 within %.0f s (last: %r)\n'
                                 'spawner.log:\n%s'
                                 % (START_DEADLINE_S, last, tail(self.path('spawner.log'))))
            time.sleep(0.2)
        # /health reached one worker. Give the others (and their browsers) a
        # moment too, so tests start from a pool that is fully up; this is a
        # courtesy wait, never a failure.
        if self.wait_browsers and self.pool['workers'] and self.pool['browsers']:
            want_workers = int(self.pool['workers'])
            want_browsers = want_workers * int(self.pool['browsers'])
            end = time.monotonic() + 30
            while time.monotonic() < end:
                if (len(self.workers()) >= want_workers
                        and len(self.chromium_mains()) >= want_browsers):
                    break
                time.sleep(0.1)

    # -- requests

    def request(self, method, path, body=None, headers=None, port=None, timeout=120.0):
        return http_request(port or self.port, method, path, body=body, headers=headers,
                            timeout=timeout)

    def get(self, path, params=None, **kw):
        return self.request('GET', query(path, params), **kw)

    def post(self, path, body, params=None, content_type='application/json', **kw):
        headers = dict(kw.pop('headers', None) or {})
        headers.setdefault('Content-Type', content_type)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode('utf-8')
        return self.request('POST', query(path, params), body=body, headers=headers, **kw)

    def pdf(self, page, route='/pdf', **options):
        """GET route?url=<fixture page>&options..."""
        params = {'url': self.fixture_url(page) if page.startswith('/') else page}
        params.update({k: _opt(v) for k, v in options.items()})
        return self.get(route, params)

    def fixture_requests(self, clear=False):
        r = http_request(self.fixture_port, 'GET', '/requests' + ('?clear=1' if clear else ''),
                         timeout=10)
        return r.json()

    # -- PDFs

    def save(self, body, suffix='.pdf'):
        self._out_seq += 1
        p = self.path('out', '%03d%s' % (self._out_seq, suffix))
        with open(p, 'wb') as f:
            f.write(body)
        return p

    def pdf_text(self, body):
        return pdftotext(self.save(body))

    def pdf_info(self, body):
        return pdfinfo(self.save(body))

    # -- processes

    def workers(self):
        """Live worker pids: children of the spawner running rendercgi-worker."""
        if self.spawner is None or self.spawner.poll() is not None:
            return []
        out = []
        for p in children(self.spawner.pid):
            argv = proc_cmdline(p)
            if argv and 'rendercgi-worker' in os.path.basename(argv[0]):
                out.append(p)
        return out

    def chromium_procs(self):
        """Live pids of Chromium processes of this stack (cmdline mentions TMP)."""
        out = []
        for p in pids_mentioning(self.tmp):
            argv = proc_cmdline(p)
            if argv and 'chrom' in os.path.basename(argv[0]):
                out.append(p)
        return out

    def chromium_mains(self):
        """{pid: ppid} of Chromium main (browser) processes: pipe, no --type=."""
        out = {}
        for p in self.chromium_procs():
            argv = proc_cmdline(p)
            if ('--remote-debugging-pipe' in argv
                    and not any(a.startswith('--type=') for a in argv)):
                st = proc_stat(p)
                if st is not None:
                    out[p] = st[1]
        return out

    # -- teardown

    def close(self):
        """Stop everything, check for orphans, remove TMP. AssertionError on problems."""
        if self.closed:
            return
        self.closed = True
        problems = []
        if self.nginx is not None:
            problems += _stop(self.nginx, 'nginx', signal.SIGTERM, 10)
        if self.spawner is not None:
            problems += _stop(self.spawner, 'rendercgi-spawner', signal.SIGTERM, STOP_DEADLINE_S,
                              want_status=0)
        if self.fixture is not None:
            problems += _stop(self.fixture, 'fixture server', signal.SIGTERM, 10)
        if self.tmp is not None:
            problems += self._reap_orphans()
            self._show_logs()
            if os.environ.get('RCGI_KEEP_TMP') == '1':
                log('kept %s' % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        with _live_lock:
            if self in _live:
                _live.remove(self)
        if problems:
            raise StackError('teardown: ' + '; '.join(problems))

    def _reap_orphans(self):
        end = time.monotonic() + ORPHAN_GRACE_S
        left = pids_mentioning(self.tmp)
        while left and time.monotonic() < end:
            time.sleep(0.1)
            left = pids_mentioning(self.tmp)
        if not left:
            return []
        described = ['%d (%s)' % (p, ' '.join(proc_cmdline(p))[:160]) for p in left]
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_gone({p: None for p in left}, 5)
        log('ORPHANS left behind, killed with SIGKILL:\n  ' + '\n  '.join(described))
        return ['%d orphan process(es) left behind: %s' % (len(left), ', '.join(described))]

    def _show_logs(self):
        for name, path in (('spawner.log', self.path('spawner.log')),
                           ('nginx error.log', self.path('nginx', 'error.log'))):
            if os.path.exists(path):
                log('--- last lines of %s ---\n%s' % (name, tail(path)))

    def kill_everything(self):
        """Emergency stop for the watchdog: SIGKILL all we started, no checks."""
        for p in (self.nginx, self.spawner, self.fixture):
            if p is not None and p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.tmp:
            for p in pids_mentioning(self.tmp):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def write_example(src, dst, socket_addr, listen_addr):
    """Copy an nginx example to 'dst' with its placeholders replaced."""
    with open(src) as f:
        text = f.read()
    for placeholder in (EXAMPLE_SOCKET, EXAMPLE_LISTEN):
        if placeholder not in text:
            raise StackError('%s does not contain the placeholder %s' % (src, placeholder))
    text = text.replace(EXAMPLE_SOCKET, socket_addr).replace(EXAMPLE_LISTEN, listen_addr)
    with open(dst, 'w') as f:
        f.write(text)


def _opt(v):
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    return str(v)


def _port_open(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


def _stop(proc, name, sig, deadline_s, want_status=None):
    """Signal 'proc', wait up to deadline_s, SIGKILL if needed. Returns problems."""
    problems = []
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            problems.append('%s (pid %d) still running %.0f s after %s; killed'
                            % (name, proc.pid, deadline_s, signal.Signals(sig).name))
            proc.kill()
            proc.wait()
            return problems
    if want_status is not None and proc.returncode != want_status:
        problems.append('%s exited with status %s, expected %s'
                        % (name, proc.returncode, want_status))
    return problems


# --- running a test file ------------------------------------------------------

def _watchdog_fire(limit):
    log('test file exceeded %d s: killing its stacks and failing' % limit)
    with _live_lock:
        stacks = list(_live)
    for s in stacks:
        s.kill_everything()
        if s.tmp and os.environ.get('RCGI_KEEP_TMP') != '1':
            shutil.rmtree(s.tmp, ignore_errors=True)
    sys.stderr.flush()
    os._exit(1)


def _atexit_cleanup():
    with _live_lock:
        stacks = list(_live)
    for s in stacks:
        log('stack still open at exit: closing it')
        try:
            s.close()
        except AssertionError as e:
            log(str(e))


atexit.register(_atexit_cleanup)


def main():
    """Run the calling module's unittest cases; exit 0 if all passed, else 1 (never 77)."""
    limit = int(os.environ.get('RCGI_TEST_TIMEOUT', '900'))
    timer = threading.Timer(limit, _watchdog_fire, args=(limit,))
    timer.daemon = True
    timer.start()
    prog = unittest.main(module='__main__', verbosity=2, exit=False)
    timer.cancel()
    result = prog.result
    ok = result.wasSuccessful() and not result.skipped and result.testsRun > 0
    if result.skipped:
        log('skipped tests count as failures here')
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(0 if ok else 1)


# --- images and PDF geometry (helpers for the render-option tests) ------------

def image_info(data):
    """('png'|'jpeg'|'webp', width, height) read from the bytes themselves.
    AssertionError if 'data' is none of the three."""
    import struct
    if data[:8] == b'\x89PNG\r\n\x1a\n' and data[12:16] == b'IHDR':
        w, h = struct.unpack('>II', data[16:24])
        return 'png', w, h
    if data[:3] == b'\xff\xd8\xff':
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xff:
                raise AssertionError('JPEG: no marker at offset %d' % i)
            marker = data[i + 1]
            if marker == 0xff:          # fill byte
                i += 1
                continue
            if marker in (0xd8, 0x01) or 0xd0 <= marker <= 0xd7:
                i += 2
                continue
            seglen = struct.unpack('>H', data[i + 2:i + 4])[0]
            if 0xc0 <= marker <= 0xcf and marker not in (0xc4, 0xc8, 0xcc):
                h, w = struct.unpack('>HH', data[i + 5:i + 9])
                return 'jpeg', w, h
            i += 2 + seglen
        raise AssertionError('JPEG without a frame header')
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        kind = data[12:16]
        if kind == b'VP8 ':
            w, h = struct.unpack('<HH', data[26:30])
            return 'webp', w & 0x3fff, h & 0x3fff
        if kind == b'VP8L':
            b = data[21:25]
            w = 1 + (((b[1] & 0x3f) << 8) | b[0])
            h = 1 + (((b[3] & 0x0f) << 10) | (b[2] << 2) | ((b[1] & 0xc0) >> 6))
            return 'webp', w, h
        if kind == b'VP8X':
            w = 1 + int.from_bytes(data[24:27], 'little')
            h = 1 + int.from_bytes(data[27:30], 'little')
            return 'webp', w, h
        raise AssertionError('WebP with an unknown first chunk %r' % kind)
    raise AssertionError('not a PNG, JPEG or WebP image: %r' % data[:16])


def png_pixels(data):
    """Decode an 8-bit, non-interlaced PNG (grey, RGB, palette, with or
    without alpha). Returns (width, height, pixel) where pixel(x, y) is an
    (r, g, b) tuple. Pure Python: keep the images small."""
    import struct
    import zlib
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise AssertionError('not a PNG: %r' % data[:16])
    pos, idat, palette = 8, [], None
    width = height = depth = ctype = interlace = None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            width, height, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'PLTE':
            palette = chunk
        elif kind == b'IDAT':
            idat.append(chunk)
        elif kind == b'IEND':
            break
    if depth != 8 or interlace != 0:
        raise AssertionError('png_pixels handles 8-bit non-interlaced PNGs only '
                             '(depth %s, interlace %s)' % (depth, interlace))
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b''.join(idat))
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if ftype == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xff
        elif ftype == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 0xff
        elif ftype == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xff
        elif ftype == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xff
        rows.append(line)
        prev = line

    def pixel(x, y):
        line, o = rows[y], x * bpp
        if ctype == 3:
            return tuple(palette[3 * line[o]:3 * line[o] + 3])
        if ctype in (0, 4):
            return (line[o],) * 3
        return (line[o], line[o + 1], line[o + 2])
    return width, height, pixel


def pdf_raster(pdf_path, page=1, dpi=72):
    """Rasterise one page with pdftoppm (poppler-utils) at 'dpi' (72: one
    pixel per PDF point). Returns (width, height, pixel) like png_pixels."""
    prefix = pdf_path + '.p%d' % page
    out = subprocess.run(['pdftoppm', '-r', str(dpi), '-f', str(page), '-l', str(page),
                          '-singlefile', pdf_path, prefix], capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError('pdftoppm failed on %s: %s'
                             % (pdf_path, out.stderr.decode('utf-8', 'replace')))
    with open(prefix + '.ppm', 'rb') as f:
        data = f.read()
    # P6 <w> <h> <maxval> then raw RGB; the header has no comments from pdftoppm.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    if fields[0] != b'P6' or fields[3] != b'255':
        raise AssertionError('unexpected pdftoppm output header %r' % fields)
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos:]

    def pixel(x, y):
        o = 3 * (y * width + x)
        return (pixels[o], pixels[o + 1], pixels[o + 2])
    return width, height, pixel


def color_near(rgb, want, tol=48):
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


def color_bbox(width, height, pixel, want, tol=48):
    """(x0, y0, x1, y1) — inclusive bounds of the pixels close to colour
    'want' — or None if there is none."""
    x0 = y0 = None
    x1 = y1 = -1
    for y in range(height):
        for x in range(width):
            if color_near(pixel(x, y), want, tol):
                if x0 is None or x < x0:
                    x0 = x
                if y0 is None:
                    y0 = y
                if x > x1:
                    x1 = x
                y1 = y
    return None if x0 is None else (x0, y0, x1, y1)


def pdf_pages_text(pdf_path, first, last=None):
    """pdftotext -layout of pages first..last (1-based, inclusive)."""
    out = subprocess.run(['pdftotext', '-layout', '-f', str(first), '-l', str(last or first),
                          pdf_path, '-'], capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError('pdftotext failed on %s: %s'
                             % (pdf_path, out.stderr.decode('utf-8', 'replace')))
    return out.stdout.decode('utf-8', 'replace')


def pdf_words(pdf_path):
    """Every word pdftotext finds, with its box in PDF points from the top
    left: a list of dicts {page, text, x0, y0, x1, y1}."""
    import html as html_mod
    import re
    out = subprocess.run(['pdftotext', '-bbox', pdf_path, '-'], capture_output=True,
                         timeout=60)
    if out.returncode != 0:
        raise AssertionError('pdftotext -bbox failed on %s: %s'
                             % (pdf_path, out.stderr.decode('utf-8', 'replace')))
    words, page = [], 0
    pat = re.compile(r'<page |<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                     r'yMax="([\d.]+)">([^<]*)</word>')
    for m in pat.finditer(out.stdout.decode('utf-8', 'replace')):
        if m.group(0) == '<page ':
            page += 1
            continue
        words.append({'page': page, 'text': html_mod.unescape(m.group(5)),
                      'x0': float(m.group(1)), 'y0': float(m.group(2)),
                      'x1': float(m.group(3)), 'y1': float(m.group(4))})
    return words


def fcgi_request(sock_path, params, stdin_chunks=(), close_stdin=True, timeout=30.0):
    """A minimal FastCGI client, straight to a pool's unix socket (no web
    server in between): one FCGI_RESPONDER request with 'params' (dict), then
    each bytes chunk of 'stdin_chunks' as FCGI_STDIN, then (if close_stdin)
    the empty STDIN record. Reads until FCGI_END_REQUEST or EOF and returns
    (stdout bytes, stderr bytes, ended: bool). A worker that waits for stdin
    we never send makes this time out (socket.timeout)."""
    import struct

    def record(rtype, content):
        out = b''
        for i in range(0, max(len(content), 1), 65535):
            part = content[i:i + 65535]
            pad = (8 - len(part) % 8) % 8
            out += struct.pack('>BBHHBB', 1, rtype, 1, len(part), pad, 0) + part + b'\0' * pad
        return out

    def nv(name, value):
        def ln(n):
            return struct.pack('>B', n) if n < 128 else struct.pack('>I', n | 0x80000000)
        n, v = name.encode(), value.encode()
        return ln(len(n)) + ln(len(v)) + n + v

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(record(1, struct.pack('>HB5x', 1, 0)))             # BEGIN_REQUEST, responder
        s.sendall(record(4, b''.join(nv(k, str(v)) for k, v in params.items())))
        s.sendall(record(4, b''))
        for chunk in stdin_chunks:
            s.sendall(record(5, chunk))
        if close_stdin:
            s.sendall(record(5, b''))
        stdout, stderr, buf, ended = b'', b'', b'', False
        while not ended:
            data = s.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack('>BBHHBB', buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == 6:
                    stdout += content
                elif rtype == 7:
                    stderr += content
                elif rtype == 3:
                    ended = True
        return stdout, stderr, ended
    finally:
        s.close()


class RawRequest:
    """A request through nginx on a raw socket, so the test can hang up
    mid-render: a GET, or a POST of 'body' (bytes) as 'content_type'."""

    def __init__(self, port, path, body=None, content_type='application/json'):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=60)
        if body is None:
            head = 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' % path
            self.sock.sendall(head.encode())
        else:
            head = ('POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'
                    'Content-Type: %s\r\nContent-Length: %d\r\n\r\n'
                    % (path, content_type, len(body)))
            self.sock.sendall(head.encode() + body)

    def close(self):
        # An abortive close (RST) is what a killed client or a dropped
        # connection looks like; nginx notices either way.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\0\0\0\0\0\0\0')
        self.sock.close()


class RenderAssertions:
    """unittest.TestCase mixin: the shapes of API.md §3 responses. The class
    using it sets self.stack (or cls.stack)."""

    def assertError(self, r, status, code, all_of=(), any_of=()):
        """r is the JSON error {"error": {"code", "message"}, "request_id"}
        with 'status' and 'code'; its message contains every string of
        'all_of' and at least one of 'any_of' (when given). Returns the body."""
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header('content-type', '').startswith('application/json'), r)
        body = r.json()
        self.assertIsInstance(body, dict, body)
        self.assertIsInstance(body.get('error'), dict, body)
        self.assertEqual(body['error'].get('code'), code, body)
        message = body['error'].get('message')
        self.assertIsInstance(message, str, body)
        self.assertTrue(message.strip(), body)
        self.assertTrue(body.get('request_id'), body)
        self.assertEqual(r.header('x-request-id'), body['request_id'], r.headers)
        for s in all_of:
            self.assertIn(s, message, 'the %s message does not name %r' % (code, s))
        if any_of:
            self.assertTrue(any(s in message for s in any_of),
                            'the %s message %r names none of %r' % (code, message, any_of))
        return body

    def assertServes(self, s, marker='RCGISIMPLEMARK'):
        """Through the front server of 's': a PDF of simple.html holding
        'marker', a 404 not_found body and /health 200 "ok" JSON. Returns the
        /health body (its pid names the worker that answered)."""
        r = s.pdf('/simple.html')
        self.assertIn(marker, pdftotext(self.assertPdf(r)))
        self.assertError(s.get('/no-such-route'), 404, 'not_found')
        r = s.get('/health')
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/json'), r)
        body = r.json()
        self.assertEqual(body['status'], 'ok', body)
        return body

    def assertFrontSpawnedWorker(self, pid):
        """A worker started by the web server itself (mod_fcgid, lighttpd
        bin-path): a socket on fd 0 and, when the test runs as root, the
        server's user."""
        self.assertTrue(os.readlink('/proc/%d/fd/0' % pid).startswith('socket:'))
        if os.geteuid() == 0:
            with open('/proc/%d/status' % pid) as f:
                uid = [line.split()[1] for line in f if line.startswith('Uid:')][0]
            self.assertEqual(int(uid), pwd.getpwnam(SERVER_USER).pw_uid)

    def assertFrontStopLeavesNothing(self, s, name, workers):
        """Stop the web server of FrontStack 's' (SIGTERM): its 'workers' and
        every Chromium must be gone within the stop deadline."""
        everyone = {p: None for p in s.chromium_procs() + list(workers)}
        self.assertTrue(s.chromium_mains())
        _stop(s.front, name, signal.SIGTERM, STOP_DEADLINE_S)
        left = wait_gone(everyone, STOP_DEADLINE_S)
        self.assertFalse(left, 'left after %s stopped: %r' % (name, left))

    def assertPdf(self, r):
        """r is a PDF; returns the path it was saved to (TMP/out)."""
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header('content-type', '').startswith('application/pdf'), r)
        self.assertTrue(r.body.startswith(b'%PDF-'), r)
        return self.stack.save(r.body)

    def assertImage(self, r, kind, width=None, height=None):
        """r is an image of 'kind' (png|jpeg|webp) with that Content-Type and,
        when given, those pixel dimensions read from the bytes."""
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('content-type', '').split(';')[0].strip(), 'image/' + kind, r)
        got = image_info(r.body)
        self.assertEqual(got[0], kind, got)
        if width is not None:
            self.assertEqual((got[1], got[2]), (width, height),
                             'image is %dx%d, expected %dx%d' % (got[1], got[2], width, height))
        return got


# --- Apache, lighttpd and spawn-fcgi (test_apache.py, test_lighttpd.py,
# --- test_spawn_fcgi.py) -----------------------------------------------------
#
# FrontStack is a Stack with another front server or another process manager:
#
#   front='apache'    apache2 -DFOREGROUND -d TMP/apache -f TMP/apache/httpd.conf
#   front='lighttpd'  lighttpd -D -f TMP/lighttpd/lighttpd.conf
#   front='nginx'     the Stack's own nginx and its examples
#
#   backend='spawner'     'spawners' rendercgi-spawners, one pool each, on
#                         TMP/rcgi.sock, TMP/rcgi2.sock, ...
#   backend='spawn-fcgi'  spawn-fcgi -n -s TMP/rcgi.sock -- rendercgi-worker -c ...
#   backend='front'       no process manager of ours: the front server starts
#                         the worker itself (lighttpd bin-path)
#
# The server's config is a small main file written here (paths, port, user)
# that includes the shipped example from conf-examples/<front>/ with its
# placeholders replaced (fill_example), so the example is what is tested.
#
# As root: Apache will not run its children as root and lighttpd drops root
# after binding, both to SERVER_USER (www-data, like Debian's packages). So
# the spawners give their sockets to that user's group (listen_group,
# listen_mode 0660: what a real deployment does), TMP is made searchable
# (0711) so the sockets can be reached, and what the server writes after it
# dropped root (lighttpd's error log, a bin-path worker's socket directory
# and TMPDIR) is given to that user. As another user, the servers keep the
# user they were started as and none of this is needed.

APACHE = os.environ.get('RCGI_APACHE', '/usr/sbin/apache2')
APACHE_MODULES = os.environ.get('RCGI_APACHE_MODULES', '/usr/lib/apache2/modules')
LIGHTTPD = os.environ.get('RCGI_LIGHTTPD', '/usr/sbin/lighttpd')
SPAWN_FCGI = os.environ.get('RCGI_SPAWN_FCGI', '/usr/bin/spawn-fcgi')
SERVER_USER = os.environ.get('RCGI_SERVER_USER', 'www-data')
APACHE_EXAMPLES = os.path.join(SRCDIR, 'conf-examples', 'apache')
LIGHTTPD_EXAMPLES = os.path.join(SRCDIR, 'conf-examples', 'lighttpd')

# The placeholders of the Apache and lighttpd examples (see their headers).
EXAMPLE_SOCKET_PATHS = ('/run/rendercgi/default.sock', '/run/rendercgi/second.sock')
EXAMPLE_BIN_WORKER = '/usr/local/bin/rendercgi-worker'
EXAMPLE_BIN_CONF = '/usr/local/etc/rendercgi/rendercgi.conf'
EXAMPLE_BIN_SOCKET = '/run/lighttpd/rendercgi.sock'
EXAMPLE_BIN_TMPDIR = '/var/tmp'
APACHE_EXAMPLE = 'rendercgi.conf'
LIGHTTPD_EXAMPLE = 'rendercgi.conf'
LIGHTTPD_BIN_EXAMPLE = 'rendercgi-bin-path.conf'

# Modules the Apache example needs (a2enmod proxy_fcgi proxy_balancer
# lbmethod_byrequests enables the same), and the MPM.
APACHE_LOAD = ('mpm_event', 'authz_core', 'slotmem_shm', 'proxy', 'proxy_fcgi',
               'proxy_balancer', 'lbmethod_byrequests')
# ... and the mod_fcgid example (a2enmod fcgid).
APACHE_LOAD_FCGID = ('mpm_event', 'authz_core', 'fcgid')
APACHE_FCGID_EXAMPLE = 'rendercgi-fcgid.conf'


def server_user():
    """The user Apache's children and lighttpd run as: SERVER_USER as root, else None."""
    return SERVER_USER if os.geteuid() == 0 else None


def give_to_server_user(path):
    """chown 'path' to the server user (as root; nothing otherwise)."""
    user = server_user()
    if user is not None:
        shutil.chown(path, user, user)


def fill_example(src, dst, replacements):
    """Copy an example to 'dst', replacing each (placeholder, value) in order.
    StackError if a placeholder is missing from the example."""
    with open(src) as f:
        text = f.read()
    for placeholder, value in replacements:
        if placeholder not in text:
            raise StackError('%s does not contain the placeholder %s' % (src, placeholder))
        text = text.replace(placeholder, value)
    with open(dst, 'w') as f:
        f.write(text)


class FrontStack(Stack):
    """Fixture server + pools + Apache, lighttpd or nginx (see above).

    front: 'apache' | 'lighttpd' | 'nginx'; example: the file in
    conf-examples/<front>/ (nginx: use 'examples' as with Stack);
    backend: 'spawner' | 'spawn-fcgi' | 'front'; spawners: how many
    rendercgi-spawners (one pool each) with backend='spawner'. Other keyword
    arguments are the Stack's pool options, for every pool.
    """

    def __init__(self, front='apache', example=None, backend='spawner', spawners=1, **kw):
        super().__init__(**kw)
        if front not in ('apache', 'lighttpd', 'nginx'):
            raise ValueError('front %r' % front)
        if backend not in ('spawner', 'spawn-fcgi', 'front'):
            raise ValueError('backend %r' % backend)
        self.front_kind = front
        self.example = example
        self.backend = backend
        self.n_spawners = spawners if backend == 'spawner' else 0
        self.spawners = []          # Popen of each spawner, in socket order
        self.killed = set()         # indexes of spawners killed by kill_spawner()
        self.front = None           # Popen of apache2 / lighttpd
        self.manager = None         # Popen of spawn-fcgi (which becomes the worker)
        if backend == 'spawner' and os.geteuid() == 0 and front != 'nginx':
            self.extra.setdefault('listen_group', SERVER_USER)
            self.extra.setdefault('listen_mode', '0660')

    # -- paths

    def _socket_replacements(self):
        """The examples' socket paths, each replaced by one of ours (the last
        one repeated when the example names more sockets than we run)."""
        socks = self.socket_paths
        if len(socks) < len(EXAMPLE_SOCKET_PATHS):
            socks = socks + socks[-1:] * (len(EXAMPLE_SOCKET_PATHS) - len(socks))
        return list(zip(EXAMPLE_SOCKET_PATHS, socks))

    @property
    def socket_paths(self):
        return [self.socket_path] + [self.path('rcgi%d.sock' % (i + 1))
                                     for i in range(1, max(self.n_spawners, 1))]

    @property
    def front_dir(self):
        return self.path(self.front_kind)

    @property
    def front_error_log(self):
        if self.front_kind == 'apache':
            return self.path('apache', 'error.log')
        if self.front_kind == 'lighttpd':
            return self.path('lighttpd', 'log', 'error.log')
        return self.path('nginx', 'error.log')

    # -- start

    def start(self):
        tools = {'apache': APACHE, 'lighttpd': LIGHTTPD}
        if self.front_kind in tools and not os.access(tools[self.front_kind], os.X_OK):
            raise StackError('%s not found at %s' % (self.front_kind, tools[self.front_kind]))
        if self.backend == 'spawn-fcgi' and not os.access(SPAWN_FCGI, os.X_OK):
            raise StackError('spawn-fcgi not found at %s' % SPAWN_FCGI)
        if self.front_kind == 'apache':
            for m in APACHE_LOAD + APACHE_LOAD_FCGID:
                if not os.path.exists(os.path.join(APACHE_MODULES, 'mod_%s.so' % m)):
                    raise StackError('Apache module mod_%s.so not in %s' % (m, APACHE_MODULES))
        return super().start()

    @staticmethod
    def _make_tmp():
        tmp = Stack._make_tmp()
        if os.geteuid() == 0:
            # The server user must reach the sockets in TMP by name.
            os.chmod(tmp, 0o711)
        return tmp

    def _spawner_env(self):
        env = dict(os.environ)
        env['TMPDIR'] = self.path('t')
        env['RENDERCGI_WORKER'] = WORKER
        return env

    def _start_spawner(self):
        if self.backend == 'spawner':
            for i, sock in enumerate(self.socket_paths):
                self.spawners.append(self._start_one_spawner(i, sock))
            self.spawner = self.spawners[0]
        elif self.backend == 'spawn-fcgi':
            logf = open(self.path('spawner.log'), 'wb')
            try:
                self.manager = subprocess.Popen(
                    [SPAWN_FCGI, '-n', '-s', self.socket_path, '-M', '0600', '--',
                     WORKER, '-c', self.conf_path],
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                    env=self._spawner_env(), start_new_session=True)
            finally:
                logf.close()

    def _start_one_spawner(self, i, sock):
        name = 'rendercgi.conf' if i == 0 else 'rendercgi%d.conf' % (i + 1)
        conf = self.path(name)
        text = self.conf_text().replace('listen = %s\n' % self.socket_path,
                                        'listen = %s\n' % sock)
        with open(conf, 'w') as f:
            f.write(text)
        logname = 'spawner.log' if i == 0 else 'spawner%d.log' % (i + 1)
        logf = open(self.path(logname), 'wb')
        try:
            return subprocess.Popen(
                [SPAWNER, '-c', conf, '--foreground',
                 '--pidfile', self.path('spawner%d.pid' % (i + 1))],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                env=self._spawner_env(), start_new_session=True)
        finally:
            logf.close()

    def _start_nginx(self):
        if self.front_kind == 'nginx':
            return super()._start_nginx()
        os.makedirs(self.front_dir, exist_ok=True)
        for attempt in range(3):
            self.port = free_port()
            self.ports = {self.example: self.port}
            if self.front_kind == 'apache':
                argv, env = self._write_apache_conf()
            else:
                argv, env = self._write_lighttpd_conf()
            logf = open(os.path.join(self.front_dir, 'stderr.log'), 'ab')
            try:
                self.front = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                              stderr=subprocess.STDOUT, env=env,
                                              start_new_session=True)
            finally:
                logf.close()
            end = time.monotonic() + 15
            while time.monotonic() < end and self.front.poll() is None:
                if _port_open(self.port):
                    return
                time.sleep(0.05)
            if self.front.poll() is None:
                raise StackError('%s did not open port %d within 15 s:\n%s'
                                 % (self.front_kind, self.port, self._front_logs()))
            log('%s exited with %s (attempt %d):\n%s'
                % (self.front_kind, self.front.returncode, attempt + 1, self._front_logs()))
            self.front = None
        raise StackError('%s would not start' % self.front_kind)

    def _front_logs(self):
        return '%s\n%s' % (tail(self.front_error_log),
                           tail(os.path.join(self.front_dir, 'stderr.log')))

    def apache_command(self, *extra):
        d = self.front_dir
        return [APACHE, '-d', d, '-f', os.path.join(d, 'httpd.conf')] + list(extra)

    def _write_apache_conf(self):
        d = self.front_dir
        os.makedirs(os.path.join(d, 'run'), exist_ok=True)
        modules = APACHE_LOAD
        if self.backend == 'front':
            # mod_fcgid starts the worker as Apache's User: its TMPDIR
            # (Chromium's profiles) and mod_fcgid's socket directory are
            # that user's.
            modules = APACHE_LOAD_FCGID
            for sub in ('fcgid', 'www'):
                os.makedirs(os.path.join(d, sub), exist_ok=True)
            give_to_server_user(os.path.join(d, 'fcgid'))
            give_to_server_user(self.path('t'))
            replacements = [(EXAMPLE_BIN_CONF, self.conf_path),
                            (EXAMPLE_BIN_WORKER, WORKER),
                            (EXAMPLE_BIN_TMPDIR, self.path('t'))]
        else:
            replacements = self._socket_replacements()
        fill_example(os.path.join(APACHE_EXAMPLES, self.example), os.path.join(d, self.example),
                     replacements + [(EXAMPLE_LISTEN, '127.0.0.1:%d' % self.port)])
        user = server_user()
        lines = ['# httpd.conf written by tests/integration/stack.py for one test',
                 'ServerRoot "%s"' % d,
                 'DefaultRuntimeDir "%s"' % os.path.join(d, 'run'),
                 'PidFile "%s"' % os.path.join(d, 'apache2.pid'),
                 'ErrorLog "%s"' % os.path.join(d, 'error.log'),
                 'LogLevel info']
        lines += ['LoadModule %s_module "%s"' % (m, os.path.join(APACHE_MODULES, 'mod_%s.so' % m))
                  for m in modules]
        if self.backend == 'front':
            # What Debian's fcgid.conf sets, in TMP instead of /var/lib/apache2.
            lines += ['FcgidIPCDir "%s"' % os.path.join(d, 'fcgid'),
                      'FcgidProcessTableFile "%s"' % os.path.join(d, 'run', 'fcgid_shm'),
                      'DocumentRoot "%s"' % os.path.join(d, 'www')]
        if user is not None:
            lines += ['User %s' % user, 'Group %s' % user]
        lines += ['ServerName localhost',
                  'LogFormat "%h %l %u %t \\"%r\\" %>s %b %D" timed',
                  'CustomLog "%s" timed' % os.path.join(d, 'access.log'),
                  'StartServers 1',
                  'ServerLimit 1',
                  'ThreadLimit 16',
                  'ThreadsPerChild 16',
                  'MaxRequestWorkers 16',
                  'MinSpareThreads 1',
                  'MaxSpareThreads 16',
                  'Include "%s"' % os.path.join(d, self.example)]
        with open(os.path.join(d, 'httpd.conf'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return self.apache_command('-DFOREGROUND'), dict(os.environ)

    def _check_config(self, write, command):
        """Write the server's config (TMP must exist) and run 'command' on it,
        the server's own syntax check. Returns (status, output)."""
        os.makedirs(self.front_dir, exist_ok=True)
        self.port = self.port or free_port()
        write()
        out = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        return out.returncode, (out.stdout + out.stderr).decode('utf-8', 'replace')

    def check_apache_config(self):
        """apache2 -t on the config. Returns (status, output)."""
        return self._check_config(self._write_apache_conf, self.apache_command('-t'))

    def lighttpd_command(self, *extra):
        return [LIGHTTPD, '-f', os.path.join(self.front_dir, 'lighttpd.conf')] + list(extra)

    def _write_lighttpd_conf(self):
        d = self.front_dir
        for sub in ('www', 'log', 'upload', 'run'):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        # lighttpd opens its error log, and a bin-path backend's socket is
        # created, after root was dropped.
        for sub in ('log', 'upload', 'run'):
            give_to_server_user(os.path.join(d, sub))
        if self.backend == 'front':
            # The worker runs as the server user: its TMPDIR (Chromium's
            # profiles) and HOME are TMP/t.
            give_to_server_user(self.path('t'))
            replacements = [(EXAMPLE_BIN_CONF, self.conf_path),
                            (EXAMPLE_BIN_WORKER, WORKER),
                            (EXAMPLE_BIN_SOCKET, os.path.join(d, 'run', 'rendercgi.sock')),
                            (EXAMPLE_BIN_TMPDIR, self.path('t'))]
        else:
            replacements = self._socket_replacements()
        fill_example(os.path.join(LIGHTTPD_EXAMPLES, self.example),
                     os.path.join(d, self.example), replacements)
        user = server_user()
        lines = ['# lighttpd.conf written by tests/integration/stack.py for one test',
                 'server.document-root = "%s"' % os.path.join(d, 'www'),
                 'server.bind = "127.0.0.1"',
                 'server.port = %d' % self.port,
                 'server.pid-file = "%s"' % os.path.join(d, 'lighttpd.pid'),
                 'server.errorlog = "%s"' % self.front_error_log,
                 'server.upload-dirs = ( "%s" )' % os.path.join(d, 'upload')]
        if user is not None:
            lines += ['server.username = "%s"' % user, 'server.groupname = "%s"' % user]
        lines += ['include "%s"' % os.path.join(d, self.example)]
        with open(os.path.join(d, 'lighttpd.conf'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        env = dict(os.environ)
        env['TMPDIR'] = self.path('t')
        env['HOME'] = self.path('t')
        return self.lighttpd_command('-D'), env

    def check_lighttpd_config(self):
        """lighttpd -tt on the config. Returns (status, output)."""
        return self._check_config(self._write_lighttpd_conf, self.lighttpd_command('-tt'))

    def _check_running(self):
        for i, sp in enumerate(self.spawners):
            if i not in self.killed and sp.poll() is not None:
                raise StackError('rendercgi-spawner %d exited with %s during start-up:\n%s'
                                 % (i + 1, sp.returncode, tail(self._spawner_log(i))))
        if self.manager is not None and self.manager.poll() is not None:
            raise StackError('spawn-fcgi (the worker) exited with %s during start-up:\n%s'
                             % (self.manager.returncode, tail(self.path('spawner.log'))))
        front = self.nginx if self.front_kind == 'nginx' else self.front
        if front is not None and front.poll() is not None:
            raise StackError('%s exited with %s during start-up:\n%s'
                             % (self.front_kind, front.returncode, self._front_logs()))

    def expected_browsers(self):
        per_worker = int(self.pool['browsers'] or 0)
        if self.backend == 'spawner':
            return self.n_spawners * int(self.pool['workers'] or 0) * per_worker
        return per_worker

    def _wait_ready(self):
        wait, self.wait_browsers = self.wait_browsers, False
        try:
            super()._wait_ready()
        finally:
            self.wait_browsers = wait
        # Every pool must be up (not a courtesy here): the balancing tests
        # need both.
        if wait:
            want = self.expected_browsers()
            poll(lambda: (self._check_running() or True)
                 and len(self.chromium_mains()) >= want,
                 START_DEADLINE_S, interval=0.2, what='%d Chromium browsers' % want)

    def _spawner_log(self, i):
        return self.path('spawner.log' if i == 0 else 'spawner%d.log' % (i + 1))

    # -- processes

    def workers(self):
        """Live worker pids: children of every live spawner, or spawn-fcgi's
        worker, or the workers the front server started (bin-path)."""
        out = []
        if self.backend == 'spawner':
            for sp in self.spawners:
                if sp.poll() is None:
                    out += [p for p in children(sp.pid)
                            if 'rendercgi-worker' in os.path.basename(
                                (proc_cmdline(p) or [''])[0])]
        elif self.backend == 'spawn-fcgi':
            if self.manager is not None and self.manager.poll() is None:
                out.append(self.manager.pid)
        else:
            for p in pids_mentioning(self.tmp):
                argv = proc_cmdline(p)
                if argv and os.path.basename(argv[0]) == 'rendercgi-worker':
                    out.append(p)
        return sorted(out)

    def wait_pools_ready(self, deadline_s=30.0):
        """Poll GET /health on every pool's socket directly (no web server in
        between) until each answers 200: a failover test must not kill one
        pool while the other is still starting its browser."""
        params = {'REQUEST_METHOD': 'GET', 'REQUEST_URI': '/health', 'SCRIPT_NAME': '/health',
                  'QUERY_STRING': '', 'SERVER_PROTOCOL': 'HTTP/1.1'}

        def ready(sock):
            try:
                out, _, _ = fcgi_request(sock, params, timeout=5.0)
            except OSError:
                return False
            return out.startswith(b'Status: 200')
        for sock in self.socket_paths:
            poll(lambda: ready(sock), deadline_s, what='pool %s to answer /health 200' % sock)

    def kill_spawner(self, i):
        """SIGKILL spawner 'i' (0-based). Returns {pid: starttime} of what
        ran below it (its workers and their Chromium), to wait for."""
        sp = self.spawners[i]
        below = descendants(sp.pid)
        sp.kill()
        sp.wait()
        self.killed.add(i)
        return below

    # -- teardown

    def close(self):
        if self.closed:
            return
        problems = []
        if self.front is not None:
            # Apache stops its children on SIGTERM; lighttpd also sends its
            # bin-path workers their kill-signal.
            problems += _stop(self.front, self.front_kind, signal.SIGTERM, STOP_DEADLINE_S)
        for i, sp in enumerate(self.spawners):
            if i == 0:
                continue        # Stack.close stops self.spawner
            if i in self.killed:
                continue
            problems += _stop(sp, 'rendercgi-spawner %d' % (i + 1), signal.SIGTERM,
                              STOP_DEADLINE_S, want_status=0)
        if self.manager is not None:
            problems += _stop(self.manager, 'spawn-fcgi (the worker)', signal.SIGTERM,
                              STOP_DEADLINE_S, want_status=0)
        if 0 in self.killed:
            self.spawner = None
        if self.tmp is not None and self.backend in ('front', 'spawn-fcgi'):
            # No spawner sweeps up here: what the worker leaves after its
            # graceful stop must be gone by itself within the stop deadline.
            mine = {self.fixture.pid} if self.fixture is not None else set()
            left = {p: None for p in pids_mentioning(self.tmp, exclude=mine)
                    if p != (self.nginx.pid if self.nginx else -1)}
            left = wait_gone(left, STOP_DEADLINE_S)
            if left:
                problems.append('still running %.0f s after the worker was stopped: %s'
                                % (STOP_DEADLINE_S, ', '.join(
                                    '%d (%s)' % (p, ' '.join(proc_cmdline(p))[:120])
                                    for p in left)))
        try:
            super().close()
        except StackError as e:
            problems.append(str(e))
        if problems:
            raise StackError('teardown: ' + '; '.join(problems))

    def _show_logs(self):
        super()._show_logs()
        for i in range(1, len(self.spawners)):
            if os.path.exists(self._spawner_log(i)):
                log('--- last lines of %s ---\n%s'
                    % (os.path.basename(self._spawner_log(i)), tail(self._spawner_log(i))))
        if self.front_kind != 'nginx' and os.path.isdir(self.front_dir):
            log('--- last lines of the %s logs ---\n%s' % (self.front_kind, self._front_logs()))

    def kill_everything(self):
        for p in [self.front, self.manager] + self.spawners:
            if p is not None and p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        super().kill_everything()
