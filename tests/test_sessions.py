"""Certification sessions: the issue's "Done when" as a script, and the feedback that follows the
final decision.

The scripted run: 12 manifest rows (10 sample dossiers, 2 broken files), `session add` killed
mid-way and run again (nothing reviewed twice), two assessors deciding everything under double
marking, disagreements moderated by a third person, then the minutes, results and grids, whose
text names every candidate and bloc result; rendered pages have no empty header field.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from pipeline.db.models import AuditRow, RunRow
from pipeline.db.sessions import SessionStore
from pipeline.db.store import ReviewStore
from pipeline.errors import ReviewError, StorageError
from pipeline.referentiel import resolve_referentiel
from pipeline.reports.feedback import feedback_json
from pipeline.reports.grid import grid_docx, grid_html
from pipeline.reports.grid_data import build_grid_doc
from pipeline.review import review_and_record
from pipeline.sessions import assign_in_turn, moderate, session_results, status_json
from pipeline.settings import Settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DR = [str(Path(sys.executable).with_name("dossier-review"))]  # the installed console script
ENV = {**os.environ, "DOSSIER_REVIEW_EMBEDDER": "hashing"}
M1 = [
    "m1_agence_faible/m1_agence_faible.docx",
    "m1_biscuiterie_fort/m1_biscuiterie_fort.docx",
    "m1_cooperative_faible/m1_cooperative_faible.docx",
    "m1_cosmetiques_moyen/m1_cosmetiques_moyen.docx",
    "m1_materiaux_faible/m1_materiaux_faible.pdf",
    "m1_occasion_moyen/m1_occasion_moyen.pdf",
    "m1_petfood_moyen/m1_petfood_moyen.docx",
    "m1_textile_fort/m1_textile_fort.docx",
    "m1_transport_fort/m1_transport_fort.pdf",
    "m1_vins_moyen/m1_vins_moyen.docx",
]
NAMES = [
    "Amélie Roux",
    "Bruno Lefèvre",
    "Chloé N’Diaye",
    "David Martin",
    "Élise Garnier",
    "=Farid Benali",
    "Gaëlle Morel",
    "Hugo Perrin",
    "Inès Faure",
    "Jules Caron",
]


def _cli(*args: str, data: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*DR, *args, "--data-dir", str(data)], capture_output=True, text=True, env=ENV, timeout=900)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def _manifest(tmp: Path) -> Path:
    folder = tmp / "depot"
    folder.mkdir()
    (folder / "vide.pdf").write_bytes(b"")
    (folder / "pas_un_docx.docx").write_text("ceci n'est pas un document Word", encoding="utf-8")
    rows = [("candidate", "file", "group")]
    for name, rel in zip(NAMES, M1, strict=True):
        shutil.copyfile(SAMPLES / rel, folder / Path(rel).name)
        rows.append((name, Path(rel).name, "Lyon"))  # relative: read from the manifest's folder
        if len(rows) == 4:
            rows.append(("Karim Vide", "vide.pdf", "Lyon"))
        if len(rows) == 8:
            rows.append(("Léa Cassé", "pas_un_docx.docx", "Lyon"))
    manifest = folder / "manifeste.csv"
    with manifest.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return manifest


def _reviewed(data: Path) -> int:
    db = data / "dossier-review.db"
    if not db.exists():
        return 0
    try:
        store = ReviewStore(f"sqlite:///{db}", migrate=False)
        return store.count(RunRow)
    except Exception:  # the batch may hold the write lock or be creating tables
        return 0


@pytest.mark.slow
def test_a_session_from_manifest_to_minutes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    manifest = _manifest(tmp_path)
    sid = _cli("session", "create", "MDC juin 2027", "--module", "M1", "--double-marking", data=data).stdout.split()[-1]

    # 1. the batch is killed once two dossiers are stored, then run again to the end
    proc = subprocess.Popen(
        [*DR, "session", "add", sid, str(manifest), "--data-dir", str(data)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while _reviewed(data) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _reviewed(data)
    assert 2 <= done_before < 10
    rerun = _cli("session", "add", sid, str(manifest), data=data)
    assert "ERREUR" in rerun.stdout and "déjà fait" in rerun.stdout, rerun.stdout
    assert "Karim Vide" in rerun.stdout and "Léa Cassé" in rerun.stdout

    settings = Settings(data_dir=data, embedder="hashing")
    store = ReviewStore(settings.db_url)
    with store.session() as s:
        reviews = list(s.scalars(select(AuditRow).where(AuditRow.action == "review")))
    assert len(reviews) == 10 and store.count(RunRow) == 10, "a dossier was reviewed twice"

    status = json.loads(_cli("session", "status", sid, "--json", data=data).stdout)
    assert status["session"] == "MDC juin 2027" and status["module"] == "M1"
    by_name = {d["candidate"]: d for d in status["dossiers"]}
    assert len(by_name) == 12
    for d in status["dossiers"]:
        assert {"candidate", "file", "run_id", "status", "assessors", "verdicts"} <= set(d)
    assert by_name["Karim Vide"]["status"] == "erreur" and by_name["Karim Vide"]["run_id"] is None
    assert "vide" in by_name["Karim Vide"]["error"].lower()
    assert by_name["Léa Cassé"]["error"] and by_name["Léa Cassé"]["run_id"] is None

    # 2. two assessors each, in turn; neither sees anything of the other's levels until both finalize
    team = [("Claire Petit", None), ("Marc Lenoir", None), ("Nadia Blanc", None)]
    assign_in_turn(store, settings, sid, team, "secrétariat")
    ref = resolve_referentiel()
    criteria = [k.id for k in ref.criteria_for("M1")]
    _, results = session_results(store, sid)
    reviewed = [r for r in results if r.member.run_id]
    assert len(reviewed) == 10
    for i, r in enumerate(reviewed):
        assert len(r.markers) == 2 and r.markers[0].run_id != r.markers[1].run_id
        first, second = r.markers
        for cid in criteria:
            store.decide(first.run_id or "", cid, 2, first.assessor, f"{first.assessor} : lu {cid}")
        store.finalize(first.run_id or "", first.assessor)
        half = status_json(store, sid)["dossiers"][
            [d["candidate"] for d in status["dossiers"]].index(r.member.candidate)
        ]
        assert half["verdicts"] == {} and half["disagreements"] == [] and half["status"] == "en évaluation"
        for j, cid in enumerate(criteria):
            level = 1 if (j + i) % 7 == 0 else 2
            store.decide(second.run_id or "", cid, level, second.assessor)
        store.finalize(second.run_id or "", second.assessor)

    # 3. disagreements listed, then moderated by a third person (never by one of the two)
    _, results = session_results(store, sid)
    to_moderate = [(r, d) for r in results for d in r.disagreements]
    assert to_moderate and all(r.state == "moderation" for r, _ in to_moderate)
    r0, d0 = to_moderate[0]
    with pytest.raises(ReviewError) as e:
        moderate(store, sid, r0.member.candidate, d0.criterion_id, 2, d0.assessors[0])
    assert "troisième personne" in e.value.user_message
    for k, (r, d) in enumerate(to_moderate):
        moderate(store, sid, r.member.candidate, d.criterion_id, 1 if k % 2 else 2, "Jeanne Moreau", "relecture")
    _, results = session_results(store, sid)
    assert all(r.closed for r in results if r.member.run_id)
    assert all(r.blocs.get("B1") in ("validé", "non validé") for r in results if r.member.run_id)

    # 4. exports: minutes, results CSV, grids; every candidate and bloc result in them
    out = tmp_path / "out"
    _cli("session", "export", sid, "--kind", "minutes", "--format", "docx", "--out", str(out / "pv.docx"), data=data)
    _cli("session", "export", sid, "--kind", "results", "--format", "csv", "--out", str(out / "res.csv"), data=data)
    _cli("session", "export", sid, "--kind", "grids", "--format", "docx", "--out", str(out / "grilles.docx"), data=data)
    minutes_text = _docx_text(out / "pv.docx")
    grids_text = _docx_text(out / "grilles.docx")
    for r in results:
        assert r.member.candidate in minutes_text
        if r.member.run_id:
            assert r.member.candidate in grids_text
    assert minutes_text.count("non validé") + minutes_text.count("validé") >= 10
    assert "Jeanne Moreau" in minutes_text and "Décisions de modération" in minutes_text
    assert "Le président du jury" in minutes_text and "Le président du jury" in grids_text
    assert "Bloc B1" in grids_text and "Une compétence est acquise lorsque" in grids_text
    rows = list(csv.reader((out / "res.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert len(rows) == 13 and "bloc B1" in rows[0]
    assert "'=Farid Benali" in [row[2] for row in rows], "formula cell not neutralised"

    # 5. rendered pages: no empty header field
    if shutil.which("soffice") and shutil.which("pdftotext"):
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(out / "grilles.docx")],
            capture_output=True,
            timeout=300,
            check=True,
        )
        text = subprocess.run(
            ["pdftotext", "-layout", str(out / "grilles.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "—  —" not in text and "Grille d’évaluation —  " not in text
        for name in (r.member.candidate for r in reviewed):
            assert f"Grille d’évaluation — {name} — MDC juin 2027 — module M1" in text


def _docx_text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
    return "\n".join(parts)


def test_finalized_feedback_follows_the_assessor(tmp_path: Path) -> None:
    """A criterion the tool found nothing for, raised to 2 by the assessor: the feedback quotes
    the comment, gives the level's meaning (not its number) and never says nothing addresses it."""
    settings = Settings(data_dir=tmp_path / "d", embedder="hashing", organisation="Institut Exemple")
    store = ReviewStore(settings.db_url)
    ref = resolve_referentiel()
    sample = SAMPLES / "m1_agence_faible" / "m1_agence_faible.docx"
    outcome, rec = review_and_record(store, sample, "M1", settings, ref, candidate_ref="Amélie Roux")
    # the criterion the tool found least for (no evidence at all, when there is one)
    raised = min(
        outcome.review.criteria, key=lambda d: (not any(g.kind == "no_evidence" for g in d.gaps), len(d.evidence))
    ).criterion_id
    for d in outcome.review.criteria:
        level, comment = (2, "Analyse présente en annexe B, bien argumentée.") if d.criterion_id == raised else (1, "")
        store.decide(rec.run_id, d.criterion_id, level, "Claire Petit", comment)
    store.finalize(rec.run_id, "Claire Petit")
    fb = feedback_json(build_grid_doc(store, rec.run_id), organisation=settings.organisation)
    crit = next(c for comp in fb["competencies"] for c in comp["criteria"] if c["id"] == raised)
    assert crit["comment"] == "Analyse présente en annexe B, bien argumentée."
    assert crit["assessment"] == ref.scale.levels[2].meaning and crit["level"] is None
    text = json.dumps(crit, ensure_ascii=False)
    assert "Aucun passage" not in text and "ne traite" not in text and "passages retenus" not in text
    assert crit["credited"] is True
    assert any(raised in s for s in fb["strengths"]) and fb["priorities"]
    assert fb["organisation"] == "Institut Exemple" and fb["dated"]
    assert not fb["provisional"]


def test_session_store_refuses_unknown_ids_and_keeps_members_on_rerun(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", embedder="hashing")
    store = ReviewStore(settings.db_url)
    sessions = SessionStore(store)
    sid = sessions.create("Session test", "M2", "mdc-2023@2023", False, "admin")
    a = sessions.member_for(sid, "Ana", "a.pdf", "G", "/x/a.pdf")
    b = sessions.member_for(sid, "Ana", "a.pdf", "G", "/y/a.pdf")
    assert a.id == b.id and len(sessions.members(sid)) == 1
    with pytest.raises(StorageError) as e:
        sessions.get("0" * 32)
    assert "introuvable" in e.value.user_message
    assert status_json(store, sid)["dossiers"][0]["status"] == "en attente"


def test_grid_of_a_run_without_candidate_name_has_no_empty_field(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", embedder="hashing")
    store = ReviewStore(settings.db_url)
    ref = resolve_referentiel()
    sample = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    outcome, rec = review_and_record(store, sample, "M2", settings, ref)  # no candidate reference given
    for d in outcome.review.criteria:
        store.decide(rec.run_id, d.criterion_id, 2, "Claire Petit")
    store.finalize(rec.run_id, "Claire Petit")
    doc = build_grid_doc(store, rec.run_id)
    grid_docx(doc, tmp_path / "g.docx")
    text = _docx_text(tmp_path / "g.docx")
    assert "—  —" not in text and "Grille d’évaluation — m2_hotel_moyen.docx — module M2" in text
    assert "(référentiel 2023) (version 2023)" not in text and "non renseigné" in text
    assert "Résultat du module M2" in text and "Bloc B2" in text and "validé" in text
    assert "Le président du jury" in text and "Une compétence est acquise lorsque" in text
    html = grid_html(doc)
    assert "Résultat du module M2" in html and "Le président du jury" in html


def test_feedback_never_contradicts_a_raised_criterion() -> None:
    """The tool found nothing for C1.3 (a `no_evidence` gap); the assessor gave it 2 with a comment."""
    from tests.test_reports import make_doc

    doc = make_doc(final=True)
    c1 = doc.competencies[0]
    raised = c1.criteria[2].model_copy(
        update={"confirmed_level": 2, "confirmed_label": "Satisfaisant", "comment": "Traité en annexe B."}
    )
    decided = [c.model_copy(update={"confirmed_level": c.confirmed_level or 1}) for c in c1.criteria[:2]]
    doc = doc.model_copy(
        update={"competencies": [c1.model_copy(update={"criteria": [*decided, raised]}), *doc.competencies[1:]]}
    )
    fb = feedback_json(doc, organisation="Institut Exemple")
    crit = fb["competencies"][0]["criteria"][2]
    assert crit["comment"] == "Traité en annexe B." and crit["credited"]
    assert crit["assessment"] == doc.scale[2][2] and crit["level"] is None
    assert "Aucun passage" not in json.dumps(crit, ensure_ascii=False)
    assert "ne traite" not in json.dumps(crit, ensure_ascii=False)
    assert fb["organisation"] == "Institut Exemple"
