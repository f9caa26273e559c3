"""Issue 14 findings 4, 5 and 6 on the web: the login limit under a parallel burst, client addresses
behind proxies, and formula cells in the trainer's cohort CSV."""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from pipeline.errors import ReviewError
from pipeline.reports.csv_safe import FORMULA_STARTS
from pipeline.web import WebOptions, create_app
from pipeline.web.proxies import LOOPBACK, client_address, parse_networks
from tests.web.conftest import LiveServer
from tests.web.helpers import PASSWORD, SAMPLES, finished_run, login, upload, web_settings

BURST = 15


def test_parallel_wrong_logins_hit_the_limit(live_server: LiveServer) -> None:
    """15 wrong passwords sent at once to a real server: the limit (5) holds, the rest get 429."""
    live_server.app.state.web.accounts.add_user("alice", "assessor", PASSWORD, "Alice Martin")
    clients = [httpx.Client(base_url=live_server.url, timeout=60) for _ in range(BURST)]
    tokens = [c.get("/api/v1/session").json()["csrf_token"] for c in clients]
    start = threading.Barrier(BURST)
    codes: list[int] = []

    def attempt(c: httpx.Client, token: str) -> None:
        start.wait()
        r = c.post(
            "/api/v1/session", json={"username": "alice", "password": "wrong-password"}, headers={"X-CSRF-Token": token}
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=ct) for ct in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for c in clients:
        c.close()
    counts = Counter(codes)
    print(f"\n{BURST} parallel wrong logins: {dict(counts)}")
    assert sum(counts.values()) == BURST and set(counts) <= {401, 429}
    assert counts[429] >= 10 and counts[401] <= 5


def _wrong_login(c: TestClient, forwarded_for: str | None) -> int:
    token = c.get("/api/v1/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    r = c.post("/api/v1/session", json={"username": "alice", "password": "wrong-password"}, headers=headers)
    return r.status_code


@pytest.fixture
def proxied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The app behind a trusted proxy at 10.0.0.2 (DOSSIER_REVIEW_TRUSTED_PROXIES), alice registered."""
    monkeypatch.setenv("DOSSIER_REVIEW_TRUSTED_PROXIES", "10.0.0.0/29, 2001:db8::/64")
    app = create_app(web_settings(tmp_path))
    app.state.web.accounts.add_user("alice", "assessor", PASSWORD)
    return TestClient(app, client=("10.0.0.2", 40000))


def test_forged_leftmost_forwarded_for_does_not_escape_the_limit(proxied: TestClient) -> None:
    """The attacker writes a new X-Forwarded-For each time; the proxy appends the real address."""
    codes = [_wrong_login(proxied, f"198.51.100.{i}, 203.0.113.7") for i in range(8)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3
    # another real client behind the same proxy still has its own attempts
    assert _wrong_login(proxied, "203.0.113.8") == 401


def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_REVIEW_TRUSTED_PROXIES", "10.0.0.2")
    app = create_app(web_settings(tmp_path), WebOptions(trust_proxy=True))
    app.state.web.accounts.add_user("alice", "assessor", PASSWORD)
    direct = TestClient(app, client=("192.0.2.50", 40000))  # not a proxy of ours: talks to us directly
    codes = [_wrong_login(direct, f"198.51.100.{i}") for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_trust_proxy_flag_means_a_proxy_on_loopback(tmp_path: Path) -> None:
    app = create_app(web_settings(tmp_path), WebOptions(trust_proxy=True))
    app.state.web.accounts.add_user("alice", "assessor", PASSWORD)
    local_proxy = TestClient(app, client=("127.0.0.1", 40000))
    codes = [_wrong_login(local_proxy, f"10.9.9.{i}, 203.0.113.9") for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert _wrong_login(local_proxy, "203.0.113.10") == 401  # a different client behind the same proxy


def test_client_address_is_the_rightmost_untrusted_hop() -> None:
    trusted = parse_networks("10.0.0.0/8, 2001:db8::1") + LOOPBACK
    assert client_address("10.0.0.2", ["1.1.1.1, 203.0.113.7"], trusted) == "203.0.113.7"
    assert client_address("10.0.0.2", ["1.1.1.1, 203.0.113.7, 10.1.2.3"], trusted) == "203.0.113.7"  # two proxies
    assert client_address("10.0.0.2", ["1.1.1.1", "203.0.113.7"], trusted) == "203.0.113.7"  # repeated header
    assert client_address("192.0.2.1", ["203.0.113.7"], trusted) == "192.0.2.1"  # peer not a proxy
    assert client_address("2001:db8::1", ["[2001:db8::99]:443, 203.0.113.7:5555"], trusted) == "203.0.113.7"
    assert client_address("127.0.0.1", ["::ffff:203.0.113.7"], trusted) == "203.0.113.7"
    assert client_address("127.0.0.1", ["10.0.0.9"], trusted) == "127.0.0.1"  # all hops ours
    assert client_address("127.0.0.1", ["1.1.1.1, not-an-ip"], trusted) == "not-an-ip"


def test_bad_trusted_proxies_setting_is_a_french_error() -> None:
    with pytest.raises(ReviewError) as e:
        parse_networks("10.0.0.1, proxy.example")
    assert "proxy.example" in e.value.user_message


def test_cohort_csv_download_keeps_a_formula_name_as_text(tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://x","clic")'
    app = create_app(web_settings(tmp_path))
    acc = app.state.web.accounts
    group = acc.add_group("Lyon 2025")
    acc.add_user("alice", "assessor", PASSWORD, "Alice Martin")
    acc.add_member(group.id, acc.add_user("tom", "trainer", PASSWORD, "Tom Formateur").id)
    alice, tom = TestClient(app), TestClient(app)
    csrf = login(alice, "alice")
    login(tom, "tom")
    docx = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    finished_run(app, alice, upload(alice, csrf, docx, "M2", candidate_ref=formula, group_id=group.id))
    r = tom.get(f"/groups/{group.id}/cohort.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][1] == "'" + formula
    assert not [c for row in rows for c in row if c.startswith(FORMULA_STARTS)]
    app.state.web.jobs.shutdown()


def test_the_server_runs_the_retention_schedule(tmp_path: Path) -> None:
    """With DOSSIER_REVIEW_RETENTION_DAYS set, the server's lifespan starts the daily purge and stops it."""
    app = create_app(web_settings(tmp_path, retention_days=30))
    with TestClient(app):
        assert any(t.name == "retention" and t.is_alive() for t in threading.enumerate())
    assert not any(t.name == "retention" and t.is_alive() for t in threading.enumerate())
    without = create_app(web_settings(tmp_path / "off"))
    with TestClient(without):
        assert not any(t.name == "retention" for t in threading.enumerate())
