"""Sessions in the web workspace: an administrator creates a session, uploads a manifest with its
files (one broken), assigns two assessors under double marking, downloads the minutes; each
assessor reaches only their own run; ids nobody may see answer 404."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.web import create_app
from pipeline.web.sessions import wait_batch
from tests.web.helpers import PASSWORD, SAMPLES, login, web_settings

FILES = [
    SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx",
    SAMPLES / "m2_traiteur_faible" / "m2_traiteur_faible.pdf",
]


@dataclass
class Site:
    app: FastAPI
    clients: dict[str, TestClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = create_app(web_settings(tmp_path_factory.mktemp("web-sessions")))
    acc = app.state.web.accounts
    users = {
        "root": acc.add_user("root", "admin", PASSWORD, "Admin"),
        "alice": acc.add_user("alice", "assessor", PASSWORD, "Alice Martin"),
        "bob": acc.add_user("bob", "assessor", PASSWORD, "Bob Durand"),
    }
    s = Site(app=app)
    for name, u in users.items():
        c = TestClient(app)
        s.clients[name], s.csrf[name], s.ids[name] = c, login(c, name), u.id
    yield s
    for c in s.clients.values():
        c.close()
    app.state.web.jobs.shutdown()


def _manifest(rows: list[tuple[str, str]]) -> bytes:
    return ("candidate,file\n" + "".join(f"{a},{b}\n" for a, b in rows)).encode("utf-8")


def test_session_upload_assign_and_exports(site: Site) -> None:
    root, csrf = site.clients["root"], site.csrf["root"]
    r = root.post(
        "/sessions",
        data={"name": "MDC juin 2027", "module": "M2", "double_marking": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    sid = r.headers["location"].rsplit("/", 1)[-1]

    files = [("files", (p.name, p.read_bytes())) for p in FILES] + [("files", ("casse.pdf", b"%PDF-1.4 broken"))]
    manifest = _manifest(
        [("Amélie Roux", FILES[0].name), ("Bruno Lefèvre", FILES[1].name), ("Karim Cassé", "casse.pdf")]
    )
    r = root.post(
        f"/sessions/{sid}/upload",
        data={"csrf_token": csrf},
        files=[("manifest", ("manifeste.csv", manifest)), *files],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    wait_batch(sid)
    status = root.get(f"/api/v1/sessions/{sid}").json()
    assert status["session"] == "MDC juin 2027" and status["module"] == "M2" and not status["running"]
    by_name = {d["candidate"]: d for d in status["dossiers"]}
    assert by_name["Amélie Roux"]["run_id"] and by_name["Bruno Lefèvre"]["run_id"], status["dossiers"]
    assert by_name["Karim Cassé"]["status"] == "erreur" and by_name["Karim Cassé"]["error"]
    page = root.get(f"/sessions/{sid}").text
    assert "Karim Cassé" in page and "à affecter" in page

    r = root.post(
        f"/sessions/{sid}/assign",
        data={"assessor_ids": [site.ids["alice"], site.ids["bob"]], "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    status = root.get(f"/api/v1/sessions/{sid}").json()
    amelie = next(d for d in status["dossiers"] if d["candidate"] == "Amélie Roux")
    runs = {a["name"]: a["run_id"] for a in amelie["assessors"]}
    assert set(runs) == {"Alice Martin", "Bob Durand"} and len(set(runs.values())) == 2
    alice, bob = site.clients["alice"], site.clients["bob"]
    # each assessor sees their own run of the dossier, never the other's (404, as for an unknown id)
    assert alice.get(f"/api/v1/runs/{runs['Alice Martin']}").status_code == 200
    assert alice.get(f"/api/v1/runs/{runs['Bob Durand']}").status_code == 404
    assert bob.get(f"/api/v1/runs/{runs['Alice Martin']}").status_code == 404
    # sessions are the administrators' business; unknown ids answer 404
    assert alice.get(f"/api/v1/sessions/{sid}").status_code in (403, 404)
    assert alice.get(f"/sessions/{sid}").status_code in (403, 404)
    assert root.get(f"/api/v1/sessions/{'0' * 32}").status_code == 404
    assert root.get(f"/sessions/{'0' * 32}").status_code == 404

    r = root.get(f"/sessions/{sid}/pv.docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = root.get(f"/api/v1/sessions/{sid}/exports/resultats.csv")
    assert r.status_code == 200 and "Amélie Roux" in r.content.decode("utf-8-sig")
    assert root.get(f"/sessions/{sid}/secret.txt").status_code == 404


def test_manifest_may_only_name_uploaded_files(site: Site, tmp_path: Path) -> None:
    root, csrf = site.clients["root"], site.csrf["root"]
    r = root.post("/sessions", data={"name": "S2", "module": "M2", "csrf_token": csrf}, follow_redirects=False)
    sid = r.headers["location"].rsplit("/", 1)[-1]
    manifest = _manifest([("Eve", "/etc/passwd")])
    r = root.post(
        f"/sessions/{sid}/upload",
        data={"csrf_token": csrf},
        files=[("manifest", ("m.csv", manifest)), ("files", ("a.pdf", b"%PDF-1.4"))],
    )
    assert r.status_code == 400 and "fichiers déposés avec lui" in r.text
    r = root.post(
        f"/sessions/{sid}/upload",
        data={"csrf_token": csrf},
        files=[("manifest", ("m.csv", b"nom,fichier\nx,y\n")), ("files", ("a.pdf", b"%PDF-1.4"))],
    )
    assert r.status_code == 400 and "candidate,file" in r.text


def test_manifest_assessors_get_their_dossier_in_the_workspace(site: Site) -> None:
    root, csrf = site.clients["root"], site.csrf["root"]
    r = root.post("/sessions", data={"name": "S3", "module": "M2", "csrf_token": csrf}, follow_redirects=False)
    sid = r.headers["location"].rsplit("/", 1)[-1]
    manifest = f"candidate,file,assessor\nZoé Blanc,{FILES[0].name},Bob Durand\n".encode()
    r = root.post(
        f"/sessions/{sid}/upload",
        data={"csrf_token": csrf},
        files=[("manifest", ("m.csv", manifest)), ("files", (FILES[0].name, FILES[0].read_bytes()))],
        follow_redirects=False,
    )
    assert r.status_code == 303
    wait_batch(sid)
    [d] = root.get(f"/api/v1/sessions/{sid}").json()["dossiers"]
    assert [a["name"] for a in d["assessors"]] == ["Bob Durand"]
    run_id = d["assessors"][0]["run_id"]
    assert site.clients["bob"].get(f"/api/v1/runs/{run_id}").status_code == 200
    assert site.clients["alice"].get(f"/api/v1/runs/{run_id}").status_code == 404
