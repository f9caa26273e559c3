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
from pipeline.types import Dossier, Gap, GapMention

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
        """Blocks holding every stem of the phrase."""
        return self.places_sharing(stems(phrase), 1.0)

    def places_sharing(self, want: frozenset[str], share: float) -> list[GapMention]:
        """Blocks holding at least `share` of the stems."""
        if not want:
            return []
        need = max(1, round(share * len(want)))
        out: list[GapMention] = []
        for u in self.units:
            if len(want & u.stems) >= need:
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


# Words of a free-text gap that say "missing" rather than what is missing.
_GAP_WORDS = frozenset(
    stems(
        "absence absent absente manque manquant manquante insuffisant insuffisante pas aucun aucune "
        "peu non trop précis précise préciser détaillé détaillée développé développée explicite explicitement "
        "critère dossier candidat élément éléments information informations"
    )
)
# Share of a free gap's own stems that one place must hold for the gap to count as mentioned there.
MENTION_SHARE = 0.8


def verify_free_gaps(gaps: list[Gap], quotes: list[str], search: DossierSearch) -> list[Gap]:
    """Check gaps written freely (a model's, kind `other`) like the offline ones: a gap whose words
    all stand in the criterion's own quotes is dropped; one mentioned elsewhere says where."""
    quoted = stems(" ".join(quotes))
    out: list[Gap] = []
    for gap in gaps:
        if gap.kind != "other":
            out.append(gap)
            continue
        want = stems(gap.text) - _GAP_WORDS
        if want and want <= quoted:
            continue  # the quotes show it: no gap
        places = search.places_sharing(want, MENTION_SHARE) if want else []
        if places and not gap.mentioned:
            gap = gap.model_copy(
                update={"mentioned": places, "text": f"{gap.text.rstrip('.')} (mentionné {where(places)})."}
            )
        out.append(gap)
    return out
