"""One contender of the finalize-vs-decide race, importable by a spawned process (light imports only)."""

from __future__ import annotations

import time
from typing import Any

from pipeline.db.store import ReviewStore
from pipeline.errors import StorageError


def contend(
    url: str, run_id: str, criterion: str | None, level: int, start: Any, results: Any, delay: float = 0.0
) -> None:
    """Wait at the start barrier (and `delay` seconds), then decide `criterion` (or finalize when None)."""
    store = ReviewStore(url, migrate=False)
    with store.session() as s:  # connect before the start line: the race is about the transactions
        s.connection()
    start.wait()
    time.sleep(delay)
    try:
        if criterion is None:
            store.finalize(run_id, "finaliseur")
            results.put(("finalize", None, "ok"))
        else:
            store.decide(run_id, criterion, level, f"racer-{criterion}")
            results.put(("decide", criterion, "ok"))
    except StorageError as e:
        results.put(("finalize" if criterion is None else "decide", criterion, f"refused: {e.user_message}"))
    except Exception as e:  # reported to the test, which fails on it
        results.put(("finalize" if criterion is None else "decide", criterion, f"error: {type(e).__name__}: {e}"))
    finally:
        store.engine.dispose()
