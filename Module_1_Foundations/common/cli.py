"""The shared shape of every command-line entry point: one-line errors, exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import date
from typing import NoReturn

from Module_1_Foundations.common.errors import UserError

#: Exit status for a problem the user can fix (bad argument, input or setting).
EXIT_USER_ERROR = 2


def run_cli(main: Callable[[], int | None]) -> int:
    """Run ``main`` and turn a :class:`UserError` into ``error: ...`` on stderr and exit 2.

    Unexpected exceptions propagate with their traceback: those are bugs, not user errors.
    """
    try:
        return int(main() or 0)
    except UserError as exc:
        logging.getLogger("hdp").debug("user error", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with a bad argument reported as one ``error:`` line (and exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def iso_date(text: str) -> date:
    """argparse ``type=`` for a calendar date written ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None
