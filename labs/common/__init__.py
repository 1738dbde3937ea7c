"""Shared by every stage and command: errors, files (JSON, results folders), the commands' exits, requirements, text tables."""
