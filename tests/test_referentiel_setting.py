"""The referentiel is data chosen by a setting, and every run keeps its own.

A small second referentiel (tests/data/referentiel-mini: two competencies, a 1-3 scale, its
own vocabulary, no level model) goes through review -> decide -> finalize -> export, with
the default setting (mdc-2023) back in force for every command after the review.
"""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db.store import ReviewStore
from pipeline.errors import ReferentielError
from pipeline.referentiel import resolve_referentiel
from pipeline.review import run_review
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "referentiel-mini" / "mini-vente.yaml"
SAMPLE = ROOT / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"


def _run(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env={"DOSSIER_REVIEW_EMBEDDER": "hashing", **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_run_made_under_another_referentiel_is_decided_finalized_and_exported_under_its_own(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    dd = ["--data-dir", str(data)]
    runner = CliRunner()
    out = _run(
        runner, "review", str(SAMPLE), "--module", "E1", "--json", *dd, env={"DOSSIER_REVIEW_REFERENTIEL": str(MINI)}
    )
    review = json.loads(out[out.index("{") :])
    assert review["referentiel"] == "mini-vente@2025"
    assert [c["id"] for c in review["criteria"]] == ["C1.1", "C1.2", "C2.1"]
    # no level model for this referentiel: evidence and gaps only, never a borrowed level
    assert all(c["level"] is None and c["status"] == "à revoir" for c in review["criteria"])
    assert any(c["evidence"] for c in review["criteria"])
    assert review["provenance"]["level_model"] is None
    rid = review["run_id"]

    # from here on the setting is the default referentiel (mdc-2023): the run keeps its own
    assert Settings(data_dir=data).referentiel == "mdc-2023"
    store = ReviewStore(Settings(data_dir=data).db_url)
    assert store.referentiel(rid).ref == "mini-vente@2025"
    refused = runner.invoke(app, ["decide", rid, "C1.1", "--level", "0", "--assessor", "Ana", *dd])
    assert refused.exit_code == 2 and "hors échelle (1 à 3)" in refused.output
    assert "Dépassé" in _run(runner, "decide", rid, "C1.1", "--level", "3", "--assessor", "Ana", *dd)
    _run(runner, "decide", rid, "C1.2", "--level", "2", "--assessor", "Ana", "--comment", "comparatif clair", *dd)
    _run(runner, "decide", rid, "C2.1", "--level", "1", "--assessor", "Ana", *dd)
    final = _run(runner, "finalize", rid, "--assessor", "Ana", *dd)
    assert "C1 acquise" in final and "C2 non acquise" in final

    grid = tmp_path / "grille.docx"
    _run(runner, "export", rid, "--format", "docx", "--kind", "grid", "--out", str(grid), *dd)
    text = "\n".join(
        [p.text for p in docx.Document(str(grid)).paragraphs]
        + [c.text for t in docx.Document(str(grid)).tables for row in t.rows for c in row.cells]
    )
    assert "Conseiller de vente" in text and "Dépassé" in text and "Non atteint" in text
    assert "Manager du développement commercial" not in text
    feedback = tmp_path / "retour.json"
    _run(runner, "export", rid, "--format", "json", "--kind", "feedback", "--out", str(feedback), *dd)
    fb = json.loads(feedback.read_text(encoding="utf-8"))
    advice = [a for comp in fb["competencies"] for c in comp["criteria"] for a in c["advice"]]
    # the advice texts come from the mini referentiel's own vocabulary, whatever the setting says
    starts = tuple(t.split("{")[0].strip() for t in resolve_referentiel(str(MINI)).vocabulary.gap_advice.values())
    assert advice and all(a.startswith(starts) for a in advice)
    assert not any("Citez vos sources" in a for a in advice)


def test_unknown_referentiel_setting_is_refused_in_french(tmp_path: Path) -> None:
    with pytest.raises(ReferentielError) as e:
        resolve_referentiel("cap-cuisine")
    assert "mdc-2023" in e.value.user_message and "DOSSIER_REVIEW_REFERENTIEL" in e.value.user_message
    with pytest.raises(ReferentielError, match="version 2023, not 1999"):
        resolve_referentiel("mdc-2023@1999")
    result = CliRunner().invoke(
        app, ["referentiel", "--data-dir", str(tmp_path)], env={"DOSSIER_REVIEW_REFERENTIEL": "x"}
    )
    assert result.exit_code == 2 and "Référentiel inconnu" in result.output


def test_mdc_modules_without_a_level_model_get_evidence_only(tmp_path: Path) -> None:
    """M3 has no fitted level model: a model fitted on M1/M2 criteria is never borrowed."""
    ref = resolve_referentiel("mdc-2023")
    assert ref.level_model_path("M3") is None
    settings = Settings(data_dir=tmp_path, embedder="hashing")
    review = run_review(SAMPLE, "M3", settings, ref).review
    assert all(c.level is None for c in review.criteria)
    assert all("preuves seules" in " ".join(c.flags) for c in review.criteria)
    assert {v.verdict for v in review.competencies} == {"à vérifier"}
