"""Cookies, CSRF tokens and the login rate limit.

CSRF: a logged-in user's token is bound to their server-side session; before login, the token
is a random nonce in an HttpOnly cookie that the login form must echo (double submit). Every
unsafe request must carry the token, as the `csrf_token` form field or the `X-CSRF-Token`
header (the JSON API and the page scripts).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "dr_session"
PRE_COOKIE = "dr_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_secure(request: Request) -> bool:
    """True over TLS. Behind a proxy, the scheme comes from X-Forwarded-Proto only when trusted."""
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_secure(request))


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, sent: str | None) -> bool:
    if not expected or not sent:
        return False
    return secrets.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))


@dataclass
class LoginLimiter:
    """Sliding-window count of failed logins, per (username, client address) and per address.

    In memory: the server is one process; a restart forgets the counts, which only shortens a
    lock-out that was at most `window_s` long anyway.
    """

    max_failures: int = 5
    max_failures_per_ip: int = 30
    window_s: float = 300.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _fails: dict[tuple[str, str], deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _now(self) -> float:
        return self.clock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, username: str, ip: str) -> int | None:
        """Seconds to wait before another attempt, or None when one is allowed."""
        now = self._now()
        with self._lock:
            return self._retry_after(username, ip, now)

    def _retry_after(self, username: str, ip: str, now: float) -> int | None:
        waits = []
        keys = (((username.strip().lower(), ip), self.max_failures), (("", ip), self.max_failures_per_ip))
        for key, limit in keys:
            q = self._recent(key, now)
            if len(q) >= limit:
                waits.append(int(q[0] + self.window_s - now) + 1)
        return max(waits) if waits else None

    def reserve(self, username: str, ip: str) -> int | None:
        """Check the limits and count this attempt as a failure, in one step; seconds to wait when refused.

        Called before the password check: the check is slow (argon2), so an attempt counted only
        after it would let a burst of parallel attempts all pass the limit. `succeeded` takes a
        successful attempt back.
        """
        now = self._now()
        with self._lock:
            wait = self._retry_after(username, ip, now)
            if wait is not None:
                return wait
            if len(self._fails) > 100_000:  # bounded memory under a spray of names
                self._fails.clear()
            self._recent((username.strip().lower(), ip), now).append(now)
            self._recent(("", ip), now).append(now)
            return None

    def succeeded(self, username: str, ip: str) -> None:
        """Forget the name's failures from this address, and take back the attempt `reserve` counted."""
        with self._lock:
            self._fails.pop((username.strip().lower(), ip), None)
            per_ip = self._fails.get(("", ip))
            if per_ip:
                per_ip.pop()


def too_many_attempts_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        f"Trop de tentatives de connexion échouées. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''} "
        "ou demandez à l’administrateur de réinitialiser votre mot de passe."
    )
