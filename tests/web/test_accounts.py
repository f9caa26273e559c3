"""Accounts store and login limiter, without the web layer; migration 0002 both ways."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.db.accounts import AccountStore, SessionRow
from pipeline.db.store import ReviewStore
from pipeline.errors import StorageError
from pipeline.web.security import LoginLimiter

PASSWORD = "correct-horse-battery"


@pytest.fixture
def accounts(tmp_path: Path) -> AccountStore:
    return AccountStore(ReviewStore(f"sqlite:///{tmp_path / 'db.sqlite'}").session)


def test_migration_0002_up_and_down(tmp_path: Path) -> None:
    store = ReviewStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"users", "groups", "memberships", "sessions", "jobs", "dossiers", "runs"} <= tables
    store.downgrade("0001")
    tables = set(sa.inspect(store.engine).get_table_names())
    assert "users" not in tables and "jobs" not in tables and "dossiers" in tables
    store.migrate()
    assert "users" in set(sa.inspect(store.engine).get_table_names())


def test_authenticate(accounts: AccountStore) -> None:
    user = accounts.add_user("alice", "assessor", PASSWORD, "Alice")
    assert accounts.authenticate("alice", PASSWORD) is not None
    assert accounts.authenticate(" alice ", PASSWORD) is not None
    assert accounts.authenticate("alice", PASSWORD + "x") is None
    assert accounts.authenticate("nobody", PASSWORD) is None
    assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "role", "password", "words"),
    [
        ("a", "assessor", PASSWORD, "Identifiant invalide"),
        ("bad name", "assessor", PASSWORD, "Identifiant invalide"),
        ("zoe", "superuser", PASSWORD, "Rôle inconnu"),
        ("zoe", "candidate", "short", "trop court"),
    ],
)
def test_add_user_refuses_with_a_french_message(
    accounts: AccountStore, username: str, role: str, password: str, words: str
) -> None:
    with pytest.raises(StorageError) as e:
        accounts.add_user(username, role, password)
    assert words in e.value.user_message


def test_only_trainers_and_candidates_join_groups(accounts: AccountStore) -> None:
    group = accounts.add_group("Lyon")
    alice = accounts.add_user("alice", "assessor", PASSWORD)
    carla = accounts.add_user("carla", "candidate", PASSWORD)
    with pytest.raises(StorageError, match="only trainers"):
        accounts.add_member(group.id, alice.id)
    accounts.add_member(group.id, carla.id)
    accounts.add_member(group.id, carla.id)  # idempotent
    assert [u.username for u in accounts.members(group.id)] == ["carla"]
    assert [g.name for g in accounts.groups_of(carla.id)] == ["Lyon"]


def test_sessions_expire_and_close_on_password_change(accounts: AccountStore) -> None:
    user = accounts.add_user("alice", "assessor", PASSWORD)
    token, csrf = accounts.open_session(user.id, hours=1)
    login = accounts.resolve_session(token)
    assert login is not None and login.user.id == user.id and login.csrf_token == csrf
    assert accounts.resolve_session(token + "x") is None
    with accounts.session.begin() as s:
        s.execute(sa.update(SessionRow).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert accounts.resolve_session(token) is None
    token, _ = accounts.open_session(user.id, hours=1)
    accounts.set_password(user.id, "another-long-password")
    assert accounts.resolve_session(token) is None
    assert accounts.authenticate("alice", "another-long-password") is not None


def test_session_tokens_are_stored_hashed(accounts: AccountStore) -> None:
    user = accounts.add_user("alice", "assessor", PASSWORD)
    token, _ = accounts.open_session(user.id, hours=1)
    with accounts.session() as s:
        stored = [r.token_hash for r in s.scalars(sa.select(SessionRow))]
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_login_limiter_window() -> None:
    now = [1000.0]
    limiter = LoginLimiter(max_failures=3, max_failures_per_ip=5, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.reserve("alice", "1.2.3.4") is None
    wait = limiter.retry_after("Alice", "1.2.3.4")
    assert wait is not None and 0 < wait <= 61
    assert limiter.retry_after("alice", "5.6.7.8") is None  # another address
    now[0] += 61
    assert limiter.retry_after("alice", "1.2.3.4") is None
    for name in ("a", "b", "c", "d", "e"):  # spraying names from one address
        assert limiter.reserve(name, "9.9.9.9") is None
    assert limiter.retry_after("f", "9.9.9.9") is not None
    limiter.succeeded("alice", "1.2.3.4")
