"""The seed-claim experiments behind the diagnostics page (run by docs/gen_diagnostics.py,
asserted by tests/test_claims.py); they use pwlmodels, and ship outside it."""
