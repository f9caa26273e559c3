"""Which candidate sentences the offline drafter shows as evidence for a criterion."""

from __future__ import annotations

from pipeline.drafting.features import Candidate
from pipeline.types import Evidence

# Quotes per criterion: what an assessor reads at a glance beside the criterion.
MAX_QUOTES = 3
# Terms of the retrieval match named in a quote's "why".
WHY_TERMS = 4


def select_evidence(candidates: list[Candidate], evidence_min: float) -> list[Evidence]:
    """The best sentences above the model's evidence threshold, one per passage while there is choice."""
    evidence: list[Evidence] = []
    used_chunks: set[str] = set()
    for c in candidates:
        if len(evidence) >= MAX_QUOTES or c.score < evidence_min:
            break
        if c.hit.chunk.id in used_chunks and len(candidates) > MAX_QUOTES:
            continue
        used_chunks.add(c.hit.chunk.id)
        terms = ", ".join(c.hit.matched_terms[:WHY_TERMS])
        evidence.append(
            Evidence(
                chunk_id=c.hit.chunk.id,
                quote=c.text,
                page=c.hit.chunk.pages[0] if c.hit.chunk.pages else None,
                section=c.hit.chunk.section_label,
                why=f"Passage classé n° {c.hit.rank} pour ce critère" + (f" (termes : {terms})" if terms else ""),
            )
        )
    return evidence
