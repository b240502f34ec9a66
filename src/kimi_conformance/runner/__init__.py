"""The runner: one run of the suites against a target (its state, target probe, session, scenarios, the
schemathesis bridge, the xdist merge) and the self-test."""
