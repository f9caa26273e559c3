"""PDF → raw blocks with pypdf: visible text per page, layout-recovered headings and lists.

Text is taken in content-stream order (for word-processor and LaTeX exports this is the
reading order, column by column on multi-column pages; we do not re-order by position).
Text a reader cannot see (render mode 3/7, white fill outside any dark box, 2 pt or
smaller) is set apart as `hidden_text` findings. Lines repeated at the top or bottom of
most pages (running headers, footers, page numbers) are removed; line-end hyphenation is
repaired; lines are joined into paragraphs by vertical spacing.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

import pypdf
from pypdf.errors import FileNotDecryptedError

from pipeline.errors import DamagedFileError, EncryptedError, NoTextLayerError, TooLargeError
from pipeline.ingest.raw import TOC_TITLE, RawBlock, RawDoc, RawFinding, luminance
from pipeline.textnorm import normalise
from pipeline.types import BlockKind

log = logging.getLogger(__name__)

_TINY_PT = 2.0
_REPAIR = re.compile(
    r"xref|startxref|rebuild|decompress|Invalid parent|Object \d+ \d+ (?:found|not defined)|wrong pointing object"
    r"|Object Streams|damaged|EOF marker",
    re.I,
)
_GLYPH_NAME = re.compile(r"/[A-Za-z]?\d+|/[a-z]{1,3}\d*")
_WHITE = 0.92
_BULLET = re.compile(r"^\s*([•▪◦●○■□➢➤►▶✓✔\-–—*\uf0b7\uf0a7\uf0d8\uf076\uf0fc\uf0a8])\s*")
_NUMBERED_ITEM = re.compile(r"^\s*(?:\d{1,2}|[a-z])[.)](?=\s*[A-Za-zÀ-ÿ«\"])\s*")
_NUMBERED_HEADING = re.compile(r"^(?:(?:partie|chapitre|annexe)\s+)?(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+\S", re.I)
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|sur|of)\s*\d{1,4})?$", re.I)


@dataclass
class _Frag:
    text: str
    x: float
    y: float
    size: float
    bold: bool
    hidden: str | None


@dataclass
class _Line:
    frags: list[_Frag] = field(default_factory=list)

    @property
    def visible(self) -> list[_Frag]:
        return [f for f in self.frags if not f.hidden and f.text.strip()]

    @property
    def text(self) -> str:
        out = ""
        prev: _Frag | None = None
        for f in self.visible:
            if prev is not None and _cell_gap(prev, f):
                out = out.rstrip() + " | "
            out += f.text
            prev = f
        return normalise(out)

    @property
    def is_row(self) -> bool:
        vis = self.visible
        return any(_cell_gap(a, b) for a, b in itertools.pairwise(vis))

    @property
    def y(self) -> float:
        vis = self.visible
        return vis[0].y if vis else 0.0

    @property
    def size(self) -> float:
        vis = self.visible
        return max((f.size for f in vis), default=0.0)

    @property
    def bold(self) -> bool:
        vis = self.visible
        chars = sum(len(f.text) for f in vis) or 1
        return sum(len(f.text) for f in vis if f.bold) / chars > 0.6


def _cell_gap(a: _Frag, b: _Frag) -> bool:
    """True when b starts far to the right of where a's text ends: a new table cell."""
    if abs(a.y - b.y) > max(a.size, 1.0) * 0.5:
        return False
    est_end = a.x + len(a.text.rstrip()) * a.size * 0.6
    return b.x > est_end + 2.5 * max(a.size, 1.0)


class _PageReader:
    """Tracks the graphics state that pypdf's text visitor does not report (colour, render mode)."""

    def __init__(self) -> None:
        self.fill: tuple[float, ...] = (0.0,)
        self.cmyk = False
        self.render = 0
        self.stack: list[tuple[tuple[float, ...], bool, int]] = []
        self.pending_rects: list[tuple[float, float, float, float]] = []
        self.dark_boxes: list[tuple[float, float, float, float]] = []
        self.lines: list[_Line] = [_Line()]

    def before(self, op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        with contextlib.suppress(TypeError, ValueError, IndexError):  # a malformed operand never stops extraction
            self._op(op, args, cm)

    def _op(self, op: bytes, args: list[Any], cm: list[float]) -> None:
        if op == b"q":
            self.stack.append((self.fill, self.cmyk, self.render))
        elif op == b"Q":
            if self.stack:
                self.fill, self.cmyk, self.render = self.stack.pop()
        elif op in (b"rg", b"g", b"k", b"sc", b"scn"):
            nums = tuple(float(a) for a in args if isinstance(a, int | float) or _is_number(a))
            if nums:
                self.fill, self.cmyk = nums, op == b"k" or (op in (b"sc", b"scn") and len(nums) == 4)
        elif op == b"Tr" and args:
            self.render = int(float(args[0]))
        elif op == b"re" and len(args) == 4:
            x, y, w, h = (float(a) for a in args)
            self.pending_rects.append(_transform_rect(x, y, w, h, cm))
        elif op in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"):
            if not self._fill_is_white():
                self.dark_boxes.extend(self.pending_rects)
            self.pending_rects = []
        elif op in (b"n", b"S", b"s"):
            self.pending_rects = []

    def _fill_is_white(self) -> bool:
        f = self.fill
        if self.cmyk:
            return all(v <= 1 - _WHITE for v in f)
        if len(f) == 1:
            return f[0] >= _WHITE
        if len(f) >= 3:
            r, g, b = f[:3]
            return luminance(r, g, b) >= _WHITE
        return False

    def text(self, text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text:
            return
        m = _mult(tm, cm)
        x, y = m[4], m[5]
        scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0
        eff = abs(size) * scale
        bold = False
        if font is not None:
            try:
                name = str(font.get("/BaseFont", ""))
                bold = bool(re.search(r"bold|black|heavy|semibold|demi", name, re.I))
            except Exception:
                bold = False
        hidden = self._hidden_reason(eff, x, y)
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i > 0:
                self.lines.append(_Line())
            if part:
                self.lines[-1].frags.append(_Frag(part, x, y, eff, bold, hidden))

    def _hidden_reason(self, size: float, x: float, y: float) -> str | None:
        if self.render in (3, 7):
            return "texte invisible (mode de rendu 3)"
        if 0 < size <= _TINY_PT:
            return f"texte minuscule ({size:.1f} pt)"
        if self._fill_is_white() and not any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in self.dark_boxes):
            return "texte blanc sur fond blanc"
        return None


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def _transform_rect(x: float, y: float, w: float, h: float, cm: list[float]) -> tuple[float, float, float, float]:
    pts = [(x, y), (x + w, y + h)]
    tx = [(px * cm[0] + py * cm[2] + cm[4], px * cm[1] + py * cm[3] + cm[5]) for px, py in pts]
    xs, ys = [p[0] for p in tx], [p[1] for p in tx]
    return min(xs), min(ys), max(xs), max(ys)


# --- reading the file ---------------------------------------------------------------------------


def open_pdf(path: Path, data: bytes, password: str | None, max_pages: int) -> pypdf.PdfReader:
    name = path.name
    damaged = DamagedFileError(
        f"{name}: unreadable PDF structure",
        f"Le PDF « {name} » est trop endommagé pour être lu. Exportez-le à nouveau depuis le logiciel "
        "d’origine (Fichier > Exporter en PDF) puis redéposez-le.",
    )
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
            f"Le PDF « {name} » compte {n} pages, au-delà de la limite de {max_pages}. Déposez le dossier "
            "sans ses annexes volumineuses, ou demandez à l’administrateur de relever la limite.",
        )
    return reader


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
        raw = _parse_pdf(path, data, password, max_pages, max_chars)
    finally:
        pypdf_log.removeHandler(collect)
        pypdf_log.propagate = propagate
    repairs = [m for m in collect.messages if _REPAIR.search(m) and "fontTools" not in m]
    if repairs:
        log.info("%s: pypdf repaired the structure: %s", path.name, "; ".join(repairs[:5]))
        raw.findings.append(
            RawFinding(
                kind="damage",
                text=f"structure du PDF réparée à la lecture ({len(repairs)} anomalie(s))",
                detail="Le PDF est partiellement endommagé ; le texte a été récupéré, vérifiez qu’il est complet.",
            )
        )
    return raw


def _parse_pdf(path: Path, data: bytes, password: str | None, max_pages: int, max_chars: int) -> RawDoc:
    reader = open_pdf(path, data, password, max_pages)
    n = len(reader.pages)
    pages: list[list[_Line]] = []
    findings: list[RawFinding] = []
    lost: list[int] = []
    garbled: list[int] = []
    chars = 0
    for i in range(n):
        pr = _PageReader()
        try:
            page = reader.pages[i]
            page.extract_text(visitor_operand_before=pr.before, visitor_text=pr.text)
        except Exception as e:  # a damaged page is lost, the others are kept
            log.warning("page %d of %s unreadable: %s: %s", i + 1, path.name, type(e).__name__, e)
            lost.append(i + 1)
            pages.append([])
            continue
        lines = [ln for ln in pr.lines if ln.frags]
        _accept_ocr_layer(lines, partial(_has_images, reader, i))
        if _garbled(lines):
            garbled.append(i + 1)
            pages.append([])
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
        pages.append([ln for ln in lines if ln.text])
        chars += sum(len(ln.text) for ln in pages[-1])
        if chars > max_chars:
            raise TooLargeError(
                f"{path.name}: more than {max_chars} characters of text",
                f"Le PDF « {path.name} » contient plus de {format(max_chars, ',').replace(',', chr(0x202F))} "
                "caractères de texte, au-delà de la limite. Déposez le dossier sans ses annexes.",
            )
    _merge_hidden_findings(findings)
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
    if chars == 0 and garbled:
        raise DamagedFileError(
            f"{path.name}: text is unreadable (fonts without Unicode mapping) on {len(garbled)} page(s)",
            f"Le texte du PDF « {path.name} » est illisible : ses polices ne permettent pas de retrouver les "
            "caractères. Exportez-le à nouveau en incorporant les polices (ou en PDF/A), ou faites-le passer "
            "par une reconnaissance de caractères (OCR).",
        )
    if chars == 0:
        if lost and len(lost) == n:
            raise DamagedFileError(
                f"{path.name}: no page could be read",
                f"Aucune page du PDF « {path.name} » n’a pu être lue : le fichier est endommagé. Exportez-le "
                "à nouveau depuis le logiciel d’origine.",
            )
        if not any(_has_images(reader, i) for i in range(min(n, 20))):
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
    empty = [i + 1 for i, p in enumerate(pages) if not p and (i + 1) not in lost]
    if empty and len(empty) >= max(2, n // 4):
        findings.append(
            RawFinding(
                kind="no_text_pages",
                text=f"{len(empty)} page(s) sans texte : {', '.join(map(str, empty[:20]))}",
                detail="Ces pages n’ont pas de couche texte (images ou scans) : leur contenu n’est pas évalué.",
            )
        )
    _drop_furniture(pages)
    blocks = _blocks(pages)
    return RawDoc(blocks=blocks, findings=findings, pages=n)


def _accept_ocr_layer(lines: list[_Line], has_images: Callable[[], bool]) -> None:
    """Invisible text drawn over a page image is an OCR layer: the page's content, not hidden text."""
    frags = [f for ln in lines for f in ln.frags if f.text.strip()]
    invisible = [f for f in frags if f.hidden and f.hidden.startswith("texte invisible")]
    if invisible and has_images() and sum(len(f.text) for f in invisible) >= 0.5 * sum(len(f.text) for f in frags):
        for f in invisible:
            f.hidden = None


def _garbled(lines: list[_Line]) -> bool:
    """pypdf returns glyph names ('/0 /1 /i255') for fonts it cannot map to Unicode."""
    text = " ".join(ln.text for ln in lines)
    solid = len(text.replace(" ", ""))
    return solid > 40 and sum(len(m) for m in _GLYPH_NAME.findall(text)) > 0.5 * solid


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


# --- layout -------------------------------------------------------------------------------------


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def _is_page_number(text: str, n_pages: int) -> bool:
    """'12', 'Page 12', '12 / 40' — but not a year or a figure standing alone on a title page."""
    if not _PAGE_NUMBER.match(text):
        return False
    first = int(re.findall(r"\d+", text)[0])
    return first <= n_pages + 5


def _drop_furniture(pages: list[list[_Line]], zone: int = 3) -> None:
    """Remove running headers/footers and page numbers (lines repeated in the page margins)."""
    counts: Counter[str] = Counter()
    for lines in pages:
        edge = {_furniture_key(ln.text) for ln in lines[:zone] + lines[-zone:]}
        counts.update(edge)
    n = sum(1 for p in pages if p)
    repeated = {k for k, c in counts.items() if n >= 3 and c >= max(2, 0.4 * n)}
    for lines in pages:
        keep: list[_Line] = []
        for j, ln in enumerate(lines):
            at_edge = j < zone or j >= len(lines) - zone
            if at_edge and (_furniture_key(ln.text) in repeated or _is_page_number(ln.text, len(pages))):
                continue
            keep.append(ln)
        if keep or not lines:  # a page whose every line repeats elsewhere is content, not furniture
            lines[:] = keep


def _body_size(pages: list[list[_Line]]) -> float:
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            sizes[round(ln.size, 1)] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


_TOC_LEADER = re.compile(r"(?:\.{3,}|…{2,}|\s{2,})\s*\d{1,3}$")


def _heading_levels(pages: list[list[_Line]], body: float) -> dict[float, int]:
    """Map heading font sizes to levels, learning from numbered headings ("2.3 ...") where there are some."""
    sizes = sorted(
        {round(ln.size, 1) for p in pages for ln in p if ln.size >= body * 1.15 and len(ln.text) < 150},
        reverse=True,
    )
    depth: dict[float, Counter[int]] = {}
    for p in pages:
        for ln in p:
            m = _NUMBERED_HEADING.match(ln.text)
            size = round(ln.size, 1)
            if m and size in sizes:
                depth.setdefault(size, Counter())[m.group(1).count(".") + 1] += 1
    learned = {s: c.most_common(1)[0][0] for s, c in depth.items()}
    levels: dict[float, int] = {}
    for rank, size in enumerate(sizes):
        if size in learned:
            levels[size] = learned[size]
        else:
            below = [learned[s] for s in learned if s <= size]
            above = [learned[s] for s in learned if s > size]
            if not learned:
                levels[size] = rank + 1
            elif below:
                levels[size] = min(below)  # same size or larger than a known level: that level
            else:
                levels[size] = max(above) + 1
    return levels


def _blocks(pages: list[list[_Line]]) -> list[RawBlock]:
    body = _body_size(pages)
    levels = _heading_levels(pages, body)
    vocab = {w.lower() for p in pages for ln in p for w in re.findall(r"\w+", ln.text)}
    blocks: list[RawBlock] = []
    for page_no, lines in enumerate(pages, 1):
        gaps = [round(a.y - b.y, 1) for a, b in itertools.pairwise(lines) if 0 < a.y - b.y < body * 3]
        line_gap = Counter(gaps).most_common(1)[0][0] if gaps else body * 1.2
        cur: RawBlock | None = None
        prev: _Line | None = None
        in_toc = False
        for ln in lines:
            text = ln.text
            if TOC_TITLE.match(text.strip(" :")):
                in_toc = True  # a table of contents repeats the headings: not content
                continue
            if in_toc or _TOC_LEADER.search(text):
                continue
            kind, level = _line_kind(ln, text, levels)
            if kind == "list_item":
                # the bullet or number is layout, not text (a DOCX list has neither in its text)
                text = _NUMBERED_ITEM.sub("", _BULLET.sub("", text, count=1), count=1).strip() or text
            gap = (prev.y - ln.y) if prev is not None else 0.0
            spacing = max(line_gap, (prev.size if prev is not None else body) * 1.25)
            new_para = gap > spacing * 1.3 or gap < -body  # a jump back up: new column or text box
            same_size = prev is not None and abs(prev.size - ln.size) < 0.5
            if (
                cur is not None
                and not new_para
                and (
                    (kind == "paragraph" and cur.kind in ("paragraph", "list_item") and not ln.is_row)
                    or (kind == "heading" and cur.kind == "heading" and same_size and not _NUMBERED_HEADING.match(text))
                )
            ):
                cur.text = _join(cur.text, text, vocab)
            elif cur is not None and kind == "table" and cur.kind == "table":
                cur.text += "\n" + text
                assert cur.rows is not None
                cur.rows.append([c.strip() for c in text.split(" | ")])
            else:
                if cur is not None:
                    blocks.append(cur)
                cur = RawBlock(kind=cast(BlockKind, kind), text=text, level=level, page=page_no)
                if kind == "table":
                    cur.rows = [[c.strip() for c in text.split(" | ")]]
            prev = ln
        if cur is not None:
            blocks.append(cur)
    return _drop_toc_runs([b for b in blocks if b.text.strip()])


def _drop_toc_runs(blocks: list[RawBlock]) -> list[RawBlock]:
    """Remove runs of 3+ consecutive headings that mostly reappear later: a table of contents."""

    def key(text: str) -> str:
        return re.sub(r"\W+", "", text.lower())[:20]

    out: list[RawBlock] = []
    i = 0
    while i < len(blocks):
        j = i
        while (
            j < len(blocks)
            and len(blocks[j].text) < 150
            and (blocks[j].kind == "heading" or _NUMBERED_HEADING.match(blocks[j].text))
        ):
            j += 1
        run = blocks[i:j]
        later = {key(b.text) for b in blocks[j:] if b.kind == "heading"}
        if len(run) >= 3 and sum(key(b.text) in later for b in run) >= 0.6 * len(run):
            i = j
            continue
        out.extend(run or blocks[i : i + 1])
        i = max(j, i + 1)
    return out


def _line_kind(ln: _Line, text: str, levels: dict[float, int]) -> tuple[str, int | None]:
    if ln.is_row:
        return "table", None
    if _BULLET.match(text) and len(text) > 2:
        return "list_item", None
    short = len(text) < 150 and not text.endswith((".", ";", ","))
    size = round(ln.size, 1)
    numbered = _NUMBERED_HEADING.match(text)
    if short and size in levels:
        if numbered:
            return "heading", min(numbered.group(1).count(".") + 1, 6)
        return "heading", levels[size]
    if short and numbered and ln.bold and len(text) < 100:
        return "heading", min(numbered.group(1).count(".") + 1, 6)
    if _NUMBERED_ITEM.match(text):
        return "list_item", None
    return "paragraph", None


def _join(a: str, b: str, vocab: set[str]) -> str:
    """Join two lines of a paragraph; a line-end hyphen is kept (compound) unless the word
    written without it occurs elsewhere in the document (word-processor hyphenation)."""
    m = re.search(r"(\w+)-$", a)
    if m and b[:1].isalnum():
        n = re.match(r"\w+", b)
        whole = (m.group(1) + (n.group(0) if n else "")).lower()
        if b[:1].islower() and whole in vocab:
            return a[:-1] + b
        return a + b
    return f"{a} {b}"
