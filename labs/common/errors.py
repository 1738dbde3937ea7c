"""One exception for everything a user can fix; its text is the whole one-line message."""


class LabError(Exception):
    """A problem the user can act on; `str(e)` names the fix."""
