"""DOCX → raw blocks: body paragraphs and tables in document order, text boxes, notes.

The only module (with pdf.py) that touches a document library. Works on the XML under
python-docx so that order, hidden runs, text boxes, footnotes and rendered page breaks are
all visible; headers, footers and comments are kept out of the body.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from pipeline.errors import DamagedFileError
from pipeline.ingest.raw import RawBlock, RawDoc, RawFinding, luminance
from pipeline.textnorm import normalise
from pipeline.types import BlockKind

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": W}
_HEADING_STYLE = re.compile(r"^(?:heading|titre|überschrift|titolo|título)\s*(\d)$", re.I)
_WHITE_LUMINANCE = 0.92
_TINY_HALF_POINTS = 4  # 2 pt


def q(tag: str) -> str:
    return f"{{{W}}}{tag}"


@dataclass
class _Style:
    name: str = ""
    based_on: str | None = None
    outline: int | None = None
    numbered: bool = False
    hidden: bool | None = None
    color: str | None = None
    size: int | None = None


@dataclass
class _Ctx:
    styles: dict[str, _Style]
    default_para_style: str | None
    rendered_breaks: bool
    dark_table_styles: set[str] = field(default_factory=set)
    page: int = 1
    blocks: list[RawBlock] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)


def parse_docx(path: Path, data: bytes) -> RawDoc:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises many types on a broken package
        raise DamagedFileError(
            f"{path.name}: python-docx cannot open the package: {type(e).__name__}: {e}",
            f"Le fichier « {path.name} » est un DOCX endommagé. Ouvrez-le dans Word ou LibreOffice, "
            "enregistrez-le à nouveau (ou exportez-le en PDF) puis redéposez-le.",
        ) from e
    body = document.element.body
    if body is None:
        raise DamagedFileError(
            f"{path.name}: document.xml has no w:body",
            f"Le fichier « {path.name} » est un DOCX sans contenu lisible (corps du document absent). "
            "Exportez-le à nouveau depuis Word ou LibreOffice (en DOCX ou en PDF), puis redéposez-le.",
        )
    ctx = _Ctx(
        styles=_read_styles(document),
        default_para_style=_default_para_style(document),
        rendered_breaks=bool(body.findall(f".//{q('lastRenderedPageBreak')}")),
        dark_table_styles=_dark_table_styles(document),
    )
    _walk(body, ctx)
    notes = list(_notes(document, ctx))
    ctx.blocks.extend(notes)
    comments = _comment_count(document)
    if comments:
        ctx.findings.append(
            RawFinding(
                kind="comment",
                text=f"{comments} commentaire(s) de relecture",
                detail="Le document contient des commentaires de relecture ; ils sont exclus du texte évalué.",
            )
        )
    pages = ctx.page if ctx.rendered_breaks else None
    return RawDoc(blocks=ctx.blocks, findings=ctx.findings, pages=pages)


# --- styles -----------------------------------------------------------------------------------


def _read_styles(document: Any) -> dict[str, _Style]:
    styles: dict[str, _Style] = {}
    try:
        root = document.styles.element
    except Exception:  # package without a styles part
        return styles
    for s in root.findall(q("style")):
        sid = s.get(q("styleId")) or ""
        name_el = s.find(q("name"))
        st = _Style(name=(name_el.get(q("val")) if name_el is not None else sid) or sid)
        based = s.find(q("basedOn"))
        st.based_on = based.get(q("val")) if based is not None else None
        ppr = s.find(q("pPr"))
        if ppr is not None:
            ol = ppr.find(q("outlineLvl"))
            if ol is not None and (ol.get(q("val")) or "").isdigit():
                st.outline = int(ol.get(q("val")) or 9)
            st.numbered = ppr.find(q("numPr")) is not None
        rpr = s.find(q("rPr"))
        if rpr is not None:
            st.hidden, st.color, st.size = _run_props(rpr)
        styles[sid] = st
    return styles


def _dark_table_styles(document: Any) -> set[str]:
    """Table styles with a dark shading somewhere (e.g. a coloured header row)."""
    out: set[str] = set()
    try:
        for st in document.styles.element.findall(q("style")):
            if st.get(q("type")) == "table" and any(_dark(shd.get(q("fill"))) for shd in st.iter(q("shd"))):
                out.add(st.get(q("styleId")) or "")
    except Exception:
        return out
    return out


def _default_para_style(document: Any) -> str | None:
    try:
        for s in document.styles.element.findall(q("style")):
            if s.get(q("type")) == "paragraph" and s.get(q("default")) in ("1", "true"):
                return s.get(q("styleId"))
    except Exception:
        return None
    return None


def _style_chain(ctx: _Ctx, sid: str | None) -> Iterator[_Style]:
    seen: set[str] = set()
    while sid and sid not in seen and sid in ctx.styles:
        seen.add(sid)
        st = ctx.styles[sid]
        yield st
        sid = st.based_on


def _run_props(rpr: Any) -> tuple[bool | None, str | None, int | None]:
    hidden: bool | None = None
    for tag in ("vanish", "specVanish"):
        el = rpr.find(q(tag))
        if el is not None:
            hidden = el.get(q("val"), "true") not in ("0", "false", "off")
    color_el = rpr.find(q("color"))
    color = color_el.get(q("val")) if color_el is not None else None
    sz_el = rpr.find(q("sz"))
    size = int(sz_el.get(q("val"))) if sz_el is not None and (sz_el.get(q("val")) or "").isdigit() else None
    return hidden, color, size


def _hex_luminance(color: str | None) -> float | None:
    """Luminance of a Word 'RRGGBB' colour; None for 'auto', theme colours and junk."""
    if not color or not re.fullmatch(r"[0-9A-Fa-f]{6}", color):
        return None
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return luminance(r, g, b)


def _is_white(color: str | None) -> bool:
    lum = _hex_luminance(color)
    return lum is not None and lum >= _WHITE_LUMINANCE


def _hidden_reason(ctx: _Ctx, run: Any, para_style: str | None) -> str | None:
    """Why a run would not be seen on paper, or None when it is visible."""
    hidden: bool | None = None
    color: str | None = None
    size: int | None = None
    rpr = run.find(q("rPr"))
    chain: list[tuple[bool | None, str | None, int | None]] = []
    if rpr is not None:
        chain.append(_run_props(rpr))
        rstyle = rpr.find(q("rStyle"))
        if rstyle is not None:
            chain += [(s.hidden, s.color, s.size) for s in _style_chain(ctx, rstyle.get(q("val")))]
    chain += [(s.hidden, s.color, s.size) for s in _style_chain(ctx, para_style or ctx.default_para_style)]
    for h, c, z in chain:
        hidden = h if hidden is None else hidden
        color = c if color is None else color
        size = z if size is None else size
    if hidden:
        return "texte masqué (propriété « masqué » de Word)"
    if _is_white(color) and not _on_dark_background(ctx, run):
        return f"texte de couleur blanche (#{color})"
    if size is not None and size <= _TINY_HALF_POINTS:
        return f"texte minuscule ({size / 2:g} pt)"
    return None


def _dark(fill: str | None) -> bool:
    lum = _hex_luminance(fill)
    return lum is not None and lum < 0.6


def _on_dark_background(ctx: _Ctx, run: Any) -> bool:
    """White text is legible on a dark run/paragraph/cell shading, a highlight, or a dark table style."""
    rpr = run.find(q("rPr"))
    if rpr is not None:
        hl = rpr.find(q("highlight"))
        if hl is not None and hl.get(q("val")) not in (None, "none", "white"):
            return True
    node = run
    while node is not None:
        for props in ("rPr", "pPr", "tcPr"):
            shd = node.find(f"{q(props)}/{q('shd')}")
            if shd is not None and _dark(shd.get(q("fill"))):
                return True
        if node.tag == q("tbl"):
            style = node.find(f"{q('tblPr')}/{q('tblStyle')}")
            if style is not None and style.get(q("val")) in ctx.dark_table_styles:
                return True
        node = node.getparent()
    return False


# --- body -------------------------------------------------------------------------------------


def _walk(container: Any, ctx: _Ctx) -> None:
    for child in container.iterchildren():
        tag = child.tag
        if tag == q("p"):
            _paragraph(child, ctx)
        elif tag == q("tbl"):
            _table(child, ctx)
        elif tag in (q("sdt"), q("customXml"), q("smartTag")):
            content = child.find(q("sdtContent")) if tag == q("sdt") else child
            if content is not None:
                _walk(content, ctx)


def _para_style_id(p: Any) -> str | None:
    ps = p.find(f"{q('pPr')}/{q('pStyle')}")
    return ps.get(q("val")) if ps is not None else None


def _classify(p: Any, ctx: _Ctx, style_id: str | None) -> tuple[str, int | None]:
    ppr = p.find(q("pPr"))
    outline: int | None = None
    numbered = False
    if ppr is not None:
        ol = ppr.find(q("outlineLvl"))
        if ol is not None and (ol.get(q("val")) or "").isdigit():
            outline = int(ol.get(q("val")) or 9)
        numbered = ppr.find(q("numPr")) is not None
    names: list[str] = []
    for st in _style_chain(ctx, style_id):
        names.append(st.name)
        outline = st.outline if outline is None else outline
        numbered = numbered or st.numbered
    name = names[0] if names else (style_id or "")
    low = name.lower()
    m = _HEADING_STYLE.match(name) or next(filter(None, (_HEADING_STYLE.match(n) for n in names)), None)
    if m:
        return "heading", int(m.group(1))
    if low in ("title", "titre"):
        return "heading", 1
    if outline is not None and outline < 9:
        return "heading", outline + 1
    if "caption" in low or "légende" in low:
        return "caption", None
    if low.startswith("toc") or low.startswith("table des matières"):
        return "toc", None
    if numbered or "list" in low or "liste" in low:
        return "list_item", None
    return "paragraph", None


def _paragraph(p: Any, ctx: _Ctx, in_table: bool = False) -> str:
    """Emit the paragraph as a block (unless in a table) and return its visible text."""
    style_id = _para_style_id(p)
    visible: list[str] = []
    hidden: list[tuple[str, str]] = []
    start_page = ctx.page
    textboxes: list[Any] = []
    for node in p.iter(q("r")):
        if _inside_textbox(node, p):
            continue
        textboxes += node.findall(f".//{q('txbxContent')}")
        reason = _hidden_reason(ctx, node, style_id)
        for child in node.iterchildren():
            if child.tag == q("lastRenderedPageBreak"):
                # a break before any text of the paragraph moves the paragraph itself
                if ctx.rendered_breaks:
                    ctx.page += 1
                    if not "".join(visible).strip():
                        start_page = ctx.page
                continue
            text = _child_text(child)
            if not text:
                continue
            if reason:
                hidden.append((text, reason))
            else:
                visible.append(text)
    if hidden:
        by_reason: dict[str, list[str]] = {}
        for text, reason in hidden:
            by_reason.setdefault(reason, []).append(text)
        for reason, parts in by_reason.items():
            content = normalise("".join(parts))
            if len(content.replace(" ", "")) >= 3:  # a stray white space or dot is no hidden text
                ctx.findings.append(
                    RawFinding(
                        kind="hidden_text",
                        text=content,
                        page=start_page if ctx.rendered_breaks else None,
                        block_index=len(ctx.blocks),
                        detail=f"Texte invisible à la lecture : {reason}. Exclu du texte évalué.",
                    )
                )
    text = normalise("".join(visible))
    if not in_table and text:
        kind, level = _classify(p, ctx, style_id)
        if kind != "toc":  # a table of contents repeats the headings: not evidence
            ctx.blocks.append(
                RawBlock(
                    kind=cast(BlockKind, kind), text=text, level=level, page=start_page if ctx.rendered_breaks else None
                )
            )
    for box in textboxes:
        for inner in box.iter(q("p")):
            inner_text = _paragraph(inner, ctx, in_table=True)
            if inner_text:
                ctx.blocks.append(
                    RawBlock(kind="textbox", text=inner_text, page=ctx.page if ctx.rendered_breaks else None)
                )
    return text


def _inside_textbox(run: Any, stop: Any) -> bool:
    node = run.getparent()
    while node is not None and node is not stop:
        if node.tag == q("txbxContent"):
            return True
        node = node.getparent()
    return False


def _child_text(el: Any) -> str:
    tag = el.tag
    if tag == q("t"):
        return str(el.text or "")
    if tag in (q("tab"), q("br"), q("cr")):
        return " "
    if tag == q("noBreakHyphen"):
        return "-"
    return ""


def _table(tbl: Any, ctx: _Ctx) -> None:
    page = ctx.page
    rows: list[list[str]] = []
    for tr in tbl.findall(q("tr")):
        cells: list[str] = []
        for tc in tr.findall(q("tc")):
            parts: list[str] = []
            for child in tc.iterchildren():
                if child.tag == q("p"):
                    parts.append(_paragraph(child, ctx, in_table=True))
                elif child.tag == q("tbl"):  # nested table: flatten its text into the cell
                    nested = _Ctx(
                        ctx.styles, ctx.default_para_style, ctx.rendered_breaks, ctx.dark_table_styles, ctx.page
                    )
                    _table(child, nested)
                    ctx.findings.extend(nested.findings)
                    ctx.page = nested.page
                    parts += [b.text for b in nested.blocks]
            cells.append(normalise(" ".join(x for x in parts if x)))
        if any(cells):
            rows.append(cells)
    if rows:
        text = "\n".join(" | ".join(c for c in row) for row in rows)
        ctx.blocks.append(RawBlock(kind="table", text=text, rows=rows, page=page if ctx.rendered_breaks else None))


# --- notes and comments -----------------------------------------------------------------------


def _notes(document: Any, ctx: _Ctx) -> Iterator[RawBlock]:
    part = document.part
    for reltype, tag in ((RT.FOOTNOTES, "footnote"), (RT.ENDNOTES, "endnote")):
        for rel in part.rels.values():
            if rel.reltype != reltype or rel.is_external:
                continue
            try:
                root = etree.fromstring(rel.target_part.blob)
            except Exception:
                continue
            for note in root.findall(q(tag)):
                if note.get(q("type")) in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                texts = [_paragraph(p, ctx, in_table=True) for p in note.iter(q("p"))]
                text = normalise(" ".join(t for t in texts if t))
                if text:
                    yield RawBlock(kind="footnote", text=text, section_override=["Notes"])


def _comment_count(document: Any) -> int:
    for rel in document.part.rels.values():
        if rel.reltype == RT.COMMENTS and not rel.is_external:
            try:
                return len(etree.fromstring(rel.target_part.blob).findall(q("comment")))
            except Exception:
                return 0
    return 0
