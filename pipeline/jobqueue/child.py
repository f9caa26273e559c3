"""One review in its own process, under the limits it is given.

Processes are forked from a forkserver that has imported the pipeline once (a review process
starts in milliseconds, not the seconds imports take). The review process limits its own address
space and CPU time, lowers its priority (the web server answers first), dies with its parent
(a worker killed outright leaves no review going on that would be stored twice), writes
progress to the job row and the run through the one review path, and sends back one reply: the
dossier and run, or the French message of a refusal.
"""

from __future__ import annotations

import errno
import os
import resource
import select
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pipeline.db.store import ReviewStore
from pipeline.drafting import offline  # noqa: F401  (imported lazily by review.py: preloaded here with the rest)
from pipeline.errors import ReviewError
from pipeline.jobqueue.model import JobSpec
from pipeline.jobqueue.status import set_status
from pipeline.referentiel import resolve_referentiel
from pipeline.review import review_and_record
from pipeline.settings import Settings

NICE = 10  # reviews are batch work: the web server on the same cores answers first


def _die_with_worker(worker_pid: int) -> None:
    """End this process as soon as the worker that asked for it dies (a pidfd, so a reused pid cannot
    fool it). The forkserver it was forked from lives on while any review does, so PR_SET_PDEATHSIG
    would not do."""
    try:
        fd = os.pidfd_open(worker_pid)
    except (OSError, AttributeError):  # gone already, or not Linux: the wall-clock limit still ends it
        if not _alive(worker_pid):
            os._exit(1)
        return

    def watch() -> None:
        select.select([fd], [], [])
        os._exit(1)  # the review is dropped unstored; the queue retries it elsewhere

    threading.Thread(target=watch, name="worker-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _limit(memory_mb: int, cpu_s: int) -> None:
    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))  # SIGXCPU at the soft limit ends the process


def review_process(reply: Connection, job: dict[str, Any]) -> None:
    """The body of a review process (multiprocessing target)."""
    _die_with_worker(job["worker_pid"])
    _limit(job["settings"]["review_memory_mb"], job["settings"]["review_cpu_s"])
    os.nice(NICE)
    try:
        out = _review(job)
    except Exception as e:  # the worker stores the outcome; the traceback goes to the worker's log
        traceback.print_exc()
        memory = _out_of_memory(e) or _near_limit(job["settings"]["review_memory_mb"])
        out = {"outcome": "limit", "message": "mémoire"} if memory else {"outcome": "crashed"}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    out["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)  # what sizing counts: core-seconds per dossier
    reply.send(out)
    reply.close()


def _out_of_memory(e: BaseException) -> bool:
    """Under RLIMIT_AS, exhaustion shows as MemoryError, ENOMEM, or a thread that cannot start."""
    if isinstance(e, MemoryError) or (isinstance(e, OSError) and e.errno == errno.ENOMEM):
        return True
    text = str(e).lower()
    return "can't start new thread" in text or "cannot allocate memory" in text or "out of memory" in text


def _near_limit(memory_mb: int) -> bool:
    """The address space came within 64 MB of its limit: whatever failed then (an mmap in SQLite, a
    thread stack, an allocation in a C library) failed for want of memory."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    peak_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmPeak:")), 0)
    return peak_kb * 1024 >= (memory_mb - 64) * 1024 * 1024


def _review(job: dict[str, Any]) -> dict[str, Any]:
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
        return {"outcome": "refused", "message": e.user_message}
    finally:
        store.engine.dispose()
    return {"outcome": "done", "dossier_id": recorded.dossier_id, "run_id": recorded.run_id}
