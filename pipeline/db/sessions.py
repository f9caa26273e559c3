"""Certification sessions in the store: the session, its candidates' dossiers (members), the
assessors assigned to each dossier and the moderation decisions.

Double marking gives each of the two assessors a run of their own (a copy of the same stored
review, under a dossier row of their own), so their decisions, their finalize lock and the web
access rules stay those of any run: neither sees the other's levels. Moderation decisions are
inserted, never updated, like decisions: the latest per criterion counts, history is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db.models import AuditRow, Base, new_id, now
from pipeline.db.store import ReviewStore
from pipeline.errors import StorageError

MEMBER_STATUSES = ("pending", "running", "reviewed", "failed")


class ExamSessionRow(Base):
    __tablename__ = "exam_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(8))
    referentiel: Mapped[str] = mapped_column(String(64))  # id@version of the referentiel the session was opened with
    double_marking: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class SessionMemberRow(Base):
    """One candidate's dossier in a session: the file, its review (run) and the batch status."""

    __tablename__ = "session_members"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    candidate: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(300))
    file_path: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    settings_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dossier_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | running | reviewed | failed
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # queued review (jobs table): progress
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class AssignmentRow(Base):
    """An assessor of a dossier (rank 1, and rank 2 under double marking) and the run they mark."""

    __tablename__ = "session_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("session_members.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    assessor: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dossier_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assigned_by: Mapped[str] = mapped_column(String(200), default="")
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class ModerationRow(Base):
    """A moderator's level on a criterion where the two assessors disagree (inserted, never updated)."""

    __tablename__ = "session_moderations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("session_members.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    levels: Mapped[list[Any]] = mapped_column(JSON)  # the two assessors' levels it settles
    comment: Mapped[str] = mapped_column(Text, default="")
    moderator: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


@dataclass(frozen=True)
class Moderation:
    criterion_id: str
    level: int
    levels: tuple[int, ...]
    comment: str
    moderator: str
    decided_at: dt.datetime


def _moderation(r: ModerationRow) -> Moderation:
    return Moderation(r.criterion_id, r.level, tuple(r.levels), r.comment, r.moderator, r.decided_at)


class SessionStore:
    """Sessions over the same database as the `ReviewStore` (its engine and transactions)."""

    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        self.session = store.session

    # --- sessions -----------------------------------------------------------------------------------

    def create(self, name: str, module: str, referentiel: str, double_marking: bool, created_by: str) -> str:
        if not name.strip():
            raise StorageError("session without a name", "Donnez un nom à la session (ex. « MDC juin 2027 »).")
        sid = new_id()
        with self.session.begin() as s:
            s.add(
                ExamSessionRow(
                    id=sid,
                    name=name.strip(),
                    module=module,
                    referentiel=referentiel,
                    double_marking=double_marking,
                    created_by=created_by,
                    created_at=now(),
                )
            )
            s.add(AuditRow(actor=created_by or "cli", action="session_create", detail=f"{sid} {module} {name}"))
        return sid

    def get(self, session_id: str) -> ExamSessionRow:
        with self.session() as s:
            row = s.get(ExamSessionRow, session_id) if len(session_id) <= 64 else None
        if row is None:
            raise StorageError(f"session {session_id} not found", f"Session introuvable : {session_id}.")
        return row

    def all(self) -> list[ExamSessionRow]:
        with self.session() as s:
            return list(s.scalars(select(ExamSessionRow).order_by(ExamSessionRow.created_at.desc())))

    # --- members ------------------------------------------------------------------------------------

    def members(self, session_id: str) -> list[SessionMemberRow]:
        with self.session() as s:
            q = select(SessionMemberRow).where(SessionMemberRow.session_id == session_id)
            return list(s.scalars(q.order_by(SessionMemberRow.position)))

    def member(self, member_id: str) -> SessionMemberRow:
        with self.session() as s:
            row = s.get(SessionMemberRow, member_id) if len(member_id) <= 64 else None
        if row is None:
            raise StorageError(
                f"session member {member_id} not found", f"Dossier de session introuvable : {member_id}."
            )
        return row

    def find_member(self, session_id: str, key: str) -> SessionMemberRow:
        """A member by id, else by candidate name (exact, then case-insensitive)."""
        members = self.members(session_id)
        for m in members:
            if m.id == key:
                return m
        found = [m for m in members if m.candidate == key] or [
            m for m in members if m.candidate.casefold() == key.casefold()
        ]
        if len(found) == 1:
            return found[0]
        if found:
            raise StorageError(
                f"candidate {key!r} matches {len(found)} dossiers",
                f"Plusieurs dossiers pour « {key} » dans cette session : donnez l’identifiant du dossier.",
            )
        raise StorageError(f"no member {key!r}", f"Aucun dossier de « {key} » dans cette session.")

    def member_for(
        self, session_id: str, candidate: str, file_name: str, group: str, file_path: str
    ) -> SessionMemberRow:
        """The member for this manifest row: the existing one (a rerun resumes it), else a new one."""
        with self.session.begin() as s:
            row = s.scalars(
                select(SessionMemberRow).where(
                    SessionMemberRow.session_id == session_id,
                    SessionMemberRow.candidate == candidate,
                    SessionMemberRow.file_name == file_name,
                )
            ).first()
            if row is None:
                position = s.scalar(
                    select(func.count()).select_from(SessionMemberRow).where(SessionMemberRow.session_id == session_id)
                )
                row = SessionMemberRow(
                    id=new_id(),
                    session_id=session_id,
                    position=int(position or 0),
                    candidate=candidate,
                    group_name=group,
                    file_name=file_name,
                    file_path=file_path,
                    status="pending",
                    added_at=now(),
                )
                s.add(row)
            else:
                row.file_path, row.group_name = file_path, group or row.group_name
        return row

    def update_member(self, member_id: str, **fields: Any) -> None:
        with self.session.begin() as s:
            row = s.get(SessionMemberRow, member_id)
            if row is None:
                raise StorageError(f"session member {member_id} not found", "Dossier de session introuvable.")
            for k, v in fields.items():
                setattr(row, k, v)

    # --- assessors ----------------------------------------------------------------------------------

    def assignments(self, member_id: str) -> list[AssignmentRow]:
        with self.session() as s:
            q = select(AssignmentRow).where(AssignmentRow.member_id == member_id).order_by(AssignmentRow.rank)
            return list(s.scalars(q))

    def set_assignment(
        self,
        member_id: str,
        rank: int,
        assessor: str,
        by: str,
        user_id: str | None = None,
        dossier_id: str | None = None,
        run_id: str | None = None,
    ) -> AssignmentRow:
        """Give rank `rank` of the dossier to `assessor`; refused once the previous one has decided."""
        with self.session.begin() as s:
            row = s.scalars(
                select(AssignmentRow).where(AssignmentRow.member_id == member_id, AssignmentRow.rank == rank)
            ).first()
            if row is None:
                row = AssignmentRow(member_id=member_id, rank=rank, assigned_at=now())
                s.add(row)
            elif row.assessor != assessor and row.run_id and self.store.history(row.run_id):
                raise StorageError(
                    f"assessor {row.assessor} has already decided",
                    f"{row.assessor} a déjà commencé à noter ce dossier : l’affectation ne peut plus changer.",
                )
            row.assessor, row.user_id, row.assigned_by = assessor, user_id, by
            row.dossier_id = dossier_id or row.dossier_id
            row.run_id = run_id or row.run_id
            s.add(AuditRow(actor=by or "cli", action="session_assign", run_id=row.run_id, detail=f"{rank}: {assessor}"))
        return row

    # --- moderation ---------------------------------------------------------------------------------

    def moderate(
        self, member_id: str, criterion_id: str, level: int, levels: list[int], comment: str, moderator: str
    ) -> Moderation:
        with self.session.begin() as s:
            row = ModerationRow(
                member_id=member_id,
                criterion_id=criterion_id,
                level=level,
                levels=levels,
                comment=comment,
                moderator=moderator,
                decided_at=now(),
            )
            s.add(row)
            s.add(
                AuditRow(
                    actor=moderator,
                    action="moderate",
                    detail=f"{member_id} {criterion_id}={level} (évaluateurs : {', '.join(map(str, levels))})",
                )
            )
        return _moderation(row)

    def moderations(self, member_id: str) -> dict[str, Moderation]:
        """The latest moderation decision per criterion."""
        with self.session() as s:
            rows = s.scalars(
                select(ModerationRow).where(ModerationRow.member_id == member_id).order_by(ModerationRow.id)
            )
            return {r.criterion_id: _moderation(r) for r in rows}
