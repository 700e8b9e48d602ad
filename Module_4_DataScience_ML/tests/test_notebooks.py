"""The committed notebooks are the executed form of their percent-format sources.

Each practice notebook is authored as ``ml_practice_notebooks/NN_name.py`` (jupytext percent
format, linted like all code); ``make notebooks`` executes it into ``NN_name.ipynb``, which is
committed with its outputs. Running the notebooks is ``make test``'s job (nbmake); these tests
check that no one edited one side of a pair without regenerating the other.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "ml_practice_notebooks"
SOURCES = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
REGENERATE = "run 'make notebooks' to regenerate the .ipynb from its .py source"


def cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    assert len(SOURCES) == 5
    notebooks = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    assert [p.stem for p in notebooks] == [p.stem for p in SOURCES], REGENERATE


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_has_the_same_cells_as_its_source(source: Path):
    authored = jupytext.read(source)
    committed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert cells(committed) == cells(authored), REGENERATE
    assert committed.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_is_committed_executed_top_to_bottom_without_errors(source: Path):
    committed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), REGENERATE
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, REGENERATE
    assert any(cell.outputs for cell in code), "the notebook was saved without its outputs"
