"""What the offline drafter measures about a criterion's retrieved passages: pure functions.

Two levels: per criterion (dense similarity, coverage of the criterion's vocabulary, the
best candidate sentences and how many of them are quantified, justified or argued, precision
signals in the top passages, strict and soft) and per dossier (how this criterion compares with
the others, how precise and argued the dossier is overall). Feature names are
the columns of the level model (`level.py`); `evals/fit_offline.py` fits on them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.lexical import tokens
from pipeline.noncontent import NonContent
from pipeline.referentiel import Criterion, Referentiel, Vocabulary
from pipeline.types import Hit

# per-criterion features also read as their mean over the module's criteria: how well the dossier as a
# whole answers the grid (a strong dossier is strong on most criteria; 43 % of the variance of the gold
# levels lies within a dossier, the rest between dossiers)
DOSSIER_MEANS = ("best_sentence", "coverage_soft", "ev_quantified", "specificity_soft", "support")
FEATURES = [
    "dense_max",
    "dense_top3",
    "coverage",
    "best_sentence",
    "specificity",
    "support",
    "rel_dense",
    "evidence_figures",
    "doc_figures",
    "doc_sources",
    "doc_reasoning",
    "doc_generic",
    "ev_sentences",
    "ev_quantified",
    "ev_justified",
    "ev_reasoned",
    "ev_generic",
    "coverage_soft",
    "specificity_soft",
    *(f"doc_mean_{name}" for name in DOSSIER_MEANS),
    # the best sentence and the supporting passages read with the plain paraphrase too (what is shown as
    # evidence): a dossier in everyday words holds few of the criterion's own words (round 7d)
    "best_shown",
    "support_shown",
]
SIGNALS = ("figures", "dates", "sources", "methods")

# Passages read for candidate sentences: the k = 8 retrieved are ranked; past the sixth they
# rarely hold the best sentence on dev, and reading them costs time.
CANDIDATE_PASSAGES = 6
# Passages whose text gives coverage and precision signals: the top three (what an assessor reads first).
TOP_PASSAGES = 3
# A shorter "sentence" is a label or a fragment, not a statement.
MIN_SENTENCE_CHARS = 25
# Coverage weights: the eight rarest query stems carry the criterion (idf over retrieved passages).
COVERAGE_STEMS = 8
# Saturation points of the count features (beyond these, more is not more informative on dev).
MAX_SUPPORT_PASSAGES = 4
MAX_EVIDENCE_FIGURES = 6
MAX_FIGURES_PER_KCHAR = 10.0
MAX_SOURCES_PER_KCHAR = 5.0
# Share of the retrieved sentences that weigh options, scenarios or hypotheses, beyond which more is
# not more (a third of the sentences)
MAX_REASONING_SHARE = 0.33
# Share of the retrieved sentences that are generic (a textbook or prescriptive statement without a
# number) beyond which more is not more: on dev, weak dossiers reach 0.05 to 0.14, strong ones 0 to 0.02
MAX_GENERIC_SHARE = 0.15
# Evidence sentences read for the scale's qualities (quantified, justified, argued): the best five
# candidates, counted only when they pass the evidence threshold; sentence count saturates at eight.
EVIDENCE_SENTENCES = 5
MAX_EVIDENCE_SENTENCES = 8
# Evidence weighting: what announces content rather than holds it (chosen on dev, README).
ROADMAP_WEIGHT = 0.5
LEAD_IN_WEIGHT = 0.6
FRAME_SECTION_WEIGHT = 0.7

_SENT = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÝÉ«\"0-9])|\n+")
_NUMBER = r"\b\d+(?:[ ,.]\d+)*\s?"
_YEAR = r"\b(?:19|20)\d{2}\b"
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class SignalPatterns:
    """The vocabulary's precision signals, compiled once per vocabulary."""

    figures: re.Pattern[str]
    dates: re.Pattern[str]
    sources: re.Pattern[str]
    methods: re.Pattern[str]
    roadmap: re.Pattern[str] | None
    frame_sections: re.Pattern[str] | None
    reasoning: re.Pattern[str] | None = None
    justification: re.Pattern[str] | None = None
    generic: re.Pattern[str] | None = None
    # looser checks made before a gap denies a signal (vocabulary `gap_checks`, `number_labels`)
    gap_checks: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    number_label: re.Pattern[str] | None = None

    def is_generic(self, sentence: str) -> bool:
        """A textbook or prescriptive statement that holds no number at all (« Il faut mettre en place
        une veille », « Le SWOT permet de synthétiser le diagnostic »): any count, amount or date
        anchors it in the company's case."""
        return self.generic is not None and bool(self.generic.search(sentence)) and not _DIGIT.search(sentence)

    def found(self, text: str) -> dict[str, bool]:
        return {k: bool(getattr(self, k).search(text)) for k in SIGNALS}

    def loosely_found(self, key: str, text: str) -> bool:
        """Whether `text` holds what a "Pas de données chiffrées / de dates à l'appui" gap would
        deny, read loosely: a counted quantity such as « entre 10 et 20 références », not a number
        that names a thing (« Tableau 3 », « Phase 2 ») nor a year; a time in the plan such as
        « Année 2 » or « M+3 »."""
        for rx in self.gap_checks.get(key, []):
            for m in rx.finditer(text):
                if key == "figures":
                    number = re.match(r"[\d .,]+", m.group(0))
                    if number and re.fullmatch(_YEAR, number.group(0).strip()):
                        continue
                    if self.number_label is not None and self.number_label.search(
                        text[max(0, m.start() - 20) : m.start()]
                    ):
                        continue
                return True
        return False


def _words(terms: list[str]) -> str:
    return "|".join(terms)  # vocabulary terms are regular expressions (referentiel/vocabulary/*.yaml)


# a word boundary that asks nothing of a term's own punctuation: a term starting (ending) with a letter
# must not have one just before (after) it; a term ending with « : » or « ’ » may be followed by anything
_START = r"(?:(?<!\w)|(?!\w))"
_END = r"(?:(?!\w)|(?<!\w))"


def _bounded(terms: list[str]) -> str:
    """The terms as whole words. (`\\b` also demands a word character next to a term's own
    punctuation: « source\\s*: » never matched « Source : Insee ».)"""
    return rf"{_START}(?:{_words(terms)}){_END}"


_COMPILED: dict[int, tuple[Vocabulary, SignalPatterns]] = {}


def signal_patterns(vocabulary: Vocabulary) -> SignalPatterns:
    """Compiled once per vocabulary object (the entry keeps the object alive, so its id stays its own)."""
    entry = _COMPILED.get(id(vocabulary))
    if entry is None or entry[0] is not vocabulary:
        entry = _COMPILED[id(vocabulary)] = (vocabulary, _compile(vocabulary))
    return entry[1]


def _compile(vocabulary: Vocabulary) -> SignalPatterns:
    sig = vocabulary.signals
    frames = vocabulary.frame_sections
    return SignalPatterns(
        figures=re.compile(_NUMBER + rf"(?:{_words(sig.figure_units)})", re.I),
        dates=re.compile(rf"{_YEAR}|{_bounded(sig.date_words)}", re.I),
        sources=re.compile(_bounded(sig.sources), re.I),
        methods=re.compile(_bounded(sig.methods), re.I),
        roadmap=re.compile(_bounded(vocabulary.roadmap_patterns), re.I) if vocabulary.roadmap_patterns else None,
        frame_sections=re.compile(rf"^(?:{_words(frames)}){_END}", re.I) if frames else None,
        reasoning=re.compile(_bounded(vocabulary.reasoning_patterns), re.I) if vocabulary.reasoning_patterns else None,
        justification=re.compile(_bounded(vocabulary.justification_patterns), re.I)
        if vocabulary.justification_patterns
        else None,
        generic=re.compile(_bounded(vocabulary.generic_patterns), re.I) if vocabulary.generic_patterns else None,
        gap_checks={k: [re.compile(rx, re.I) for rx in rxs] for k, rxs in vocabulary.gap_checks.items()},
        number_label=re.compile(rf"(?:^|\W)(?:{'|'.join(map(re.escape, vocabulary.number_labels))})\.?\s*$", re.I)
        if vocabulary.number_labels
        else None,
    )


def sentences(text: str) -> list[str]:
    return [p.strip() for p in _SENT.split(text) if len(p.strip()) >= MIN_SENTENCE_CHARS]


def stems(text: str) -> set[str]:
    return {s for s, _ in tokens(text)}


def evidence_weight(patterns: SignalPatterns, sentence: str, section: list[str]) -> float:
    """Down-weight what announces content rather than holds it: roadmap sentences, lead-ins ending
    with a colon, and the framing sections (introduction, contents)."""
    w = 1.0
    if patterns.roadmap is not None and patterns.roadmap.search(sentence):
        w *= ROADMAP_WEIGHT
    if sentence.rstrip().endswith(":"):
        w *= LEAD_IN_WEIGHT
    if section and patterns.frame_sections is not None and patterns.frame_sections.match(section[-1]):
        w *= FRAME_SECTION_WEIGHT
    return w


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored as evidence for one criterion."""

    text: str
    hit: Hit
    score: float


@dataclass
class CriterionFeatures:
    values: dict[str, float]
    candidates: list[Candidate] = field(default_factory=list, repr=False)
    signals: dict[str, bool] = field(default_factory=dict)
    missing_indicators: list[str] = field(default_factory=list)
    # the same sentences scored for what is shown as evidence: the criterion's vocabulary plus its
    # plain paraphrase (referentiel/plain/), so that a dossier in everyday words gets its own sentences
    # quoted; the level model's features read `candidates`, scored as when it was fitted
    shown: list[Candidate] = field(default_factory=list, repr=False)


def idf_over(hits: dict[str, list[Hit]]) -> dict[str, float]:
    """Inverse document frequency of stems over every passage retrieved for the module."""
    chunk_stems = {h.chunk.id: stems(h.chunk.text) for hs in hits.values() for h in hs}
    df: Counter[str] = Counter()
    for st in chunk_stems.values():
        df.update(st)
    n = max(len(chunk_stems), 1)
    return {s: math.log(1 + n / (1 + c)) for s, c in df.items()}


def _matcher(query: set[str], idf: dict[str, float]) -> Callable[[set[str]], float]:
    """How much of a query a sentence's stems hold: the idf weight of the query stems it holds, over
    the weight of the COVERAGE_STEMS rarest query stems (which carry the criterion)."""
    weight = {s: idf.get(s, 1.0) for s in query}
    total = sum(sorted(weight.values(), reverse=True)[:COVERAGE_STEMS]) or 1.0
    return lambda held: sum(weight[x] for x in held & query) / total


def criterion_features(
    ref: Referentiel,
    criterion: Criterion,
    hits: list[Hit],
    idf: dict[str, float],
    non_content: NonContent,
    evidence_min: float,
) -> CriterionFeatures:
    """Features of one criterion from its own retrieved passages (flagged passages never count)."""
    patterns = signal_patterns(ref.vocabulary)
    indicators = ref.indicators.get(criterion.id, [])
    query = stems(criterion.label) | {s for p in indicators for s in stems(p)}
    match = _matcher(query, idf)
    match_shown = _matcher(query | stems(ref.plain.get(criterion.id, "")), idf)
    usable = [h for h in hits if not h.chunk.flagged]
    cands: list[Candidate] = []
    shown: list[Candidate] = []
    for h in usable[:CANDIDATE_PASSAGES]:
        for sent in sentences(h.chunk.text):
            if sent in non_content:  # a heading, caption or table header alone is never evidence
                continue
            held = stems(sent)
            w = evidence_weight(patterns, sent, h.chunk.section)
            cands.append(Candidate(sent, h, w * match(held)))
            shown.append(Candidate(sent, h, w * match_shown(held)))
    cands.sort(key=lambda c: (-c.score, c.hit.rank))
    shown.sort(key=lambda c: (-c.score, c.hit.rank))
    top = usable[:TOP_PASSAGES]
    top_text = " ".join(h.chunk.text for h in top)
    top_stems = stems(top_text)
    found_ind = [p for p in indicators if stems(p) and stems(p) <= top_stems]
    signals = patterns.found(top_text)
    signals["tables"] = any("table" in h.chunk.kinds for h in top)
    # the same two measures without their all-or-nothing steps (partial credit for an indicator,
    # each signal counted per passage), so that one passage more or less among the top moves the
    # value by a fraction rather than a step: the DOCX and the PDF of a dossier retrieve alike, not
    # identically
    per_passage = [patterns.found(h.chunk.text) | {"tables": "table" in h.chunk.kinds} for h in top]
    with_stems = [stems(p) for p in indicators if stems(p)]
    dense = [h.dense_score or 0.0 for h in usable]
    strong = {c.hit.chunk.id for c in cands if c.score >= evidence_min}
    strong_shown = {c.hit.chunk.id for c in shown if c.score >= evidence_min}
    said = [c.text for c in cands[:EVIDENCE_SENTENCES] if c.score >= evidence_min]
    values = {
        "dense_max": max(dense, default=0.0),
        "dense_top3": sum(sorted(dense, reverse=True)[:TOP_PASSAGES]) / TOP_PASSAGES if dense else 0.0,
        "coverage": len(found_ind) / len(indicators) if indicators else 0.0,
        "coverage_soft": sum(len(st & top_stems) / len(st) for st in with_stems) / len(with_stems)
        if with_stems
        else 0.0,
        "specificity_soft": sum(sum(found.values()) for found in per_passage) / (len(signals) * TOP_PASSAGES),
        "best_sentence": cands[0].score if cands else 0.0,
        "specificity": sum(signals.values()) / len(signals),
        "support": min(len(strong), MAX_SUPPORT_PASSAGES) / MAX_SUPPORT_PASSAGES,
        "best_shown": shown[0].score if shown else 0.0,
        "support_shown": min(len(strong_shown), MAX_SUPPORT_PASSAGES) / MAX_SUPPORT_PASSAGES,
        **evidence_qualities(patterns, said),
        "ev_sentences": min(sum(c.score >= evidence_min for c in cands), MAX_EVIDENCE_SENTENCES)
        / MAX_EVIDENCE_SENTENCES,
    }
    return CriterionFeatures(values, cands, signals, [p for p in indicators if p not in found_ind], shown)


def evidence_qualities(patterns: SignalPatterns, said: list[str]) -> dict[str, float]:
    """What the scale asks of the evidence (referentiel/scales: « spécifique et justifié », « précis,
    chiffré, critique »), as the share of the best EVIDENCE_SENTENCES candidates that hold it:
    a quantity, a justification (cause, purpose, condition), an argued choice; and the share that is
    generic instead (« abordé, mais de façon générique »: level 1)."""

    def share(rx: re.Pattern[str] | None, also: str | None = None) -> float:
        held = [t for t in said if (rx is not None and rx.search(t)) or (also and patterns.loosely_found(also, t))]
        return len(held) / EVIDENCE_SENTENCES

    return {
        "ev_quantified": share(patterns.figures, "figures"),
        "ev_justified": share(patterns.justification),
        "ev_reasoned": share(patterns.reasoning),
        "ev_generic": sum(1 for t in said if patterns.is_generic(t)) / EVIDENCE_SENTENCES,
    }


def add_dossier_features(ref: Referentiel, hits: dict[str, list[Hit]], per: dict[str, CriterionFeatures]) -> None:
    """Dossier-level context: how precise the dossier is overall (over the retrieved passages, which
    never hold flagged text), and how each criterion's similarity compares with the others'."""
    patterns = signal_patterns(ref.vocabulary)
    seen = {h.chunk.id: h.chunk.text for hs in hits.values() for h in hs if not h.chunk.flagged}
    corpus = " ".join(seen[k] for k in sorted(seen))
    kchars = max(len(corpus) / 1000, 1.0)
    doc_figures = min(len(patterns.figures.findall(corpus)) / kchars, MAX_FIGURES_PER_KCHAR) / MAX_FIGURES_PER_KCHAR
    doc_sources = min(len(patterns.sources.findall(corpus)) / kchars, MAX_SOURCES_PER_KCHAR) / MAX_SOURCES_PER_KCHAR
    said = [s for k in sorted(seen) for s in sentences(seen[k])]
    doc_reasoning = 0.0
    if patterns.reasoning is not None:
        share = sum(1 for s in said if patterns.reasoning.search(s)) / max(len(said), 1)
        doc_reasoning = min(share, MAX_REASONING_SHARE) / MAX_REASONING_SHARE
    generic = sum(1 for s in said if patterns.is_generic(s)) / max(len(said), 1)
    doc_generic = min(generic, MAX_GENERIC_SHARE) / MAX_GENERIC_SHARE
    mean_top3 = sum(f.values["dense_top3"] for f in per.values()) / max(len(per), 1)
    means = {name: sum(f.values.get(name, 0.0) for f in per.values()) / max(len(per), 1) for name in DOSSIER_MEANS}
    for f in per.values():
        top = [c.text for c in f.candidates[:TOP_PASSAGES]]
        figures = sum(len(patterns.figures.findall(t)) for t in top)
        f.values["rel_dense"] = f.values["dense_top3"] - mean_top3
        f.values["evidence_figures"] = min(figures, MAX_EVIDENCE_FIGURES) / MAX_EVIDENCE_FIGURES
        f.values["doc_figures"] = doc_figures
        f.values["doc_sources"] = doc_sources
        f.values["doc_reasoning"] = doc_reasoning
        f.values["doc_generic"] = doc_generic
        f.values.update({f"doc_mean_{name}": m for name, m in means.items()})
