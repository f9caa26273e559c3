"""`GET /healthz`: database, vector store, queue depth and workers seen recently (no login, no data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from pipeline.jobqueue.status import waiting_jobs
from pipeline.store import vector_store_ok
from pipeline.web.state import WebState

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    state: WebState = request.app.state.web
    checks: dict[str, Any] = {"database": _database_ok(state), "queue": state.settings.queue}
    checks["vector_store"] = vector_store_ok(state.settings.chroma_dir, state.settings.chroma_url)
    if checks["database"]:
        checks["queue_depth"] = waiting_jobs(state.store)
        checks["workers"] = _workers(state)
    ok = bool(checks["database"] and checks["vector_store"])
    return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)


def _database_ok(state: WebState) -> bool:
    try:
        with state.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _workers(state: WebState) -> int | None:
    """Workers with a heartbeat in the last 20 s (postgres queue), or this server's review threads."""
    if state.settings.queue == "postgres":
        from pipeline.jobqueue.pgqueue import workers_seen

        return workers_seen(state.store)
    return state.jobs.pool._max_workers
