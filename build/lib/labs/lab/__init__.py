"""The running lab: network, daemons, inspection, convergence and cleanup."""
