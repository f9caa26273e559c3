"""What the pages and the JSON API both do: start a review, show it, decide, finalize, export.

Each function takes rows already authorised by `access`; it never looks an id up by itself.
The response models double as the OpenAPI schema of the JSON API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import HTTPException, UploadFile
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pipeline.db.accounts import UserRow
from pipeline.db.comments import CommentBank
from pipeline.db.models import DossierRow, RunRow
from pipeline.errors import ReferentielError, StorageError
from pipeline.reports.feedback import Feedback, build_feedback, feedback_docx, feedback_html, feedback_json
from pipeline.reports.grid import grid_docx
from pipeline.reports.grid_data import GridDoc, build_grid_doc
from pipeline.reports.review_doc import review_json
from pipeline.types import Block, CriterionDraft, Dossier
from pipeline.web.jobs import JobRow, JobSpec
from pipeline.web.state import WebState
from pipeline.web.uploads import safe_file_name, save_upload


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were written as UTC, and the API says so."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_utc)]


# --- response models ------------------------------------------------------------------------------


class JobOut(_Out):
    id: str
    status: str = Field(description="queued | running | done | failed")
    step: str = Field(description="Current step, in French.")
    percent: int
    file_name: str
    module: str
    error: str | None = Field(description="Why the review failed, in French.")
    run_id: str | None
    url: str | None = Field(description="Page of the finished review.")


class DossierOut(_Out):
    id: str
    file_name: str
    module: str
    kind: str = Field(description="assessment | self_check")
    candidate_ref: str
    uploaded_at: Instant
    run_id: str | None = Field(description="Latest finished review of the dossier.")
    locked: bool | None = Field(default=None, description="Grid finalized (assessment dossiers, for assessors).")


class EvidenceOut(_Out):
    quote: str
    page: int | None
    section: str
    start: int | None = Field(description="Offset of the quote in the dossier text.")
    end: int | None
    why: str
    to_verify: bool = Field(
        default=False, description="From a passage whose characters may be misread: « à vérifier sur le document »."
    )


class DecisionOut(_Out):
    level: int
    label: str
    comment: str
    assessor: str
    decided_at: Instant
    agreed: bool


class CriterionOut(_Out):
    id: str
    competency_id: str
    preamble: str | None
    text: str
    suggested_level: int | None
    suggested_label: str | None
    confidence: float
    doubtful: bool = Field(
        description="To read carefully: no suggested level, 'à revoir', or confidence below `confident_at`."
    )
    status: str
    flags: list[str]
    rationale: str
    present: list[str]
    missing: list[str]
    evidence: list[EvidenceOut]
    decision: DecisionOut | None


class CompetencyOut(_Out):
    id: str
    statement: str
    suggested_verdict: str
    confirmed_verdict: str | None
    criteria: list[str]


class AlertOut(_Out):
    text: str
    detail: str
    page: int | None
    start: int | None
    end: int | None


class ScaleLevelOut(_Out):
    level: int
    label: str
    meaning: str


class ReviewOut(_Out):
    run_id: str
    dossier_id: str
    file_name: str
    module: str
    module_title: str
    candidate_ref: str
    reviewed_at: Instant
    backend: str
    locked: bool
    finalized_by: str | None
    finalized_at: Instant | None
    warnings: list[str] = Field(description="Manipulation and other dossier-level warnings, shown first.")
    alerts: list[AlertOut] = Field(description="Flagged passages (hidden text, instructions to the reviewer).")
    scale: list[ScaleLevelOut]
    competencies: list[CompetencyOut]
    criteria: list[CriterionOut]
    decided: int
    total: int
    confident_at: float = Field(description="Suggestions at or above this confidence may be skimmed.")


class CellOut(_Out):
    text: str
    start: int = Field(description="Offset of the cell's text in the dossier text.")
    end: int


class BlockOut(_Out):
    kind: str
    text: str
    start: int
    end: int
    level: int | None
    page: int | None
    rows: list[list[CellOut]] | None = Field(
        default=None, description="A table's cells row by row, the first row its header, each with its offsets."
    )


class TextPartOut(_Out):
    label: str = Field(description="`Page 3`, or the section title for documents without pages.")
    blocks: list[BlockOut]


class DossierTextOut(_Out):
    file_name: str
    parts: list[TextPartOut]


# --- starting a review ----------------------------------------------------------------------------


async def start_review(
    state: WebState,
    user: UserRow,
    upload: UploadFile,
    module: str,
    candidate_ref: str = "",
    group_id: str | None = None,
    assessor_id: str | None = None,
    password: str | None = None,
) -> JobRow:
    """Save the upload (413/415/400 on the spot), then queue its review for the right owner."""
    if user.role == "trainer":
        raise HTTPException(403, "Les formateurs ne déposent pas de dossier.")
    try:
        module = state.ref.modality(module or "").id
    except ReferentielError as e:
        raise HTTPException(400, e.user_message) from e
    if user.role == "candidate":
        groups = state.accounts.groups_of(user.id)
        spec = JobSpec(
            user_id=user.id,
            actor=user.username,
            kind="self_check",
            module=module,
            file_name="",
            candidate_ref=user.name,
            group_id=groups[0].id if groups else None,
            owner_id=user.id,
        )
    else:
        if group_id and state.accounts.group(group_id) is None:
            raise HTTPException(400, "Groupe inconnu.")
        if user.role == "assessor":
            assessor_id = user.id
        elif assessor_id:
            target = state.accounts.user(assessor_id)
            if target is None or target.role != "assessor":
                raise HTTPException(400, "Évaluateur inconnu.")
        spec = JobSpec(
            user_id=user.id,
            actor=user.username,
            kind="assessment",
            module=module,
            file_name="",
            candidate_ref=" ".join(candidate_ref.split())[:200],
            group_id=group_id or None,
            assessor_id=assessor_id or None,
        )
    name = safe_file_name(upload.filename)
    job_id, target_path = state.jobs.new_upload_path(name)
    try:
        await save_upload(upload, target_path, state.settings)
    except BaseException:
        shutil.rmtree(target_path.parent, ignore_errors=True)
        raise
    spec = dataclasses.replace(spec, file_name=name)
    return state.jobs.submit(job_id, target_path, spec, password=password or None)


def job_out(job: JobRow) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status,
        step=job.step,
        percent=job.percent,
        file_name=job.file_name,
        module=job.module,
        error=job.error,
        run_id=job.run_id,
        url=f"/runs/{job.run_id}" if job.run_id else None,
    )


# --- the review workspace -------------------------------------------------------------------------


def grid_doc(state: WebState, run: RunRow) -> GridDoc:
    return build_grid_doc(state.store, run.id)


def review_out(state: WebState, run: RunRow, dossier: DossierRow) -> ReviewOut:
    doc = grid_doc(state, run)
    review = state.store.review(run.id)
    scale = state.store.referentiel(run.id).scale
    decisions = state.store.decisions(run.id)
    criteria: list[CriterionOut] = []
    comps: list[CompetencyOut] = []
    for block in doc.competencies:
        comps.append(
            CompetencyOut(
                id=block.id,
                statement=block.statement,
                suggested_verdict=block.suggested_verdict,
                confirmed_verdict=block.confirmed_verdict,
                criteria=[c.id for c in block.criteria],
            )
        )
        for line in block.criteria:
            c = review.draft(line.id)
            d = decisions.get(line.id)
            criteria.append(
                CriterionOut(
                    id=line.id,
                    competency_id=block.id,
                    preamble=line.preamble,
                    text=line.text,
                    suggested_level=line.suggested_level,
                    suggested_label=line.suggested_label,
                    confidence=c.confidence if c else 0.0,
                    doubtful=is_doubtful(state, c),
                    status=line.suggestion_status,
                    flags=list(c.flags) if c else [],
                    rationale=line.rationale,
                    present=line.present,
                    missing=line.missing,
                    evidence=[
                        EvidenceOut(**e.model_dump(include=set(EvidenceOut.model_fields)))
                        for e in (c.evidence if c else [])
                    ],
                    decision=DecisionOut(
                        level=d.level,
                        label=scale.label(d.level),
                        comment=d.comment,
                        assessor=d.assessor,
                        decided_at=d.decided_at,
                        agreed=d.agreed,
                    )
                    if d
                    else None,
                )
            )
    alerts: list[AlertOut] = []
    seen: set[tuple[int | None, str]] = set()
    for f in review.findings:  # one passage read as a sentence and as a table cell is listed once
        key = (f.page, " ".join(f.text.split()).casefold())
        if f.kind in ("manipulation", "hidden_text") and key not in seen:
            seen.add(key)
            alerts.append(AlertOut(text=f.text, detail=f.detail, page=f.page, start=f.start, end=f.end))
    return ReviewOut(
        run_id=run.id,
        dossier_id=dossier.id,
        file_name=doc.file_name,
        module=doc.module,
        module_title=doc.module_title,
        candidate_ref=doc.candidate_ref,
        reviewed_at=doc.reviewed_at,
        backend=doc.backend,
        locked=doc.locked,
        finalized_by=doc.finalized_by,
        finalized_at=doc.finalized_at,
        warnings=doc.warnings,
        alerts=alerts,
        scale=[ScaleLevelOut(level=lv, label=lb, meaning=m) for lv, lb, m in doc.scale],
        competencies=comps,
        criteria=criteria,
        decided=sum(1 for c in criteria if c.decision),
        total=len(criteria),
        confident_at=state.settings.confident_at,
    )


def is_doubtful(state: WebState, draft: CriterionDraft | None) -> bool:
    """A suggestion to read carefully (the others may be accepted together after a glance)."""
    return (
        draft is None
        or draft.level is None
        or draft.status == "à revoir"
        or draft.confidence < state.settings.confident_at
    )


def accept_confident(state: WebState, user: UserRow, run: RunRow, criterion_ids: list[str]) -> list[DecisionOut]:
    """Accept the suggested level of each listed confident, undecided criterion: one decision each,
    stored with the assessor. A doubtful or unknown criterion refuses the whole request."""
    review = state.store.review(run.id)
    decided = state.store.decisions(run.id)
    wanted = [c.strip().upper() for c in criterion_ids]
    refused = [c for c in wanted if is_doubtful(state, review.draft(c))]
    if refused:
        raise HTTPException(
            409,
            "Ces critères demandent une lecture attentive et ne peuvent pas être acceptés en lot\u00a0: "
            + ", ".join(refused)
            + ".",
        )
    out = []
    for cid in dict.fromkeys(wanted):
        draft = review.draft(cid)
        if cid in decided or draft is None or draft.level is None:
            continue
        out.append(decide(state, user, run, cid, draft.level, ""))
    return out


def dossier_text(dossier: DossierRow) -> DossierTextOut:
    """The dossier's blocks, grouped by page (PDF) or by top-level section (documents without pages)."""
    parsed = Dossier.model_validate(dossier.parsed) if dossier.parsed else None
    parts: list[TextPartOut] = []
    if parsed is None:
        return DossierTextOut(file_name=dossier.file_name, parts=[])
    by_page = any(b.page is not None for b in parsed.blocks)
    top = min((b.level or 1 for b in parsed.blocks if b.kind == "heading"), default=1)
    current: TextPartOut | None = None
    for b in parsed.blocks:
        if by_page:
            label = f"Page {b.page}" if b.page is not None else (current.label if current else "Début du document")
        elif b.kind == "heading" and (b.level or 1) == top:
            label = b.text[:120]
        else:
            label = current.label if current else "Début du document"
        if current is None or label != current.label or (not by_page and b.kind == "heading" and (b.level or 1) == top):
            current = TextPartOut(label=label, blocks=[])
            parts.append(current)
        current.blocks.append(
            BlockOut(
                kind=b.kind, text=b.text, start=b.start, end=b.end, level=b.level, page=b.page, rows=table_cells(b)
            )
        )
    return DossierTextOut(file_name=dossier.file_name, parts=parts)


def table_cells(block: Block) -> list[list[CellOut]] | None:
    """A table block's cells with their offsets in the dossier text, found in order in the block's
    text (rows on lines, cells joined by ' | '); None when it is not a table or a cell cannot be found
    there (the block is then shown as text, still highlightable)."""
    if block.kind != "table" or not block.rows:
        return None
    out: list[list[CellOut]] = []
    at = 0
    for row in block.rows:
        cells = []
        for cell in row:
            i = block.text.find(cell, at) if cell else at
            if i < 0:
                return None
            at = i + len(cell)
            cells.append(CellOut(text=cell, start=block.start + i, end=block.start + at))
        out.append(cells)
    return out


# --- the comment bank -----------------------------------------------------------------------------


class BankCommentOut(_Out):
    id: str
    criterion_id: str
    text: str


def comment_bank(state: WebState, user: UserRow) -> dict[str, list[BankCommentOut]]:
    """The user's own reusable comments, by criterion."""
    bank = CommentBank(state.store.session).comments(user.id)
    return {
        cid: [BankCommentOut(id=r.id, criterion_id=r.criterion_id, text=r.text) for r in rows]
        for cid, rows in bank.items()
    }


def bank_add(state: WebState, user: UserRow, criterion_id: str, text: str) -> BankCommentOut:
    try:
        r = CommentBank(state.store.session).add(user.id, criterion_id.strip().upper(), text)
    except StorageError as e:
        raise HTTPException(400, e.user_message) from e
    return BankCommentOut(id=r.id, criterion_id=r.criterion_id, text=r.text)


def bank_remove(state: WebState, user: UserRow, comment_id: str) -> None:
    if not CommentBank(state.store.session).remove(user.id, comment_id):
        raise HTTPException(404, "Commentaire type introuvable.")


# --- decisions ------------------------------------------------------------------------------------


def _refusal(state: WebState, run_id: str, e: StorageError) -> HTTPException:
    return HTTPException(409 if state.store.grid(run_id).locked else 400, e.user_message)


def decide(state: WebState, user: UserRow, run: RunRow, criterion_id: str, level: int, comment: str) -> DecisionOut:
    try:
        d = state.store.decide(run.id, criterion_id.strip().upper(), level, user.name, comment.strip())
    except StorageError as e:
        raise _refusal(state, run.id, e) from e
    return DecisionOut(
        level=d.level,
        label=state.store.referentiel(run.id).scale.label(d.level),
        comment=d.comment,
        assessor=d.assessor,
        decided_at=d.decided_at,
        agreed=d.agreed,
    )


def finalize(state: WebState, user: UserRow, run: RunRow) -> None:
    """409 while a criterion is undecided or once the grid is locked."""
    try:
        state.store.finalize(run.id, user.name)
    except StorageError as e:
        raise HTTPException(409, e.user_message) from e


# --- exports --------------------------------------------------------------------------------------


def _docx_bytes(write: Any, doc: GridDoc, **kwargs: Any) -> bytes:
    with tempfile.TemporaryDirectory(prefix="dr-export-") as tmp:
        path = Path(tmp) / "out.docx"
        write(doc, path, **kwargs)
        return path.read_bytes()


def grid_docx_bytes(state: WebState, run: RunRow) -> bytes:
    return _docx_bytes(grid_docx, grid_doc(state, run))


def feedback_docx_bytes(state: WebState, run: RunRow, show_levels: bool) -> bytes:
    return _docx_bytes(
        feedback_docx, grid_doc(state, run), show_levels=show_levels, organisation=state.settings.organisation
    )


def feedback_page(state: WebState, run: RunRow, show_levels: bool) -> str:
    return feedback_html(grid_doc(state, run), show_levels=show_levels, organisation=state.settings.organisation)


def feedback_data(state: WebState, run: RunRow, show_levels: bool) -> dict[str, Any]:
    return feedback_json(grid_doc(state, run), show_levels=show_levels, organisation=state.settings.organisation)


def formative(state: WebState, run: RunRow) -> Feedback:
    """The candidate's view: found, missing, advice; never a level."""
    return build_feedback(grid_doc(state, run), show_levels=False, organisation=state.settings.organisation)


def review_export(state: WebState, run: RunRow, dossier: DossierRow) -> dict[str, Any]:
    """The stored review.json, with the assessor's decisions and the grid state."""
    grid = state.store.grid(run.id)
    decisions = state.store.decisions(run.id)
    return {
        **review_json(state.store.review(run.id), state.store.referentiel(run.id)),
        "dossier_id": dossier.id,
        "candidate_ref": dossier.candidate_ref,
        "decisions": {
            k: {
                "level": d.level,
                "suggested_level": d.suggested_level,
                "agreed": d.agreed,
                "comment": d.comment,
                "assessor": d.assessor,
                "decided_at": d.decided_at.isoformat(),
            }
            for k, d in decisions.items()
        },
        "grid": {
            "locked": grid.locked,
            "finalized_by": grid.finalized_by,
            "finalized_at": grid.finalized_at.isoformat() if grid.finalized_at else None,
            "verdicts": grid.verdicts,
        },
    }


def export_name(dossier: DossierRow, suffix: str) -> str:
    stem = safe_file_name(dossier.file_name).rsplit(".", 1)[0]
    return f"{stem}-{suffix}"
