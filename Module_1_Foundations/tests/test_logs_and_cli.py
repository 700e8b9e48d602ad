"""One logging setup (ISO time, level, logger, run id; console and file) and one-line errors."""

from __future__ import annotations

import hashlib
import logging
import re

import pytest

from Module_1_Foundations.common.cli import run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import atomic_path, sha256_file, write_json_atomic
from Module_1_Foundations.common.logs import setup_logging

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 INFO    run=abc-123 hdp\.test: hello 42$"
)


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_log_lines_carry_iso_time_level_run_id_and_logger(tmp_path, capsys, restore_root_logger):
    run_id = setup_logging("Module_1_Foundations", "unit", run_id="abc-123", log_dir=tmp_path)
    logging.getLogger("hdp.test").info("hello %d", 42)
    assert run_id == "abc-123"
    assert LINE.match(capsys.readouterr().err.strip())
    assert LINE.match((tmp_path / "unit.log").read_text().strip())


def test_setting_up_twice_does_not_duplicate_lines(tmp_path, capsys, restore_root_logger):
    setup_logging("Module_1_Foundations", "unit", run_id="r1", log_dir=tmp_path)
    setup_logging("Module_1_Foundations", "unit", run_id="r2", log_dir=tmp_path)
    logging.getLogger("hdp.test").warning("once")
    err = capsys.readouterr().err
    assert err.count("once") == 1
    assert "run=r2" in err


def test_a_new_run_id_is_sortable_and_unique(tmp_path, restore_root_logger, monkeypatch):
    monkeypatch.delenv("HDP_RUN_ID", raising=False)
    ids = {setup_logging("Module_1_Foundations", "u", log_dir=tmp_path) for _ in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", i) for i in ids)


def test_user_errors_become_one_line_and_exit_2(capsys):
    def broken() -> int:
        raise UserError("data/raw/x.csv: row 7, field 'amount': 'abc' is not a number; fix the row")

    assert run_cli(broken) == 2
    assert capsys.readouterr().err == (
        "error: data/raw/x.csv: row 7, field 'amount': 'abc' is not a number; fix the row\n"
    )


def test_bugs_are_not_disguised_as_user_errors():
    def bug() -> int:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        run_cli(bug)


def test_atomic_write_leaves_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic(target, {"v": 1})

    def interrupted_writer() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half a fi")
            raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        interrupted_writer()
    assert target.read_text() == '{\n  "v": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert sha256_file(target) == hashlib.sha256(b'{\n  "v": 1\n}\n').hexdigest()


def test_atomic_directory_swaps_a_finished_folder_in_whole(tmp_path):
    from Module_1_Foundations.common.io import atomic_directory

    target = tmp_path / "dataset"
    target.mkdir()
    (target / "old.parquet").write_text("old")
    with atomic_directory(target) as staged:
        (staged / "new.parquet").write_text("new")
        assert (target / "old.parquet").exists()  # readers still see the old folder
    assert sorted(p.name for p in target.iterdir()) == ["new.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]  # nothing hidden left behind


def test_atomic_directory_keeps_the_old_folder_when_the_build_fails(tmp_path):
    from Module_1_Foundations.common.io import atomic_directory

    target = tmp_path / "dataset"
    target.mkdir()
    (target / "old.parquet").write_text("old")

    def build_and_crash() -> None:
        with atomic_directory(target) as staged:
            (staged / "half.parquet").write_text("half")
            raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        build_and_crash()
    assert sorted(p.name for p in target.iterdir()) == ["old.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]


def test_the_run_id_setting_tags_every_line(tmp_path, restore_root_logger, monkeypatch):
    from Module_1_Foundations.common.settings import get_settings

    monkeypatch.setenv("HDP_RUN_ID", "scheduled__2024-01-05")
    get_settings.cache_clear()
    try:
        run_id = setup_logging("Module_1_Foundations", "tagged", log_dir=tmp_path)
        logging.getLogger("hdp.test").warning("tagged line")
    finally:
        get_settings.cache_clear()
    assert run_id == "scheduled__2024-01-05"
    assert "run=scheduled__2024-01-05" in (tmp_path / "tagged.log").read_text()
