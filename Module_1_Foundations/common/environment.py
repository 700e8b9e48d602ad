"""Environment variables set for one block of code, then restored exactly as they were.

Libraries that read configuration from ``os.environ`` (dbt's ``env_var``, MLflow's S3 client,
the settings in a benchmark's throwaway state) are given their variables this way, so nothing
leaks into the rest of the process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping


@contextlib.contextmanager
def patched_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` in ``os.environ`` for the duration; restore (or remove) each name after."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
