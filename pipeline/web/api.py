"""The JSON API (`/api/v1`), beside the pages: same session cookie, same authorisation.

Unsafe methods need the `X-CSRF-Token` header (from `GET /api/v1/session`). Ids a user may not
see answer 404, like ids that do not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from pipeline.db.accounts import UserRow
from pipeline.db.models import DossierRow, RunRow
from pipeline.web import services
from pipeline.web.access import can_decide, get_group, get_job, get_run, latest_runs, view_for, visible_dossiers
from pipeline.web.access import visible_groups as groups_of_user
from pipeline.web.cohorts import build_cohort, cohort_rows
from pipeline.web.deps import State, User, not_found, require_role, verify_csrf

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request body"},
    401: {"description": "Not logged in"},
    403: {"description": "CSRF token missing or role not allowed"},
    404: {"description": "Unknown id, or one the user may not see"},
}
router = APIRouter(prefix="/api/v1", dependencies=[Depends(verify_csrf)], responses=ERRORS)
GroupViewer = Annotated[UserRow, Depends(require_role("admin", "trainer"))]
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Random 128-bit id (32 hex digits).")]
Uploader = Annotated[UserRow, Depends(require_role("admin", "assessor", "candidate"))]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModuleOut(_In):
    id: str
    title: str
    subtitle: str


class DecisionIn(_In):
    criterion_id: str = Field(max_length=16, description="e.g. C4.5")
    level: int = Field(ge=-1000, le=1000, description="A level of the scale (0 to 3 by default).")
    comment: str = Field(default="", max_length=5000)


class GroupOut(_In):
    id: str
    name: str


class MissedOut(_In):
    criterion_id: str
    text: str
    assessed: int
    below: int
    share: float
    suggested: int


class CohortCellsOut(_In):
    candidate: str
    run_id: str
    module: str
    levels: dict[str, int | None]
    confirmed: dict[str, bool]


class CohortOut(_In):
    group: GroupOut
    candidates: int
    criteria: list[str]
    threshold: int
    confirmed_share: float
    rows: list[CohortCellsOut]
    most_missed: list[MissedOut]
    heatmap_url: str | None


@router.get("/modules", response_model=list[ModuleOut], tags=["referentiel"], summary="Modules one can review")
def modules(state: State, _user: User) -> list[ModuleOut]:
    return [ModuleOut(id=m.id, title=m.title, subtitle=m.subtitle) for m in state.ref.modalities]


@router.get(
    "/dossiers", response_model=list[services.DossierOut], tags=["dossiers"], summary="Dossiers the user may see"
)
def dossiers(state: State, user: User) -> list[services.DossierOut]:
    rows = visible_dossiers(state, user)
    runs = latest_runs(state, [d.id for d in rows])
    out = []
    for d in rows:
        run = runs.get(d.id)
        locked = state.store.grid(run.id).locked if run and view_for(user, d) == "workspace" else None
        out.append(
            services.DossierOut(
                id=d.id,
                file_name=d.file_name,
                module=d.module,
                kind=d.kind,
                candidate_ref=d.candidate_ref,
                uploaded_at=d.uploaded_at,
                run_id=run.id if run else None,
                locked=locked,
            )
        )
    return out


@router.post(
    "/dossiers",
    response_model=services.JobOut,
    status_code=202,
    tags=["dossiers"],
    summary="Upload a dossier and start its review",
    responses={
        413: {"description": "File over the size limit"},
        415: {"description": "Not a PDF or DOCX"},
        400: {"description": "Unreadable file or bad field"},
    },
)
async def upload(
    state: State,
    user: Uploader,
    file: Annotated[UploadFile, File(description="PDF or DOCX")],
    module: Annotated[str, Form(max_length=8, description="M1, M2, M3 or M4")],
    candidate_ref: Annotated[str, Form(max_length=200)] = "",
    group_id: Annotated[str, Form(max_length=64)] = "",
    assessor_id: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> services.JobOut:
    job = await services.start_review(
        state, user, file, module, candidate_ref, group_id or None, assessor_id or None, password or None
    )
    return services.job_out(job)


@router.get("/jobs/{job_id}", response_model=services.JobOut, tags=["dossiers"], summary="Progress of a review")
def job(state: State, user: User, job_id: Id) -> services.JobOut:
    return services.job_out(get_job(state, user, job_id))


def _workspace(state: State, user: UserRow, run_id: str) -> tuple[RunRow, DossierRow]:
    run, dossier = get_run(state, user, run_id)
    if view_for(user, dossier) != "workspace":
        raise not_found()
    return run, dossier


@router.get(
    "/runs/{run_id}",
    response_model=services.ReviewOut,
    tags=["review"],
    summary="The review of a dossier with the assessor's decisions (assessors)",
)
def review(state: State, user: User, run_id: Id) -> services.ReviewOut:
    run, dossier = _workspace(state, user, run_id)
    return services.review_out(state, run, dossier)


@router.get(
    "/runs/{run_id}/text",
    response_model=services.DossierTextOut,
    tags=["review"],
    summary="The dossier's text by page or section, with offsets (assessors)",
)
def text(state: State, user: User, run_id: Id) -> services.DossierTextOut:
    _, dossier = _workspace(state, user, run_id)
    return services.dossier_text(dossier)


@router.get(
    "/runs/{run_id}/feedback",
    tags=["review"],
    summary="Formative feedback: found, missing, advice (levels only for assessors)",
)
def feedback(state: State, user: User, run_id: Id) -> dict[str, Any]:
    run, dossier = get_run(state, user, run_id)
    return services.feedback_data(state, run, show_levels=view_for(user, dossier) == "workspace")


@router.post(
    "/runs/{run_id}/decisions",
    response_model=services.DecisionOut,
    tags=["review"],
    summary="Record the assessor's level (and comment) for a criterion",
    responses={409: {"description": "Grid finalized"}, 400: {"description": "Unknown criterion or level"}},
)
def decide(state: State, user: User, run_id: Id, body: DecisionIn) -> services.DecisionOut:
    run, dossier = get_run(state, user, run_id)
    if not can_decide(user, dossier):
        raise not_found()
    return services.decide(state, user, run, body.criterion_id, body.level, body.comment)


@router.post(
    "/runs/{run_id}/finalize",
    response_model=services.ReviewOut,
    tags=["review"],
    summary="Validate and lock the grid (every criterion decided)",
    responses={409: {"description": "Already finalized, or criteria undecided"}},
)
def finalize(state: State, user: User, run_id: Id) -> services.ReviewOut:
    run, dossier = get_run(state, user, run_id)
    if not can_decide(user, dossier):
        raise not_found()
    services.finalize(state, user, run)
    return services.review_out(state, run, dossier)


@router.get("/groups", response_model=list[GroupOut], tags=["cohorts"], summary="Groups the user may see")
def groups(state: State, user: GroupViewer) -> list[GroupOut]:
    return [GroupOut(id=g.id, name=g.name) for g in groups_of_user(state, user)]


@router.get(
    "/groups/{group_id}/cohort",
    response_model=CohortOut,
    tags=["cohorts"],
    summary="Levels per criterion and candidate; most missed criteria",
)
def cohort(state: State, user: GroupViewer, group_id: Id) -> CohortOut:
    group = get_group(state, user, group_id)
    rows = [r for r, _ in cohort_rows(state, group)]
    built = build_cohort(state, group, rows)
    result = built[0] if built else None
    return CohortOut(
        group=GroupOut(id=group.id, name=group.name),
        candidates=len(rows),
        criteria=result.criteria if result else [],
        threshold=state.ref.scale.rule.acquired_min_level,
        confirmed_share=result.confirmed_share if result else 0.0,
        rows=[
            CohortCellsOut(
                candidate=r.candidate_ref, run_id=r.run_id, module=r.module, levels=r.levels, confirmed=r.confirmed
            )
            for r in rows
        ],
        most_missed=[MissedOut(**m.model_dump()) for m in result.most_missed] if result else [],
        heatmap_url=f"/groups/{group.id}/heatmap.png" if result else None,
    )


# --- the comment bank (the assessor's own reusable comments) ----------------------------------------

Assessor = Annotated[UserRow, Depends(require_role("admin", "assessor"))]


class BankCommentIn(_In):
    criterion_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,16}$")
    text: str = Field(min_length=1, max_length=2000)


@router.get("/comment-bank", summary="The user's reusable comments, by criterion")
def get_comment_bank(state: State, user: Assessor) -> dict[str, list[services.BankCommentOut]]:
    return services.comment_bank(state, user)


@router.post("/comment-bank", status_code=201, summary="Save a reusable comment for a criterion")
def post_comment_bank(state: State, user: Assessor, body: BankCommentIn) -> services.BankCommentOut:
    return services.bank_add(state, user, body.criterion_id, body.text)


@router.delete("/comment-bank/{comment_id}", status_code=204, summary="Delete one of the user's reusable comments")
def delete_comment_bank(state: State, user: Assessor, comment_id: Id) -> None:
    services.bank_remove(state, user, comment_id)
