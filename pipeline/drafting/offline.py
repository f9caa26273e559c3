"""Offline drafter: no network, no generative model; the draft is built from retrieval.

Evidence = the sentences of the retrieved chunks that best match the criterion's vocabulary.
Level = a small linear model over evidence-strength and specificity features (dense
similarity, vocabulary coverage, figures, dates, named sources, tables, methods), fitted by
`evals/fit_offline.py` on the dev split only; its coefficients and the dossiers it was
fitted on are stored in `offline_model.json` beside this file.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.drafting import criterion_label
from pipeline.lexical import tokens
from pipeline.referentiel import Criterion, Referentiel
from pipeline.types import CriterionDraft, Dossier, Evidence, Hit, Provenance

MODEL_FILE = Path(__file__).with_name("offline_model.json")
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
]

_SENT = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÝÉ«\"0-9])|\n+")
_FIGURE = re.compile(r"\b\d+(?:[ ,.]\d+)*\s?(?:%|€|k€|m€|M€|Md€|euros?|points?|clients?|jours?|mois|ans|heures?)", re.I)
_DATE = re.compile(
    r"\b(?:19|20)\d{2}\b|\b(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|T[1-4]|trimestre|semestre)\b",
    re.I,
)
_SOURCE = re.compile(
    r"\b(?:selon|source\s*:|d’après|d'après|INSEE|Xerfi|Kantar|Nielsen|Circana|IRI|Eurostat|Banque de France|étude|enquête|baromètre|rapport|panel|observatoire|fédération|ADEME)\b",
    re.I,
)
_METHOD = re.compile(
    r"\b(?:SWOT|PESTEL|PESTE|matrice|Porter|BCG|Ansoff|McKinsey|persona|KPI|benchmark|tableau de bord|SMART|RACI|Gantt|rétroplanning|AMDEC|scoring|segmentation|parcours client|CAC|NPS)\b",
    re.I,
)
_WEIGHTS = {"figures": _FIGURE, "dates": _DATE, "sources": _SOURCE, "methods": _METHOD}
_LABELS = {
    "figures": "données chiffrées",
    "dates": "dates ou échéances",
    "sources": "sources citées",
    "methods": "méthodes ou outils nommés",
    "tables": "tableau",
}


@dataclass(frozen=True)
class OfflineModel:
    intercept: float
    coefs: dict[str, float]
    thresholds: list[float]  # score cut points between levels 0|1, 1|2, 2|3
    fitted_on: list[str]
    evidence_min: float

    def score(self, feats: dict[str, float]) -> float:
        return self.intercept + sum(self.coefs.get(k, 0.0) * feats.get(k, 0.0) for k in FEATURES)

    def level(self, s: float) -> int:
        return sum(s >= t for t in self.thresholds)


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_FILE) -> OfflineModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    return OfflineModel(
        intercept=float(data["intercept"]),
        coefs={k: float(v) for k, v in data["coefs"].items()},
        thresholds=[float(t) for t in data["thresholds"]],
        fitted_on=list(data.get("fitted_on", [])),
        evidence_min=float(data.get("evidence_min", 0.25)),
    )


def sentences(text: str) -> list[str]:
    out = []
    for part in _SENT.split(text):
        part = part.strip()
        if len(part) >= 25:
            out.append(part)
    return out


@dataclass
class _Candidate:
    text: str
    hit: Hit
    score: float


_META = re.compile(
    r"\b(?:ce (?:dossier|document|mémoire|rapport)|dans (?:une|la) (?:première|deuxième|seconde|dernière) partie|"
    r"nous verrons|je présente(?:rai)?|sera présenté|est organisé en|plan du dossier)\b",
    re.I,
)
_FRAME_SECTION = re.compile(r"^(?:introduction|sommaire|table des matières|avant-propos|remerciements)\b", re.I)


def _evidence_weight(sentence: str, section: list[str]) -> float:
    """Down-weight what announces content rather than holds it: roadmap sentences, lead-ins ending
    with a colon, and the introduction."""
    w = 1.0
    if _META.search(sentence):
        w *= 0.5
    if sentence.rstrip().endswith(":"):
        w *= 0.6
    if section and _FRAME_SECTION.match(section[-1]):
        w *= 0.7
    return w


def _stems(text: str) -> set[str]:
    return {s for s, _ in tokens(text)}


class OfflineDrafter:
    name = "offline"

    def __init__(self, model: OfflineModel | None = None) -> None:
        self.model = model or load_model()
        self._headings: set[str] = set()

    def draft_all(
        self, dossier: Dossier, ref: Referentiel, module: str, hits: dict[str, list[Hit]]
    ) -> dict[str, CriterionDraft]:
        chunk_stems: dict[str, set[str]] = {}
        for hs in hits.values():
            for h in hs:
                chunk_stems.setdefault(h.chunk.id, _stems(h.chunk.text))
        df: Counter[str] = Counter()
        for st in chunk_stems.values():
            df.update(st)
        n_docs = max(len(chunk_stems), 1)
        idf = {s: math.log(1 + n_docs / (1 + c)) for s, c in df.items()}
        self._headings = {b.text for b in dossier.blocks if b.kind == "heading"}
        criteria = ref.criteria_for(module)
        prepared = {c.id: self.features(ref, c, hits.get(c.id, []), idf) for c in criteria}
        # dossier-level context: how precise the dossier is overall, and how this criterion's
        # coverage compares with the others (computed on retrieved chunks, which never hold
        # text flagged as manipulation)
        seen: dict[str, str] = {h.chunk.id: h.chunk.text for hs in hits.values() for h in hs if not h.chunk.flagged}
        corpus = " ".join(seen[k] for k in sorted(seen))
        kchars = max(len(corpus) / 1000, 1.0)
        doc_figures = min(len(_FIGURE.findall(corpus)) / kchars, 10.0) / 10
        doc_sources = min(len(_SOURCE.findall(corpus)) / kchars, 5.0) / 5
        mean_top3 = sum(p[0]["dense_top3"] for p in prepared.values()) / max(len(prepared), 1)
        for feats, cands, _, _ in prepared.values():
            feats["rel_dense"] = feats["dense_top3"] - mean_top3
            top = [c.text for c in cands[:3]]
            feats["evidence_figures"] = min(sum(len(_FIGURE.findall(t)) for t in top), 6) / 6
            feats["doc_figures"] = doc_figures
            feats["doc_sources"] = doc_sources
        return {c.id: self.draft(ref, c, hits.get(c.id, []), prepared[c.id]) for c in criteria}

    def features(
        self, ref: Referentiel, criterion: Criterion, hits: list[Hit], idf: dict[str, float]
    ) -> tuple[dict[str, float], list[_Candidate], dict[str, bool], list[str]]:
        indicators = ref.indicators.get(criterion.id, [])
        query = _stems(criterion_label(criterion)) | {s for p in indicators for s in _stems(p)}
        weight = {s: idf.get(s, 1.0) for s in query}
        total = sum(sorted(weight.values(), reverse=True)[:8]) or 1.0
        usable = [h for h in hits if not h.chunk.flagged]
        cands: list[_Candidate] = []
        for h in usable[:6]:
            for sent in sentences(h.chunk.text):
                if sent in self._headings:  # a heading alone is never evidence
                    continue
                st = _stems(sent)
                s = sum(weight[x] for x in st & query) / total
                cands.append(_Candidate(sent, h, s * _evidence_weight(sent, h.chunk.section)))
        cands.sort(key=lambda c: (-c.score, c.hit.rank))
        top = usable[:3]
        top_text = " ".join(h.chunk.text for h in top)
        top_stems = _stems(top_text)
        found_ind = [p for p in indicators if _stems(p) and _stems(p) <= top_stems]
        coverage = len(found_ind) / len(indicators) if indicators else 0.0
        signals = {k: bool(rx.search(top_text)) for k, rx in _WEIGHTS.items()}
        signals["tables"] = any("table" in h.chunk.kinds for h in top)
        dense = [h.dense_score or 0.0 for h in usable]
        strong = [c for c in cands if c.score >= self.model.evidence_min]
        feats = {
            "dense_max": max(dense, default=0.0),
            "dense_top3": sum(sorted(dense, reverse=True)[:3]) / 3 if dense else 0.0,
            "coverage": coverage,
            "best_sentence": cands[0].score if cands else 0.0,
            "specificity": sum(signals.values()) / len(signals),
            "support": min(len({c.hit.chunk.id for c in strong}), 4) / 4,
        }
        missing_ind = [p for p in indicators if p not in found_ind]
        return feats, cands, signals, missing_ind

    def draft(
        self,
        ref: Referentiel,
        criterion: Criterion,
        hits: list[Hit],
        prepared: tuple[dict[str, float], list[_Candidate], dict[str, bool], list[str]],
    ) -> CriterionDraft:
        t0 = time.perf_counter()
        feats, cands, signals, missing_ind = prepared
        score = self.model.score(feats)
        level = self.model.level(score)
        evidence: list[Evidence] = []
        used_chunks: set[str] = set()
        for c in cands:
            if len(evidence) >= 3 or c.score < self.model.evidence_min:
                break
            if c.hit.chunk.id in used_chunks and len(cands) > 3:
                continue
            used_chunks.add(c.hit.chunk.id)
            terms = ", ".join(t for t in c.hit.matched_terms[:4])
            evidence.append(
                Evidence(
                    chunk_id=c.hit.chunk.id,
                    quote=c.text,
                    page=c.hit.chunk.pages[0] if c.hit.chunk.pages else None,
                    section=c.hit.chunk.section_label,
                    why=f"Passage classé n° {c.hit.rank} pour ce critère" + (f" (termes : {terms})" if terms else ""),
                )
            )
        if not evidence:
            level = min(level, ref.scale.min_level)
        scale = ref.scale
        level = max(scale.min_level, min(scale.max_level, level))
        gaps = [abs(score - t) for t in self.model.thresholds]
        confidence = round(min(0.95, 0.35 + 0.6 * min(1.0, min(gaps, default=1.0) / 0.5)), 2)
        present = [f"{_LABELS[k]} dans les passages retenus" for k, v in signals.items() if v]
        if evidence:
            sections = list(dict.fromkeys(e.section for e in evidence))
            present.insert(0, "Traité dans : " + " ; ".join(sections[:3]))
        missing: list[str] = []
        if not evidence:
            missing.append("Aucun passage du dossier ne traite clairement ce critère.")
        if missing_ind and feats["coverage"] < 0.5:
            missing.append(
                "Vocabulaire attendu pour ce critère absent des passages retenus (à vérifier) : "
                + ", ".join(missing_ind[:5])
                + "."
            )
        for key in ("figures", "dates", "sources"):
            if not signals[key] and evidence:
                missing.append(f"Pas de {_LABELS[key]} à l’appui.")
        label = scale.label(level)
        rationale = (
            f"Pré-lecture automatique (sans modèle génératif), à confirmer par l’évaluateur : "
            f"{len(evidence)} passage(s) retenu(s) ; couverture du vocabulaire du critère {feats['coverage']:.0%} ; "
            f"indices de précision : {', '.join(_LABELS[k] for k, v in signals.items() if v) or 'aucun'}. "
            f"Niveau suggéré : {level} ({label})."
        )
        return CriterionDraft(
            criterion_id=criterion.id,
            level=level,
            confidence=confidence if evidence else 0.3,
            rationale=rationale,
            present=present,
            missing=missing,
            evidence=evidence,
            status="suggested",
            provenance=Provenance(
                backend="offline",
                model=f"offline-linear ({len(self.model.fitted_on)} dossiers dev)",
                chunk_ids=[h.chunk.id for h in hits],
                seconds=round(time.perf_counter() - t0, 4),
                raw_response=json.dumps({"features": feats, "score": round(score, 4)}),
            ),
        )
