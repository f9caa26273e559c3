"""Which candidate sentences the offline drafter shows as evidence, criterion by criterion.

A sentence is shown for the criteria it is specific to: its score for a criterion is weighed
against its best score for any criterion of the module, so a general sentence ("Cette politique
n'est plus cohérente avec la stratégie") does not become the evidence of seven criteria; and a
sentence already shown for MAX_REUSE criteria gives way to another one when there is a choice.
"""

from __future__ import annotations

from collections import Counter

from pipeline.drafting.features import Candidate
from pipeline.types import Evidence

# Quotes per criterion: what an assessor reads at a glance beside the criterion.
MAX_QUOTES = 3
# Terms of the retrieval match named in a quote's "why".
WHY_TERMS = 4
# Share of its score a sentence keeps when it fits another criterion better (1 - this is the
# largest penalty for being unspecific); chosen so that a clearly specific sentence always wins.
SPECIFICITY_FLOOR = 0.6
# Criteria one sentence may support before an alternative above the threshold is preferred.
MAX_REUSE = 2
# When no sentence reaches the evidence threshold, the closest one is still shown (one, flagged
# as a weak match) if it reaches this share of the threshold: on dev, criteria left without any
# quote were addressed in 75 % of cases (gold level >= 1), so "nothing found" was mostly wrong.
WEAK_MATCH_SHARE = 0.5


def specificity(candidate: Candidate, best: dict[str, float]) -> float:
    """The candidate's score, discounted when the same sentence fits another criterion better."""
    top = best.get(candidate.text, candidate.score) or 1.0
    return candidate.score * (SPECIFICITY_FLOOR + (1 - SPECIFICITY_FLOOR) * candidate.score / top)


def choose_evidence(candidates: dict[str, list[Candidate]], evidence_min: float) -> dict[str, list[Evidence]]:
    """Evidence for every criterion of a module (in the module's order), specific first, reuse capped."""
    best: dict[str, float] = {}
    for cands in candidates.values():
        for c in cands:
            best[c.text] = max(best.get(c.text, 0.0), c.score)
    used: Counter[str] = Counter()
    out: dict[str, list[Evidence]] = {}
    for cid, cands in candidates.items():
        ranked = sorted(cands, key=lambda c: (-specificity(c, best), c.hit.rank))
        evidence = select_evidence(ranked, evidence_min, used)
        used.update({e.quote for e in evidence})
        out[cid] = evidence
    return out


def select_evidence(
    candidates: list[Candidate], evidence_min: float, used: Counter[str] | None = None
) -> list[Evidence]:
    """The first candidates above the threshold, one per passage while there is choice, no sentence
    twice (overlapping passages repeat sentences), sentences shown MAX_REUSE times only if needed."""
    used = used or Counter()
    eligible = [c for c in candidates if c.score >= evidence_min]
    pool = [c for c in eligible if used[c.text] < MAX_REUSE]
    if not pool:
        # nothing fresh above the threshold: the closest fresh sentence as a weak match, else one
        # sentence already shown elsewhere rather than nothing
        weak = [c for c in candidates if c.score >= WEAK_MATCH_SHARE * evidence_min and used[c.text] < MAX_REUSE]
        if weak:
            return [_evidence(weak[0], "Passage le plus proche, correspondance faible : à vérifier")]
        pool = eligible[:1]
    evidence: list[Evidence] = []
    used_chunks: set[str] = set()
    for c in pool:
        if len(evidence) >= MAX_QUOTES:
            break
        if any(e.quote == c.text for e in evidence):
            continue
        if c.hit.chunk.id in used_chunks and len(pool) > MAX_QUOTES:
            continue
        used_chunks.add(c.hit.chunk.id)
        terms = ", ".join(c.hit.matched_terms[:WHY_TERMS])
        evidence.append(
            _evidence(c, f"Passage classé n° {c.hit.rank} pour ce critère" + (f" (termes : {terms})" if terms else ""))
        )
    return evidence


def _evidence(c: Candidate, why: str) -> Evidence:
    return Evidence(
        chunk_id=c.hit.chunk.id,
        quote=c.text,
        page=c.hit.chunk.pages[0] if c.hit.chunk.pages else None,
        section=c.hit.chunk.section_label,
        why=why,
    )
