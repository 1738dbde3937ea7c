"""Shared by every stage and command: errors, JSON and results folders, the commands' exits,
the requirements check, text tables."""
