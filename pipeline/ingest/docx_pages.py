"""How many pages a word processor lays a DOCX out on, estimated from its XML.

A DOCX holds no pages: Word marks where its own layout broke them (`lastRenderedPageBreak`),
LibreOffice marks nothing. This walks the body in order and stacks heights on pages of the
section's size: paragraphs as lines of text (font size, line spacing, spacing before and after,
indents, the width of their column or table cell), inline pictures by their extent, table rows by
their tallest cell; explicit page breaks, page-break-before and next-page section breaks start a
page; a paragraph or table row marked "keep with next" moves to the next page with what follows it
when the two do not fit (a heading, its caption and a table kept together, as Word and LibreOffice
do). Measured against LibreOffice's rendering in benchmarks/reading.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"  # WordprocessingML, shared with docx.py
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_EMU_PER_PT = 12_700
# Per font family: average advance of French running text (spaces included) and single line
# height, in ems; the metric-compatible fonts LibreOffice substitutes share them.
_METRICS = (
    (
        re.compile(r"times|liberation serif|tinos|georgia|garamond|cambria|caladea|antiqua|palatino|serif", re.I),
        0.40,
        1.12,
    ),
    (re.compile(r"calibri|carlito|aptos|minor|major", re.I), 0.43, 1.22),
    (re.compile(r"verdana|tahoma|dejavu", re.I), 0.52, 1.2),
    (re.compile(r"arial|helvetica|liberation sans|arimo|sans", re.I), 0.47, 1.15),
)
_DEFAULT_METRICS = (0.45, 1.17)
_PROPORTIONAL_EM = 1.15  # the height a proportional line spacing multiplies, in ems
_TABLE_STYLE = "\0table:"  # prefix of a table style's entry among the paragraph styles
_CELL_MARGINS = 10.8  # points left and right of a cell's text (0.19 cm each side)


def q(tag: str) -> str:
    """A WordprocessingML tag or attribute name as lxml spells it."""
    return f"{{{W}}}{tag}"


def section_breaks_page(sect: Any) -> bool:
    """A section break (w:sectPr) that starts the next section on a new page."""
    kind = sect.find(q("type"))
    return kind is None or kind.get(q("val")) in (None, "nextPage", "oddPage", "evenPage")


def on(el: Any) -> bool:
    """A WordprocessingML on/off property: set unless absent or its w:val says off."""
    return el is not None and el.get(q("val"), "true") not in ("0", "false", "off")


@dataclass
class _ParaStyle:
    based_on: str | None = None
    size: float | None = None  # points
    before: float | None = None  # points
    after: float | None = None
    line: tuple[float, str] | None = None  # (w:line value, rule)
    indent: float | None = None  # left + right, points
    font: str | None = None
    break_before: bool = False
    keep_next: bool = False
    contextual: bool | None = None  # no spacing between paragraphs of the same style
    style: str | None = None  # the paragraph style's id (resolved paragraphs only)


@dataclass
class _Unit:
    """A piece of the body as it is stacked on pages: a paragraph, or a table row."""

    height: float
    line: float  # the height of one line: what a split paragraph moves at a time
    splittable: bool
    keep_next: bool  # on the same page as the start of the next unit
    before: float = 0.0  # spacing above and below, counted in `height`
    after: float = 0.0
    style: str | None = None  # paragraph style (spacing between paragraphs of one style dropped)
    contextual: bool = False


@dataclass
class _Geometry:
    width: float = 451.0  # text width, points (A4, 2.5 cm margins)
    height: float = 697.0  # text height, points


@dataclass
class _Layout:
    styles: dict[str, _ParaStyle]
    default_style: str | None
    pages: int = 1
    used: float = 0.0  # height used on the current page
    flowed: bool = False  # the current page was started by text that did not fit the one before
    geometry: _Geometry = field(default_factory=_Geometry)

    def new_page(self, flowed: bool = False) -> None:
        self.pages += 1
        self.used = 0.0
        self.flowed = flowed

    def place(self, unit: _Unit) -> None:
        """Put a unit on the page; one that does not fit continues on the next pages line by line
        (splittable) or moves whole to the next page. At the top of a page the text flowed onto,
        the spacing above a paragraph is dropped (as word processors do; not after a typed break)."""
        height = unit.height - (unit.before if self.used == 0 and self.flowed else 0.0)
        room = self.geometry.height - self.used
        if height <= room + 0.5:
            self.used += height
            return
        if not unit.splittable or height <= unit.line * 2:
            if self.used > 0:
                self.new_page(flowed=True)
                height = unit.height - unit.before
            self.used = min(height, self.geometry.height)
            return
        rest = height - max(0.0, math.floor(room / unit.line) * unit.line)
        while rest > self.geometry.height:
            self.new_page(flowed=True)
            rest -= self.geometry.height
        self.new_page(flowed=True)
        self.used = rest

    def place_kept(self, units: list[_Unit]) -> None:
        """Place units in order; a run of units kept with the next one starts a page when it does
        not fit with the first line of what follows, unless it would not fit on any page."""
        i = 0
        while i < len(units):
            j = i
            while j < len(units) - 1 and units[j].keep_next:
                j += 1
            if j > i:
                nxt = units[j]
                chain = sum(u.height for u in units[i:j]) + (nxt.line if nxt.splittable else nxt.height)
                if self.used > 0 and chain > self.geometry.height - self.used + 0.5 and chain <= self.geometry.height:
                    self.new_page(flowed=True)
            for u in units[i : j + 1]:
                self.place(u)
            i = j + 1


def estimate_pages(body: Any, styles_root: Any | None) -> int:
    """Pages the body fills when laid out (at least 1)."""
    styles, default_style, defaults = _read_styles(styles_root)
    styles.setdefault("\0defaults", defaults)
    layout = _Layout(styles=styles, default_style=default_style)
    sections = [sp for sp in body.iter(q("sectPr"))]
    layout.geometry = _geometry(sections[0]) if sections else _Geometry()
    seen_content = False
    pending: list[_Unit] = []  # units not yet on a page: a keep chain is placed whole

    def flush() -> None:
        layout.place_kept(pending)
        pending.clear()

    def page_break() -> None:
        flush()
        layout.new_page()

    for el in body.iterchildren():
        if el.tag == q("p"):
            if _break_before(el, layout) and seen_content:
                page_break()
            unit, breaks = _paragraph_unit(el, layout, layout.geometry.width)
            for _ in range(breaks):  # the text before a break is small next to the page: the break wins
                page_break()
            _join_spacing(pending[-1] if pending else None, unit)
            pending.append(unit)
            seen_content = True
            sect = el.find(f"{q('pPr')}/{q('sectPr')}")
            if sect is not None:
                if section_breaks_page(sect):
                    page_break()
                following = sections[sections.index(sect) + 1 :] if sect in sections else []
                if following:
                    flush()
                    layout.geometry = _geometry(following[0])
        elif el.tag == q("tbl"):
            pending.extend(_table_rows(el, layout, layout.geometry.width))
            seen_content = True
        elif el.tag == q("sdt"):
            content = el.find(q("sdtContent"))
            if content is not None:
                for p in content.iter(q("p")):
                    pending.append(_paragraph_unit(p, layout, layout.geometry.width)[0])
                seen_content = True
    flush()
    if layout.used == 0.0 and layout.pages > 1:
        layout.pages -= 1  # a trailing break starts no page of its own
    return layout.pages


# --- measures -------------------------------------------------------------------------------------


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _twips(el: Any, attr: str, default: float = 0.0) -> float:
    """An attribute in twentieths of a point, in points."""
    value = _number(el.get(q(attr))) if el is not None else None
    return value / 20 if value is not None else default


def _geometry(sect: Any) -> _Geometry:
    size, margins = sect.find(q("pgSz")), sect.find(q("pgMar"))
    width = _twips(size, "w", 595.3) - _twips(margins, "left", 72) - _twips(margins, "right", 72)
    height = _twips(size, "h", 841.9) - _twips(margins, "top", 72) - _twips(margins, "bottom", 72)
    return _Geometry(width=max(width, 100.0), height=max(height, 100.0))


def _para_props(ppr: Any, st: _ParaStyle) -> None:
    """Fill `st` from a w:pPr (only what it sets)."""
    if ppr is None:
        return
    spacing = ppr.find(q("spacing"))
    if spacing is not None:
        if spacing.get(q("before")) is not None and spacing.get(q("beforeAutospacing")) in (None, "0", "false"):
            st.before = _twips(spacing, "before")
        if spacing.get(q("after")) is not None and spacing.get(q("afterAutospacing")) in (None, "0", "false"):
            st.after = _twips(spacing, "after")
        if spacing.get(q("line")) is not None:
            st.line = (_number(spacing.get(q("line"))) or 240.0, spacing.get(q("lineRule")) or "auto")
    ind = ppr.find(q("ind"))
    if ind is not None:
        left = ind.get(q("left")) or ind.get(q("start"))
        right = ind.get(q("right")) or ind.get(q("end"))
        st.indent = ((_number(left) or 0.0) + (_number(right) or 0.0)) / 20
    pbb = ppr.find(q("pageBreakBefore"))
    if pbb is not None:
        st.break_before = on(pbb)
    keep = ppr.find(q("keepNext"))
    if keep is not None:
        st.keep_next = on(keep)
    contextual = ppr.find(q("contextualSpacing"))
    if contextual is not None:
        st.contextual = on(contextual)


def _run_font(rpr: Any) -> str | None:
    fonts = rpr.find(q("rFonts")) if rpr is not None else None
    if fonts is None:
        return None
    return fonts.get(q("ascii")) or fonts.get(q("hAnsi")) or fonts.get(q("asciiTheme"))


def _metrics(font: str | None) -> tuple[float, float]:
    for pattern, width, height in _METRICS:
        if font and pattern.search(font):
            return width, height
    return _DEFAULT_METRICS


def _run_size(rpr: Any) -> float | None:
    sz = rpr.find(q("sz")) if rpr is not None else None
    value = sz.get(q("val")) if sz is not None else None
    return int(value) / 2 if value and value.isdigit() else None


def _read_styles(root: Any | None) -> tuple[dict[str, _ParaStyle], str | None, _ParaStyle]:
    defaults = _ParaStyle(size=10.0, before=0.0, after=0.0, line=(240.0, "auto"), indent=0.0)
    styles: dict[str, _ParaStyle] = {}
    default_style: str | None = None
    if root is None:
        return styles, default_style, defaults
    doc_defaults = root.find(q("docDefaults"))
    if doc_defaults is not None:
        rpr = doc_defaults.find(f"{q('rPrDefault')}/{q('rPr')}")
        defaults.size = _run_size(rpr) or defaults.size
        defaults.font = _run_font(rpr)
        _para_props(doc_defaults.find(f"{q('pPrDefault')}/{q('pPr')}"), defaults)
    for s in root.findall(q("style")):
        kind = s.get(q("type"))
        if kind not in ("paragraph", "table"):
            continue
        sid = (_TABLE_STYLE if kind == "table" else "") + (s.get(q("styleId")) or "")
        based = s.find(q("basedOn"))
        st = _ParaStyle(based_on=based.get(q("val")) if based is not None else None)
        _para_props(s.find(q("pPr")), st)
        st.size = _run_size(s.find(q("rPr")))
        st.font = _run_font(s.find(q("rPr")))
        if st.based_on and kind == "table":
            st.based_on = _TABLE_STYLE + st.based_on
        styles[sid] = st
        if s.get(q("default")) in ("1", "true") and kind == "paragraph":
            default_style = sid
    return styles, default_style, defaults


def _chain(layout: _Layout, sid: str | None, defaults: bool = True) -> Iterator[_ParaStyle]:
    seen: set[str] = set()
    while sid and sid not in seen and sid in layout.styles:
        seen.add(sid)
        yield layout.styles[sid]
        sid = layout.styles[sid].based_on
    if defaults:
        yield layout.styles["\0defaults"]


def _resolved(p: Any, layout: _Layout, table_style: str | None = None) -> _ParaStyle:
    """The paragraph's own properties over its style chain over the document defaults. In a table
    cell the table style's paragraph and text properties come just above the document defaults
    (OOXML's order): a "Table Grid" cell is single-spaced when the body style leaves the spacing
    to the defaults, 1.15-spaced when the body style sets it, as Word and LibreOffice lay it out."""
    ppr = p.find(q("pPr"))
    sid_el = ppr.find(q("pStyle")) if ppr is not None else None
    sid = sid_el.get(q("val")) if sid_el is not None else layout.default_style
    own = _ParaStyle()
    _para_props(ppr, own)
    if table_style and _TABLE_STYLE + table_style in layout.styles:
        sources = [
            own,
            *_chain(layout, sid, defaults=False),
            *_chain(layout, _TABLE_STYLE + table_style),
        ]
    else:
        sources = [own, *_chain(layout, sid)]
    out = _ParaStyle()
    out.style = sid
    for name in ("size", "before", "after", "line", "indent", "font", "contextual"):
        for st in sources:
            value = getattr(st, name)
            if value is not None:
                setattr(out, name, value)
                break
    out.break_before = own.break_before or any(st.break_before for st in _chain(layout, sid))
    keep = ppr.find(q("keepNext")) if ppr is not None else None
    out.keep_next = on(keep) if keep is not None else any(st.keep_next for st in _chain(layout, sid))
    return out


def _break_before(p: Any, layout: _Layout) -> bool:
    return _resolved(p, layout).break_before


# --- blocks ---------------------------------------------------------------------------------------


def _paragraph_unit(p: Any, layout: _Layout, width: float) -> tuple[_Unit, int]:
    """A body paragraph as a unit, and the page breaks typed in it."""
    st = _resolved(p, layout)
    height, line, lines, pictures, breaks = _measure(p, st, layout, width)
    unit = _Unit(
        height=height,
        line=line,
        splittable=lines > 2 and not pictures,
        keep_next=st.keep_next,
        before=st.before or 0.0,
        after=st.after or 0.0,
        style=st.style,
        contextual=bool(st.contextual),
    )
    return unit, breaks


def _measure(p: Any, st: _ParaStyle, layout: _Layout, width: float) -> tuple[float, float, int, float, int]:
    """Height, line height, lines, height of pictures and page breaks of a paragraph set in `width`."""
    size = st.size or 10.0
    text: list[str] = []
    run_sizes: list[float] = []
    pictures = 0.0
    breaks = 0
    for r in p.iter(q("r")):
        if _nested(r, p):
            continue
        rsize = _run_size(r.find(q("rPr")))
        for child in r.iterchildren():
            if child.tag == q("t"):
                text.append(child.text or "")
                if rsize and child.text and child.text.strip():
                    run_sizes.append(rsize)
            elif child.tag == q("tab"):
                text.append("    ")
            elif child.tag == q("br") and child.get(q("type")) == "page":
                breaks += 1
            elif child.tag == q("drawing"):
                pictures += _drawing_height(child)
    if run_sizes:
        size = max(set(run_sizes), key=run_sizes.count)
    char_width, line_height = _metrics(st.font)
    line = _line_height(st, size, line_height)
    per_line = max(1.0, (width - (st.indent or 0.0)) / (size * char_width))
    joined = "".join(text)
    lines = _wrapped_lines(joined, per_line) if joined else (0 if pictures else 1)
    height = lines * line + (st.before or 0.0) + (st.after or 0.0) + pictures
    return height, line, lines, pictures, breaks


def _join_spacing(above: _Unit | None, below: _Unit) -> None:
    """Spacing between two paragraphs: with "don't add space between paragraphs of the same style"
    (list styles), none; otherwise the spacing after the one above and before the one below both
    count (Word's default, which LibreOffice follows for DOCX)."""
    if above is not None and below.contextual and above.style == below.style and above.style is not None:
        above.height -= above.after
        below.height -= below.before
        above.after = below.before = 0.0


def _wrapped_lines(text: str, per_line: float) -> int:
    """Lines a text takes when wrapped at word boundaries, `per_line` characters to a line; a word
    longer than a line (a date and time in a narrow cell) is broken across lines."""
    lines, used = 1, 0.0
    for word in text.split():
        size = len(word)
        if used and used + 1 + size > per_line:
            lines, used = lines + 1, 0.0
        if size > per_line:
            extra = math.ceil(size / per_line) - 1
            lines, used = lines + extra, size - extra * per_line
        else:
            used += size + (1 if used else 0)
    return lines


def _nested(node: Any, p: Any) -> bool:
    """A run of a text box or of a fallback copy inside the paragraph: not the paragraph's own text."""
    parent = node.getparent()
    while parent is not None and parent is not p:
        if parent.tag in (q("txbxContent"), f"{{{MC}}}Fallback"):
            return True
        parent = parent.getparent()
    return False


def _line_height(st: _ParaStyle, size: float, single: float) -> float:
    value, rule = st.line or (240.0, "auto")
    if rule == "auto":
        if value > 240:
            # LibreOffice sets a proportional spacing on the font's em box, not on its line: 1.15
            # lines of 11-pt Calibri are 14.6 pt apart (13.3 pt single), of Liberation Serif 14.5
            return size * max(single, _PROPORTIONAL_EM * value / 240)
        return size * single * value / 240
    return max(value / 20, size * single) if rule == "atLeast" else value / 20


def _drawing_height(drawing: Any) -> float:
    """Height of a picture that takes room in the text (inline, or anchored with text above and below)."""
    for holder in drawing.iterchildren():
        extent = holder.find(f"{{{WP}}}extent")
        if extent is None:
            continue
        if holder.tag == f"{{{WP}}}anchor" and holder.find(f"{{{WP}}}wrapTopAndBottom") is None:
            continue  # floats beside the text, behind or in front of it
        return (_number(extent.get("cy")) or 0.0) / _EMU_PER_PT
    return 0.0


def _table_rows(tbl: Any, layout: _Layout, width: float) -> list[_Unit]:
    """The rows of a table set in `width`, as units: a row is kept with the next when its paragraphs
    are (Word's way of keeping a table on one page)."""
    grid = [_twips(c, "w") for c in tbl.findall(f"{q('tblGrid')}/{q('gridCol')}")]
    total = sum(grid) or width
    scale = min(1.0, width / total) if total else 1.0
    style_el = tbl.find(f"{q('tblPr')}/{q('tblStyle')}")
    table_style = style_el.get(q("val")) if style_el is not None else None
    rows: list[_Unit] = []
    for tr in tbl.findall(q("tr")):
        col = 0
        row = 0.0
        kept = bool(tr.findall(f".//{q('p')}"))
        for tc in tr.findall(q("tc")):
            span_el = tc.find(f"{q('tcPr')}/{q('gridSpan')}")
            span = (
                int(span_el.get(q("val")) or 1)
                if span_el is not None and (span_el.get(q("val")) or "").isdigit()
                else 1
            )
            cell_width = sum(grid[col : col + span]) * scale if grid else width / max(len(tr.findall(q("tc"))), 1)
            col += span
            inner = 0.0
            for el in tc.iterchildren():
                if el.tag == q("p"):
                    st = _resolved(el, layout, table_style)
                    inner += _measure(el, st, layout, max(cell_width - _CELL_MARGINS, 20.0))[0]
                    kept = kept and st.keep_next
                elif el.tag == q("tbl"):
                    inner += sum(u.height for u in _table_rows(el, layout, cell_width - _CELL_MARGINS))
            row = max(row, inner)  # Word's default cell margins add nothing above and below the text
        tr_height = tr.find(f"{q('trPr')}/{q('trHeight')}")
        row = max(row, _twips(tr_height, "val"))
        rows.append(_Unit(height=row, line=row, splittable=False, keep_next=kept))
    return rows
