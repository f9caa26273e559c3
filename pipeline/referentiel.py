"""The certification referentiel as validated data: load `referentiel/*.yaml`.

A referentiel file holds blocs, activities, competencies with their criteria and the
evaluation modalities; the mark scale and the competency rule live in a separate scale
file so an organisation can swap them without touching the criteria. Indicator phrases
(retrieval vocabulary per criterion) live in a third file.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import ReferentielError
from pipeline.resources import resource_dir

_CRITERION_ID = re.compile(r"^C(\d+)\.(\d+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Activity(_Strict):
    id: str = Field(pattern=r"^A\d+$")
    title: str
    tasks: list[str] = Field(description="The '➢' lines of the activity, verbatim.")
    competencies: list[str] = Field(description="Competency ids this activity leads to.")


class Bloc(_Strict):
    id: str = Field(pattern=r"^B\d+$")
    title: str
    activities: list[Activity]


class Criterion(_Strict):
    id: str = Field(pattern=r"^C\d+\.\d+$")
    text: str = Field(description="Full verbatim text of the official criterion.")
    preamble: str | None = Field(
        default=None, description="Shared opening sentence (C4, C13.3-C13.6), shown before the text."
    )

    @property
    def competency_id(self) -> str:
        return self.id.split(".")[0]


class Competency(_Strict):
    id: str = Field(pattern=r"^C\d+$")
    bloc: str
    statement: str = Field(description="Full verbatim statement of the competency.")
    criteria: list[Criterion]


class ExpectedContent(_Strict):
    text: str = Field(description="What the candidate is expected to do, e.g. 'propose une organisation ...'.")
    competencies: list[str]


class Modality(_Strict):
    id: str = Field(pattern=r"^M\d+$")
    title: str
    subtitle: str
    description: str
    competencies: list[str]
    expected_contents: list[ExpectedContent]


class ScaleLevel(_Strict):
    level: int
    label: str
    meaning: str


class CompetencyRule(_Strict):
    kind: Literal["min_level"] = "min_level"
    acquired_min_level: int = Field(description="A competency is acquired when no criterion is below this level.")


class Scale(_Strict):
    id: str
    title: str
    levels: list[ScaleLevel]
    rule: CompetencyRule

    @model_validator(mode="after")
    def _contiguous(self) -> Scale:
        got = [lv.level for lv in self.levels]
        if not got or got != list(range(got[0], got[0] + len(got))):
            raise ValueError(f"levels must be contiguous and increasing, got {got}")
        if not got[0] <= self.rule.acquired_min_level <= got[-1]:
            raise ValueError(f"rule.acquired_min_level {self.rule.acquired_min_level} is not a level")
        return self

    @property
    def min_level(self) -> int:
        return self.levels[0].level

    @property
    def max_level(self) -> int:
        return self.levels[-1].level

    def label(self, level: int) -> str:
        for lv in self.levels:
            if lv.level == level:
                return lv.label
        raise KeyError(level)


class Referentiel(_Strict):
    id: str
    title: str
    version: str
    source: str = Field(description="Path of the official source text, relative to the referentiel folder.")
    expected_counts: dict[str, int] = Field(description="Number of criteria per competency, checked at load.")
    blocs: list[Bloc]
    competencies: list[Competency]
    modalities: list[Modality]
    scale: Scale
    indicators: dict[str, list[str]] = Field(
        default_factory=dict, description="Criterion id -> indicator phrases used to build retrieval queries."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Referentiel:
        comp_ids = [c.id for c in self.competencies]
        _unique(comp_ids, "competency")
        crit_ids = [k.id for c in self.competencies for k in c.criteria]
        _unique(crit_ids, "criterion")
        _unique([b.id for b in self.blocs], "bloc")
        _unique([a.id for b in self.blocs for a in b.activities], "activity")
        _unique([m.id for m in self.modalities], "modality")
        known = set(comp_ids)
        blocs = {b.id for b in self.blocs}
        for comp in self.competencies:
            if comp.bloc not in blocs:
                raise ValueError(f"competency {comp.id}: unknown bloc {comp.bloc!r}")
            for crit in comp.criteria:
                if crit.competency_id != comp.id:
                    raise ValueError(f"criterion {crit.id} is listed under competency {comp.id}")
            want = self.expected_counts.get(comp.id)
            if want is None:
                raise ValueError(f"competency {comp.id}: no expected count in expected_counts")
            if want != len(comp.criteria):
                raise ValueError(f"competency {comp.id}: {len(comp.criteria)} criteria, expected {want}")
        for b in self.blocs:
            for a in b.activities:
                for cid in a.competencies:
                    if cid not in known:
                        raise ValueError(f"activity {a.id}: unknown competency {cid!r}")
        for m in self.modalities:
            for cid in m.competencies:
                if cid not in known:
                    raise ValueError(f"modality {m.id}: unknown competency {cid!r}")
            for i, item in enumerate(m.expected_contents, 1):
                stray = set(item.competencies) - set(m.competencies)
                if stray:
                    raise ValueError(
                        f"modality {m.id}, expected content #{i}: "
                        f"competencies {sorted(stray)} are not assessed by {m.id}"
                    )
        stray_counts = set(self.expected_counts) - set(comp_ids)
        if stray_counts:
            raise ValueError(f"expected_counts: unknown competencies {sorted(stray_counts)}")
        for crit_id in self.indicators:
            if crit_id not in set(crit_ids):
                raise ValueError(f"indicators: unknown criterion {crit_id!r}")
        return self

    @cached_property
    def criteria_by_id(self) -> dict[str, Criterion]:
        return {k.id: k for c in self.competencies for k in c.criteria}

    def competency(self, comp_id: str) -> Competency:
        for c in self.competencies:
            if c.id == comp_id:
                return c
        raise KeyError(comp_id)

    def modality(self, module: str) -> Modality:
        for m in self.modalities:
            if m.id == module.upper():
                return m
        known = ", ".join(m.id for m in self.modalities)
        raise ReferentielError(
            f"unknown module {module!r}; known: {known}", f"Module inconnu « {module} » ; modules possibles : {known}."
        )

    def competencies_for(self, module: str | None) -> list[Competency]:
        if module is None:
            return list(self.competencies)
        wanted = self.modality(module).competencies
        return [c for c in self.competencies if c.id in wanted]

    def criteria_for(self, module: str | None) -> list[Criterion]:
        return [k for c in self.competencies_for(module) for k in c.criteria]

    def expected_contents_for(self, criterion_id: str) -> list[str]:
        comp = criterion_id.split(".")[0]
        return [e.text for m in self.modalities for e in m.expected_contents if comp in e.competencies]

    def verdict(self, levels: list[int | None]) -> str:
        """Competency verdict under the scale's rule: acquise / non acquise / à vérifier."""
        if not levels or any(lv is None for lv in levels):
            return "à vérifier"
        if all(lv is not None and lv >= self.scale.rule.acquired_min_level for lv in levels):
            return "acquise"
        return "non acquise"


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate {what} id {i!r}")
        seen.add(i)


def _read_yaml(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ReferentielError(f"{path}: file not found", f"{path} : fichier introuvable.") from e
    except yaml.YAMLError as e:
        raise ReferentielError(f"{path}: invalid YAML: {e}", f"{path} : YAML invalide : {e}") from e
    if not isinstance(data, dict):
        raise ReferentielError(f"{path}: expected a mapping at top level", f"{path} : une table est attendue.")
    return data


def _describe(e: ValidationError, data: dict[str, object]) -> str:
    """Name the entry (e.g. `competencies[3] (C4)`) and the problem of the first error."""
    err = e.errors()[0]
    parts: list[str] = []
    node: object = data
    for loc in err["loc"]:
        if isinstance(loc, int) and isinstance(node, list) and loc < len(node):
            node = node[loc]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{loc}]" + (f" ({ident})" if ident else "") if parts else f"[{loc}]"
        else:
            node = node.get(str(loc)) if isinstance(node, dict) else None
            parts.append(str(loc))
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{'.'.join(parts)}: {msg}" if parts else msg


def load_referentiel(
    path: Path | None = None, scale_path: Path | None = None, indicators_path: Path | None = None
) -> Referentiel:
    """Load and validate a referentiel; any problem raises ReferentielError naming file, entry and problem."""
    base = resource_dir("referentiel")
    path = path or base / "mdc-2023.yaml"
    data = _read_yaml(path)
    scale_file = scale_path or (path.parent / str(data.pop("scale_file", "scales/default.yaml")))
    ind_file = indicators_path or (path.parent / str(data.pop("indicators_file", "indicators/mdc-2023.yaml")))
    data.pop("scale_file", None)
    data.pop("indicators_file", None)
    scale_data = _read_yaml(scale_file)
    try:
        scale = Scale.model_validate(scale_data)
    except ValidationError as e:
        msg = f"{scale_file}: {_describe(e, scale_data)}"
        raise ReferentielError(msg, f"Échelle invalide — {msg}") from e
    indicators: dict[str, object] = _read_yaml(ind_file) if ind_file.exists() else {}
    try:
        return Referentiel.model_validate({**data, "scale": scale, "indicators": indicators})
    except ValidationError as e:
        bad = _describe(e, data)
        bad_file = ind_file if bad.startswith("indicators") else path
        msg = f"{bad_file}: {bad}"
        raise ReferentielError(msg, f"Référentiel invalide — {msg}") from e
