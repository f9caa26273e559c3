"""The comment bank: each assessor's own reusable comments, per criterion.

Stored per user (deleted with the account); never shared between assessors. A comment inserted
into a decision is copied there: editing or deleting it in the bank changes no decision.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from pipeline.db.models import Base, new_id, now
from pipeline.errors import StorageError

MAX_PER_CRITERION = 50
MAX_CHARS = 2000


class BankCommentRow(Base):
    __tablename__ = "comment_bank"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class CommentBank:
    """Read and change one user's bank; every method takes the owner, so no one reads another's."""

    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def comments(self, user_id: str) -> dict[str, list[BankCommentRow]]:
        """The user's comments by criterion, oldest first."""
        with self.session() as s:
            rows = s.scalars(
                select(BankCommentRow).where(BankCommentRow.user_id == user_id).order_by(BankCommentRow.created_at)
            ).all()
        out: dict[str, list[BankCommentRow]] = {}
        for r in rows:
            out.setdefault(r.criterion_id, []).append(r)
        return out

    def add(self, user_id: str, criterion_id: str, text: str) -> BankCommentRow:
        """Save a comment for the criterion; the same text twice is kept once."""
        text = text.strip()
        if not text:
            raise StorageError("empty bank comment", "Le commentaire à enregistrer est vide.")
        if len(text) > MAX_CHARS:
            raise StorageError("bank comment too long", f"Un commentaire type tient en {MAX_CHARS} caractères au plus.")
        with self.session.begin() as s:
            mine = s.scalars(
                select(BankCommentRow).where(
                    BankCommentRow.user_id == user_id, BankCommentRow.criterion_id == criterion_id
                )
            ).all()
            for r in mine:
                if r.text == text:
                    s.expunge(r)
                    return r
            if len(mine) >= MAX_PER_CRITERION:
                raise StorageError(
                    "bank full", f"{MAX_PER_CRITERION} commentaires types au plus par critère : supprimez-en un."
                )
            row = BankCommentRow(user_id=user_id, criterion_id=criterion_id, text=text)
            s.add(row)
            s.flush()
            s.expunge(row)
            return row

    def remove(self, user_id: str, comment_id: str) -> bool:
        with self.session.begin() as s:
            gone = s.execute(
                delete(BankCommentRow).where(BankCommentRow.id == comment_id, BankCommentRow.user_id == user_id)
            )
            return bool(getattr(gone, "rowcount", 0))
