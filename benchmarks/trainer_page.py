"""Time the trainer's group page for a group of 30 assessed candidates (half the criteria confirmed).

    .venv/bin/python -m benchmarks.trainer_page [--candidates 30] [--repeat 7]

One dossier is reviewed once (hashing embedder, offline drafter) and recorded 30 times in one
group, as 30 candidates' assessments; then GET /groups/{id} is timed through the ASGI app
(TestClient: no network) as the group's trainer. Prints each time, the median and the slowest.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
import uuid
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
PASSWORD = "correct-horse-battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from pipeline.review import record_review, run_review
    from pipeline.settings import Settings
    from pipeline.web import create_app

    with tempfile.TemporaryDirectory(prefix="dr-bench-trainer-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", embedder="hashing")
        app = create_app(settings)
        state = app.state.web
        acc = state.accounts
        group = acc.add_group("Lyon 2025")
        acc.add_member(group.id, acc.add_user("tom", "trainer", PASSWORD, "Tom Formateur").id)
        alice = acc.add_user("alice", "assessor", PASSWORD, "Alice Martin")
        t0 = time.perf_counter()
        outcome = run_review(SAMPLE, "M2", settings, state.ref)
        print(f"one review: {time.perf_counter() - t0:.1f} s")
        for i in range(args.candidates):
            copy = dataclasses.replace(outcome, review=outcome.review.model_copy(update={"run_id": uuid.uuid4().hex}))
            rec = record_review(
                state.store, SAMPLE, copy, state.ref, settings, actor="bench",
                candidate_ref=f"Candidat {i + 1:02d}", group_id=group.id, kind="assessment", assessor_id=alice.id,
            )  # fmt: skip
            for d in outcome.review.criteria[: len(outcome.review.criteria) // 2]:
                state.store.decide(rec.run_id, d.criterion_id, 2, "Alice Martin")
        from pipeline.web.cohorts import cohort_rows
        from pipeline.web.trainer import module_views

        t = time.perf_counter()
        rows = cohort_rows(state, group)
        t_rows = time.perf_counter() - t
        t = time.perf_counter()
        module_views(state, [r for r, _ in rows])
        print(f"breakdown: rows {1000 * t_rows:.0f} ms, summary {1000 * (time.perf_counter() - t):.0f} ms")
        with TestClient(app) as c:
            token = c.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
            c.post("/login", data={"username": "tom", "password": PASSWORD, "csrf_token": token, "next": "/"})
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                r = c.get(f"/groups/{group.id}")
                times.append(1000 * (time.perf_counter() - t))
                assert r.status_code == 200 and "Candidat 30" in r.text
        app.state.web.jobs.shutdown()
    print(f"group of {args.candidates}: " + ", ".join(f"{t:.0f}" for t in times) + " ms")
    print(f"median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms (first request included)")


if __name__ == "__main__":
    main()
