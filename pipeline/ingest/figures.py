"""The words a reader sees in a DOCX's charts and vector pictures, which the document XML does not hold.

A chart made in Word (DrawingML, `word/charts/chartN.xml`) shows its title, axis titles, category
labels and legend; a diagram pasted from Visio, PowerPoint or an old Office as an EMF picture draws
its labels as text records. Word's and LibreOffice's PDF exports write those words as text, so a
DOCX read without them differs from its own PDF (a report's class and process diagrams: 11 % of its
PDF's words). Read here from the parts' bytes, with the standard library only:

- chart: the title (or, with a title but no text of its own, the single series' name, as Word
  draws it), axis titles unless the axis is deleted, the category labels, and the series names
  when a legend is shown (a pie's legend lists its categories, already read). Value-axis ticks and
  data labels are numbers Word computes and formats: not read.
- EMF: `EMR_EXTTEXTOUTW` records (UTF-16 strings) in drawing order, records on one baseline joined
  into a line; glyph-index records (no characters) and EMF+-only pictures give nothing.

Each function returns the lines in reading order; a part that cannot be read gives no lines (a
figure is never a reason to refuse a dossier).
"""

from __future__ import annotations

import struct

from lxml import etree

from pipeline.textnorm import normalise

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
MAX_LINES = 200  # a picture is a figure, not a document: a data dump in a chart is cut here

_EMR_EOF = 14
_EMR_EXTTEXTOUTW = 84
_ETO_GLYPH_INDEX = 0x10


def _c(tag: str) -> str:
    return f"{{{C}}}{tag}"


def _rich_text(el: etree._Element | None) -> str:
    """The text of a `c:title` or `c:tx` (rich paragraphs or a cached string reference)."""
    if el is None:
        return ""
    paragraphs = el.findall(f".//{{{A}}}p")
    if paragraphs:
        return " ".join(normalise("".join(t.text or "" for t in p.iter(f"{{{A}}}t"))) for p in paragraphs).strip()
    return " ".join(normalise(v.text or "") for v in el.iter(_c("v"))).strip()


def _off(el: etree._Element | None) -> bool:
    return el is not None and el.get("val") in ("1", "true")


def chart_lines(xml: bytes) -> list[str]:
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError:
        return []
    chart = root.find(_c("chart"))
    if chart is None:
        return []
    plot = chart.find(_c("plotArea"))
    series = [] if plot is None else [s for kind in plot for s in kind.findall(_c("ser"))]
    names = [name for s in series if (name := _rich_text(s.find(_c("tx"))))]
    lines: list[str] = []
    title = chart.find(_c("title"))
    if title is not None:
        text = _rich_text(title.find(_c("tx")))
        if not text and len(names) == 1:
            text = names[0]  # a title with no text of its own: Word draws the series name
        lines.append(text)
    elif not _off(chart.find(_c("autoTitleDeleted"))) and len(series) == 1 and names:
        lines.append(names[0])
    if plot is not None:
        for axis in plot:
            if axis.tag in (_c("catAx"), _c("valAx"), _c("dateAx"), _c("serAx")) and not _off(axis.find(_c("delete"))):
                lines.append(_rich_text(axis.find(f"{_c('title')}/{_c('tx')}")))
    categories: list[str] = []
    for s in series[:1]:  # every series shares the categories
        cat = s.find(_c("cat"))
        if cat is not None:
            points = sorted(cat.iter(_c("pt")), key=lambda p: int(p.get("idx", "0")))
            categories = [normalise(v.text or "") for p in points if (v := p.find(_c("v"))) is not None]
    lines.append(" | ".join(c for c in categories if c))
    pie = plot is not None and any(k.tag in (_c("pieChart"), _c("pie3DChart"), _c("doughnutChart")) for k in plot)
    if chart.find(_c("legend")) is not None and not pie:
        lines.append(" | ".join(names))
    return [line for line in lines if line.strip()][:MAX_LINES]


def emf_lines(data: bytes) -> list[str]:
    if len(data) < 88 or struct.unpack_from("<I", data, 0)[0] != 1 or data[40:44] != b" EMF":
        return []
    lines: list[str] = []
    baseline: int | None = None
    end_x = 0.0  # where the previous string on this baseline ended
    at = 0
    while at + 8 <= len(data):
        kind, size = struct.unpack_from("<II", data, at)
        if size < 8 or at + size > len(data) or kind == _EMR_EOF:
            break
        if kind == _EMR_EXTTEXTOUTW and size >= 76:
            # type, size, bounds (16), graphics mode, x/y scale, then EMRTEXT: reference point (8),
            # character count, string offset, options, rectangle (16), advances offset
            x, y, count, offset, options = struct.unpack_from("<iiIII", data, at + 36)
            dx_at = struct.unpack_from("<I", data, at + 72)[0]
            if not options & _ETO_GLYPH_INDEX and 0 < count <= 10_000 and offset + 2 * count <= size:
                text = normalise(data[at + offset : at + offset + 2 * count].decode("utf-16-le", "replace"))
                advances = (
                    struct.unpack_from(f"<{count}i", data, at + dx_at)
                    if dx_at > 0 and dx_at + 4 * count <= size
                    else ()
                )
                width = float(sum(advances))
                if text.strip():
                    same_line = baseline is not None and abs(y - baseline) <= 1 and lines
                    # a word drawn in pieces (kerning, letter by letter): the next piece starts where
                    # the last ended, less than a third of a character away
                    char = width / count if width > 0 else 0.0
                    if same_line and char and x - end_x < char / 3:
                        lines[-1] += text.strip()
                    elif same_line:
                        lines[-1] += " " + text.strip()
                    else:
                        lines.append(text.strip())
                    baseline, end_x = y, x + width
        at += size
    return lines[:MAX_LINES]
