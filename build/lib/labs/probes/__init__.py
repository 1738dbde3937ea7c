"""Client-side probes: programs that run inside the client host's namespace."""
