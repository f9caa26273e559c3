"""Web fixtures: an application over a temporary data dir, users of every role, logged-in clients.

`world` (one per module) holds reviewed dossiers of every kind so the route-by-role tests read
an existing state: an assessment assigned to `alice`, self-check drafts of `carla` (group
Lyon) and `cedric` (group Paris); `tom` trains Lyon; `bob` is an assessor with no dossier.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.settings import Settings
from pipeline.web import WebOptions, create_app
from tests.web.helpers import PASSWORD, SAMPLES, finished_run, login, upload, web_settings


@dataclass
class World:
    app: FastAPI
    settings: Settings
    clients: dict[str, TestClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def client(self, who: str) -> TestClient:
        return self.clients[who]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("web-world")
    settings = web_settings(tmp)
    app = create_app(settings)
    acc = app.state.web.accounts
    lyon, paris = acc.add_group("Lyon 2025"), acc.add_group("Paris 2025")
    users = {
        "root": acc.add_user("root", "admin", PASSWORD, "Admin"),
        "alice": acc.add_user("alice", "assessor", PASSWORD, "Alice Martin"),
        "bob": acc.add_user("bob", "assessor", PASSWORD, "Bob Durand"),
        "tom": acc.add_user("tom", "trainer", PASSWORD, "Tom Formateur"),
        "carla": acc.add_user("carla", "candidate", PASSWORD, "Carla Candidate"),
        "cedric": acc.add_user("cedric", "candidate", PASSWORD, "Cédric Candidat"),
    }
    acc.add_member(lyon.id, users["tom"].id)
    acc.add_member(lyon.id, users["carla"].id)
    acc.add_member(paris.id, users["cedric"].id)
    w = World(app=app, settings=settings)
    for name in users:
        c = TestClient(app)
        w.clients[name] = c
        w.csrf[name] = login(c, name)
    w.clients["anon"] = TestClient(app)
    docx = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    draft = SAMPLES / "m1_agence_faible" / "m1_agence_faible.docx"
    job = upload(w.clients["alice"], w.csrf["alice"], docx, "M2", candidate_ref="Cand. 07", group_id=lyon.id)
    w.ids["assess_job"] = job
    w.ids["assess_run"] = finished_run(app, w.clients["alice"], job)
    job = upload(w.clients["carla"], w.csrf["carla"], draft, "M1")
    w.ids["carla_run"] = finished_run(app, w.clients["carla"], job)
    w.ids["carla_job"] = job
    job = upload(w.clients["cedric"], w.csrf["cedric"], draft, "M1")
    w.ids["cedric_run"] = finished_run(app, w.clients["cedric"], job)
    w.ids.update(lyon=lyon.id, paris=paris.id)
    for name, u in users.items():
        w.ids[f"user_{name}"] = u.id
    yield w
    for c in w.clients.values():
        c.close()
    app.state.web.jobs.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    app: FastAPI
    url: str


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port, in a thread, as `serve` runs it (forwarded
    headers are the application's business); yields its URL, stops the server on exit."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The application served by uvicorn on a free loopback port, in a thread."""
    app = create_app(web_settings(tmp_path), WebOptions())
    with serving(app) as url:
        yield LiveServer(app=app, url=url)
    app.state.web.jobs.shutdown()
