"""The comment bank: each assessor's own comments per criterion, kept once, never another's;
migration 0005 down and up; the web API behind the review page's bank."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.db.accounts import AccountStore
from pipeline.db.comments import CommentBank
from pipeline.db.store import ReviewStore
from pipeline.errors import StorageError


def test_bank_is_per_user_and_per_criterion(tmp_path: Path) -> None:
    store = ReviewStore(f"sqlite:///{tmp_path / 'b.db'}")
    acc = AccountStore(store.session)
    alice = acc.add_user("alice", "assessor", "correct-horse-battery")
    bob = acc.add_user("bob", "assessor", "correct-horse-battery")
    bank = CommentBank(store.session)
    first = bank.add(alice.id, "C1.1", "  Chiffrez les objectifs.  ")
    assert first.text == "Chiffrez les objectifs."
    assert bank.add(alice.id, "C1.1", "Chiffrez les objectifs.").id == first.id  # kept once
    bank.add(alice.id, "C1.2", "Citez vos sources.")
    assert {c: [r.text for r in rows] for c, rows in bank.comments(alice.id).items()} == {
        "C1.1": ["Chiffrez les objectifs."],
        "C1.2": ["Citez vos sources."],
    }
    assert bank.comments(bob.id) == {}
    assert not bank.remove(bob.id, first.id)  # not his
    assert bank.remove(alice.id, first.id)
    with pytest.raises(StorageError):
        bank.add(alice.id, "C1.1", "   ")


def test_migration_0005_down_and_up(tmp_path: Path) -> None:
    store = ReviewStore(f"sqlite:///{tmp_path / 'm.db'}")
    store.downgrade("0004")
    assert "comment_bank" not in sa.inspect(store.engine).get_table_names()
    store.migrate()
    assert "comment_bank" in sa.inspect(store.engine).get_table_names()


def test_bank_through_the_api(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from pipeline.web import create_app
    from tests.web.helpers import PASSWORD, login, web_settings

    app = create_app(web_settings(tmp_path))
    acc = app.state.web.accounts
    acc.add_user("alice", "assessor", PASSWORD)
    acc.add_user("bob", "assessor", PASSWORD)
    acc.add_user("carla", "candidate", PASSWORD)
    with TestClient(app) as alice, TestClient(app) as bob, TestClient(app) as carla:
        a, b, c = login(alice, "alice"), login(bob, "bob"), login(carla, "carla")
        r = alice.post(
            "/api/v1/comment-bank",
            json={"criterion_id": "C4.5", "text": "Grille chiffrée ?"},
            headers={"X-CSRF-Token": a},
        )
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert alice.get("/api/v1/comment-bank").json()["C4.5"][0]["text"] == "Grille chiffrée ?"
        assert bob.get("/api/v1/comment-bank").json() == {}
        assert bob.delete(f"/api/v1/comment-bank/{cid}", headers={"X-CSRF-Token": b}).status_code == 404
        assert carla.get("/api/v1/comment-bank").status_code == 403
        assert (
            carla.post(
                "/api/v1/comment-bank", json={"criterion_id": "C4.5", "text": "x"}, headers={"X-CSRF-Token": c}
            ).status_code
            == 403
        )
        assert alice.delete(f"/api/v1/comment-bank/{cid}", headers={"X-CSRF-Token": a}).status_code == 204
    app.state.web.jobs.shutdown()
