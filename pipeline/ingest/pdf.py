"""PDF → raw blocks with pypdf: visible text per page, layout-recovered headings and lists.

Text is taken in content-stream order (for word-processor and LaTeX exports this is the
reading order, column by column on multi-column pages; we do not re-order by position).
Text a reader cannot see (render mode 3/7, white fill outside any dark box, 2 pt or
smaller) is set apart as `hidden_text` findings. Lines repeated at the top or bottom of
most pages (running headers, footers, page numbers) are removed; line-end hyphenation is
repaired; lines are joined into paragraphs by vertical spacing.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf
from pypdf.errors import FileNotDecryptedError, PdfReadError

from pipeline.errors import DamagedFileError, EncryptedError, NoTextLayerError, TooLargeError
from pipeline.ingest.raw import RawBlock, RawDoc, RawFinding
from pipeline.textnorm import normalise

log = logging.getLogger(__name__)

_TINY_PT = 2.0
_WHITE = 0.92
_BULLET = re.compile(r"^\s*([•▪◦●○■□➢➤►▶✓✔\-–—*\uf0b7\uf0a7\uf0d8\uf076\uf0fc\uf0a8])\s*")
_NUMBERED_ITEM = re.compile(r"^\s*(?:\d{1,2}|[a-z])[\)]\s+")
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
        return any(_cell_gap(a, b) for a, b in zip(vis, vis[1:], strict=False))

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
        self.render = 0
        self.stack: list[tuple[tuple[float, ...], int]] = []
        self.pending_rects: list[tuple[float, float, float, float]] = []
        self.dark_boxes: list[tuple[float, float, float, float]] = []
        self.lines: list[_Line] = [_Line()]

    def before(self, op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        try:
            self._op(op, args, cm)
        except (TypeError, ValueError, IndexError):
            pass  # a malformed operand never stops extraction

    def _op(self, op: bytes, args: list[Any], cm: list[float]) -> None:
        if op == b"q":
            self.stack.append((self.fill, self.render))
        elif op == b"Q":
            if self.stack:
                self.fill, self.render = self.stack.pop()
        elif op in (b"rg", b"g", b"k", b"sc", b"scn"):
            nums = tuple(float(a) for a in args if isinstance(a, int | float) or _is_number(a))
            if nums:
                self.fill = nums if op != b"k" else ("k", *nums)  # type: ignore[assignment]
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
        if f and f[0] == "k":  # type: ignore[comparison-overlap]
            return all(float(v) <= 1 - _WHITE for v in f[1:])
        if len(f) == 1:
            return f[0] >= _WHITE
        if len(f) >= 3:
            r, g, b = f[:3]
            return 0.2126 * r + 0.7152 * g + 0.0722 * b >= _WHITE
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
        if self._fill_is_white() and not any(
            x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in self.dark_boxes
        ):
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
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader, name, password)
        n = len(reader.pages)
    except (EncryptedError, TooLargeError):
        raise
    except FileNotDecryptedError as e:
        raise EncryptedError(f"{name}: encrypted: {e}", _ask_password(name)) from e
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError) as e:
        raise damaged from e
    except Exception as e:  # pypdf raises a wide variety on hostile files; fail closed
        log.warning("unexpected %s opening %s: %s", type(e).__name__, name, e)
        raise damaged from e
    if n == 0:
        raise damaged
    if n > max_pages:
        raise TooLargeError(
            f"{name}: {n} pages exceeds the limit of {max_pages}",
            f"Le PDF « {name} » compte {n} pages, au-delà de la limite de {max_pages}. Déposez le dossier "
            "sans ses annexes volumineuses, ou demandez à l’administrateur de relever la limite.",
        )
    return reader


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
                f"Le PDF « {name} » utilise un chiffrement non pris en charge. Exportez une version sans "
                "mot de passe.",
            ) from e
    wrong = " (le mot de passe donné est incorrect)" if password else ""
    raise EncryptedError(f"{name}: encrypted, password {'wrong' if password else 'missing'}", _ask_password(name) + wrong)


def parse_pdf(path: Path, data: bytes, password: str | None, max_pages: int, max_chars: int) -> RawDoc:
    reader = open_pdf(path, data, password, max_pages)
    n = len(reader.pages)
    pages: list[list[_Line]] = []
    findings: list[RawFinding] = []
    lost: list[int] = []
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
                f"Le PDF « {path.name} » contient plus de {max_chars:,} caractères de texte, au-delà de la "
                "limite. Déposez le dossier sans ses annexes.".replace(",", " "),
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
    if chars < 20:
        if lost and len(lost) == n:
            raise DamagedFileError(
                f"{path.name}: no page could be read",
                f"Aucune page du PDF « {path.name} » n’a pu être lue : le fichier est endommagé. Exportez-le "
                "à nouveau depuis le logiciel d’origine.",
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
            if at_edge and (_furniture_key(ln.text) in repeated or _PAGE_NUMBER.match(ln.text)):
                continue
            keep.append(ln)
        lines[:] = keep


def _body_size(pages: list[list[_Line]]) -> float:
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            sizes[round(ln.size, 1)] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _blocks(pages: list[list[_Line]]) -> list[RawBlock]:
    body = _body_size(pages)
    heading_sizes = sorted(
        {round(ln.size, 1) for p in pages for ln in p if ln.size >= body * 1.15 and len(ln.text) < 150},
        reverse=True,
    )
    blocks: list[RawBlock] = []
    for page_no, lines in enumerate(pages, 1):
        gaps = [round(a.y - b.y, 1) for a, b in zip(lines, lines[1:], strict=False) if 0 < a.y - b.y < body * 3]
        line_gap = Counter(gaps).most_common(1)[0][0] if gaps else body * 1.2
        cur: RawBlock | None = None
        prev: _Line | None = None
        for ln in lines:
            text = ln.text
            kind, level = _line_kind(ln, text, body, heading_sizes)
            if kind == "list_item":
                text = _BULLET.sub("", text, count=1).strip() or text
            gap = (prev.y - ln.y) if prev is not None else 0.0
            new_para = gap > line_gap * 1.3 or gap < -body  # a jump back up: new column or text box
            if (
                cur is not None
                and not new_para
                and (
                    (kind == "paragraph" and cur.kind in ("paragraph", "list_item") and not ln.is_row)
                    or (kind == "heading" and cur.kind == "heading" and cur.level == level)
                )
            ):
                cur.text = _join(cur.text, text)
            elif cur is not None and kind == "table" and cur.kind == "table":
                cur.text += "\n" + text
                assert cur.rows is not None
                cur.rows.append([c.strip() for c in text.split(" | ")])
            else:
                if cur is not None:
                    blocks.append(cur)
                cur = RawBlock(kind=kind, text=text, level=level, page=page_no)
                if kind == "table":
                    cur.rows = [[c.strip() for c in text.split(" | ")]]
            prev = ln
        if cur is not None:
            blocks.append(cur)
    return [b for b in blocks if b.text.strip()]


def _line_kind(ln: _Line, text: str, body: float, heading_sizes: list[float]) -> tuple[str, int | None]:
    if ln.is_row:
        return "table", None
    if _BULLET.match(text) and len(text) > 2 or _NUMBERED_ITEM.match(text):
        return "list_item", None
    short = len(text) < 150 and not text.endswith((".", ";", ","))
    size = round(ln.size, 1)
    numbered = _NUMBERED_HEADING.match(text)
    if short and size in heading_sizes:
        if numbered:
            return "heading", min(numbered.group(1).count(".") + 1, 6)
        return "heading", heading_sizes.index(size) + 1
    if short and numbered and ln.bold and len(text) < 100:
        return "heading", min(numbered.group(1).count(".") + 1, 6)
    return "paragraph", None


def _join(a: str, b: str) -> str:
    if re.search(r"[a-zà-ÿ]-$", a) and b[:1].islower():
        return a[:-1] + b  # line-end hyphenation
    return f"{a} {b}"
