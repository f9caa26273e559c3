"""Structure of short notes (issue 12): a title over the whole document does not make it one
section, a date under the title is no heading, and bold labels standing over a paragraph
('Etape 1 :') are headings; chunks never cross the sections under the title."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipeline.chunking import chunk_dossier
from tests.test_ingest_reading import BODY, Pdf, read, text

SECTIONS = ("Démarche de modélisation", "Optimisation du modèle", "Limites et améliorations")


def note_pdf() -> bytes:
    """A LaTeX-like note: a large title, a date line, then three sections of body text; the first
    section has bold 'Etape N :' labels over its paragraphs."""
    pdf = Pdf()
    for n, title in enumerate(SECTIONS):
        c, y = "", 780.0
        if n == 0:
            c += text(150, y, "Modèle de scoring de crédit", size=17, font="F2")
            c += text(240, y - 30, "August 19, 2022", size=12)
            y -= 70
        c += text(72, y, title, size=14, font="F2")
        y -= 24
        for k in range(3):
            if n == 0:
                c += text(72, y, f"Etape {k + 1} :", font="F2")
                y -= 16
            for i in range(8):
                c += text(72, y, BODY[(i + k) % 3][:80])
                y -= 14
            y -= 8
        pdf.page(c)
    return pdf.bytes()


def test_a_titled_note_keeps_its_sections_and_labels(tmp_path: Path) -> None:
    d = read(tmp_path, "note.pdf", note_pdf())
    heads = [b.text for b in d.blocks if b.kind == "heading"]
    assert "August 19, 2022" not in heads
    assert heads[0] == "Modèle de scoring de crédit"
    assert all(s in heads for s in SECTIONS)
    assert [h for h in heads if h.startswith("Etape")] == ["Etape 1 :", "Etape 2 :", "Etape 3 :"]
    chunks = chunk_dossier(d)
    for c in chunks:  # no chunk holds text of two sections under the title
        assert sum(s in c.text for s in SECTIONS) <= 1
        assert len({p for p in c.pages}) <= 1
    shares = Counter(c.section[1] if len(c.section) > 1 else "" for c in chunks)
    assert max(shares.values()) / len(chunks) <= 0.5


def test_quotes_of_a_document_without_headings_are_located_by_page(tmp_path: Path) -> None:
    from pipeline.review import ground_drafts
    from pipeline.types import CriterionDraft, Evidence, Provenance

    pdf = Pdf()
    for n in range(2):
        pdf.page("".join(text(72, 780 - 14 * i, f"Partie {n + 1}, ligne {i} : " + BODY[i % 3][:60]) for i in range(20)))
    d = read(tmp_path, "sans-titres.pdf", pdf.bytes())
    assert not [b for b in d.blocks if b.kind == "heading"]
    chunks = chunk_dossier(d)
    last = next(c for c in chunks if "Partie 2, ligne 12" in c.text)
    at = last.text.index("Partie 2, ligne 12")
    quote = last.text[at : at + 60]
    draft = CriterionDraft(
        criterion_id="C1.1",
        level=1,
        confidence=0.5,
        rationale="Test.",
        evidence=[Evidence(chunk_id=last.id, quote=quote, section=last.section_label)],
        provenance=Provenance(backend="offline"),
    )
    ground_drafts(d, chunks, {"C1.1": draft})
    (ev,) = draft.evidence
    assert ev.page == 2 and ev.section == ""  # not « (début du document) » for the whole file


def test_docx_titles_typed_in_text_boxes_are_headings(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml

    from pipeline.ingest import ingest
    from pipeline.settings import Settings

    box = (
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent>'
        "<w:p><w:r><w:t>{}</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )
    document = docx.Document()
    for title in ("REMERCIEMENTS", "Avant-propos"):
        document.add_paragraph()._p.append(parse_xml(box.format(title)))
        for s in BODY:
            document.add_paragraph(s * 2)
    document.add_heading("1. Le marché", level=1)
    document.add_paragraph(BODY[0] * 2)
    document.add_paragraph()._p.append(parse_xml(box.format("+17 % en 2024 : un record.")))  # a callout
    document.add_paragraph(BODY[1])
    path = tmp_path / "boites.docx"
    document.save(str(path))
    d = ingest(path, Settings(data_dir=tmp_path / "data"))
    heads = [(b.text, b.level) for b in d.blocks if b.kind == "heading"]
    assert heads == [("REMERCIEMENTS", 1), ("Avant-propos", 1), ("1. Le marché", 1)]
    assert [b.section for b in d.blocks if b.text.startswith(BODY[0][:30])][:2] == [["REMERCIEMENTS"], ["Avant-propos"]]


def requirements_pdf() -> bytes:
    """A page-long requirements table (Word-like): a header row, then groups of rows, each group
    opened by a bold label set alone across the table."""
    pdf = Pdf()
    c = text(72, 790, "II. Liste des exigences", size=14, font="F2")
    c += text(72, 760, "Exigence", font="F2") + text(380, 760, "Priorité", font="F2") + text(470, 760, "Lot", font="F2")
    y = 740.0
    for group in ("Application mobile", "Serveur", "Base de données"):
        c += text(72, y, group, font="F2")
        y -= 18
        for r in range(4):
            c += text(72, y, f"{group} : exigence fonctionnelle {r + 1}") + text(380, y, str(5 - r)) + text(470, y, "1")
            y -= 18
    c += text(72, y - 20, "Les exigences de priorité 5 sont livrées dans le premier lot.")
    pdf.page(c)
    return pdf.bytes()


def test_bold_group_rows_of_a_table_are_sub_headings(tmp_path: Path) -> None:
    d = read(tmp_path, "exigences.pdf", requirements_pdf())
    heads = [(b.text, b.level) for b in d.blocks if b.kind == "heading"]
    assert heads[0][0] == "II. Liste des exigences"
    assert [h for h, _ in heads[1:]] == ["Application mobile", "Serveur", "Base de données"]
    assert all(level is not None and level > (heads[0][1] or 0) for _, level in heads[1:])
    # quotes from the rows are located under their group, not all under the section
    chunks = chunk_dossier(d)
    assert any(c.section[-1] == "Serveur" and "Serveur : exigence fonctionnelle 2" in c.text for c in chunks)


def test_a_numbered_caption_is_a_caption_in_pdf_and_in_docx(tmp_path: Path) -> None:
    """A caption set right under a paragraph ('Tableau 1 : …', smaller and bold, a line's spacing
    away) was read into the paragraph in a PDF, while the DOCX read it apart: chunks and quotes
    differed between the two formats of one dossier. Now a caption in both, wrapped captions whole;
    a sentence that only starts with 'Tableau' stays a paragraph."""
    import docx

    from pipeline.ingest import ingest
    from pipeline.settings import Settings

    caption = "Tableau 1 : Chiffres clés de l’entreprise (exercice 2024), en millions d’euros et en effectifs"
    pdf = Pdf()
    pdf.page(
        text(72, 760, BODY[0][:80])
        + text(72, 745, BODY[0][80:] + "Fin du paragraphe.")
        + text(72, 727, caption[:70], size=9, font="F2")
        + text(72, 716, caption[70:], size=9, font="F2")
        + text(72, 690, "Tableau de bord et indicateurs sont suivis chaque mois par le comité de direction.")
    )
    d = read(tmp_path, "legende.pdf", pdf.bytes())
    assert [(b.kind, b.text) for b in d.blocks if "Tableau" in b.text] == [
        ("caption", caption),
        ("paragraph", "Tableau de bord et indicateurs sont suivis chaque mois par le comité de direction."),
    ]
    document = docx.Document()
    document.add_paragraph(BODY[0])
    document.add_paragraph(caption)  # typed in the Normal style
    document.add_paragraph("Tableau de bord et indicateurs sont suivis chaque mois par le comité de direction.")
    path = tmp_path / "legende.docx"
    document.save(str(path))
    kinds = [b.kind for b in ingest(path, Settings(data_dir=tmp_path / "data")).blocks]
    assert kinds == ["paragraph", "caption", "paragraph"]


def test_lists_of_tables_and_figures_are_contents(tmp_path: Path) -> None:
    """'Liste des figures' and its entries (leaders of mixed ellipses and dots, as Word prints them)
    are contents, left out of the text, in a PDF as in a DOCX (Word's 'Table of Figures' style); the
    captions in the body stay."""
    import docx

    from pipeline.ingest import ingest
    from pipeline.settings import Settings

    entries = ("Figure 1 : Évolution des ventes………………..4", "Figure 2 : Parts de marché………………………..5")
    pdf = Pdf()
    pdf.page(
        text(72, 770, "Liste des figures", size=16, font="F2")
        + "".join(text(72, 740 - 16 * i, e) for i, e in enumerate(entries))
    )
    pdf.page(
        text(72, 770, "1. Le marché", size=16, font="F2")
        + text(72, 740, BODY[0])
        + text(72, 720, "Figure 1 : Évolution des ventes", size=9, font="F2")
        + text(72, 700, BODY[1])
    )
    d = read(tmp_path, "figures.pdf", pdf.bytes())
    assert [(b.kind, b.text) for b in d.blocks if "Figure" in b.text or "Liste" in b.text] == [
        ("caption", "Figure 1 : Évolution des ventes")
    ]
    document = docx.Document()
    document.add_heading("Liste des figures", level=1)
    styles = document.styles
    tof = styles.add_style("Table of Figures", 1)  # WD_STYLE_TYPE.PARAGRAPH
    for e in entries:
        document.add_paragraph(e.replace("…", "\t"), style=tof)
    document.add_heading("1. Le marché", level=1)
    document.add_paragraph(BODY[0])
    document.add_paragraph("Figure 1 : Évolution des ventes")
    path = tmp_path / "figures.docx"
    document.save(str(path))
    blocks = ingest(path, Settings(data_dir=tmp_path / "data")).blocks
    assert [(b.kind, b.text) for b in blocks if "Figure" in b.text or "Liste" in b.text] == [
        ("caption", "Figure 1 : Évolution des ventes")
    ]


def test_the_first_line_of_a_bold_paragraph_is_not_a_heading(tmp_path: Path) -> None:
    """A page whose text is all set in bold (a web page printed to PDF): the first line of a
    paragraph, whose sentence goes on below or which holds the end of a sentence, was a heading,
    so its words were labels and never evidence (« Nous traduisons notre engagement en actions
    concrètes. Chez Lenkā Madagascar, nous » in a real document). A bold title wrapped over two short lines stays a
    title, and so does a numbered one (« II. Liste des exigences »)."""
    size, lead = 12, 20
    first = "Nous traduisons notre engagement en actions concrètes. Chez Lenka Madagascar, nous"
    rest = [
        "travaillons activement à réduire notre empreinte environnementale en utilisant des",
        "matériaux durables et en minimisant les déchets de production de nos ateliers.",
    ]
    c = text(72, 780, "II. Notre engagement", 14, "F2")
    c += text(72, 750, first, size, "F2")
    c += "".join(text(72, 750 - lead * (k + 1), line, size, "F2") for k, line in enumerate(rest))
    c += text(72, 660, "Projet 2 — Cellule appels d’offres. Une chargée d’affaires dédiée aux", size, "F2")
    c += text(
        72, 660 - lead, "marchés publics et un mémoire technique type mis à jour après chaque marché.", size, "F2"
    )
    c += text(72, 590, "Partenariat avec le", size, "F2") + text(72, 590 - lead, "ministère de l’Artisanat", size, "F2")
    c += text(72, 530, BODY[0][:85], size) + text(72, 530 - lead, BODY[0][85:170], size)
    # a narrow column of bold text: its short first line is no title either
    column = ["En résumé, le secteur", "artisanal à Madagascar", "est confronté à des défis", "et à des opportunités."]
    c += "".join(text(72, 470 - lead * k, line, size, "F2") for k, line in enumerate(column))
    pdf = Pdf()
    pdf.page(c)
    d = read(tmp_path, "gras.pdf", pdf.bytes())
    heads = [b.text for b in d.blocks if b.kind == "heading"]
    assert "II. Notre engagement" in heads and any(h.startswith("Partenariat avec le") for h in heads), heads
    assert not any(h.startswith(("Nous traduisons", "Projet 2", "En résumé")) for h in heads), heads
    paragraphs = [b.text for b in d.blocks if b.kind == "paragraph"]
    assert any(p.startswith(first + " travaillons activement") for p in paragraphs), paragraphs


def test_a_bold_lettered_title_is_a_sub_heading(tmp_path: Path) -> None:
    """« a. Matrice PESTEL » and « b. Forces de Porter : », bold over running text, are the
    sub-sections of a real market study; a lower-case enumerator kept them out of the headings, so
    the Porter analysis was located under the PESTEL."""
    c = text(72, 780, "1. Analyse de l’environnement", 14, "F2")
    y = 750.0
    for title, body in (
        ("a. Matrice PESTEL", BODY[0] + BODY[2]),
        ("b. Forces de Porter :", BODY[1] + BODY[0]),
        ("c. Matrice SWOT :", "Forces"),  # over a table: a short first cell
    ):
        c += text(72, y, title, 11, "F2")
        lines = [body[k : k + 85] for k in range(0, len(body), 85)]
        c += "".join(text(72, y - 22 - 14 * k, line) for k, line in enumerate(lines))
        y -= 22 + 14 * len(lines) + 16
    pdf = Pdf()
    pdf.page(c)
    d = read(tmp_path, "lettres.pdf", pdf.bytes())
    heads = [(b.text, b.level) for b in d.blocks if b.kind == "heading"]
    assert [h for h, _ in heads] == [
        "1. Analyse de l’environnement",
        "a. Matrice PESTEL",
        "b. Forces de Porter :",
        "c. Matrice SWOT :",
    ]
    assert heads[1][1] == heads[2][1] == heads[3][1] and (heads[1][1] or 0) > (heads[0][1] or 0)
    assert d.blocks[-1].section[-1] == "c. Matrice SWOT :"


def test_figures_set_large_on_a_slide_are_content_not_titles(tmp_path: Path) -> None:
    """A slide deck exported to PDF: the chapter number « 02 » and the key figures « 96% taux de
    rachat », « +10% », « 2 articles achetés par session » are set larger than the slide's title.
    They were headings: never evidence, and the deck's sections were named « 02 » or « +10% ».
    The slide title stays a heading, and so does a title whose year wrapped onto a line alone."""
    pages = []
    for n, (title, figure, note) in enumerate(
        (
            ("SATISFACTION CLIENT ET FIDÉLITÉ", "96% taux de rachat", "8285 clients ont de nouveau acheté."),
            ("ÉVOLUTION ANNUELLE DES VENTES", "+10%", "Les ventes progressent sur toutes les catégories."),
            ("PANIER MOYEN", "2 articles achetés par session", "L’écart-type est de 1,3 article."),
        )
    ):
        c = text(520, 810, "02", 40, "F2") + text(60, 760, title, 20, "F2")
        c += text(60, 700, figure, 28, "F2") + text(60, 670, note, 12)
        c += text(60, 640, BODY[n % 3], 12)
        pages.append(c)
    pdf = Pdf()
    pdf.page(text(60, 700, "Plan d’actions commerciales 2025-", 24, "F2") + text(60, 670, "2026", 24, "F2"))
    for c in pages:
        pdf.page(c)
    d = read(tmp_path, "diapos.pdf", pdf.bytes())
    heads = [b.text for b in d.blocks if b.kind == "heading"]
    assert heads[0] == "Plan d’actions commerciales 2025-2026", heads
    assert {"SATISFACTION CLIENT ET FIDÉLITÉ", "ÉVOLUTION ANNUELLE DES VENTES", "PANIER MOYEN"} <= set(heads)
    assert not [h for h in heads if h[0].isdigit() or h.startswith("+")], heads
    content = " ".join(b.text for b in d.blocks if b.kind != "heading")
    assert "96% taux de rachat" in content and "+10%" in content and "2 articles achetés par session" in content
