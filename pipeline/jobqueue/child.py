"""`python -m pipeline.jobqueue.child`: one review in its own process, under the limits it is given.

It reads its job from standard input (settings, file, spec, password: never on the command line),
limits its own address space and CPU time before importing the pipeline, dies with its parent
(Linux: a worker killed outright does not leave a review going on that would be stored twice),
writes progress to the job row and the stored run through the one review path, and prints one
JSON line: the dossier and run, or the French message of a refusal.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
from typing import Any

EXIT_REFUSED = 3  # a ReviewError: the file was refused with a message for the user
EXIT_MEMORY = 4  # MemoryError under the address-space limit


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the wall-clock limit still ends it
        return
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def _limit(memory_mb: int, cpu_s: int) -> None:
    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))  # SIGXCPU at the soft limit ends the process


def _reply(data: dict[str, Any]) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps({**data, "peak_rss_mb": round(peak, 1)}) + "\n")
    sys.stdout.flush()


def main() -> int:
    job = json.loads(sys.stdin.read())
    _die_with_parent(job["parent"])
    _limit(job["settings"]["review_memory_mb"], job["settings"]["review_cpu_s"])
    try:
        return _review(job)
    except MemoryError:
        _reply({"outcome": "limit", "message": "memory"})
        return EXIT_MEMORY


def _review(job: dict[str, Any]) -> int:
    from pathlib import Path

    from pipeline.db.store import ReviewStore
    from pipeline.errors import ReviewError
    from pipeline.jobqueue.model import JobSpec
    from pipeline.jobqueue.status import set_status
    from pipeline.referentiel import resolve_referentiel
    from pipeline.review import review_and_record
    from pipeline.settings import Settings

    settings = Settings(**job["settings"])
    spec = JobSpec.from_json(job["spec"])
    store = ReviewStore(settings.db_url, migrate=False)
    job_id = job["job_id"]

    def progress(step: str, done: int, total: int) -> None:
        set_status(store, job_id, step=step, done=done, total=total)

    try:
        _, recorded = review_and_record(
            store,
            Path(job["path"]),
            spec.module,
            settings,
            resolve_referentiel(settings.referentiel),
            password=job.get("password"),
            progress=progress,
            actor=spec.actor,
            candidate_ref=spec.candidate_ref,
            owner_id=spec.owner_id,
            group_id=spec.group_id,
            assessor_id=spec.assessor_id,
            kind=spec.kind,
        )
    except ReviewError as e:
        _reply({"outcome": "refused", "message": e.user_message})
        return EXIT_REFUSED
    _reply({"outcome": "done", "dossier_id": recorded.dossier_id, "run_id": recorded.run_id})
    return 0


if __name__ == "__main__":
    sys.exit(main())
