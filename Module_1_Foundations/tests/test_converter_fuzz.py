"""Property: whatever the bytes, a conversion balances or ends in one line; never a traceback.

Inputs are random bytes, and a real, messy CSV with bytes flipped, spans cut out and control
characters sprinkled in. ``convert_csv`` either returns a balanced result (and its manifest
agrees) or raises :class:`UserError` with a one-line message, which the CLI prints as
``error: ...`` with exit status 2; any other exception fails the test.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.project.csv_to_parquet_to_s3 import convert_csv

#: A small export with the usual mess: BOM-less UTF-8 accents, quotes, a quoted newline,
#: markers, mixed dates, a ragged line and a repeated row.
REAL_CSV = (
    "id,name,amount,opened,grade,note\n"
    '1,Zoë,1200.50,2020-01-02,A,"plain"\n'
    '2,"Smith, J",?,14/01/2020,b,"two\nlines"\n'
    "3,Ana,-3,Jan 03 2020,C,\n"
    "4,Bo,1e3,2020/02/29,a,x\n"
    "5,Li,NA,2021-13-01,B\n"
    '6,"Ö ""quoted""",12,2020-03-04,c,y\n'
    "3,Ana,-3,Jan 03 2020,C,\n"
).encode()
CONTROLS = [bytes([c]) for c in (0, 1, 7, 8, 11, 12, 27, 31)]


@st.composite
def mangled_csv(draw: st.DrawFn) -> bytes:
    data = bytearray(REAL_CSV * draw(st.integers(1, 3)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "control", "truncate"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "control":
            data[at:at] = draw(st.sampled_from(CONTROLS))
        else:
            del data[at:]
    return bytes(data)


def _converts_or_says_why_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / "input.csv"
        src.write_bytes(data)
        out = Path(folder) / "out"
        try:
            result = convert_csv(src, out)
        except UserError as error:
            message = str(error)
            assert message and "\n" not in message, message
            assert not out.exists(), "a refused file writes nothing"
            return
        assert result.balanced, result.summary()
        counts = json.loads(result.manifest_path.read_text())["counts"]
        assert counts["balanced"] and counts["rows_in"] == (
            counts["rows_out"] + counts["rows_rejected"] + counts["duplicates_removed"]
        )


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_convert_or_fail_in_one_line(data):
    _converts_or_says_why_in_one_line(data)


@FUZZ
@given(mangled_csv())
def test_a_mangled_real_csv_converts_or_fails_in_one_line(data):
    _converts_or_says_why_in_one_line(data)
