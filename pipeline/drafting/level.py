"""The offline level model: a linear score over the drafter's features, cut into levels.

Fitted per (referentiel, module) by `evals/fit_offline.py` on the dev split only and stored
beside the referentiel (`level_models` in its YAML). A module without a fitted model gets
evidence only and no suggested level: a model fitted on other criteria is never borrowed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.drafting.features import FEATURES
from pipeline.errors import ReferentielError
from pipeline.referentiel import Referentiel

# Confidence from the distance of the score to the nearest cut point: at the cut, a coin toss
# between two levels (FLOOR); half a level away or more, the most the offline drafter claims
# (CEILING): its exact agreement on test is below 0.6, so it never says more than 95 %.
CONFIDENCE_FLOOR = 0.35
CONFIDENCE_CEILING = 0.95
CONFIDENCE_SPAN = 0.5
# Confidence of a draft without any evidence sentence when the model carries no calibration.
CONFIDENCE_NO_EVIDENCE = 0.3
# Calibrated confidences are kept off 0 and 1: a few dozen dev rows per step never justify certainty.
CALIBRATED_FLOOR = 0.05
CALIBRATED_CEILING = 0.97


@dataclass(frozen=True)
class LevelModel:
    id: str
    hash: str
    modules: tuple[str, ...]
    intercept: float
    coefs: dict[str, float]
    thresholds: tuple[float, ...]  # score cut points between consecutive levels
    fitted_on: tuple[str, ...]
    evidence_min: float = 0.25  # least sentence score shown as evidence (fitted with the model)
    # calibration on dev (evals/fit_offline.py): distance to the nearest cut -> P(exact level)
    calibration: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    # the same per level the score falls in (an interior level between two close cuts is right less
    # often than an extreme one at the same distance); levels missing here use `calibration`
    calibration_by_level: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)
    no_evidence_confidence: float = CONFIDENCE_NO_EVIDENCE
    # the embedder whose similarities the model was fitted on (None: a model from before it was recorded)
    embedder: str | None = None
    # per-criterion offsets of the score (fitted with the model, shrunk by its ridge): how much lower
    # or higher dev dossiers were marked on this criterion than their features alone say (C6.6, a
    # method transposable to a new activity, is rarely done; empty: no offsets)
    criterion_offsets: dict[str, float] = field(default_factory=dict)

    def fits(self, embedder: str | None) -> bool:
        """Whether the model's scores mean what they were fitted to mean with this embedder: the
        dense features are similarities, and another embedder puts them on another scale."""
        return self.embedder is None or embedder is None or embedder == self.embedder

    @property
    def label(self) -> str:
        return f"{self.id} ({self.hash[:12]})"

    def score(self, feats: dict[str, float], criterion_id: str | None = None) -> float:
        offset = self.criterion_offsets.get(criterion_id, 0.0) if criterion_id else 0.0
        return self.intercept + offset + sum(self.coefs.get(k, 0.0) * feats.get(k, 0.0) for k in FEATURES)

    def level(self, score: float, min_level: int, max_level: int) -> int:
        return max(min_level, min(max_level, min_level + sum(score >= t for t in self.thresholds)))

    def confidence(self, score: float) -> float:
        """Probability that the level is exactly right: calibrated on dev when the model carries a
        calibration, else a rough ramp on the distance to the nearest cut point."""
        gap = min((abs(score - t) for t in self.thresholds), default=CONFIDENCE_SPAN)
        step = sum(score >= t for t in self.thresholds)
        calibration = self.calibration_by_level.get(step, self.calibration)
        if calibration is not None:
            margins, probs = calibration
            p = float(np.interp(gap, margins, probs))
            return round(min(max(p, CALIBRATED_FLOOR), CALIBRATED_CEILING), 2)
        span = CONFIDENCE_CEILING - CONFIDENCE_FLOOR
        return round(min(CONFIDENCE_CEILING, CONFIDENCE_FLOOR + span * min(1.0, gap / CONFIDENCE_SPAN)), 2)


@lru_cache(maxsize=8)
def _read(path: Path) -> LevelModel:
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
        cal = data.get("calibration")
        return LevelModel(
            id=str(data.get("id", path.stem)),
            hash=hashlib.sha256(raw).hexdigest(),
            modules=tuple(data.get("modules", [])),
            intercept=float(data["intercept"]),
            coefs={k: float(v) for k, v in data["coefs"].items()},
            thresholds=tuple(float(t) for t in data["thresholds"]),
            fitted_on=tuple(data.get("fitted_on", [])),
            evidence_min=float(data.get("evidence_min", 0.25)),
            calibration=(tuple(cal["margin"]), tuple(cal["p_exact"])) if cal else None,
            calibration_by_level={
                int(k): (tuple(v["margin"]), tuple(v["p_exact"]))
                for k, v in ((cal or {}).get("by_level") or {}).items()
            },
            no_evidence_confidence=float((cal or {}).get("no_evidence_p_exact") or CONFIDENCE_NO_EVIDENCE),
            embedder=str(data["embedder"]) if data.get("embedder") else None,
            criterion_offsets={k: float(v) for k, v in (data.get("criterion_offsets") or {}).items()},
        )
    except (ValueError, KeyError, TypeError) as e:
        raise ReferentielError(
            f"{path}: invalid level model: {e}", f"{path} : modèle de niveau invalide ({e}). Réajustez-le."
        ) from e


def level_model_for(ref: Referentiel, module: str) -> LevelModel | None:
    """The level model fitted for this referentiel and module, or None (evidence-only mode)."""
    path = ref.level_model_path(module)
    if path is None:
        return None
    if not path.is_file():
        raise ReferentielError(
            f"{path}: level model file not found",
            f"Modèle de niveau introuvable : {path}. Réajustez-le (python -m evals.fit_offline) ou retirez "
            f"`level_models.{module}` du référentiel.",
        )
    model = _read(path)
    if model.modules and module not in model.modules:
        raise ReferentielError(
            f"{path}: fitted for {model.modules}, not {module}",
            f"Le modèle de niveau {path.name} a été ajusté pour {', '.join(model.modules)}, pas pour {module}.",
        )
    return model
