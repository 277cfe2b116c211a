"""Pages of the governance app, one module per noun: `people` (home, organizations,
committees), `ballots`, `meetings`, `sops`, and `errors` (health check, lockout, error pages).
They read through each model's `visible_to` and write through governance.services."""
