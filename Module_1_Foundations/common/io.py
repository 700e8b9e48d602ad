"""Small I/O helpers: atomic writes of files and folders, and checksums."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


@contextlib.contextmanager
def atomic_path(target: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only on success.

    A reader never sees a half-written ``target``: the rename is atomic on one filesystem,
    and an exception (or a kill) leaves at most a hidden ``.tmp`` file behind, never a
    truncated target. ``mode`` is the file's permission once in place (``0o600`` for secrets).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if mode != 0o600:  # mkstemp makes 0600; data is meant to be read by other tools
            tmp.chmod(mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str, *, mode: int = 0o644) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically, with permission ``mode``."""
    with atomic_path(target, mode=mode) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: Path, payload: Any) -> None:
    """Write ``payload`` as indented, key-sorted JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (bounded memory for any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``target``; swap it in as ``target`` only on success.

    The folder is built under a temporary name on the same filesystem, then two renames replace
    the old folder (if any): a reader sees the old content or the new, never a mix or a
    half-written folder, and a failure leaves the old ``target`` untouched. The old folder is
    deleted after the swap.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
    staged.mkdir()
    try:
        yield staged
        swap_directory(staged, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def swap_directory(staged: Path, target: Path) -> None:
    """Replace ``target`` by the finished folder ``staged`` with two renames (see above)."""
    old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
