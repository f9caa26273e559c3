"""Dossier-level features of the offline level model (issue 13): the share of retrieved sentences
that weigh options, scenarios or hypotheses (`doc_reasoning`, from the vocabulary's
`reasoning_patterns`), the same for every criterion of the dossier."""

from __future__ import annotations

import json

from pipeline.drafting.features import MAX_REASONING_SHARE, CriterionFeatures, add_dossier_features
from pipeline.referentiel import load_referentiel
from pipeline.types import Chunk, Hit

REF = load_referentiel()

DESCRIPTIVE = (
    "L’entreprise vend des fenêtres en bois et en aluminium dans le pays de Caux. "
    "Elle emploie cinquante salariés et réalise un chiffre d’affaires de huit millions d’euros. "
    "Les clients sont des particuliers et des artisans du bâtiment de la région. "
)
ARGUED = (
    "Deux scénarios ont été comparés : ouvrir un second dépôt ou renforcer la vente en ligne. "
    "Nous retenons la vente en ligne plutôt que le dépôt, car l’investissement est trois fois moindre. "
    "L’hypothèse de croissance de 4 % repose sur les permis de construire de la région. "
)


def _reasoning(text: str) -> float:
    chunk = Chunk(id="c1", dossier_sha256="0" * 64, index=0, text=text, section=["Stratégie"], start=0, end=len(text))
    hits = {"C1.1": [Hit(chunk=chunk, rank=1, fused_score=1.0, dense_score=0.9)]}
    per = {"C1.1": CriterionFeatures(values={"dense_top3": 0.9}), "C1.2": CriterionFeatures(values={"dense_top3": 0.8})}
    add_dossier_features(REF, hits, per)
    assert per["C1.1"].values["doc_reasoning"] == per["C1.2"].values["doc_reasoning"]  # one value per dossier
    return per["C1.1"].values["doc_reasoning"]


def test_an_argued_dossier_reads_higher_than_a_descriptive_one() -> None:
    assert _reasoning(DESCRIPTIVE) == 0.0
    # three sentences, each weighing options or resting on a hypothesis: the share saturates
    assert _reasoning(ARGUED) == 1.0
    half = _reasoning(DESCRIPTIVE + ARGUED.split(". ")[0] + ".")
    assert 0.0 < half < 1.0 and abs(half - min(1 / 4, MAX_REASONING_SHARE) / MAX_REASONING_SHARE) < 1e-9


def test_the_reasoning_words_are_data() -> None:
    assert REF.vocabulary.reasoning_patterns, "fr-business.yaml lists the marks of an argued choice"
    model = REF.level_model_path("M1")
    assert model is not None
    assert "doc_reasoning" in json.loads(model.read_text(encoding="utf-8"))["coefs"]


def test_a_broken_pattern_in_the_vocabulary_is_refused_at_load() -> None:
    import pytest

    from pipeline.referentiel import Vocabulary

    for field in ("roadmap_patterns", "reasoning_patterns"):
        data = REF.vocabulary.model_dump()
        data[field] = ["(plutôt que"]
        with pytest.raises(ValueError, match=f"{field}: invalid regex"):
            Vocabulary.model_validate(data)
