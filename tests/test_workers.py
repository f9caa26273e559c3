"""Workers as on several machines, on this one: a PostgreSQL queue, a chroma server, two worker
processes (their own data dirs; shared: the database, the vector store, the upload folder), the web
server as a process of its own. One worker is killed with SIGKILL in the middle of a review: every
dossier still ends with exactly one stored run, and the page stays responsive (every load answers,
none blocked; the 300 ms target is benchmarks/pageload.py's). A session batch goes through the same
queue, and survives a worker SIGKILLed in the middle of a member's review (each member one run). A
DOCX bomb is refused by its paragraph limit in its own process within 500 MB while another review
completes (no PostgreSQL needed for that one).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, make_url, select

from benchmarks.pageload import p95, summary
from pipeline.db.accounts import AccountStore
from pipeline.db.models import DossierRow, RunRow
from pipeline.db.sessions import SessionMemberRow
from pipeline.db.store import ReviewStore
from pipeline.embeddings import HashingEmbedder
from pipeline.jobqueue.execute import file_hash
from pipeline.jobqueue.limits import run_in_child, warm_up
from pipeline.jobqueue.model import JobRow, JobSpec
from pipeline.referentiel import resolve_referentiel
from pipeline.sessions import status_json
from pipeline.settings import Settings
from pipeline.store import ChunkStore, vector_store_ok
from pipeline.web.jobs import JobRunner
from tests.fake_openai import FakeOpenAI
from tests.web.helpers import PASSWORD, SAMPLES, login, upload

PG = os.environ.get("DOSSIER_REVIEW_TEST_PG_URL")
needs_pg = pytest.mark.skipif(
    not PG, reason="no PostgreSQL: DOSSIER_REVIEW_TEST_PG_URL is unset (scripts/test.sh starts a throw-away one)"
)
BIN = Path(sys.executable).parent
DOSSIERS = 12
NOT_BLOCKED_S = 2.0  # p95 of page loads during the batch: generous, for 2 loaded CI cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


def _until(check, timeout: float, what: str, every: float = 0.2) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _descendants(pid: int) -> dict[int, int]:
    """pid → depth below `pid` (1: child, 2: grandchild), from /proc/PID/task/*/children (cheap: this
    runs beside the page-load timing, in the same interpreter)."""
    depth = {c: 1 for c in _children(pid)}
    for child in list(depth):
        depth.update({g: 2 for g in _children(child)})
    return depth


def _queue_env(tmp_path: Path, database_url: str, **more: str) -> dict[str, str]:
    """The environment of the web server, workers and CLI on the PostgreSQL queue: hashing embedder (reviews
    of a few CPU seconds), the upload folder shared in `tmp_path`."""
    return {
        **os.environ,
        "DOSSIER_REVIEW_DATABASE_URL": database_url,
        "DOSSIER_REVIEW_QUEUE": "postgres",
        "DOSSIER_REVIEW_EMBEDDER": "hashing",
        "DOSSIER_REVIEW_SHARED_DIR": str(tmp_path / "shared"),
        **more,
    }


@pytest.fixture
def slow_model() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible fake answering in 0.4 s: reviews drafted through it last several seconds
    whatever the CPU, so a kill or a stop aimed at a review lands in the middle of one (with the offline
    drafter a fast machine finishes a review between two polls)."""
    with FakeOpenAI(latency=0.4) as fake:
        yield fake


def _drafting_by(model: FakeOpenAI) -> dict[str, str]:
    return {
        "DOSSIER_REVIEW_BACKEND": "openai",
        "DOSSIER_REVIEW_LLM_BASE_URL": model.base_url,
        "DOSSIER_REVIEW_LLM_MODEL": "fake-model",
        "DOSSIER_REVIEW_LLM_CONCURRENCY": "2",
    }


@pytest.fixture
def pg_database() -> Iterator[str]:
    import psycopg

    from pipeline.jobqueue.pgqueue import conninfo

    assert PG
    name = f"dr_workers_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo(PG), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(PG).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(conninfo(PG), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    exe = BIN / "chroma"
    if not exe.exists():
        pytest.skip("the chroma command of the chromadb package is not installed")
    port = _free_port()
    proc = _start(
        [str(exe), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
        dict(os.environ),
        tmp_path / "chroma.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: vector_store_ok(tmp_path, url), 90, "the chroma server", every=0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


@needs_pg
@pytest.mark.slow
def test_two_workers_a_sigkill_and_every_dossier_reviewed_once(
    tmp_path: Path, pg_database: str, chroma_url: str, slow_model: FakeOpenAI
) -> None:
    env = _queue_env(tmp_path, pg_database, DOSSIER_REVIEW_CHROMA_URL=chroma_url, **_drafting_by(slow_model))
    store = ReviewStore(pg_database)
    AccountStore(store.session).add_user("alice", "assessor", PASSWORD, "Alice Martin")
    port = _free_port()
    dr = str(BIN / "dossier-review")
    web = _start([dr, "serve", "--port", str(port), "--data-dir", str(tmp_path / "web")], env, tmp_path / "web.log")
    workers = {
        name: _start(
            [dr, "worker", "-c", "1", "--name", name, "--data-dir", str(tmp_path / name)], env, tmp_path / f"{name}.log"
        )
        for name in ("w1", "w2")
    }
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _get(base + "/healthz") == 200, 120, "the web server")
        client = httpx.Client(base_url=base, timeout=30)
        csrf = login(client, "alice")  # type: ignore[arg-type]
        files = sorted(SAMPLES.glob("*/*.docx"))[:DOSSIERS]
        assert len(files) == DOSSIERS
        jobs = [
            upload(client, csrf, f, f.parent.name[:2].upper(), candidate_ref=f"Cand. {i}") for i, f in enumerate(files)
        ]  # type: ignore[arg-type]

        # the page loads time themselves in a process of their own: this one polls /proc and the database
        stop_file, timings = tmp_path / "batch-over", tmp_path / "latencies.json"
        pages = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.pageload",
                "load",
                base,
                str(stop_file),
                str(timings),
                "alice",
                PASSWORD,
            ],
            cwd=SAMPLES.parent,
        )

        def statuses() -> list[str]:
            with store.session() as s:
                return list(s.scalars(select(JobRow.status).where(JobRow.id.in_(jobs))))

        # SIGKILL w1 while one of its review processes (worker → forkserver → review) has been going for a while
        w1 = workers["w1"]
        seen: dict[int, float] = {}

        def w1_mid_review() -> bool:
            now = time.monotonic()
            reviews = [p for p, depth in _descendants(w1.pid).items() if depth == 2]
            for p in reviews:
                seen.setdefault(p, now)
            return "done" in statuses() and any(now - seen[p] > 1.5 for p in reviews)

        _until(w1_mid_review, 400, "a review in the first worker", every=0.5)
        health = httpx.get(base + "/healthz").json()
        assert health["workers"] == 2 and sum(health["queue_depth"].values()) > 0, health
        orphans = [p for p, depth in _descendants(w1.pid).items() if depth == 2]
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
        _until(lambda: not any(Path(f"/proc/{p}").exists() for p in orphans), 10, "the killed worker's review to end")

        _until(lambda: all(s in ("done", "failed") for s in statuses()), 900, "the batch", every=1)
        stop_file.touch()
        assert pages.wait(60) == 0
        loads = json.loads(timings.read_text())
        latencies = loads["times"]

        with store.session() as s:
            rows = list(s.scalars(select(JobRow).where(JobRow.id.in_(jobs))))
            runs = s.scalar(select(func.count()).select_from(RunRow))
            per_file = s.execute(
                select(DossierRow.sha256, func.count(RunRow.id)).join(RunRow).group_by(DossierRow.sha256)
            ).all()
        assert [r.status for r in rows] == ["done"] * DOSSIERS, [(r.file_name, r.error) for r in rows]
        assert len({r.run_id for r in rows}) == DOSSIERS
        assert runs == DOSSIERS and len(per_file) == DOSSIERS and {n for _, n in per_file} == {1}
        assert "its worker died" in (tmp_path / "w2.log").read_text(), "the killed job was not taken up again"
        vectors = ChunkStore(tmp_path / "unused", HashingEmbedder(), url=chroma_url).dossier_collections()
        assert len(vectors) == DOSSIERS  # every index is on the shared chroma server

        print(f"\npage loads during the batch: {summary(latencies)}")
        # responsiveness, not speed: every load answered and none waited on the reviews. A blocked event
        # loop shows as seconds; the 300 ms target is measured by benchmarks/pageload.py (timed tests
        # are flaky on 2 shared cores)
        assert loads["failures"] == [] and len(latencies) >= 20
        assert p95(latencies) < NOT_BLOCKED_S, summary(latencies)

        health = httpx.get(base + "/healthz").json()
        assert health["database"] and health["vector_store"] and health["queue_depth"] == {}, health
        _until(lambda: httpx.get(base + "/healthz").json()["workers"] == 1, 60, "the dead worker to age out")

        workers["w2"].send_signal(signal.SIGTERM)  # idle: stops at once, cleanly
        assert workers["w2"].wait(30) == 0
    finally:
        for proc in (web, *workers.values()):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@needs_pg
@pytest.mark.slow
def test_sigterm_releases_a_running_review_to_another_worker(
    tmp_path: Path, pg_database: str, slow_model: FakeOpenAI
) -> None:
    # grace 0: release at once, not finish
    env = _queue_env(tmp_path, pg_database, DOSSIER_REVIEW_WORKER_GRACE_S="0", **_drafting_by(slow_model))
    store = ReviewStore(pg_database)
    user = AccountStore(store.session).add_user("alice", "assessor", PASSWORD, "Alice Martin")
    settings = Settings(
        data_dir=tmp_path / "web",
        queue="postgres",
        database_url=pg_database,
        embedder="hashing",
        shared_dir=tmp_path / "shared",
    )
    runner = JobRunner(store, settings, resolve_referentiel(settings.referentiel))
    sample = SAMPLES / "m1_biscuiterie_fort" / "m1_biscuiterie_fort.docx"
    job_id = _submit(runner, sample, JobSpec(user.id, "alice", "assessment", "M1", sample.name))
    dr = str(BIN / "dossier-review")
    first = _start([dr, "worker", "-c", "1", "--data-dir", str(tmp_path / "w1")], env, tmp_path / "w1.log")
    second = None
    try:

        def reviewing() -> bool:
            row = runner.job(job_id)
            return row is not None and row.status == "running" and any(d == 2 for d in _descendants(first.pid).values())

        _until(reviewing, 120, "the review to start")
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0  # released its job and stopped cleanly
        row = runner.job(job_id)
        assert row is not None and row.status == "queued", row and (row.status, row.error)
        second = _start([dr, "worker", "-c", "1", "--data-dir", str(tmp_path / "w2")], env, tmp_path / "w2.log")
        runner.wait(job_id, 600)
        row = runner.job(job_id)
        assert row is not None and row.status == "done", row and row.error
    finally:
        runner.shutdown()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)


@needs_pg
@pytest.mark.slow
def test_a_session_batch_goes_through_the_queue_to_a_worker_process(tmp_path: Path, pg_database: str) -> None:
    """`session add` with the PostgreSQL queue only queues; a worker process reviews, links each member
    to its run and assigns the manifest's assessor; progress shows in `session status` meanwhile. The
    same file for a second candidate is not reviewed again (a copy of the run), a rerun queues nothing, and
    `session add --wait` follows the workers to the end."""
    env = _queue_env(tmp_path, pg_database)
    dr = str(BIN / "dossier-review")

    def cli(*args: str) -> str:
        r = subprocess.run([dr, *args, "--data-dir", str(tmp_path / "cli")], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    folder = tmp_path / "depot"
    folder.mkdir()
    files = [
        SAMPLES / "m1_biscuiterie_fort" / "m1_biscuiterie_fort.docx",
        SAMPLES / "m1_vins_moyen" / "m1_vins_moyen.docx",
        SAMPLES / "m1_agence_faible" / "m1_agence_faible.docx",
    ]
    shutil.copy(files[0], folder / "copie.docx")  # the same file, for another candidate
    (folder / "manifeste.csv").write_text(
        "candidate,file,group,assessor\n"
        f"Ana Lopes,{files[0]},Lyon,Claire Petit\n"
        f"Marc Dupont,{files[1]},Lyon,\n"
        "Zoé Martin,copie.docx,Lyon,\n",
        encoding="utf-8",
    )
    sid = cli("session", "create", "MDC juin 2027", "--module", "M1").split()[-1]
    added = cli("session", "add", sid, str(folder / "manifeste.csv"))
    assert "3 en file" in added, added

    def status() -> dict:  # type: ignore[type-arg]
        return json.loads(cli("session", "status", sid, "--json"))

    queued = status()
    assert [d["status"] for d in queued["dossiers"]] == ["en attente"] * 3, queued
    assert all(d["progress"] and d["progress"]["percent"] == 0 for d in queued["dossiers"])
    rerun = cli("session", "add", sid, str(folder / "manifeste.csv"))  # before any worker: nothing queued twice
    assert "3 en file" in rerun and "déjà en file" in rerun, rerun
    page = _session_page(tmp_path, pg_database, sid)  # the administrator's session page follows the jobs
    assert page.count("<progress") == 3 and "3 en attente" in page and 'http-equiv="refresh"' in page

    worker = _start([dr, "worker", "-c", "2", "--data-dir", str(tmp_path / "w")], env, tmp_path / "w.log")
    (folder / "retard.csv").write_text(f"candidate,file\nLéa Girard,{files[2]}\n", encoding="utf-8")
    follow = [dr, "session", "add", sid, str(folder / "retard.csv"), "--wait", "--data-dir", str(tmp_path / "cli")]
    follower = subprocess.Popen(follow, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = ReviewStore(pg_database)
    seen_running: list[str] = []
    try:

        def finished() -> bool:
            data = status_json(store, sid)
            seen_running.extend(d["progress"]["step"] for d in data["dossiers"] if d["status"] == "en cours")
            return follower.poll() is not None and all(d["progress"] is None for d in data["dossiers"])

        try:
            _until(finished, 300, "the session's reviews", every=0.3)
        except AssertionError:
            print(json.dumps(status_json(store, sid), indent=1), (tmp_path / "w.log").read_text())
            raise
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        for proc in (worker, follower):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    followed, _ = follower.communicate()
    assert follower.returncode == 0 and "Lot terminé" in followed, followed  # --wait followed the workers
    log = (tmp_path / "w.log").read_text()
    assert seen_running, "no progress seen while the worker reviewed"
    done = status()
    assert [d["status"] for d in done["dossiers"]] == ["en évaluation"] + ["à affecter"] * 3, (
        json.dumps(done["dossiers"], ensure_ascii=False, indent=1),
        log,
    )
    assert [a["name"] for a in done["dossiers"][0]["assessors"]] == ["Claire Petit"]
    assert len({d["run_id"] for d in done["dossiers"]}) == 4 and all(d["run_id"] for d in done["dossiers"])
    assert log.count(": done in ") == 3 and "not reviewed again" in log, log  # three files, three reviews
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(RunRow)) == 4  # three reviews and one copy
        assert list(s.scalars(select(JobRow.status))) == ["done"] * 4

    assert not list((tmp_path / "shared" / "uploads").glob("*/*")), "job copies left in the shared folder"
    again = cli("session", "add", sid, str(folder / "manifeste.csv"))
    assert "3 déjà fait(s), 0 en file" in again, again
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(JobRow)) == 4


@needs_pg
@pytest.mark.slow
def test_a_worker_killed_in_the_middle_of_a_session_job(
    tmp_path: Path, pg_database: str, slow_model: FakeOpenAI
) -> None:
    """A session batch through the queue, two worker processes, one SIGKILLed while it reviews a member:
    the job goes back to the queue, the other worker takes it, and the session ends with every member
    linked to its own stored run, none lost and none reviewed twice (reviews drafted by `slow_model`)."""
    env = _queue_env(tmp_path, pg_database, **_drafting_by(slow_model))
    dr = str(BIN / "dossier-review")
    files = sorted(SAMPLES.glob("m1_*/*.docx"))[:4]
    manifest = tmp_path / "manifeste.csv"
    manifest.write_text(
        "candidate,file\n" + "".join(f"Candidat {i},{f}\n" for i, f in enumerate(files)), encoding="utf-8"
    )
    cli = [dr, "session", "create", "MDC sept. 2027", "--module", "M1", "--data-dir", str(tmp_path / "cli")]
    sid = subprocess.run(cli, env=env, capture_output=True, text=True, check=True).stdout.split()[-1]
    cli = [dr, "session", "add", sid, str(manifest), "--data-dir", str(tmp_path / "cli")]
    added = subprocess.run(cli, env=env, capture_output=True, text=True, check=True).stdout
    assert f"{len(files)} en file" in added, added
    workers = {
        name: _start(
            [dr, "worker", "-c", "1", "--name", name, "--data-dir", str(tmp_path / name)], env, tmp_path / f"{name}.log"
        )
        for name in ("w1", "w2")
    }
    store = ReviewStore(pg_database)
    try:
        w1, seen = workers["w1"], dict[int, float]()

        def w1_mid_review() -> bool:  # a review process (worker → forkserver → review) going for a while
            now = time.monotonic()
            reviews = [p for p, depth in _descendants(w1.pid).items() if depth == 2]
            for p in reviews:
                seen.setdefault(p, now)
            return any(now - seen[p] > 1.5 for p in reviews)

        try:
            _until(w1_mid_review, 300, "a review in the first worker", every=0.3)
        except AssertionError as e:  # say why: what each worker wrote, and where the jobs are
            with store.session() as s:
                jobs = s.execute(select(JobRow.status, JobRow.step, JobRow.error)).all()
            logs = {n: (tmp_path / f"{n}.log").read_text()[-3000:] for n in workers}
            codes = [w.poll() for w in workers.values()]
            raise AssertionError(f"{e}; jobs {jobs}; exit codes {codes}; logs {logs}") from e
        with store.session() as s:
            running = set(s.scalars(select(JobRow.id).where(JobRow.status == "running")))
            member_jobs = set(s.scalars(select(SessionMemberRow.job_id).where(SessionMemberRow.session_id == sid)))
        orphans = [p for p, depth in _descendants(w1.pid).items() if depth == 2]
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
        _until(lambda: not any(Path(f"/proc/{p}").exists() for p in orphans), 10, "the killed worker's review to end")
        assert running and running <= member_jobs, running  # a session member's job was running when w1 died

        def ended() -> bool:
            return all(d["progress"] is None for d in status_json(store, sid)["dossiers"])

        try:
            _until(ended, 300, "the session's reviews", every=0.5)
        except AssertionError:
            print(json.dumps(status_json(store, sid), indent=1), (tmp_path / "w2.log").read_text())
            raise
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    logs = (tmp_path / "w1.log").read_text() + (tmp_path / "w2.log").read_text()
    assert "its worker died" in (tmp_path / "w2.log").read_text(), "the killed job was not taken up again"
    with store.session() as s:
        members = list(s.scalars(select(SessionMemberRow).where(SessionMemberRow.session_id == sid)))
        runs = s.execute(select(RunRow.id, DossierRow.sha256).join(DossierRow)).all()
        jobs = list(s.scalars(select(JobRow.status)))
    assert [m.status for m in members] == ["reviewed"] * len(files), [(m.candidate, m.error) for m in members]
    assert len({m.run_id for m in members}) == len(files) and all(m.run_id for m in members)  # one run each
    assert {m.run_id for m in members} == {run_id for run_id, _ in runs}  # no run stored beside them
    assert sorted(sha for _, sha in runs) == sorted(file_hash(f) for f in files)  # each file reviewed once
    assert logs.count(": done in ") == len(files), logs  # the killed review is the only one run twice
    assert jobs == ["done"] * len(files)
    assert not list((tmp_path / "shared" / "uploads").glob("*/*")), "job copies left in the shared folder"


def _session_page(tmp_path: Path, database_url: str, session_id: str) -> str:
    from fastapi.testclient import TestClient

    from pipeline.web import create_app
    from tests.web.helpers import login, web_settings

    settings = web_settings(tmp_path / "page", database_url=database_url, queue="postgres")
    app = create_app(settings)
    app.state.web.accounts.add_user("root", "admin", PASSWORD, "Admin")
    with TestClient(app) as client:
        login(client, "root")
        return client.get(f"/sessions/{session_id}").text


def _get(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _embedded(tmp_path: Path) -> tuple[JobRunner, str]:
    """The embedded queue (SQLite, two review processes) and an assessor's user id."""
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")
    settings.ensure_dirs()
    store = ReviewStore(settings.db_url)
    user = AccountStore(store.session).add_user("alice", "assessor", PASSWORD, "Alice Martin")
    return JobRunner(store, settings, resolve_referentiel(settings.referentiel), workers=2), user.id


def _submit(runner: JobRunner, sample: Path, spec: JobSpec) -> str:
    job_id, path = runner.new_upload_path(sample.name)
    shutil.copy(sample, path)
    runner.submit(job_id, path, spec)
    return job_id


@pytest.mark.slow
def test_docx_bomb_refused_in_its_own_process_while_another_review_completes(tmp_path: Path) -> None:
    bounded_parsing = pytest.importorskip("tests.test_ingest_reading", reason="the DOCX bomb generator")
    runner, user_id = _embedded(tmp_path)
    sample = SAMPLES / "m1_biscuiterie_fort" / "m1_biscuiterie_fort.docx"
    spec = JobSpec(user_id=user_id, actor="alice", kind="assessment", module="M1", file_name=sample.name)
    job_id = _submit(runner, sample, spec)

    warm_up()  # as in a running worker: review processes are forked from an imported pipeline
    bomb = tmp_path / "bombe.docx"
    bounded_parsing._docx_bomb(bomb, 2_000_000)  # 68 MB of XML in under 1 MB
    result = run_in_child(runner.settings, "b" * 32, bomb, JobSpec(**{**spec.to_json(), "file_name": bomb.name}))
    print(f"\nbomb: {result.outcome} in {result.seconds:.2f} s, peak {result.peak_rss_mb:.0f} MB")
    assert result.outcome == "refused" and "limite de paragraphes" in result.message
    # refused by the paragraph count, within its memory: what shows the parse was bounded. The seconds are
    # printed (3-5 s on 2 loaded cores) and only guarded against a runaway: a timing would be flaky
    assert result.seconds < 30 and 0 < result.peak_rss_mb < 500

    runner.wait(job_id, 600)
    row = runner.job(job_id)
    assert row is not None and row.status == "done" and row.run_id, row and row.error
    runner.shutdown()


@pytest.mark.slow
def test_a_review_over_its_memory_limit_is_stopped_as_such(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", review_memory_mb=256)
    settings.ensure_dirs()
    ReviewStore(settings.db_url)
    sample = SAMPLES / "m1_biscuiterie_fort" / "m1_biscuiterie_fort.docx"
    spec = JobSpec(user_id="u", actor="t", kind="assessment", module="M1", file_name=sample.name)
    result = run_in_child(settings, "m" * 32, sample, spec)
    assert result.outcome == "limit", result


@pytest.mark.slow
def test_the_same_file_queued_twice_is_reviewed_once(tmp_path: Path) -> None:
    runner, user_id = _embedded(tmp_path)
    sample = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    spec = JobSpec(user_id=user_id, actor="alice", kind="assessment", module="M2", file_name=sample.name)
    jobs = [_submit(runner, sample, spec) for _ in range(2)]
    for job_id in jobs:
        runner.wait(job_id, 600)
    rows = [runner.job(j) for j in jobs]
    assert [r.status for r in rows if r] == ["done", "done"]
    assert rows[0] and rows[1] and rows[0].run_id == rows[1].run_id
    with runner.store.session() as s:
        assert s.scalar(select(func.count()).select_from(RunRow)) == 1
    runner.shutdown()


def test_embed_server_gives_the_local_vectors_and_name(tmp_path: Path) -> None:
    import uvicorn

    from pipeline.embeddings import RemoteEmbedder
    from pipeline.jobqueue.embed_server import create_embed_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_embed_app("hashing"), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _until(lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200, 30, "the embeddings server")
        remote, local = RemoteEmbedder(f"http://127.0.0.1:{port}/v1"), HashingEmbedder()
        texts = ["Analyse du marché régional", "Plan d’actions commerciales chiffré"]
        assert remote.name == local.name and remote.dim == local.dim
        assert (remote.embed_passages(texts) == local.embed_passages(texts)).all()
        assert (remote.embed_query(texts[0]) == local.embed_query(texts[0])).all()
    finally:
        server.should_exit = True
        thread.join(10)
