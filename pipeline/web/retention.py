"""The retention purge on schedule: while the web server runs, once at start and then daily."""

from __future__ import annotations

import logging
import threading

from pipeline.db.store import ReviewStore
from pipeline.settings import Settings

log = logging.getLogger(__name__)
DAY_S = 86400.0


class RetentionSchedule:
    """Erase what is older than `settings.retention_days` (nothing to do when it is 0), in a background thread."""

    def __init__(self, store: ReviewStore, settings: Settings, every_s: float = DAY_S, first_after_s: float = 60.0):
        self.store, self.settings = store, settings
        self.every_s, self.first_after_s = every_s, first_after_s
        self.runs = 0  # purges done (tests, logs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.retention_days < 1 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        from pipeline.erasure import purge

        wait = self.first_after_s
        while not self._stop.wait(wait):
            days = self.settings.retention_days
            try:
                done = purge(self.store, self.settings, days, actor=f"conservation {days} j")
                log.info(
                    "retention %d days: %d dossier(s), %d run(s), %d unattached file(s) erased",
                    days,
                    done.dossiers,
                    done.runs,
                    done.unattached,
                )
            except Exception:  # a failed purge is retried at the next tick; the server keeps serving
                log.exception("retention purge failed")
            self.runs += 1
            wait = self.every_s
