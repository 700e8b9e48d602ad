"""Benchmark the loan-book generator: time, peak memory and determinism at growing sizes.

Each size runs in a fresh interpreter (so peak RSS is that run's alone), twice with the same
seed to prove the bytes repeat. Prints a table; the issue's target is 1 000 000 loans (with
their repayments) under 1 GB peak.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from Module_1_Foundations.common.cli import ArgumentParser

CHILD = """
import json, resource, sys, time
from pathlib import Path
from Module_1_Foundations.datasets.loanbook_generator import GeneratorConfig, generate
t = time.perf_counter()
config = GeneratorConfig(loans=int(sys.argv[1]), seed=42)
m = generate(config, Path(sys.argv[2]), show_progress=False)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "repayments": m["files"]["repayments"]["data_lines"],
                  "bytes": sum(f["bytes"] for f in m["files"].values()),
                  "sha": {k: f["sha256"] for k, f in m["files"].items()}}))
"""


def run_once(loans: int, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(loans), str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10k and 50k only")
    parser.add_argument("--repeat", type=int, default=2, help="runs per size (same seed)")
    args = parser.parse_args(argv)
    sizes = [10_000, 50_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"{'loans':>10} {'repayments':>11} {'MB out':>8} {'s (median)':>11} "
          f"{'loans/s':>9} {'peak MB':>8} {'same bytes':>10}")  # fmt: skip
    for loans in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [run_once(loans, Path(tmp) / f"run{i}") for i in range(args.repeat)]
        seconds = statistics.median(r["seconds"] for r in runs)
        same = all(r["sha"] == runs[0]["sha"] for r in runs)
        print(
            f"{loans:>10,} {runs[0]['repayments']:>11,} {runs[0]['bytes'] / 1e6:>8.0f} "
            f"{seconds:>11.1f} {loans / seconds:>9,.0f} {max(r['peak_mb'] for r in runs):>8.0f} "
            f"{'yes' if same else 'NO':>10}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
