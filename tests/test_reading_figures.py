"""Words a reader sees in a DOCX's charts and vector pictures (issue 12): Word's and LibreOffice's PDF
exports write them as text, so the DOCX reads them too, at the figure's place, or the two formats of
one dossier differ (a real report's class diagrams, pasted as EMF: 11 % of its PDF's words).

The files are made here: a Word chart part (DrawingML) and an EMF picture written record by record,
each linked from a paragraph as Word links them."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml

from pipeline.ingest import ingest
from pipeline.ingest.figures import chart_lines, emf_lines
from pipeline.settings import Settings
from pipeline.textnorm import normalise, words
from tests.libreoffice import to_pdf
from tests.test_ingest_reading import BODY, Pdf, _esc, read, text

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
    'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"
PICTURE_URI = "http://schemas.openxmlformats.org/drawingml/2006/picture"


def _inline(n: int, graphic: str, uri: str) -> str:
    return (
        f'<w:r {NS}><w:drawing><wp:inline><wp:extent cx="5400000" cy="3000000"/>'
        f'<wp:docPr id="{n}" name="Figure {n}"/><a:graphic><a:graphicData uri="{uri}">{graphic}'
        "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )


def _chart_xml(title: str | None, categories: list[str], series: list[str], *, legend: bool = True) -> bytes:
    def ser(i: int, name: str) -> str:
        pts = "".join(f'<c:pt idx="{j}"><c:v>{c}</c:v></c:pt>' for j, c in enumerate(categories))
        vals = "".join(f'<c:pt idx="{j}"><c:v>{(i + 1) * (j + 2) * 1000}</c:v></c:pt>' for j in range(len(categories)))
        return (
            f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/><c:tx><c:strRef><c:f>Feuil1!$B${i + 1}</c:f><c:strCache>'
            f'<c:ptCount val="1"/><c:pt idx="0"><c:v>{name}</c:v></c:pt></c:strCache></c:strRef></c:tx>'
            f'<c:cat><c:strRef><c:f>Feuil1!$A$2:$A$9</c:f><c:strCache><c:ptCount val="{len(categories)}"/>{pts}'
            f"</c:strCache></c:strRef></c:cat><c:val><c:numRef><c:f>Feuil1!$B$2:$B$9</c:f><c:numCache>"
            f'<c:formatCode>General</c:formatCode><c:ptCount val="{len(categories)}"/>{vals}</c:numCache></c:numRef>'
            "</c:val></c:ser>"
        )

    title_xml = (
        f"<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:r><a:t>{title}</a:t></a:r></a:p></c:rich></c:tx>"
        '<c:overlay val="0"/></c:title>'
        if title
        else '<c:autoTitleDeleted val="1"/>'
    )
    axis_title = (
        "<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:r><a:t>Chiffre d’affaires (k€)</a:t></a:r></a:p></c:rich>"
        "</c:tx></c:title>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><c:chartSpace {NS}><c:chart>{title_xml}'
        '<c:plotArea><c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        + "".join(ser(i, s) for i, s in enumerate(series))
        + '<c:axId val="1"/><c:axId val="2"/></c:barChart>'
        '<c:catAx><c:axId val="1"/><c:scaling/><c:delete val="0"/><c:axPos val="b"/><c:crossAx val="2"/></c:catAx>'
        f'<c:valAx><c:axId val="2"/><c:scaling/><c:delete val="0"/><c:axPos val="l"/>{axis_title}'
        '<c:crossAx val="1"/></c:valAx></c:plotArea>'
        + ('<c:legend><c:legendPos val="r"/></c:legend>' if legend else "")
        + '<c:plotVisOnly val="1"/></c:chart></c:chartSpace>'
    ).encode()


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<II", kind, 8 + len(body)) + body


# Arial's (and Helvetica's, the same metrics) advances in thousandths of an em; capitals and the rest 667
_WIDTHS = {
    **dict.fromkeys("ijl’", 222),
    **dict.fromkeys("ft ", 278),
    **dict.fromkeys("r()", 333),
    **dict.fromkeys("cksvxyz", 500),
    **dict.fromkeys("abdeghnopqué", 556),
    "w": 722,
    "m": 833,
}


def advances(text: str) -> list[int]:
    return [round(_WIDTHS.get(ch, 667) * 16 / 1000) for ch in text]


def _text_record(x: int, y: int, text: str) -> bytes:
    """EMR_EXTTEXTOUTW: a UTF-16 string at (x, y) with its characters' advances."""
    chars = text.encode("utf-16-le")
    count, dx = len(text), advances(text)
    fixed = 76 - 8  # the record's fixed part after type and size
    string_at = 76
    pad = b"\0" * (-len(chars) % 4)
    dx_at = string_at + len(chars) + len(pad)
    body = struct.pack("<iiii", x, y - 12, x + sum(dx), y + 4)  # bounds
    body += struct.pack("<Iff", 1, 1.0, 1.0)  # graphics mode, scales
    body += struct.pack("<iiIII", x, y, count, string_at, 0)  # reference, count, string offset, options
    body += struct.pack("<iiii", 0, 0, -1, -1) + struct.pack("<I", dx_at)
    assert len(body) == fixed
    return _record(84, body + chars + pad + struct.pack(f"<{count}i", *dx))


def emf(labels: list[tuple[int, int, str]]) -> bytes:
    """A minimal EMF as Word's and Office's pictures carry them: a header on a 96-dpi reference device,
    map mode, transparent background, black baseline-aligned text in a 16-pixel Arial, text records
    at their places, end of file."""
    width, height = 800, 400  # pixels: 21.2 x 10.6 cm
    font_face = "Arial".encode("utf-16-le").ljust(64, b"\0")
    logfont = struct.pack("<iiiiiBBBBBBBB", -16, 0, 0, 0, 400, 0, 0, 0, 1, 0, 0, 0, 0) + font_face
    records = [
        _record(17, struct.pack("<I", 1)),  # EMR_SETMAPMODE MM_TEXT
        _record(18, struct.pack("<I", 1)),  # EMR_SETBKMODE TRANSPARENT
        _record(24, struct.pack("<I", 0)),  # EMR_SETTEXTCOLOR black
        _record(22, struct.pack("<I", 24)),  # EMR_SETTEXTALIGN TA_BASELINE
        _record(82, struct.pack("<I", 1) + logfont),  # EMR_EXTCREATEFONTINDIRECTW
        _record(37, struct.pack("<I", 1)),  # EMR_SELECTOBJECT
        *[_text_record(x, y, t) for x, y, t in labels],
    ]
    eof = _record(14, struct.pack("<III", 0, 16, 20))
    header_size = 88
    size = header_size + sum(len(r) for r in records) + len(eof)
    header = struct.pack("<II", 1, header_size)
    header += struct.pack("<iiii", 0, 0, width - 1, height - 1)  # bounds (device pixels)
    header += struct.pack("<iiii", 0, 0, width * 2540 // 96, height * 2540 // 96)  # frame (0.01 mm)
    header += b" EMF" + struct.pack("<IIIHHIII", 0x10000, size, len(records) + 2, 2, 0, 0, 0, 0)
    header += struct.pack("<iiii", 1920, 1080, 508, 286)  # reference device: pixels, millimetres (96 dpi)
    assert len(header) == header_size
    return header + b"".join(records) + eof


def _row(x: int, y: int, *pieces: str) -> list[tuple[int, int, str]]:
    """Pieces of text drawn one after the other on a baseline (a trailing space is a gap, not drawn)."""
    out = []
    for piece in pieces:
        out.append((x, y, piece.strip()))
        x += sum(advances(piece))
    return out


def _sales_chart(document: Any) -> str:
    """Relate a Word chart « Ventes par canal » to the document; its relationship id."""
    chart = Part(
        PackURI("/word/charts/chart1.xml"),
        "application/vnd.openxmlformats-officedocument.drawingml.chart+xml",
        _chart_xml("Ventes par canal", ["Boutique", "Grossistes", "Export"], ["2024", "2025"]),
        document.part.package,
    )
    return str(document.part.relate_to(chart, RT.CHART))


def figures_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("1. Les ventes", level=1)
    document.add_paragraph(BODY[0])
    rid = _sales_chart(document)
    document.add_paragraph()._p.append(parse_xml(_inline(1, f'<c:chart r:id="{rid}"/>', CHART_URI)))
    document.add_paragraph(BODY[1])
    picture = Part(
        PackURI("/word/media/image1.emf"),
        "image/x-emf",
        emf([(20, 60, "Prospection"), (300, 60, "Devis"), (560, 60, "Signature"), (20, 180, "Fidélisation")]),
        document.part.package,
    )
    rid = document.part.relate_to(picture, RT.IMAGE)
    blip = (
        '<pic:pic><pic:nvPicPr><pic:cNvPr id="2" name="image1.emf"/><pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="5400000" cy="2700000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>'
    )
    document.add_paragraph()._p.append(parse_xml(_inline(2, blip, PICTURE_URI)))
    document.add_paragraph(BODY[2])
    document.save(str(path))
    return path


def test_chart_lines_read_title_axis_categories_and_legend() -> None:
    lines = chart_lines(_chart_xml("Ventes par canal", ["Boutique", "Export"], ["2024", "2025"]))
    assert lines == ["Ventes par canal", "Chiffre d’affaires (k€)", "Boutique | Export", "2024 | 2025"]
    # no title of its own and one series: Word draws the series name; no legend, no legend line
    single = chart_lines(_chart_xml(None, ["T1", "T2"], ["Marge brute"], legend=False))
    assert single == ["Chiffre d’affaires (k€)", "T1 | T2"]  # the title was deleted (autoTitleDeleted)
    assert chart_lines(b"<not xml") == [] and chart_lines(b"<c:chartSpace xmlns:c='x'/>") == []


def test_emf_lines_join_a_baseline_and_pieces_of_a_word() -> None:
    # pieces drawn one after the other: a piece ending in a space leaves a gap, "aire" starts where "prestat" ends
    picture = emf([*_row(20, 40, "Arrivée ", "du ", "prestat", "aire"), (20, 120, "Devis")])
    assert emf_lines(picture) == ["Arrivée du prestataire", "Devis"]
    assert emf_lines(b"\x01\0\0\0" + b"\0" * 100) == []  # no EMF signature
    assert emf_lines(picture[:150]) == []  # cut short: what can be read, nothing invented


def test_docx_reads_its_charts_and_emf_labels_where_they_stand(tmp_path: Path) -> None:
    d = ingest(figures_docx(tmp_path / "figures.docx"), Settings(data_dir=tmp_path / "data"))
    texts = [b.text for b in d.blocks]
    chart = texts.index("Ventes par canal | Chiffre d’affaires (k€) | Boutique | Grossistes | Export | 2024 | 2025")
    assert texts[chart - 1].startswith(BODY[0][:40]) and texts[chart + 1].startswith(BODY[1][:40])
    diagram = texts.index("Prospection Devis Signature | Fidélisation")
    assert texts[diagram + 1].startswith(BODY[2][:40])
    assert [b.kind for b in d.blocks if b.text in (texts[chart], texts[diagram])] == ["textbox", "textbox"]
    assert all(b.section == ["1. Les ventes"] for b in d.blocks if b.kind == "textbox")


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_the_figures_words_are_those_of_the_pdf_libreoffice_makes(tmp_path: Path) -> None:
    """The made files are real: LibreOffice draws the chart and the picture, and its PDF's words are
    the DOCX's words, figures included (this is how the EMF was checked to be one LibreOffice draws)."""
    path = figures_docx(tmp_path / "figures.docx")
    pdf_path = to_pdf(path, tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    ours = set(words(normalise(" ".join(b.text for b in ingest(path, settings).blocks))))
    pdf = set(words(normalise(" ".join(b.text for b in ingest(pdf_path, settings).blocks))))
    for label in ("ventes", "canal", "boutique", "grossistes", "export", "prospection", "signature", "fidélisation"):
        assert label in pdf and label in ours, (label, label in pdf, label in ours)
    # every word of the PDF is read from the DOCX; its numbers too, but the value axis's ticks
    # (0, 1000 … 9000), which the drawing program computes: not read
    assert {w for w in pdf - ours if not w.isdigit()} == set(), sorted(pdf - ours)
    assert {w for w in pdf - ours if w.isdigit()} == {str(n * 1000) for n in range(10)}


def test_a_chart_in_a_table_cell_is_read_after_its_table(tmp_path: Path) -> None:
    """A chart set in a table cell (a dashboard laid out as a table) was not read at all; its words
    now follow the table, in a block of their own, and the table's rows stay the table's."""
    document = docx.Document()
    document.add_heading("1. Tableau de bord", level=1)
    document.add_paragraph(BODY[0])
    rid = _sales_chart(document)
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Indicateur", "Graphique"
    table.rows[1].cells[0].text = "Chiffre d’affaires par canal de vente"
    table.rows[1].cells[1].paragraphs[0]._p.append(parse_xml(_inline(1, f'<c:chart r:id="{rid}"/>', CHART_URI)))
    document.add_paragraph(BODY[1])
    path = tmp_path / "tableau-de-bord.docx"
    document.save(str(path))
    d = ingest(path, Settings(data_dir=tmp_path / "data"))
    kinds = [(b.kind, b.text) for b in d.blocks]
    at = next(i for i, (k, _) in enumerate(kinds) if k == "table")
    assert d.blocks[at].rows == [["Indicateur", "Graphique"], ["Chiffre d’affaires par canal de vente", ""]]
    assert kinds[at + 1][0] == "textbox" and "Ventes par canal" in kinds[at + 1][1]
    assert all(w in kinds[at + 1][1] for w in ("Boutique", "Grossistes", "Export"))
    assert kinds[at + 2][1].startswith(BODY[1][:40])


def _turned(x: float, y: float, s: str, up: bool = True, size: float = 10, one_by_one: bool = False) -> str:
    """Text written upwards (a chart's vertical axis title) or downwards, as one string or glyph by glyph
    (each placed by its own matrix, as LibreOffice draws a chart's rotated title)."""
    a, b, c, d = (0, 1, -1, 0) if up else (0, -1, 1, 0)
    if not one_by_one:
        return f"BT /F1 {size} Tf {a} {b} {c} {d} {x} {y} Tm ({_esc(s)}) Tj ET\n"
    out, at = "", 0.0
    for ch in s:
        gx, gy = (x, y + at) if up else (x, y - at)
        out += f"BT /F1 {size} Tf {a} {b} {c} {d} {gx:.2f} {gy:.2f} Tm ({_esc(ch)}) Tj ET\n"
        at += _WIDTHS.get(ch, 667) * size / 1000
    return out


def test_pdf_text_written_upwards_or_downwards_is_read_as_lines(tmp_path: Path) -> None:
    """A chart's vertical axis title drawn glyph by glyph read 'C hiffr / e d’a / ffair / e s (k€)' in
    four paragraphs; a label written downwards and a page of lines turned a quarter (a landscape table
    set in a portrait page) read as their lines."""
    pdf = Pdf()
    pdf.page(
        text(72, 780, BODY[0])
        + _turned(60, 500, "Chiffre d’affaires (k€)", one_by_one=True)
        + text(100, 520, "2024")
        + _turned(400, 600, "Source : enquête clients", up=False)
        + text(72, 300, BODY[1])
    )
    landscape = "".join(_turned(100 + 16 * i, 80, line) for i, line in enumerate(BODY))
    pdf.page(landscape)
    d = read(tmp_path, "tourne.pdf", pdf.bytes())
    texts = [b.text for b in d.blocks]
    assert "Chiffre d’affaires (k€)" in texts and "Source : enquête clients" in texts, texts
    for line in BODY:
        assert sum(line.strip() in t for t in texts) >= 1, (line, texts)


def test_a_word_cut_at_a_narrow_box_edge_is_joined_back(tmp_path: Path) -> None:
    """LibreOffice draws a diagram label that does not fit its box over two lines, cut without a
    hyphen ('prestatair' / 'e'): read as one word when the cut piece is no French word and the
    whole is one (or a word of the document); two words stay two, and so does a label's letter."""
    pdf = Pdf()
    pdf.page(
        text(72, 780, BODY[0])
        + text(100, 600, "Arrivée du prestatair", size=9)
        + text(100, 589, "e au poste", size=9)
        + text(300, 600, "champ updated_", size=9)
        + text(300, 589, "at de la table", size=9)
        + text(72, 500, "Le tableau présente le chiffre")
        + text(72, 487, "on le voit en annexe, pour 1..n")
        + text(72, 474, "id de client et updated_at de la commande.")
    )
    texts = " ".join(b.text for b in read(tmp_path, "boites.pdf", pdf.bytes()).blocks)
    assert "Arrivée du prestataire au poste" in texts and "champ updated_at de la table" in texts, texts
    assert "le chiffre on le voit" in texts and "1..n id de client" in texts, texts


def test_a_word_whose_last_letters_wrap_alone_in_a_narrow_cell_is_joined_back() -> None:
    """A Google-Docs table printed by LibreOffice broke the header « Part des membres » of a
    narrow column into « Part des membre » / « s »: the cut piece is a word, but one or two
    letters that are none cannot start a line of text. Two words stay two (« il y » / « a »)."""
    from pipeline.ingest.layout import cut_word, join_lines

    assert join_lines("Part des membre", "s", set()) == "Part des membres"
    assert join_lines("les chiffre", "s du marché", set()) == "les chiffres du marché"
    assert join_lines("il y", "a des places", set()) == "il y a des places"
    assert not cut_word("Marge", "brute", set()) and not cut_word("les client", "es", set())
    assert join_lines("du secteur public", "s’améliore", set()) == "du secteur public s’améliore"
