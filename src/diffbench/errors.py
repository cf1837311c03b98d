"""Errors a user can act on. The CLI prints their message as one line and exits non-zero, no traceback."""


class DiffbenchError(Exception):
    """Base of every error whose message alone tells the user what went wrong and what to do."""
