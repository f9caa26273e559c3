"""Certification sessions in the web workspace (administrators): create a session, upload a
manifest with its files, follow each dossier, assign assessors, download the jury documents.

The batch runs `pipeline.sessions.add_manifest` in a background thread that queues one job per
dossier to review, run like single uploads (the one review path, in a review process under
limits): by this server's review processes (embedded default), or by `dossier-review worker`
processes (`DOSSIER_REVIEW_QUEUE=postgres`); the page follows each job's progress;
assessors reach the dossiers assigned to them through their usual list, one dossier row and run
of their own each, so neither sees the other's levels. Every id is random; an unknown session
answers 404, and so does any session route for a user who is not an administrator.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.db.accounts import UserRow
from pipeline.db.sessions import ExamSessionRow, SessionStore
from pipeline.errors import ReviewError
from pipeline.reports import session_docs
from pipeline.sessions import add_manifest, assign_in_turn, read_manifest, status_json
from pipeline.web.api import ERRORS
from pipeline.web.deps import State, not_found, require_role, verify_csrf
from pipeline.web.render import page
from pipeline.web.state import WebState

pages = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
api = APIRouter(prefix="/api/v1", dependencies=[Depends(verify_csrf)], responses=ERRORS, tags=["sessions"])
Admin = Annotated[UserRow, Depends(require_role("admin"))]
Id = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$", description="Random 128-bit id (32 hex digits).")]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXPORTS = {
    "pv.docx": ("minutes", "docx", DOCX),
    "resultats.csv": ("results", "csv", "text/csv; charset=utf-8"),
    "resultats.json": ("results", "json", "application/json"),
    "grilles.docx": ("grids", "docx", DOCX),
}
_SAFE_NAME = re.compile(r"^[^/\\\x00]{1,200}$")
_batches: dict[str, threading.Thread] = {}
_batches_lock = threading.Lock()


def _session(state: WebState, session_id: str) -> ExamSessionRow:
    try:
        return SessionStore(state.store).get(session_id)
    except ReviewError:
        raise not_found() from None


def batch_running(session_id: str) -> bool:
    with _batches_lock:
        t = _batches.get(session_id)
        return t is not None and t.is_alive()


def wait_batch(session_id: str, timeout: float = 600) -> None:
    """For tests and shutdown: wait until the session's batch thread ends."""
    with _batches_lock:
        t = _batches.get(session_id)
    if t is not None:
        t.join(timeout)


def _start_batch(state: WebState, sess: ExamSessionRow, folder: Path, manifest: Path, actor: str) -> None:
    accounts = {u.username.casefold(): u.id for u in state.accounts.users("assessor")}
    accounts |= {u.name.casefold(): u.id for u in state.accounts.users("assessor")}

    def user_of(name: str) -> str | None:
        """A manifest's assessor, by user name or display name, gets the dossier in the workspace."""
        return accounts.get(name.strip().casefold())

    def run() -> None:
        try:
            report = add_manifest(
                state.store,
                sess.id,
                manifest,
                state.settings,
                state.ref,
                actor,
                user_of=user_of,
                submit=state.jobs.submit_file,
            )
        finally:  # reviewed files are kept in the store, queued ones copied for their job; the upload copies go
            shutil.rmtree(folder, ignore_errors=True)
        if state.settings.queue == "embedded" and report.count("queued"):  # this server's review processes:
            for member in SessionStore(state.store).members(sess.id):  # the batch lasts until they end
                if member.job_id:
                    state.jobs.wait(member.job_id)

    with _batches_lock:
        if sess.id in _batches and _batches[sess.id].is_alive():
            raise HTTPException(409, "Un lot est déjà en cours pour cette session : attendez sa fin.")
        t = threading.Thread(target=run, name=f"session-{sess.id[:8]}", daemon=True)
        _batches[sess.id] = t
        t.start()


def _reviewing(data: dict[str, Any]) -> bool:
    """A dossier of the session waits for, or is under, review (queued jobs): the page keeps refreshing."""
    return any(d["progress"] is not None for d in data["dossiers"])


async def _save_upload(state: WebState, sess: ExamSessionRow, manifest: UploadFile, files: list[UploadFile]) -> Path:
    """Save the manifest and its files in a private folder; the manifest may only name those files."""
    base = state.settings.data_dir / "session-uploads"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{sess.id}-", dir=base))
    limit = state.settings.max_file_bytes
    try:
        names = set()
        for f in files:
            name = Path(f.filename or "").name
            if not name or not _SAFE_NAME.match(name) or name.startswith("."):
                raise HTTPException(400, f"Nom de fichier refusé : « {f.filename} ».")
            data = await f.read(limit + 1)
            if len(data) > limit:
                raise HTTPException(413, f"« {name} » dépasse la taille maximale ({limit // (1024 * 1024)} Mo).")
            (folder / name).write_bytes(data)
            names.add(name)
        path = folder / "manifeste.csv"
        path.write_bytes(await manifest.read(1024 * 1024))
        rows = read_manifest(path)
        foreign = [r.file for r in rows if r.file.parent != folder]
        if foreign:
            raise HTTPException(
                400, "Le manifeste ne peut citer que les fichiers déposés avec lui (nom du fichier seul, sans dossier)."
            )
        return path
    except ReviewError as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(400, e.user_message) from None
    except HTTPException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


# --- pages ----------------------------------------------------------------------------------------


@pages.get("/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, state: State, user: Admin, error: str | None = None) -> Response:
    return page(
        request,
        "sessions.html",
        sessions=SessionStore(state.store).all(),
        modules=state.ref.modalities,
        error=error,
    )


@pages.post("/sessions")
def session_create(
    request: Request,
    state: State,
    user: Admin,
    name: Annotated[str, Form(max_length=200)] = "",
    module: Annotated[str, Form(max_length=8)] = "",
    double_marking: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        module_id = state.ref.modality(module).id
        sid = SessionStore(state.store).create(name, module_id, state.ref.ref, bool(double_marking), user.name)
    except ReviewError as e:
        return sessions_page(request, state, user, error=e.user_message)
    return RedirectResponse(f"/sessions/{sid}", 303)


@pages.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, state: State, user: Admin, session_id: str, error: str | None = None) -> Response:
    sess = _session(state, session_id)
    data = status_json(state.store, sess.id)
    return page(
        request,
        "session.html",
        status=400 if error else 200,
        sess=sess,
        data=data,
        running=batch_running(sess.id) or _reviewing(data),
        assessors=state.accounts.users("assessor"),
        exports=EXPORTS,
        error=error,
    )


@pages.post("/sessions/{session_id}/upload")
async def session_upload(
    request: Request,
    state: State,
    user: Admin,
    session_id: str,
    manifest: Annotated[UploadFile, File()],
    files: Annotated[list[UploadFile], File()],
) -> Response:
    sess = _session(state, session_id)
    try:
        path = await _save_upload(state, sess, manifest, files)
        _start_batch(state, sess, path.parent, path, user.name)
    except HTTPException as e:
        return session_page(request, state, user, session_id, error=str(e.detail))
    return RedirectResponse(f"/sessions/{sess.id}", 303)


@pages.post("/sessions/{session_id}/assign")
def session_assign(
    request: Request,
    state: State,
    user: Admin,
    session_id: str,
    assessor_ids: Annotated[list[str], Form()],
) -> Response:
    sess = _session(state, session_id)
    known = {u.id: u for u in state.accounts.users("assessor")}
    chosen: list[tuple[str, str | None]] = [(known[i].name, i) for i in assessor_ids if i in known]
    try:
        assign_in_turn(state.store, state.settings, sess.id, chosen, user.name)
    except ReviewError as e:
        return session_page(request, state, user, session_id, error=e.user_message)
    return RedirectResponse(f"/sessions/{sess.id}", 303)


@pages.get("/sessions/{session_id}/{name}")
def session_export(state: State, user: Admin, session_id: str, name: str) -> Response:
    sess = _session(state, session_id)
    if name not in EXPORTS:
        raise not_found()
    return _export(state, sess, name)


def _export(state: WebState, sess: ExamSessionRow, name: str) -> Response:
    kind, fmt, media = EXPORTS[name]
    minutes = session_docs.build_minutes(state.store, sess.id)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        if kind == "grids":
            session_docs.grids_docx(state.store, minutes, out)
        elif fmt == "docx":
            session_docs.minutes_docx(minutes, out)
        elif fmt == "csv":
            session_docs.results_csv(minutes, out)
        else:
            out.write_text(minutes.model_dump_json(indent=2), encoding="utf-8")
        content = out.read_bytes()
    filename = f"session-{sess.id[:8]}-{name}"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- JSON API -------------------------------------------------------------------------------------


@api.get("/sessions/{session_id}", summary="A session's dossiers: status, assessors, verdicts (administrators)")
def api_session(state: State, user: Admin, session_id: Id) -> dict[str, Any]:
    sess = _session(state, session_id)
    data = status_json(state.store, sess.id)
    return {**data, "running": batch_running(sess.id) or _reviewing(data)}


ExportName = Literal["pv.docx", "resultats.csv", "resultats.json", "grilles.docx"]


@api.get(
    "/sessions/{session_id}/exports/{name}",
    summary="Minutes, results or grids of a session",
    response_class=Response,
    responses={
        200: {
            "description": "The document",
            "content": {DOCX: {}, "text/csv": {}, "application/json": {}},
        }
    },
)
def api_session_export(state: State, user: Admin, session_id: Id, name: ExportName) -> Response:
    sess = _session(state, session_id)
    return _export(state, sess, name)
