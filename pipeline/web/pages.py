"""The HTML pages: dossiers, upload, job progress, review workspace, formative view, cohorts, admin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.db.accounts import UserRow
from pipeline.db.models import DossierRow, RunRow
from pipeline.web import pages_img, selfcheck, services, trainer, worklist
from pipeline.web.access import (
    can_decide,
    get_group,
    get_job,
    get_run,
    latest_runs,
    view_for,
    visible_dossiers,
    visible_groups,
)
from pipeline.web.cohorts import FILES as COHORT_FILES
from pipeline.web.cohorts import build_cohort, cohort_rows
from pipeline.web.deps import State, User, not_found, require_role, verify_csrf
from pipeline.web.pages_img import page_png
from pipeline.web.render import page

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
Uploader = Annotated[UserRow, Depends(require_role("admin", "assessor", "candidate"))]
GroupViewer = Annotated[UserRow, Depends(require_role("admin", "trainer"))]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'}
    )


@router.get("/")
def home(user: User) -> Response:
    return RedirectResponse("/groups" if user.role == "trainer" else "/dossiers", 303)


@router.get("/dossiers", response_class=HTMLResponse)
def dossiers(
    request: Request,
    state: State,
    user: User,
    tri: Annotated[str, Query(max_length=16)] = "date",
    filtre: Annotated[str, Query(max_length=16)] = "tous",
) -> Response:
    rows = visible_dossiers(state, user)
    runs = latest_runs(state, [d.id for d in rows])
    locked = {r.id: state.store.grid(r.id).locked for r in runs.values()} if user.role != "candidate" else {}
    pending = state.jobs.jobs_of(user.id)
    names = {u.id: u.name for u in state.accounts.users("assessor")} if user.role == "admin" else {}
    tri, filtre = (tri if tri in worklist.SORTS else "date"), (filtre if filtre in worklist.FILTERS else "tous")
    progress: dict[str, worklist.Progress] = {}
    if user.role in ("admin", "assessor"):  # the worklist: progress, flags, sort and filter
        rows, progress = worklist.worklist(state, user, rows, runs, tri, filtre)
    return page(
        request,
        "dossiers.html",
        dossiers=rows,
        runs=runs,
        locked=locked,
        jobs=pending,
        assessor_names=names,
        progress=progress,
        sorts=worklist.SORTS,
        filters=worklist.FILTERS,
        tri=tri,
        filtre=filtre,
    )


# --- upload and progress --------------------------------------------------------------------------


def _upload_page(
    request: Request,
    state: State,
    user: UserRow,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "upload.html",
        status=status,
        error=error,
        values=values or {},
        modules=state.ref.modalities,
        max_bytes=state.settings.max_file_bytes,
        groups=state.accounts.groups() if user.role != "candidate" else [],
        assessors=state.accounts.users("assessor") if user.role == "admin" else [],
    )


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, state: State, user: Uploader) -> Response:
    return _upload_page(request, state, user)


@router.post("/upload", response_class=HTMLResponse)
async def upload_submit(
    request: Request,
    state: State,
    user: Uploader,
    file: Annotated[UploadFile, File()],
    module: Annotated[str, Form(max_length=8)] = "",
    candidate_ref: Annotated[str, Form(max_length=200)] = "",
    group_id: Annotated[str, Form(max_length=64)] = "",
    assessor_id: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        job = await services.start_review(
            state, user, file, module, candidate_ref, group_id or None, assessor_id or None, password or None
        )
    except HTTPException as e:
        values = {"module": module, "candidate_ref": candidate_ref, "group_id": group_id, "assessor_id": assessor_id}
        return _upload_page(request, state, user, status=e.status_code, error=str(e.detail), values=values)
    return RedirectResponse(f"/jobs/{job.id}", 303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, state: State, user: User, job_id: str) -> Response:
    job = get_job(state, user, job_id)
    if job.status == "done" and job.run_id:
        return RedirectResponse(f"/runs/{job.run_id}", 303)
    return page(request, "job.html", job=job)


@router.post("/jobs/{job_id}/dismiss")
def job_dismiss(state: State, user: User, job_id: str) -> Response:
    """Forget a failed upload (its file is already gone); finished and running jobs stay."""
    job = get_job(state, user, job_id)
    if job.status == "failed":
        state.jobs.forget(job.id)
    return RedirectResponse("/dossiers", 303)


# --- a review -------------------------------------------------------------------------------------


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, state: State, user: User, run_id: str) -> Response:
    run, dossier = get_run(state, user, run_id)
    if view_for(user, dossier) == "formative":
        fb = services.formative(state, run)
        return page(
            request,
            "formative.html",
            run=run,
            dossier=dossier,
            fb=fb,
            overview=selfcheck.overview(fb),
            selfcheck_state=selfcheck.state_of,
        )
    review = services.review_out(state, run, dossier)
    return page(
        request,
        "review.html",
        run=run,
        dossier=dossier,
        review=review,
        text=services.dossier_text(dossier),
        crits={c.id: c for c in review.criteria},
        scale=state.ref.scale,
        page_images=_page_images(state, dossier),
        bank=services.comment_bank(state, user) if can_decide(user, dossier) else {},
        next_run=(
            worklist.next_dossier(state, user, dossier.id) if review.locked and can_decide(user, dossier) else None
        ),
    )


def _page_images(state: State, dossier: DossierRow) -> str:
    """What the review shows beside the text: 'pdf' (page images), 'docx' (images of the DOCX's
    LibreOffice rendition, started now in the background), 'none' (without LibreOffice), '' (no file)."""
    stored = Path(dossier.stored_path) if dossier.stored_path else None
    if stored is None or not stored.is_file():
        return ""
    if dossier.file_format == "pdf":
        return "pdf"
    if pages_img.soffice() is None:
        return "none"
    pages_img.prepare_rendition(state.settings, dossier.sha256, stored)
    return "docx"


def _page_source(state: State, dossier: DossierRow) -> Path | None:
    """The PDF whose pages are shown: the stored PDF, or a DOCX's rendition (made now if need be);
    None for a file no longer kept or a DOCX without LibreOffice."""
    if not dossier.stored_path or not Path(dossier.stored_path).is_file():
        return None
    stored = Path(dossier.stored_path)
    if dossier.file_format == "pdf":
        return stored
    return pages_img.docx_rendition(state.settings, dossier.sha256, stored)


def _workspace_pdf(state: State, user: UserRow, run_id: str) -> tuple[DossierRow, Path]:
    _, dossier = get_run(state, user, run_id)
    if view_for(user, dossier) != "workspace":
        raise not_found()
    pdf = _page_source(state, dossier)
    if pdf is None:
        raise not_found()
    return dossier, pdf


@router.get("/runs/{run_id}/pages/{page}.png")
def page_image(state: State, user: User, run_id: str, page: int) -> Response:
    """A page of the PDF as an image (rendered once, cached under the file's hash, erased with it)."""
    dossier, pdf = _workspace_pdf(state, user, run_id)
    data = page_png(state.settings, dossier.sha256, pdf, page)
    if data is None:
        raise not_found()
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/runs/{run_id}/pages/locate")
def page_quote_locate(
    state: State,
    user: User,
    run_id: str,
    q: Annotated[str, Query(max_length=5000)],
    page: Annotated[int | None, Query(ge=1, le=pages_img.MAX_PAGES)] = None,
) -> pages_img.Located:
    """The page holding a quote (the noted `page` first, then every other) and its boxes there."""
    _, pdf = _workspace_pdf(state, user, run_id)
    found, boxes = pages_img.locate_quote(pdf, q, page)
    return pages_img.Located(page=found, boxes=boxes)


def _decidable(state: State, user: UserRow, run_id: str) -> RunRow:
    run, dossier = get_run(state, user, run_id)
    if not can_decide(user, dossier):
        raise not_found()
    return run


@router.post("/runs/{run_id}/decisions")
def decide_form(
    state: State,
    user: User,
    run_id: str,
    criterion_id: Annotated[str, Form(max_length=16)],
    level: Annotated[int | None, Form(ge=-100, le=100)] = None,
    accept: Annotated[str, Form(max_length=8)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The form without JavaScript: `accept` takes the suggested level, else the chosen radio button."""
    run = _decidable(state, user, run_id)
    if accept:
        suggestion = state.store.review(run.id).draft(criterion_id)
        level = suggestion.level if suggestion else None
    if level is None:
        raise HTTPException(400, "Choisissez un niveau avant d’enregistrer.")
    services.decide(state, user, run, criterion_id, level, comment)
    return RedirectResponse(f"/runs/{run.id}#crit-{criterion_id}", 303)


@router.post("/runs/{run_id}/accept")
def accept_confident_form(
    state: State,
    user: User,
    run_id: str,
    criterion_id: Annotated[list[str], Form(max_length=200)],
) -> Response:
    """The summary list: accept the ticked confident suggestions together, one decision each."""
    run = _decidable(state, user, run_id)
    services.accept_confident(state, user, run, criterion_id[:200])
    return RedirectResponse(f"/runs/{run.id}#triage", 303)


@router.post("/runs/{run_id}/finalize")
def finalize_form(state: State, user: User, run_id: str) -> Response:
    run = _decidable(state, user, run_id)
    services.finalize(state, user, run)
    return RedirectResponse(f"/runs/{run.id}", 303)


@router.get("/runs/{run_id}/grid.docx")
def grid_download(state: State, user: User, run_id: str) -> Response:
    run, dossier = get_run(state, user, run_id)
    if view_for(user, dossier) != "workspace":
        raise not_found()
    return attachment(services.grid_docx_bytes(state, run), DOCX, services.export_name(dossier, "grille.docx"))


@router.get("/runs/{run_id}/review.json")
def review_download(state: State, user: User, run_id: str) -> Response:
    run, dossier = get_run(state, user, run_id)
    if view_for(user, dossier) != "workspace":
        raise not_found()
    data = json.dumps(services.review_export(state, run, dossier), ensure_ascii=False, indent=2, default=str)
    return attachment(data.encode("utf-8"), "application/json", services.export_name(dossier, "analyse.json"))


@router.get("/runs/{run_id}/feedback.docx")
def feedback_download(state: State, user: User, run_id: str) -> Response:
    run, dossier = get_run(state, user, run_id)
    levels = view_for(user, dossier) == "workspace"
    return attachment(
        services.feedback_docx_bytes(state, run, levels), DOCX, services.export_name(dossier, "retour.docx")
    )


@router.get("/runs/{run_id}/feedback.html", response_class=HTMLResponse)
def feedback_print(state: State, user: User, run_id: str) -> Response:
    run, dossier = get_run(state, user, run_id)
    return HTMLResponse(services.feedback_page(state, run, view_for(user, dossier) == "workspace"))


@router.get("/runs/{run_id}/feedback.json")
def feedback_download_json(state: State, user: User, run_id: str) -> Response:
    run, dossier = get_run(state, user, run_id)
    data = services.feedback_data(state, run, view_for(user, dossier) == "workspace")
    return attachment(
        json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
        "application/json",
        services.export_name(dossier, "retour.json"),
    )


# --- cohorts --------------------------------------------------------------------------------------


@router.get("/groups", response_class=HTMLResponse)
def groups(request: Request, state: State, user: GroupViewer) -> Response:
    return page(request, "groups.html", groups=visible_groups(state, user))


@router.get("/groups/{group_id}", response_class=HTMLResponse)
def group_page(request: Request, state: State, user: GroupViewer, group_id: str) -> Response:
    group = get_group(state, user, group_id)
    rows = cohort_rows(state, group)
    assessed = [r for r, d in rows if d.kind == "assessment"]  # never the levels of self-check drafts
    threshold = state.ref.scale.rule.acquired_min_level
    return page(
        request,
        "cohort.html",
        group=group,
        members=state.accounts.members(group.id),
        rows=rows,
        views=trainer.module_views(state, assessed),
        threshold=threshold,
        threshold_label=state.ref.scale.label(threshold),
    )


@router.get("/groups/{group_id}/{name}")
def group_file(state: State, user: GroupViewer, group_id: str, name: str) -> Response:
    group = get_group(state, user, group_id)
    if name not in COHORT_FILES:
        raise not_found()
    built = build_cohort(state, group, file=name)
    if built is None or built[1] is None:
        raise not_found()
    if name.endswith(".csv"):
        return attachment(built[1], COHORT_FILES[name], name)
    return Response(built[1], media_type=COHORT_FILES[name])
