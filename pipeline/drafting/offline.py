"""Offline drafter: no network, no generative model; the draft is built from retrieval.

Evidence = the sentences of the retrieved passages that best match the criterion's vocabulary
(`evidence.py`); level = the module's fitted linear model over evidence-strength and
specificity features (`features.py`, `level.py`). This module puts them together and words
the draft in French. A module without a fitted level model gets evidence and gaps only.
"""

from __future__ import annotations

import json
import re
import time

from pipeline.drafting.evidence import choose_evidence
from pipeline.drafting.features import (
    EVIDENCE_SENTENCES,
    CriterionFeatures,
    add_dossier_features,
    criterion_features,
    idf_over,
    signal_patterns,
)
from pipeline.drafting.gaps import DossierSearch, stems, where
from pipeline.drafting.level import CONFIDENCE_NO_EVIDENCE, LevelModel, level_model_for
from pipeline.noncontent import NonContent
from pipeline.referentiel import Criterion, Referentiel
from pipeline.types import CriterionDraft, Dossier, Evidence, Gap, GapKind, GapMention, Hit, Provenance

# A criterion offset of the level model at least this large (a quarter of a level) is said in the
# rationale: the assessor sees that the level leans on how dev dossiers were marked on it.
OFFSET_SAID = 0.25
# Evidence threshold without a level model (evidence-only mode): the value fitted for the
# bundled referentiel's models, a sentence sharing a fifth of the criterion's rare stems.
EVIDENCE_MIN_DEFAULT = 0.2
# Indicator coverage under which the expected vocabulary is reported as a gap.
VOCABULARY_GAP_BELOW = 0.5
# Expected notions named in the vocabulary gaps of one criterion (more is noise to the reader).
VOCABULARY_GAP_TERMS = 5
# Figures, dates, sources or methods quoted as examples in "Présent".
PRESENT_EXAMPLES = 3
# Precision signals whose absence is a gap when some evidence exists.
GAP_SIGNALS: tuple[GapKind, ...] = ("figures", "dates", "sources")


class OfflineDrafter:
    name = "offline"

    def __init__(self, model: LevelModel | None = None, embedder: str | None = None) -> None:
        self.model = model  # None: the referentiel's model for the module, looked up per call
        self.embedder = embedder  # the embedder retrieval uses (None: not known, not checked)

    def draft_all(
        self, dossier: Dossier, ref: Referentiel, module: str, hits: dict[str, list[Hit]]
    ) -> dict[str, CriterionDraft]:
        model = self.model or level_model_for(ref, module)
        evidence_min = model.evidence_min if model else EVIDENCE_MIN_DEFAULT
        idf = idf_over(hits)
        non_content = NonContent.of(dossier)
        criteria = ref.criteria_for(module)
        per = {c.id: criterion_features(ref, c, hits.get(c.id, []), idf, non_content, evidence_min) for c in criteria}
        add_dossier_features(ref, hits, per)
        evidence = choose_evidence({c.id: per[c.id].shown for c in criteria}, evidence_min)
        search = DossierSearch(dossier)
        drafts = {
            c.id: draft_criterion(ref, c, hits.get(c.id, []), per[c.id], evidence[c.id], model, search)
            for c in criteria
        }
        if model is not None and not model.fits(self.embedder):
            for d in drafts.values():
                _uncalibrated(d, model, self.embedder)
        return drafts


def draft_criterion(
    ref: Referentiel,
    criterion: Criterion,
    hits: list[Hit],
    feats: CriterionFeatures,
    evidence: list[Evidence],
    model: LevelModel | None,
    search: DossierSearch,
) -> CriterionDraft:
    t0 = time.perf_counter()
    scale = ref.scale
    level: int | None = None
    score: float | None = None
    confidence = CONFIDENCE_NO_EVIDENCE
    if model is not None:
        score = model.score(feats.values, criterion.id)
        level = model.level(score, scale.min_level, scale.max_level) if evidence else scale.min_level
        confidence = model.confidence(score) if evidence else model.no_evidence_confidence
    gaps = _gaps(ref, feats, evidence, hits, search)
    flags = [] if model else ["pas de niveau suggéré : aucun modèle de niveau ajusté pour ce module (preuves seules)"]
    return CriterionDraft(
        criterion_id=criterion.id,
        level=level,
        confidence=confidence,
        rationale=_rationale(ref, feats, evidence, level, model.criterion_offsets.get(criterion.id) if model else None),
        present=_present(ref, evidence, hits),
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


def _uncalibrated(draft: CriterionDraft, model: LevelModel, embedder: str | None) -> None:
    """A level scored on similarities of another embedder than the model was fitted with: kept as
    an indication, its confidence no more than a draft without evidence, and said so, so that no
    criterion is skimmed on a confidence that means nothing."""
    draft.confidence = min(draft.confidence, model.no_evidence_confidence)
    draft.flags.append(
        f"niveau indicatif : le modèle de niveau a été ajusté avec l’embedder {model.embedder}, "
        f"la recherche utilise {embedder} ; confiance non calibrée, lire attentivement"
    )


def _labels(ref: Referentiel, feats: CriterionFeatures) -> list[str]:
    return [ref.vocabulary.signal_labels[k] for k, v in feats.signals.items() if v]


def _examples(rx: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(" ".join(m.group(0).split()) for m in rx.finditer(text)))[:PRESENT_EXAMPLES]


def _present(ref: Referentiel, evidence: list[Evidence], hits: list[Hit]) -> list[str]:
    """What this criterion's own quotes show: where, and the figures, dates, sources, methods they hold."""
    if not evidence:
        return []
    labels = ref.vocabulary.signal_labels
    patterns = signal_patterns(ref.vocabulary)
    quotes = " ".join(e.quote for e in evidence)
    sections = list(dict.fromkeys(e.section for e in evidence))
    present = ["Traité dans : " + " ; ".join(sections[:3])]
    generic = {w.lower() for w in ref.vocabulary.generic_sources}
    for key in ("figures", "dates", "sources", "methods"):
        found = _examples(getattr(patterns, key), quotes)
        if key == "sources":  # "étude", "rapport" say a source may be there; only named ones are shown
            found = [x for x in found if x.lower() not in generic]
        if found:
            present.append(f"{labels[key].capitalize()} : " + ", ".join(f"« {x} »" for x in found))
    chunks = {e.chunk_id for e in evidence}
    if any("table" in h.chunk.kinds for h in hits if h.chunk.id in chunks):
        present.append(f"{labels['tables'].capitalize()} parmi les passages cités")
    return present


def _gaps(
    ref: Referentiel, feats: CriterionFeatures, evidence: list[Evidence], hits: list[Hit], search: DossierSearch
) -> list[Gap]:
    labels = ref.vocabulary.signal_labels
    gaps: list[Gap] = []
    if not evidence:
        nearest = [
            GapMention(page=h.chunk.pages[0] if h.chunk.pages else None, section=h.chunk.section_label)
            for h in hits[:1]
        ]
        gaps.append(
            Gap(
                text="Aucun passage du dossier ne traite clairement ce critère"
                + (f" ; le plus proche : {where(nearest)}." if nearest else "."),
                kind="no_evidence",
                mentioned=nearest,
            )
        )
    if feats.missing_indicators and feats.values["coverage"] < VOCABULARY_GAP_BELOW:
        quoted = stems(" ".join(e.quote for e in evidence))
        absent: list[str] = []
        for term in feats.missing_indicators:
            if len(absent) + len(gaps) > VOCABULARY_GAP_TERMS:
                break
            if stems(term) <= quoted:  # the criterion's own quotes hold it: no gap
                continue
            places = search.places(term)
            if places:
                gaps.append(
                    Gap(
                        text=f"« {term} » : mentionné {where(places)}, non développé pour ce critère.",
                        kind="vocabulary",
                        terms=[term],
                        mentioned=places,
                    )
                )
            else:
                absent.append(term)
        if absent:
            gaps.append(
                Gap(
                    # only the words were searched for: a dossier in its own words may treat the notion
                    text="Termes du critère absents du dossier (le sujet peut y être traité en d’autres mots) : "
                    + ", ".join(absent)
                    + ".",
                    kind="vocabulary",
                    terms=absent,
                )
            )
    if evidence:
        quotes = " ".join(e.quote for e in evidence)
        patterns = signal_patterns(ref.vocabulary)
        for key in GAP_SIGNALS:
            if (
                not feats.signals[key]
                and not getattr(patterns, key).search(quotes)
                and not patterns.loosely_found(key, quotes)
            ):
                gaps.append(Gap(text=f"Pas de {labels[key]} à l’appui.", kind=key))
    return gaps


def _rationale(
    ref: Referentiel, feats: CriterionFeatures, evidence: list[Evidence], level: int | None, offset: float | None
) -> str:
    found = ", ".join(_labels(ref, feats)) or "aucun"
    conclusion = (
        f"Niveau suggéré : {level} ({ref.scale.label(level)})."
        if level is not None
        else "Pas de niveau suggéré (preuves seules) : à évaluer par l’évaluateur."
    )
    v = feats.values
    qualities = ", ".join(
        f"{name} {round(v.get(key, 0.0) * EVIDENCE_SENTENCES)}"
        for key, name in (
            ("ev_quantified", "chiffrées"),
            ("ev_justified", "justifiées"),
            ("ev_reasoned", "argumentées"),
            ("ev_generic", "génériques"),
        )
    )
    prior = ""
    if level is not None and offset is not None and abs(offset) >= OFFSET_SAID:
        way = "plus bas" if offset < 0 else "plus haut"
        shift = f"{offset:+.2f}".replace(".", ",").replace("-", "−")
        prior = (
            f" Sur les dossiers annotés, ce critère a été noté {way} que ses passages ne le laissaient penser ; "
            f"le niveau suggéré en tient compte (ajustement de {shift} sur l’échelle des niveaux)."
        )
    return (
        f"Pré-lecture automatique (sans modèle génératif), à confirmer par l’évaluateur : "
        f"{len(evidence)} passage(s) retenu(s) ; couverture du vocabulaire du critère {v['coverage']:.0%} ; "
        f"indices de précision : {found} ; meilleures phrases (sur {EVIDENCE_SENTENCES}) : {qualities}. "
        f"{conclusion}{prior}"
    )
