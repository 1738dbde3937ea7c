"""Daemons, one class each: render -> check -> start -> stop, all in one place."""
