"""The job row (progress the page polls, then the dossier and run, or the error) and what a job carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db.models import Base, new_id, now


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # None: a session's job
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

    user_id: str | None  # None: a session batch's job, followed on the session (pipeline/sessions.py)
    actor: str
    kind: str
    module: str
    file_name: str
    candidate_ref: str = ""
    group_id: str | None = None
    assessor_id: str | None = None
    owner_id: str | None = None
    member_id: str | None = None  # a session member reviewed by this job (pipeline/sessions.py links the run)
    assessors: tuple[tuple[str, str | None], ...] = ()  # the manifest's assessors of that member: (name, user id)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        assessors = tuple((str(name), user) for name, user in data.get("assessors", ()))
        return cls(**{**data, "assessors": assessors})
