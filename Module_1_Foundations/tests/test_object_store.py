"""Upload to S3: idempotent, verified, nothing partial; the same tests on moto and on SeaweedFS.

``store`` runs each test against moto's server (fast) and against a real throwaway SeaweedFS,
the embedded object store (``e2e``). Each test gets its own bucket.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.settings import Settings, load_settings
from Module_1_Foundations.project import object_store
from Module_1_Foundations.project.csv_to_parquet_to_s3 import (
    convert_csv,
    object_store_client,
    upload_directory,
)
from Module_1_Foundations.project.local_s3_server import free_port

from .conftest import run_module

CLI = "Module_1_Foundations.project.csv_to_parquet_to_s3"
MiB = 1 << 20


@dataclass
class Store:
    name: str
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    settings: Settings

    def client(self):
        return object_store_client(self.settings)

    def env(self) -> dict[str, str]:
        return {
            "HDP_S3_ENDPOINT_URL": self.endpoint,
            "HDP_S3_ACCESS_KEY_ID": self.access_key,
            "HDP_S3_SECRET_ACCESS_KEY": self.secret_key,
            "HDP_S3_BUCKET": self.bucket,
            "HDP_STATE_DIR": str(self.settings.state_dir),
        }


def _settings(tmp_path: Path, endpoint: str, key: str, secret: str, bucket: str) -> Settings:
    return load_settings(
        s3_endpoint_url=endpoint,
        s3_access_key_id=key,
        s3_secret_access_key=secret,
        s3_bucket=bucket,
        state_dir=tmp_path / "state",
    )


@pytest.fixture(params=["moto", pytest.param("seaweedfs", marks=pytest.mark.e2e)])
def store(request, tmp_path, clean_env) -> Store:
    if request.param == "moto":
        endpoint, key, secret = request.getfixturevalue("moto_endpoint"), "testing", "testing"
    else:
        endpoint, key, secret = request.getfixturevalue("seaweedfs_server")
    bucket = f"t-{secrets.token_hex(6)}"
    return Store(
        request.param,
        endpoint,
        key,
        secret,
        bucket,
        _settings(tmp_path, endpoint, key, secret, bucket),
    )


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A small converted dataset folder: Parquet, manifest, rejects."""
    src = tmp_path / "sales.csv"
    src.write_text("id,amount\n1,10\n2,20\n3,oops\n")
    convert_csv(src, tmp_path / "sales")
    return tmp_path / "sales"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keys(store: Store) -> list[str]:
    answer = store.client().list_objects_v2(Bucket=store.bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def test_upload_is_verified_and_a_rerun_uploads_nothing(store, dataset):
    first = upload_directory(
        dataset, prefix="lake/sales", settings=store.settings, create_bucket=True
    )
    assert (
        sorted(first.uploaded)
        == _keys(store)
        == [
            "lake/sales/_manifest.json",
            "lake/sales/_rejects/sales_rejects.csv",
            "lake/sales/part-00000.parquet",
        ]
    )
    assert first.uploaded[-1] == "lake/sales/_manifest.json", "the manifest goes last"
    head = store.client().head_object(Bucket=store.bucket, Key="lake/sales/part-00000.parquet")
    local = (dataset / "part-00000.parquet").read_bytes()
    assert (
        head["Metadata"]["sha256"] == _sha(local) == first.objects["lake/sales/part-00000.parquet"]
    )
    assert head["ServerSideEncryption"] == "AES256"
    assert first.bytes_uploaded == sum(p.stat().st_size for p in dataset.rglob("*") if p.is_file())

    again = upload_directory(dataset, prefix="lake/sales", settings=store.settings)
    assert again.uploaded == [] and sorted(again.skipped) == _keys(store)
    assert "nothing to upload: 3 object(s) unchanged" in again.summary()

    (dataset / "_rejects" / "sales_rejects.csv").write_text("line_number,reason,raw\n")
    third = upload_directory(dataset, prefix="lake/sales", settings=store.settings)
    assert third.uploaded == ["lake/sales/_rejects/sales_rejects.csv"]


def test_a_large_file_goes_multipart_and_its_checksum_is_checked(store, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    data = os.urandom(20 * MiB + 12345)
    (folder / "blob.bin").write_bytes(data)
    config = object_store.transfer_config(threshold=5 * MiB, chunksize=5 * MiB, concurrency=4)
    result = upload_directory(
        folder, prefix="p", settings=store.settings, create_bucket=True, config=config
    )
    assert result.uploaded == ["p/blob.bin"]
    client = store.client()
    head = client.head_object(Bucket=store.bucket, Key="p/blob.bin", ChecksumMode="ENABLED")
    expected = object_store.local_checksums(folder / "blob.bin", 5 * MiB, 5 * MiB)
    assert head["ChecksumSHA256"] in expected
    assert head["ChecksumSHA256"].split("-")[0] != expected_full(data), "composite, i.e. multipart"
    body = client.get_object(Bucket=store.bucket, Key="p/blob.bin")["Body"].read()
    assert _sha(body) == _sha(data)


def expected_full(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_missing_bucket_is_created_only_when_asked(store, dataset):
    with pytest.raises(
        UserError, match=rf"bucket '{store.bucket}' does not exist .* --create-bucket"
    ):
        upload_directory(dataset, settings=store.settings)
    with pytest.raises(ClientError, match=r"404|Not Found|NoSuchBucket"):
        store.client().head_bucket(Bucket=store.bucket)
    upload_directory(dataset, settings=store.settings, create_bucket=True)
    store.client().head_bucket(Bucket=store.bucket)


def test_an_interrupted_multipart_upload_leaves_nothing_and_a_rerun_completes(store, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    data = os.urandom(24 * MiB)
    (folder / "blob.bin").write_bytes(data)
    config = object_store.transfer_config(threshold=5 * MiB, chunksize=5 * MiB, concurrency=1)
    client = store.client()
    object_store.ensure_bucket(client, store.bucket, create=True)
    parts_sent = []

    def cut_the_cable(**kwargs):
        parts_sent.append(1)
        if len(parts_sent) == 3:
            raise EndpointConnectionError(endpoint_url=store.endpoint)

    client.meta.events.register("before-call.s3.UploadPart", cut_the_cable)
    with pytest.raises(UserError, match=r"unreachable|failed and was aborted"):
        upload_directory(folder, prefix="p", settings=store.settings, client=client, config=config)
    assert len(parts_sent) == 3, "it failed mid-way"
    assert _keys(store) == [], "no partial object is visible"
    pending = store.client().list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert pending == [], "the multipart upload was aborted"

    rerun = upload_directory(folder, prefix="p", settings=store.settings, config=config)
    assert rerun.uploaded == ["p/blob.bin"]
    body = store.client().get_object(Bucket=store.bucket, Key="p/blob.bin")["Body"].read()
    assert _sha(body) == _sha(data)


def test_a_killed_runs_stale_multipart_upload_is_aborted_by_the_rerun(store, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "blob.bin").write_bytes(os.urandom(12 * MiB))
    client = store.client()
    object_store.ensure_bucket(client, store.bucket, create=True)
    started = client.create_multipart_upload(Bucket=store.bucket, Key="p/blob.bin")
    client.upload_part(
        Bucket=store.bucket, Key="p/blob.bin", UploadId=started["UploadId"], PartNumber=1,
        Body=os.urandom(5 * MiB),
    )  # fmt: skip
    time.sleep(1.1)  # the stale upload began before this run
    config = object_store.transfer_config(threshold=5 * MiB, chunksize=5 * MiB)
    result = upload_directory(folder, prefix="p", settings=store.settings, config=config)
    assert result.aborted_stale_uploads == 1
    assert store.client().list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert _keys(store) == ["p/blob.bin"]


def test_an_upload_that_does_not_verify_is_deleted(store, dataset, monkeypatch):
    monkeypatch.setattr(object_store, "object_checksums", lambda expected: {"not-the-checksum"})
    with pytest.raises(UserError, match=r"does not match .* the object was deleted: run again"):
        upload_directory(dataset, prefix="p", settings=store.settings, create_bucket=True)
    assert _keys(store) == []


def test_an_unreachable_store_is_a_clear_error_in_seconds(tmp_path, dataset, clean_env):
    closed = f"http://127.0.0.1:{free_port()}"
    settings = _settings(tmp_path, closed, "k", "s", "some-bucket")
    started = time.monotonic()
    with pytest.raises(UserError, match=rf"object store at {closed} is unreachable .*make s3-up"):
        upload_directory(dataset, settings=settings)
    assert time.monotonic() - started < 15


def test_the_cli_keeps_local_output_when_the_store_is_unreachable(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,v\n1,a\n2,b\n")
    env = {
        "HDP_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "HDP_STATE_DIR": str(tmp_path / "state"),
    }
    out = tmp_path / "out"
    done = run_module(CLI, "convert", str(src), "--out", str(out), "--upload", "--quiet", env=env)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and done.stderr.splitlines()[-1] == errors[0], done.stderr
    assert errors[0].startswith("error: object store at http://127.0.0.1:")
    assert "is unreachable" in errors[0] and "local Parquet and manifest are kept" in errors[0]
    assert "rows_in 2 = rows_out 2" in done.stdout
    assert (out / "part-00000.parquet").is_file() and (out / "_manifest.json").is_file()


def test_the_cli_uploads_and_says_so_on_the_rerun(store, dataset):
    args = ("upload", str(dataset), "--prefix", "cli", "--create-bucket", "--quiet")
    first = run_module(CLI, *args, env=store.env())
    assert first.returncode == 0, first.stderr
    assert f"s3://{store.bucket}/cli: uploaded 3 object(s)" in first.stdout
    second = run_module(CLI, *args, env=store.env())
    assert "nothing to upload: 3 object(s) unchanged" in second.stdout


@pytest.mark.e2e
def test_wrong_credentials_are_refused_with_a_clear_error(seaweedfs_server, dataset, tmp_path):
    endpoint, key, _ = seaweedfs_server
    settings = _settings(tmp_path, endpoint, key, "not-the-secret", "any-bucket")
    with pytest.raises(UserError, match=r"refused the credentials|denied access .*HTTP 403"):
        upload_directory(dataset, settings=settings, create_bucket=True)
    env = {
        "HDP_S3_ENDPOINT_URL": endpoint,
        "HDP_S3_ACCESS_KEY_ID": "nobody",
        "HDP_S3_SECRET_ACCESS_KEY": "wrong",
        "HDP_STATE_DIR": str(tmp_path / "state"),
    }
    done = run_module(CLI, "upload", str(dataset), "--quiet", env=env)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("error: object store at "), done.stderr
