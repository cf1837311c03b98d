"""Errors a user can act on. The CLI prints their message as one line and exits non-zero, no traceback."""


class DiffbenchError(Exception):
    """Base of every error whose message alone tells the user what went wrong and what to do."""


class RunAbort(DiffbenchError):
    """A failure that would hit every task alike (an unreachable endpoint, a refused key): a benchmark run stops
    there, with what it finished kept, instead of recording the same failure for each task."""
