"""The PostgreSQL queue (procrastinate): the web server defers, `dossier-review worker` runs.

Why procrastinate (measured, see the README's "Scaling" section): the PostgreSQL the project
already supports is the only service; a job is a row, taken with `FOR UPDATE SKIP LOCKED` and
marked succeeded only after the task returned (after the run is stored); workers send heartbeats,
so the job of a worker killed outright is found and retried within seconds.

What this module adds: the schema applied once under an advisory lock, the `review` task (the job
row carries progress and result; procrastinate carries delivery), a reaper in every worker that
retries the jobs of dead workers (at most `job_attempts` runs, then the job fails), and graceful
shutdown: on SIGTERM a worker takes no new job, lets running reviews finish for `worker_grace_s`,
then kills them and puts their jobs back in the queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import procrastinate
from procrastinate.worker import Worker
from sqlalchemy import make_url, text

from pipeline.db.store import ReviewStore
from pipeline.jobqueue.execute import CRASHED, Released, fail_job, run_job
from pipeline.jobqueue.limits import warm_up
from pipeline.jobqueue.model import JobSpec
from pipeline.referentiel import resolve_referentiel
from pipeline.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "reviews"
TASK = "review"
HEARTBEAT_S = 5.0
STALLED_AFTER_S = 20.0  # a worker silent this long is dead: its jobs go back to the queue
REAP_EVERY_S = 5.0
DIED = "L’analyse a été interrompue {n} fois (le processus d’analyse s’est arrêté brutalement) : abandon."


def conninfo(database_url: str) -> str:
    """libpq connection string from the SQLAlchemy URL (`postgresql+psycopg://…` → `postgresql://…`)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_schema(store: ReviewStore) -> None:
    """Create procrastinate's tables once (several workers may start together)."""
    with store.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(727117)"))
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]  # open in begin()
                cur.execute(procrastinate.schema.SchemaManager.get_schema())  # no parameters: '%' is literal


def make_app(settings: Settings, release: threading.Event | None = None) -> procrastinate.App:
    """The procrastinate app with the review task; `release` is set when the worker stops."""
    if not settings.database_url or not settings.database_url.startswith("postgresql"):
        raise ValueError("the postgres queue needs DOSSIER_REVIEW_DATABASE_URL=postgresql+psycopg://…")
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.database_url)))
    state: dict[str, Any] = {}
    state_lock = threading.Lock()

    def context() -> tuple[ReviewStore, Any]:
        with state_lock:  # tasks run in threads: with --concurrency 2 two of them start together
            if not state:
                state["ref"] = resolve_referentiel(settings.referentiel)
                state["store"] = ReviewStore(settings.db_url, migrate=False)
            return state["store"], state["ref"]

    # A job released at shutdown is retried at once by another worker (or this one, restarted).
    retry = procrastinate.RetryStrategy(max_attempts=100, wait=0, retry_exceptions={Released})

    @app.task(name=TASK, queue=QUEUE, retry=retry)
    def review(job_id: str, path: str, spec: dict[str, Any], password: str | None = None) -> str:
        store, ref = context()
        job = JobSpec.from_json(spec)
        try:
            return run_job(store, settings, ref, job_id, Path(path), job, password, release)
        except Released:
            raise
        except Exception:  # as the embedded worker does: the job row ends failed, never waits forever
            log.exception("job %s crashed", job_id)
            return fail_job(store, settings, job_id, Path(path), CRASHED, job)

    return app


def defer(app: procrastinate.App, job_id: str, path: Path, spec: JobSpec, lock: str, password: str | None) -> None:
    """Queue a review; jobs of the same file share a lock, so they run one after the other (the second
    then finds the first's run)."""
    task = app.configure_task(TASK, queue=QUEUE, lock=lock)
    task.defer(job_id=job_id, path=str(path), spec=spec.to_json(), password=password)


async def reap(app: procrastinate.App, settings: Settings) -> int:
    """Put back the jobs of workers that stopped sending heartbeats; fail those that died too often."""
    store: ReviewStore | None = None
    count = 0
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=STALLED_AFTER_S):
        runs = job.attempts + 1
        if runs >= settings.job_attempts:
            store = store or ReviewStore(settings.db_url, migrate=False)
            kwargs = job.task_kwargs
            spec = JobSpec.from_json(dict(kwargs["spec"]))  # type: ignore[arg-type]  # JSON from the task's defer
            fail_job(store, settings, str(kwargs["job_id"]), Path(str(kwargs["path"])), DIED.format(n=runs), spec)
            await app.job_manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
        else:
            log.warning("job %s: its worker died, queued again (run %d of %d)", job.id, runs + 1, settings.job_attempts)
            await app.job_manager.retry_job(job)
        count += 1
    await app.job_manager.prune_stalled_workers(seconds_since_heartbeat=STALLED_AFTER_S * 3)
    return count


async def serve(settings: Settings, concurrency: int, name: str | None = None, wait: bool = True) -> None:
    """Run a worker until SIGTERM/SIGINT (or, with wait=False, until the queue is empty)."""
    release = threading.Event()
    loop = asyncio.get_running_loop()
    running: list[Worker] = []
    stopping = asyncio.Event()

    def stop() -> None:  # installed first: a signal during start-up stops the worker cleanly too
        log.info("stopping: no new job; running reviews get %d s", settings.worker_grace_s)
        stopping.set()
        for worker in running:
            worker.stop()
        loop.call_later(settings.worker_grace_s, release.set)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    app = make_app(settings, release)
    ensure_schema(ReviewStore(settings.db_url))  # also migrates the project's own schema
    await asyncio.to_thread(warm_up)
    if stopping.is_set():
        return
    async with app.open_async():
        worker = Worker(
            app,
            queues=[QUEUE],
            name=name or f"{socket.gethostname()}-{id(app) % 10000}",
            concurrency=concurrency,
            wait=wait,
            install_signal_handlers=False,
            shutdown_graceful_timeout=settings.worker_grace_s + 30,
            update_heartbeat_interval=HEARTBEAT_S,
            stalled_worker_timeout=STALLED_AFTER_S,
            delete_jobs="always",  # the job row keeps the outcome; a password never outlives its job
            listen_notify=True,
            fetch_job_polling_interval=2.0,
        )
        running.append(worker)

        async def reaper() -> None:
            while True:
                try:
                    await reap(app, settings)
                except Exception:  # the database may be restarting: try again later
                    log.exception("reaper")
                await asyncio.sleep(REAP_EVERY_S)

        reaping = asyncio.create_task(reaper())
        try:
            await worker.run()
        finally:
            reaping.cancel()


def workers_seen(store: ReviewStore, within_s: float = STALLED_AFTER_S) -> int | None:
    """Workers with a heartbeat in the last `within_s` seconds (None: no queue schema)."""
    with store.engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_workers')")).scalar() is None:
            return None
        n = conn.execute(
            text("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > NOW() - make_interval(secs => :s)"),
            {"s": within_s},
        ).scalar()
    return int(n or 0)
