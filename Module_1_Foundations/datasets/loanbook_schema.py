"""The loan book's data contract: tables, columns, types, ranges, allowed values and keys.

One source of truth: the generator writes these tables (under ``source_header`` names, as a
vendor export would), Module 1's converter validates against them (after normalising headers to
the snake_case ``name``), and Module 3's dbt sources describe the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "int", "float", "date"]

REGIONS: tuple[str, ...] = (
    "New England",
    "Mid-Atlantic",
    "South Atlantic",
    "East North Central",
    "West North Central",
    "East South Central",
    "West South Central",
    "Mountain",
    "Pacific",
)
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G")
PURPOSES: tuple[str, ...] = (
    "debt_consolidation",
    "credit_card",
    "home_improvement",
    "major_purchase",
    "small_business",
    "car",
    "medical",
    "moving",
    "vacation",
    "other",
)
HOME_OWNERSHIP: tuple[str, ...] = ("RENT", "MORTGAGE", "OWN", "OTHER")
EMPLOYMENT_LENGTHS: tuple[str, ...] = (
    "< 1 year",
    "1 year",
    *(f"{n} years" for n in range(2, 10)),
    "10+ years",
)
REPAYMENT_STATUSES: tuple[str, ...] = ("paid", "late", "prepaid", "default")
TERMS: tuple[int, ...] = (36, 60)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract."""

    name: str
    type: ColumnType
    description: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int, ...] | None = None

    @property
    def source_header(self) -> str:
        """The header the raw export uses: ``loan_id`` -> ``Loan Id``."""
        return " ".join(part.capitalize() for part in self.name.split("_"))


@dataclass(frozen=True)
class TableSpec:
    """One table of the contract: its columns and its primary key."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")


BORROWERS = TableSpec(
    name="borrowers",
    description="One row per borrower: the customer master at the time of the export.",
    key=("borrower_id",),
    columns=(
        ColumnSpec("borrower_id", "string", "Borrower identifier, e.g. B00000042"),
        ColumnSpec("created_date", "date", "Date the borrower became a customer"),
        ColumnSpec("birth_year", "int", "Year of birth", min=1930, max=2008),
        ColumnSpec("region", "string", "US Census division of residence", allowed=REGIONS),
        ColumnSpec(
            "home_ownership", "string", "Housing status", nullable=True, allowed=HOME_OWNERSHIP
        ),
        ColumnSpec(
            "annual_income", "float", "Self-reported annual income (USD)", True, 1_000, 5_000_000
        ),
        ColumnSpec("credit_score", "int", "Bureau credit score (FICO-like)", min=300, max=850),
        ColumnSpec("earliest_credit_line", "date", "Date the first credit line was opened"),
    ),
)

LOANS = TableSpec(
    name="loans",
    description="One row per issued loan: the application as underwritten.",
    key=("loan_id",),
    columns=(
        ColumnSpec("loan_id", "string", "Loan identifier, e.g. L00000042"),
        ColumnSpec("borrower_id", "string", "Borrower who took the loan (borrowers.borrower_id)"),
        ColumnSpec("application_date", "date", "Date the application was received"),
        ColumnSpec(
            "issue_date", "date", "Date the loan was funded; repayments start a month later"
        ),
        ColumnSpec("loan_amount", "float", "Principal funded (USD)", min=500, max=40_000),
        ColumnSpec("term_months", "int", "Number of monthly instalments", allowed=TERMS),
        ColumnSpec("interest_rate", "float", "Annual interest rate in percent", min=3, max=36),
        ColumnSpec("installment", "float", "Scheduled monthly payment (USD)", min=1, max=2_000),
        ColumnSpec("grade", "string", "Risk grade assigned at underwriting", allowed=GRADES),
        ColumnSpec("purpose", "string", "Stated purpose", nullable=True, allowed=PURPOSES),
        ColumnSpec(
            "annual_income", "float", "Income stated on the application", True, 1_000, 5_000_000
        ),
        ColumnSpec(
            "employment_length",
            "string",
            "Years with the current employer, as the form offers it",
            nullable=True,
            allowed=EMPLOYMENT_LENGTHS,
        ),
        ColumnSpec(
            "debt_to_income", "float", "Monthly debt payments / income, percent", True, 0, 100
        ),
        ColumnSpec(
            "credit_history_months", "int", "Months since the first credit line", True, 0, 900
        ),
        ColumnSpec(
            "delinquencies_2y", "int", "30+ day delinquencies in the last 2 years", True, 0, 50
        ),
        ColumnSpec("region", "string", "US Census division at application", True, allowed=REGIONS),
    ),
)

REPAYMENTS = TableSpec(
    name="repayments",
    description="One row per loan and due instalment up to the as-of date of the export.",
    key=("loan_id", "installment_number"),
    columns=(
        ColumnSpec("loan_id", "string", "Loan the instalment belongs to (loans.loan_id)"),
        ColumnSpec("installment_number", "int", "1 for the first due month", min=1, max=60),
        ColumnSpec("due_date", "date", "Date the instalment fell due"),
        ColumnSpec("payment_date", "date", "Date money was received; empty when unpaid", True),
        ColumnSpec(
            "amount_due", "float", "Scheduled amount (principal + interest)", min=0, max=50_000
        ),
        ColumnSpec("amount_paid", "float", "Amount received (USD)", min=0, max=50_000),
        ColumnSpec(
            "principal_paid", "float", "Part of the payment that reduced the balance", min=0
        ),
        ColumnSpec("interest_paid", "float", "Part of the payment that paid interest", min=0),
        ColumnSpec("balance_after", "float", "Outstanding principal after this row", min=0),
        ColumnSpec(
            "status", "string", "paid, late, prepaid or default", allowed=REPAYMENT_STATUSES
        ),
    ),
)

LOAN_TRUTH = TableSpec(
    name="loan_truth",
    description=(
        "The generator's ground truth per loan, never seen by models: the true default "
        "probability and the realised outcome. Clean (no injected faults)."
    ),
    key=("loan_id",),
    columns=(
        ColumnSpec("loan_id", "string", "Loan identifier"),
        ColumnSpec(
            "true_pd", "float", "True probability of default over the loan's life", min=0, max=1
        ),
        ColumnSpec(
            "true_pd_by_as_of",
            "float",
            "True probability a default is observed by the as-of date",
            min=0,
            max=1,
        ),
        ColumnSpec(
            "will_default",
            "int",
            "1 if the loan defaults at some point in its life",
            allowed=(0, 1),
        ),
        ColumnSpec("default_installment", "int", "Instalment at which it defaults", True, 1, 60),
        ColumnSpec(
            "observed_default", "int", "1 if the default row is in the export", allowed=(0, 1)
        ),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (BORROWERS, LOANS, REPAYMENTS, LOAN_TRUTH)}
