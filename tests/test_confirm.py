"""`dossier-review confirm`: the terminal walk through the criteria, resumable."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db.store import ReviewStore
from pipeline.referentiel import load_referentiel
from pipeline.review import record_review, run_review
from pipeline.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"


def test_confirm_walks_accepts_sets_comments_and_resumes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, embedder="hashing")
    settings.ensure_dirs()
    ref = load_referentiel()
    store = ReviewStore(settings.db_url)
    outcome = run_review(SAMPLE, "M2", settings, ref)
    review = outcome.review
    rid = record_review(store, SAMPLE, outcome, ref, settings).run_id
    runner = CliRunner()
    # first sitting: set C6.1 to 3 with a comment, accept C6.2, then quit
    first = runner.invoke(
        app,
        ["confirm", rid, "--assessor", "Claire", "--data-dir", str(data)],
        input="c\nBonne décomposition en projets\n3\na\nq\n",
    )
    assert first.exit_code == 0, first.output
    assert "Interrompu" in first.output and "C6.1" in first.output
    decided = store.decisions(rid)
    assert decided["C6.1"].level == 3 and decided["C6.1"].comment == "Bonne décomposition en projets"
    assert decided["C6.2"].level == review.criteria[1].level and set(decided) == {"C6.1", "C6.2"}
    # second sitting resumes at C6.3 and accepts everything left
    second = runner.invoke(app, ["confirm", rid, "--assessor", "Claire", "--data-dir", str(data)], input="a\n" * 13)
    assert second.exit_code == 0, second.output
    assert "2 critère(s) déjà décidé(s), 13 à traiter" in second.output
    assert "C6.1 (" not in second.output
    assert len(store.decisions(rid)) == 15 and "finalize" in second.output
    # every key and the scale are shown as typed; each saved decision is confirmed
    assert "[a] accepter la suggestion, [0-3] niveau, [c] commenter, [s] passer, [q] quitter" in first.output
    assert "Échelle : 0 = Non démontré, 1 = Insuffisant, 2 = Satisfaisant, 3 = Maîtrisé." in first.output
    assert first.output.count("Enregistré :") == 2 and "avec commentaire" in first.output
    assert "suggested" not in first.output


def test_confirm_reminds_the_scale_and_can_walk_doubtful_criteria_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, embedder="hashing")
    ref = load_referentiel()
    store = ReviewStore(settings.db_url)
    outcome = run_review(SAMPLE, "M2", settings, ref)
    rid = record_review(store, SAMPLE, outcome, ref, settings).run_id
    result = CliRunner().invoke(
        app, ["confirm", rid, "--assessor", "Claire", "--doubtful-first", "--data-dir", str(data)], input="5\n?\nq\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Réponse non comprise") == 2 and "Échelle : 0 = Non démontré" in result.output
    least = min(outcome.review.criteria, key=lambda c: (c.level is not None, c.confidence))
    assert f"{least.criterion_id} (1/15)" in result.output
    assert not store.decisions(rid)


def test_the_hints_printed_after_review_and_confirm_work_as_pasted(tmp_path: Path) -> None:
    import shlex

    data = tmp_path / "donnees dr"  # a space in the path: the hint must quote it
    runner = CliRunner()
    env = {"DOSSIER_REVIEW_EMBEDDER": "hashing", "COLUMNS": "300"}
    reviewed = runner.invoke(app, ["review", str(SAMPLE), "--module", "M2", "--data-dir", str(data)], env=env)
    assert reviewed.exit_code == 0, reviewed.output
    hint = reviewed.output.split("Suite : ", 1)[1].splitlines()[0]
    argv = shlex.split(hint)
    assert argv[0] == "dossier-review" and "--data-dir" in argv and "--assessor" in argv
    walked = runner.invoke(app, argv[1:], env=env, input="a\n" * 15)
    assert walked.exit_code == 0, walked.output
    final = walked.output.split("Tous les critères sont décidés : ", 1)[1].splitlines()[0]
    finalized = runner.invoke(app, shlex.split(final)[1:], env=env)
    assert finalized.exit_code == 0 and "verrouillée" in finalized.output, finalized.output
