"""Units of a dossier that label content rather than hold it: never evidence.

A heading alone, a caption alone ("Tableau 15 : Synthèse des décisions proposées"), the header
row of a table ("Axe | Sources principales | Responsable") and a table-of-contents line say
that something is there; a quote must show the thing itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.textnorm import fold
from pipeline.types import Dossier

_CAPTION = re.compile(
    r"^(?:tableau|table|figure|fig\.|graphique|sch[ée]ma|illustration|annexe|carte|encadr[ée])\s*"
    r"(?:n[°o]\s*)?[\dIVXivx]+[a-z]?\s*[:.\-–—]",
    re.I,
)
# a table-of-contents line: a title, leader dots or spaces, a page number
_TOC_LINE = re.compile(r"^.{3,150}?(?:\.{3,}|…+|\s{2,})\s*\d{1,3}$")
_SPACE = re.compile(r"\s+")
# The title page is page 1 up to the second heading or the first paragraph this long; on it, a
# line shorter than TITLE_LINE_MAX_CHARS without a sentence's final punctuation is a title,
# subtitle or author line, not content.
TITLE_PAGE_END_CHARS = 150
TITLE_LINE_MAX_CHARS = 100
_STOPS = (".", "!", "?", "…", ";")
# "2.", "2.1", "III.", "A)", "Partie 2 :" before a heading's words (a sentence splitter cuts there)
_NUMBERING = re.compile(
    r"^(?:(?:partie|chapitre|section|axe)\s+)?(?:[\dIVXivx]+|[A-Za-z])(?:[.)]\d*)*\s*[.):–-]?\s+", re.I
)


# A row of a table read alone whose cells are all this short names columns ('Politique |
# Économique | Sociologique | …' over a PESTEL whose cells were read as paragraphs): a header row.
LABEL_CELL_MAX_WORDS = 3


def _label_row(row: list[str]) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return len(cells) >= 3 and all(
        len(c.split()) <= LABEL_CELL_MAX_WORDS and not c.endswith(_STOPS) and not re.search(r"\d", c) for c in cells
    )


def _key(text: str) -> str:
    return _SPACE.sub(" ", fold(text)).strip(" .:;")


@dataclass(frozen=True)
class NonContent:
    """The labels of one dossier (folded), to test candidate quotes against."""

    labels: frozenset[str]
    # where the headings and captions lie in Dossier.text: a quote inside one is a piece of a label
    spans: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, dossier: Dossier) -> NonContent:
        labels: set[str] = set()
        headings, previous = 0, ""
        for b in dossier.blocks:  # the title page: short unpunctuated lines of page 1, first section only
            # a title and a subtitle read as two headings in a row (bold large paragraphs of a Google
            # Docs export) open one title page, not a first section
            headings += b.kind == "heading" and previous != "heading"
            previous = b.kind
            if headings > 1 or (b.page or 1) > 1:
                break
            if b.kind in ("paragraph", "list_item") and len(b.text) >= TITLE_PAGE_END_CHARS:
                break
            short = len(b.text) < TITLE_LINE_MAX_CHARS and not b.text.rstrip().endswith(_STOPS)
            if b.kind in ("paragraph", "list_item") and short:
                labels.add(_key(b.text))
        for b in dossier.blocks:
            if b.kind in ("heading", "caption"):
                labels.add(_key(b.text))
                labels.add(_key(_NUMBERING.sub("", b.text.strip(), count=1)))
            elif b.kind == "table" and b.rows and (len(b.rows) > 1 or _label_row(b.rows[0])):
                header = b.rows[0]
                labels.add(_key(" | ".join(header)))
                labels.update(_key(c) for c in header if c.strip())
        labels.discard("")
        spans = tuple((b.start, b.end) for b in dossier.blocks if b.kind in ("heading", "caption") and b.end > b.start)
        return cls(frozenset(labels), spans)

    def inside_label(self, start: int, end: int) -> bool:
        """True when the span [start, end) of Dossier.text lies inside one heading or caption: a
        piece of a title (« Etat de l'art et présentation » of « II. Etat de l'art et présentation
        des outils utilisés ») says no more than the whole title."""
        return any(a <= start and end <= b for a, b in self.spans)

    def labels_only(self, text: str) -> bool:
        """True when every line of `text` is a label: a chunk of headings, captions, header rows or
        contents lines holds nothing to embed (the lexical index still sees it)."""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return bool(lines) and all(ln in self for ln in lines)

    def __contains__(self, text: object) -> bool:
        """True when `text` is only a label: a heading, a caption, a header row or cell, a contents line."""
        if not isinstance(text, str):
            return False
        key = _key(text)
        if not key or key in self.labels:
            return True
        flat = text.strip()
        return bool(_CAPTION.match(flat) and len(flat) < 160) or bool(_TOC_LINE.match(flat))
