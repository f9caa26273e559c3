"""The certification referentiel as validated data: load `referentiel/*.yaml`.

A referentiel file holds blocs, activities, competencies with their criteria and the
evaluation modalities; the mark scale and the competency rule live in a separate scale
file so an organisation can swap them without touching the criteria. Indicator phrases
(retrieval vocabulary per criterion) live in a third file.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import ReferentielError
from pipeline.resources import resource_dir

_CRITERION_ID = re.compile(r"^C(\d+)\.(\d+)$")
_M = TypeVar("_M", bound="_Strict")
# a competency's position density is given at this many evenly spaced points, from a dossier's
# start (0) to its end (1)
POSITION_GRID_POINTS = 41


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


def full_label(preamble: str | None, text: str) -> str:
    """A criterion's full official wording: the shared preamble, then its own text."""
    return f"{preamble} {text}" if preamble else text


class Criterion(_Strict):
    id: str = Field(pattern=r"^C\d+\.\d+$")
    text: str = Field(description="Full verbatim text of the official criterion.")
    preamble: str | None = Field(
        default=None, description="Shared opening sentence (C4, C13.3-C13.6), shown before the text."
    )

    @property
    def competency_id(self) -> str:
        return self.id.split(".")[0]

    @property
    def label(self) -> str:
        """The full official wording: the shared preamble, then the criterion's own text."""
        return full_label(self.preamble, self.text)


class Competency(_Strict):
    id: str = Field(pattern=r"^C\d+$")
    bloc: str
    statement: str = Field(description="Full verbatim statement of the competency.")
    criteria: list[Criterion]


class ExpectedContent(_Strict):
    text: str = Field(description="What the candidate is expected to do, e.g. 'propose une organisation ...'.")
    competencies: list[str]


class Modality(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,7}$", description="Module id (M1, E2...): upper case, at most 8.")
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


class Signals(_Strict):
    figure_units: list[str] = Field(description="Units that make a number a figure ('%', 'k€', 'clients?').")
    date_words: list[str] = Field(description="Words that date a statement, besides four-digit years.")
    sources: list[str] = Field(description="Named sources of information.")
    methods: list[str] = Field(description="Named analysis methods or management tools.")


class AdviceHint(_Strict):
    keys: list[str] = Field(description="Lower-case word starts that call for this advice.")
    advice: str


GAP_KINDS = ("no_evidence", "vocabulary", "figures", "dates", "sources", "methods", "other")


class Vocabulary(_Strict):
    """Domain vocabulary (signals of precision, advice texts, words that are not names): data, not code."""

    id: str
    title: str
    signals: Signals
    signal_labels: dict[str, str] = Field(description="Signal key -> how it is named to the reader.")
    roadmap_patterns: list[str] = Field(description="Regexes of sentences that announce content rather than hold it.")
    frame_sections: list[str] = Field(description="Section titles that frame the dossier (introduction...).")
    gap_advice: dict[str, str] = Field(description="Gap kind -> advice; {terms} and {text} are filled in.")
    advice_hints: list[AdviceHint] = Field(default_factory=list)
    not_person_words: list[str] = Field(default_factory=list)
    generic_sources: list[str] = Field(
        default_factory=list, description="Source words that name no source ('étude'): not quoted as examples."
    )
    reasoning_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes of an argued choice: alternatives weighed, scenarios, hypotheses, comparisons.",
    )
    justification_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes of a justified statement: a cause, a purpose, a condition or a consequence given.",
    )
    generic_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes of a generic, textbook or prescriptive statement (what any company should do).",
    )
    gap_checks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Signal key -> regexes that also count before 'no figures / no dates' is said of a "
        "criterion's evidence (a counted quantity, a time in the plan); looser than `signals`, which feed "
        "the fitted level model.",
    )
    number_labels: list[str] = Field(
        default_factory=list,
        description="Words whose number names a thing rather than counts one ('Tableau 3', 'Phase 2').",
    )

    @model_validator(mode="after")
    def _complete(self) -> Vocabulary:
        missing = [k for k in GAP_KINDS if k not in self.gap_advice]
        if missing:
            raise ValueError(f"gap_advice: no advice for gap kinds {missing}")
        for key in ("figures", "dates", "sources", "methods", "tables"):
            if key not in self.signal_labels:
                raise ValueError(f"signal_labels: no label for {key!r}")
        patterned = ("roadmap_patterns", "reasoning_patterns", "justification_patterns", "generic_patterns")
        checked = [(f, rx) for f in patterned for rx in getattr(self, f)]
        checked += [(f"gap_checks.{k}", rx) for k, rxs in self.gap_checks.items() for rx in rxs]
        for field_name, rx in checked:
            try:
                re.compile(rx)
            except re.error as e:
                raise ValueError(f"{field_name}: invalid regex {rx!r}: {e}") from e
        unknown = set(self.gap_checks) - {"figures", "dates", "sources", "methods"}
        if unknown:
            raise ValueError(f"gap_checks: unknown signal keys {sorted(unknown)}")
        return self


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
    plain: dict[str, str] = Field(
        default_factory=dict,
        description="Criterion id -> the criterion said as a candidate writes that part of a dossier, in everyday "
        "words without the referentiel's jargon: a further retrieval query.",
    )
    positions: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Competency id -> where in a dossier its evidence lies: a density over the dossier's relative "
        "position (POSITION_GRID_POINTS values from its start to its end), fitted on labelled dev dossiers "
        "(evals/fit_positions.py); a retrieval prior. Empty: no prior.",
    )
    vocabulary: Vocabulary
    level_models: dict[str, str] = Field(
        default_factory=dict,
        description="Module -> offline level model file (relative to the referentiel folder); a module "
        "without one gets evidence only, no suggested level.",
    )
    folder: str = Field(
        default="", exclude=True, description="Folder the referentiel was loaded from (not part of its identity)."
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
        for field_name, keyed in (("indicators", self.indicators), ("plain", self.plain)):
            for crit_id in keyed:
                if crit_id not in set(crit_ids):
                    raise ValueError(f"{field_name}: unknown criterion {crit_id!r}")
        for comp_id, density in self.positions.items():
            if comp_id not in known:
                raise ValueError(f"positions: unknown competency {comp_id!r}")
            if len(density) != POSITION_GRID_POINTS or min(density) < 0:
                raise ValueError(
                    f"positions: {comp_id} needs {POSITION_GRID_POINTS} non-negative densities, has {len(density)}"
                )
        modules = {m.id for m in self.modalities}
        for mod in self.level_models:
            if mod not in modules:
                raise ValueError(f"level_models: unknown module {mod!r}")
        return self

    @property
    def ref(self) -> str:
        """`id@version`, as recorded with every run."""
        return f"{self.id}@{self.version}"

    @cached_property
    def snapshot(self) -> dict[str, object]:
        """The whole referentiel as JSON data: what a run stores so that it always reloads its own."""
        return self.model_dump(mode="json")

    @cached_property
    def snapshot_hash(self) -> str:
        canonical = json.dumps(self.snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def level_model_path(self, module: str) -> Path | None:
        """The fitted level model file of a module, or None (evidence-only mode)."""
        rel = self.level_models.get(self.modality(module).id)
        if rel is None or not self.folder:
            return None
        return Path(self.folder) / rel

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
        # libyaml's safe loader when PyYAML was built with it: same data, a tenth of the time
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
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


DEFAULT_REFERENTIEL = "mdc-2023"


def bundled_referentiels() -> dict[str, Path]:
    """Referentiels shipped with the package: id (file stem) -> file."""
    return {p.stem: p for p in sorted(resource_dir("referentiel").glob("*.yaml"))}


def resolve_referentiel(spec: str | Path | None = None) -> Referentiel:
    """The referentiel named by a setting: a bundled id (`mdc-2023`, optionally `@version`) or a YAML path."""
    spec = str(spec or DEFAULT_REFERENTIEL)
    bundled = bundled_referentiels()
    ident, _, version = spec.partition("@")
    if ident in bundled:
        ref = load_referentiel(bundled[ident])
    elif spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        ref = load_referentiel(Path(spec))
    else:
        known = ", ".join(bundled) or "aucun"
        raise ReferentielError(
            f"unknown referentiel {spec!r}; bundled: {known}",
            f"Référentiel inconnu « {spec} » : indiquez un référentiel fourni ({known}) ou le chemin d’un "
            "fichier YAML (réglage DOSSIER_REVIEW_REFERENTIEL).",
        )
    if version and version != ref.version:
        raise ReferentielError(
            f"referentiel {ident} is version {ref.version}, not {version}",
            f"Le référentiel {ident} fourni est en version {ref.version}, pas {version}.",
        )
    return ref


def referentiel_from_snapshot(data: dict[str, object]) -> Referentiel:
    """A referentiel as stored with a run (validated again: a stored snapshot is data like any other)."""
    try:
        return Referentiel.model_validate(data)
    except ValidationError as e:
        msg = f"stored referentiel snapshot: {_describe(e, data)}"
        raise ReferentielError(msg, f"Référentiel enregistré invalide — {msg}") from e


def _validated(model: type[_M], path: Path, what: str) -> _M:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        msg = f"{path}: {_describe(e, data)}"
        raise ReferentielError(msg, f"{what} invalide — {msg}") from e


def load_referentiel(
    path: Path | None = None, scale_path: Path | None = None, indicators_path: Path | None = None
) -> Referentiel:
    """Load and validate a referentiel; any problem raises ReferentielError naming file, entry and problem."""
    path = path or bundled_referentiels()[DEFAULT_REFERENTIEL]
    data = _read_yaml(path)
    scale_file = scale_path or (path.parent / str(data.pop("scale_file", "scales/default.yaml")))
    ind_file = indicators_path or (path.parent / str(data.pop("indicators_file", f"indicators/{path.stem}.yaml")))
    voc_file = path.parent / str(data.pop("vocabulary_file", "vocabulary/fr-business.yaml"))
    plain_file = path.parent / str(data.pop("plain_file", f"plain/{path.stem}.yaml"))
    positions_file = path.parent / str(data.pop("positions_file", f"positions/{path.stem}.json"))
    scale = _validated(Scale, scale_file, "Échelle")
    vocabulary = _validated(Vocabulary, voc_file, "Vocabulaire")
    indicators: dict[str, object] = _read_yaml(ind_file) if ind_file.exists() else {}
    plain: dict[str, object] = _read_yaml(plain_file) if plain_file.exists() else {}
    positions: object = {}
    if positions_file.exists():
        try:
            positions = json.loads(positions_file.read_text(encoding="utf-8")).get("density", {})
        except (ValueError, AttributeError) as e:
            msg = f"{positions_file}: not a positions file ({e})"
            raise ReferentielError(msg, f"Référentiel invalide — {msg}") from e
    try:
        return Referentiel.model_validate(
            {
                **data,
                "scale": scale,
                "indicators": indicators,
                "plain": plain,
                "positions": positions,
                "vocabulary": vocabulary,
                "folder": str(path.parent),
            }
        )
    except ValidationError as e:
        bad = _describe(e, data)
        by_field = {"indicators": ind_file, "plain": plain_file, "positions": positions_file}
        bad_file = next((f for name, f in by_field.items() if bad.startswith(name)), path)
        msg = f"{bad_file}: {bad}"
        raise ReferentielError(msg, f"Référentiel invalide — {msg}") from e
