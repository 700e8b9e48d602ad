"""The converter's pure parts: sniffing, names, vectorised cleaning, fingerprints, line numbers."""

from __future__ import annotations

import codecs
from collections import deque
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.project import column_plans, fingerprints
from Module_1_Foundations.project.cleaning import ColumnPlan, clean_column
from Module_1_Foundations.project.csv_reading import assign_line_numbers
from Module_1_Foundations.project.csv_sniffing import (
    detect_delimiter,
    detect_encoding,
    detect_header,
    snake_case,
    sniff,
    unique_column_names,
)
from Module_1_Foundations.project.dataset_writing import parse_partition
from Module_1_Foundations.project.dedup import (
    BoundedDedup,
    BucketTable,
    FingerprintSet,
    KeyedFingerprints,
)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Loan Id", "loan_id"),
        ("LoanAmount", "loan_amount"),
        ("Interest Rate (%)", "interest_rate"),
        ("  e-mail  ", "e_mail"),
        ("Größe", "grosse"),
        ("Café", "cafe"),
        ("2020 value", "c_2020_value"),
        ("HTTPStatus", "http_status"),
    ],
)
def test_headers_become_snake_case(header, name):
    assert snake_case(header) == name


def test_duplicate_and_blank_headers_become_unique_names():
    assert unique_column_names(["Id", "id", "ID", "", "Amount", "amount"]) == [
        "id",
        "id_2",
        "id_3",
        "column_4",
        "amount",
        "amount_2",
    ]


@pytest.mark.parametrize(
    ("sample", "encoding", "bom"),
    [
        (b"a,b\n1,2\n", "utf-8", False),
        (codecs.BOM_UTF8 + b"a,b\n1,2\n", "utf-8", True),
        ("name\nJosé\n".encode("latin-1"), "cp1252", False),
        ("name\nZoë\n".encode(), "utf-8", False),
        (b"name\n\x81\x8d\n", "latin-1", False),  # bytes Windows-1252 leaves undefined
    ],
)
def test_encoding_is_detected_from_the_bytes(sample, encoding, bom):
    assert detect_encoding(sample) == (encoding, bom)


def test_a_utf8_sample_cut_inside_a_character_is_still_utf8():
    sample = ("x" * 10 + "é").encode()[:-1]  # the last byte of 'é' is cut off
    assert detect_encoding(sample) == ("utf-8", False)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        ("a;b;c\n1,5;2;3\n4;5;6\n", ";"),  # decimal commas do not fool it
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('a,b\n"x;y;z",1\n"u;v;w",2\n', ","),  # delimiters inside quotes do not count
        ("single\n1\n2\n", ","),
    ],
)
def test_delimiter_is_the_one_that_splits_lines_consistently(text, delimiter):
    assert detect_delimiter(text) == delimiter


def test_a_wrong_delimiter_is_reported_with_the_one_that_fits():
    with pytest.raises(UserError, match=r"delimiter ';' leaves each line in 1 field, but ','"):
        detect_delimiter("a,b,c\n1,2,3\n", ";", source="x.csv")


@pytest.mark.parametrize(
    ("text", "has_header"),
    [
        ("loan_id,amount\nL1,100\n", True),
        ("L1,100\nL2,200\n", False),
        ("2024-01-01,x\n2024-01-02,y\n", False),
        (",amount\n1,2\n", True),  # a blank name over an index column
        (",x\nfoo,bar\n", False),
    ],
)
def test_header_is_detected(text, has_header):
    assert detect_header(text, ",") is has_header


def test_an_empty_or_blank_file_is_a_one_line_error():
    for sample in (b"", b"\n\n  \r\n", codecs.BOM_UTF8):
        with pytest.raises(UserError, match=r"x\.csv is empty"):
            sniff(sample, source="x.csv")


def _plan(kind, **kwargs) -> ColumnPlan:
    return ColumnPlan(name="c", source_header="C", kind=kind, **kwargs)


def test_missing_markers_are_null_after_trimming():
    raw = pa.array(["", "NA", " N/A ", "null", "?", "-", "#N/A", "ok", " spaced "])
    values, problems = clean_column(raw, _plan("string"))
    assert values.to_pylist() == [None] * 7 + ["ok", "spaced"]
    assert problems == []


def test_numbers_parse_and_junk_is_reported_per_cell():
    raw = pa.array(["12.5", " 7 ", "twelve", "#VALUE!", "12 500", "12.5.1", "NA", "1e3", "-0"])
    values, problems = clean_column(raw, _plan("float"))
    assert values.to_pylist() == [12.5, 7.0, None, None, None, None, None, 1000.0, 0.0]
    (problem,) = problems
    assert problem.kind == "type"
    assert np.flatnonzero(problem.mask).tolist() == [2, 3, 4, 5]


def test_mixed_date_formats_all_parse_to_the_same_day():
    raw = pa.array(["2024-03-05", "2024/03/05", "20240305", "05 Mar 2024", "March 05 2024", ""])
    values, problems = clean_column(raw, _plan("date"))
    assert values.to_pylist() == [date(2024, 3, 5)] * 5 + [None]
    assert problems == []


def test_an_impossible_date_is_a_problem_not_a_guess():
    values, problems = clean_column(pa.array(["2024-02-30", "2024-02-29"]), _plan("date"))
    assert values.to_pylist() == [None, date(2024, 2, 29)]
    assert problems[0].mask.tolist() == [True, False]


def test_contract_rules_report_range_allowed_and_missing():
    raw = pa.array(["500", "499", "40001", "", "abc"])
    plan = _plan("float", nullable=False, min=500, max=40_000)
    _, problems = clean_column(raw, plan)
    found = [
        (p.kind, p.message.format(value="v"), np.flatnonzero(p.mask).tolist()) for p in problems
    ]
    assert found == [
        ("type", "'v' is not a number", [4]),
        ("missing", "missing value", [3]),
        ("range", "'v' is below 500", [1]),
        ("range", "'v' is above 40000", [2]),
    ]


def test_low_cardinality_text_gets_one_spelling_per_value():
    plan = _plan("string", allowed=("Pacific", "Mountain"))
    plan.canonical = {"pacific": "Pacific", "mountain": "Mountain"}
    raw = pa.array(["Pacific", " PACIFIC", "pacific  ", "Mountain", "Atlantis", "NA"])
    values, problems = clean_column(raw, plan)
    assert values.to_pylist() == ["Pacific", "Pacific", "Pacific", "Mountain", "Atlantis", None]
    (problem,) = problems
    assert problem.kind == "allowed" and problem.mask.tolist() == [0, 0, 0, 0, 1, 0]


@pytest.mark.parametrize(
    ("values", "name", "kind"),
    [
        (["1", "2", "-3", "NA"], "n", "int"),
        (["1.5", "2", "NA"], "x", "float"),
        (["yes", "No", "Y", "n"], "flag", "bool"),
        (["2024-01-01", "2024/01/02", "03 Jan 2024"], "d", "date"),
        (["20240101", "20240102"], "issue_date", "date"),  # the name says date
        (["20240101", "20240102"], "code", "int"),
        (["2024-01-01T10:00:00", "2024-01-02 11:30:00"], "t", "timestamp"),
        (["a", "b", "1"], "s", "string"),
        (["NA", ""], "empty", "string"),
    ],
)
def test_types_are_inferred_from_a_sample(values, name, kind):
    assert column_plans.infer_plan(pa.array(values), name, name).kind == kind


def test_inference_tolerates_a_little_junk_which_is_then_rejected():
    values = [str(i) for i in range(199)] + ["twelve"]
    plan = column_plans.infer_plan(pa.array(values), "amount", "Amount")
    assert plan.kind == "int"
    _, problems = clean_column(pa.array(values), plan)
    assert np.flatnonzero(problems[0].mask).tolist() == [199]


def test_fingerprints_are_equal_exactly_for_equal_rows():
    a = pa.array(["L1", "L2", "L1", "L1", None])
    b = pa.array([1.0, 2.0, 1.0, 1.5, None])
    fp = fingerprints.row_fingerprints([a, b])
    assert fp[0] == fp[2]
    assert len({int(x) for x in fp}) == 4
    swapped = fingerprints.row_fingerprints([pa.array(["1", "L2"]), pa.array(["L1", "x"])])
    plain = fingerprints.row_fingerprints([pa.array(["L1", "x"]), pa.array(["1", "L2"])])
    assert swapped[0] != plain[0], "column order matters"


def test_string_hashes_do_not_depend_on_position_or_slicing():
    words = pa.array(["alpha", "beta", "", "alpha", "x" * 3_000_000, None])
    hashes = fingerprints.hash_strings(words)
    assert hashes[0] == hashes[3] and hashes[0] != hashes[1]
    assert fingerprints.hash_strings(words.slice(3, 2))[0] == hashes[0]
    assert hashes[4] == fingerprints.hash_strings(pa.array(["x" * 3_000_000]))[0]


def test_fingerprint_set_finds_repeats_within_and_across_batches():
    seen = FingerprintSet()
    first, _ = seen.seen_then_add(np.array([5, 3, 5, 9], dtype=np.uint64))
    assert first.tolist() == [False, False, True, False]
    for batch in range(20):  # many runs, merged
        seen.seen_then_add(np.arange(100, dtype=np.uint64) + 1000 * (batch + 1))
    again, refused = seen.seen_then_add(np.array([3, 4, 1050, 21_000], dtype=np.uint64))
    assert not refused.any(), "no budget given: nothing is refused"
    assert again.tolist() == [True, False, True, False]
    assert len(seen) == 3 + 2000 + 2


def test_keyed_fingerprints_tell_exact_duplicates_from_key_conflicts():
    keyed = KeyedFingerprints()
    # rows differ in their top bits: the check a keyed table keeps
    row = np.array([10, 20, 10, 21, 30], dtype=np.uint64) << np.uint64(48)
    seen, same, _ = keyed.lookup_then_add(np.array([1, 2, 1], np.uint64), row[:3])
    assert seen.tolist() == [False, False, True] and same.tolist() == [True, True, True]
    seen, same, _ = keyed.lookup_then_add(np.array([2, 3], np.uint64), row[3:])
    assert seen.tolist() == [True, False]
    assert same.tolist() == [False, True], "key 2 comes back with another row: a conflict"


def test_line_numbers_step_over_rows_the_parser_set_aside():
    skipped = deque([3, 4, 9, 40])
    assert assign_line_numbers(2, 5, skipped).tolist() == [2, 5, 6, 7, 8]
    assert assign_line_numbers(9, 2, skipped).tolist() == [10, 11]  # row 9 was set aside
    assert list(skipped) == [40], "later skips wait for their batch"


@pytest.mark.parametrize(
    ("given", "parsed"),
    [(None, None), ("issue_date", ("issue_date", "month")), ("d:day", ("d", "day"))],
)
def test_partition_specs(given, parsed):
    assert parse_partition(given) == parsed


def test_a_bad_partition_grain_is_a_user_error():
    with pytest.raises(UserError, match="grain must be one of day, month, year"):
        parse_partition("issue_date:week")


@pytest.mark.parametrize("expected", [0, 40_000])
def test_hash_tables_answer_as_a_row_by_row_dict_would(expected):
    """Repeats inside a batch, across batches, keys racing for slots, growth from the smallest
    table (expected=0) or none (sized up front): the answers of a plain dict fed row by row."""
    rng = np.random.default_rng(3)
    spread = np.uint64(0x9E3779B97F4A7C15)  # spread small integers over all 64 bits (0 stays 0)
    keyed, plain = KeyedFingerprints(expected), FingerprintSet(expected)
    first_check: dict[int, int] = {}
    seen_keys: set[int] = set()
    for _ in range(20):
        keys = rng.integers(0, 4_000, 2_000).astype(np.uint64) * spread
        rows = rng.integers(0, 3, 2_000).astype(np.uint64) << np.uint64(48)
        want_seen, want_same, want_plain = [], [], []
        for key, row in zip(keys.tolist(), (rows >> np.uint64(32)).tolist(), strict=True):
            want_seen.append(key in first_check)
            want_same.append(first_check.setdefault(key, row) == row)
            want_plain.append(key in seen_keys)
            seen_keys.add(key)
        seen, same, _ = keyed.lookup_then_add(keys, rows)
        assert seen.tolist() == want_seen and same.tolist() == want_same
        assert plain.seen_then_add(keys)[0].tolist() == want_plain
    assert len(keyed) == len(plain) == len(seen_keys)
    probe = np.array([0, 5, 4_001], dtype=np.uint64) * spread
    assert plain.contains(probe).tolist() == [int(p) in seen_keys for p in probe]
    assert int(probe[-1]) not in seen_keys, "4,001 was never drawn"


def test_the_bucket_table_keeps_edge_keys_and_one_cache_line_a_bucket():
    table = BucketTable(10_000)
    assert table.words.ctypes.data % 64 == 0, "a bucket of 8 slots is one 64-byte cache line"
    zero_word = np.uint64(1 << 50)  # its low 44 bits are 0: with value 0 its word would be 0
    keys = np.array([0, zero_word, 7], dtype=np.uint64)
    found, _, _ = table.find(keys, np.zeros(3, np.uint32), add=True)
    assert not found.any()
    found, stored, _ = table.find(keys)
    assert found.all(), "key 0 and a key whose slot word would be 0 are kept, not taken as empty"
    assert stored.tolist() == [0, 1, 0], "the second's value reads 1 (a 2**-64 chance a row)"
    assert len(table) == 3


def test_keys_past_full_buckets_go_to_the_side_table_and_are_found_there():
    table = BucketTable(0)  # the smallest table: 16 buckets of 8 slots
    keys = np.arange(1, 5_001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    values = np.arange(5_000, dtype=np.uint32)
    table.find(keys, values, add=True)
    assert len(table.overflow) == 5_000 - table.words.size, "every slot used, the rest aside"
    found, stored, _ = table.find(keys[::-1])
    assert found.all() and stored.tolist() == values[::-1].tolist()


@pytest.mark.parametrize("keyed", [False, True])
def test_a_table_sized_for_more_rows_than_the_budget_holds_fills_the_budget_then_spills(
    tmp_path, keyed
):
    budget = 1 << 20
    d = BoundedDedup(keyed, budget, tmp_path / "spill")
    d.expect(10_000_000)  # far more than 1 MiB holds
    assert budget * 0.98 < d.nbytes <= budget, "sized to the budget, never past it"
    sized_for = BucketTable.keys_within(budget)
    assert sized_for > budget / 10, "8-byte slots: under 10 bytes a key, keyed or not"
    fps = np.arange(1, 2 * sized_for, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    spilled, held_when_spilling_began = 0, None
    for lo in range(0, len(fps), 10_000):
        batch = fps[lo : lo + 10_000]
        _, _, spill = d.check(batch, batch if keyed else None)
        if spill.any() and held_when_spilling_began is None:
            held_when_spilling_began = len(d.memory)
        spilled += int(spill.sum())
        assert d.nbytes <= budget
    assert d.memory.table.full, "it spilled because the table was full"
    assert held_when_spilling_began == len(d.memory) >= sized_for, "it filled up first"
    assert spilled == len(fps) - len(d.memory), "only what did not fit spilled"
    d.close()


@pytest.mark.parametrize("keyed", [False, True])
def test_bounded_dedup_spilled_answers_equal_the_in_memory_answers(tmp_path, keyed):
    rng = np.random.default_rng(5)
    # Few distinct keys, so copies fall both before and after the switch to spilling.
    keys = rng.integers(0, 3_000, 20_000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    rows = keys ^ (rng.integers(0, 2, 20_000).astype(np.uint64) << np.uint64(48))
    lines = np.arange(20_000, dtype=np.int64)

    def run(budget: int) -> tuple[set, int, set]:
        d = BoundedDedup(keyed, budget, tmp_path / f"spill-{budget}", partitions=5)
        kept, conflicts, duplicates = set(), set(), 0
        for lo in range(0, 20_000, 1_000):
            sl = slice(lo, lo + 1_000)
            dup, conf, spill = d.check(rows[sl], keys[sl] if keyed else None)
            duplicates += int(dup.sum())
            conflicts |= set(lines[sl][conf].tolist())
            kept |= set(lines[sl][~dup & ~conf & ~spill].tolist())
            d.spill(
                lines[sl][spill], rows[sl][spill], keys[sl][spill] if keyed else None,
                pa.table({"x": pa.array(lines[sl][spill])}),
            )  # fmt: skip
        drained = [x for table in d.drain() for x in table.column("x").to_pylist()]
        assert drained == sorted(drained), "spilled rows come back in input order"
        kept |= set(drained)
        duplicates += d.duplicates
        conflicts |= set(d.conflict_lines.tolist())
        d.close()
        assert (d.spilled_rows > 10_000) == (budget < 1 << 30)
        assert not (tmp_path / f"spill-{budget}").exists()
        return kept, duplicates, conflicts

    in_memory, spilled = run(1 << 30), run(4_000)
    assert spilled == in_memory
    distinct = len(np.unique(keys if keyed else rows))
    assert len(in_memory[0]) == distinct and in_memory[1] > 0 and bool(in_memory[2]) == keyed


@pytest.mark.parametrize("kind", ["int", "float"])
def test_the_plain_number_check_accepts_only_what_its_pattern_accepts_and_arrow_casts(kind):
    """The NumPy byte check that replaced the regex on dirty number columns: every cell it
    passes matches the pattern and casts; what it leaves (``1e5``, ``+4``, padded) goes on to
    the per-cell path, which still reads it as a number."""
    import re

    from Module_1_Foundations.project.value_parsing import (
        FLOAT_PATTERN,
        INT_PATTERN,
        null_where_not,
        plain_numbers,
    )

    cells = [
        "12.5", "-3", "+4", "5.", ".5", "-.5", ".", "-", "", "1e5", " 7", "7 ", "1.2.3",
        "12 500", "N/A", "--1", "1-", "0", "-0", "999999999999999999", "9999999999999999999",
        "00012", None, "1,5", "\u0663",
    ]  # fmt: skip
    pattern = re.compile(INT_PATTERN if kind == "int" else FLOAT_PATTERN)
    want = {
        "int": ["-3", "0", "-0", "999999999999999999", "00012"],
        "float": ["12.5", "-3", "5.", ".5", "-.5", "0", "-0", "999999999999999999",
                  "9999999999999999999", "00012"],
    }[kind]  # fmt: skip
    for array in (pa.array(cells), pa.array(["x", *cells]).slice(1)):  # offset 0 and 1
        ok = plain_numbers(array, kind)
        assert [c for c, passed in zip(cells, ok, strict=True) if passed] == want
        assert all(pattern.match(c) for c in want)
        typed = pc.cast(null_where_not(array, ok), pa.int64() if kind == "int" else pa.float64())
        assert [v for v in typed.to_pylist() if v is not None] == [
            int(c) if kind == "int" else float(c) for c in want
        ]
    plan = _plan(kind)
    plan.dirty = True  # the path the check serves: a column whose whole-batch cast failed
    typed, problems = clean_column(pa.array(["1e2", "+4", " 7 ", "N/A", "x", "3"]), plan)
    assert typed.to_pylist() == [100 if kind == "float" else None, 4, 7, None, None, 3]
    bad = [kind == "int", False, False, False, True, False]  # 1e2 is no int
    assert [p.mask.tolist() for p in problems] == [bad]
