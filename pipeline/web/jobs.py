"""Background reviews: an upload becomes a job row, a worker runs the pipeline on it.

The job row carries the progress (step, done/total) the page polls, then the dossier and run
ids, or the French message of the error that stopped it. Each review runs in a child process
under memory, CPU and wall-clock limits (pipeline/jobqueue/), fed either by threads of this
server (`queue=embedded`, the default: nothing to start) or by `dossier-review worker`
processes on any machine through the PostgreSQL queue (`queue=postgres`). In the embedded mode,
jobs left running by a stopped server are marked failed at start-up, never resumed silently; in
the queue they are the workers' business (retried when a worker dies).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db.models import new_id, now
from pipeline.db.store import ReviewStore
from pipeline.jobqueue.execute import CRASHED, fail_job, file_hash, run_job
from pipeline.jobqueue.limits import warm_up
from pipeline.jobqueue.model import JobRow, JobSpec
from pipeline.referentiel import Referentiel
from pipeline.settings import Settings

__all__ = ["CRASHED", "INTERRUPTED", "JobRow", "JobRunner", "JobSpec"]

log = logging.getLogger(__name__)

INTERRUPTED = "L’analyse a été interrompue par un redémarrage du serveur. Déposez le dossier à nouveau."


class JobRunner:
    def __init__(self, store: ReviewStore, settings: Settings, ref: Referentiel, workers: int | None = None) -> None:
        self.store, self.settings, self.ref = store, settings, ref
        self.session: sessionmaker[Session] = store.session
        self.futures: dict[str, Future[None]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.queue = settings.queue
        if self.queue == "postgres":
            from pipeline.jobqueue.pgqueue import ensure_schema, make_app

            ensure_schema(store)
            self.app = make_app(settings)
            self.app.open()
        else:
            self.pool = ThreadPoolExecutor(max_workers=workers or settings.workers, thread_name_prefix="review")
            self._fail_interrupted()
            warm_up(wait=False)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.uploads_dir

    def new_upload_path(self, file_name: str) -> tuple[str, Path]:
        job_id = new_id()
        folder = self.uploads_dir / job_id
        folder.mkdir(parents=True, exist_ok=True)
        return job_id, folder / file_name

    def submit(self, job_id: str, path: Path, spec: JobSpec, password: str | None = None) -> JobRow:
        row = JobRow(
            id=job_id,
            user_id=spec.user_id,
            kind=spec.kind,
            module=spec.module,
            file_name=spec.file_name,
            candidate_ref=spec.candidate_ref,
            group_id=spec.group_id,
            assessor_id=spec.assessor_id,
            status="queued",
            step="en attente",
            done=0,
            total=6,
            created_at=now(),
        )
        with self.session.begin() as s:
            s.add(row)
        sha = file_hash(path)
        if self.queue == "postgres":
            from pipeline.jobqueue.pgqueue import defer

            defer(self.app, job_id, path, spec, lock=sha, password=password)
            return row
        self.futures = {k: f for k, f in self.futures.items() if not f.done()}
        self.futures[job_id] = self.pool.submit(self._run, job_id, path, spec, password, sha)
        return row

    def submit_file(self, source: Path, spec: JobSpec, password: str | None = None) -> str:
        """Queue a review of a copy of `source` in the uploads folder (shared with the workers; removed
        once the job ends); returns the job id."""
        job_id, path = self.new_upload_path(spec.file_name)
        shutil.copyfile(source, path)
        self.submit(job_id, path, spec, password)
        return job_id

    def job(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            return s.get(JobRow, job_id)

    def jobs_of(self, user_id: str, pending_only: bool = True) -> list[JobRow]:
        with self.session() as s:
            q = select(JobRow).where(JobRow.user_id == user_id).order_by(JobRow.created_at.desc())
            if pending_only:
                q = q.where(JobRow.status != "done")
            return list(s.scalars(q.limit(50)))

    def forget(self, job_id: str) -> None:
        with self.session.begin() as s:
            s.execute(delete(JobRow).where(JobRow.id == job_id))

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until the job ends (tests, CLI)."""
        fut = self.futures.get(job_id)
        if fut is not None:
            fut.result(timeout)
            return
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        while time.monotonic() < deadline:
            row = self.job(job_id)
            if row is None or row.status in ("done", "failed"):
                return
            time.sleep(0.2)
        raise TimeoutError(job_id)

    def shutdown(self) -> None:
        if self.queue == "postgres":
            self.app.close()
        else:
            self.pool.shutdown(wait=True, cancel_futures=True)

    # --- the embedded worker ------------------------------------------------------------------------

    def _lock(self, sha: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(sha, threading.Lock())

    def _run(self, job_id: str, path: Path, spec: JobSpec, password: str | None, sha: str) -> None:
        try:
            with self._lock(sha):  # the same file twice: the second job finds the first's run
                run_job(self.store, self.settings, self.ref, job_id, path, spec, password)
        except Exception:
            log.exception("job %s crashed", job_id)
            fail_job(self.store, self.settings, job_id, path, CRASHED, spec)

    def _fail_interrupted(self) -> None:
        with self.session.begin() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.status.in_(("queued", "running")))
                .values(status="failed", error=INTERRUPTED, finished_at=now())
            )
        shutil.rmtree(self.uploads_dir, ignore_errors=True)
