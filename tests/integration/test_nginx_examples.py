#!/usr/bin/env python3
"""test_nginx_examples.py — the shipped nginx examples are real configs.

Each example in conf-examples/nginx/, with its two placeholders (the socket
and the listen address) replaced the way ./quickstart and stack.py replace
them, passes `nginx -t`, alone and both together in one http {} block. Needs
nginx, but neither rendercgi binary nor Chromium.
"""

import os
import shutil
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class NginxExamples(unittest.TestCase):

    def check(self, examples):
        s = stack.Stack(examples=examples)
        s.tmp = tempfile.mkdtemp(prefix='rcgi-it-nginx-')
        try:
            rc, out = s.check_nginx_config()
            self.assertEqual(rc, 0, 'nginx -t failed for %s:\n%s' % (examples, out))
            self.assertIn('test is successful', out)
            for name in examples:
                with open(s.path('nginx', name)) as f:
                    text = f.read()
                self.assertNotIn(stack.EXAMPLE_SOCKET, text)
                self.assertIn('unix:' + s.socket_path, text)
        finally:
            shutil.rmtree(s.tmp, ignore_errors=True)

    def test_root_example_passes_nginx_t(self):
        self.check([stack.ROOT_EXAMPLE])

    def test_subpath_example_passes_nginx_t(self):
        self.check([stack.SUBPATH_EXAMPLE])

    def test_both_examples_fit_in_one_http_block(self):
        self.check([stack.ROOT_EXAMPLE, stack.SUBPATH_EXAMPLE])

    def test_every_example_uses_the_documented_placeholders(self):
        names = sorted(n for n in os.listdir(stack.NGINX_EXAMPLES) if n.endswith('.conf'))
        self.assertIn(stack.ROOT_EXAMPLE, names)
        self.assertIn(stack.SUBPATH_EXAMPLE, names)
        for name in names:
            with open(os.path.join(stack.NGINX_EXAMPLES, name)) as f:
                text = f.read()
            self.assertIn(stack.EXAMPLE_SOCKET, text, name)
            self.assertIn('listen ' + stack.EXAMPLE_LISTEN, text, name)
            self.assertIn('include fastcgi_params;', text, name)
            self.assertIn('fastcgi_next_upstream error timeout http_503;', text, name)
            self.assertIn('fastcgi_buffering off;', text, name)


if __name__ == '__main__':
    stack.main()
