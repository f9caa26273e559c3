"""Helpers shared by the web tests: settings, logging in, uploading, waiting for a review."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = PROJECT_ROOT / "samples"
OUTPUT = PROJECT_ROOT / "test-output" / "web"
PASSWORD = "correct-horse-battery"


def without_quotes(html: str) -> str:
    """The page's own words: the dossier's sentences quoted in <q> are the candidate's text and may
    hold any word (« une relation de confiance avec nos clients »)."""
    return re.sub(r"<q\b[^>]*>.*?</q>", "", html, flags=re.S)


def web_settings(tmp: Path, **overrides: Any) -> Settings:
    """Fast settings for the web tests: hashing embedder, data in the test's temporary folder."""
    return Settings(data_dir=tmp / "data", embedder="hashing", **overrides)


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]*)"', html) or re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the login form; returns the session's CSRF token."""
    token = csrf_from(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return str(client.get("/api/v1/session").json()["csrf_token"])


def upload(client: TestClient, csrf: str, path: Path, module: str, **fields: str) -> str:
    """Upload through the API; returns the job id."""
    r = client.post(
        "/api/v1/dossiers",
        data={"module": module, **fields},
        headers={"X-CSRF-Token": csrf},
        files={"file": (path.name, path.read_bytes())},
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def finished_run(app: FastAPI, client: TestClient, job_id: str) -> str:
    app.state.web.jobs.wait(job_id, timeout=120)
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "done", job
    return str(job["run_id"])
