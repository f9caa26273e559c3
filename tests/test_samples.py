"""The labelled samples: gold files are valid and every gold quote is in the text our pipeline extracts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from pipeline.grounding import Searchable
from pipeline.ingest import ingest
from pipeline.referentiel import load_referentiel
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
GOLDS = sorted((ROOT / "samples").glob("*/gold.json"))


def test_check_gold_script_passes() -> None:
    spec = importlib.util.spec_from_file_location("check_gold", ROOT / "samples" / "check_gold.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_gold"] = mod
    spec.loader.exec_module(mod)
    assert mod.check(ROOT / "samples") == []


def test_the_set_is_what_the_issue_asks_for() -> None:
    golds = [json.loads(g.read_text(encoding="utf-8")) for g in GOLDS]
    assert len(golds) >= 22  # 12 original dossiers + 10 of other sectors, producers and shapes (issue 13)
    both = [g for g in golds if {Path(f).suffix for f in g["files"]} == {".docx", ".pdf"}]
    pdf_only = [g for g in golds if [Path(f).suffix for f in g["files"]] == [".pdf"]]
    assert len(both) >= 4 and pdf_only and any(g["injection"] for g in golds)
    assert {g["module"] for g in golds} == {"M1", "M2"}
    levels = {c["level"] for g in golds for c in g["criteria"].values()}
    assert levels == {0, 1, 2, 3}
    splits = json.loads((ROOT / "samples" / "splits.json").read_text(encoding="utf-8"))
    names = {g.parent.name for g in GOLDS}
    assert set(splits["dev"]) | set(splits["test"]) == names and not set(splits["dev"]) & set(splits["test"])
    ref = load_referentiel()
    for g in golds:
        assert set(g["criteria"]) == {c.id for c in ref.criteria_for(g["module"])}


CASES = [(g, f) for g in GOLDS for f in json.loads(g.read_text(encoding="utf-8"))["files"]]


@pytest.mark.parametrize(("gold", "name"), CASES, ids=[f"{g.parent.name}/{f}" for g, f in CASES])
def test_gold_quotes_are_in_the_extracted_text(gold: Path, name: str, tmp_path: Path) -> None:
    data = json.loads(gold.read_text(encoding="utf-8"))
    text = Searchable(ingest(gold.parent / name, Settings(data_dir=tmp_path)).text)
    missing = [q for c in data["criteria"].values() for q in c["evidence"] if text.find(q, fuzzy=False) is None]
    assert not missing, missing[:3]
