"""Page images of a PDF dossier for the review workspace, and where a quote sits on a page.

Pages are rendered by PDFium (pypdfium2, already what reads PDF text) once, then cached under
`cache/pages/<sha256>/`: keyed by the file's hash like every other cache, so erasing the file
(`pipeline/erasure.py`) removes them. A quote is found on the page from PDFium's own characters
(whitespace- and case-insensitive), so its boxes are those of the glyphs the reader sees.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pypdfium2 as pdfium
from pydantic import BaseModel, ConfigDict, Field

from pipeline.settings import Settings

SCALE = 1.5  # 108 dpi: a page at 1 px per CSS px on a 900 px wide pane, about 150-250 KB of PNG
MAX_PAGES = 2000
_lock = threading.Lock()  # PDFium is not thread-safe


class Box(BaseModel):
    """A rectangle on the page as fractions of its width and height, from the top left."""

    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(ge=0, le=1)
    h: float = Field(ge=0, le=1)


def page_cache_dir(settings: Settings, sha256: str) -> Path:
    return settings.cache_dir / "pages" / sha256


def _open(pdf: Path) -> pdfium.PdfDocument | None:
    """The stored PDF, or None when it cannot be opened without its password (never stored)."""
    try:
        return pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError:
        return None


def page_png(settings: Settings, sha256: str, pdf: Path, page: int) -> bytes | None:
    """PNG of page `page` (1-based), rendered once and cached; None when the page does not exist."""
    if not 1 <= page <= MAX_PAGES:
        return None
    cached = page_cache_dir(settings, sha256) / f"{page}.png"
    if cached.is_file():
        return cached.read_bytes()
    with _lock:
        doc = _open(pdf)
        if doc is None:
            return None
        try:
            if page > len(doc):
                return None
            bitmap = doc[page - 1].render(scale=SCALE)
            buf = io.BytesIO()
            bitmap.to_pil().save(buf, "PNG", optimize=False)
        finally:
            doc.close()
    data = buf.getvalue()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data


def _fold(text: str) -> tuple[str, list[int]]:
    """Text without whitespace, case-folded, with the index of each kept character in `text`."""
    out, where = [], []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "\u00ad\u200b\ufffe\uffff":
            continue
        ch = {"’": "'", "‘": "'", "«": '"', "»": '"', "–": "-", "—": "-"}.get(ch, ch)
        out.append(ch.casefold())
        where.append(i)
    return "".join(out), where


def quote_boxes(pdf: Path, page: int, quote: str) -> list[Box]:
    """The boxes of `quote` on page `page` (1-based): the whole quote, else its start (a quote can
    run onto the next page); [] when it is not found."""
    wanted, _ = _fold(quote)
    if not wanted or not 1 <= page <= MAX_PAGES:
        return []
    with _lock:
        doc = _open(pdf)
        if doc is None:
            return []
        try:
            if page > len(doc):
                return []
            pg = doc[page - 1]
            width, height = pg.get_size()
            tp = pg.get_textpage()
            count = tp.count_chars()
            text = tp.get_text_range(0, count) if count else ""
            folded, where = _fold(text)
            for probe in (wanted, wanted[:60]):
                i = folded.find(probe)
                if i >= 0:
                    first, last = where[i], where[i + len(probe) - 1]
                    n = tp.count_rects(first, last - first + 1)
                    rects = [tp.get_rect(k) for k in range(n)]
                    break
            else:
                return []
        finally:
            doc.close()
    boxes = []
    for left, bottom, right, top in rects:
        x, y = max(0.0, left / width), max(0.0, (height - top) / height)
        boxes.append(
            Box(
                x=min(x, 1.0),
                y=min(y, 1.0),
                w=min(1.0 - x, (right - left) / width),
                h=min(1.0 - y, (top - bottom) / height),
            )
        )
    return boxes
