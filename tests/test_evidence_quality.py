"""Evidence an assessor can use: content not labels, specific not generic, gaps that are true."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import docx
import pytest

from evals.quality import audit_quotes
from pipeline.drafting.evidence import MAX_REUSE
from pipeline.noncontent import NonContent
from pipeline.referentiel import Referentiel, resolve_referentiel
from pipeline.review import run_review
from pipeline.settings import Settings
from pipeline.textnorm import clip

GENERIC = "Cette politique commerciale n’est donc plus cohérente avec la stratégie globale de l’entreprise."


@pytest.fixture(scope="module")
def ref() -> Referentiel:
    return resolve_referentiel()


def _dossier(path: Path) -> Path:
    """An M1 dossier whose labels (headings, captions, table headers) use the criteria's own words."""
    d = docx.Document()
    d.add_heading("Système de veille et sources d’information", level=1)
    d.add_paragraph(
        "Nous avons mis en place en janvier 2025 un dispositif de veille concurrentielle et réglementaire : "
        "chaque lundi, la responsable marketing consulte les alertes Google, les flux RSS de LSA et les "
        "publications de l’INSEE, puis diffuse une synthèse de deux pages au comité de direction."
    )
    d.add_paragraph("Tableau 3 : Plan de veille, sources principales, responsables et fréquence de diffusion")
    t = d.add_table(rows=3, cols=5)
    for i, h in enumerate(("Axe de veille", "Sources principales", "Responsable", "Fréquence", "Diffusion")):
        t.rows[0].cells[i].text = h
    for r, row in enumerate(
        (
            ("Concurrence", "LSA, sites des concurrents", "Marketing", "Hebdomadaire", "Comité de direction"),
            ("Réglementation", "Légifrance, fédération", "Qualité", "Mensuelle", "Équipe qualité"),
        ),
        1,
    ):
        for i, v in enumerate(row):
            t.rows[r].cells[i].text = v
    d.add_heading("Analyse du marché et de la concurrence", level=1)
    d.add_paragraph(
        "Selon Xerfi (2024), le marché français du biscuit pèse 2,1 milliards d’euros et progresse de 1,8 % par "
        "an ; les trois premiers concurrents détiennent 46 % des parts de marché en grande distribution."
    )
    d.add_paragraph(GENERIC)
    d.add_heading("Positionnement et stratégie", level=1)
    d.add_paragraph(GENERIC)
    d.add_paragraph(
        "Notre positionnement premium repose sur le beurre AOP et une fabrication artisanale ; le prix moyen au "
        "kilo est 28 % au-dessus de la moyenne du rayon, ce que confirment nos tests consommateurs de mars 2025."
    )
    d.add_heading("Engagements RSE", level=1)
    d.add_paragraph("Notre bilan carbone 2024 montre que 71 % des émissions viennent des matières premières.")
    d.save(str(path))
    return path


def test_labels_are_never_evidence_and_generic_sentences_are_not_everywhere(tmp_path: Path, ref: Referentiel) -> None:
    path = _dossier(tmp_path / "d.docx")
    outcome = run_review(path, "M1", Settings(data_dir=tmp_path / "data", embedder="hashing"), ref)
    labels = NonContent.of(outcome.dossier)
    quotes = [e.quote for d in outcome.review.criteria for e in d.evidence]
    assert quotes, "the dossier has content: some criteria must be evidenced"
    assert not [q for q in quotes if q in labels]
    assert "Axe de veille | Sources principales | Responsable | Fréquence | Diffusion" not in quotes
    assert not any(q.startswith("Tableau 3") for q in quotes)
    # a general sentence is shown for MAX_REUSE criteria at most when other content is available
    assert Counter(quotes)[GENERIC] <= MAX_REUSE
    audit = audit_quotes("case", "test", outcome.dossier, outcome.review, ref)
    assert audit.non_content == 0


def test_gaps_are_checked_against_the_quotes_and_the_whole_dossier(tmp_path: Path, ref: Referentiel) -> None:
    path = _dossier(tmp_path / "d.docx")
    outcome = run_review(path, "M1", Settings(data_dir=tmp_path / "data", embedder="hashing"), ref)
    audit = audit_quotes("case", "test", outcome.dossier, outcome.review, ref)
    assert audit.contradicted == 0  # no gap names what the criterion's own quotes show
    for d in outcome.review.criteria:
        assert [g.text for g in d.gaps] == d.missing
        for g in d.gaps:
            if g.kind == "vocabulary" and g.mentioned:
                assert "mentionné" in g.text and "non développé" in g.text
                assert all(m.section for m in g.mentioned)
            if g.kind == "no_evidence":
                assert not d.evidence


def test_present_says_what_this_criterions_quotes_show(tmp_path: Path, ref: Referentiel) -> None:
    path = _dossier(tmp_path / "d.docx")
    review = run_review(path, "M1", Settings(data_dir=tmp_path / "data", embedder="hashing"), ref).review
    with_figures = [d for d in review.criteria if any("46 %" in e.quote for e in d.evidence)]
    for d in with_figures:
        assert any(p.startswith("Données chiffrées : ") and "46 %" in p for p in d.present)
    presents = {tuple(d.present) for d in review.criteria if d.evidence}
    assert len(presents) > 1  # not the same generic list for every criterion


def test_clipped_quotes_end_at_a_word_with_an_ellipsis() -> None:
    text = "Le chiffre d’affaires progresse de 12 % grâce à la refonte du site marchand et des boutiques"
    short = clip(text, 40)
    assert short.endswith(" […]") and len(short) <= 40
    assert text.startswith(short.removesuffix(" […]"))
    assert clip("court", 40) == "court"


def test_a_dossier_that_does_not_fit_its_module_is_warned_about(tmp_path: Path, ref: Referentiel) -> None:
    d = docx.Document()
    d.add_heading("Recette de la tarte aux pommes", level=1)
    for _ in range(3):
        d.add_paragraph("Éplucher six pommes, les couper en lamelles et les disposer sur la pâte brisée étalée.")
        d.add_paragraph("Cuire quarante minutes à four chaud puis laisser tiédir avant de servir avec de la crème.")
    d.save(str(tmp_path / "recette.docx"))
    review = run_review(
        tmp_path / "recette.docx", "M1", Settings(data_dir=tmp_path / "data", embedder="hashing"), ref
    ).review
    assert any(w.startswith("Ce dossier correspond mal au module M1") for w in review.warnings)
    fitting = run_review(
        _dossier(tmp_path / "d.docx"), "M1", Settings(data_dir=tmp_path / "data", embedder="hashing"), ref
    )
    assert not any("correspond mal" in w for w in fitting.review.warnings)


def test_numbered_headings_are_labels_without_their_number_too(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("2. S’informer autrement : le dispositif de veille", level=1)
    d.add_heading("Partie 3 : Segments, clients et attentes", level=2)
    d.add_paragraph("Tableau 4 – Synthèse des décisions proposées au comité")
    d.add_paragraph("Nous suivons chaque semaine les prix de nos trois concurrents directs.")
    d.save(str(tmp_path / "n.docx"))
    from pipeline.ingest import ingest

    labels = NonContent.of(ingest(tmp_path / "n.docx", Settings(data_dir=tmp_path / "data")))
    assert "S’informer autrement : le dispositif de veille" in labels
    assert "Segments, clients et attentes" in labels
    assert "Tableau 4 – Synthèse des décisions proposées au comité" in labels  # a caption, by its shape
    assert "Nous suivons chaque semaine les prix de nos trois concurrents directs." not in labels


def test_the_title_page_is_not_evidence_but_a_deck_of_short_bullets_is(tmp_path: Path) -> None:
    from pipeline.ingest import ingest

    d = docx.Document()
    d.add_heading("Brasserie du Causse : plan d’actions commerciales 2025-2027", level=1)
    d.add_paragraph("Étude de cas M2 — conception d’un plan d’actions commerciales", style="List Bullet")
    d.add_paragraph("Candidat : Léa Fabre")
    d.add_heading("Le point de départ", level=1)
    d.add_paragraph("Lancement de trois projets pilotes au premier trimestre 2025")
    d.save(str(tmp_path / "t.docx"))
    labels = NonContent.of(ingest(tmp_path / "t.docx", Settings(data_dir=tmp_path / "data")))
    assert "Étude de cas M2 — conception d’un plan d’actions commerciales" in labels
    assert "Candidat : Léa Fabre" in labels
    assert "Lancement de trois projets pilotes au premier trimestre 2025" not in labels  # content, after the title


def test_a_title_and_subtitle_read_as_two_headings_open_one_title_page(tmp_path: Path) -> None:
    """A Google Docs export has no Title style: its title and subtitle are bold large paragraphs, read
    as two headings in a row. The author and date lines under them are still the title page (they
    were embedded and retrieved as a passage for C4.4 on a dossier of blind round 5), and the first
    short line under the first section heading is still content."""
    from pipeline.ingest import ingest

    d = docx.Document()
    for text, size in (("La Popote Alpine : livrer le déjeuner", 20), ("Dossier d’étude de cas 2025-2026", 14)):
        run = d.add_paragraph().add_run(text)
        run.bold, run.font.size = True, docx.shared.Pt(size)
    d.add_paragraph("Samir Benhaddou (La Popote Alpine SARL)")
    d.add_paragraph("Module M1 · Février 2025")
    run = d.add_paragraph().add_run("Avant de commencer")
    run.bold, run.font.size = True, docx.shared.Pt(16)
    d.add_paragraph("Trois camions et une cuisine à Grenoble")
    d.add_paragraph("Je m’appelle Samir et j’ai créé La Popote en 2017 avec Léa, qui tient la cuisine depuis le début.")
    d.save(str(tmp_path / "t.docx"))
    dossier = ingest(tmp_path / "t.docx", Settings(data_dir=tmp_path / "data"))
    assert [b.kind for b in dossier.blocks[:2]] == ["heading", "heading"]
    labels = NonContent.of(dossier)
    assert "Samir Benhaddou (La Popote Alpine SARL)" in labels
    assert "Module M1 · Février 2025" in labels
    assert "Trois camions et une cuisine à Grenoble" not in labels


def test_no_figures_or_dates_gap_under_quotes_that_count_or_time_things(tmp_path: Path, ref: Referentiel) -> None:
    """« Pas de données chiffrées » under « entre 10 et 20 références », or « Pas de dates » under
    « Année 2 », contradicts the quote: a counted quantity and a time in the plan count, a number
    that names a thing (« Tableau 3 », « Phase 2 ») or a year does not count as a figure."""
    from pipeline.drafting.features import signal_patterns

    patterns = signal_patterns(ref.vocabulary)
    assert patterns.loosely_found("figures", "La gamme compte entre 10 et 20 références selon les saisons")
    assert patterns.loosely_found("figures", "Nous suivons 3 concurrents directs et 1 250 comptes actifs")
    for text in (
        "Voir le Tableau 3 Chiffres clés",
        "Phase 2 (Lancement) : contenus",
        "En 2024 nous avons",
        "C4.2 mention",
    ):
        assert not patterns.loosely_found("figures", text), text
    assert patterns.loosely_found("dates", "Année 2 : ouverture de la seconde boutique")
    assert patterns.loosely_found("dates", "Bilan à M+3 puis d’ici deux ans")
    assert not patterns.loosely_found("dates", "Nous visons une clientèle premium")

    d = docx.Document()
    d.add_heading("Offre et gamme", level=1)
    d.add_paragraph(
        "Notre gamme de biscuits artisanaux compte entre 10 et 20 références selon les saisons, vendues dans "
        "12 boutiques de la région ; la largeur de gamme reste étroite mais chaque référence est rentable."
    )
    d.add_heading("Plan de développement", level=1)
    d.add_paragraph(
        "Année 1 : consolidation de la clientèle actuelle et lancement de la vente en ligne. Année 2 : ouverture "
        "d’une seconde boutique et recrutement d’un commercial. Un premier bilan est fait à M+6."
    )
    d.save(str(tmp_path / "plan.docx"))
    review = run_review(
        tmp_path / "plan.docx", "M1", Settings(data_dir=tmp_path / "data", embedder="hashing"), ref
    ).review
    checked = 0
    for c in review.criteria:
        quotes = " ".join(e.quote for e in c.evidence)
        kinds = {g.kind for g in c.gaps}
        if patterns.loosely_found("figures", quotes):
            assert "figures" not in kinds, (c.criterion_id, quotes)
            checked += 1
        if patterns.loosely_found("dates", quotes):
            assert "dates" not in kinds, (c.criterion_id, quotes)
            checked += 1
    assert checked, "some criteria quote the counted or timed sentences"


def test_a_row_of_column_names_read_alone_is_a_label_not_evidence(tmp_path: Path) -> None:
    """A PESTEL whose header row was read as a table of one row (its cells, long paragraphs, read
    apart) had « Politique | Économique | Sociologique | … » quoted as evidence for C4.8 in a real
    market study. A lone row of short names is a header row; a lone row of content is not."""
    from pipeline.ingest import ingest

    d = docx.Document()
    d.add_heading("Analyse PESTEL", level=1)
    names = ("Politique", "Économique", "Sociologique", "Technologique", "Environnemental", "Légal")
    header = d.add_table(rows=1, cols=6)
    for i, name in enumerate(names):
        header.rows[0].cells[i].text = name
    d.add_paragraph("Le cadre réglementaire du numérique se durcit avec le RGPD et la directive NIS 2 en 2024.")
    row = d.add_table(rows=1, cols=3)
    for i, v in enumerate(("Ressources financières", "Coûts fixes faibles (petite structure)", "Capacité limitée")):
        row.rows[0].cells[i].text = v
    d.save(str(tmp_path / "pestel.docx"))
    dossier = ingest(tmp_path / "pestel.docx", Settings(data_dir=tmp_path / "data"))
    labels = NonContent.of(dossier)
    assert " | ".join(names) in labels and "Économique" in labels
    assert "Ressources financières | Coûts fixes faibles (petite structure) | Capacité limitée" not in labels
