"""The pipeline log: one status line per step (started, succeeded, failed with the cause).

Every line goes to ``<pipeline_log_dir>/etl.log`` tagged with the run id, from the shell CLI
and from inside Airflow tasks alike, so one file tells the story of every run.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from Module_1_Foundations.common.logs import LOG_FORMAT, IsoFormatter, RunIdFilter
from Module_1_Foundations.common.settings import get_settings

MODULE = "Module_2_Pipelines"
log = logging.getLogger(f"{MODULE}.etl")


def pipeline_log_dir() -> Path:
    """The setting ``pipeline_log_dir``: ``Module_2_Pipelines/logs`` unless
    ``HDP_PIPELINE_LOG_DIR`` says otherwise (tests point it at a temporary folder)."""
    return Path(get_settings().pipeline_log_dir)


@contextlib.contextmanager
def pipeline_log(run_id: str, step: str, *, name: str = "etl") -> Iterator[Path]:
    """Log one step's status (started, succeeded or failed with the cause, and its duration)
    to ``<pipeline_log_dir>/<name>.log``, every line tagged with ``run_id``.

    Used inside Airflow tasks, where Airflow owns the root logger: only this module's logger gets
    the extra file handler, so the task log and the pipeline log both receive every line once.
    """
    folder = pipeline_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / f"{name}.log", encoding="utf-8")
    handler.setFormatter(IsoFormatter(LOG_FORMAT))
    handler.addFilter(RunIdFilter(run_id))
    owner = logging.getLogger(MODULE)
    owner.addHandler(handler)
    previous = owner.level
    owner.setLevel(logging.INFO)
    started = time.perf_counter()
    log.info("%s: started", step)
    try:
        yield folder / f"{name}.log"
    except BaseException as exc:
        log.error(
            "%s: FAILED after %.1f s: %s: %s",
            step,
            time.perf_counter() - started,
            type(exc).__name__,
            exc,
        )
        raise
    else:
        log.info("%s: succeeded in %.1f s", step, time.perf_counter() - started)
    finally:
        owner.removeHandler(handler)
        owner.setLevel(previous)
        handler.close()
