"""Run one review in a child process (pipeline/jobqueue/child.py) under memory, CPU and wall-clock limits.

The review process sets RLIMIT_AS and RLIMIT_CPU on itself; this side enforces the wall-clock
timeout, and kills the child when the worker releases its job (graceful shutdown). A hostile
file can then exhaust only its own process: the web server and the other reviews keep their
memory and their cores. Children are forked from a forkserver that imported the pipeline once,
so a review process starts at once (a hostile file is refused in well under a second of parsing,
not after seconds of imports), and no process with threads (the web server) ever forks itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from functools import cache
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any, Literal

from pipeline.jobqueue.model import JobSpec
from pipeline.settings import Settings

Outcome = Literal["done", "refused", "limit", "crashed", "released"]


@dataclass(frozen=True)
class ChildResult:
    outcome: Outcome
    dossier_id: str | None = None
    run_id: str | None = None
    message: str = ""  # the user's message (refused) or what limit was hit
    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    cpu_s: float = 0.0


def settings_payload(settings: Settings) -> dict[str, Any]:
    """Settings as the child rebuilds them (secrets in clear: they travel on a pipe, never in argv)."""
    data = settings.model_dump(mode="json")
    for name in ("llm_api_key", "embed_api_key"):
        secret = getattr(settings, name)
        data[name] = secret.get_secret_value() if secret is not None else None
    return data


@cache
def _context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.jobqueue.child"])  # imports the whole pipeline once
    return ctx


def warm_up(wait: bool = True) -> None:
    """Start the forkserver now (it imports the pipeline: seconds), not at the first review; with wait,
    return once it forks review processes (a no-op process went through)."""
    ctx = _context()
    if not wait:
        threading.Thread(target=warm_up, name="forkserver-warm-up", daemon=True).start()
        return
    proc = ctx.Process(target=int, name="warm-up", daemon=True)
    proc.start()
    proc.join()


def run_in_child(
    settings: Settings,
    job_id: str,
    path: Path,
    spec: JobSpec,
    password: str | None = None,
    release: threading.Event | None = None,
) -> ChildResult:
    from pipeline.jobqueue.child import review_process

    job = {
        "job_id": job_id,
        "worker_pid": os.getpid(),
        "path": str(path),
        "spec": spec.to_json(),
        "password": password,
        "settings": settings_payload(settings),
    }
    ctx = _context()
    started = time.monotonic()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=review_process, args=(send, job), name=f"review-{job_id[:8]}", daemon=True)
    proc.start()
    send.close()
    deadline = started + settings.review_timeout_s
    reply: dict[str, Any] = {}
    why = ""
    while proc.is_alive() or receive.poll():
        if receive.poll(0.1):
            with contextlib.suppress(EOFError):  # died before answering
                reply = receive.recv()
            break
        why = "durée" if time.monotonic() > deadline else "released" if release and release.is_set() else ""
        if why:
            proc.kill()
            break
    proc.join()
    receive.close()
    seconds = round(time.monotonic() - started, 2)
    peak = float(reply.get("peak_rss_mb", 0.0))
    if why:
        return ChildResult("released" if why == "released" else "limit", message=why, seconds=seconds)
    if not reply:
        code = proc.exitcode or 0
        limit = code in (-signal.SIGXCPU, -signal.SIGKILL)
        return ChildResult(
            "limit" if limit else "crashed", message="temps de calcul" if limit else f"code {code}", seconds=seconds
        )
    outcome = reply.get("outcome", "crashed")
    return ChildResult(
        outcome if outcome in ("done", "refused", "limit") else "crashed",
        dossier_id=reply.get("dossier_id"),
        run_id=reply.get("run_id"),
        message=str(reply.get("message", "")),
        peak_rss_mb=peak,
        seconds=seconds,
        cpu_s=float(reply.get("cpu_s", 0.0)),
    )
