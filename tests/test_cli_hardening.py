"""Issue 14 findings 6 and 8 through the CLI: CSV formula injection in the cohort export, and user
strings (file names) read as terminal markup."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.reports.csv_safe import FORMULA_STARTS, neutralise

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
FORMULA = '=HYPERLINK("http://x","clic")'
MARKUP_NAME = "y[link=x.example]clic.docx"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("DOSSIER_REVIEW_EMBEDDER", "hashing")
    monkeypatch.setenv("DOSSIER_REVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def _ok(cli: CliRunner, *args: str) -> str:
    r = cli.invoke(app, list(args))
    assert r.exit_code == 0, (r.output, r.exception)
    return r.output


def test_neutralise_every_formula_start() -> None:
    for start in FORMULA_STARTS:
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("Cand. 07") == "Cand. 07" and neutralise("2 (suggéré)") == "2 (suggéré)"
    assert neutralise(-1) == -1 and neutralise(2.5) == 2.5  # numbers stay numbers


def test_cohort_csv_from_the_cli_keeps_a_formula_name_as_text(cli: CliRunner, tmp_path: Path) -> None:
    review = json.loads(_ok(cli, "review", str(SAMPLE), "--module", "M2", "--json", "--candidate", FORMULA))
    out = tmp_path / "cohorte"
    _ok(cli, "cohort", review["run_id"], "--out", str(out))
    for name in ("cohort.csv", "most_missed.csv"):
        with (out / name).open(encoding="utf-8-sig", newline="") as f:
            cells = [c for row in csv.reader(f, delimiter=";") for c in row]
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)], name
    with (out / "cohort.csv").open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f, delimiter=";"))
    assert header[1] == "'" + FORMULA


def test_file_names_are_not_terminal_markup(cli: CliRunner, tmp_path: Path) -> None:
    missing = cli.invoke(app, ["parse", str(tmp_path / MARKUP_NAME)])
    assert missing.exit_code == 2
    assert MARKUP_NAME in missing.output and "yclic.docx" not in missing.output
    named = tmp_path / MARKUP_NAME
    shutil.copyfile(SAMPLE, named)
    shown = _ok(cli, "parse", str(named))
    assert MARKUP_NAME in shown
