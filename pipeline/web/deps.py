"""Request dependencies: the application state, the logged-in user, the CSRF check, role gates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from pipeline.db.accounts import ROLE_LABELS, LoginSession, UserRow
from pipeline.web.security import CSRF_FIELD, CSRF_HEADER, PRE_COOKIE, SAFE_METHODS, SESSION_COOKIE, tokens_match
from pipeline.web.state import WebState

NOT_FOUND = "Page ou document introuvable (ou vous n’y avez pas accès)."
CSRF_REFUSED = (
    "Jeton de sécurité manquant ou expiré : rechargez la page, puis recommencez. "
    "(Protection contre les requêtes envoyées à votre insu.)"
)


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


def get_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def login_session(request: Request) -> LoginSession | None:
    """The session of the request's cookie, resolved once per request."""
    if not hasattr(request.state, "login"):
        token = request.cookies.get(SESSION_COOKIE, "")
        request.state.login = get_state(request).accounts.resolve_session(token) if token else None
    login: LoginSession | None = request.state.login
    return login


def current_user(request: Request) -> UserRow:
    login = login_session(request)
    if login is None:
        raise LoginRequired
    return login.user


def expected_csrf(request: Request) -> str | None:
    """The token this request must carry: the session's, or before login the pre-session nonce."""
    login = login_session(request)
    return login.csrf_token if login else request.cookies.get(PRE_COOKIE)


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request that does not echo the CSRF token (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    ctype = request.headers.get("content-type", "")
    if not sent and (ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not tokens_match(expected_csrf(request), sent):
        raise HTTPException(403, CSRF_REFUSED)


def require_role(*roles: str) -> Callable[[UserRow], UserRow]:
    """A dependency that lets only these roles through (403 for a page the role never uses)."""

    def check(user: Annotated[UserRow, Depends(current_user)]) -> UserRow:
        if user.role not in roles:
            who = ", ".join(ROLE_LABELS[r] + "s" for r in roles)
            raise HTTPException(403, f"Cette fonction est réservée aux {who}.")
        return user

    return check


def not_found() -> HTTPException:
    return HTTPException(404, NOT_FOUND)


State = Annotated[WebState, Depends(get_state)]
User = Annotated[UserRow, Depends(current_user)]
