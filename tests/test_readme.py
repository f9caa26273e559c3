"""The README says what the code does: its settings table and its sample counts come from the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_settings_table_matches_settings() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings_table.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_sample_counts_match_samples() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    splits = json.loads((ROOT / "samples" / "splits.json").read_text(encoding="utf-8"))
    golds = list((ROOT / "samples").glob("*/gold.json"))
    for m in re.finditer(r"(\d+) labelled (?:French )?dossiers", readme):
        assert int(m.group(1)) == len(golds), m.group(0)
    assert len(splits["dev"]) + len(splits["test"]) == len(golds)
    assert f"{len(splits['dev'])} dossiers are\n`dev`" in readme or f"{len(splits['dev'])} dossiers are `dev`" in readme
