"""The eval harness measures exactly what ships: same file, same settings, same review as the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from evals.harness import run_eval
from pipeline.cli import app
from pipeline.referentiel import resolve_referentiel
from pipeline.settings import Settings

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen"


def test_eval_and_cli_give_the_same_levels_and_confidences(tmp_path: Path) -> None:
    case = tmp_path / "cases" / "m2_hotel_moyen"
    case.mkdir(parents=True)
    gold = json.loads((SAMPLE_DIR / "gold.json").read_text(encoding="utf-8"))
    name = next(f for f in gold["files"] if f.endswith(".docx"))
    gold["files"] = [name]
    (case / "gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(SAMPLE_DIR / name, case / name)

    out = CliRunner().invoke(
        app,
        [
            "review",
            str(case / name),
            "--module",
            "M2",
            "--json",
            "--no-store",
            "--k",
            "8",
            "--data-dir",
            str(tmp_path / "a"),
        ],
        env={"DOSSIER_REVIEW_EMBEDDER": "hashing"},
    )
    assert out.exit_code == 0, out.output
    cli = {c["id"]: (c["level"], c["confidence"]) for c in json.loads(out.stdout[out.stdout.index("{") :])["criteria"]}

    settings = Settings(data_dir=tmp_path / "b", embedder="hashing")
    result = run_eval(tmp_path / "cases", settings, resolve_referentiel(), 8, log=lambda _m: None)
    assert not result["errors"]
    evaluated = {r["criterion"]: (r["pred"], r["confidence"]) for r in result["rows"]}
    assert evaluated == cli
    for key in ("pre_grounding_drop_rate", "non_content_quote_rate", "quote_reuse_rate", "gap_contradiction_rate"):
        assert key in result and (result[key] is None or 0 <= result[key] <= 1)
    assert {"threshold", "share", "exact", "adjacent"} <= set(result["confident"])
