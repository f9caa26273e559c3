"""`python -m evals.audit_unlabelled DIR`: label-free measures of what is shown, on any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_audit_unlabelled_prints_and_writes_the_measures_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(ROOT / "samples" / "m1_optique_fort" / "m1_optique_fort.docx", folder)
    (folder / "notes.txt").write_text("not a dossier", encoding="utf-8")
    out = tmp_path / "audit.json"
    env = {**os.environ, "DOSSIER_REVIEW_EMBEDDER": "hashing"}
    run = subprocess.run(
        [sys.executable, "-m", "evals.audit_unlabelled", str(folder), "--modules", "M1", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "m1_optique_fort.docx M1: shown " in run.stdout and "total over 1 reviews" in run.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert [r["file"] for r in figures["rows"]] == ["m1_optique_fort.docx"]
    row = figures["rows"][0]
    assert row["shown"] > 0 and 0 <= row["non_content"] <= row["shown"] and sum(row["levels"].values()) == 22
    for key in ("non_content_quote_rate", "quote_reuse_rate", "gap_contradiction_rate", "pre_grounding_drop_rate"):
        assert 0.0 <= figures[key] <= 1.0
