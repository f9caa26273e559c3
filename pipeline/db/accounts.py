"""Accounts and access: users with a role, groups (cohorts), memberships, login sessions.

Passwords are hashed with argon2id; a session cookie holds a random token whose SHA-256 only
is stored, so a copy of the database opens no session. Every id is a random 128-bit hex string.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, ForeignKey, String, delete, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from pipeline.db.models import AuditRow, Base, DossierRow, insert_absent, new_id, now
from pipeline.errors import StorageError

Role = Literal["admin", "assessor", "trainer", "candidate"]
ROLES: tuple[str, ...] = get_args(Role)
ROLE_LABELS = {"admin": "administrateur", "assessor": "évaluateur", "trainer": "formateur", "candidate": "candidat"}
GROUP_ROLES = ("trainer", "candidate")  # the roles that belong to groups
ERASED_NAME = "[compte effacé]"  # stands for an erased account's name in the audit trail
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,62}$")

_hasher = PasswordHasher()
# verified when the user does not exist, so an unknown name costs the same time as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)

    @property
    def name(self) -> str:
        return self.display_name or self.username


class GroupRow(Base):
    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class MembershipRow(Base):
    """A trainer or a candidate belongs to a group (a cohort)."""

    __tablename__ = "memberships"
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class SessionRow(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class LoginSession:
    """What a valid session cookie resolves to."""

    user: UserRow
    csrf_token: str
    expires_at: dt.datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for timezone columns: they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class AccountStore:
    """Users, groups and sessions, on the ReviewStore's engine (migrations run by ReviewStore)."""

    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    # --- users --------------------------------------------------------------------------------------

    def add_user(self, username: str, role: str, password: str, display_name: str = "", actor: str = "cli") -> UserRow:
        username = username.strip()
        if not _USERNAME.match(username):
            raise StorageError(
                f"invalid username {username!r}",
                f"Identifiant invalide « {username} » : 2 à 63 caractères, lettres, chiffres, « . _ @ - ».",
            )
        if role not in ROLES:
            raise StorageError(f"unknown role {role!r}", f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
        check_password(password)
        row = UserRow(
            id=new_id(),
            username=username,
            role=role,
            display_name=display_name.strip(),
            password_hash=_hasher.hash(password),
            active=True,
            created_at=now(),
        )
        try:
            with self.session.begin() as s:
                s.add(row)
                s.add(AuditRow(actor=actor, action="user_add", detail=f"{username} ({role})"))
        except IntegrityError as e:
            raise StorageError(f"user {username} exists", f"L’identifiant « {username} » existe déjà.") from e
        return row

    def set_password(self, user_id: str, password: str, actor: str = "cli") -> None:
        check_password(password)
        with self.session.begin() as s:
            user = s.get(UserRow, user_id)
            if user is None:
                raise StorageError(f"user {user_id} not found", "Utilisateur introuvable.")
            user.password_hash = _hasher.hash(password)
            s.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            s.add(AuditRow(actor=actor, action="password", detail=user.username))

    def set_active(self, user_id: str, active: bool, actor: str = "cli") -> UserRow:
        """Deactivate (its sessions end, it can no longer log in; its decisions stay) or reactivate."""
        with self.session.begin() as s:
            user = s.get(UserRow, user_id)
            if user is None:
                raise StorageError(f"user {user_id} not found", "Utilisateur introuvable.")
            user.active = active
            if not active:
                s.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            s.add(AuditRow(actor=actor, action="reactivate" if active else "deactivate", detail=user.username))
            s.flush()
            s.expunge(user)
            return user

    def set_role(self, user_id: str, role: str, actor: str = "cli") -> UserRow:
        """Change an account's role (audited): its sessions end, and it leaves its groups when the new
        role has none (only trainers and candidates belong to a group)."""
        if role not in ROLES:
            raise StorageError(f"unknown role {role!r}", f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
        with self.session.begin() as s:
            user = s.get(UserRow, user_id)
            if user is None:
                raise StorageError(f"user {user_id} not found", "Utilisateur introuvable.")
            old, user.role = user.role, role
            s.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            if role not in GROUP_ROLES:
                s.execute(delete(MembershipRow).where(MembershipRow.user_id == user_id))
            s.add(AuditRow(actor=actor, action="role", detail=f"{user.username} : {old} → {role}"))
            s.flush()
            s.expunge(user)
            return user

    def erase_user(self, user_id: str, actor: str = "cli") -> None:
        """Delete an account (its sessions and memberships go with it) and take its name out of the
        audit trail: the lines about it keep their action and date, with the name replaced."""
        with self.session.begin() as s:
            user = s.get(UserRow, user_id)
            if user is None:
                raise StorageError(f"user {user_id} not found", "Utilisateur introuvable.")
            name, role = user.username, user.role
            s.execute(update(AuditRow).where(AuditRow.actor == name).values(actor=ERASED_NAME))
            for row in s.scalars(select(AuditRow).where(AuditRow.detail.startswith(name))):
                if row.detail == name or row.detail.startswith((f"{name} (", f"{name} → ", f"{name} : ")):
                    row.detail = ERASED_NAME + row.detail[len(name) :]
            if sa_inspect(s.connection()).has_table("jobs"):  # web upload jobs keep the file name
                s.execute(text("DELETE FROM jobs WHERE user_id = :u"), {"u": user_id})
            s.delete(user)  # its sessions, memberships and saved comments go by ON DELETE CASCADE
            s.add(AuditRow(actor=actor, action="user_erase", detail=f"compte de {ROLE_LABELS[role]} effacé"))

    def authenticate(self, username: str, password: str) -> UserRow | None:
        """The active user whose password matches, else None (same cost whether the name exists or not)."""
        with self.session() as s:
            user = s.scalar(select(UserRow).where(UserRow.username == username.strip()))
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(user.password_hash, password):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            with self.session.begin() as s:
                s.execute(update(UserRow).where(UserRow.id == user.id).values(password_hash=_hasher.hash(password)))
        return user

    def user(self, user_id: str) -> UserRow | None:
        with self.session() as s:
            return s.get(UserRow, user_id)

    def user_by_name(self, username: str) -> UserRow:
        with self.session() as s:
            user = s.scalar(select(UserRow).where(UserRow.username == username.strip()))
        if user is None:
            raise StorageError(f"user {username} not found", f"Utilisateur inconnu : « {username} ».")
        return user

    def users(self, role: str | None = None) -> list[UserRow]:
        with self.session() as s:
            q = select(UserRow).order_by(UserRow.role, UserRow.username)
            if role:
                q = q.where(UserRow.role == role)
            return list(s.scalars(q))

    # --- groups -------------------------------------------------------------------------------------

    def add_group(self, name: str, actor: str = "cli") -> GroupRow:
        name = " ".join(name.split())
        if not 1 <= len(name) <= 100:
            raise StorageError("invalid group name", "Nom de groupe invalide (1 à 100 caractères).")
        row = GroupRow(id=new_id(), name=name, created_at=now())
        try:
            with self.session.begin() as s:
                s.add(row)
                s.add(AuditRow(actor=actor, action="group_add", detail=name))
        except IntegrityError as e:
            raise StorageError(f"group {name} exists", f"Le groupe « {name} » existe déjà.") from e
        return row

    def group(self, group_id: str) -> GroupRow | None:
        with self.session() as s:
            return s.get(GroupRow, group_id)

    def group_by_name(self, name: str, create: bool = False, actor: str = "cli") -> GroupRow:
        with self.session() as s:
            row = s.scalar(select(GroupRow).where(GroupRow.name == " ".join(name.split())))
        if row is not None:
            return row
        if create:
            return self.add_group(name, actor)
        raise StorageError(f"group {name} not found", f"Groupe inconnu : « {name} ».")

    def groups(self) -> list[GroupRow]:
        with self.session() as s:
            return list(s.scalars(select(GroupRow).order_by(GroupRow.name)))

    def groups_of(self, user_id: str) -> list[GroupRow]:
        with self.session() as s:
            q = (
                select(GroupRow)
                .join(MembershipRow, MembershipRow.group_id == GroupRow.id)
                .where(MembershipRow.user_id == user_id)
                .order_by(GroupRow.name)
            )
            return list(s.scalars(q))

    def members(self, group_id: str, role: str | None = None) -> list[UserRow]:
        with self.session() as s:
            q = (
                select(UserRow)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .where(MembershipRow.group_id == group_id)
                .order_by(UserRow.username)
            )
            if role:
                q = q.where(UserRow.role == role)
            return list(s.scalars(q))

    def add_member(self, group_id: str, user_id: str, actor: str = "cli") -> None:
        """Put a trainer or a candidate in a group (idempotent)."""
        with self.session.begin() as s:
            user, group = s.get(UserRow, user_id), s.get(GroupRow, group_id)
            if user is None or group is None:
                raise StorageError("user or group not found", "Utilisateur ou groupe introuvable.")
            if user.role not in GROUP_ROLES:
                raise StorageError(
                    f"{user.username} is {user.role}: only trainers and candidates join groups",
                    f"« {user.username} » est {ROLE_LABELS[user.role]} : seuls les formateurs et les candidats "
                    "appartiennent à un groupe.",
                )
            if insert_absent(s, MembershipRow, group_id=group_id, user_id=user_id):
                s.add(AuditRow(actor=actor, action="member_add", detail=f"{user.username} → {group.name}"))

    def remove_member(self, group_id: str, user_id: str, actor: str = "cli") -> None:
        """Take a trainer or a candidate out of a group (audited); their dossiers stay."""
        with self.session.begin() as s:
            user, group = s.get(UserRow, user_id), s.get(GroupRow, group_id)
            membership = s.get(MembershipRow, (group_id, user_id))
            if user is None or group is None or membership is None:
                raise StorageError("membership not found", "Ce compte n’appartient pas à ce groupe.")
            s.delete(membership)
            s.add(AuditRow(actor=actor, action="member_remove", detail=f"{user.username} → {group.name}"))

    # --- dossier assignment -------------------------------------------------------------------------

    def assign_dossier(self, dossier_id: str, assessor_id: str, actor: str = "cli") -> None:
        """Give a dossier to an assessor: from now on only they (and admins) see it."""
        with self.session.begin() as s:
            user, dossier = s.get(UserRow, assessor_id), s.get(DossierRow, dossier_id)
            if dossier is None:
                raise StorageError(f"dossier {dossier_id} not found", f"Dossier introuvable : {dossier_id}.")
            if user is None or user.role != "assessor":
                raise StorageError("not an assessor", "Un dossier ne peut être confié qu’à un évaluateur.")
            if dossier.kind != "assessment":
                raise StorageError(
                    "self-check dossiers are not assessed",
                    "Ce dépôt est une auto-évaluation du candidat : il ne se confie pas à un évaluateur.",
                )
            dossier.assessor_id = assessor_id
            s.add(AuditRow(actor=actor, action="assign", dossier_id=dossier_id, detail=user.username))

    # --- sessions -----------------------------------------------------------------------------------

    def open_session(self, user_id: str, hours: float) -> tuple[str, str]:
        """A new session: returns (cookie token, CSRF token). Expired sessions are purged on the way."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        at = now()
        with self.session.begin() as s:
            s.execute(delete(SessionRow).where(SessionRow.expires_at < at))
            s.add(
                SessionRow(
                    token_hash=_token_hash(token),
                    user_id=user_id,
                    csrf_token=csrf,
                    created_at=at,
                    expires_at=at + dt.timedelta(hours=hours),
                )
            )
        return token, csrf

    def resolve_session(self, token: str) -> LoginSession | None:
        if not token or len(token) > 200:
            return None
        with self.session() as s:
            row = s.get(SessionRow, _token_hash(token))
            if row is None or _aware(row.expires_at) <= now():
                return None
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                return None
            return LoginSession(user=user, csrf_token=row.csrf_token, expires_at=_aware(row.expires_at))

    def close_session(self, token: str) -> None:
        with self.session.begin() as s:
            s.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StorageError("password too short", f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.")
    if len(password) > 1024:
        raise StorageError("password too long", "Mot de passe trop long (1024 caractères au plus).")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
