"""Nothing after a table of contents is lost, and a slide deck keeps its title (issue: PDF reading
defects found while writing samples).

A contents page lists the headings: its entries are not content, but a heading it lists is not a
running header (those stand in the page margins, at the same place on most pages), and the
contents end with their page, or at the first line that is no entry. On a landscape deck whose
outline names the slide titles, the title page's title, set smaller than them, is still a heading.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from tests.test_ingest_reading import Pdf, read, text

SECTIONS = ("1. L’entreprise", "2. Veille", "3. Le marché")
ITEMS = {  # bullets without a final full stop, like contents entries
    SECTIONS[0]: ("Fabrication et pose de fenêtres à Yvetot", "Cinquante-deux salariés dont dix-huit poseurs"),
    SECTIONS[1]: ("Le dirigeant lit la lettre de la fédération", "Pas d’outil, pas de responsable"),
    SECTIONS[2]: ("Marché de la fenêtre en baisse de sept pour cent", "La rénovation fait l’essentiel des volumes"),
}


def _furniture(c: str, page: int) -> str:
    return c + text(72, 810, "Menuiseries Gosselin — Dossier M1", size=9) + text(280, 30, f"Page {page}", size=9)


def contents_pdf(numbered: bool) -> bytes:
    """A title page, a contents page, a blank page, then the sections; headings set bold in the
    body size, as the contents entries; a running header and a page number on every page."""
    pdf = Pdf()
    pdf.page(_furniture(text(72, 700, "Menuiseries Gosselin — Stratégie", size=24), 1))
    c = text(72, 770, "Sommaire", size=16, font="F2")
    for i, title in enumerate(SECTIONS):
        entry = f"{title} {'.' * 40} {3 + i}" if numbered else title
        c += text(72, 740 - 20 * i, entry, font="F2")
    pdf.page(_furniture(c, 2))
    pdf.page(_furniture("", 3))  # blank but for its header and number
    for i, title in enumerate(SECTIONS):
        c = text(72, 770, title, font="F2")
        c += text(72, 750, f"Quelques repères sur la partie « {title[3:]} » :")
        for k, item in enumerate(ITEMS[title]):
            c += text(72, 730 - 16 * k, f"- {item}")
        pdf.page(_furniture(c, 4 + i))
    return pdf.bytes()


def test_a_section_listed_in_the_contents_is_read_whole(tmp_path: Path) -> None:
    for numbered in (False, True):
        d = read(tmp_path, f"sommaire-{numbered}.pdf", contents_pdf(numbered))
        heads = [b.text for b in d.blocks if b.kind == "heading"]
        assert [h for h in heads if h[:2] in ("1.", "2.", "3.")] == list(SECTIONS), numbered
        for title in SECTIONS:
            assert f"Quelques repères sur la partie « {title[3:]} » :" in d.text, (numbered, title)
            for item in ITEMS[title]:
                assert item in [b.text for b in d.blocks if b.kind == "list_item"], (numbered, item)
        assert "Dossier M1" not in d.text and "Page" not in d.text  # the furniture still goes
        assert "Sommaire" not in d.text and "...." not in d.text  # and the contents too


def test_contents_end_at_the_first_line_that_is_no_entry(tmp_path: Path) -> None:
    """Contents with page numbers running onto a second page, then the introduction on that page."""
    parts = ("Marché", "Clients", "Concurrents", "Diagnostic", "Cibles", "Offre", "Prix", "Canaux", "Budget")
    entries = [f"{i + 1}. Partie {name} {'.' * 30} {i + 3}" for i, name in enumerate(parts)]
    pdf = Pdf()
    c = text(72, 770, "Sommaire", size=16, font="F2")
    for i, entry in enumerate(entries[:-1]):
        c += text(72, 740 - 80 * i, entry)
    pdf.page(c)
    c = text(72, 770, entries[-1])
    c += text(72, 740, "Introduction", font="F2")
    c += text(72, 720, "Ce dossier présente notre démarche commerciale")
    c += text(72, 704, "et les actions menées depuis deux ans")
    pdf.page(c)
    for i, name in enumerate(parts):
        pdf.page(text(72, 770, f"{i + 1}. Partie {name}", font="F2") + text(72, 750, f"Ce que dit la partie {name}"))
    d = read(tmp_path, "sommaire-long.pdf", pdf.bytes())
    assert "...." not in d.text
    heads = [b.text for b in d.blocks if b.kind == "heading"]
    assert heads == ["Introduction"] + [f"{i + 1}. Partie {name}" for i, name in enumerate(parts)]
    assert "Ce dossier présente notre démarche commerciale et les actions menées depuis deux ans" in d.text
    assert all(f"Ce que dit la partie {name}" in d.text for name in parts)


def _deck(outline: bool) -> bytes:
    """A 16:9 deck: a title page (title 26 pt over 20 pt lines), then slides titled 28 pt, body 20 pt."""
    pdf = Pdf()
    w, h = 842, 474
    c = text(57, 400, "Librairie La Page Blanche — Plan d’actions", size=26)
    c += text(57, 365, "Étude de cas — module 2", size=12)
    c += text(57, 330, "Candidat : Hugo Perrin", size=20) + text(57, 300, "Mai 2025", size=20)
    pdf.page(c, w, h)
    slides = {
        "1. Présentation": ("Librairie indépendante de Tours", "Onze libraires et deux boutiques"),
        "2. Les projets": ("Vendre aux collectivités", "Attirer les jeunes adultes"),
        "3. Le suivi": ("Un tableau de bord mensuel", "Une réunion par trimestre"),
    }
    titles = tuple(slides)
    for title, lines in slides.items():
        c = text(57, 400, title, size=28)
        for k, line in enumerate(lines):
            c += text(57, 350 - 30 * k, line, size=20)
        pdf.page(c, w, h)
    data = pdf.bytes()
    if not outline:
        return data
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    for i, title in enumerate(titles, 1):
        writer.add_outline_item(title=title, page_number=i)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_deck_title_page_keeps_its_title_as_a_heading(tmp_path: Path) -> None:
    for outline in (True, False):
        d = read(tmp_path, f"deck-{outline}.pdf", _deck(outline))
        heads = [(b.level, b.text, b.page) for b in d.blocks if b.kind == "heading"]
        assert heads[0] == (1, "Librairie La Page Blanche — Plan d’actions", 1), outline
        assert [h[1] for h in heads[1:]] == ["1. Présentation", "2. Les projets", "3. Le suivi"]
        first = next(b for b in d.blocks if b.kind != "heading")
        assert first.text.startswith("Étude de cas — module 2") and "Librairie" not in first.text


def test_contents_at_the_end_without_a_title_line_are_not_content(tmp_path: Path) -> None:
    """A report whose table of contents closes the document (common in French reports), drawn as a
    Word table: a numeral in one cell, the entry, its dot leader and a '- 3 -' folio in the next;
    its first entry is the contents' own ('SOMMAIRE ......... ii'), so no title line opens it."""
    pdf = Pdf()
    for title in SECTIONS:
        c = text(72, 770, title, font="F2")
        c += text(72, 750, f"Quelques repères sur la partie « {title[3:]} » :")
        for k, item in enumerate(ITEMS[title]):
            c += text(72, 730 - 16 * k, f"- {item}")
        pdf.page(c)
    c = text(72, 770, f"SOMMAIRE {'.' * 60} ii")
    for i, title in enumerate(SECTIONS):
        y = 740 - 20 * i
        c += text(72, y, f"{'I' * (i + 1)}.") + text(110, y, f"{title[3:].upper()} {'.' * 50} - {i + 1} -")
    pdf.page(c)
    d = read(tmp_path, "sommaire-fin.pdf", pdf.bytes())
    assert "...." not in d.text and "SOMMAIRE" not in d.text
    assert not [b for b in d.blocks if b.page == len(SECTIONS) + 1]
    for title in SECTIONS:
        assert all(item in d.text for item in ITEMS[title])
