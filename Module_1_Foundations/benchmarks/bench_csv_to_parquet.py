"""Benchmark: CSV -> Parquet, side by side in one run: naive pandas, this converter, DuckDB COPY.

    .venv/bin/python Module_1_Foundations/benchmarks/bench_csv_to_parquet.py [--quick]

Generates (once, cached under ``<state_dir>/bench``) a loan book whose ``repayments.csv`` is
about 1 GB (450,000 loans; ``--quick``: 20,000 loans, about 45 MB), then converts it with each
method in its own fresh Python process and reports wall time of the work, its CPU seconds (user +
system, all threads: what a shared, loaded machine does not stretch), throughput (MB/s of CSV,
rows/s) and peak resident memory (``ru_maxrss`` of that process, imports included), with ratios
against DuckDB, the practical ceiling on this machine.

* ``pandas``: ``pd.read_csv(on_bad_lines="skip")`` + ``DataFrame.to_parquet()``, defaults;
  no cleaning, whole file in memory;
* ``pyarrow-copy``: a bare single-threaded streaming copy (``open_csv`` -> ``ParquetWriter``);
* ``converter``: ``convert_csv(..., table="repayments")``: contract, cleaning, dedup, rejects,
  manifest, zstd;
* ``duckdb``: ``COPY (SELECT * FROM read_csv(..., ignore_errors=true)) TO ... (FORMAT parquet)``
  (``ignore_errors`` because the export's junk lines stop it otherwise), DuckDB's default codec
  (snappy);
* ``duckdb-zstd``: the same ``COPY`` with ``COMPRESSION zstd``, the codec the converter writes:
  like for like on the write side (the 0.5x target is stated against ``duckdb``).

``--scaling`` also converts a book of half the loans (in the same run) and prints the
converter's peak memory at both sizes: bounded memory means the peak does not grow with the
input (the duplicate check spills to disk past ``--dedup-memory-mb``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

METHODS = ("pandas", "pyarrow-copy", "converter", "duckdb", "duckdb-zstd")
FULL_LOANS = 450_000
QUICK_LOANS = 20_000
MEMORY_TARGET_MB = 512


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far, all threads (a loaded machine stretches
    wall time, not this)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(method: str, csv_path: Path, out: Path, dedup_memory_mb: float | None = None) -> dict:
    """Run one method in this (fresh) process; return its measurements."""
    extra: dict = {}
    if method == "pandas":
        import pandas as pd

        baseline = _peak_mb()
        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        frame = pd.read_csv(csv_path, on_bad_lines="skip")
        frame.to_parquet(out / "repayments.parquet")
        rows_out = len(frame)
    elif method == "pyarrow-copy":
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        baseline = _peak_mb()
        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        reader = pacsv.open_csv(
            csv_path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        )
        rows_out = 0
        with pq.ParquetWriter(out / "repayments.parquet", reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows_out += batch.num_rows
    elif method == "converter":
        from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_csv
        from Module_1_Foundations.project.dedup import MEMORY_BUDGET

        budget = int(dedup_memory_mb * 2**20) if dedup_memory_mb else MEMORY_BUDGET
        baseline = _peak_mb()
        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        result = convert_csv(csv_path, out / "repayments", table="repayments", dedup_memory=budget)
        rows_out = result.rows_out
        manifest = json.loads(result.manifest_path.read_text())
        extra = {"spilled_rows": manifest["memory"]["spilled_rows"]}
    elif method in ("duckdb", "duckdb-zstd"):
        import duckdb

        baseline = _peak_mb()
        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        con = duckdb.connect()
        target = out / "repayments.parquet"
        codec = ", COMPRESSION zstd" if method == "duckdb-zstd" else ""
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv_path}', ignore_errors=true)) "
            f"TO '{target}' (FORMAT parquet{codec})"
        )
        rows_out = con.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - start
    return extra | {
        "method": method,
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu_start,
        "rows_out": int(rows_out),
        "peak_mb": _peak_mb(),
        "baseline_mb": baseline,
    }


def ensure_book(loans: int, folder: Path) -> Path:
    """The generated book (cached): ``folder/repayments.csv``."""
    csv_path = folder / "repayments.csv"
    manifest = folder / "manifest.json"
    if csv_path.is_file() and manifest.is_file():
        return csv_path
    print(f"generating a loan book of {loans:,} loans into {folder} (once) ...", flush=True)
    subprocess.run(
        [
            sys.executable, "-m", "Module_1_Foundations.datasets.loanbook_generator",
            "--loans", str(loans), "--out-dir", str(folder), "--quiet",
        ],
        check=True,
    )  # fmt: skip
    return csv_path


def run_method(method: str, csv_path: Path, work: Path, dedup_memory_mb: float | None) -> dict:
    out = work / method
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [sys.executable, __file__, "--worker", method, "--input", str(csv_path)]
    command += ["--out", str(out)]
    if dedup_memory_mb:
        command += ["--dedup-memory-mb", str(dedup_memory_mb)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"method": method, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["output_mb"] = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 1e6
    shutil.rmtree(out, ignore_errors=True)
    return result


def table(results: list[dict], csv_mb: float, rows_in: int) -> str:
    """The side-by-side table; ``x DuckDB`` is the wall-time ratio, ``CPU x DuckDB`` the ratio
    of CPU seconds (what a loaded machine does not distort: the work each method does)."""
    duck = next((r for r in results if r["method"] == "duckdb" and "error" not in r), None)
    lines = [
        f"{'method':<14}{'seconds':>9}{'CPU s':>8}{'MB/s':>8}{'rows/s':>12}{'peak MB':>9}"
        f"{'out MB':>8}{'rows out':>12}{'x DuckDB':>10}{'CPU x DuckDB':>14}",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"{r['method']:<14}  failed: {r['error']}")
            continue
        ratio = duck["seconds"] / r["seconds"] if duck else float("nan")
        cpu_ratio = duck["cpu_seconds"] / r["cpu_seconds"] if duck else float("nan")
        lines.append(
            f"{r['method']:<14}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.2f}"
            f"{csv_mb / r['seconds']:>8.1f}{rows_in / r['seconds']:>12,.0f}{r['peak_mb']:>9.0f}"
            f"{r['output_mb']:>8.1f}{r['rows_out']:>12,}{ratio:>10.2f}{cpu_ratio:>14.2f}"
        )
    return "\n".join(lines)


def scaling(
    loans: int,
    bench_dir: Path,
    results: list[dict],
    csv_mb: float,
    rows_in: int,
    dedup_memory_mb: float | None,
) -> None:
    """The converter's peak memory on a book of half the loans and on the full one."""
    half_path = ensure_book(loans // 2, bench_dir / f"loanbook-{loans // 2}")
    half_rows = json.loads((half_path.parent / "manifest.json").read_text())["files"]["repayments"][
        "data_lines"
    ]
    print(f"\n  running converter on {loans // 2:,} loans ...", flush=True)
    half = run_method("converter", half_path, bench_dir / "work", dedup_memory_mb)
    full = next((r for r in results if r["method"] == "converter"), None)
    if full is None:
        full = run_method("converter", bench_dir / f"loanbook-{loans}" / "repayments.csv",
                          bench_dir / "work", dedup_memory_mb)  # fmt: skip
    print("\nconverter peak memory by input size (bounded: it should not grow with the input)")
    print(f"{'input MB':>9}{'rows in':>13}{'seconds':>9}{'peak MB':>9}{'rows spilled':>14}")
    for r, mb, n in ((half, half_path.stat().st_size / 1e6, half_rows), (full, csv_mb, rows_in)):
        if "error" in r:
            print(f"{mb:>9,.0f}  failed: {r['error']}")
            continue
        print(
            f"{mb:>9,.0f}{n:>13,}{r['seconds']:>9.2f}{r['peak_mb']:>9.0f}"
            f"{r.get('spilled_rows', 0):>14,}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="CSV -> Parquet: naive pandas vs this converter vs DuckDB COPY, in one run."
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LOANS:,} loans (~45 MB)")
    parser.add_argument("--loans", type=int, help=f"loans in the book [default {FULL_LOANS:,}]")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="also convert a book of half the loans: converter peak memory at both sizes",
    )
    parser.add_argument(
        "--dedup-memory-mb",
        type=float,
        help="the converter's in-memory duplicate-check budget [default: the converter's own]",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.input, args.out, args.dedup_memory_mb)))
        return 0

    from Module_1_Foundations.common.settings import get_settings

    loans = args.loans or (QUICK_LOANS if args.quick else FULL_LOANS)
    bench_dir = get_settings().state_dir / "bench"
    csv_path = ensure_book(loans, bench_dir / f"loanbook-{loans}")
    manifest = json.loads((csv_path.parent / "manifest.json").read_text())
    rows_in = manifest["files"]["repayments"]["data_lines"]
    csv_mb = csv_path.stat().st_size / 1e6
    print(
        f"input: {csv_path} ({csv_mb:,.0f} MB, {rows_in:,} rows); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    results = []
    for method in args.methods.split(","):
        print(f"  running {method} ...", flush=True)
        results.append(run_method(method, csv_path, bench_dir / "work", args.dedup_memory_mb))
    print()
    print(table(results, csv_mb, rows_in))
    if args.scaling:
        scaling(loans, bench_dir, results, csv_mb, rows_in, args.dedup_memory_mb)
    ours = next((r for r in results if r["method"] == "converter" and "error" not in r), None)
    duck = next((r for r in results if r["method"] == "duckdb" and "error" not in r), None)
    if ours and duck:
        ratio = duck["seconds"] / ours["seconds"]
        verdict = "meets" if ratio >= 0.5 else "misses"
        print(f"\nconverter throughput = {ratio:.2f}x DuckDB's ({verdict} the 0.5x target)")
        print(
            f"converter CPU seconds = {duck['cpu_seconds'] / ours['cpu_seconds']:.2f}x DuckDB's "
            f"(DuckDB {duck['cpu_seconds']:.1f} s, converter {ours['cpu_seconds']:.1f} s, "
            f"load average {os.getloadavg()[0]:.1f} at the end)"
        )
    zstd = next((r for r in results if r["method"] == "duckdb-zstd" and "error" not in r), None)
    if ours and zstd:
        print(
            f"converter throughput = {zstd['seconds'] / ours['seconds']:.2f}x DuckDB's writing "
            f"zstd too (DuckDB zstd {zstd['seconds']:.2f} s, {zstd['output_mb']:.0f} MB; "
            f"default snappy {duck['seconds']:.2f} s, {duck['output_mb']:.0f} MB)"
            if duck
            else f"converter throughput = {zstd['seconds'] / ours['seconds']:.2f}x DuckDB zstd's"
        )
    if ours:
        verdict = "within" if ours["peak_mb"] < MEMORY_TARGET_MB else "over"
        print(
            f"converter peak memory {ours['peak_mb']:.0f} MB ({verdict} the "
            f"{MEMORY_TARGET_MB} MB target; {ours['baseline_mb']:.0f} MB of it is the "
            "interpreter and imports)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
