"""Upload a local folder to S3 (the local SeaweedFS by default, AWS by configuration).

Every upload is idempotent and verified:

* the key is ``<prefix>/<path relative to the folder>``; an object whose stored SHA-256 (user
  metadata ``sha256``) and size match the local file is skipped, so a rerun on unchanged data
  uploads nothing and says so;
* large files go multipart through ``TransferConfig``; on failure s3transfer aborts the multipart
  upload, so no partial object is ever visible, and stale multipart uploads a killed run left
  for the same key are aborted before the key is written again;
* each part and the whole object carry a SHA-256 checksum; after the upload the server's
  checksum (full-object or composite ``<b64>-<parts>``) is compared with the local one;
* server-side encryption is requested (``AES256``); retries use botocore's standard mode
  (exponential backoff with jitter); manifests (``_manifest.json``) are written last, so a reader
  that sees the manifest sees all the data it lists.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import S3UploadFailedError, TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from s3transfer.utils import ChunksizeAdjuster

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import sha256_file
from Module_1_Foundations.common.logs import progress_bar
from Module_1_Foundations.common.settings import Settings, get_settings

log = logging.getLogger(__name__)

MULTIPART_THRESHOLD = 16 << 20
MULTIPART_CHUNKSIZE = 16 << 20
MAX_CONCURRENCY = 4
DEFAULT_SSE = "AES256"
_SHA_KEY = "sha256"
_MANIFEST_NAMES = ("_manifest.json", "manifest.json")


@dataclass
class UploadResult:
    """What one upload did."""

    bucket: str
    prefix: str
    endpoint: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    objects: dict[str, str] = field(default_factory=dict)  # key -> sha256 (hex)
    aborted_stale_uploads: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.uploaded:
            what = f"nothing to upload: {len(self.skipped)} object(s) unchanged"
        else:
            mb = self.bytes_uploaded / 1e6
            what = (
                f"uploaded {len(self.uploaded)} object(s), {mb:,.1f} MB"
                f" ({mb / self.seconds if self.seconds else 0:,.0f} MB/s),"
                f" skipped {len(self.skipped)} unchanged"
            )
        return f"s3://{self.bucket}/{self.prefix}: {what} in {self.seconds:.2f} s"


def transfer_config(
    threshold: int = MULTIPART_THRESHOLD,
    chunksize: int = MULTIPART_CHUNKSIZE,
    concurrency: int = MAX_CONCURRENCY,
) -> TransferConfig:
    return TransferConfig(
        multipart_threshold=threshold,
        multipart_chunksize=chunksize,
        max_concurrency=concurrency,
        use_threads=concurrency > 1,
    )


def object_store_client(
    settings: Settings | None = None,
    *,
    max_attempts: int = 5,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
) -> Any:
    """A boto3 S3 client from the shared settings: endpoint, region, credentials, retries.

    Locally the endpoint is the SeaweedFS server and the key pair comes from
    ``settings.object_store_credentials()``; in the cloud profile the endpoint is AWS's and the
    credentials come from the standard AWS chain.
    """
    settings = settings or get_settings()
    pair = settings.object_store_credentials()
    credentials = {}
    if pair is not None:
        credentials = {"aws_access_key_id": pair[0], "aws_secret_access_key": pair[1]}
    config = Config(
        region_name=settings.s3_region,
        signature_version="s3v4",
        retries={"max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        request_checksum_calculation="when_supported",
        response_checksum_validation="when_supported",
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config, **credentials)


def _endpoint(client: Any) -> str:
    return client.meta.endpoint_url


def describe_error(exc: Exception, client: Any, bucket: str) -> str:
    """One line for an object-store failure, naming the endpoint and what to do."""
    endpoint = _endpoint(client)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return (
            f"object store at {endpoint} is unreachable ({type(exc).__name__}): start it with "
            "'make s3-up' or set HDP_S3_ENDPOINT_URL; the local Parquet and manifest are kept"
        )
    if isinstance(exc, ReadTimeoutError):
        return f"object store at {endpoint} timed out; try again or check the server's logs"
    if isinstance(exc, NoCredentialsError):
        return (
            f"no credentials for the object store at {endpoint}: set HDP_S3_ACCESS_KEY_ID and "
            "HDP_S3_SECRET_ACCESS_KEY, or configure the AWS credential chain"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"):
            return (
                f"object store at {endpoint} refused the credentials ({code}): check "
                "HDP_S3_ACCESS_KEY_ID / HDP_S3_SECRET_ACCESS_KEY (locally: the key pair under "
                ".state/object_store, used by 'make s3-up')"
            )
        if code in ("403", "AccessDenied", "Forbidden") or status == 403:
            return (
                f"object store at {endpoint} denied access to bucket '{bucket}' (HTTP 403): "
                "wrong credentials, or no permission on that bucket"
            )
        if code in ("404", "NoSuchBucket"):
            return (
                f"bucket '{bucket}' does not exist at {endpoint}: create it by passing "
                "--create-bucket (or create_bucket=True)"
            )
        message = error.get("Message") or code or str(status)
        return f"object store at {endpoint} answered {code or status}: {message}"
    if isinstance(exc, S3UploadFailedError):
        return f"upload to {endpoint} failed and was aborted (no partial object): {exc}"
    return f"object store at {endpoint}: {type(exc).__name__}: {exc}"


def ensure_bucket(client: Any, bucket: str, *, create: bool = False) -> bool:
    """Check the bucket is reachable; create it only when ``create``. Returns True if created."""
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket") or not create:
            raise UserError(describe_error(exc, client, bucket)) from None
    except BotoCoreError as exc:
        raise UserError(describe_error(exc, client, bucket)) from None
    try:
        region = client.meta.region_name
        if region and region != "us-east-1":
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        else:
            client.create_bucket(Bucket=bucket)
    except (BotoCoreError, ClientError) as exc:
        raise UserError(describe_error(exc, client, bucket)) from None
    log.info("created bucket s3://%s at %s", bucket, _endpoint(client))
    return True


def file_digests(path: Path, chunksize: int, threshold: int) -> tuple[str, set[str]]:
    """One pass over ``path``: its SHA-256 (hex), and the SHA-256 checksums (base64) S3 may
    report for it: the whole object's, and the composite of its parts (with or without the
    ``-<parts>`` suffix; moto omits it)."""
    size = path.stat().st_size
    whole = hashlib.sha256()
    parts: list[bytes] = []
    chunk = ChunksizeAdjuster().adjust_chunksize(chunksize, size)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            whole.update(block)
            parts.append(hashlib.sha256(block).digest())
    out = {base64.b64encode(whole.digest()).decode()}
    if size >= threshold and parts:
        composite = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()
        out |= {composite, f"{composite}-{len(parts)}"}
    return whole.hexdigest(), out


def object_checksums(expected: set[str]) -> set[str]:
    """The checksums accepted for a stored object (a seam for tests to simulate corruption)."""
    return expected


def local_checksums(path: Path, chunksize: int, threshold: int) -> set[str]:
    """The SHA-256 checksums (base64) S3 may report for ``path``: whole-object and composite."""
    return file_digests(path, chunksize, threshold)[1]


def _files(local_dir: Path) -> list[Path]:
    """Every regular file under ``local_dir`` except hidden temporaries; manifests last."""
    if local_dir.is_file():
        return [local_dir]
    found = [
        p
        for p in local_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(local_dir).parts)
    ]
    return sorted(found, key=lambda p: (p.name in _MANIFEST_NAMES, str(p)))


def _key(prefix: str, relative: str) -> str:
    return "/".join(part for part in (prefix.strip("/"), relative) if part)


def _stored_sha(client: Any, bucket: str, key: str, size: int) -> str | None:
    """The SHA-256 recorded on the stored object, if it exists and has the same size."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    if head.get("ContentLength") != size:
        return None
    return head.get("Metadata", {}).get(_SHA_KEY)


def abort_stale_uploads(client: Any, bucket: str, key: str, before: datetime) -> int:
    """Abort multipart uploads of ``key`` started before ``before`` (left by a killed run)."""
    aborted = 0
    answer = client.list_multipart_uploads(Bucket=bucket, Prefix=key)
    for upload in answer.get("Uploads", []):
        initiated = upload.get("Initiated")
        if upload.get("Key") != key or (initiated is not None and initiated >= before):
            continue
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
        log.warning("aborted a stale multipart upload of s3://%s/%s (%s)", bucket, key, initiated)
        aborted += 1
    return aborted


def verify_object(
    client: Any, bucket: str, key: str, path: Path, sha: str, expected: set[str]
) -> None:
    """Compare the stored object's size, SHA-256 metadata and checksum with the local file."""
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    size = path.stat().st_size
    problems = []
    if head.get("ContentLength") != size:
        problems.append(f"size {head.get('ContentLength')} != {size}")
    if head.get("Metadata", {}).get(_SHA_KEY) != sha:
        problems.append("sha256 metadata differs")
    remote = head.get("ChecksumSHA256")
    if remote is not None:
        expected = object_checksums(expected)
        if remote not in expected:
            problems.append(f"checksum {remote} not in {sorted(expected)}")
    if problems:
        client.delete_object(Bucket=bucket, Key=key)
        raise UserError(
            f"s3://{bucket}/{key} does not match {path} after upload ({'; '.join(problems)}); "
            "the object was deleted: run again"
        )


def upload_directory(
    local_dir: Path,
    *,
    bucket: str | None = None,
    prefix: str | None = None,
    settings: Settings | None = None,
    create_bucket: bool = False,
    client: Any | None = None,
    config: TransferConfig | None = None,
    server_side_encryption: str | None = DEFAULT_SSE,
    show_progress: bool = False,
    on_file: Callable[[str], None] | None = None,
) -> UploadResult:
    """Upload every file under ``local_dir`` to ``s3://bucket/prefix/<relative path>``.

    Args:
        local_dir: a folder (or a single file).
        bucket, prefix: default to ``settings.s3_bucket`` and ``settings.s3_prefix``.
        create_bucket: create a missing bucket (otherwise a missing bucket is an error).
        client: a boto3 S3 client (default: :func:`object_store_client`).
        config: the multipart TransferConfig (default: 16 MiB parts, 4 threads).
        server_side_encryption: the SSE algorithm requested, ``None`` for none.

    Raises:
        UserError: one line: missing folder, unreachable store, refused credentials, missing
            bucket, failed or unverifiable upload. Nothing partial is left in the bucket.
    """
    started = time.perf_counter()
    run_started = datetime.now(UTC) - timedelta(seconds=1)
    settings = settings or get_settings()
    local_dir = Path(local_dir)
    if not local_dir.exists():
        raise UserError(f"{local_dir}: no such folder to upload; convert something first")
    bucket = bucket or settings.s3_bucket
    if not bucket:
        raise UserError("no bucket: pass --bucket or set HDP_S3_BUCKET")
    prefix = settings.s3_prefix if prefix is None else prefix
    config = config or transfer_config()
    if client is None:
        client = object_store_client(settings)
        # a fast, single-attempt probe first: an unreachable store fails in seconds, not minutes
        probe = object_store_client(settings, max_attempts=1, connect_timeout=2, read_timeout=10)
    else:
        probe = client
    ensure_bucket(probe, bucket, create=create_bucket)
    result = UploadResult(bucket=bucket, prefix=prefix.strip("/"), endpoint=_endpoint(client))
    files = _files(local_dir)
    total = sum(p.stat().st_size for p in files)
    bar = progress_bar(total, desc=f"s3://{bucket}", unit="B") if show_progress else None
    try:
        for path in files:
            relative = path.name if local_dir.is_file() else path.relative_to(local_dir).as_posix()
            key = _key(prefix, relative)
            size = path.stat().st_size
            try:
                stored = _stored_sha(client, bucket, key, size)
                sha = sha256_file(path) if stored else ""
                if stored and stored == sha:
                    result.objects[key] = sha
                    result.skipped.append(key)
                    log.info("unchanged, skipped: s3://%s/%s", bucket, key)
                else:
                    sha, expected = file_digests(
                        path, config.multipart_chunksize, config.multipart_threshold
                    )
                    result.objects[key] = sha
                    if size >= config.multipart_threshold:
                        result.aborted_stale_uploads += abort_stale_uploads(
                            client, bucket, key, run_started
                        )
                    extra: dict[str, Any] = {
                        "Metadata": {_SHA_KEY: sha},
                        "ChecksumAlgorithm": "SHA256",
                        "ContentType": mimetypes.guess_type(path.name)[0]
                        or "application/octet-stream",
                    }
                    if server_side_encryption:
                        extra["ServerSideEncryption"] = server_side_encryption
                    client.upload_file(str(path), bucket, key, ExtraArgs=extra, Config=config)
                    verify_object(client, bucket, key, path, sha, expected)
                    result.uploaded.append(key)
                    result.bytes_uploaded += size
                    log.info("uploaded s3://%s/%s (%s bytes, sha256 %s)", bucket, key, size, sha)
            except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
                raise UserError(describe_error(exc, client, bucket)) from None
            if on_file is not None:
                on_file(key)
            if bar is not None:
                bar.update(size)
    finally:
        if bar is not None:
            bar.close()
    result.seconds = round(time.perf_counter() - started, 3)
    log.info(result.summary())
    return result
