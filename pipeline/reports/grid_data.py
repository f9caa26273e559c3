"""The data every assessor-facing document is rendered from, assembled from the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from pipeline.db.store import ReviewStore
from pipeline.referentiel import Bloc, Referentiel, Vocabulary, full_label
from pipeline.types import Gap


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceRef(_M):
    quote: str
    page: int | None = None
    section: str = ""
    to_verify: bool = Field(default=False, description="Quote from a passage that may be misread (see Evidence).")


class CriterionLine(_M):
    id: str
    preamble: str | None
    text: str = Field(description="Official criterion text.")
    suggested_level: int | None
    suggested_label: str | None
    suggestion_status: str
    confirmed_level: int | None = None
    confirmed_label: str | None = None
    comment: str = ""
    assessor: str | None = None
    decided_at: dt.datetime | None = None
    agreed: bool | None = None
    evidence: list[EvidenceRef] = Field(default_factory=list)
    present: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    rationale: str = ""

    @property
    def label(self) -> str:
        """The full official wording: the shared preamble, then the criterion's own text."""
        return full_label(self.preamble, self.text)


class CompetencyBlock(_M):
    id: str
    statement: str
    suggested_verdict: str
    confirmed_verdict: str | None
    criteria: list[CriterionLine]


class BlocLine(_M):
    id: str
    title: str
    result: str | None = Field(default=None, description="validé / non validé once every competency is confirmed.")


class GridDoc(_M):
    referentiel_title: str
    referentiel_version: str
    scale: list[tuple[int, str, str]] = Field(description="(level, label, meaning)")
    vocabulary: Vocabulary = Field(description="The referentiel's vocabulary (advice texts for the feedback).")
    module: str
    module_title: str
    run_id: str
    dossier_id: str
    file_name: str
    candidate_ref: str
    reviewed_at: dt.datetime
    backend: str
    warnings: list[str]
    manipulation_passages: list[str]
    competencies: list[CompetencyBlock]
    self_check: bool = Field(default=False, description="A candidate's own draft: formative use only.")
    blocs: list[BlocLine] = Field(default_factory=list, description="The blocs the module's competencies belong to.")
    rule: str = Field(default="", description="The competency rule, stated in French.")
    acquired_min_level: int | None = Field(default=None, description="The rule's level: a criterion below it fails.")
    bloc_rule: str = Field(default="", description="The bloc rule, stated in French.")
    session: str = Field(default="", description="The certification session's name, when the dossier is in one.")
    markers: list[str] = Field(
        default_factory=list, description="Assessors of a session dossier (double marking: two)."
    )
    moderators: list[str] = Field(default_factory=list, description="Who settled double-marking disagreements.")
    locked: bool
    finalized_by: str | None
    finalized_at: dt.datetime | None


def build_grid_doc(store: ReviewStore, run_id: str) -> GridDoc:
    """The grid of a run, under the referentiel the run was made with."""
    run = store.run(run_id)
    ref = store.referentiel(run_id)
    review = store.review(run_id)
    dossier = store.dossier(run.dossier_id)
    grid = store.grid(run_id)
    decisions = store.decisions(run_id)
    comps = []
    for comp in ref.competencies_for(run.module):
        lines = []
        for k in comp.criteria:
            c = review.draft(k.id)
            d = decisions.get(k.id)
            sl = c.level if c else None
            lines.append(
                CriterionLine(
                    id=k.id,
                    preamble=k.preamble,
                    text=k.text,
                    suggested_level=sl,
                    suggested_label=ref.scale.label(sl) if sl is not None else None,
                    suggestion_status=c.status if c else "à revoir",
                    confirmed_level=d.level if d else None,
                    confirmed_label=ref.scale.label(d.level) if d else None,
                    comment=d.comment if d else "",
                    assessor=d.assessor if d else None,
                    decided_at=d.decided_at if d else None,
                    agreed=d.agreed if d else None,
                    evidence=[
                        EvidenceRef(quote=e.quote, page=e.page, section=e.section, to_verify=e.to_verify)
                        for e in c.evidence
                    ]
                    if c
                    else [],
                    present=list(c.present) if c else [],
                    missing=list(c.missing) if c else [],
                    gaps=list(c.gaps) if c else [],
                    rationale=c.rationale if c else "",
                )
            )
        suggested = ref.verdict([ln.suggested_level for ln in lines])
        confirmed = (
            ref.verdict([ln.confirmed_level for ln in lines])
            if all(ln.confirmed_level is not None for ln in lines)
            else None
        )
        comps.append(
            CompetencyBlock(
                id=comp.id,
                statement=comp.statement,
                suggested_verdict=suggested,
                confirmed_verdict=confirmed,
                criteria=lines,
            )
        )
    modality = ref.modality(run.module)
    comp_verdicts = {c.id: c.confirmed_verdict for c in comps}
    results = bloc_results(ref, run.module, comp_verdicts) if all(comp_verdicts.values()) else {}
    manip = [f.text for f in review.findings if f.kind in ("manipulation", "hidden_text")]
    return GridDoc(
        referentiel_title=ref.title,
        referentiel_version=ref.version,
        scale=[(lv.level, lv.label, lv.meaning) for lv in ref.scale.levels],
        vocabulary=ref.vocabulary,
        module=run.module,
        module_title=f"{modality.title} — {modality.subtitle}",
        run_id=run.id,
        dossier_id=dossier.id,
        file_name=dossier.file_name,
        candidate_ref=dossier.candidate_ref,
        reviewed_at=run.created_at,
        backend=review.provenance.backend,
        warnings=list(review.warnings),
        manipulation_passages=manip,
        self_check=dossier.kind == "self_check",
        competencies=comps,
        blocs=[BlocLine(id=b.id, title=b.title, result=results.get(b.id)) for b in module_blocs(ref, run.module)],
        rule=rule_text(ref),
        acquired_min_level=ref.scale.rule.acquired_min_level,
        bloc_rule=bloc_rule_text(run.module),
        locked=grid.locked,
        finalized_by=grid.finalized_by,
        finalized_at=grid.finalized_at,
    )


def rule_text(ref: Referentiel) -> str:
    """The competency rule of the referentiel's scale, as the jury reads it."""
    n = ref.scale.rule.acquired_min_level
    return (
        f"Une compétence est acquise lorsque aucun de ses critères n’est noté en dessous de {n} "
        f"({ref.scale.label(n)}) ; sinon elle est non acquise."
    )


def bloc_rule_text(module: str) -> str:
    return f"Le bloc est validé lorsque toutes ses compétences évaluées par le module {module} sont acquises."


def module_blocs(ref: Referentiel, module: str) -> list[Bloc]:
    wanted = {c.bloc for c in ref.competencies_for(module)}
    return [b for b in ref.blocs if b.id in wanted]


def bloc_results(ref: Referentiel, module: str, verdicts: Mapping[str, str | None]) -> dict[str, str]:
    """Per bloc of the module: `validé` when every competency of it assessed here is acquise."""
    out = {}
    for b in module_blocs(ref, module):
        comps = [c.id for c in ref.competencies_for(module) if c.bloc == b.id]
        if all(verdicts.get(c) for c in comps):
            out[b.id] = "validé" if all(verdicts[c] == "acquise" for c in comps) else "non validé"
    return out
