"""Benchmark: upload to the embedded object store: single put_object vs multipart, and no-op rerun.

    .venv/bin/python Module_1_Foundations/benchmarks/bench_upload.py [--quick]

Starts a throwaway SeaweedFS (the embedded store) on free loopback ports, writes a file of
random bytes (256 MiB; ``--quick``: 32 MiB) and measures, in one run:

* ``put_object``: one request with the whole body (what a naive script does);
* ``upload_file`` multipart: s3transfer with 16 MiB parts on 4 threads, nothing else;
* ``upload_directory``: the project's upload (SHA-256 of the file, multipart, per-part and
  whole-object checksums, SSE, verification by ``head_object``);
* ``upload_directory`` again on unchanged data: the idempotent no-op (one HEAD per file).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

MiB = 1 << 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Upload throughput against the local SeaweedFS: put_object vs multipart."
    )
    parser.add_argument("--quick", action="store_true", help="32 MiB instead of 256 MiB")
    parser.add_argument("--mib", type=int, help="file size in MiB")
    args = parser.parse_args(argv)
    size = (args.mib or (32 if args.quick else 256)) * MiB

    from Module_1_Foundations.common.settings import load_settings
    from Module_1_Foundations.project.local_s3_server import running_local_s3
    from Module_1_Foundations.project.object_store import (
        object_store_client,
        transfer_config,
        upload_directory,
    )

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        work = Path(tmp)
        folder = work / "data"
        folder.mkdir()
        path = folder / "blob.bin"
        with open(path, "wb") as handle:
            for _ in range(size // MiB):
                handle.write(os.urandom(MiB))
        with running_local_s3(work / "s3") as (endpoint, key, secret):
            settings = load_settings(
                s3_endpoint_url=endpoint,
                s3_access_key_id=key,
                s3_secret_access_key=secret,
                s3_bucket="bench",
                state_dir=work / "state",
            )
            client = object_store_client(settings)
            client.create_bucket(Bucket="bench")
            rows = []

            start = time.perf_counter()
            with open(path, "rb") as body:
                client.put_object(Bucket="bench", Key="single/blob.bin", Body=body)
            rows.append(("put_object (single request)", time.perf_counter() - start))

            config = transfer_config()
            start = time.perf_counter()
            client.upload_file(str(path), "bench", "multipart/blob.bin", Config=config)
            rows.append(("upload_file multipart 16 MiB x 4", time.perf_counter() - start))

            start = time.perf_counter()
            result = upload_directory(folder, prefix="project", settings=settings)
            rows.append(("upload_directory (verified)", time.perf_counter() - start))
            assert result.uploaded == ["project/blob.bin"]

            start = time.perf_counter()
            again = upload_directory(folder, prefix="project", settings=settings)
            noop = time.perf_counter() - start
            assert again.uploaded == [] and again.skipped == ["project/blob.bin"]

    mb = size / 1e6
    single = rows[0][1]
    print(f"file: {size // MiB} MiB of random bytes; SeaweedFS on 127.0.0.1; {os.cpu_count()} CPUs")
    print(f"{'method':<34}{'seconds':>9}{'MB/s':>9}{'x put_object':>14}")
    for name, seconds in rows:
        print(f"{name:<34}{seconds:>9.2f}{mb / seconds:>9.1f}{single / seconds:>14.2f}")
    print(f"{'rerun on unchanged data (no-op)':<34}{noop:>9.2f}{'':>9}{'':>14}")
    print(f"\nthe no-op rerun hashes the file and sends one HEAD: {again.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
