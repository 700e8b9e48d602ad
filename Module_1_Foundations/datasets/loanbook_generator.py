"""Generate a realistic synthetic consumer-loan book as CSV, with known default probabilities.

Writes to ``<out-dir>`` (default ``data/raw/loanbook``):

* ``borrowers.csv``, ``loans.csv``, ``repayments.csv``: the vendor export, with deliberate
  data-quality faults at configurable rates (missing values, exact duplicates, inconsistent case
  and whitespace, mixed date formats, out-of-range or non-numeric values, malformed rows);
* ``loan_truth.csv``: per loan, the true probability of default and the realised outcome (clean);
* ``manifest.json``: parameters, row and fault counts, SHA-256 of every file.

The book is produced in fixed-size chunks, each from its own seed derived from ``--seed`` and the
chunk number, so memory stays bounded for any size and the same seed gives the same bytes.

How default works: each borrower has a latent creditworthiness ``z``; the credit score observes
it with noise; grade and rate follow the score. The lifetime default probability is
``sigmoid(b0 - 0.75 z + f(dti, term, amount/income, purpose, delinquencies, ...))``; a defaulting
loan stops paying at an instalment drawn from ``Beta(1.6, 3.2) * term`` (defaults cluster early).
"""

from __future__ import annotations

import argparse
import io
import logging
import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import betainc, expit

from Module_1_Foundations.common.cli import ArgumentParser, iso_date, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.io import atomic_path, sha256_file, write_json_atomic
from Module_1_Foundations.common.lake import LakeLayout
from Module_1_Foundations.common.logs import progress_bar, setup_logging
from Module_1_Foundations.datasets.loanbook_faults import (
    FaultRates,
    csv_bytes,
    inject_faults,
    malform,
    with_duplicates,
)
from Module_1_Foundations.datasets.loanbook_schema import (
    BORROWERS,
    EMPLOYMENT_LENGTHS,
    GRADES,
    HOME_OWNERSHIP,
    LOAN_TRUTH,
    LOANS,
    PURPOSES,
    REGIONS,
    REPAYMENTS,
    TableSpec,
)

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1.0"
#: Loans per chunk. Part of the output's definition: changing it changes the bytes.
CHUNK_LOANS = 10_000
MAX_LOANS = 10_000_000
BASE_LOGIT = -2.45
DEFAULT_TIMING = (1.6, 3.2)  # Beta(a, b) shape of the default instalment / term

# per-category effects on the default logit (index-aligned with the schema's tuples)
PURPOSE_EFFECT = np.array([0.10, 0.0, -0.10, 0.0, 0.55, -0.15, 0.20, 0.15, 0.10, 0.15])
HOME_EFFECT = np.array([0.15, -0.10, 0.0, 0.20])
REGION_EFFECT = np.array([-0.08, 0.0, 0.06, 0.04, -0.05, 0.10, 0.08, -0.03, -0.06])
PURPOSE_P = np.array([0.46, 0.20, 0.07, 0.04, 0.03, 0.04, 0.03, 0.03, 0.02, 0.08])
HOME_P = np.array([0.40, 0.45, 0.13, 0.02])
REGION_P = np.array([0.05, 0.13, 0.20, 0.14, 0.07, 0.06, 0.12, 0.08, 0.15])
GRADE_BASE_RATE = np.array([7.0, 10.5, 14.0, 17.5, 21.0, 24.5, 28.0])
GRADE_SCORE_CUTS = np.array([760, 720, 690, 665, 640, 615])  # descending: A if >= 760, ...


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that determines the output bytes."""

    loans: int = 10_000
    seed: int = 42
    start_date: date = date(2021, 1, 1)
    end_date: date = date(2024, 12, 31)
    as_of: date = date(2025, 12, 31)
    id_prefix: str = ""
    faults: FaultRates = field(default_factory=FaultRates)

    def __post_init__(self) -> None:
        if not 1 <= self.loans <= MAX_LOANS:
            raise UserError(
                f"--loans={self.loans} is out of range: give a number from 1 to {MAX_LOANS:,}"
            )
        if self.seed < 0:
            raise UserError(f"--seed={self.seed} is out of range: give a non-negative integer")
        if self.end_date < self.start_date:
            raise UserError(
                f"--end-date={self.end_date} is before --start-date={self.start_date}: swap them"
            )
        if self.as_of < self.end_date:
            raise UserError(
                f"--as-of={self.as_of} is before --end-date={self.end_date}: the export date "
                "must be on or after the last issue date"
            )
        if not all(ch.isalnum() or ch in "-_" for ch in self.id_prefix):
            raise UserError(
                f"--id-prefix={self.id_prefix!r} may hold only letters, digits, '-' and '_'"
            )


@dataclass
class TableWriter:
    """Streams one CSV table to a temporary file and counts what it wrote."""

    spec: TableSpec
    handle: io.BufferedWriter
    rows: int = 0
    duplicates: int = 0
    malformed: int = 0

    def write_header(self, headers: list[str]) -> None:
        self.handle.write((",".join(headers) + "\n").encode())


# ---------------------------------------------------------------------------------------------
# Pure generation: one chunk of loans -> typed columns
# ---------------------------------------------------------------------------------------------


def _volume_quantile(u: np.ndarray, growth: float = 1.0) -> np.ndarray:
    """Inverse CDF of issue volume on [0, 1] with density proportional to ``1 + growth * t``."""
    # F(t) = (t + g t^2 / 2) / (1 + g / 2); solve g/2 t^2 + t - u (1 + g/2) = 0
    a = growth / 2
    return (-1 + np.sqrt(1 + 4 * a * u * (1 + a))) / (2 * a)


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Add whole months to dates (``datetime64[D]``), keeping the day of month (capped at 28)."""
    month_start = days.astype("datetime64[M]")
    day_of_month = np.minimum((days - month_start.astype("datetime64[D]")).astype(int), 27)
    return (month_start + months).astype("datetime64[D]") + day_of_month


def _months_between(start: np.ndarray, as_of: np.datetime64) -> np.ndarray:
    """Number of monthly due dates ``start + k months`` (k >= 1) on or before ``as_of``."""
    whole = as_of.astype("datetime64[M]").astype(int) - start.astype("datetime64[M]").astype(int)
    # the due date in the as-of month counts only if its day has come
    due_in_last = _add_months(start, whole)
    return np.maximum(whole - (due_in_last > as_of), 0)


def _ids(prefix: str, start: int, count: int) -> np.ndarray:
    numbers = np.arange(start + 1, start + count + 1).astype(str)
    return np.char.add(prefix, np.char.zfill(numbers, 8))


def generate_chunk(config: GeneratorConfig, chunk: int, n_loans: int) -> dict[str, pa.Table]:
    """Generate chunk number ``chunk`` (``n_loans`` loans) as clean, typed Arrow tables."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, chunk]))
    first = chunk * CHUNK_LOANS
    as_of = np.datetime64(config.as_of, "D")
    start = np.datetime64(config.start_date, "D")
    span = (np.datetime64(config.end_date, "D") - start).astype(int) + 1

    # --- borrowers: about 1.15 loans each; every borrower has at least one loan -------------
    n_b = max(1, math.ceil(n_loans / 1.15))
    z = rng.standard_normal(n_b)  # latent creditworthiness
    score = np.clip(np.rint(690 + 55 * (0.85 * z + 0.53 * rng.standard_normal(n_b))), 300, 850)
    region_b = rng.choice(len(REGIONS), n_b, p=REGION_P)
    home_b = rng.choice(len(HOME_OWNERSHIP), n_b, p=HOME_P)
    income_b = np.clip(np.exp(rng.normal(11.0 + 0.12 * z, 0.5)), 8_000, 1_500_000)
    birth_year = rng.integers(1950, 2003, n_b)
    emp_years_b = np.clip(rng.geometric(0.18, n_b) - 1, 0, 10)
    delinq_b = np.clip(rng.poisson(np.exp(-1.8 - 0.6 * z)), 0, 15)
    owner = np.concatenate([np.arange(n_b), rng.integers(0, n_b, n_loans - n_b)])
    rng.shuffle(owner)

    # --- loans, in application-date order across the whole book --------------------------
    slot = (first + np.arange(n_loans) + rng.random(n_loans)) / config.loans
    app_offset = np.floor(_volume_quantile(slot) * span).astype(int)
    application = start + np.minimum(app_offset, span - 1).astype("timedelta64[D]")
    issue = application + rng.integers(0, 11, n_loans).astype("timedelta64[D]")
    issue = np.minimum(issue, np.datetime64(config.end_date, "D"))
    application = np.minimum(application, issue)
    age_months = (issue.astype("datetime64[M]").astype(int) + 1970 * 12) - birth_year[owner] * 12
    history = np.clip(np.rint((age_months - 18 * 12) * rng.uniform(0.3, 1.0, n_loans)), 6, 900)
    earliest = np.full(n_b, np.datetime64("2200-01-01", "D"))
    first_app = np.full(n_b, np.datetime64("2200-01-01", "D"))
    line_open = _add_months(issue, -history.astype(int))
    np.minimum.at(earliest, owner, line_open)
    np.minimum.at(first_app, owner, application)
    created = first_app - rng.integers(0, 400, n_b).astype("timedelta64[D]")

    zl = z[owner]
    income = np.round(income_b[owner] * np.exp(rng.normal(0, 0.05, n_loans)), -2)
    emp_years = emp_years_b[owner]
    delinq = delinq_b[owner]
    purpose = rng.choice(len(PURPOSES), n_loans, p=PURPOSE_P)
    term = np.where(rng.random(n_loans) < 0.28 + 0.1 * (purpose == 4), 60, 36)
    amount = np.clip(
        np.round(income * np.exp(rng.normal(-1.7, 0.45, n_loans)) / 25) * 25, 1000, 40000
    )
    noisy_score = score[owner] + rng.normal(0, 20, n_loans)
    grade = np.searchsorted(-GRADE_SCORE_CUTS, -noisy_score, side="right")
    rate = np.clip(
        np.round(GRADE_BASE_RATE[grade] + rng.normal(0, 0.8, n_loans) + (term == 60), 2), 5, 31
    )
    r = rate / 1200
    installment = np.round(amount * r / (1 - (1 + r) ** -term), 2)
    dti = np.clip(
        np.round(rng.gamma(3.0, 5.0, n_loans) + installment * 12 / income * 100, 2), 0, 60
    )

    logit = (
        BASE_LOGIT
        - 0.75 * zl
        + 0.045 * (dti - 18)
        + 0.04 * np.maximum(dti - 35, 0)
        + 0.45 * (term == 60)
        + 0.9 * (amount / income - 0.2)
        + PURPOSE_EFFECT[purpose]
        + 0.22 * delinq
        - 0.035 * emp_years
        - 0.0015 * (history - 180)
        + HOME_EFFECT[home_b[owner]]
        + REGION_EFFECT[region_b[owner]]
    )
    pd_life = expit(logit)
    will_default = rng.random(n_loans) < pd_life
    a, b = DEFAULT_TIMING
    default_at = np.minimum(np.floor(rng.beta(a, b, n_loans) * term).astype(int) + 1, term)
    prepays = ~will_default & (rng.random(n_loans) < 0.22)
    prepay_at = np.where(prepays, rng.integers(6, term), term + 1)
    observed_months = np.minimum(_months_between(issue, as_of), term)
    pd_by_as_of = pd_life * betainc(a, b, observed_months / term)

    end = np.where(will_default, default_at, np.minimum(prepay_at, term))
    n_rows = np.minimum(end, observed_months)
    observed_default = will_default & (default_at <= observed_months)

    loan_ids = _ids(f"L{config.id_prefix}", first, n_loans)
    borrower_start = chunk * math.ceil(CHUNK_LOANS / 1.15)
    borrower_ids = _ids(f"B{config.id_prefix}", borrower_start, n_b)
    emp_labels = np.array(EMPLOYMENT_LENGTHS, dtype=object)

    borrowers = pa.table(
        {
            "borrower_id": borrower_ids,
            "created_date": created,
            "birth_year": birth_year,
            "region": np.array(REGIONS, dtype=object)[region_b],
            "home_ownership": np.array(HOME_OWNERSHIP, dtype=object)[home_b],
            "annual_income": np.round(income_b, -2),
            "credit_score": score.astype(np.int64),
            "earliest_credit_line": earliest,
        }
    )
    loans = pa.table(
        {
            "loan_id": loan_ids,
            "borrower_id": borrower_ids[owner],
            "application_date": application,
            "issue_date": issue,
            "loan_amount": amount,
            "term_months": term.astype(np.int64),
            "interest_rate": rate,
            "installment": installment,
            "grade": np.array(GRADES, dtype=object)[grade],
            "purpose": np.array(PURPOSES, dtype=object)[purpose],
            "annual_income": income,
            "employment_length": emp_labels[emp_years],
            "debt_to_income": dti,
            "credit_history_months": history.astype(np.int64),
            "delinquencies_2y": delinq.astype(np.int64),
            "region": np.array(REGIONS, dtype=object)[region_b[owner]],
        }
    )
    truth = pa.table(
        {
            "loan_id": loan_ids,
            "true_pd": np.round(pd_life, 6),
            "true_pd_by_as_of": np.round(pd_by_as_of, 6),
            "will_default": will_default.astype(np.int64),
            "default_installment": pa.array(default_at, mask=~will_default),
            "observed_default": observed_default.astype(np.int64),
        }
    )
    repayments = _repayment_rows(
        rng,
        loan_ids,
        issue,
        amount,
        r,
        term,
        n_rows,
        will_default,
        default_at,
        prepay_at,
        pd_life,
        as_of,
    )
    return {"borrowers": borrowers, "loans": loans, "repayments": repayments, "loan_truth": truth}


def _repayment_rows(
    rng: np.random.Generator,
    loan_ids: np.ndarray,
    issue: np.ndarray,
    amount: np.ndarray,
    r: np.ndarray,
    term: np.ndarray,
    n_rows: np.ndarray,
    will_default: np.ndarray,
    default_at: np.ndarray,
    prepay_at: np.ndarray,
    pd_life: np.ndarray,
    as_of: np.datetime64,
) -> pa.Table:
    """Expand loans into monthly instalment rows, vectorised over the whole chunk.

    Balances follow the annuity formula ``B_m = P ((1+r)^n - (1+r)^m) / ((1+r)^n - 1)``, rounded
    to cents; principal is the drop in the rounded balance, so principal paid always sums to
    ``P - B_k`` exactly (the reconciliation Module 3 tests).
    """
    loan = np.repeat(np.arange(len(n_rows)), n_rows)
    total = len(loan)
    offsets = np.cumsum(n_rows) - n_rows
    m = np.arange(total) - np.repeat(offsets, n_rows) + 1
    rr, nn, pp = r[loan], term[loan], amount[loan]
    growth_n = (1 + rr) ** nn

    def balance(k: np.ndarray) -> np.ndarray:
        return np.where(k >= nn, 0.0, np.round(pp * (growth_n - (1 + rr) ** k) / (growth_n - 1), 2))

    before, after = balance(m - 1), balance(m)
    interest = np.round(before * rr, 2)
    principal = np.round(before - after, 2)
    due_amount = np.round(principal + interest, 2)
    paid = due_amount.copy()
    status = np.full(total, "paid", dtype=object)
    due = _add_months(issue[loan], m)
    late = rng.random(total) < 0.02 + 0.3 * pd_life[loan]
    shift = np.where(late, rng.integers(16, 46, total), rng.integers(-3, 4, total))
    pay_date = np.minimum(due + shift.astype("timedelta64[D]"), as_of)
    status[late] = "late"

    is_default = will_default[loan] & (m == default_at[loan])
    is_prepay = (m == prepay_at[loan]) & ~is_default
    principal = np.where(is_prepay, before, principal)
    paid = np.where(is_prepay, np.round(before + interest, 2), paid)
    after = np.where(is_prepay, 0.0, after)
    status[is_prepay] = "prepaid"
    status[is_default] = "default"
    for column in (paid, principal, interest):
        column[is_default] = 0.0
    after = np.where(is_default, before, after)
    return pa.table(
        {
            "loan_id": loan_ids[loan],
            "installment_number": m.astype(np.int64),
            "due_date": due,
            "payment_date": pa.array(pay_date, mask=is_default),
            "amount_due": due_amount,
            "amount_paid": paid,
            "principal_paid": principal,
            "interest_paid": interest,
            "balance_after": after,
            "status": status,
        }
    )


def repayments_due(book: GeneratorConfig, day: date) -> pa.Table:
    """The instalments of ``book`` that fall due on ``day``: that day's repayment events of the
    live book, clean and typed, deterministic per day.

    For a day up to the book's as-of date the rows are the ones the book's own export holds
    (same seed, same draws), so a reader that keeps one row per (loan, instalment) counts each
    once; after it, the book is carried forward to ``day`` (the loans' fates are drawn
    independently of the as-of date, so they stay the same).
    """
    carried = book if day <= book.as_of else replace(book, as_of=day)
    wanted = pa.scalar(day, pa.date32())
    parts = []
    for chunk in range(math.ceil(carried.loans / CHUNK_LOANS)):
        n = min(CHUNK_LOANS, carried.loans - chunk * CHUNK_LOANS)
        repayments = generate_chunk(carried, chunk, n)["repayments"]
        parts.append(repayments.filter(pc.equal(repayments["due_date"], wanted)))
    # a chunk with no instalment at all types its empty status column as null: promote it
    return pa.concat_tables(parts, promote_options="permissive").combine_chunks()


def config_from_manifest(manifest: dict) -> GeneratorConfig:
    """The :class:`GeneratorConfig` an export was generated with, from its ``manifest.json``."""
    config = manifest["config"]
    return GeneratorConfig(
        loans=int(config["loans"]),
        seed=int(config["seed"]),
        start_date=date.fromisoformat(config["start_date"]),
        end_date=date.fromisoformat(config["end_date"]),
        as_of=date.fromisoformat(config["as_of"]),
        id_prefix=config.get("id_prefix", ""),
        faults=FaultRates(**config["faults"]),
    )


# ---------------------------------------------------------------------------------------------
# Faults: applied per cos to files
# ---------------------------------------------------------------------------------------------


def generate(
    config: GeneratorConfig,
    out_dir: Path,
    *,
    show_progress: bool = True,
    live_book: GeneratorConfig | None = None,
) -> dict:
    """Write the loan book to ``out_dir`` and return the manifest (also written as JSON).

    With ``live_book`` (a daily drop), ``repayments.csv`` also carries the instalments of that
    book falling due on ``config.as_of`` (:func:`repayments_due`), faults included, so that the
    drop is a complete increment: the day's new loans and the day's repayment events.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = (BORROWERS, LOANS, REPAYMENTS, LOAN_TRUTH)
    fault_counts: dict[str, dict[str, int]] = {spec.name: {} for spec in specs}
    n_chunks = math.ceil(config.loans / CHUNK_LOANS)
    log.info(
        "generating %s loans in %d chunks (seed %d) into %s",
        f"{config.loans:,}",
        n_chunks,
        config.seed,
        out_dir,
    )
    with (
        atomic_path(out_dir / "borrowers.csv") as p_b,
        atomic_path(out_dir / "loans.csv") as p_l,
        atomic_path(out_dir / "repayments.csv") as p_r,
        atomic_path(out_dir / "loan_truth.csv") as p_t,
    ):
        handles = {
            spec.name: open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed below
            for spec, path in zip(specs, (p_b, p_l, p_r, p_t), strict=True)
        }
        try:
            writers = {spec.name: TableWriter(spec, handles[spec.name]) for spec in specs}
            for spec in specs:
                headers = (
                    spec.column_names
                    if spec is LOAN_TRUTH
                    else [c.source_header for c in spec.columns]
                )
                writers[spec.name].write_header(headers)
            bar = progress_bar(config.loans, desc="loans", unit="loan") if show_progress else None
            for chunk in range(n_chunks):
                n = min(CHUNK_LOANS, config.loans - chunk * CHUNK_LOANS)
                tables = generate_chunk(config, chunk, n)
                if live_book is not None and chunk == n_chunks - 1:
                    due = repayments_due(live_book, config.as_of)
                    tables["repayments"] = pa.concat_tables(
                        [tables["repayments"], due], promote_options="permissive"
                    ).combine_chunks()
                fault_rng = np.random.default_rng(np.random.SeedSequence([config.seed, chunk, 1]))
                for name, table in tables.items():
                    writer = writers[name]
                    paired: set[int] = set()
                    if name != "loan_truth":
                        table = inject_faults(
                            table, name, config.faults, fault_rng, fault_counts[name]
                        )
                        n_before = table.num_rows
                        table, paired = with_duplicates(table, config.faults.duplicate, fault_rng)
                        writer.duplicates += table.num_rows - n_before
                    data = csv_bytes(table)
                    if name != "loan_truth":
                        data, bad = malform(data, config.faults.malformed, fault_rng, paired)
                        writer.malformed += bad
                    writer.handle.write(data)
                    writer.rows += table.num_rows
                if bar is not None:
                    bar.update(n)
            if bar is not None:
                bar.close()
        finally:
            for handle in handles.values():
                handle.close()
    files = {}
    for spec in specs:
        path = out_dir / f"{spec.name}.csv"
        w = writers[spec.name]
        fault_counts[spec.name]["duplicate"] = w.duplicates
        fault_counts[spec.name]["malformed"] = w.malformed
        files[spec.name] = {
            "path": path.name,
            "data_lines": w.rows,
            "unique_rows": w.rows - w.duplicates,
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
        }
    manifest = {
        "generator": "loanbook_generator",
        "generator_version": GENERATOR_VERSION,
        "config": {
            **{k: str(v) for k, v in asdict(config).items() if k != "faults"},
            "faults": asdict(config.faults),
            "chunk_loans": CHUNK_LOANS,
        },
        **(
            {}
            if live_book is None
            else {
                "live_book": {
                    **{k: str(v) for k, v in asdict(live_book).items() if k != "faults"},
                    "faults": asdict(live_book.faults),
                }
            }
        ),
        "files": files,
        "faults": fault_counts,
        "seconds": round(time.perf_counter() - started, 2),
    }
    write_json_atomic(out_dir / "manifest.json", manifest)
    log.info(
        "wrote %s: %s loans, %s repayment rows in %.1f s",
        out_dir,
        f"{files['loans']['data_lines']:,}",
        f"{files['repayments']['data_lines']:,}",
        manifest["seconds"],
    )
    return manifest


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="loanbook-generate",
        description=(
            "Generate a synthetic loan book (borrowers, loans, monthly repayments, true default "
            "probabilities) as CSV with deliberate data-quality faults. Same seed, same bytes."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    defaults = GeneratorConfig()
    parser.add_argument(
        "--loans", type=int, default=defaults.loans, help="number of loans (1 to 10,000,000)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument(
        "--start-date", type=iso_date, default=defaults.start_date, help="first issue date"
    )
    parser.add_argument(
        "--end-date", type=iso_date, default=defaults.end_date, help="last issue date"
    )
    parser.add_argument(
        "--as-of", type=iso_date, default=defaults.as_of, help="export date: repayments up to it"
    )
    parser.add_argument(
        "--id-prefix", default="", help="inserted into ids (L<prefix>00000001) to keep drops apart"
    )
    parser.add_argument(
        "--out-dir", type=Path, default=None, help="output folder [default: <raw_dir>/loanbook]"
    )
    parser.add_argument(
        "--no-faults", action="store_true", help="write a clean book (all fault rates 0)"
    )
    for f in fields(FaultRates):
        parser.add_argument(
            f"--{f.name.replace('_', '-')}-rate",
            type=float,
            default=f.default,
            help=f"share of rows/cells with the '{f.name}' fault",
        )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    rates = (
        FaultRates.none()
        if args.no_faults
        else FaultRates(**{f.name: getattr(args, f"{f.name}_rate") for f in fields(FaultRates)})
    )
    return GeneratorConfig(
        loans=args.loans,
        seed=args.seed,
        start_date=args.start_date,
        end_date=args.end_date,
        as_of=args.as_of,
        id_prefix=args.id_prefix,
        faults=rates,
    )


def main(argv: list[str] | None = None) -> int:
    def _main() -> int:
        args = build_parser().parse_args(argv)
        config = config_from_args(args)
        layout = LakeLayout.from_settings()
        setup_logging("Module_1_Foundations", "loanbook_generator")
        generate(config, args.out_dir or layout.raw_root, show_progress=not args.quiet)
        return 0

    return run_cli(_main)


if __name__ == "__main__":
    raise SystemExit(main())
