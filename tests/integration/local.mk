# tests/integration/ — the real stack on loopback (owned by the integration harness).
