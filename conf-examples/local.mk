# conf-examples/ — shipped as documentation and used by ./quickstart and the tests.
EXTRA_DIST += conf-examples
