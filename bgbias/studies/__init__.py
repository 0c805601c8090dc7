"""Work across experiments: the comparison of an experiment's setups, the claims document and its ablations."""
