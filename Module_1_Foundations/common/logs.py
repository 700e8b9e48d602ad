"""One logging setup for every script: ISO timestamps, level, logger name and a run id.

Records go to the console (without breaking progress bars) and to ``<module>/logs/<name>.log``.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from tqdm.auto import tqdm

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_1_Foundations.common.settings import get_settings

T = TypeVar("T")

LOG_FORMAT = "%(asctime)s %(levelname)-7s run=%(run_id)s %(name)s: %(message)s"
_MARK = "_hdp_handler"


def new_run_id() -> str:
    """A sortable, unique run id: ``20261126T214500Z-1a2b3c``; the setting ``run_id``
    (``HDP_RUN_ID``, e.g. handed down by an orchestrator) overrides it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return get_settings().run_id or f"{stamp}-{secrets.token_hex(3)}"


class IsoFormatter(logging.Formatter):
    """Timestamps as ISO 8601 in UTC with milliseconds: ``2026-11-26T21:45:00.123+00:00``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


class RunIdFilter(logging.Filter):
    """Stamps ``run_id`` on every record that passes a handler (the ``%(run_id)s`` of
    :data:`LOG_FORMAT`); a record that already carries one keeps it."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "run_id"):
            record.run_id = self.run_id
        return True


class _TqdmConsoleHandler(logging.StreamHandler):
    """Writes through ``tqdm.write`` so a log line never tears a live progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # logging must never raise into the caller
            self.handleError(record)


def setup_logging(
    module: str,
    name: str,
    *,
    run_id: str | None = None,
    level: int | str = logging.INFO,
    log_dir: Path | None = None,
) -> str:
    """Configure the root logger for one script and return the run id.

    Args:
        module: the module folder that owns the script, e.g. ``"Module_1_Foundations"``; its
            ``logs/`` folder receives ``<name>.log``.
        name: the script's short name (the log file's stem).
        run_id: reuse an id (e.g. Airflow's run id); a new one is made otherwise.
        level: the console and file level.
        log_dir: override the log folder (tests).

    Calling it again replaces the handlers it installed before; other handlers are kept.
    """
    run_id = run_id or new_run_id()
    folder = log_dir or (REPO_ROOT / module / "logs")
    folder.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    formatter = IsoFormatter(LOG_FORMAT)
    run_filter = RunIdFilter(run_id)
    console = _TqdmConsoleHandler(sys.stderr)
    to_file = logging.FileHandler(folder / f"{name}.log", encoding="utf-8")
    for handler in (console, to_file):
        handler.setFormatter(formatter)
        handler.addFilter(run_filter)
        handler.setLevel(level)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    return run_id


def progress(
    iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it"
) -> Iterator[T]:
    """A progress bar on stderr for long work; silent when stderr is not a terminal."""
    yield from tqdm(iterable, total=total, desc=desc, unit=unit, disable=None, dynamic_ncols=True)


def progress_bar(total: int, *, desc: str = "", unit: str = "it") -> tqdm:
    """A manually updated progress bar (``bar.update(n)``); silent when stderr is no terminal."""
    return tqdm(
        total=total, desc=desc, unit=unit, unit_scale=True, disable=None, dynamic_ncols=True
    )
