"""DOCX → raw blocks: body paragraphs and tables in document order, text boxes, notes.

The only module (with pdf.py) that touches a document library. Works on the XML under
python-docx so that order, hidden runs, text boxes, footnotes and rendered page breaks are
all visible; headers, footers and comments are kept out of the body.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from pipeline.errors import DamagedFileError, TooLargeError
from pipeline.ingest.docx_pages import W, estimate_pages, on, q, section_breaks_page
from pipeline.ingest.figures import chart_lines, emf_lines
from pipeline.ingest.layout import levels_by_size
from pipeline.ingest.raw import CAPTION_LINE, CAPTION_MAX_CHARS, RawBlock, RawDoc, RawFinding, luminance
from pipeline.textnorm import normalise
from pipeline.types import BlockKind

_NS = {"w": W}
_HEADING_STYLE = re.compile(r"^(?:heading|titre|überschrift|titolo|título)\s*(\d)$", re.I)
_WHITE_LUMINANCE = 0.92
_TINY_HALF_POINTS = 4  # 2 pt


@dataclass
class _Style:
    name: str = ""
    based_on: str | None = None
    outline: int | None = None
    numbered: bool = False
    hidden: bool | None = None
    color: str | None = None
    size: int | None = None
    bold: bool | None = None
    page_break_before: bool = False


@dataclass
class _Ctx:
    styles: dict[str, _Style]
    default_para_style: str | None
    rendered_breaks: bool
    dark_styles: set[str] = field(default_factory=set)
    page: int = 1
    paged: bool = False  # the document tells where pages break (rendered, explicit or section breaks)
    fresh_page: bool = True  # no text since the last page break (a rendered break here is the same page)
    formats: dict[int, tuple[bool, float | None]] = field(default_factory=dict)  # block -> (bold, size pt)
    part: Any = None  # the document part: charts and pictures are its related parts
    figure_blocks: set[int] = field(default_factory=set)  # blocks that are a figure's labels: never a title
    # charts and pictures drawn in the cells of the table being read (None: not in a table)
    cell_figures: list[str] | None = None
    blocks: list[RawBlock] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)


@dataclass(frozen=True)
class DocxLimits:
    paragraphs: int
    elements: int
    chars: int


def check_limits(path: Path, data: bytes, limits: DocxLimits) -> None:
    """Count paragraphs, elements and characters of the body while streaming it, before any parse
    builds it in memory: a small zip of millions of tiny paragraphs is refused within the first ones."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        stream = zf.open("word/document.xml")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return  # python-docx reports the damage with its own message
    paragraphs = elements = chars = 0
    p_tag, t_tag = q("p"), q("t")
    try:
        with stream:
            for _, el in etree.iterparse(stream, events=("end",), huge_tree=False, resolve_entities=False):
                elements += 1
                if el.tag == p_tag:
                    paragraphs += 1
                elif el.tag == t_tag and el.text:
                    chars += len(el.text)
                if paragraphs > limits.paragraphs:
                    _too_large(path, f"plus de {_n(limits.paragraphs)} paragraphes", "limite de paragraphes")
                if elements > limits.elements:
                    _too_large(path, f"plus de {_n(limits.elements)} éléments XML", "limite d’éléments")
                if chars > limits.chars:
                    _too_large(path, f"plus de {_n(limits.chars)} caractères de texte", "limite de caractères")
                if el.getparent() is not None and el.tag in (p_tag, q("tbl"), q("sdt")):
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:  # free what was already counted
                        del el.getparent()[0]
    except etree.XMLSyntaxError:
        return  # the full parse raises a damage error


def _n(value: int) -> str:
    return format(value, ",").replace(",", "\u202f")


def _too_large(path: Path, what: str, limit: str) -> None:
    raise TooLargeError(
        f"{path.name}: DOCX body over the {limit} ({what})",
        f"Le document « {path.name} » contient {what} ({limit} dépassée). Déposez le dossier sans ses "
        "annexes, ou exportez-le en PDF.",
    )


def parse_docx(path: Path, data: bytes, limits: DocxLimits | None = None) -> RawDoc:
    if limits is not None:
        check_limits(path, data, limits)
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
        dark_styles=_dark_styles(document),
        part=document.part,
    )
    ctx.paged = ctx.rendered_breaks or _has_explicit_breaks(body, ctx)
    _walk(body, ctx)
    _headings_from_formatting(ctx)
    _textbox_titles(ctx)
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
    if ctx.paged and not ctx.rendered_breaks and not _segments_fit_pages(ctx):
        # explicit breaks alone tell the pages only when what lies between two of them fits on one page
        ctx.paged = False
        for b in ctx.blocks:
            b.page = None
        for f in ctx.findings:
            f.page = None
    if ctx.rendered_breaks:
        # Word laid the document out: it marks only the page breaks that fall between runs, and
        # saves its own page count
        pages = max(ctx.page, _saved_page_count(data))
    else:
        # no layout saved (LibreOffice, Google Docs, generated files): the pages it fills, estimated
        pages = max(estimate_pages(body, _styles_element(document)), ctx.page if ctx.paged else 1)
    return RawDoc(blocks=ctx.blocks, findings=ctx.findings, pages=pages)


def _styles_element(document: Any) -> Any | None:
    try:
        return document.styles.element
    except Exception:  # package without a styles part
        return None


_PAGE_CHARS = 2_500  # what an A4 page in an 11-pt body holds at most, roughly


def _segments_fit_pages(ctx: _Ctx) -> bool:
    per_page: Counter[int] = Counter()
    for b in ctx.blocks:
        per_page[b.page or 0] += len(b.text) + (200 if b.kind in ("heading", "table") else 0)
    return max(per_page.values(), default=0) <= _PAGE_CHARS


def _saved_page_count(data: bytes) -> int:
    """<Pages> of docProps/app.xml (written by Word at save time), 0 when absent."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("docProps/app.xml")
            if info.file_size > 100_000:
                return 0
            m = re.search(rb"<(?:\w+:)?Pages>(\d{1,5})<", zf.read(info))
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return 0
    return int(m.group(1)) if m else 0


def _has_explicit_breaks(body: Any, ctx: _Ctx) -> bool:
    if any(br.get(q("type")) == "page" for br in body.iter(q("br"))):
        return True
    if any(on(el) for el in body.iter(q("pageBreakBefore"))):
        return True
    if any(st.page_break_before for st in ctx.styles.values()):
        return True
    return any(section_breaks_page(sp) for sp in body.iter(q("sectPr")) if sp.getparent().tag == q("pPr"))


def _textbox_titles(ctx: _Ctx) -> None:
    """A title typed in a text box or a shape ('Avant-propos', 'REMERCIEMENTS' on a banner) over
    the text it introduces is a heading of the top level used in the document."""
    top = min((b.level or 1 for b in ctx.blocks if b.kind == "heading"), default=1)
    for i, b in enumerate(ctx.blocks[:-1]):
        text, nxt = b.text.strip(), ctx.blocks[i + 1]
        if (
            b.kind == "textbox"
            and i not in ctx.figure_blocks
            and (i == 0 or ctx.blocks[i - 1].kind != "textbox")  # boxes in a row: a diagram's labels
            and nxt.kind in ("paragraph", "list_item", "table")
            and len(nxt.text) >= 60  # over running text
            and 2 < len(text) <= 80
            and len(text.split()) <= 10
            and not text.endswith((".", ";", ",", ":"))
            and re.match(r"[A-Za-zÀ-ÿ0-9]", text)
        ):
            b.kind, b.level = "heading", top


def _headings_from_formatting(ctx: _Ctx) -> None:
    """A document without heading styles (Google Docs, typed titles): short paragraphs set in bold
    or larger than the body become headings, levels by size (then bold at body size), numbering first."""
    if any(b.kind == "heading" for b in ctx.blocks):
        return
    sizes: Counter[float] = Counter()
    for i, (_, size) in ctx.formats.items():
        sizes[size or 0.0] += len(ctx.blocks[i].text)
    if not sizes:
        return
    body = sizes.most_common(1)[0][0]
    candidates: dict[int, float] = {}
    for i, (bold, size) in ctx.formats.items():
        b = ctx.blocks[i]
        text = b.text
        big = size is not None and body and size >= body * 1.15
        if b.kind not in ("paragraph", "list_item") or not (bold or big):
            continue
        if len(text) > 120 or text.endswith((".", ";", ",", ":")) or not re.match(r"[A-ZÀ-Ý0-9IVX«]", text):
            continue
        candidates[i] = size if big and size else body  # bold at body size: the lowest level
    if not candidates:
        return
    numbered = {i: re.match(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+\S", ctx.blocks[i].text) for i in candidates}
    depth: dict[float, Counter[int]] = {}
    for i, m in numbered.items():
        if m:
            depth.setdefault(candidates[i], Counter())[m.group(1).count(".") + 1] += 1
    levels = levels_by_size(sorted(set(candidates.values()), reverse=True), depth)
    for i, key in candidates.items():
        b = ctx.blocks[i]
        m = numbered[i]
        b.kind = "heading"
        b.level = min(m.group(1).count(".") + 1, 6) if m else levels[key]


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
            st.page_break_before = on(ppr.find(q("pageBreakBefore")))
        rpr = s.find(q("rPr"))
        if rpr is not None:
            st.hidden, st.color, st.size = _run_props(rpr)
            b = rpr.find(q("b"))
            st.bold = on(b) if b is not None else None
        styles[sid] = st
    return styles


def _dark_styles(document: Any) -> set[str]:
    """Styles that lay a dark shading behind their text: a table style with a coloured header row, a
    paragraph or character style with a dark fill (a grey banner of white bold titles), and the
    styles based on one of them that set no shading of their own."""
    shaded: dict[str, bool] = {}
    based: dict[str, str] = {}
    try:
        for st in document.styles.element.findall(q("style")):
            sid = st.get(q("styleId")) or ""
            fills = [shd.get(q("fill")) for shd in st.iter(q("shd"))]
            if fills:
                shaded[sid] = any(_dark(f) for f in fills)
            parent = st.find(q("basedOn"))
            if parent is not None:
                based[sid] = parent.get(q("val")) or ""
    except Exception:
        return set()
    out = set()
    for sid in {*shaded, *based}:
        seen, cur = set(), sid
        while cur and cur not in seen and cur not in shaded:
            seen.add(cur)
            cur = based.get(cur, "")
        if shaded.get(cur):
            out.add(sid)
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


# a shading this light or lighter (relative luminance) leaves white text unseen; darker, it is a
# background the text is set on (the PDF reader's limit, `_LIGHT`, is the same)
DARK_FILL_MAX = 0.8


def _dark(fill: str | None) -> bool:
    lum = _hex_luminance(fill)
    # white text stays legible on any fill darker than a light grey: #999999 banners are 0.60
    return lum is not None and lum < DARK_FILL_MAX


def _on_dark_background(ctx: _Ctx, run: Any) -> bool:
    """White text is legible on a dark run/paragraph/cell shading, a highlight, or a dark table style."""
    rpr = run.find(q("rPr"))
    if rpr is not None:
        hl = rpr.find(q("highlight"))
        if hl is not None and hl.get(q("val")) not in (None, "none", "white"):
            return True
    node = run
    while node is not None:
        if node.tag == q("txbxContent"):
            # a text box in a drawing: shapes or pictures of its group usually lie behind it, and
            # they cannot be seen from here, so its white text is not called hidden
            return True
        for props in ("rPr", "pPr", "tcPr"):
            shd = node.find(f"{q(props)}/{q('shd')}")
            if shd is not None and _dark(shd.get(q("fill"))):
                return True
        for props, tag in (("rPr", "rStyle"), ("pPr", "pStyle")):  # shading set by the run's or paragraph's style
            style = node.find(f"{q(props)}/{q(tag)}")
            if style is not None and style.get(q("val")) in ctx.dark_styles:
                return True
        if node.tag == q("tbl"):
            style = node.find(f"{q('tblPr')}/{q('tblStyle')}")
            if style is not None and style.get(q("val")) in ctx.dark_styles:
                return True
        node = node.getparent()
    return False


# --- body -------------------------------------------------------------------------------------


def _walk(container: Any, ctx: _Ctx) -> None:
    for child in container.iterchildren():
        tag = child.tag
        if tag == q("p"):
            _paragraph(child, ctx)
            _end_of_section(child, ctx)
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
    if low.startswith(("toc", "table des matières", "table of figures", "table des illustrations")):
        return "toc", None
    if numbered or "list" in low or "liste" in low:
        return "list_item", None
    return "paragraph", None


def _offset_after(text: str, before: str) -> int:
    """Where the normalised paragraph `text` goes on after its raw beginning `before`."""
    at = min(len(normalise(before)), len(text))
    return at + 1 if text[at : at + 1] == " " else at


def _paragraph(p: Any, ctx: _Ctx, in_table: bool = False) -> str:
    """Emit the paragraph as a block (unless in a table) and return its visible text."""
    style_id = _para_style_id(p)
    visible: list[str] = []
    hidden: list[tuple[str, str]] = []
    if _page_break_before(p, ctx, style_id) and not ctx.fresh_page and ctx.blocks:
        _new_page(ctx, explicit=True)
    start_page = ctx.page
    textboxes: list[Any] = []
    figures: list[str] = []  # relationship ids of the charts and pictures drawn in the paragraph
    bold_chars = all_chars = 0
    sizes: Counter[int] = Counter()
    crossed: list[str] = []  # the visible text before each page break inside the paragraph
    for node in p.iter(q("r")):
        if _inside_textbox(node, p) or _in_fallback(node, p):
            continue
        textboxes += [b for b in node.findall(f".//{q('txbxContent')}") if not _in_fallback(b, p)]
        figures += [
            rid for el in node.iter(*_FIGURES) if (rid := el.get(_R_ID) or el.get(_R_EMBED)) and not _in_fallback(el, p)
        ]
        reason = _hidden_reason(ctx, node, style_id)
        bold, size = _run_format(ctx, node, style_id)
        for child in node.iterchildren():
            if child.tag == q("lastRenderedPageBreak") or (child.tag == q("br") and child.get(q("type")) == "page"):
                # Word writes a rendered break after an explicit one: the same new page
                if child.tag == q("br"):
                    _new_page(ctx, explicit=True)
                elif ctx.rendered_breaks and not ctx.fresh_page:
                    _new_page(ctx)
                if not "".join(visible).strip():  # a break before any text moves the paragraph itself
                    start_page = ctx.page
                elif ctx.page > start_page + len(crossed):
                    crossed.append("".join(visible))  # the paragraph goes on over the page break
                continue
            text = _child_text(child)
            if not text:
                continue
            if reason:
                hidden.append((text, reason))
            else:
                visible.append(text)
                if text.strip():
                    ctx.fresh_page = False
                    n = len(text.strip())
                    all_chars += n
                    bold_chars += n if bold else 0
                    if size is not None:
                        sizes[size] += n
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
                        page=start_page if ctx.paged else None,
                        block_index=len(ctx.blocks),
                        detail=f"Texte invisible à la lecture : {reason}. Exclu du texte évalué.",
                    )
                )
    text = normalise("".join(visible))
    if not in_table and text:
        kind, level = _classify(p, ctx, style_id)
        if kind == "paragraph" and len(text) <= CAPTION_MAX_CHARS and CAPTION_LINE.match(text):
            kind = "caption"  # 'Tableau 1 : …' typed without the Caption style
        if kind != "toc":  # a table of contents repeats the headings: not evidence
            pt = sizes.most_common(1)[0][0] / 2 if sizes else None
            ctx.formats[len(ctx.blocks)] = (all_chars > 0 and bold_chars >= 0.8 * all_chars, pt)
            block = RawBlock(kind=cast(BlockKind, kind), text=text, level=level, page=start_page if ctx.paged else None)
            if ctx.paged:
                block.breaks = [_offset_after(text, before) for before in crossed]
            ctx.blocks.append(block)
    for box in textboxes:
        for inner in box.iter(q("p")):
            inner_text = _paragraph(inner, ctx, in_table=True)
            if inner_text:
                ctx.blocks.append(RawBlock(kind="textbox", text=inner_text, page=ctx.page if ctx.paged else None))
    if not in_table:
        _figures(ctx, figures)
    elif ctx.cell_figures is not None:
        ctx.cell_figures += figures
    return text


def _figures(ctx: _Ctx, rids: list[str]) -> None:
    """The words of charts and vector pictures, each as a block of their own where they stand."""
    for rid in rids:
        labels = " | ".join(_figure_lines(ctx, rid))
        if labels:
            ctx.figure_blocks.add(len(ctx.blocks))
            ctx.blocks.append(RawBlock(kind="textbox", text=labels, page=ctx.page if ctx.paged else None))


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_R_ID, _R_EMBED = f"{{{_R}}}id", f"{{{_R}}}embed"
# a Word chart, a DrawingML picture, a VML picture (documents from older Word)
_FIGURES = (
    "{http://schemas.openxmlformats.org/drawingml/2006/chart}chart",
    "{http://schemas.openxmlformats.org/drawingml/2006/main}blip",
    "{urn:schemas-microsoft-com:vml}imagedata",
)
_CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_EMF_TYPES = ("image/x-emf", "image/emf")


def _figure_lines(ctx: _Ctx, rid: str) -> list[str]:
    """The words a chart or a vector picture shows (pipeline/ingest/figures.py); none for a bitmap."""
    try:
        part = ctx.part.related_parts[rid]
    except (AttributeError, KeyError):
        return []
    if part.content_type == _CHART_TYPE:
        return chart_lines(part.blob)
    if part.content_type in _EMF_TYPES or str(part.partname).lower().endswith(".emf"):
        return emf_lines(part.blob)
    return []


def _new_page(ctx: _Ctx, explicit: bool = False) -> None:
    """Explicit breaks (page break, section break, break before) are followed by Word's rendered
    break mark for the same page: that mark is not counted again until some text has been read."""
    ctx.page += 1
    ctx.fresh_page = explicit


def _page_break_before(p: Any, ctx: _Ctx, style_id: str | None) -> bool:
    el = p.find(f"{q('pPr')}/{q('pageBreakBefore')}")
    if el is not None:
        return on(el)
    return any(st.page_break_before for st in _style_chain(ctx, style_id))


def _end_of_section(p: Any, ctx: _Ctx) -> None:
    """A paragraph carrying a section break that starts the next section on a new page."""
    sect = p.find(f"{q('pPr')}/{q('sectPr')}")
    if sect is not None and section_breaks_page(sect) and not ctx.fresh_page:
        _new_page(ctx, explicit=True)


def _run_format(ctx: _Ctx, run: Any, para_style: str | None) -> tuple[bool, int | None]:
    """(bold, size in half-points) of a run, from its properties, its character style, then its paragraph style."""
    bold: bool | None = None
    size: int | None = None
    rpr = run.find(q("rPr"))
    chain: list[_Style] = []
    if rpr is not None:
        b = rpr.find(q("b"))
        bold = on(b) if b is not None else None
        _, _, size = _run_props(rpr)
        rstyle = rpr.find(q("rStyle"))
        if rstyle is not None:
            chain += list(_style_chain(ctx, rstyle.get(q("val"))))
    chain += list(_style_chain(ctx, para_style or ctx.default_para_style))
    for st in chain:
        bold = st.bold if bold is None else bold
        size = st.size if size is None else size
    return bool(bold), size


_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _in_fallback(run: Any, stop: Any) -> bool:
    """Runs of the VML copy Word keeps for old readers (mc:Fallback) repeat the mc:Choice content."""
    node = run.getparent()
    while node is not None and node is not stop:
        if node.tag == _FALLBACK:
            return True
        node = node.getparent()
    return False


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
    """A table as one block of rows; the charts and pictures drawn in its cells follow it, their
    words in blocks of their own (a cell holding a chart reads as the table's text, not as a cell
    of chart labels)."""
    page = ctx.page
    rows: list[list[str]] = []
    outer_figures, ctx.cell_figures = ctx.cell_figures, []
    for tr in tbl.findall(q("tr")):
        cells: list[str] = []
        row_start, row_end = (ctx.page, ctx.fresh_page), (ctx.page, ctx.fresh_page)
        for tc in tr.findall(q("tc")):
            # a row split over two pages carries a rendered break in each of its cells: count it once
            ctx.page, ctx.fresh_page = row_start
            parts: list[str] = []
            for child in tc.iterchildren():
                if child.tag == q("p"):
                    parts.append(_paragraph(child, ctx, in_table=True))
                elif child.tag == q("tbl"):  # nested table: flatten its text into the cell
                    nested = _Ctx(
                        ctx.styles,
                        ctx.default_para_style,
                        ctx.rendered_breaks,
                        ctx.dark_styles,
                        ctx.page,
                        part=ctx.part,
                        cell_figures=[],
                    )
                    _table(child, nested)
                    ctx.findings.extend(nested.findings)
                    ctx.page = nested.page
                    parts += [b.text for i, b in enumerate(nested.blocks) if i not in nested.figure_blocks]
                    ctx.cell_figures += nested.cell_figures or []
            cells.append(normalise(" ".join(x for x in parts if x)))
            row_end = max(row_end, (ctx.page, ctx.fresh_page))
        ctx.page, ctx.fresh_page = row_end
        if any(cells):
            rows.append(cells)
    if rows:
        text = "\n".join(" | ".join(c for c in row) for row in rows)
        ctx.blocks.append(RawBlock(kind="table", text=text, rows=rows, page=page if ctx.paged else None))
    figures, ctx.cell_figures = ctx.cell_figures, outer_figures
    if outer_figures is not None:  # a nested table: its figures follow the outermost table
        outer_figures += figures
    else:
        _figures(ctx, figures)


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
