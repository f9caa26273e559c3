"""Quality measures of what an assessor is shown, beyond recall and level agreement.

- pre-grounding drop rate: quotes a drafter proposed that grounding had to drop (the honest
  grounding figure: shown quotes are rewritten to the source's text, so they always match);
- non-content quote rate: quotes that are headings, captions or table header rows alone;
- quote reuse rate: shown quotes cited for three criteria or more of one review;
- gap contradiction rate: gaps whose own terms (or signal) appear in the same criterion's quotes;
- format agreement: level agreement between the DOCX and the PDF of one dossier;
- calibration error (ECE over ten confidence bins) and the confident share.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pipeline.drafting.features import signal_patterns
from pipeline.referentiel import Referentiel
from pipeline.textnorm import fold
from pipeline.types import Dossier, Evidence, Gap, Review

REUSE_MIN_CRITERIA = 3
ECE_BINS = 10
NON_CONTENT_KINDS = frozenset({"heading", "caption"})


@dataclass
class QuoteAudit:
    case: str = ""
    split: str = ""
    shown: int = 0
    dropped: int = 0
    non_content: int = 0
    reused: int = 0
    gaps: int = 0
    contradicted: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def merge(cls, audits: list[QuoteAudit]) -> QuoteAudit:
        total = cls()
        for a in audits:
            for name in ("shown", "dropped", "non_content", "reused", "gaps", "contradicted"):
                setattr(total, name, getattr(total, name) + getattr(a, name))
        return total

    def rates(self) -> dict[str, float | None]:
        return {
            "pre_grounding_drop_rate": _ratio(self.dropped, self.shown + self.dropped),
            "non_content_quote_rate": _ratio(self.non_content, self.shown),
            "quote_reuse_rate": _ratio(self.reused, self.shown),
            "gap_contradiction_rate": _ratio(self.contradicted, self.gaps),
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def is_non_content(dossier: Dossier, ev: Evidence) -> bool:
    """A quote that lies only in headings or captions, or only in a table's header row."""
    if ev.start is None or ev.end is None:
        return False
    blocks = [b for b in dossier.blocks if b.start < ev.end and ev.start < b.end]
    if not blocks:
        return False
    if all(b.kind in NON_CONTENT_KINDS for b in blocks):
        return True
    if len(blocks) == 1 and blocks[0].kind == "table" and blocks[0].rows:
        header = fold(" ".join(blocks[0].rows[0]))
        quote = fold(ev.quote).replace("|", " ")
        return bool(quote.split()) and set(quote.split()) <= set(header.replace("|", " ").split())
    return False


def _contradicted(gap: Gap, quotes: str, ref: Referentiel) -> bool:
    if gap.kind in ("figures", "dates", "sources", "methods"):
        return bool(getattr(signal_patterns(ref.vocabulary), gap.kind).search(quotes))
    folded = fold(quotes)
    return any(re.search(rf"\b{re.escape(fold(t))}", folded) for t in gap.terms if t.strip())


def audit_quotes(case: str, split: str, dossier: Dossier, review: Review, ref: Referentiel) -> QuoteAudit:
    audit = QuoteAudit(case=case, split=split)
    cited: Counter[str] = Counter()
    for d in review.criteria:
        for q in {fold(e.quote) for e in d.evidence}:
            cited[q] += 1
    for d in review.criteria:
        audit.dropped += d.dropped_quotes
        quotes = " ".join(e.quote for e in d.evidence)
        for ev in d.evidence:
            audit.shown += 1
            if is_non_content(dossier, ev):
                audit.non_content += 1
                audit.examples["non_content"].append(ev.quote[:120])
            if cited[fold(ev.quote)] >= REUSE_MIN_CRITERIA:
                audit.reused += 1
        for gap in d.gaps:
            if gap.kind == "no_evidence":
                continue
            audit.gaps += 1
            if d.evidence and _contradicted(gap, quotes, ref):
                audit.contradicted += 1
                audit.examples["contradicted"].append(f"{d.criterion_id}: {gap.text[:100]}")
    return audit


def format_agreement(rows: list[tuple[str, str, int | None]]) -> float | None:
    """Share of criteria where the DOCX and the PDF of one dossier got the same level."""
    by_dossier: dict[tuple[str, str], dict[str, int | None]] = defaultdict(dict)
    for case, criterion, level in rows:
        name, _, file = case.partition("/")
        by_dossier[(name, criterion)][file.rsplit(".", 1)[-1].lower()] = level
    pairs = [v for v in by_dossier.values() if "docx" in v and "pdf" in v]
    return _ratio(sum(v["docx"] == v["pdf"] for v in pairs), len(pairs))


def calibration_error(rows: list[tuple[float, int, int]]) -> float | None:
    """Expected calibration error of the confidence for the exact level, over ten bins."""
    if not rows:
        return None
    bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for conf, gold, pred in rows:
        bins[min(int(conf * ECE_BINS), ECE_BINS - 1)].append((conf, gold == pred))
    ece = sum(
        len(b) / len(rows) * abs(sum(c for c, _ in b) / len(b) - sum(ok for _, ok in b) / len(b)) for b in bins.values()
    )
    return round(ece, 4)


def confident_share(rows: list[tuple[float, int, int]], threshold: float, total: int) -> dict[str, float | None]:
    """How many criteria reach the confidence threshold, and how right they are."""
    sure = [(g, p) for c, g, p in rows if c >= threshold]
    return {
        "threshold": threshold,
        "share": _ratio(len(sure), total),
        "exact": _ratio(sum(g == p for g, p in sure), len(sure)),
        "adjacent": _ratio(sum(abs(g - p) <= 1 for g, p in sure), len(sure)),
    }
