"""The sources read the lake from the object store (s3:// through DuckDB's httpfs).

A local S3 API (moto's threaded server on 127.0.0.1) holds the same Parquet layout Module 1
uploads (``s3://<bucket>/<prefix>/<table>/...``); dbt builds the warehouse from it with the
httpfs extension from the ``duckdb-ext-httpfs`` wheel (no download at run time).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from Module_1_Foundations.common.settings import load_settings
from Module_3_Analytics_Eng import dbt_runner
from Module_3_Analytics_Eng.sample_lake import read_table
from Module_3_Analytics_Eng.tests.conftest import Warehouse, assert_ok
from Module_3_Analytics_Eng.warehouse import connect_warehouse

pytestmark = pytest.mark.slow

BUCKET = "hdp-test-lake"
KEYS = {"aws_access_key_id": "testkey", "aws_secret_access_key": "testsecret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_build_reads_the_lake_from_s3(s3_endpoint: str, base_lake: Path, tmp_path: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket=BUCKET)
    for path in base_lake.rglob("*.parquet"):
        s3.upload_file(str(path), BUCKET, f"books/loanbook/{path.relative_to(base_lake)}")
    settings = load_settings(
        state_dir=tmp_path / "state",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=BUCKET,
        s3_prefix="books/loanbook",
        s3_access_key_id=KEYS["aws_access_key_id"],
        s3_secret_access_key=KEYS["aws_secret_access_key"],
    )
    env = dbt_runner.dbt_env(settings, lake="s3", duckdb_path=tmp_path / "s3.duckdb")
    assert env["HDP_LAKE_ROOT"] == f"s3://{BUCKET}/books/loanbook"
    wh = Warehouse(tmp_path / "s3.duckdb", base_lake, tmp_path)
    result = dbt_runner.run_dbt(
        ["build"],
        env,
        target_path=tmp_path / "target",
        log_path=tmp_path,
    )
    assert_ok(result)
    loans = read_table(base_lake, "loans").num_rows
    assert wh.query("select count(*) from loanbook_core.fct_loans") == [(loans,)]
    # a reader touching the views over s3:// needs httpfs from the wheel and the secret
    with connect_warehouse(env) as con:
        [(source_file,)] = con.execute(
            "select min(source_file_name) from loanbook_staging.stg_loanbook__loans"
        ).fetchall()
    assert source_file.startswith(f"s3://{BUCKET}/books/loanbook/loans/")
