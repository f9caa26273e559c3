"""Offline drafter: no network, no generative model; the draft is built from retrieval.

Evidence = the sentences of the retrieved passages that best match the criterion's vocabulary
(`evidence.py`); level = the module's fitted linear model over evidence-strength and
specificity features (`features.py`, `level.py`). This module puts them together and words
the draft in French. A module without a fitted level model gets evidence and gaps only.
"""

from __future__ import annotations

import json
import time

from pipeline.drafting.evidence import select_evidence
from pipeline.drafting.features import CriterionFeatures, add_dossier_features, criterion_features, idf_over
from pipeline.drafting.level import CONFIDENCE_NO_EVIDENCE, LevelModel, level_model_for
from pipeline.referentiel import Criterion, Referentiel
from pipeline.types import CriterionDraft, Dossier, Evidence, Gap, GapKind, Hit, Provenance

# Evidence threshold without a level model (evidence-only mode): the value fitted for the
# bundled referentiel's models, a sentence sharing a fifth of the criterion's rare stems.
EVIDENCE_MIN_DEFAULT = 0.2
# Indicator coverage under which the expected vocabulary is reported as a gap.
VOCABULARY_GAP_BELOW = 0.5
# Expected notions named in a vocabulary gap.
VOCABULARY_GAP_TERMS = 5
# Precision signals whose absence is a gap when some evidence exists.
GAP_SIGNALS: tuple[GapKind, ...] = ("figures", "dates", "sources")


class OfflineDrafter:
    name = "offline"

    def __init__(self, model: LevelModel | None = None) -> None:
        self.model = model  # None: the referentiel's model for the module, looked up per call

    def draft_all(
        self, dossier: Dossier, ref: Referentiel, module: str, hits: dict[str, list[Hit]]
    ) -> dict[str, CriterionDraft]:
        model = self.model or level_model_for(ref, module)
        evidence_min = model.evidence_min if model else EVIDENCE_MIN_DEFAULT
        idf = idf_over(hits)
        headings = frozenset(b.text for b in dossier.blocks if b.kind == "heading")
        criteria = ref.criteria_for(module)
        per = {c.id: criterion_features(ref, c, hits.get(c.id, []), idf, headings, evidence_min) for c in criteria}
        add_dossier_features(ref, hits, per)
        return {c.id: draft_criterion(ref, c, hits.get(c.id, []), per[c.id], model, evidence_min) for c in criteria}


def draft_criterion(
    ref: Referentiel,
    criterion: Criterion,
    hits: list[Hit],
    feats: CriterionFeatures,
    model: LevelModel | None,
    evidence_min: float,
) -> CriterionDraft:
    t0 = time.perf_counter()
    scale = ref.scale
    evidence = select_evidence(feats.candidates, evidence_min)
    level: int | None = None
    score: float | None = None
    confidence = CONFIDENCE_NO_EVIDENCE
    if model is not None:
        score = model.score(feats.values)
        level = model.level(score, scale.min_level, scale.max_level) if evidence else scale.min_level
        confidence = model.confidence(score) if evidence else CONFIDENCE_NO_EVIDENCE
    gaps = _gaps(ref, feats, evidence)
    flags = [] if model else ["pas de niveau suggéré : aucun modèle de niveau ajusté pour ce module (preuves seules)"]
    return CriterionDraft(
        criterion_id=criterion.id,
        level=level,
        confidence=confidence,
        rationale=_rationale(ref, feats, evidence, level),
        present=_present(ref, feats, evidence),
        missing=[g.text for g in gaps],
        gaps=gaps,
        evidence=evidence,
        status="suggested" if level is not None else "à revoir",
        flags=flags,
        provenance=Provenance(
            backend="offline",
            model=f"{model.label}, {len(model.fitted_on)} dossiers dev" if model else None,
            chunk_ids=[h.chunk.id for h in hits],
            seconds=round(time.perf_counter() - t0, 4),
            raw_response=json.dumps(
                {"features": feats.values, "score": round(score, 4) if score is not None else None}
            ),
        ),
    )


def _labels(ref: Referentiel, feats: CriterionFeatures) -> list[str]:
    return [ref.vocabulary.signal_labels[k] for k, v in feats.signals.items() if v]


def _present(ref: Referentiel, feats: CriterionFeatures, evidence: list[Evidence]) -> list[str]:
    present = [f"{label} dans les passages retenus" for label in _labels(ref, feats)]
    if evidence:
        sections = list(dict.fromkeys(e.section for e in evidence))
        present.insert(0, "Traité dans : " + " ; ".join(sections[:3]))
    return present


def _gaps(ref: Referentiel, feats: CriterionFeatures, evidence: list[Evidence]) -> list[Gap]:
    labels = ref.vocabulary.signal_labels
    gaps: list[Gap] = []
    if not evidence:
        gaps.append(Gap(text="Aucun passage du dossier ne traite clairement ce critère.", kind="no_evidence"))
    if feats.missing_indicators and feats.values["coverage"] < VOCABULARY_GAP_BELOW:
        terms = feats.missing_indicators[:VOCABULARY_GAP_TERMS]
        gaps.append(
            Gap(
                text="Vocabulaire attendu pour ce critère absent des passages retenus (à vérifier) : "
                + ", ".join(terms)
                + ".",
                kind="vocabulary",
                terms=terms,
            )
        )
    if evidence:
        for key in GAP_SIGNALS:
            if not feats.signals[key]:
                gaps.append(Gap(text=f"Pas de {labels[key]} à l’appui.", kind=key))
    return gaps


def _rationale(ref: Referentiel, feats: CriterionFeatures, evidence: list[Evidence], level: int | None) -> str:
    found = ", ".join(_labels(ref, feats)) or "aucun"
    conclusion = (
        f"Niveau suggéré : {level} ({ref.scale.label(level)})."
        if level is not None
        else "Pas de niveau suggéré (preuves seules) : à évaluer par l’évaluateur."
    )
    return (
        f"Pré-lecture automatique (sans modèle génératif), à confirmer par l’évaluateur : "
        f"{len(evidence)} passage(s) retenu(s) ; couverture du vocabulaire du critère {feats.values['coverage']:.0%} ; "
        f"indices de précision : {found}. {conclusion}"
    )
