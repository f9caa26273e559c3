"""Property-based fuzzing of the JSON API from its own OpenAPI spec (schemathesis): never a 5xx.

Requests are sent as a logged-in admin (who may reach every route) with a valid CSRF header;
path ids are pinned to real objects so the generated bodies reach the handlers instead of a
404. Logging out is left out (it would end the fuzzing session); it is tested in test_api.
The strategies are driven by Hypothesis directly rather than through schemathesis' pytest
plugin, whose lazy fixture loader does not run under pytest 9.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.helpers import PASSWORD, SAMPLES, finished_run, login, upload, web_settings

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  # after the importorskip guard
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance  # noqa: E402

from pipeline.db.sessions import SessionStore  # noqa: E402
from pipeline.web import create_app  # noqa: E402

pytestmark = pytest.mark.slow


class Target:
    def __init__(self, tmp: Path) -> None:
        self.app = create_app(web_settings(tmp))
        acc = self.app.state.web.accounts
        acc.add_user("root", "admin", PASSWORD, "Admin")
        group = acc.add_group("Lyon 2025")
        from fastapi.testclient import TestClient

        self.client = TestClient(self.app)
        self.csrf = login(self.client, "root")
        job = upload(
            self.client, self.csrf, SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx", "M2", group_id=group.id
        )
        self.ids = {"run_id": finished_run(self.app, self.client, job), "job_id": job, "group_id": group.id}
        web = self.app.state.web
        self.ids["session_id"] = SessionStore(web.store).create("Fuzz", "M2", web.ref.ref, True, "root")
        self.cookies = {"dr_session": self.client.cookies.get("dr_session") or ""}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    t = Target(tmp_path_factory.mktemp("fuzz"))
    yield t
    t.client.close()
    t.app.state.web.jobs.shutdown()


# every operation of the spec but logging out, which would end the fuzzing session
OPERATIONS = [
    ("GET", "/api/v1/session"),
    ("POST", "/api/v1/session"),
    ("GET", "/api/v1/modules"),
    ("GET", "/api/v1/dossiers"),
    ("POST", "/api/v1/dossiers"),
    ("GET", "/api/v1/jobs/{job_id}"),
    ("GET", "/api/v1/runs/{run_id}"),
    ("GET", "/api/v1/runs/{run_id}/text"),
    ("GET", "/api/v1/runs/{run_id}/feedback"),
    ("POST", "/api/v1/runs/{run_id}/decisions"),
    ("POST", "/api/v1/runs/{run_id}/finalize"),
    ("GET", "/api/v1/groups"),
    ("GET", "/api/v1/groups/{group_id}/cohort"),
    ("GET", "/api/v1/comment-bank"),
    ("POST", "/api/v1/comment-bank"),
    ("DELETE", "/api/v1/comment-bank/{comment_id}"),
    ("GET", "/api/v1/sessions/{session_id}"),
    ("GET", "/api/v1/sessions/{session_id}/exports/{name}"),
]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(target: Target) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", target.app)


def test_the_fuzzed_operations_cover_the_api(api_schema: Any) -> None:
    spec = {(m.upper(), p) for p, ops in api_schema.raw_schema["paths"].items() for m in ops}
    assert spec - set(OPERATIONS) == {("DELETE", "/api/v1/session")}
    assert set(OPERATIONS) <= spec


# negative cases need an input to spoil: a path parameter or a body
CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE) for m, p in OPERATIONS if "{" in p or m == "POST"
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_api_never_answers_5xx(target: Target, api_schema: Any, method: str, path: str, mode: GenerationMode) -> None:
    """Valid requests (ids pinned to real objects) and invalid ones never get a server error nor break the contract."""
    pinned = {k: v for k, v in target.ids.items() if "{" + k + "}" in path and mode == GenerationMode.POSITIVE}
    headers = {"X-CSRF-Token": target.csrf}
    strategy = api_schema[path][method].as_strategy(mode, path_parameters=pinned or None)

    @given(case=strategy)
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def fuzz(case: Any) -> None:
        case.call_and_validate(headers=headers, cookies=target.cookies, checks=CHECKS)

    fuzz()
