"""Drafting backends behind the `Drafter` protocol: offline (default) and OpenAI-compatible."""

from __future__ import annotations

from typing import Protocol

from pipeline.referentiel import Referentiel
from pipeline.types import CriterionDraft, Dossier, Hit


class Drafter(Protocol):
    name: str

    def draft_all(
        self, dossier: Dossier, ref: Referentiel, module: str, hits: dict[str, list[Hit]]
    ) -> dict[str, CriterionDraft]: ...
