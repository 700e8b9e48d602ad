"""One error type for problems the user can fix, and one way to report them."""

from __future__ import annotations


class UserError(Exception):
    """A problem with input or configuration that the user can fix.

    The message is one line: what is wrong, where (file, row, field) and what to do.
    Command-line entry points print it as ``error: <message>`` and exit with status 2.
    """


class SettingsError(UserError):
    """A missing, malformed or inconsistent setting."""
