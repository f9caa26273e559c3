"""Administration from the web page: password reset and deactivation, each audited; an
administrator cannot deactivate their own account."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.web import create_app
from tests.web.helpers import PASSWORD, csrf_from, login, web_settings


def test_admin_resets_a_password_and_deactivates_an_account(tmp_path: Path) -> None:
    app = create_app(web_settings(tmp_path))
    acc = app.state.web.accounts
    root = acc.add_user("root", "admin", PASSWORD, "Admin")
    bob = acc.add_user("bob", "assessor", PASSWORD, "Bob Durand")
    with TestClient(app) as admin, TestClient(app) as b:
        login(admin, "root")
        login(b, "bob")
        token = csrf_from(admin.get("/admin").text)
        r = admin.post(
            "/admin/password", data={"user_id": bob.id, "password": "nouveau-mot-de-passe", "csrf_token": token}
        )
        assert r.status_code == 200 and "réinitialisé" in r.text
        assert b.get("/dossiers", follow_redirects=False).status_code == 303  # his session ended
        assert acc.authenticate("bob", "nouveau-mot-de-passe") is not None
        r = admin.post("/admin/password", data={"user_id": bob.id, "password": "court", "csrf_token": token})
        assert r.status_code == 400

        r = admin.post("/admin/active", data={"user_id": bob.id, "active": "0", "csrf_token": token})
        assert r.status_code == 200 and "désactivé" in r.text
        assert acc.authenticate("bob", "nouveau-mot-de-passe") is None
        r = admin.post("/admin/active", data={"user_id": root.id, "active": "0", "csrf_token": token})
        assert r.status_code == 400 and "propre compte" in r.text
        admin.post("/admin/active", data={"user_id": bob.id, "active": "1", "csrf_token": token})
        assert acc.authenticate("bob", "nouveau-mot-de-passe") is not None
    actions = [(a.actor, a.action, a.detail) for a in app.state.web.store.audit()]
    for action in ("password", "deactivate", "reactivate"):
        assert ("root", action, "bob") in actions
    app.state.web.jobs.shutdown()
