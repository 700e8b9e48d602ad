"""Exercise 5: upload a file to S3 with boto3, look at the object, read it back.

    make s3-up    # the local S3 server (or set HDP_PROFILE=cloud / HDP_S3_* for AWS)
    python -m Module_1_Foundations.exercises.ex05_upload_s3 [--file F] [--key K] [--create-bucket]

Shows each boto3 call and what it returns: ``put_object`` (with a SHA-256 checksum and
server-side encryption), ``head_object``, ``list_objects_v2`` and ``get_object``, and checks
the bytes read back are the bytes sent. The project's ``upload_directory`` adds multipart,
idempotency and verification on top of these same calls.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.settings import get_settings
from Module_1_Foundations.exercises._common import loanbook_dir
from Module_1_Foundations.project.object_store import (
    describe_error,
    ensure_bucket,
    object_store_client,
)


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        parser = ArgumentParser(
            prog="python -m Module_1_Foundations.exercises.ex05_upload_s3",
            description="Upload one file with boto3 and print what S3 answers.",
        )
        parser.add_argument("--file", type=Path, help="[default: <raw_dir>/loanbook/loans.csv]")
        parser.add_argument("--raw-dir", type=Path, help="[default: <raw_dir>/loanbook]")
        parser.add_argument("--bucket", help="[default: HDP_S3_BUCKET]")
        parser.add_argument("--key", help="[default: exercises/<file name>]")
        parser.add_argument("--create-bucket", action="store_true", help="create it if missing")
        args = parser.parse_args(argv)
        setup_logging("Module_1_Foundations", "ex05_upload_s3")
        settings = get_settings()
        path = args.file or loanbook_dir(args.raw_dir) / "loans.csv"
        if not path.is_file():
            raise UserError(f"{path}: no such file to upload")
        bucket = args.bucket or settings.s3_bucket
        key = args.key or f"exercises/{path.name}"
        client = object_store_client(settings, max_attempts=2, connect_timeout=3)
        print(f"endpoint {client.meta.endpoint_url}, bucket {bucket}, key {key}")
        ensure_bucket(client, bucket, create=args.create_bucket)
        data = path.read_bytes()
        digest = hashlib.sha256(data).digest()
        try:
            put = client.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ChecksumSHA256=base64.b64encode(digest).decode(),
                ServerSideEncryption="AES256",
                Metadata={"sha256": digest.hex()},
            )
            print(f"put_object: ETag {put['ETag']}, ChecksumSHA256 {put.get('ChecksumSHA256')}")
            head = client.head_object(Bucket=bucket, Key=key)
            print(
                f"head_object: {head['ContentLength']:,} bytes, encryption "
                f"{head.get('ServerSideEncryption')}, metadata {head.get('Metadata')}"
            )
            listing = client.list_objects_v2(Bucket=bucket, Prefix=key.rsplit("/", 1)[0])
            print(f"list_objects_v2: {listing.get('KeyCount', 0)} object(s) under the prefix")
            for item in listing.get("Contents", [])[:10]:
                when = f"{item['LastModified']:%Y-%m-%d %H:%M}"
                print(f"  {item['Key']}  {item['Size']:,} bytes  {when}")
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise UserError(describe_error(exc, client, bucket)) from None
        same = hashlib.sha256(body).digest() == digest
        print(f"get_object: {len(body):,} bytes back, identical to the file: {same}")
        return 0 if same else 1

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
