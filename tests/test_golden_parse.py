"""Golden files for parsing the committed samples (DOCX and PDF of the same text).

Regenerate only on purpose: `UPDATE_GOLDEN=1 pytest tests/test_golden_parse.py`, then review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from pipeline.chunking import chunk_dossier
from pipeline.ingest import ingest
from pipeline.settings import Settings
from pipeline.textnorm import words

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).with_name("golden")
FILES = sorted(p for p in (ROOT / "samples").glob("*/*") if p.suffix in (".pdf", ".docx"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _summary(path: Path, tmp: Path) -> dict[str, object]:
    d = ingest(path, Settings(data_dir=tmp))
    chunks = chunk_dossier(d)
    return {
        "format": d.format,
        "pages": d.pages,
        "language": d.language,
        "headings": [[b.level, b.text, b.page] for b in d.blocks if b.kind == "heading"],
        "kinds": dict(sorted(Counter(b.kind for b in d.blocks).items())),
        "text_sha256": hashlib.sha256(d.text.encode()).hexdigest(),
        "findings": [[f.kind, f.page, f.text] for f in d.findings],
        "chunks": [[c.id, c.section, c.pages, c.start, c.end] for c in chunks],
    }


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_parse_matches_golden(path: Path, tmp_path: Path) -> None:
    got = _summary(path, tmp_path)
    golden = GOLDEN / f"{path.name}.json"
    if UPDATE:
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden file for {path.name}: run with UPDATE_GOLDEN=1 once and review it"
    assert got == json.loads(golden.read_text(encoding="utf-8"))


def test_golden_updates_are_off_by_default() -> None:
    assert not UPDATE or os.environ.get("CI") is None, "UPDATE_GOLDEN must never be set in CI"


PAIRS = sorted(p.parent for p in ROOT.glob("samples/*/*.docx") if p.with_suffix(".pdf").exists())


@pytest.mark.parametrize("folder", PAIRS, ids=[p.name for p in PAIRS])
def test_docx_and_its_pdf_give_the_same_sections_and_text(folder: Path, tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    d = ingest(folder / f"{folder.name}.docx", s)
    p = ingest(folder / f"{folder.name}.pdf", s)
    assert [(b.level, b.text) for b in d.blocks if b.kind == "heading"] == [
        (b.level, b.text) for b in p.blocks if b.kind == "heading"
    ]
    assert p.pages and all(b.page for b in p.blocks)
    cd, cp = Counter(words(d.text)), Counter(words(p.text))
    common = sum((cd & cp).values())
    assert common / sum(cd.values()) > 0.96 and common / sum(cp.values()) > 0.97
    assert {f.kind for f in d.findings} == {f.kind for f in p.findings}
