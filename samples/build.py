#!/usr/bin/env python3
"""Build the sample dossiers of samples/<dossier>/source.md into DOCX and/or PDF.

Usage:
    python samples/build.py              # build every samples/*/source.md
    python samples/build.py NAME [NAME]  # build samples/NAME/source.md only

Markup of source.md (see samples/README.md):
    front matter between '---' lines (YAML): title, subtitle, candidate, company, date,
    module (M1|M2), formats ([docx, pdf] or [pdf]), layout (portrait|slides|deck);
    optional: style (word|gdocs), lists (real|typed), producer (libreoffice|latex|chromium),
    toc (bool), header (bool), scan_pages ([N, ...]), columns (1|2, latex only) -- see samples/README.md
    '# ', '## ', '### '          -> Heading 1 / 2 / 3
    blank-line separated text    -> Normal paragraph
    '- item' / '1. item'         -> List Bullet / List Number (numbering restarts per list)
    pipe table + '|---|' line    -> table, style Table Grid, header row bold
    'Tableau N : ...' before one -> Caption paragraph
    '[PAGEBREAK]'                -> page break
    '**bold**'                   -> bold run
    '{{hidden:text}}'            -> white 1 pt run (manipulation samples only)

The DOCX is written with fixed core properties and fixed zip timestamps, so rebuilding an
unchanged source gives a byte-identical DOCX. The PDF is produced by LibreOffice
(soffice --headless --convert-to pdf); its text is stable, its metadata dates are not.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

SAMPLES_DIR = Path(__file__).resolve().parent
FIXED_DATE = _dt.datetime(2025, 1, 1, 12, 0, 0)
ZIP_DATE = (2025, 1, 1, 12, 0, 0)

HEADING_RE = re.compile(r"^(#{1,3})\s+(.*\S)\s*$")
BULLET_RE = re.compile(r"^[-*]\s+(.*\S)\s*$")
NUMBER_RE = re.compile(r"^\d+[.)]\s+(.*\S)\s*$")
TABLE_SEP_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
CAPTION_RE = re.compile(r"^(Tableau|Figure|Table)\s+\d+\s*:")
INLINE_RE = re.compile(r"(\*\*.+?\*\*|\{\{hidden:.*?\}\})")
PAGEBREAK = "[PAGEBREAK]"
DECK_W, DECK_H = 25.4, 14.2875  # 16:9, the size PowerPoint and Google Slides export


# ----------------------------------------------------------------------------- parsing


def split_front_matter(text: str) -> tuple[dict, str]:
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        raise ValueError("source.md must start with a front matter block between '---' lines")
    lines = text.splitlines()
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    body = "\n".join(lines[end + 1 :])
    meta.setdefault("subtitle", "")
    meta.setdefault("formats", ["docx", "pdf"])
    meta.setdefault("layout", "portrait")
    meta.setdefault("style", "word")
    meta.setdefault("lists", "real")
    meta.setdefault("producer", "libreoffice")
    plain = meta["style"] == "gdocs" or meta["layout"] == "deck"
    meta.setdefault("toc", not plain)
    meta.setdefault("header", not plain)
    meta.setdefault("scan_pages", [])
    if meta["layout"] not in ("portrait", "slides", "deck"):
        raise ValueError(f"unknown layout {meta['layout']!r}")
    if meta["style"] not in ("word", "gdocs") or meta["lists"] not in ("real", "typed"):
        raise ValueError(f"unknown style/lists {meta['style']!r}/{meta['lists']!r}")
    if meta["producer"] not in ("libreoffice", "latex", "chromium"):
        raise ValueError(f"unknown producer {meta['producer']!r}")
    for key in ("title", "candidate", "company", "date", "module"):
        if key not in meta:
            raise ValueError(f"front matter lacks '{key}'")
    meta["formats"] = [str(f).lower() for f in meta["formats"]]
    return meta, body


def parse_blocks(body: str) -> list[tuple]:
    """Return a list of blocks: (kind, payload)."""
    lines = body.splitlines()
    blocks: list[tuple] = []
    para: list[str] = []

    def flush_para():
        if para:
            blocks.append(("para", " ".join(s.strip() for s in para)))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            flush_para()
            i += 1
            continue
        if stripped == PAGEBREAK:
            flush_para()
            blocks.append(("pagebreak", None))
            i += 1
            continue
        m = HEADING_RE.match(stripped)
        if m:
            flush_para()
            blocks.append((f"h{len(m.group(1))}", m.group(2)))
            i += 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and TABLE_SEP_RE.match(lines[i + 1].strip()):
            flush_para()
            rows = [split_row(stripped)]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(split_row(lines[i].strip()))
                i += 1
            # a 'Tableau N : ...' paragraph just before the table becomes its caption
            if blocks and blocks[-1][0] == "para" and CAPTION_RE.match(blocks[-1][1]):
                blocks[-1] = ("caption", blocks[-1][1])
            blocks.append(("table", rows))
            continue
        m = BULLET_RE.match(stripped)
        if m and not para:
            blocks.append(("bullet", m.group(1)))
            i += 1
            continue
        m = NUMBER_RE.match(stripped)
        if m and not para:
            blocks.append(("number", m.group(1)))
            i += 1
            continue
        para.append(stripped)
        i += 1
    flush_para()
    # a caption line directly followed (after a blank) by a table is handled above;
    # mark list starts so that numbering restarts for each numbered list
    out: list[tuple] = []
    prev = None
    for kind, payload in blocks:
        if kind == "number":
            out.append(("number", (payload, prev != "number")))
        else:
            out.append((kind, payload))
        prev = kind
    return out


def split_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


# ----------------------------------------------------------------------------- docx helpers


def add_inline(paragraph, text: str, bold: bool = False) -> None:
    for part in INLINE_RE.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**") and len(part) >= 4:
            run = paragraph.add_run(part[2:-2])
            run.bold = True
        elif part.startswith("{{hidden:") and part.endswith("}}"):
            run = paragraph.add_run(part[len("{{hidden:") : -2])
            run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
            run.font.size = Pt(1)
            if bold:
                run.bold = True
        else:
            run = paragraph.add_run(part)
            if bold:
                run.bold = True


def add_page_field(paragraph) -> None:
    """Append a PAGE field (complex field, rendered by Word and LibreOffice)."""

    def fld(kind):
        r = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        r._r.append(el)
        return r

    fld("begin")
    r = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    r._r.append(instr)
    fld("separate")
    paragraph.add_run("1")
    fld("end")


def ensure_toc_styles(doc) -> None:
    """Add the built-in 'toc 1' / 'toc 2' styles (absent from python-docx's template).

    Word stores built-in TOC styles with the lower-case name 'toc 1' and style id 'TOC1';
    python-docx therefore reports them as 'toc 1', exactly as for a file saved by Word.
    """
    styles = doc.styles
    names = {s.name.lower() for s in styles}
    for level, indent in ((1, 0), (2, 0.6)):
        name = f"toc {level}"
        if name in names:
            continue
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.element.set(qn("w:styleId"), f"TOC{level}")
        st.base_style = styles["Normal"]
        st.next_paragraph_style = styles["Normal"]
        st.unhide_when_used = True
        st.priority = 39
        pf = st.paragraph_format
        pf.left_indent = Cm(indent)
        pf.space_after = Pt(4)
        if level == 1:
            st.font.bold = True


def new_numbered_list(doc) -> int | None:
    """Create a w:num on the List Number definition that restarts at 1; return its id."""
    numbering = doc.part.numbering_part.element
    style = doc.styles["List Number"]
    numpr = style.element.pPr.numPr if style.element.pPr is not None else None
    if numpr is None or numpr.numId is None:
        return None
    abstract_id = None
    for num in numbering.findall(qn("w:num")):
        if num.get(qn("w:numId")) == str(numpr.numId.val):
            abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    if abstract_id is None:
        return None
    new_id = max(int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))) + 1
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), str(new_id))
    a = OxmlElement("w:abstractNumId")
    a.set(qn("w:val"), abstract_id)
    num.append(a)
    ov = OxmlElement("w:lvlOverride")
    ov.set(qn("w:ilvl"), "0")
    so = OxmlElement("w:startOverride")
    so.set(qn("w:val"), "1")
    ov.append(so)
    num.append(ov)
    numbering.append(num)
    return new_id


def set_num_id(paragraph, num_id: int) -> None:
    """Attach the paragraph to numbering instance num_id (w:numPr right after w:pStyle)."""
    pPr = paragraph._p.get_or_add_pPr()
    numPr = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), "0")
    nid = OxmlElement("w:numId")
    nid.set(qn("w:val"), str(num_id))
    numPr.append(ilvl)
    numPr.append(nid)
    pstyle = pPr.find(qn("w:pStyle"))
    if pstyle is not None:
        pstyle.addnext(numPr)
    else:
        pPr.insert(0, numPr)


def widen_list_indent(paragraph) -> None:
    """The template's list indents suit 11 pt text; give 20 pt slide text room for the mark."""
    paragraph.paragraph_format.left_indent = Cm(1.3)
    paragraph.paragraph_format.first_line_indent = Cm(-0.9)


def set_row_flag(row, tag: str) -> None:
    """Set a boolean row property (w:tblHeader: repeat on each page; w:cantSplit: keep whole)."""
    trPr = row._tr.get_or_add_trPr()
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    trPr.append(el)


def set_column_widths(table, rows: list[list[str]], total_cm: float, char_cm: float) -> None:
    """Share the text width between columns: each column first gets room for its longest
    word, the rest is shared by the length of its content."""
    ncols = len(table.columns)
    minimum, weights = [], []
    for ci in range(ncols):
        texts = [INLINE_RE.sub(lambda m: m.group(0).strip("*"), r[ci]) if ci < len(r) else "" for r in rows]
        lengths = [len(t) for t in texts]
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        minimum.append(longest_word * char_cm * (1.15 if ci == 0 else 1.0) + 0.45)
        weights.append(max(1.0, 0.5 * max(lengths) + 0.5 * sum(lengths) / len(lengths)))
    spare = total_cm - sum(minimum)
    if spare <= 0:
        widths = [total_cm * m / sum(minimum) for m in minimum]
    else:
        widths = [m + spare * w / sum(weights) for m, w in zip(minimum, weights, strict=True)]
    table.autofit = False
    for ci, width_cm in enumerate(widths):
        width = Cm(width_cm)
        table.columns[ci].width = width
        for cell in table.columns[ci].cells:
            cell.width = width


def text_width_cm(meta: dict) -> float:
    """Width between the margins set by configure_layout."""
    if meta["layout"] == "deck":
        return DECK_W - 2 * 1.5
    return 29.7 - 2 * 2.0 if meta["layout"] == "slides" else 21.0 - 2 * 2.2


def configure_layout(doc, meta) -> None:
    if meta["layout"] == "deck":
        configure_deck(doc)
        return
    if meta["style"] == "gdocs":
        configure_gdocs(doc)
        return
    section = doc.sections[0]
    slides = meta["layout"] == "slides"
    # A4
    if slides:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2.0))
        section.top_margin = section.bottom_margin = Cm(2.0)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin = section.bottom_margin = Cm(2.2)
    section.header_distance = section.footer_distance = Cm(1.0)

    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Liberation Sans" if slides else "Liberation Serif"
    normal.font.size = Pt(20) if slides else Pt(11)
    normal.paragraph_format.space_after = Pt(8 if slides else 6)
    if slides:
        for name, size in (("Heading 1", 28), ("Heading 2", 28), ("Heading 3", 24)):
            st = styles[name]
            st.font.size = Pt(size)
            if name in ("Heading 1", "Heading 2"):
                st.paragraph_format.page_break_before = True
        for name in ("List Bullet", "List Number", "Caption"):
            st = styles[name]
            st.font.size = Pt(20) if name != "Caption" else Pt(16)
    else:
        for name, points in (("Heading 1", 16.0), ("Heading 2", 13.0), ("Heading 3", 11.5)):
            styles[name].font.size = Pt(points)


def configure_deck(doc) -> None:
    """16:9 pages, sans-serif 18 pt body, 26 pt titles each opening a slide."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(DECK_W), Cm(DECK_H)
    section.left_margin = section.right_margin = Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(1.2), Cm(1.4)
    section.header_distance = section.footer_distance = Cm(0.6)
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Liberation Sans"
    normal.font.size = Pt(18)
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Heading 1", 26), ("Heading 2", 26), ("Heading 3", 20)):
        st = styles[name]
        st.font.size = Pt(size)
        st.font.name = "Liberation Sans"
        if name in ("Heading 1", "Heading 2"):
            st.paragraph_format.page_break_before = True
    for name in ("List Bullet", "List Number"):
        styles[name].font.size = Pt(18)
    styles["Caption"].font.size = Pt(12)
    styles["Title"].font.size = Pt(34)


def configure_gdocs(doc) -> None:
    """What a Google Docs export looks like: Arial 11, 1.15 lines, no space after paragraphs."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.54)
    section.top_margin = section.bottom_margin = Cm(2.54)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15


def make_header_footer(doc, meta) -> None:
    if not meta["header"]:
        if meta["layout"] == "deck":  # a slide number, bottom right, nothing else
            fp = doc.sections[0].footer.paragraphs[0]
            fp.style = doc.styles["Footer"]
            fp.alignment = 2  # right
            add_page_field(fp)
            for r in fp.runs:
                r.font.size = Pt(10)
        return
    section = doc.sections[0]
    header_text = f"{meta['company']} — Dossier {meta['module']} — {meta['candidate']}"
    hp = section.header.paragraphs[0]
    hp.text = header_text
    hp.style = doc.styles["Header"]
    fp = section.footer.paragraphs[0]
    fp.style = doc.styles["Footer"]
    fp.add_run("Page ")
    add_page_field(fp)
    small = Pt(12) if meta["layout"] == "slides" else Pt(9)
    for p in (hp, fp):
        for r in p.runs:
            r.font.size = small


def page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def build_docx(meta: dict, blocks: list[tuple], out_path: Path) -> None:
    doc = Document()
    configure_layout(doc, meta)
    ensure_toc_styles(doc)
    make_header_footer(doc, meta)

    gdocs = meta["style"] == "gdocs"
    if gdocs:
        gdocs_title(doc, meta)
    else:
        # title page
        doc.add_paragraph(str(meta["title"]), style="Title")
        if meta.get("subtitle"):
            doc.add_paragraph(str(meta["subtitle"]), style="Subtitle")
        doc.add_paragraph(f"Module {meta['module']}")
        doc.add_paragraph(f"Candidat : {meta['candidate']}")
        doc.add_paragraph(f"Entreprise : {meta['company']}")
        doc.add_paragraph(str(meta["date"]))
        if meta["layout"] != "deck" or meta["toc"]:
            page_break(doc)

    if meta["toc"]:
        # static table of contents
        toc_title = doc.add_paragraph("Sommaire", style="TOC Heading")
        toc_title.paragraph_format.page_break_before = False
        for kind, payload in blocks:
            if kind == "h1":
                doc.add_paragraph(INLINE_RE.sub(lambda m: m.group(0).strip("*"), payload), style="toc 1")
            elif kind == "h2":
                doc.add_paragraph(INLINE_RE.sub(lambda m: m.group(0).strip("*"), payload), style="toc 2")
        page_break(doc)

    slides = meta["layout"] in ("slides", "deck")
    deck = meta["layout"] == "deck"
    if gdocs:
        add_gdocs_body(doc, meta, blocks)
        finish_docx(doc, meta, out_path)
        return
    first_heading = not (deck and not meta["toc"])
    list_num_id: int | None = None
    for kind, payload in blocks:
        if kind in ("h1", "h2", "h3"):
            p = doc.add_heading(level=int(kind[1]))
            add_inline(p, payload)
            if slides and first_heading:
                # the TOC already ended with a page break
                p.paragraph_format.page_break_before = False
            first_heading = False
        elif kind == "para":
            p = doc.add_paragraph()
            add_inline(p, payload)
        elif kind == "caption":
            p = doc.add_paragraph(style="Caption")
            add_inline(p, payload)
            p.paragraph_format.keep_with_next = True
        elif kind == "bullet":
            p = doc.add_paragraph(style="List Bullet")
            add_inline(p, payload)
            if slides:
                widen_list_indent(p)
        elif kind == "number":
            text, start = payload
            p = doc.add_paragraph(style="List Number")
            add_inline(p, text)
            if start:
                list_num_id = new_numbered_list(doc)
            if list_num_id is not None:
                set_num_id(p, list_num_id)
            if slides:
                widen_list_indent(p)
        elif kind == "pagebreak":
            page_break(doc)
        elif kind == "table":
            rows = payload
            ncols = max(len(r) for r in rows)
            table = doc.add_table(rows=len(rows), cols=ncols)
            table.style = doc.styles["Table Grid"]
            for ri, row in enumerate(rows):
                for ci in range(ncols):
                    cell = table.cell(ri, ci)
                    text = row[ci] if ci < len(row) else ""
                    p = cell.paragraphs[0]
                    add_inline(p, text, bold=(ri == 0))
                    p.paragraph_format.space_after = Pt(0)
                    if slides:
                        for r in p.runs:
                            if r.font.size is None:
                                r.font.size = Pt(12 if deck else 14)
            for row in table.rows:  # schema order in w:trPr: cantSplit before tblHeader
                set_row_flag(row, "w:cantSplit")
            set_row_flag(table.rows[0], "w:tblHeader")
            for row in table.rows[:-1]:  # keep a table on one page when it fits
                for cell in row.cells:
                    for cp in cell.paragraphs:
                        cp.paragraph_format.keep_with_next = True
            set_column_widths(table, rows, text_width_cm(meta), (0.26 if deck else 0.3) if slides else 0.21)
            doc.add_paragraph()  # spacing after the table
        else:  # pragma: no cover
            raise ValueError(kind)
    finish_docx(doc, meta, out_path)


def finish_docx(doc, meta: dict, out_path: Path) -> None:
    cp = doc.core_properties
    cp.author = str(meta["candidate"])
    cp.last_modified_by = str(meta["candidate"])
    cp.title = str(meta["title"])
    cp.subject = f"Dossier {meta['module']}"
    cp.created = FIXED_DATE
    cp.modified = FIXED_DATE
    cp.last_printed = FIXED_DATE
    cp.revision = 1
    cp.comments = ""
    cp.keywords = ""

    buf = io.BytesIO()
    doc.save(buf)
    write_stable_zip(buf.getvalue(), out_path)


def write_stable_zip(data: bytes, out_path: Path) -> None:
    """Rewrite the DOCX zip with fixed timestamps (byte-stable rebuilds)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    out_path.write_bytes(out.getvalue())


# ----------------------------------------------------------------------------- gdocs style


def gdocs_title(doc, meta: dict) -> None:
    """No Title style: a big bold Normal paragraph, then the author lines, as typed in Google Docs."""
    p = doc.add_paragraph()
    r = p.add_run(str(meta["title"]))
    r.bold = True
    r.font.size = Pt(20)
    if meta.get("subtitle"):
        p = doc.add_paragraph()
        r = p.add_run(str(meta["subtitle"]))
        r.font.size = Pt(13)
        r.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
    for line in (f"{meta['candidate']} ({meta['company']})", f"Module {meta['module']} · {meta['date']}"):
        doc.add_paragraph(line)
    doc.add_paragraph()


def bold_paragraph(doc, text: str, size: float, space_before: float):
    p = doc.add_paragraph()
    add_inline(p, text.replace("**", ""), bold=True)
    for r in p.runs:
        r.font.size = Pt(size)
    p.paragraph_format.space_before = Pt(space_before)
    p.paragraph_format.space_after = Pt(4)
    p.paragraph_format.keep_with_next = True
    return p


def add_gdocs_body(doc, meta: dict, blocks: list[tuple]) -> None:
    """Headings are bold Normal paragraphs (no Heading style); lists are Normal paragraphs with
    direct numbering (lists: real) or typed '- ' / 'N. ' text (lists: typed); captions italic."""
    bullet_num = doc.styles["List Bullet"].element.pPr.numPr.numId.val
    list_num_id: int | None = None
    counter = 0
    for kind, payload in blocks:
        if kind in ("h1", "h2", "h3"):
            size, before = {"h1": (16, 18), "h2": (13, 14), "h3": (11.5, 10)}[kind]
            bold_paragraph(doc, payload, size, before)
        elif kind == "para":
            p = doc.add_paragraph()
            add_inline(p, payload)
            p.paragraph_format.space_after = Pt(8)
        elif kind == "caption":
            p = doc.add_paragraph()
            add_inline(p, payload)
            for r in p.runs:
                r.italic = True
            p.paragraph_format.keep_with_next = True
        elif kind == "bullet":
            if meta["lists"] == "typed":
                p = doc.add_paragraph()
                add_inline(p, "- " + payload)
            else:
                p = doc.add_paragraph()
                add_inline(p, payload)
                set_num_id(p, bullet_num)
        elif kind == "number":
            text, start = payload
            counter = 1 if start else counter + 1
            if meta["lists"] == "typed":
                p = doc.add_paragraph()
                add_inline(p, f"{counter}. {text}")
            else:
                p = doc.add_paragraph()
                add_inline(p, text)
                if start:
                    list_num_id = new_numbered_list(doc)
                if list_num_id is not None:
                    set_num_id(p, list_num_id)
        elif kind == "pagebreak":
            page_break(doc)
        elif kind == "table":
            rows = payload
            ncols = max(len(r) for r in rows)
            table = doc.add_table(rows=len(rows), cols=ncols)
            table.style = doc.styles["Table Grid"]
            for ri, row in enumerate(rows):
                for ci in range(ncols):
                    cp = table.cell(ri, ci).paragraphs[0]
                    add_inline(cp, row[ci] if ci < len(row) else "", bold=(ri == 0))
            set_column_widths(table, rows, 21.0 - 2 * 2.54, 0.21)
            doc.add_paragraph()
        else:  # pragma: no cover
            raise ValueError(kind)


# ----------------------------------------------------------------------------- other pdf producers


def plain(text: str) -> str:
    return INLINE_RE.sub(lambda m: m.group(0).strip("*"), text)


def html_inline(text: str) -> str:
    import html

    out = []
    for part in INLINE_RE.split(text):
        if part.startswith("**") and part.endswith("**") and len(part) >= 4:
            out.append(f"<strong>{html.escape(part[2:-2])}</strong>")
        elif part:
            out.append(html.escape(part))
    return "".join(out)


HTML_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; line-height: 1.4; color: #222; }
h1 { font-size: 17pt; color: #1f4e79; border-bottom: 2px solid #1f4e79; margin-top: 18pt; }
h2 { font-size: 13pt; color: #1f4e79; margin-top: 12pt; }
h3 { font-size: 11pt; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0 12pt 0; font-size: 8.5pt; }
th, td { border: 1px solid #8497b0; padding: 3pt 4pt; vertical-align: top; text-align: left; }
th { background: #dde6f0; }
tr { break-inside: avoid; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: 3pt; }
.cover { height: 240mm; display: flex; flex-direction: column; justify-content: center; }
.cover h1 { border: none; font-size: 24pt; }
.pb { break-after: page; }
"""


def build_html(meta: dict, blocks: list[tuple]) -> str:
    import html

    out = [
        f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{html.escape(str(meta['title']))}</title>",
        f"<style>{HTML_CSS}</style></head><body>",
        "<div class='cover'>",
        f"<h1>{html.escape(str(meta['title']))}</h1>",
    ]
    if meta.get("subtitle"):
        out.append(f"<p>{html.escape(str(meta['subtitle']))}</p>")
    out.append(
        f"<p>Module {meta['module']} — {html.escape(str(meta['candidate']))} — "
        f"{html.escape(str(meta['company']))} — {html.escape(str(meta['date']))}</p></div><div class='pb'></div>"
    )
    caption = None
    open_list = None
    for kind, payload in blocks:
        if open_list and kind not in (open_list,):
            out.append(f"</{'ul' if open_list == 'bullet' else 'ol'}>")
            open_list = None
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{html_inline(payload)}</{kind}>")
        elif kind == "para":
            out.append(f"<p>{html_inline(payload)}</p>")
        elif kind == "caption":
            caption = payload
        elif kind == "bullet":
            if open_list != "bullet":
                out.append("<ul>")
                open_list = "bullet"
            out.append(f"<li>{html_inline(payload)}</li>")
        elif kind == "number":
            text, start = payload
            if open_list != "number" or start:
                if open_list:
                    out.append("</ol>")
                out.append("<ol>")
                open_list = "number"
            out.append(f"<li>{html_inline(text)}</li>")
        elif kind == "pagebreak":
            out.append("<div class='pb'></div>")
        elif kind == "table":
            rows = payload
            out.append("<table>")
            if caption:
                out.append(f"<caption>{html_inline(caption)}</caption>")
                caption = None
            out.append("<thead><tr>" + "".join(f"<th>{html_inline(c)}</th>" for c in rows[0]) + "</tr></thead><tbody>")
            for row in rows[1:]:
                out.append("<tr>" + "".join(f"<td>{html_inline(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
    if open_list:
        out.append(f"</{'ul' if open_list == 'bullet' else 'ol'}>")
    out.append("</body></html>")
    return "\n".join(out)


def chromium_pdf(meta: dict, blocks: list[tuple], pdf_path: Path) -> None:
    """Print an HTML rendering with headless Chromium (a 'save as PDF' from a web editor)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        raise SystemExit("chromium not found: install it to build this sample")
    with tempfile.TemporaryDirectory(prefix="chromium_") as tmp:
        src = Path(tmp) / "dossier.html"
        src.write_text(build_html(meta, blocks), encoding="utf-8")
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            src.as_uri(),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if not pdf_path.exists():
        raise RuntimeError(f"chromium failed for {pdf_path}:\n{res.stdout}\n{res.stderr}")


LATEX_HEADER = r"""
\usepackage{microtype}
\input{glyphtounicode}
\pdfgentounicode=1
\hyphenpenalty=10000
\exhyphenpenalty=10000
\emergencystretch=3em
\usepackage{fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\fancyfoot[C]{\thepage}
\renewcommand{\headrulewidth}{0pt}
"""


def latex_markdown(meta: dict, body: str) -> str:
    """source.md body -> pandoc markdown: page breaks, 'Tableau N :' captions after the table."""
    lines = body.splitlines()
    out: list[str] = []
    pending_caption = None
    i = 0
    while i < len(lines):
        line = lines[i]
        st = line.strip()
        if st == PAGEBREAK:
            out.append("\\newpage")
        elif CAPTION_RE.match(st) and i + 2 < len(lines) and lines[i + 2].strip().startswith("|"):
            pending_caption = re.sub(r"^(Tableau|Figure|Table)\s+\d+\s*:\s*", "", st)
        elif st.startswith("|"):
            out.append(line)
            if not (i + 1 < len(lines) and lines[i + 1].strip().startswith("|")) and pending_caption:
                out.extend(["", f": {pending_caption}"])
                pending_caption = None
        else:
            out.append(line)
        i += 1
    return "\n".join(out)


def latex_pdf(meta: dict, body: str, pdf_path: Path) -> None:
    """pandoc (markdown -> LaTeX, article class, numbered sections, TOC) then pdflatex."""
    if not shutil.which("pandoc") or not shutil.which("pdflatex"):
        raise SystemExit(
            "pandoc and pdflatex are needed: apt-get install pandoc texlive-latex-recommended texlive-lang-french"
        )
    with tempfile.TemporaryDirectory(prefix="latex_") as tmp:
        t = Path(tmp)
        (t / "body.md").write_text(latex_markdown(meta, body), encoding="utf-8")
        (t / "header.tex").write_text(LATEX_HEADER, encoding="utf-8")
        two = int(meta.get("columns", 1)) == 2
        meta_yaml = {
            "title": str(meta["title"]),
            "subtitle": str(meta.get("subtitle") or ""),
            "author": f"{meta['candidate']} — {meta['company']}",
            "date": f"{meta['date']} — Module {meta['module']}",
            "lang": "fr-FR",
            "documentclass": "article",
            # two columns: 12 pt, title and contents on their own pages (a typical LaTeX report)
            "classoption": ["11pt", "a4paper"] if not two else ["12pt", "a4paper", "twocolumn", "titlepage"],
            "geometry": "margin=2.4cm" if not two else "margin=2cm",
            "fontfamily": "lmodern",
            "toc-title": "Table des matières",
        }
        (t / "meta.yaml").write_text(yaml.safe_dump(meta_yaml, allow_unicode=True), encoding="utf-8")
        cmd = [
            "pandoc",
            "body.md",
            "--metadata-file=meta.yaml",
            "--from=markdown-smart-auto_identifiers",
            "--number-sections",
            "--toc",
            "--pdf-engine=pdflatex",
            "-H",
            "header.tex",
            "-o",
            "out.pdf",
        ]
        res = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600)
        if res.returncode != 0 or not (t / "out.pdf").exists():
            raise RuntimeError(f"pandoc/pdflatex failed:\n{res.stdout}\n{res.stderr}")
        shutil.copyfile(t / "out.pdf", pdf_path)


def scan_pages(pdf_path: Path, pages: list[int]) -> None:
    """Replace the given pages (1-based) by a 200 dpi grey scan, slightly tilted and noisy,
    then give them a text layer with ocrmypdf -l fra (a page printed, signed, scanned, OCRed)."""
    import random

    from PIL import Image, ImageFilter
    from pypdf import PdfReader, PdfWriter

    if not shutil.which("ocrmypdf") or not shutil.which("pdftoppm"):
        raise SystemExit("ocrmypdf, tesseract-ocr-fra and poppler-utils are needed for scan_pages")
    with tempfile.TemporaryDirectory(prefix="scan_") as tmp:
        t = Path(tmp)
        scanned: dict[int, Path] = {}
        for n in pages:
            subprocess.run(
                ["pdftoppm", "-r", "200", "-gray", "-f", str(n), "-l", str(n), "-png", str(pdf_path), str(t / f"p{n}")],
                check=True,
                timeout=120,
            )
            png = next(t.glob(f"p{n}*.png"))
            img = Image.open(png).convert("L")
            img = img.rotate(0.7, resample=Image.BICUBIC, expand=False, fillcolor=255)
            rnd = random.Random(n)
            px = img.load()
            w, h = img.size
            for _ in range(w * h // 400):  # dust
                x, y = rnd.randrange(w), rnd.randrange(h)
                px[x, y] = rnd.randrange(90, 200)
            img = img.filter(ImageFilter.GaussianBlur(0.5))
            raw = t / f"scan{n}.pdf"
            img.save(raw, "PDF", resolution=200.0)
            ocr = t / f"ocr{n}.pdf"
            res = subprocess.run(
                ["ocrmypdf", "-l", "fra", "--output-type", "pdf", "--optimize", "0", str(raw), str(ocr)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if res.returncode != 0:
                raise RuntimeError(f"ocrmypdf failed:\n{res.stderr[-2000:]}")
            scanned[n] = ocr
        reader = PdfReader(str(pdf_path))
        writer = PdfWriter()
        for i, page in enumerate(reader.pages, start=1):
            if i in scanned:
                writer.add_page(PdfReader(str(scanned[i])).pages[0])
            else:
                writer.add_page(page)
        out = t / "out.pdf"
        with open(out, "wb") as fh:
            writer.write(fh)
        shutil.copyfile(out, pdf_path)


# ----------------------------------------------------------------------------- pdf


def soffice_binary() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("LibreOffice (soffice) not found: install it to build PDFs")


def docx_to_pdf(docx_path: Path, outdir: Path) -> Path:
    # a private profile per run, so that concurrent builds do not fight over one profile
    with tempfile.TemporaryDirectory(prefix="lo_profile_") as profile:
        cmd = [
            soffice_binary(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(docx_path),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    pdf = outdir / (docx_path.stem + ".pdf")
    if res.returncode != 0 or not pdf.exists():
        raise RuntimeError(f"PDF conversion failed for {docx_path}:\n{res.stdout}\n{res.stderr}")
    return pdf


# ----------------------------------------------------------------------------- driver


def build_one(folder: Path) -> list[Path]:
    source = folder / "source.md"
    meta, body = split_front_matter(source.read_text(encoding="utf-8"))
    blocks = parse_blocks(body)
    name = folder.name
    formats = meta["formats"]
    unknown = set(formats) - {"docx", "pdf"}
    if unknown or not formats:
        raise ValueError(f"{name}: bad formats {formats}")
    docx_path = folder / f"{name}.docx"
    pdf_path = folder / f"{name}.pdf"
    build_docx(meta, blocks, docx_path)
    built = []
    if "pdf" in formats:
        if meta["producer"] == "latex":
            latex_pdf(meta, body, pdf_path)
        elif meta["producer"] == "chromium":
            chromium_pdf(meta, blocks, pdf_path)
        else:
            docx_to_pdf(docx_path, folder)
        if meta["scan_pages"]:
            scan_pages(pdf_path, [int(n) for n in meta["scan_pages"]])
        built.append(pdf_path)
    elif pdf_path.exists():
        pdf_path.unlink()
    if "docx" in formats:
        built.insert(0, docx_path)
    else:
        docx_path.unlink()
    return built


def main(argv: list[str]) -> int:
    if argv:
        folders = []
        for arg in argv:
            p = Path(arg)
            folder = p if (p / "source.md").exists() else SAMPLES_DIR / p.name
            if not (folder / "source.md").exists():
                print(f"no source.md for {arg}", file=sys.stderr)
                return 2
            folders.append(folder)
    else:
        folders = sorted(p.parent for p in SAMPLES_DIR.glob("*/source.md"))
    status = 0
    for folder in folders:
        try:
            built = build_one(folder)
            print(f"{folder.name}: " + ", ".join(b.name for b in built))
        except Exception as exc:  # keep building the others
            print(f"{folder.name}: FAILED: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
