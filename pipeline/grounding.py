"""Quote verification: a quote is evidence only if it is found in the chunk it cites.

Matching runs on the folded, whitespace-collapsed text (typography and case unified), first
exactly, then fuzzily (>= 0.9 with rapidfuzz's best partial alignment). The evidence shown is
always the source's own characters at the matched span, never the model's rewording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.ingest.lexicon import has_garbled_word
from pipeline.textnorm import fold, normalise
from pipeline.types import Dossier

_SPACE = re.compile(r"\s+")
FUZZY_MIN = 0.90
MIN_QUOTE_CHARS = 12


@dataclass(frozen=True)
class Match:
    start: int  # offsets in the text searched
    end: int
    kind: str  # "exact" | "fuzzy"
    ratio: float


class Searchable:
    """A text with a folded, whitespace-collapsed twin and the map back to original offsets.

    `blocked` spans (a chunk's `flagged_spans`) can never be matched: a quote that overlaps
    text flagged as manipulation is not evidence, wherever the drafter took it from.
    """

    def __init__(self, text: str, blocked: list[tuple[int, int]] | None = None) -> None:
        self.text = text
        self.blocked = sorted(blocked or [])
        chars: list[str] = []
        self.index: list[int] = []
        prev_space = True
        for i, c in enumerate(text):
            if c.isspace():
                if prev_space:
                    continue
                chars.append(" ")
                prev_space = True
            else:
                chars.append(c)
                prev_space = False
            self.index.append(i)
        key = fold("".join(chars))
        if self.blocked:
            key = "".join("\x00" if self._is_blocked(i) else c for c, i in zip(key, self.index, strict=True))
        self.key = key

    def _is_blocked(self, offset: int) -> bool:
        return any(s <= offset < e for s, e in self.blocked)

    def _overlaps_blocked(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.blocked)

    def _span(self, s: int, e: int) -> tuple[int, int]:
        e = max(e, s + 1)
        return self.index[s], self.index[min(e, len(self.index)) - 1] + 1

    def find(self, quote: str, fuzzy: bool = True) -> Match | None:
        q = fold(normalise(quote)).strip(" .…\"'«»")
        if len(q) < MIN_QUOTE_CHARS or not self.key:
            return None
        at = self.key.find(q)
        if at >= 0:
            s, e = self._span(at, at + len(q))
            return Match(s, e, "exact", 1.0)
        if not fuzzy:
            return None
        al = fuzz.partial_ratio_alignment(q, self.key, score_cutoff=FUZZY_MIN * 100)
        if al is None or al.dest_end <= al.dest_start:
            return None
        s, e = self._span(al.dest_start, al.dest_end)
        if self._overlaps_blocked(s, e):
            return None
        return Match(s, e, "fuzzy", round(al.score / 100, 3))


def locate(dossier: Dossier, quote: str, searchable: Searchable | None = None) -> tuple[int, int] | None:
    """Offsets of a (source-verbatim) quote in the dossier's full text, for highlighting."""
    m = (searchable or Searchable(dossier.text)).find(quote, fuzzy=False)
    return (m.start, m.end) if m else None


def misread_spans(dossier: Dossier) -> list[tuple[int, int]]:
    """Spans of the dossier text whose characters may not be what the page shows: blocks still
    holding garbled words when the dossier has an `encoding` finding, pages whose text layer was
    made by OCR (`scanned_page` findings), the whole text after our own OCR (`ocr`). Quotes taken
    there are marked « à vérifier sur le document »."""
    kinds = {f.kind for f in dossier.findings}
    if "ocr" in kinds:
        return [(0, len(dossier.text))]
    scanned = {f.page for f in dossier.findings if f.kind == "scanned_page" and f.page is not None}
    return [
        (b.start, b.end)
        for b in dossier.blocks
        if scanned.intersection(b.pages_of(b.start, b.end)) or ("encoding" in kinds and has_garbled_word(b.text))
    ]


def block_at(dossier: Dossier, offset: int) -> tuple[int | None, str]:
    """Page and section label of the block holding an offset; text before the first heading is
    « (début du document) », and a document without headings has no section (its page locates it)."""
    for b in dossier.blocks:
        if b.start <= offset < b.end + 2:
            if b.section:
                return b.page_at(offset), " > ".join(b.section)
            return b.page_at(offset), "(début du document)" if any(x.kind == "heading" for x in dossier.blocks) else ""
    return None, ""
