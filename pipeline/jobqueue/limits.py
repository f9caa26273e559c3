"""Run one review in a child process (pipeline/jobqueue/child.py) under memory, CPU and wall-clock limits.

The review process sets RLIMIT_AS and RLIMIT_CPU on itself before it imports the pipeline; this
side enforces the wall-clock timeout, and kills the child when the worker releases its job
(graceful shutdown). A hostile file can then exhaust only its own process: the web server and
the other reviews keep their memory and their cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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


def settings_payload(settings: Settings) -> dict[str, Any]:
    """Settings as the child rebuilds them (secrets in clear: they travel on a pipe, never in argv)."""
    data = settings.model_dump(mode="json")
    for name in ("llm_api_key", "embed_api_key"):
        secret = getattr(settings, name)
        data[name] = secret.get_secret_value() if secret is not None else None
    return data


def run_in_child(
    settings: Settings,
    job_id: str,
    path: Path,
    spec: JobSpec,
    password: str | None = None,
    release: threading.Event | None = None,
) -> ChildResult:
    job = {
        "parent": os.getpid(),
        "job_id": job_id,
        "path": str(path),
        "spec": spec.to_json(),
        "password": password,
        "settings": settings_payload(settings),
    }
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.jobqueue.child"],
            stdin=subprocess.PIPE,
            stdout=out,
            start_new_session=True,  # a Ctrl-C or a signal to the worker's group does not hit the review
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
        status, rusage, why = _wait(proc, settings.review_timeout_s, release)
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    seconds = round(time.monotonic() - started, 2)
    peak = rusage.ru_maxrss / 1024 if rusage else 0.0
    if why:
        return ChildResult("released" if why == "released" else "limit", message=why, peak_rss_mb=peak, seconds=seconds)
    reply: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        limit = sig in (signal.SIGXCPU, signal.SIGKILL)
        return ChildResult("limit" if limit else "crashed", message=f"signal {sig}", peak_rss_mb=peak, seconds=seconds)
    outcome = reply.get("outcome", "crashed")
    return ChildResult(
        outcome if outcome in ("done", "refused", "limit") else "crashed",
        dossier_id=reply.get("dossier_id"),
        run_id=reply.get("run_id"),
        message=str(reply.get("message", "")),
        peak_rss_mb=max(peak, float(reply.get("peak_rss_mb", 0.0))),
        seconds=seconds,
    )


def _wait(proc: subprocess.Popen[bytes], timeout_s: float, release: threading.Event | None) -> tuple[int, Any, str]:
    """Reap the child (with its resource usage); kill it on timeout or release. → (status, rusage, why)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = status  # reaped here: Popen must not wait for it again
            return status, rusage, ""
        why = "timeout" if time.monotonic() > deadline else "released" if release and release.is_set() else ""
        if why:
            proc.kill()
            _, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = status
            return status, rusage, why
        time.sleep(0.1)
