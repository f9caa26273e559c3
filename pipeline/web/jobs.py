"""Background reviews: an upload becomes a job row, a small thread pool runs the pipeline on it.

The job row carries the progress (step, done/total) the page polls, then the dossier and run
ids, or the French message of the error that stopped it. Jobs left running by a stopped
server are marked failed at start-up, never resumed silently.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import DateTime, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from pipeline.db.models import Base, new_id, now
from pipeline.db.store import ReviewStore
from pipeline.errors import ReviewError
from pipeline.referentiel import Referentiel
from pipeline.review import review_and_record
from pipeline.settings import Settings

log = logging.getLogger(__name__)

INTERRUPTED = "L’analyse a été interrompue par un redémarrage du serveur. Déposez le dossier à nouveau."
CRASHED = (
    "L’analyse a échoué sur une erreur inattendue. Réessayez ; si le problème persiste, transmettez le "
    "fichier à l’administrateur."
)


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # assessment | self_check
    module: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(300))
    candidate_ref: Mapped[str] = mapped_column(String(200), default="")
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assessor_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    step: Mapped[str] = mapped_column(String(100), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=6)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dossier_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class JobSpec:
    """Who uploaded what, and where the dossier will belong once reviewed."""

    user_id: str
    actor: str
    kind: str
    module: str
    file_name: str
    candidate_ref: str = ""
    group_id: str | None = None
    assessor_id: str | None = None
    owner_id: str | None = None


class JobRunner:
    def __init__(self, store: ReviewStore, settings: Settings, ref: Referentiel, workers: int = 1) -> None:
        self.store, self.settings, self.ref = store, settings, ref
        self.session: sessionmaker[Session] = store.session
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="review")
        self.futures: dict[str, Future[None]] = {}
        self._fail_interrupted()

    @property
    def uploads_dir(self) -> Path:
        return self.settings.data_dir / "uploads"

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
        self.futures = {k: f for k, f in self.futures.items() if not f.done()}
        self.futures[job_id] = self.pool.submit(self._run, job_id, path, spec, password)
        return row

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

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    # --- the worker ---------------------------------------------------------------------------------

    def _update(self, job_id: str, **values: object) -> None:
        with self.session.begin() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def _run(self, job_id: str, path: Path, spec: JobSpec, password: str | None) -> None:
        self._update(job_id, status="running", step="lecture")

        def progress(step: str, done: int, total: int) -> None:
            self._update(job_id, step=step, done=done, total=total)

        try:
            _, recorded = review_and_record(
                self.store,
                path,
                spec.module,
                self.settings,
                self.ref,
                password=password,
                progress=progress,
                actor=spec.actor,
                candidate_ref=spec.candidate_ref,
                owner_id=spec.owner_id,
                group_id=spec.group_id,
                assessor_id=spec.assessor_id,
                kind=spec.kind,
            )
            self._update(
                job_id,
                status="done",
                step="terminé",
                done=6,
                total=6,
                dossier_id=recorded.dossier_id,
                run_id=recorded.run_id,
                finished_at=now(),
            )
        except ReviewError as e:
            log.info("job %s failed: %s", job_id, e)
            self._update(job_id, status="failed", error=e.user_message, finished_at=now())
        except Exception:
            log.exception("job %s crashed", job_id)
            self._update(job_id, status="failed", error=CRASHED, finished_at=now())
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)

    def _fail_interrupted(self) -> None:
        with self.session.begin() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.status.in_(("queued", "running")))
                .values(status="failed", error=INTERRUPTED, finished_at=now())
            )
        shutil.rmtree(self.uploads_dir, ignore_errors=True)
