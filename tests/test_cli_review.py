"""The review / decide / finalize / export / erase flow through the real CLI, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx

from pipeline.grounding import Searchable
from pipeline.ingest import ingest
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent / "dossier-review")
SAMPLE = ROOT / "samples" / "m2_injection_velo" / "m2_injection_velo.docx"


def _run(*args: str, data: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([EXE, *args, "--data-dir", str(data)], capture_output=True, text=True, timeout=600)
    assert "Traceback" not in r.stderr, r.stderr
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def test_review_json_contract_grounding_and_manipulation_flag(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "out"
    r = _run("review", str(SAMPLE), "--module", "M2", "--json", "--out", str(out), "--candidate", "C-42", data=data)
    review = json.loads(r.stdout)
    assert {"run_id", "file", "module", "warnings", "criteria", "competencies", "provenance"} <= set(review)
    assert review["warnings"][0].startswith("ALERTE MANIPULATION")
    assert [c["id"] for c in review["criteria"]][:2] == ["C6.1", "C6.2"] and len(review["criteria"]) == 15
    text = Searchable(ingest(SAMPLE, Settings(data_dir=tmp_path / "probe")).text)
    for c in review["criteria"]:
        assert {"id", "level", "confidence", "rationale", "missing", "evidence", "status"} <= set(c)
        for e in c["evidence"]:
            assert text.find(e["quote"], fuzzy=False), e["quote"]
            assert "correcteur" not in e["quote"] and "Maîtrisé (3/3)" not in e["quote"]
    assert (out / "review.json").exists()
    report = (out / "rapport.md").read_text(encoding="utf-8")
    assert report.index("ALERTE MANIPULATION") < report.index("Détail par critère")

    run_id, dossier_id = review["run_id"], review["dossier_id"]
    refused = _run("finalize", run_id, "--assessor", "Claire", data=data, ok=False)
    assert refused.returncode == 2 and "sans décision" in refused.stderr
    for c in review["criteria"]:
        level = c["level"] if c["level"] is not None else 1
        _run("decide", run_id, c["id"], "--level", str(level), "--assessor", "Claire", data=data)
    _run("decide", run_id, "C7.4", "--level", "3", "--comment", "calendrier précis", "--assessor", "Claire", data=data)
    _run("finalize", run_id, "--assessor", "Claire", data=data)
    locked = _run("decide", run_id, "C6.1", "--level", "0", "--assessor", "Bob", data=data, ok=False)
    assert locked.returncode == 2 and "verrouillée" in locked.stderr

    grid = tmp_path / "grille.docx"
    _run("export", run_id, "--format", "docx", "--kind", "grid", "--out", str(grid), data=data)
    cells = [c.text for t in docx.Document(str(grid)).tables for row in t.rows for c in row.cells]
    assert any("calendrier précis" in c for c in cells) and any("Maîtrisé" in c for c in cells)
    feedback = tmp_path / "retour.html"
    _run("export", run_id, "--format", "html", "--kind", "feedback", "--out", str(feedback), data=data)
    assert "Pour progresser" in feedback.read_text(encoding="utf-8")

    _run("erase", dossier_id, "--yes", "--by", "dpo", data=data)
    gone = _run(
        "export", run_id, "--format", "json", "--kind", "grid", "--out", str(tmp_path / "x.json"), data=data, ok=False
    )
    assert gone.returncode == 2 and "introuvable" in gone.stderr
