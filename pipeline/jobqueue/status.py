"""Writes to a job row, from the worker or from the review process itself (progress)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from pipeline.db.store import ReviewStore
from pipeline.jobqueue.model import JobRow


def set_status(store: ReviewStore, job_id: str, **values: object) -> None:
    with store.session.begin() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(**values))


def get_job(store: ReviewStore, job_id: str) -> JobRow | None:
    with store.session() as s:
        return s.get(JobRow, job_id)


def waiting_jobs(store: ReviewStore) -> dict[str, int]:
    """Jobs not finished, by status (queued, running): the queue depth /healthz reports."""
    with store.session() as s:
        rows = s.execute(
            select(JobRow.status, func.count()).where(JobRow.status.in_(("queued", "running"))).group_by(JobRow.status)
        ).all()
    return {status: int(n) for status, n in rows}
