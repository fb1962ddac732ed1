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
                 wait_browsers=True):
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
                 'log_level = info',
                 'shutdown_timeout = 10s']
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
                if last.status == 200:
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
