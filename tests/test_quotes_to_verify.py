"""Quotes from passages whose characters may be misread (an `encoding` finding: glyphs without a
usable Unicode map) are marked « à vérifier sur le document » in every assessor output: the
review JSON, the Markdown report, the grid (DOCX and HTML) and the web review page (issue 12)."""

from __future__ import annotations

from pathlib import Path

from pipeline.chunking import chunk_dossier
from pipeline.referentiel import load_referentiel
from pipeline.reports.grid import evidence_places
from pipeline.reports.grid_data import EvidenceRef
from pipeline.reports.review_doc import review_json, review_markdown
from pipeline.review import ground_drafts
from pipeline.types import CriterionDraft, Evidence, Provenance, Review, RunProvenance
from tests.test_ingest_reading import Pdf, read, text

CLEAN = "Le plan d’actions commerciales fixe trois priorités chiffrées pour la région."


def garbled_pdf() -> bytes:
    """A page whose font maps one glyph to '#' (no ligature explains it), then a clean paragraph."""
    pdf = Pdf()
    pdf.tounicode_font("F3", {0x80: "#"})
    # one paragraph wrapped over four lines (its lines go on in lower case: a line starting with a
    # capital under a short line is a line of its own, as on a title page)
    c = "".join(
        f"BT /F3 11 Tf 72 {760 - 16 * i} Td ({article} pro\\200et num\\200ro {i} con\\200erne la r\\200gion) Tj ET\n"
        for i, article in enumerate(("Le", "le", "le", "le"))
    )
    c += text(72, 600, CLEAN)
    pdf.page(c)
    return pdf.bytes()


def test_quotes_from_garbled_passages_are_marked_in_every_output(tmp_path: Path) -> None:
    d = read(tmp_path, "illisible.pdf", garbled_pdf())
    assert [f for f in d.findings if f.kind == "encoding"]
    chunks = chunk_dossier(d)
    garbled_chunk = next(c for c in chunks if "num#ro 1" in c.text)
    clean_chunk = next(c for c in chunks if CLEAN[:30] in c.text)
    ref = load_referentiel()
    cid = ref.criteria_for("M1")[0].id
    draft = CriterionDraft(
        criterion_id=cid,
        level=2,
        confidence=0.7,
        rationale="Test.",
        evidence=[
            Evidence(chunk_id=garbled_chunk.id, quote="le pro#et num#ro 1 con#erne la r#gion"),
            Evidence(chunk_id=clean_chunk.id, quote=CLEAN),
        ],
        provenance=Provenance(backend="offline"),
    )
    ground_drafts(d, chunks, {cid: draft})
    assert [e.to_verify for e in draft.evidence] == [True, False]

    review = Review(
        run_id="r1",
        file=d.file,
        dossier_sha256=d.sha256,
        module="M1",
        referentiel="mdc-2023@test",
        created_at="2026-11-28",
        findings=d.findings,
        criteria=[draft],
        competencies=[],
        provenance=RunProvenance(backend="offline"),
    )
    evidence = review_json(review, ref)["criteria"][0]["evidence"]
    assert [e["to_verify"] for e in evidence] == [True, False]
    md = review_markdown(review, ref)
    garbled_line = next(ln for ln in md.splitlines() if "num#ro 1" in ln)
    clean_line = next(ln for ln in md.splitlines() if CLEAN[:30] in ln)
    assert "à vérifier sur le document" in garbled_line
    assert "à vérifier sur le document" not in clean_line

    refs = [EvidenceRef(quote=e.quote, page=e.page, section=e.section, to_verify=e.to_verify) for e in draft.evidence]
    assert evidence_places(refs) == "p. 1 (dont 1 à vérifier sur le document)"
    assert "à vérifier" not in evidence_places(refs[1:])


def test_a_clean_dossier_marks_no_quote(tmp_path: Path) -> None:
    pdf = Pdf()
    pdf.page(text(72, 760, CLEAN) + text(72, 700, "La ges#on des comptes clés est confiée à R&D."))
    d = read(tmp_path, "propre.pdf", pdf.bytes())
    assert not [f for f in d.findings if f.kind == "encoding"]  # one odd word is no encoding finding
    chunks = chunk_dossier(d)
    draft = CriterionDraft(
        criterion_id="C1.1",
        level=1,
        confidence=0.5,
        rationale="Test.",
        evidence=[Evidence(chunk_id=chunks[0].id, quote="La ges#on des comptes clés est confiée")],
        provenance=Provenance(backend="offline"),
    )
    ground_drafts(d, chunks, {"C1.1": draft})
    assert [e.to_verify for e in draft.evidence] == [False]


def test_a_quote_is_located_in_the_chunk_it_cites_and_a_piece_of_a_title_is_no_evidence(tmp_path: Path) -> None:
    """The same words stand in a title on page 1 and in a paragraph on page 2 (an agenda slide,
    a title restated): a quote cited from page 2's chunk was located at the title, page 1, and
    audited as a heading. It is located where its chunk is; a quote that is only a piece of a
    title (« présentation des outils utilisés » of « II. Etat de l’art et présentation des outils
    utilisés ») is dropped as a title is."""
    words = "Etat de l’art et présentation des outils"
    pdf = Pdf()
    pdf.page(text(72, 760, "II. " + words + " utilisés", 18, "F2") + text(72, 730, CLEAN))
    pdf.page(text(72, 760, "Nous avons comparé trois solutions : " + words + " retenus pour le suivi."))
    d = read(tmp_path, "agenda.pdf", pdf.bytes())
    chunks = chunk_dossier(d)
    later = next(c for c in chunks if "comparé trois solutions" in c.text)
    title = next(c for c in chunks if "II. Etat" in c.text)
    cid = load_referentiel().criteria_for("M1")[0].id
    draft = CriterionDraft(
        criterion_id=cid,
        level=None,
        confidence=0.5,
        rationale="",
        evidence=[
            Evidence(chunk_id=later.id, quote=words),
            Evidence(chunk_id=title.id, quote="présentation des outils utilisés"),
        ],
        provenance=Provenance(backend="offline"),
    )
    ground_drafts(d, chunks, {cid: draft})
    assert [(e.quote, e.page) for e in draft.evidence] == [(words, 2)]
    start = draft.evidence[0].start
    assert start is not None and start > d.text.index("comparé trois solutions")
    assert any("titre" in f for f in draft.flags)
