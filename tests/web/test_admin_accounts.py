"""Administration from the web page: password reset and deactivation, each audited; an
administrator cannot deactivate their own account."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.web import create_app
from tests.web.helpers import PASSWORD, SAMPLES, csrf_from, finished_run, login, upload, web_settings


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


def test_admin_changes_a_role_and_removes_a_member(tmp_path: Path) -> None:
    app = create_app(web_settings(tmp_path))
    acc = app.state.web.accounts
    root = acc.add_user("root", "admin", PASSWORD, "Admin")
    tom = acc.add_user("tom", "trainer", PASSWORD, "Tom Formateur")
    lea = acc.add_user("lea", "candidate", PASSWORD, "Léa Petit")
    lyon = acc.add_group("Lyon 2025")
    acc.add_member(lyon.id, tom.id)
    acc.add_member(lyon.id, lea.id)
    with TestClient(app) as admin, TestClient(app) as t:
        login(admin, "root")
        login(t, "tom")
        token = csrf_from(admin.get("/admin").text)
        r = admin.post("/admin/members/remove", data={"membership": f"{lyon.id}/{lea.id}", "csrf_token": token})
        assert r.status_code == 200 and "retiré du groupe" in r.text
        assert [u.username for u in acc.members(lyon.id)] == ["tom"]
        r = admin.post("/admin/members/remove", data={"membership": f"{lyon.id}/{lea.id}", "csrf_token": token})
        assert r.status_code == 400  # no longer a member

        r = admin.post("/admin/role", data={"user_id": tom.id, "role": "assessor", "csrf_token": token})
        assert r.status_code == 200 and "désormais évaluateur" in r.text
        assert acc.user(tom.id).role == "assessor" and acc.members(lyon.id) == []  # an assessor has no group
        assert t.get("/groups", follow_redirects=False).status_code == 303  # his session ended
        r = admin.post("/admin/role", data={"user_id": root.id, "role": "assessor", "csrf_token": token})
        assert r.status_code == 400 and "propre rôle" in r.text
        r = admin.post("/admin/role", data={"user_id": tom.id, "role": "chef", "csrf_token": token})
        assert r.status_code == 400
    actions = [(a.actor, a.action, a.detail) for a in app.state.web.store.audit()]
    assert ("root", "member_remove", "lea → Lyon 2025") in actions
    assert ("root", "role", "tom : trainer → assessor") in actions
    app.state.web.jobs.shutdown()


def test_admin_erases_a_dossier_and_a_candidate_after_confirming(tmp_path: Path) -> None:
    settings = web_settings(tmp_path)
    app = create_app(settings)
    acc = app.state.web.accounts
    store = app.state.web.store
    acc.add_user("root", "admin", PASSWORD, "Admin")
    lea = acc.add_user("lea", "candidate", PASSWORD, "Léa Petit")
    acc.add_member(acc.add_group("Lyon 2025").id, lea.id)
    docx = SAMPLES / "m1_agence_faible" / "m1_agence_faible.docx"
    with TestClient(app) as admin, TestClient(app) as cand:
        csrf = login(admin, "root")
        run_a = finished_run(app, admin, upload(admin, csrf, docx, "M1", candidate_ref="Cand. 7"))
        csrf_c = login(cand, "lea")
        run_c = finished_run(app, cand, upload(cand, csrf_c, docx, "M1"))
        dossier_a = store.run(run_a).dossier_id
        token = csrf_from(admin.get("/admin").text)

        # first the confirmation step: nothing is erased yet
        r = admin.post("/admin/erase", data={"dossier_id": dossier_a, "csrf_token": token})
        assert r.status_code == 200 and "Confirmer l’effacement" in r.text and "Cand. 7" in r.text
        r = admin.post("/admin/erase/confirm", data={"dossier_id": dossier_a, "csrf_token": token})
        assert r.status_code == 400 and "case de confirmation" in r.text
        assert store.dossier(dossier_a)
        r = admin.post("/admin/erase/confirm", data={"dossier_id": dossier_a, "confirm": "oui", "csrf_token": token})
        assert r.status_code == 200 and "m1_agence_faible.docx » effacé : le fichier" in r.text
        assert admin.get(f"/runs/{run_a}").status_code == 404

        r = admin.post("/admin/erase", data={"user_id": lea.id, "csrf_token": token})
        assert r.status_code == 200 and "Léa Petit" in r.text and "1 dossier déposé" in r.text
        r = admin.post("/admin/erase/confirm", data={"user_id": lea.id, "confirm": "oui", "csrf_token": token})
        assert r.status_code == 200 and "Candidat « Léa Petit » effacé : le compte" in r.text
        assert acc.user(lea.id) is None and cand.get("/dossiers", follow_redirects=False).status_code == 303
        assert admin.get(f"/runs/{run_c}").status_code == 404 and store.runs() == []
        r = admin.post("/admin/erase", data={"user_id": lea.id, "csrf_token": token})
        assert r.status_code == 404
    audit = store.audit()
    assert [a.action for a in audit].count("erase") == 2
    assert ("root", "user_erase") in [(a.actor, a.action) for a in audit]
    assert not any("lea" in a.actor or "lea" in a.detail or "Léa" in a.detail for a in audit)  # her name is gone
    assert not any(settings.files_dir.rglob("*.docx"))
    app.state.web.jobs.shutdown()
