#!/usr/bin/env python3
"""Build the sample dossiers of samples/<dossier>/source.md into DOCX and/or PDF.

Usage:
    python samples/build.py              # build every samples/*/source.md
    python samples/build.py NAME [NAME]  # build samples/NAME/source.md only

Markup of source.md (see samples/README.md):
    front matter between '---' lines (YAML): title, subtitle, candidate, company, date,
    module (M1|M2), formats ([docx, pdf] or [pdf]), layout (portrait|slides)
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
    return 29.7 - 2 * 2.0 if meta["layout"] == "slides" else 21.0 - 2 * 2.2


def configure_layout(doc, meta) -> None:
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


def make_header_footer(doc, meta) -> None:
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

    # title page
    doc.add_paragraph(str(meta["title"]), style="Title")
    if meta.get("subtitle"):
        doc.add_paragraph(str(meta["subtitle"]), style="Subtitle")
    doc.add_paragraph(f"Module {meta['module']}")
    doc.add_paragraph(f"Candidat : {meta['candidate']}")
    doc.add_paragraph(f"Entreprise : {meta['company']}")
    doc.add_paragraph(str(meta["date"]))
    page_break(doc)

    # static table of contents
    toc_title = doc.add_paragraph("Sommaire", style="TOC Heading")
    toc_title.paragraph_format.page_break_before = False
    for kind, payload in blocks:
        if kind == "h1":
            doc.add_paragraph(INLINE_RE.sub(lambda m: m.group(0).strip("*"), payload), style="toc 1")
        elif kind == "h2":
            doc.add_paragraph(INLINE_RE.sub(lambda m: m.group(0).strip("*"), payload), style="toc 2")
    page_break(doc)

    slides = meta["layout"] == "slides"
    first_heading = True
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
                                r.font.size = Pt(14)
            for row in table.rows:  # schema order in w:trPr: cantSplit before tblHeader
                set_row_flag(row, "w:cantSplit")
            set_row_flag(table.rows[0], "w:tblHeader")
            for row in table.rows[:-1]:  # keep a table on one page when it fits
                for cell in row.cells:
                    for cp in cell.paragraphs:
                        cp.paragraph_format.keep_with_next = True
            set_column_widths(table, rows, text_width_cm(meta), 0.3 if slides else 0.21)
            doc.add_paragraph()  # spacing after the table
        else:  # pragma: no cover
            raise ValueError(kind)

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
        docx_to_pdf(docx_path, folder)
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
