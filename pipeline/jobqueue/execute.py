"""Run one job: skip it when its review is already stored, else review in a limited child process.

The same function serves the embedded worker (threads of the web server) and `dossier-review
worker` (procrastinate). A job is idempotent: its key is the file's hash, the review settings,
the referentiel snapshot, the module and who the dossier belongs to; when a stored run has that
key — a worker died after storing it, or the same file was queued twice — the job points at that
run instead of reviewing again. Deployment settings (where the stores are, limits, concurrency)
are not part of the key: any worker gives the same review.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipeline.db.models import DossierRow, RunRow, now
from pipeline.db.store import ReviewStore
from pipeline.jobqueue.limits import ChildResult, run_in_child
from pipeline.jobqueue.model import JobSpec
from pipeline.jobqueue.status import get_job, set_status
from pipeline.referentiel import Referentiel
from pipeline.settings import Settings, review_identity

log = logging.getLogger(__name__)

CRASHED = (
    "L’analyse a échoué sur une erreur inattendue. Réessayez ; si le problème persiste, transmettez le "
    "fichier à l’administrateur."
)
LIMITS = (
    "L’analyse de ce fichier a dépassé les limites de mémoire ou de temps ({why}) et a été arrêtée. "
    "Vérifiez le document (taille, nombre de paragraphes) et déposez une version allégée."
)
LOST = "Le fichier déposé est introuvable (dossier partagé des dépôts) : déposez-le à nouveau."


class Released(Exception):
    """The worker is stopping: the job goes back to the queue untouched."""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _owner(spec: JobSpec) -> tuple[object, ...]:
    return (spec.owner_id, spec.group_id, spec.assessor_id, spec.kind, spec.candidate_ref)


def stored_review(store: ReviewStore, sha256: str, identity: str, spec: JobSpec) -> tuple[str, str] | None:
    """(dossier, run) already stored for this file, review identity and owner, if any; for a session
    member's job, any owner's (the member then gets a copy of its own: `pipeline.sessions.link_job`)."""
    others: list[tuple[str, str]] = []
    with store.session() as s:
        rows = s.execute(
            select(DossierRow, RunRow)
            .join(RunRow, RunRow.dossier_id == DossierRow.id)
            .where(DossierRow.sha256 == sha256, DossierRow.erased_at.is_(None), RunRow.status == "done")
            .order_by(RunRow.created_at)
        ).all()
        for d, r in rows:
            same_owner = (d.owner_id, d.group_id, d.assessor_id, d.kind, d.candidate_ref) == _owner(spec)
            if review_identity(r.settings or {}, r.referentiel_hash, r.module) != identity:
                continue
            if same_owner:
                return d.id, r.id
            others.append((d.id, r.id))
    return others[0] if others and spec.member_id else None


def run_job(
    store: ReviewStore,
    settings: Settings,
    ref: Referentiel,
    job_id: str,
    path: Path,
    spec: JobSpec,
    password: str | None = None,
    release: threading.Event | None = None,
) -> str:
    """Run the job to a final state (done | failed) and return it; raise Released when told to stop."""
    row = get_job(store, job_id)
    if row is None:  # dismissed, or erased (RGPD) while queued: its upload copy goes too
        shutil.rmtree(path.parent, ignore_errors=True)
        return "gone"
    if row.status in ("done", "failed"):  # finished by an earlier attempt
        return row.status
    if not path.is_file():
        return _finish(store, settings, job_id, path, spec, status="failed", error=LOST)
    identity = review_identity(settings.model_dump(mode="json"), ref.snapshot_hash, ref.modality(spec.module).id)
    sha = file_hash(path)
    found = stored_review(store, sha, identity, spec)
    if found:
        log.info("job %s: review already stored (run %s), not reviewed again", job_id, found[1])
        return _finish(store, settings, job_id, path, spec, status="done", dossier_id=found[0], run_id=found[1])
    set_status(store, job_id, status="running", step="lecture", done=0, error=None)
    result = run_in_child(settings, job_id, path, spec, password, release)
    log.info(
        "job %s: %s in %.1f s (%.1f s of CPU), peak %.0f MB",
        job_id,
        result.outcome,
        result.seconds,
        result.cpu_s,
        result.peak_rss_mb,
        extra={"review": result},
    )
    if result.outcome == "released":
        set_status(store, job_id, status="queued", step="en attente", done=0)
        raise Released(job_id)
    return _finish(store, settings, job_id, path, spec, **_final(result))


def _final(result: ChildResult) -> dict[str, Any]:
    if result.outcome == "done":
        return {"status": "done", "dossier_id": result.dossier_id, "run_id": result.run_id}
    if result.outcome == "refused":
        return {"status": "failed", "error": result.message}
    if result.outcome == "limit":
        return {"status": "failed", "error": LIMITS.format(why=result.message)}
    return {"status": "failed", "error": CRASHED}


def _finish(
    store: ReviewStore, settings: Settings, job_id: str, path: Path, spec: JobSpec | None, status: str, **values: Any
) -> str:
    """Store the job's outcome; a session member's job links the member to its run first, so a job is
    acknowledged only once both are stored (a retry after a crash in between links it again)."""
    if spec is not None and spec.member_id:
        from pipeline.sessions import link_job  # lazy: sessions import the review path

        try:
            values |= link_job(
                store, settings, spec, values.get("dossier_id"), values.get("run_id"), values.get("error")
            )
        except Exception:  # the job still ends; its member shows the failure, and a rerun of the batch links it
            log.exception("job %s: linking session member %s failed", job_id, spec.member_id)
            status, values = "failed", {**values, "error": CRASHED}
    extra = {"step": "terminé", "done": 6, "total": 6} if status == "done" else {}
    set_status(store, job_id, status=status, finished_at=now(), **extra, **values)
    shutil.rmtree(path.parent, ignore_errors=True)  # the upload folder of this job
    return status


def fail_job(
    store: ReviewStore, settings: Settings, job_id: str, path: Path, error: str, spec: JobSpec | None = None
) -> str:
    return _finish(store, settings, job_id, path, spec, status="failed", error=error)
