"""Tables of the dossier text pane: each cell carries its offsets in the dossier text, so a quote
is highlighted inside the table as anywhere else; every table of the samples keeps its cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ingest import ingest
from pipeline.types import Block
from pipeline.web.services import table_cells
from tests.web.helpers import SAMPLES, web_settings


@pytest.mark.parametrize("name", ["m2_hotel_moyen/m2_hotel_moyen.docx", "m2_injection_velo/m2_injection_velo.pdf"])
def test_table_cells_sit_at_their_offsets(tmp_path: Path, name: str) -> None:
    dossier = ingest(SAMPLES / name, web_settings(tmp_path))
    tables = [b for b in dossier.blocks if b.kind == "table"]
    assert tables
    for b in tables:
        rows = table_cells(b)
        assert rows is not None and [[c.text for c in row] for row in rows] == b.rows
        assert all(dossier.text[c.start : c.end] == c.text for row in rows for c in row)


def test_a_cell_not_found_in_the_text_falls_back_to_text() -> None:
    block = Block(kind="table", text="a | b\nc | d", rows=[["a", "b"], ["c", "x"]], start=10, end=21)
    assert table_cells(block) is None
    block = Block(kind="table", text="a |  | b", rows=[["a", "", "b"]], start=10, end=18)
    rows = table_cells(block)
    assert rows is not None and [(c.start, c.end) for c in rows[0]] == [(10, 11), (11, 11), (17, 18)]
    assert table_cells(Block(kind="paragraph", text="a | b", start=0, end=5)) is None
