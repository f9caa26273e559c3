"""Reading as a reader sees it, on small generated files: one file per defect class found on real
documents (issue 12), and the DOCX bomb of issue 14.

PDFs are written by hand (a few objects, Helvetica) so that each test controls exactly what the
page draws: white text on a filled curve, on a photo, text under an image or a shape, words drawn
as separate fragments without spaces, table cells, a table header repeated on every page, Word's
printed comment balloons, a font whose ToUnicode map turns ligatures into symbols, overprinted
text, hyphenated line ends, a Quartz-style cross-reference table.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

docx = pytest.importorskip("docx")
from docx.enum.text import WD_BREAK  # noqa: E402
from docx.shared import Pt  # noqa: E402

from pipeline.errors import TooLargeError  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.manipulation import warnings_for  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.types import Dossier  # noqa: E402

# --- a tiny PDF writer ----------------------------------------------------------------------------


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class Pdf:
    """Objects in order; pages share the resources (two Helvetica fonts, optional images, a font
    with a ToUnicode map)."""

    def __init__(self) -> None:
        self.objs: list[bytes] = []
        self.pages: list[int] = []
        self.fonts = {
            "F1": self.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
            "F2": self.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"),
        }
        self.images: dict[str, int] = {}
        self.inherited_box = ""  # a MediaBox set on the page tree, inherited by pages drawn without one

    def add(self, body: bytes) -> int:
        self.objs.append(body)
        return len(self.objs)

    def stream(self, data: bytes, extra: bytes = b"") -> int:
        return self.add(b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    def image(self, name: str, rgb: tuple[int, int, int]) -> None:
        self.images[name] = self.stream(
            bytes(rgb) * 4,
            b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8",
        )

    def tounicode_font(self, name: str, mapping: dict[int, str]) -> None:
        """Helvetica whose ToUnicode map sends the given byte codes to the given text."""
        lines = "".join(f"<{code:02X}> <{''.join(f'{ord(c):04X}' for c in text)}>\n" for code, text in mapping.items())
        cmap = (
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Custom def "
            "1 begincodespacerange <00> <FF> endcodespacerange "
            f"{len(mapping)} beginbfchar\n{lines}endbfchar endcmap CMapName currentdict /CMap defineresource pop "
            "end end"
        ).encode()
        identity = "".join(f"<{c:02X}> <{c:04X}>\n" for c in range(32, 127) if c not in mapping)
        full = cmap.replace(b"endcmap", f"{95 - len(mapping)} beginbfchar\n{identity}endbfchar endcmap".encode())
        cm = self.stream(full)
        self.fonts[name] = self.add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode %d 0 R >>" % cm
        )

    def page(self, content: str, w: float | None = 595, h: float = 842) -> None:
        """A page of `w` by `h` points; `w` None: no MediaBox of its own (see `inherited_box`)."""
        c = self.stream(content.encode("cp1252"))
        fonts = " ".join(f"/{k} {v} 0 R" for k, v in self.fonts.items())
        xo = " ".join(f"/{k} {v} 0 R" for k, v in self.images.items())
        box = f"/MediaBox [0 0 {w} {h}] " if w is not None else ""
        self.pages.append(
            self.add(
                f"<< /Type /Page /Parent PAGES {box}/Contents {c} 0 R "
                f"/Resources << /Font << {fonts} >> /XObject << {xo} >> >> >>".encode()
            )
        )

    def bytes(self, zero_offsets: int = 0) -> bytes:
        """The file; `zero_offsets` unused objects listed as in use at offset 0, as macOS Quartz writes."""
        pages_id = len(self.objs) + 1
        kids = " ".join(f"{p} 0 R" for p in self.pages)
        self.add(f"<< /Type /Pages {self.inherited_box} /Kids [{kids}] /Count {len(self.pages)} >>".encode())
        root = self.add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode())
        out = bytearray(b"%PDF-1.7\n")
        offsets = []
        for i, body in enumerate(self.objs, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % i + body.replace(b"PAGES", b"%d 0 R" % pages_id) + b"\nendobj\n"
        xref = len(out)
        size = len(self.objs) + 1 + zero_offsets
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for o in offsets:
            out += b"%010d 00000 n \n" % o
        out += b"0000000000 00000 n \n" * zero_offsets
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
        return bytes(out)


def text(x: float, y: float, s: str, size: float = 11, font: str = "F1", rgb: tuple[float, ...] = (0, 0, 0)) -> str:
    return f"BT /{font} {size} Tf {rgb[0]} {rgb[1]} {rgb[2]} rg {x} {y} Td ({_esc(s)}) Tj ET\n"


BODY = (
    "La stratégie commerciale repose sur une analyse précise du marché régional et de ses clients. ",
    "Nous avons interrogé quarante acheteurs et relevé les prix de six concurrents directs. ",
    "Le plan d’actions fixe trois priorités chiffrées pour les deux prochaines années. ",
)


def body_lines(y: float, n: int = 3, x: float = 72) -> str:
    return "".join(text(x, y - 16 * i, BODY[i % len(BODY)][:80]) for i in range(n))


def read(tmp_path: Path, name: str, data: bytes) -> Dossier:
    path = tmp_path / name
    path.write_bytes(data)
    return ingest(path, Settings(data_dir=tmp_path / "data"))


def hidden(d: Dossier) -> str:
    return " ".join(f.text for f in d.findings if f.kind == "hidden_text")


# --- visibility ----------------------------------------------------------------------------------


def test_white_text_on_a_filled_curve_and_on_a_photo_is_visible(tmp_path: Path) -> None:
    pdf = Pdf()
    pdf.image("Im1", (180, 40, 40))
    c = body_lines(780)
    c += "0.1 0.2 0.6 rg 70 680 m 320 680 l 320 705 l 195 712 70 705 70 705 c h f\n"  # a cell fill without 're'
    c += text(76, 688, "Chiffre d’affaires par canal", rgb=(1, 1, 1))
    c += "q 300 0 0 40 70 600 cm /Im1 Do Q\n"  # a photo, then a white title over it
    c += text(76, 615, "Notre équipe commerciale", size=16, rgb=(1, 1, 1))
    pdf.page(c)
    d = read(tmp_path, "blanc-sur-couleur.pdf", pdf.bytes())
    assert "Chiffre d’affaires par canal" in d.text
    assert "Notre équipe commerciale" in d.text
    assert not [f for f in d.findings if f.kind in ("hidden_text", "manipulation")]


def test_text_a_reader_cannot_see_is_hidden(tmp_path: Path) -> None:
    pdf = Pdf()
    pdf.image("Im1", (30, 90, 160))
    c = body_lines(780)
    c += text(72, 700, "Blanc sur blanc pour le correcteur.", rgb=(1, 1, 1))
    c += text(72, 660, "Phrase recouverte par une forme.")
    c += "1 1 1 rg 70 655 300 20 re f\n"  # a white rectangle painted over the sentence
    c += text(72, 620, "Phrase recouverte par une image.")
    c += "q 300 0 0 20 70 615 cm /Im1 Do Q\n"
    c += text(72, 580, "Corps minuscule caché.", size=1.5)
    c += text(700, 540, "Texte posé hors de la page.")
    c += "3 Tr\n" + text(72, 500, "Texte en mode invisible.")
    pdf.page(c)
    d = read(tmp_path, "cache.pdf", pdf.bytes())
    h = hidden(d)
    for s in (
        "Blanc sur blanc",
        "recouverte par une forme",
        "recouverte par une image",
        "minuscule",
        "hors de la page",
    ):
        assert s in h
        assert s not in d.text
    assert "mode invisible" not in d.text
    assert BODY[0][:40] in d.text


# --- words, lists, tables -----------------------------------------------------------------------


def test_word_fragments_without_space_characters_are_not_glued(tmp_path: Path) -> None:
    pdf = Pdf()
    # the words positioned one by one, no space character between them (Word and Quartz write such runs)
    words = ["Nous", "souhaitons", "proposer", "de", "savoureux", "bocaux", "concernant", "l’envoi", "groupé"]
    c = "BT /F1 11 Tf 72 760 Td [" + " -278 ".join(f"({_esc(w)})" for w in words) + "] TJ ET\n"
    c += text(72, 730, "1.") + text(90, 730, "Analyser le marché régional")  # a tab after the number
    pdf.page(c)
    d = read(tmp_path, "fragments.pdf", pdf.bytes())
    assert "Nous souhaitons proposer de savoureux bocaux concernant l’envoi groupé" in d.text
    assert "Analyser le marché régional" in d.text
    assert "1.Analyser" not in d.text


def test_private_use_bullets_are_list_markers(tmp_path: Path) -> None:
    pdf = Pdf()
    pdf.tounicode_font("F3", {0x80: "\uf0b7"})
    c = ""
    for i, item in enumerate(("Facebook et Instagram", "Salons professionnels", "Prospection téléphonique")):
        c += f"BT /F3 11 Tf 72 {760 - 16 * i} Td <80> Tj ET\n" + text(90, 760 - 16 * i, item)
    pdf.page(c)
    d = read(tmp_path, "puces.pdf", pdf.bytes())
    items = [b.text for b in d.blocks if b.kind == "list_item"]
    assert items == ["Facebook et Instagram", "Salons professionnels", "Prospection téléphonique"]
    assert "\uf0b7" not in d.text


def test_table_rows_keep_cells_apart_and_a_repeated_header_once(tmp_path: Path) -> None:
    pdf = Pdf()
    for page in range(3):
        c = text(72, 810, "Entreprise Kerlann — Dossier M1", size=9)  # running header
        c += text(72, 760, "Action", font="F2") + text(250, 760, "Responsable", font="F2")
        c += text(420, 760, "Échéance", font="F2")
        for r in range(12):
            y = 740 - 18 * r
            c += text(72, y, f"Action {page * 12 + r + 1}") + text(250, y, "Léa Morvan") + text(420, y, "mars 2025")
        c += text(290, 30, f"Page {page + 1}", size=9)
        pdf.page(c)
    d = read(tmp_path, "tableau.pdf", pdf.bytes())
    assert d.text.count("Action | Responsable | Échéance") == 1
    assert "Action 13 | Léa Morvan | mars 2025" in d.text
    assert "HeaderMenu" not in d.text and "Dossier M1" not in d.text
    tables = [b for b in d.blocks if b.kind == "table"]
    assert tables and tables[0].rows and tables[0].rows[0] == ["Action", "Responsable", "Échéance"]


def test_a_number_cut_at_its_column_edge_is_one_number(tmp_path: Path) -> None:
    """A financial table squeezed into narrow columns (Word wraps a token wider than its cell
    anywhere): '20000' running up to the next column, then '00.0', is 2000000.0; values listed
    one per line as wide as the column ('E/SIG', 'E/SIG') and a short line ('12' before '500')
    stay apart. Helvetica 10 pt: a digit is 5.56 pt; the next column starts 10.8 pt (Word's two
    cell margins) plus 1 pt after a full line."""
    digit, size = 5.56, 10
    col2 = 150.0
    col3 = col2 + 5 * digit + 10.8 + 1  # '20000' fills column 2
    col4 = col3 + 26.68 + 10.8 + 1  # 'E/SIG' fills column 3
    pdf = Pdf()
    c = text(72, 760, "Mois", size, "F2") + text(col2, 760, "CA", size, "F2") + text(col3, 760, "Code", size, "F2")
    c += text(col4, 760, "Décision", size, "F2")
    c += text(72, 740, "Janvier", size) + text(col2, 740, "20000", size) + text(col2, 728, "00.0", size)
    c += text(col3, 740, "E/SIG", size) + text(col3, 728, "E/SIG", size) + text(col4, 740, "Retenu", size)
    c += text(72, 710, "Février", size) + text(col2, 710, "12", size) + text(col2, 698, "500", size)
    c += text(col3, 710, "E/SIT", size) + text(col4, 710, "Refusé", size)
    pdf.page(c)
    d = read(tmp_path, "chiffres.pdf", pdf.bytes())
    assert "Janvier | 2000000.0 | E/SIG E/SIG | Retenu" in d.text, d.text
    assert "Février | 12 500 | E/SIT | Refusé" in d.text, d.text
    # a header broken at a space can leave as little room: two words, or a word and a year, stay two
    from pipeline.ingest.layout import _join_cell_lines

    # (what each line leaves free before the next column, in ems: 0.1 is a full line)
    assert _join_cell_lines(["Marge", "brute 2024"], [0.1, 2.0]) == "Marge brute 2024"
    assert _join_cell_lines(["d’affaires", "2024"], [0.1, 2.0]) == "d’affaires 2024"
    assert _join_cell_lines(["Opex_", "RnD"], [0.1, 2.0]) == "Opex_RnD"
    # a figure's digit is wider than a letter: up to one digit free, the pieces of a figure are one
    # figure; a date and a time broken at their space stay two
    assert _join_cell_lines(["35000", "0"], [0.5, 2.0]) == "350000"
    assert _join_cell_lines(["2023-01-01", "00:00:00"], [0.5, 2.0]) == "2023-01-01 00:00:00"
    assert _join_cell_lines(["Marge", "brute"], [0.5, 2.0]) == "Marge brute"


def test_a_figure_cut_in_the_last_of_equal_columns_is_one_figure(tmp_path: Path) -> None:
    """The last column has no next column to measure against: in a table of equal columns (a
    generated financial table), it is as wide as the others. LibreOffice cut '75000' / '0.0' in the
    last of nine narrow columns of a real report; it read '75000 0.0'."""
    size, pitch = 10, 5 * 5.56 + 10.8 + 1.5  # five Helvetica digits, two cell margins
    cols = [72 + k * pitch for k in range(4)]
    c = "".join(text(x, 760, h, size, "F2") for x, h in zip(cols, ("Mois", "CA", "Coûts", "EBITDA"), strict=True))
    for x, (a, b) in zip(cols, (("Jan", "2023"), ("20000", "00.0"), ("90000", "0.0"), ("75000", "0.0")), strict=True):
        c += text(x, 740, a, size) + text(x, 728, b, size)
    pdf = Pdf()
    pdf.page(c)
    d = read(tmp_path, "colonnes.pdf", pdf.bytes())
    assert "2000000.0 | 900000.0 | 750000.0" in d.text, d.text


# --- reviewer markup -----------------------------------------------------------------------------


def test_printed_comment_balloons_are_reviewer_markup_not_text(tmp_path: Path) -> None:
    pdf = Pdf()
    c = body_lines(780, 6, x=60)
    c += text(430, 780, "Commenté [PR1]: Clair : fondé sur des", size=7)
    c += text(430, 771, "chiffres vérifiables, à développer.", size=7)
    c += text(430, 740, "Mis en forme : Police :11 pt", size=7)
    pdf.page(c)
    d = read(tmp_path, "commentaires.pdf", pdf.bytes())
    assert "Commenté" not in d.text and "vérifiables" not in d.text and "Police" not in d.text
    assert BODY[1][:40] in d.text
    markup = [f for f in d.findings if f.kind == "reviewer_markup"]
    assert markup and "2 commentaire(s)" in markup[0].text and "Clair" in markup[0].detail
    assert any("commentaires de relecture" in w for w in warnings_for(d))  # shown first in every output


# --- broken glyphs, hyphens, overprint -------------------------------------------------------------


def test_ligature_symbols_are_repaired_where_certain_and_reported_otherwise(tmp_path: Path) -> None:
    pdf = Pdf()
    pdf.tounicode_font("F3", {0x80: "*", 0x81: "&"})  # 'ti' drawn as a glyph whose map says '*' / '&'
    # byte 0x80 (octal 200) and 0x81 (octal 201) stand for the ligature glyphs
    garbled = (
        "La classifica\\200on des clients et la ges\\200on des \\201ckets suivent la no\\200fica\\200on des ac\\200ons."
    )

    def line(y: float, s: str) -> str:
        return f"BT /F3 11 Tf 72 {y} Td ({s}) Tj ET\n"

    c = line(760, garbled) + line(744, "Chaque mois, la ges\\200on des \\201ckets est revue en réunion.")
    pdf.page(c)
    d = read(tmp_path, "ligatures.pdf", pdf.bytes())
    assert "classification des clients et la gestion des tickets" in d.text
    assert "notification des actions" in d.text
    assert not [f for f in d.findings if f.kind == "encoding"]

    pdf = Pdf()
    pdf.tounicode_font("F3", {0x80: "#"})  # a symbol no ligature explains
    c = "".join(line(760 - 16 * i, f"Le pro\\200et num\\200ro {i} con\\200erne la r\\200gion") for i in range(4))
    pdf.page(c)
    d = read(tmp_path, "illisible.pdf", pdf.bytes())
    enc = [f for f in d.findings if f.kind == "encoding"]
    assert enc and "mot(s) mal encodé(s)" in enc[0].text and "%" in enc[0].text
    assert any("à vérifier sur le document" in w for w in warnings_for(d))


def test_line_end_hyphens_join_french_words_only_and_overprint_is_read_once(tmp_path: Path) -> None:
    pdf = Pdf()
    c = text(72, 760, "Cette démarche de valori-")
    c += text(72, 746, "sation de la gamme passe par la vente-")
    c += text(72, 732, "conseil en boutique et par les salons.")
    for _ in range(3):  # the same title drawn three times at the same place (Canva)
        c += text(72, 700, "Positionnement prix", size=14, font="F2")
    c += body_lines(680)
    pdf.page(c)
    d = read(tmp_path, "coupures.pdf", pdf.bytes())
    assert "valorisation de la gamme" in d.text
    assert "vente-conseil en boutique" in d.text
    assert d.text.count("Positionnement prix") == 1


def test_quartz_free_objects_at_offset_zero_are_not_damage(tmp_path: Path) -> None:
    pdf = Pdf()
    pdf.page(body_lines(780))
    d = read(tmp_path, "quartz.pdf", pdf.bytes(zero_offsets=3))
    assert BODY[0][:40] in d.text
    assert not [f for f in d.findings if f.kind == "damage"]


# --- DOCX -----------------------------------------------------------------------------------------


def test_docx_without_heading_styles_gets_headings_from_formatting(tmp_path: Path) -> None:
    document = docx.Document()
    for title, size in (("1. Le marché", 16), ("2. La stratégie", 16)):
        run = document.add_paragraph().add_run(title)
        run.bold, run.font.size = True, Pt(size)
        sub = document.add_paragraph().add_run(f"{title[:2]}1 Les clients")
        sub.bold = True
        for s in BODY:
            document.add_paragraph(s * 2)
    path = tmp_path / "gdocs.docx"
    document.save(str(path))
    d = ingest(path, Settings(data_dir=tmp_path / "data"))
    heads = [(b.level, b.text) for b in d.blocks if b.kind == "heading"]
    assert heads == [(1, "1. Le marché"), (2, "1.1 Les clients"), (1, "2. La stratégie"), (2, "2.1 Les clients")]
    assert all(b.section for b in d.blocks if b.kind == "paragraph")


def test_docx_pages_follow_explicit_page_breaks(tmp_path: Path) -> None:
    document = docx.Document()
    for i in range(3):
        p = document.add_paragraph(f"Partie {i + 1}. " + BODY[i])
        if i < 2:
            p.add_run().add_break(WD_BREAK.PAGE)
    path = tmp_path / "sauts.docx"
    document.save(str(path))
    d = ingest(path, Settings(data_dir=tmp_path / "data"))
    assert d.pages == 3
    assert [b.page for b in d.blocks] == [1, 2, 3]


def _docx_bomb(path: Path, paragraphs: int) -> None:
    """A DOCX whose body holds `paragraphs` tiny paragraphs: small zipped, huge parsed."""
    base = io.BytesIO()
    docx.Document().save(base)
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, src.read(item.filename))
        head = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
            '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        )
        para = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 1000
        with out.open("word/document.xml", "w") as fh:
            fh.write(head.encode())
            for _ in range(paragraphs // 1000):
                fh.write(para)
            fh.write(b"</w:body></w:document>")


_BOMB_CHILD = """
import json, resource, sys, time
from pathlib import Path
from pipeline.errors import TooLargeError
from pipeline.ingest import ingest
from pipeline.settings import Settings
t = time.perf_counter()
try:
    ingest(Path(sys.argv[1]), Settings(data_dir=Path(sys.argv[2])))
    outcome = "parsed"
except TooLargeError as e:
    outcome = e.user_message
# VmHWM (this process's own peak; ru_maxrss keeps the forking parent's size across exec)
status = Path("/proc/self/status")
hwm = [ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM")] if status.exists() else []
peak_kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": time.perf_counter() - t, "outcome": outcome, "peak_mb": peak_kb / 1024}))
"""


def test_docx_bomb_is_refused_within_5_s_and_500_mb(tmp_path: Path) -> None:
    bomb = tmp_path / "bombe.docx"
    _docx_bomb(bomb, 2_000_000)  # 68 MB of XML in well under 1 MB
    assert bomb.stat().st_size < 1_000_000
    out = subprocess.run(
        [sys.executable, "-c", _BOMB_CHILD, str(bomb), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "limite de paragraphes" in got["outcome"] and "bombe.docx" in got["outcome"]
    assert got["seconds"] < 5
    assert got["peak_mb"] < 500


def test_docx_paragraph_limit_is_a_setting(tmp_path: Path) -> None:
    document = docx.Document()
    for i in range(30):
        document.add_paragraph(f"Paragraphe {i}.")
    path = tmp_path / "trente.docx"
    document.save(str(path))
    with pytest.raises(TooLargeError) as info:
        ingest(path, Settings(data_dir=tmp_path / "data", max_paragraphs=20))
    assert "plus de 20 paragraphes" in info.value.user_message
    assert ingest(path, Settings(data_dir=tmp_path / "data2")).text.startswith("Paragraphe 0.")


def test_letter_spaced_titles_read_as_words(tmp_path: Path) -> None:
    pdf = Pdf()
    c = "BT /F2 14 Tf 3 Tc 72 760 Td (CONTEXTE ET OBJECTIFS) Tj ET\n0 Tc\n" + body_lines(730)
    pdf.page(c)
    d = read(tmp_path, "espacement.pdf", pdf.bytes())
    assert "CONTEXTE ET OBJECTIFS" in d.text


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (["Positionneme", "nt prix"], "Positionnement prix"),  # a word cut at a narrow cell's edge
        (["valori-", "sation"], "valorisation"),
        (["vente-", "conseil"], "vente-conseil"),
        (["ne permettent pas au-", "delà de 40 km"], "ne permettent pas au-delà de 40 km"),  # no "au- delà"
        (["Chiffre", "d’affaires"], "Chiffre d’affaires"),
    ],
)
def test_wrapped_cell_lines_are_joined_as_a_reader_reads_them(parts: list[str], joined: str) -> None:
    from pipeline.ingest.layout import _join_cell_lines

    assert _join_cell_lines(parts) == joined
