"""Gaps that are true: each expected notion is searched for in the whole dossier before it is claimed.

A notion found in the criterion's own quotes is no gap; one found elsewhere in the dossier is
reported with where it is ("mentionné p. 7, non développé pour ce critère"); only a notion
found nowhere is reported as absent. Matching is on French stems (the BM25 analyser), on the
dossier's content blocks, never on its headings alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.lexical import tokens
from pipeline.manipulation import block_clean_text
from pipeline.types import Dossier, GapMention

# Places named for one notion mentioned elsewhere: enough to find it, short enough to read.
MAX_PLACES = 3


def stems(text: str) -> frozenset[str]:
    return frozenset(s for s, _ in tokens(text))


@dataclass(frozen=True)
class _Unit:
    stems: frozenset[str]
    page: int | None
    section: str


class DossierSearch:
    """Where a notion occurs in a dossier, block by block (headings, captions and text flagged as
    manipulation excluded)."""

    def __init__(self, dossier: Dossier) -> None:
        self.units = [
            _Unit(stems(block_clean_text(dossier, b)), b.page, " > ".join(b.section))
            for b in dossier.blocks
            if b.kind not in ("heading", "caption")
        ]

    def places(self, phrase: str) -> list[GapMention]:
        want = stems(phrase)
        if not want:
            return []
        out: list[GapMention] = []
        for u in self.units:
            if want <= u.stems:
                m = GapMention(page=u.page, section=u.section)
                if m not in out:
                    out.append(m)
                if len(out) >= MAX_PLACES:
                    break
        return out


def where(mentions: list[GapMention]) -> str:
    """`p. 7 (2.3 Prix)`, or the section alone for documents without pages."""
    parts = []
    for m in mentions:
        section = m.section.split(" > ")[-1] if m.section else ""
        if m.page is not None:
            parts.append(f"p. {m.page}" + (f" ({section})" if section else ""))
        elif section:
            parts.append(f"« {section} »")
    return ", ".join(parts) or "ailleurs dans le dossier"
