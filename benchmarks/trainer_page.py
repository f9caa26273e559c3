"""Time the trainer's group page on a real server, for a group of 30 assessed candidates.

    .venv/bin/python -m benchmarks.trainer_page [--candidates 30] [--repeat 15]

One dossier is reviewed once (hashing embedder, offline drafter) and recorded 30 times in one
group, as 30 candidates' assessments with half their criteria confirmed by an assessor. Then
`dossier-review serve` is started on that data directory in a process of its own, the group's
trainer logs in over HTTP and GET /groups/{id} is timed from this process (wall clock, the whole
response read). Prints the first request to the page (cold: every stored review read), then the
others (median and slowest), then the same right after each of a few new decisions (what a
trainer sees when an assessor has just decided). The server is left `--settle` seconds after it
answers, for the start-up work it does in the background (review processes warming up).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
PASSWORD = "correct-horse-battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--settle", type=float, default=8.0, help="seconds left to the server after it answers (its review "
        "processes warm up in the background at start and would be timed with the first request)"
    )  # fmt: skip
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dr-bench-trainer-") as tmp:
        data_dir = Path(tmp) / "data"
        group_id, first_run, criterion = _populate(data_dir, args.candidates)
        port = _free_port()
        env = {**os.environ, "DOSSIER_REVIEW_EMBEDDER": "hashing", "DOSSIER_REVIEW_RETENTION_DAYS": "0"}
        cli = Path(sys.executable).with_name("dossier-review")
        server = subprocess.Popen(
            [str(cli), "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            cold, warm, after = _time_page(f"http://127.0.0.1:{port}", data_dir, group_id, first_run, criterion, args)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"group of {args.candidates} candidates, real server (uvicorn, one process), GET /groups/{{id}}:")
    print(f"  first request to the page ({args.settle:.0f} s after the server started): {cold:.0f} ms")
    print(f"  next {len(warm)}: median {statistics.median(warm):.0f} ms, slowest {max(warm):.0f} ms")
    print("  each: " + ", ".join(f"{t:.0f}" for t in warm))
    print(f"  after a new decision: median {statistics.median(after):.0f} ms, slowest {max(after):.0f} ms")


def _populate(data_dir: Path, candidates: int) -> tuple[str, str, str]:
    """The group, its trainer and assessor, and `candidates` stored runs; returns (group, a run, a criterion)."""
    from pipeline.db.accounts import AccountStore
    from pipeline.db.store import ReviewStore
    from pipeline.referentiel import resolve_referentiel
    from pipeline.review import record_review, run_review
    from pipeline.settings import Settings

    settings = Settings(data_dir=data_dir, embedder="hashing")
    store = ReviewStore(settings.db_url)
    ref = resolve_referentiel(settings.referentiel)
    acc = AccountStore(store.session)
    group = acc.add_group("Lyon 2025")
    acc.add_member(group.id, acc.add_user("tom", "trainer", PASSWORD, "Tom Formateur").id)
    alice = acc.add_user("alice", "assessor", PASSWORD, "Alice Martin")
    t0 = time.perf_counter()
    outcome = run_review(SAMPLE, "M2", settings, ref)
    print(f"one review: {time.perf_counter() - t0:.1f} s; recording {candidates} runs")
    runs = []
    for i in range(candidates):
        copy = dataclasses.replace(outcome, review=outcome.review.model_copy(update={"run_id": uuid.uuid4().hex}))
        rec = record_review(
            store, SAMPLE, copy, ref, settings, actor="bench",
            candidate_ref=f"Candidat {i + 1:02d}", group_id=group.id, kind="assessment", assessor_id=alice.id,
        )  # fmt: skip
        runs.append(rec.run_id)
        for d in outcome.review.criteria[: len(outcome.review.criteria) // 2]:
            store.decide(rec.run_id, d.criterion_id, 2, "Alice Martin")
    return group.id, runs[0], outcome.review.criteria[-1].criterion_id


def _time_page(
    url: str, data_dir: Path, group_id: str, run_id: str, criterion: str, args: argparse.Namespace
) -> tuple[float, list[float], list[float]]:
    import httpx

    with httpx.Client(base_url=url, timeout=60) as c:
        deadline = time.monotonic() + 60
        while True:
            try:
                if c.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        time.sleep(args.settle)
        token = c.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post("/login", data={"username": "tom", "password": PASSWORD, "csrf_token": token, "next": "/"})
        assert r.status_code in (200, 303), r.status_code

        def get() -> float:
            t = time.perf_counter()
            r = c.get(f"/groups/{group_id}")
            elapsed = 1000 * (time.perf_counter() - t)
            assert r.status_code == 200 and f"Candidat {args.candidates:02d}" in r.text, r.status_code
            return elapsed

        cold = get()
        warm = [get() for _ in range(args.repeat)]
        from pipeline.db.store import ReviewStore
        from pipeline.settings import Settings

        store = ReviewStore(Settings(data_dir=data_dir, embedder="hashing").db_url)  # as an assessor would
        after = []
        for level in range(max(3, args.repeat // 3)):
            store.decide(run_id, criterion, level % 4, "Alice Martin")
            after.append(get())
    return cold, warm, after


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
