"""PDF → raw blocks. PDFium (pypdfium2) reads the text; pypdf opens, decrypts, repairs and gives the outline.

PDFium gives every character with its box, font size, weight, fill colour and text object, and
inserts the spaces a reader sees between words (a whitespace-only fragment dropped by a producer
no longer glues two words). Text is taken in content-stream order (for word-processor and LaTeX
exports the reading order, column by column on multi-column pages).

Visibility is decided on the rendered page, not on colour values: for each character that
could be unseen (light fill, drawn under a later image or filled shape, outside the page) the
area is rendered with and without that text, and a character whose pixels do not change, over
an area of one flat colour, is hidden. White text on a coloured cell, a photo or a slide
background is visible; black text under a white box is not. Render mode 3/7 and text of 2 pt or
less are hidden without rendering. Layout accidents (part of a line under a picture, a footer
under a logo that every other page shows) are not reported: see `_forgive_layout_overlaps` and
`_drop_repeated_hidden`.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf.errors import FileNotDecryptedError

from pipeline.errors import DamagedFileError, EncryptedError, NoTextLayerError, TooLargeError
from pipeline.ingest.layout import (
    Frag,
    Line,
    Page,
    Rule,
    apply_outline,
    build_blocks,
    drop_furniture,
    split_reviewer_markup,
)
from pipeline.ingest.lexicon import repair_glyphs
from pipeline.ingest.raw import RawBlock, RawDoc, RawFinding, luminance
from pipeline.textnorm import normalise

log = logging.getLogger(__name__)

_TINY_PT = 2.0
# a table border: a stroke at most this thick and at least this long (points); a page drawn with more
# paths than this is a chart or a map, whose strokes are no table
RULE_MAX_PT = 2.5
RULE_MIN_PT = 4.0
MAX_PATHS_FOR_RULES = 3000
_LIGHT = 0.8  # fill luminance from which text may vanish on a light background: checked on the render
_RENDER_SCALE = 1.0  # pixels per point for the visibility render (glyphs under 2 pt are hidden anyway)
_VISIBLE_DIFF = 32  # a glyph is seen when some pixel under it changes by this much (0-255) with the text drawn
_FLAT_RANGE = 48  # pixel range (0-255) under which the area a glyph covers is one flat colour
_REPAIR = re.compile(
    r"xref|startxref|rebuild|decompress|Invalid parent|Object \d+ \d+ (?:found|not defined)|wrong pointing object"
    r"|Object Streams|damaged|EOF marker",
    re.I,
)
# Not damage a reader would meet: Quartz lists free objects at offset 0; a dangling reference (a
# bookmark to a removed object, as Google Docs writes) leaves every page readable.
_NOT_DAMAGE = re.compile(r"offset 0\b|\(0\)$|not defined")
_HEAVY_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.I)


# --- opening (pypdf) -----------------------------------------------------------------------------


def open_pdf(path: Path, data: bytes, password: str | None, max_pages: int) -> tuple[pypdf.PdfReader, bool]:
    """Open with pypdf (decryption, page count limit); True when the xref had to be rebuilt."""
    name = path.name
    damaged = _damaged(name)
    rebuilt = False
    try:
        reader, n = _open(data, name, password)
    except (EncryptedError, TooLargeError):
        raise
    except Exception as first:
        # second chance: send pypdf to rebuild the cross-reference table by scanning the objects
        cut = data.rfind(b"startxref")
        if cut <= 0:
            raise damaged from first
        try:
            reader, n = _open(data[:cut] + b"startxref\n0\n%%EOF\n", name, password)
            rebuilt = True
        except (EncryptedError, TooLargeError):
            raise
        except Exception:
            log.warning("unreadable PDF %s: %s: %s", name, type(first).__name__, first)
            raise damaged from first
    if n == 0:
        raise damaged
    if n > max_pages:
        raise TooLargeError(
            f"{name}: {n} pages exceeds the limit of {max_pages}",
            f"Le PDF « {name} » compte {n} pages, au-delà de la limite de {max_pages} pages. Déposez le dossier "
            "sans ses annexes volumineuses, ou demandez à l’administrateur de relever la limite.",
        )
    return reader, rebuilt


def _damaged(name: str) -> DamagedFileError:
    return DamagedFileError(
        f"{name}: unreadable PDF structure",
        f"Le PDF « {name} » est trop endommagé pour être lu. Exportez-le à nouveau depuis le logiciel "
        "d’origine (Fichier > Exporter en PDF) puis redéposez-le.",
    )


def _open(data: bytes, name: str, password: str | None) -> tuple[pypdf.PdfReader, int]:
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            _decrypt(reader, name, password)
        except FileNotDecryptedError as e:
            raise EncryptedError(f"{name}: encrypted: {e}", _ask_password(name)) from e
    return reader, len(reader.pages)


def _ask_password(name: str) -> str:
    return (
        f"Le PDF « {name} » est protégé par un mot de passe. Relancez avec --password (ou saisissez-le "
        "dans le formulaire), ou exportez une version sans mot de passe."
    )


def _decrypt(reader: pypdf.PdfReader, name: str, password: str | None) -> None:
    for candidate in [password] if password else [""]:
        try:
            if reader.decrypt(candidate or ""):
                return
        except NotImplementedError as e:
            raise EncryptedError(
                f"{name}: unsupported encryption: {e}",
                f"Le PDF « {name} » utilise un chiffrement non pris en charge. Exportez une version sans mot de passe.",
            ) from e
    wrong = " (le mot de passe donné est incorrect)" if password else ""
    raise EncryptedError(
        f"{name}: encrypted, password {'wrong' if password else 'missing'}", _ask_password(name) + wrong
    )


def _touch_objects(reader: pypdf.PdfReader, limit: int = 20_000) -> None:
    """Read every object the cross-reference table lists, so that pypdf reports what it had to repair."""
    seen = 0
    try:
        for gen, ids in list(reader.xref.items()):
            for idnum in list(ids):
                seen += 1
                if seen > limit:
                    return
                try:
                    reader.get_object(pypdf.generic.IndirectObject(idnum, gen, reader))
                except Exception:
                    continue
    except Exception:  # an unreadable table is reported by the open itself
        return
    for page in reader.pages:  # and decompress the page contents (a damaged stream warns here)
        try:
            contents = page.get("/Contents")
            contents = contents.get_object() if contents is not None else None
            for stream in contents if isinstance(contents, pypdf.generic.ArrayObject) else [contents]:
                if stream is not None:
                    stream.get_object().get_data()
        except Exception:
            continue


def _outline(reader: pypdf.PdfReader) -> list[tuple[str, int, int | None]]:
    """(title, level 1.., 0-based page or None) of each bookmark, in order."""
    out: list[tuple[str, int, int | None]] = []

    def walk(items: Any, level: int) -> None:
        for it in items:
            if isinstance(it, list):
                walk(it, level + 1)
                continue
            try:
                title = str(it.title or "").strip()
                page = reader.get_destination_page_number(it)
            except Exception:
                continue
            if title and len(out) < 2000:
                out.append((title, level, page if page is not None and page >= 0 else None))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline only costs the headings it would have given
        return []
    return out


class _Collect(logging.Handler):
    """Collects pypdf's warnings (repairs it made) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def parse_pdf(path: Path, data: bytes, password: str | None, max_pages: int, max_chars: int) -> RawDoc:
    pypdf_log = logging.getLogger("pypdf")
    collect = _Collect()
    pypdf_log.addHandler(collect)
    propagate, pypdf_log.propagate = pypdf_log.propagate, False
    try:
        reader, rebuilt = open_pdf(path, data, password, max_pages)
        _touch_objects(reader)
        outline = _outline(reader)
        has_images = partial(_has_images, reader)
        repairs = [m for m in collect.messages if _REPAIR.search(m) and not _NOT_DAMAGE.search(m)]
    finally:
        pypdf_log.removeHandler(collect)
        pypdf_log.propagate = propagate
    doc = _open_pdfium(path.name, data, password, reader)
    try:
        xref_ok = bool(pdfium_c.FPDF_DocumentHasValidCrossReferenceTable(doc))
        raw = _read(path, doc, max_chars, outline, has_images)
    finally:
        doc.close()
    # pypdf warns about things poppler and PDFium read without complaint (Quartz lists free objects
    # as in use at offset 0): those warnings are not damage; PDFium's own xref check is.
    if repairs or rebuilt or not xref_ok:
        log.info("%s: structure repaired: %s", path.name, "; ".join(repairs[:5]))
        raw.findings.append(
            RawFinding(
                kind="damage",
                text=f"structure du PDF réparée à la lecture ({max(len(repairs), 1)} anomalie(s))",
                detail="Le PDF est partiellement endommagé ; le texte a été récupéré, vérifiez qu’il est complet.",
            )
        )
    return raw


def _open_pdfium(name: str, data: bytes, password: str | None, reader: pypdf.PdfReader) -> pdfium.PdfDocument:
    """PDFium on the original bytes; else on pypdf's decrypted or repaired copy (an owner password
    that pypdf accepts empty, a structure only pypdf's scan recovers)."""
    try:
        return pdfium.PdfDocument(data, password=password or None)
    except pdfium.PdfiumError as first:
        try:
            out = io.BytesIO()
            pypdf.PdfWriter(clone_from=reader).write(out)
            return pdfium.PdfDocument(out.getvalue())
        except Exception as e:
            log.warning("PDFium cannot open %s: %s; pypdf copy: %s: %s", name, first, type(e).__name__, e)
            if "password" in str(first).lower():
                raise EncryptedError(f"{name}: encrypted (pdfium): {first}", _ask_password(name)) from first
            raise _damaged(name) from first


# --- characters (PDFium) ---------------------------------------------------------------------------


# FPDFText_GetTextObject with the address as a plain integer (a typed pointer costs a cast per character)
_text_object_address = ctypes.cast(
    pdfium_c.FPDFText_GetTextObject, ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
)


@dataclass
class _Style:
    size: float
    bold: bool
    lum: float
    mode: int
    unmapped: bool  # the font gives no Unicode for this text (Type 3 or symbolic font without ToUnicode)
    # the writing direction on the page when turned more than 45° (a chart's vertical axis title, a
    # label along a diagram's arrow); None for text written left to right
    turned: tuple[float, float] | None = None


@dataclass(slots=True)
class _Char:
    ch: str
    x0: float
    x1: float
    y0: float
    y1: float
    obj: int  # text object address, 0 for characters PDFium generated (spaces, line breaks)
    index: int
    solid: bool  # drawn by the document, not white space
    hidden: str | None = None


class _PageReader:
    """One page: its characters with style, then visibility, then lines of fragments."""

    def __init__(self, page: pdfium.PdfPage, budget: int = 10**9) -> None:
        self.page = page
        # (left, bottom, right, top) in the coordinates of the characters: the visible box, crop and
        # media boxes inherited from the page tree included (PDFium's own crop box falls back to US
        # Letter when the MediaBox is set on the tree, as macOS Quartz writes it)
        self.box = page.get_bbox()
        self.width, self.height = self.box[2] - self.box[0], self.box[3] - self.box[1]
        self.rotated = page.get_rotation() != 0
        self.textpage = page.get_textpage()
        self.styles: dict[int, _Style] = {}
        self.handles: dict[int, Any] = {}
        self.budget = budget  # characters the document may still hold: counted before they are read
        self.chars = self._chars()

    def close(self) -> None:
        self.textpage.close()

    def _chars(self) -> list[_Char]:
        tp = self.textpage
        n = pdfium_c.FPDFText_CountChars(tp)
        if n <= 0:
            return []
        if n > self.budget:
            raise _OverBudget
        text = tp.get_text_range(0, n)
        if len(text) != n:  # characters outside the BMP: read them one by one
            text = "".join(chr(pdfium_c.FPDFText_GetUnicode(tp, i) or 0xFFFD) for i in range(n))
        rect = pdfium_c.FS_RECTF()
        out: list[_Char] = []
        styles = self.styles
        get_box = pdfium_c.FPDFText_GetLooseCharBox  # advance-width boxes: a gap between them is real space
        raw_tp = tp.raw
        for i, ch in enumerate(text):
            key = _text_object_address(raw_tp, i) or 0
            if key and ch == " " and pdfium_c.FPDFText_IsGenerated(raw_tp, i) == 1:
                key = 0  # a space PDFium inferred, not one the document drew
            if key and key not in styles:
                obj = pdfium_c.FPDFText_GetTextObject(tp, i)
                styles[key] = self._style(i, obj)
                self.handles[key] = obj
            get_box(raw_tp, i, rect)
            solid = bool(key) and not ch.isspace()
            out.append(_Char(ch, rect.left, rect.right, rect.bottom, rect.top, key, i, solid))
        return out

    def _style(self, i: int, obj: Any) -> _Style:
        tp = self.textpage
        size = float(pdfium_c.FPDFText_GetFontSize(tp, i))
        m = pdfium_c.FS_MATRIX()
        turned = None
        if pdfium_c.FPDFText_GetMatrix(tp, i, m):  # "1 Tf" scaled by the text matrix is not 1 pt
            size *= abs(m.a * m.d - m.b * m.c) ** 0.5 or 1.0
            if abs(m.b) > abs(m.a):
                norm = math.hypot(m.a, m.b)
                turned = (m.a / norm, m.b / norm)
        weight = int(pdfium_c.FPDFText_GetFontWeight(tp, i))
        buf = ctypes.create_string_buffer(128)
        flags = ctypes.c_int()
        pdfium_c.FPDFText_GetFontInfo(tp, i, buf, 128, flags)
        name = buf.value.decode("latin-1", "replace")
        r, g, b, a = (ctypes.c_uint() for _ in range(4))
        lum = 0.0
        if pdfium_c.FPDFText_GetFillColor(tp, i, r, g, b, a):
            lum = luminance(r.value / 255, g.value / 255, b.value / 255)
        mode = int(pdfium_c.FPDFTextObj_GetTextRenderMode(obj))
        unmapped = bool(pdfium_c.FPDFText_HasUnicodeMapError(tp, i))
        return _Style(size, weight >= 600 or bool(_HEAVY_FONT.search(name)), lum, mode, unmapped, turned)

    def unmapped_share(self) -> float:
        solid = [c for c in self.chars if c.solid]
        return sum(self.styles[c.obj].unmapped for c in solid) / len(solid) if len(solid) > 40 else 0.0

    # --- visibility ---

    def decide_visibility(self) -> None:
        """Hidden reasons per character: render mode and size directly, the rest on the rendered page."""
        suspects: list[_Char] = []
        covered = self._covered_objects()
        for c in self.chars:
            if not c.solid:
                continue
            st = self.styles[c.obj]
            if st.mode in (3, 7):
                c.hidden = "texte invisible (mode de rendu 3)"
            elif 0 < st.size <= _TINY_PT:
                c.hidden = f"texte minuscule ({st.size:.1f} pt)"
            elif c.x1 < self.box[0] or c.x0 > self.box[2] or c.y1 < self.box[1] or c.y0 > self.box[3]:
                c.hidden = "texte hors de la page"
            elif st.lum >= _LIGHT or c.obj in covered:
                suspects.append(c)
        if suspects and not self.rotated:  # (a rotated page is not rendered: its text counts as seen)
            self._render_check(suspects, covered)
        self._forgive_layout_overlaps()

    def _forgive_layout_overlaps(self) -> None:
        """Text under a picture or off the page is hidden only when a whole line of three words or
        more is: a picture overlapping part of a line, a page number or a stray letter is a layout
        accident, read as visible, never reported as hidden."""
        layout = ("texte recouvert par une image ou une forme", "texte hors de la page")
        lines: list[list[_Char]] = [[]]
        for c in self.chars:
            if not c.obj and c.ch in "\r\n":
                lines.append([])
            else:
                lines[-1].append(c)
        for chars in lines:
            solid = [c for c in chars if c.solid]
            if not any(c.hidden in layout for c in solid):
                continue
            words = "".join(c.ch for c in chars).split()
            if any(not c.hidden for c in solid) or len(words) < 3:
                for c in solid:
                    if c.hidden in layout:
                        c.hidden = None

    @cached_property
    def _page_objects(self) -> list[tuple[int, Any]]:
        """The page's objects (type, handle), walked once for the visibility check and the borders."""
        return list(_objects(self.page.raw))

    def rules(self) -> list[Rule]:
        """Thin horizontal and vertical strokes drawn on the page (table borders, as word processors
        draw them: a thin filled rectangle or a line per cell edge), as (left, bottom, right, top);
        none on a page drawn with more paths than a table needs (a chart, a map)."""
        out: list[Rule] = []
        paths = 0
        for kind, obj in self._page_objects:
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                paths += 1
                left, bottom, right, top = _bounds(obj)
                w, h = right - left, top - bottom
                if (h <= RULE_MAX_PT and w >= RULE_MIN_PT) or (w <= RULE_MAX_PT and h >= RULE_MIN_PT):
                    out.append((left, bottom, right, top))
        return out if paths <= MAX_PATHS_FOR_RULES else []

    def _covered_objects(self) -> set[int]:
        """Text objects overlapped by an image, a filled path or a shading painted after them."""
        texts: list[tuple[int, tuple[float, float, float, float]]] = []
        covered: set[int] = set()
        painters: list[tuple[int, tuple[float, float, float, float]]] = []
        self._seq_key: dict[int, int] = {}
        for seq, (kind, obj) in enumerate(self._page_objects, 1):
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                key = ctypes.cast(obj, ctypes.c_void_p).value or 0
                if key in self.styles:
                    texts.append((seq, _bounds(obj)))
                    self._seq_key[seq] = key
            elif kind in (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_SHADING) or (
                kind == pdfium_c.FPDF_PAGEOBJ_PATH and _filled(obj)
            ):
                painters.append((seq, _bounds(obj)))
        if not painters or not texts:
            return covered
        first_text = min(s for s, _ in texts)
        later = [(s, b) for s, b in painters if s > first_text and _area(b) > 0]
        if not later:
            return covered
        seqs = np.array([s for s, _ in later])
        boxes = np.array([b for _, b in later])  # left, bottom, right, top
        for s, (x0, y0, x1, y1) in texts:
            after = seqs > s
            w = np.minimum(boxes[after, 2], x1) - np.maximum(boxes[after, 0], x0)
            h = np.minimum(boxes[after, 3], y1) - np.maximum(boxes[after, 1], y0)
            area = max((x1 - x0) * (y1 - y0), 1e-6)
            if np.any((w > 0) & (h > 0) & (w * h > 0.3 * area)):
                covered.add(self._seq_key[s])
        return covered

    def _render_check(self, suspects: list[_Char], covered: set[int]) -> None:
        """Render the part of the page that holds the suspects, with and without their text objects."""
        scale = min(_RENDER_SCALE, 1600 / max(self.width, self.height, 1.0))
        bl, bb, br, bt = self.box
        ux0 = max(min(c.x0 for c in suspects) - 2, bl)
        uy0 = max(min(c.y0 for c in suspects) - 2, bb)
        ux1 = min(max(c.x1 for c in suspects) + 2, br)
        uy1 = min(max(c.y1 for c in suspects) + 2, bt)
        if ux1 <= ux0 or uy1 <= uy0:
            crop = (0.0, 0.0, 0.0, 0.0)
            ux0, uy1 = bl, bt
        else:
            crop = (max(ux0 - bl, 0.0), max(uy0 - bb, 0.0), max(br - ux1, 0.0), max(bt - uy1, 0.0))
        with_text = self._render(scale, crop)
        objs = {c.obj for c in suspects}
        modes = {k: self.styles[k].mode for k in objs}
        try:
            for k in objs:
                pdfium_c.FPDFTextObj_SetTextRenderMode(self.handles[k], 3)
            without = self._render(scale, crop)
        finally:
            for k, m in modes.items():
                pdfium_c.FPDFTextObj_SetTextRenderMode(self.handles[k], m)
        h, w = with_text.shape[:2]
        for c in suspects:
            px0, px1 = max(int((c.x0 - ux0) * scale) - 1, 0), min(int(np.ceil((c.x1 - ux0) * scale)) + 1, w)
            py0, py1 = max(int((uy1 - c.y1) * scale) - 1, 0), min(int(np.ceil((uy1 - c.y0) * scale)) + 1, h)
            under = with_text[py0:py1, px0:px1]
            if under.size == 0:
                seen = False
                flat = True
            else:
                seen = int(np.abs(under - without[py0:py1, px0:px1]).max()) >= _VISIBLE_DIFF
                # unseen, and nothing else drawn there either: a flat area. Where the area shows a
                # picture or shapes (WordArt drawn as outlines over its text copy, a photo), a reader
                # sees something at that place and we cannot tell it apart from the text: not hidden.
                flat = int((under.max(axis=(0, 1)) - under.min(axis=(0, 1))).max()) < _FLAT_RANGE
            if not seen and flat:
                c.hidden = (
                    "texte recouvert par une image ou une forme"
                    if c.obj in covered and self.styles[c.obj].lum < _LIGHT
                    else "texte blanc sur fond blanc"
                    if self.styles[c.obj].lum >= 0.92
                    else "texte de couleur claire sur fond clair"
                )

    def _render(self, scale: float, crop: tuple[float, float, float, float]) -> np.ndarray:
        bitmap = self.page.render(scale=scale, crop=crop, may_draw_forms=False, grayscale=False)
        try:
            return bitmap.to_numpy()[:, :, :3].astype(np.int16)
        finally:
            bitmap.close()

    # --- lines ---

    def lines(self) -> list[Line]:
        """Lines as PDFium breaks them; each split into fragments at cell gaps and visibility changes."""
        seen: dict[tuple[str, int, int], int] = {}
        lines: list[Line] = []
        cur: list[_Char] = []
        last: _Char | None = None
        turned: list[_Char] = []  # text written in another direction, read apart (PDFium cuts it up)
        styles = self.styles
        for c in self.chars:
            if c.obj and styles[c.obj].turned:
                if cur and not turned:
                    lines.append(self._line(cur))
                    cur, last = [], None
                turned.append(c)
                continue
            if turned:
                if not c.obj:
                    continue  # PDFium's line breaks and guessed spaces inside turned text
                lines += self._turned_lines(turned)
                turned = []
            if not c.obj:
                if c.ch in "\r\n":
                    if cur:
                        lines.append(self._line(cur))
                    cur, last = [], None
                    continue
            elif c.solid:
                if last is not None and c.y1 < last.y0 and c.x0 < last.x0:
                    lines.append(self._line(cur))  # a word PDFium joined across a hyphenated line end
                    cur = []
                last = c
                key = (c.ch, int(c.x0), int(c.y0))
                # the same glyph drawn again at the same place (overprinted text); the characters of
                # one ligature glyph share a box but follow each other
                if seen.setdefault(key, c.index) < c.index - 3:
                    continue
            cur.append(c)
        if cur:
            lines.append(self._line(cur))
        lines += self._turned_lines(turned)
        return [ln for ln in lines if ln.frags]

    def _turned_lines(self, chars: list[_Char]) -> list[Line]:
        """Text written in another direction, as lines of its own: each character's box is measured
        along its writing direction (so spaces and cells are found as in upright text), a new line
        starts where the text steps across by more than half its size; the fragments keep the
        page's coordinates."""
        lines: list[Line] = []
        cur: list[_Char] = []
        across_prev: float | None = None
        for c in chars:
            style = self.styles[c.obj]
            dx, dy = style.turned or (1.0, 0.0)
            corners = ((c.x0, c.y0), (c.x0, c.y1), (c.x1, c.y0), (c.x1, c.y1))
            along = [x * dx + y * dy for x, y in corners]
            across = [y * dx - x * dy for x, y in corners]
            t = _Char(c.ch, min(along), max(along), min(across), max(across), c.obj, c.index, c.solid, c.hidden)
            mid = (t.y0 + t.y1) / 2
            if c.solid and across_prev is not None and abs(mid - across_prev) > 0.5 * style.size and cur:
                lines.append(self._upright(cur))
                cur = []
            if c.solid:
                across_prev = mid
            cur.append(t)
        if cur:
            lines.append(self._upright(cur))
        return lines

    def _upright(self, chars: list[_Char]) -> Line:
        """A line of turned characters (measured along their direction) with the page's x coordinates."""
        line = self._line(chars)
        page = [self.chars[c.index] for c in chars]  # self.chars is in PDFium's order: index = position
        for f in line.frags:
            f.x0, f.x1 = min(c.x0 for c in page), max(c.x1 for c in page)
        return line

    def _line(self, chars: list[_Char]) -> Line:
        """Fragments split where visibility changes or a cell starts: a wide gap, or a gap of more
        than a character width where a new text object starts (word processors draw each cell apart)."""
        line = Line()
        run: list[_Char] = []
        run_hidden: str | None = None
        has_solid = False
        prev: _Char | None = None
        cell = False
        styles = self.styles
        for c in chars:
            solid = c.solid
            if solid and prev is not None and run:
                size = styles[prev.obj].size
                gap = c.x0 - prev.x1
                new_cell = gap > 2.0 * size or (c.obj != prev.obj and gap > 1.0 * size) or c.x0 < prev.x0 - 3 * size
                # "•<tab>text", "1.<tab>text": a list item, not a cell
                if new_cell and _is_marker(run, gap / size, c.ch):
                    new_cell = False
                    run.append(_Char(" ", prev.x1, c.x0, c.y0, c.y1, 0, c.index, False))
                elif new_cell or c.hidden != run_hidden:
                    line.frags.append(self._frag(run, cell))
                    run, cell, has_solid = [], new_cell, False
            if solid:
                if not has_solid:
                    run_hidden, has_solid = c.hidden, True
                prev = c
            if run or solid:
                run.append(c)
        if run:
            line.frags.append(self._frag(run, cell))
        line.frags = _unjustified([f for f in line.frags if f.text.strip()])
        return line

    def _frag(self, run: list[_Char], cell: bool) -> Frag:
        solid = [c for c in run if c.solid]
        first = solid[0] if solid else run[0]
        ox, oy = ctypes.c_double(), ctypes.c_double()
        y = first.y0
        if pdfium_c.FPDFText_GetCharOrigin(self.textpage, first.index, ox, oy):
            y = oy.value
        text = _spaced(run, self.styles)
        styles = [self.styles[c.obj] for c in solid]
        size = max((s.size for s in styles), default=10.0)
        bold = sum(s.bold for s in styles) > 0.6 * max(len(styles), 1)
        return Frag(
            text=text,
            x0=min((c.x0 for c in solid), default=first.x0),
            x1=max((c.x1 for c in solid), default=first.x1),
            y=y,
            size=size,
            bold=bold,
            hidden=_run_hidden(run),
            cell=cell,
        )


def _unjustified(frags: list[Frag]) -> list[Frag]:
    """A justified line of few words, each word drawn apart, spreads them a cell's width apart: equal
    gaps (to a tenth of an em), three or more, between words, are justification, one run of words,
    not table cells (a table's gaps follow its columns and the lengths of its cells)."""
    if len(frags) < 4 or len({f.hidden for f in frags}) > 1:
        return frags
    if sum(bool(re.search(r"[^\W\d_]{2}", f.text)) for f in frags) * 4 < len(frags) * 3:
        return frags  # figures in equal columns (a table of amounts) stand equally apart too
    gaps = [b.x0 - a.x1 for a, b in itertools.pairwise(frags)]
    size = max(f.size for f in frags)
    if min(gaps) <= 0 or max(gaps) - min(gaps) > 0.1 * size or max(gaps) > 4 * size:
        return frags
    if any(abs(a.y - b.y) > 0.3 * size for a, b in itertools.pairwise(frags)):
        return frags
    text = " ".join(f.text.strip() for f in frags)
    bold = sum(f.bold for f in frags) * 2 > len(frags)
    first = frags[0]
    return [Frag(text, first.x0, frags[-1].x1, first.y, size, bold, first.hidden, first.cell)]


# the farthest a bare number stands from its list item's text (a hanging indent of about a centimetre
# and a half at 11 pt)
BARE_NUMBER_MARKER_MAX_EM = 4.0
# a list's bullet or number, or a heading's number a tab away from its title (« II. », « B) »)
_MARKER = re.compile(
    r"^(?:[•▪◦●○■□➢➤►▶✓✔❖◆◇→–—*·o-]|[\ue000-\uf8ff]|\d{1,2}(?:\.\d{1,2})*[.)]?|[a-z][.)]|[IVX]{1,4}[.)]|[A-H][.)])$"
)


def _is_marker(run: list[_Char], gap_em: float, after: str) -> bool:
    """A list's bullet or number before its text (`after`: the text's first character). A bare
    number (no dot or bracket) counts only a tab's width from text that starts with a letter:
    further off, or before another figure, it is a table cell of its own (« 1 » | « pas de poste »,
    « 4 » | « 190 € », « 34 » | « 31 » in rows of LibreOffice tables, read once as « 4 190 € »)."""
    marker = "".join(c.ch for c in run).strip()
    if marker.isdigit() and (gap_em > BARE_NUMBER_MARKER_MAX_EM or not after.isalpha()):
        return False
    return bool(_MARKER.match(marker))


def _spaced(run: list[_Char], styles: dict[int, _Style]) -> str:
    """The run's text, with a space wherever two glyphs stand a word space apart but the document
    drew no space character between them (fragments positioned one by one). In letter-spaced text
    ("C O N T E X T E" as drawn) the spaces PDFium guessed between letters are dropped and words are
    split at gaps wider than the letter spacing."""
    threshold, spaced_letters = _space_threshold(run, styles)
    out: list[str] = []
    prev: _Char | None = None
    accent: _Char | None = None
    for c in run:
        if not c.obj and c.ch == " " and spaced_letters:
            continue  # PDFium's guess between two letters of a letter-spaced word
        if c.ch in _SPACING_ACCENTS and c.solid and accent is None:
            accent = c  # TeX's \`a draws the accent, then the letter under it
            continue
        over = accent is not None and c.ch in "aeiouAEIOUcC" and c.x0 < accent.x1 and accent.x0 < c.x1
        if accent is not None and not over:
            out.append(accent.ch)
        if c.solid and prev is not None and c.x0 - prev.x1 > threshold * styles[c.obj].size and c.x0 > prev.x0:
            out.append(" ")
        ch = _clean(c.ch)
        out.append(unicodedata.normalize("NFC", ch + _SPACING_ACCENTS[accent.ch]) if over and accent else ch)
        accent = None
        if c.solid:
            prev = c
        elif c.obj:  # a space character the document drew
            prev = None
    if accent is not None:
        out.append(accent.ch)
    return "".join(out)


def _space_threshold(run: list[_Char], styles: dict[int, _Style]) -> tuple[float, bool]:
    """Gap (in ems) from which two glyphs are two words: 0.15, or the letter spacing plus 0.2 when
    nearly all glyphs of the run stand apart (expanded character spacing)."""
    gaps: list[float] = []
    prev: _Char | None = None
    for c in run:
        if c.solid:
            if prev is not None and c.x0 > prev.x0:
                gaps.append((c.x0 - prev.x1) / max(styles[c.obj].size, 1.0))
            prev = c
        elif c.obj:
            prev = None
    if len(gaps) >= 4:
        ordered = sorted(gaps)
        if ordered[len(ordered) // 4] >= 0.1:  # three glyphs in four stand apart: expanded spacing
            return ordered[len(ordered) // 2] + 0.2, True
    return 0.15, False


_SPACING_ACCENTS = {
    "`": "\u0300",
    "´": "\u0301",
    "ˆ": "\u0302",
    "^": "\u0302",
    "¨": "\u0308",
    "˜": "\u0303",
    "¸": "\u0327",
}


def _run_hidden(run: list[_Char]) -> str | None:
    for c in run:
        if c.ch.strip():
            return c.hidden
    return None


def _clean(ch: str) -> str:
    if ch in "\x02\ufffe":  # PDFium's marks for a hyphen at a line end
        return "-"
    if ch in "\r\n\t":
        return " "
    if ch < " " or "\x7f" <= ch < "\xa0":  # control codes from fonts PDFium cannot map
        return ""
    return ch


def _objects(page: Any) -> Iterator[tuple[int, Any]]:
    """Every object of a page as (type, handle), in painting order, a form's objects just after
    the form itself."""

    def walk(count: int, get: Callable[[int], Any]) -> Iterator[tuple[int, Any]]:
        for k in range(count):
            obj = get(k)
            if not obj:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            yield kind, obj
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                yield from walk(pdfium_c.FPDFFormObj_CountObjects(obj), partial(pdfium_c.FPDFFormObj_GetObject, obj))

    return walk(pdfium_c.FPDFPage_CountObjects(page), partial(pdfium_c.FPDFPage_GetObject, page))


def _bounds(obj: Any) -> tuple[float, float, float, float]:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return (0.0, 0.0, 0.0, 0.0)
    return (left.value, bottom.value, right.value, top.value)


def _filled(obj: Any) -> bool:
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, fill, stroke):
        return False
    return fill.value != 0


def _area(b: tuple[float, float, float, float]) -> float:
    return max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0)


# --- the document --------------------------------------------------------------------------------


def _read(
    path: Path,
    doc: pdfium.PdfDocument,
    max_chars: int,
    outline: list[tuple[str, int, int | None]],
    has_images: Callable[[int], bool],
) -> RawDoc:
    n = len(doc)
    pages: list[Page] = []
    findings: list[RawFinding] = []
    lost: list[int] = []
    garbled: list[int] = []
    scanned: list[int] = []
    chars = 0
    for i in range(n):
        try:
            page = doc[i]
        except pdfium.PdfiumError as e:  # a damaged page is lost, the others are kept
            log.warning("page %d of %s unreadable: %s", i + 1, path.name, e)
            lost.append(i + 1)
            pages.append(Page([]))
            continue
        try:
            try:
                reader = _PageReader(page, max_chars - chars + 10_000)  # (generated spaces and breaks)
            except _OverBudget:
                _too_many_chars(path, max_chars)
            try:
                reader.decide_visibility()
                lines = reader.lines()
                rules = reader.rules()
                unmapped = reader.unmapped_share()
            finally:
                reader.close()
            width, height, bottom = reader.width, reader.height, reader.box[1]
        finally:
            page.close()
        if _accept_ocr_layer(lines, partial(has_images, i)):
            scanned.append(i + 1)
        if unmapped > 0.5 or _garbled(lines):
            garbled.append(i + 1)
            pages.append(Page([], width, height, bottom))
            continue
        for ln in lines:
            hidden = [f for f in ln.frags if f.hidden and f.text.strip()]
            if hidden:
                findings.append(
                    RawFinding(
                        kind="hidden_text",
                        text=normalise(" ".join(f.text for f in hidden)),
                        page=i + 1,
                        detail=f"Texte invisible à la lecture : {hidden[0].hidden}. Exclu du texte évalué.",
                    )
                )
        kept = [ln for ln in lines if ln.text]
        pages.append(Page(kept, width, height, bottom, rules))
        chars += sum(len(ln.text) for ln in kept)
        if chars > max_chars:
            _too_many_chars(path, max_chars)
    _merge_hidden_findings(findings)
    findings = _drop_repeated_hidden(findings, pages)
    if lost:
        findings.append(
            RawFinding(
                kind="damage",
                text=f"{len(lost)} page(s) illisible(s) sur {n} : {', '.join(map(str, lost[:20]))}",
                detail="Le PDF est endommagé : le texte de ces pages n’a pas pu être récupéré.",
            )
        )
    if garbled:
        findings.append(
            RawFinding(
                kind="damage",
                text=f"{len(garbled)} page(s) au texte illisible : {', '.join(map(str, garbled[:20]))}",
                detail="Les polices de ces pages ne permettent pas de retrouver le texte (pas de table de "
                "correspondance Unicode) : leur contenu n’est pas évalué.",
            )
        )
    if chars == 0:
        _no_text(path, n, lost, garbled, has_images)
    empty = [i + 1 for i, p in enumerate(pages) if not p.lines and (i + 1) not in lost]
    if empty and len(empty) >= max(2, n // 4):
        findings.append(
            RawFinding(
                kind="no_text_pages",
                text=f"{len(empty)} page(s) sans texte : {', '.join(map(str, empty[:20]))}",
                detail="Ces pages n’ont pas de couche texte (images ou scans) : leur contenu n’est pas évalué.",
            )
        )
    findings.extend(
        RawFinding(
            kind="scanned_page",
            text=f"page {page_no} numérisée, lue par sa couche de texte reconnue (OCR)",
            page=page_no,
            detail="Cette page est une image (scan) accompagnée d’un texte reconnu automatiquement : ce texte, "
            "et surtout ses tableaux, peut contenir des erreurs de lecture. Les citations de cette page sont "
            "à vérifier sur le document.",
        )
        for page_no in scanned
    )
    markup = split_reviewer_markup(pages)
    if markup:
        findings.append(
            RawFinding(
                kind="reviewer_markup",
                text=f"{len(markup)} commentaire(s) ou marque(s) de relecture imprimé(s) dans la marge",
                page=markup[0][0],
                detail="Le PDF a été imprimé avec les commentaires de relecture (bulles dans la marge) : ils sont "
                "exclus du texte évalué. Premier : « " + markup[0][1][:160] + " ».",
            )
        )
    drop_furniture(pages)
    use_outline = apply_outline(pages, outline)
    blocks = build_blocks(pages, use_outline)
    findings.extend(_repair_encoding(blocks))
    return RawDoc(blocks=blocks, findings=findings, pages=n)


class _OverBudget(Exception):
    """A page holds more characters than the document may still have."""


def _too_many_chars(path: Path, max_chars: int) -> None:
    raise TooLargeError(
        f"{path.name}: more than {max_chars} characters of text",
        f"Le PDF « {path.name} » contient plus de {format(max_chars, ',').replace(',', chr(0x202F))} "
        "caractères de texte, au-delà de la limite de caractères. Déposez le dossier sans ses annexes.",
    )


def _no_text(path: Path, n: int, lost: list[int], garbled: list[int], has_images: Callable[[int], bool]) -> None:
    if garbled:
        raise DamagedFileError(
            f"{path.name}: text is unreadable (fonts without Unicode mapping) on {len(garbled)} page(s)",
            f"Le texte du PDF « {path.name} » est illisible : ses polices ne permettent pas de retrouver les "
            "caractères. Exportez-le à nouveau en incorporant les polices (ou en PDF/A), ou faites-le passer "
            "par une reconnaissance de caractères (OCR).",
        )
    if lost and len(lost) == n:
        raise DamagedFileError(
            f"{path.name}: no page could be read",
            f"Aucune page du PDF « {path.name} » n’a pu être lue : le fichier est endommagé. Exportez-le "
            "à nouveau depuis le logiciel d’origine.",
        )
    if not any(has_images(i) for i in range(min(n, 20))):
        raise DamagedFileError(
            f"{path.name}: no text and no images on {n} page(s)",
            f"Le PDF « {path.name} » ne contient ni texte ni image lisible : il est vide ou endommagé. "
            "Exportez-le à nouveau depuis le logiciel d’origine.",
        )
    raise NoTextLayerError(
        f"{path.name}: no text layer on {n} page(s) (scanned?)",
        f"Le PDF « {path.name} » ne contient pas de texte lisible ({n} page(s)) : c’est probablement un "
        "scan. Exportez le dossier depuis le traitement de texte plutôt que de le scanner, ou faites-le "
        "passer par une reconnaissance de caractères (OCR, par ex. `ocrmypdf -l fra`) avant de le déposer.",
    )


def _repair_encoding(blocks: list[RawBlock]) -> list[RawFinding]:
    """Symbols standing for ligatures ('classifica*on'): repaired where certain, otherwise reported."""
    texts, result = repair_glyphs([b.text for b in blocks])
    for b, t in zip(blocks, texts, strict=True):
        if t != b.text and b.rows is not None:
            b.rows = [[c for c in row.split(" | ")] for row in t.split("\n")]
        b.text = t
    bad = len(result.unrepaired)
    if bad <= 5:
        return []
    share = bad / max(result.words, 1)
    examples = ", ".join(dict.fromkeys(result.unrepaired))[:200]
    return [
        RawFinding(
            kind="encoding",
            text=f"{bad} mot(s) mal encodé(s) ({share:.1%} des mots) : {examples}".replace(".", ",", 1),
            detail="Certaines polices du PDF n’ont pas de table Unicode fiable : des ligatures (ti, fi, ff…) sont "
            "remplacées par des symboles. Les citations de ces passages sont à vérifier sur le document.",
        )
    ]


def _accept_ocr_layer(lines: list[Line], has_images: Callable[[], bool]) -> bool:
    """Invisible text drawn over a page image is an OCR layer: the page's content, not hidden text.
    True when the page is such a scan; its table rules read as '|' are dropped."""
    frags = [f for ln in lines for f in ln.frags if f.text.strip()]
    invisible = [f for f in frags if f.hidden and f.hidden.startswith("texte invisible")]
    if not (
        invisible and has_images() and sum(len(f.text) for f in invisible) >= 0.5 * sum(len(f.text) for f in frags)
    ):
        return False
    for f in invisible:
        f.hidden = None
        f.text = _OCR_RULE.sub("", f.text)
    for ln in lines:
        ln.frags = [f for f in ln.frags if f.text.strip() or not f.text]
        ln.__dict__.pop("text", None)  # its cached text is stale now
    return True


_OCR_RULE = re.compile(r"(?:(?<=\s)|^)[|\[\]](?=\s|$)\s*")  # a table's vertical rule read as a glyph


def _garbled(lines: list[Line]) -> bool:
    """Fonts PDFium cannot map to Unicode give control, private-use or replacement characters."""
    text = "".join(f.text for ln in lines for f in ln.frags).replace(" ", "")
    if len(text) <= 40:
        return False
    bad = sum(1 for ch in text if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cn"))
    return bad > 0.5 * len(text)


def _has_images(reader: pypdf.PdfReader, i: int) -> bool:
    """Whether the page draws an image XObject (cheap: resources only, no content-stream parse)."""
    try:
        res = reader.pages[i].get("/Resources")
        xobjects = res.get_object().get("/XObject") if res is not None else None
        if xobjects is None:
            return False
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.get_object().values())
    except Exception:
        return False


def _drop_repeated_hidden(findings: list[RawFinding], pages: list[Page]) -> list[RawFinding]:
    """Hidden text that the reader sees elsewhere in the document (a running footer under a
    picture on one page, a title pushed off the page that the table of contents shows) conceals
    nothing: it stays out of the text, but is no finding."""
    visible = " ".join(ln.text.lower() for p in pages for ln in p.lines)
    return [
        f for f in findings if f.kind != "hidden_text" or normalise(f.text).lower() not in visible or len(f.text) < 3
    ]


def _merge_hidden_findings(findings: list[RawFinding]) -> None:
    """Consecutive hidden lines on one page are one finding."""
    merged: list[RawFinding] = []
    for f in findings:
        prev = merged[-1] if merged else None
        if prev and prev.kind == f.kind == "hidden_text" and prev.page == f.page and prev.detail == f.detail:
            prev.text = f"{prev.text} {f.text}"
        else:
            merged.append(f)
    findings[:] = merged
