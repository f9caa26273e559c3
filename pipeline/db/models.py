"""Tables. Ids exposed in URLs are random 128-bit hex strings, never sequential."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


def new_id() -> str:
    return secrets.token_hex(16)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


def insert_absent(s: Session, model: type[Base], **values: Any) -> bool:
    """Insert a row unless one with the same key exists; True when this call inserted it.

    One statement (INSERT … ON CONFLICT DO NOTHING), so two writers storing the same row at
    once (two workers' first runs with one referentiel) both succeed where a read-then-insert
    lets the second fail on the unique key."""
    from sqlalchemy import CursorResult
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = s.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the store runs on these two only
        raise ValueError(f"unsupported database: {dialect}")
    dml = postgresql if dialect == "postgresql" else sqlite
    result = s.execute(dml.insert(model).values(**values).on_conflict_do_nothing())
    return isinstance(result, CursorResult) and result.rowcount > 0


class DossierRow(Base):
    __tablename__ = "dossiers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    file_format: Mapped[str] = mapped_column(String(8))
    module: Mapped[str] = mapped_column(String(8))
    candidate_ref: Mapped[str] = mapped_column(String(200), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")
    stored_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    parsed: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the Dossier (text, blocks) for display
    owner_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    assessor_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), default="assessment")  # assessment | self_check
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    module: Mapped[str] = mapped_column(String(8))
    backend: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    referentiel: Mapped[str] = mapped_column(String(64))
    referentiel_hash: Mapped[str] = mapped_column(String(64), index=True)  # -> referentiels.hash
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    prompt_hashes: Mapped[list] = mapped_column(JSON, default=list)
    timings: Mapped[dict] = mapped_column(JSON, default=dict)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    review: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the Review model; read it via ReviewStore.review
    status: Mapped[str] = mapped_column(String(16), default="done")  # queued | running | done | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReferentielRow(Base):
    """A referentiel as it was when runs were made with it, stored once per content hash: every run
    reloads its own, whatever the current setting or the files on disk say."""

    __tablename__ = "referentiels"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64))  # id@version
    data: Mapped[dict] = mapped_column(JSON)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class DecisionRow(Base):
    """Every decision is a new row: a changed decision keeps its history; the latest one counts."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    suggested_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agreed: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    assessor: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class GridRow(Base):
    __tablename__ = "grids"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    finalized_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    finalized_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verdicts: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditRow(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
