"""Logging in and out: the login page, and the same through the JSON API (`/api/v1/session`)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from pipeline.db.accounts import UserRow
from pipeline.web.deps import State, User, login_session, verify_csrf
from pipeline.web.render import page
from pipeline.web.security import (
    PRE_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    new_nonce,
    set_cookie,
    too_many_attempts_message,
)
from pipeline.web.state import WebState

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."

pages = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
api = APIRouter(
    prefix="/api/v1",
    tags=["session"],
    dependencies=[Depends(verify_csrf)],
    responses={400: {"description": "Malformed request body"}, 403: {"description": "CSRF token missing"}},
)


class UserOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    username: str
    display_name: str
    role: str = Field(description="admin | assessor | trainer | candidate")


class SessionOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authenticated: bool
    user: UserOut | None
    csrf_token: str = Field(description="Send it back in the X-CSRF-Token header of every unsafe request.")


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)


def user_out(user: UserRow) -> UserOut:
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%?=&#-]*")


def safe_next(target: str | None) -> str:
    """Only a plain local path: never another site (`//host`, `/\\host`, control characters browsers drop)."""
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return "/"


def _login(state: WebState, request: Request, username: str, password: str) -> tuple[UserRow, str, str]:
    """Check the rate limit and the password; returns (user, session token, csrf token) or raises 401/429."""
    ip = _client(request)
    wait = state.limiter.reserve(username, ip)  # counted as failed until the password proves right
    if wait is not None:
        raise HTTPException(429, too_many_attempts_message(wait), headers={"Retry-After": str(wait)})
    user = state.accounts.authenticate(username, password)
    if user is None:
        raise HTTPException(401, BAD_CREDENTIALS)
    state.limiter.succeeded(username, ip)
    token, csrf = state.accounts.open_session(user.id, state.options.session_hours)
    return user, token, csrf


def _open(response: Response, request: Request, state: WebState, token: str) -> None:
    set_cookie(response, request, SESSION_COOKIE, token, int(state.options.session_hours * 3600))
    clear_cookie(response, request, PRE_COOKIE)


def _pre_nonce(request: Request) -> tuple[str, bool]:
    """The pre-login CSRF nonce of the request's cookie, or a fresh one (and True: set the cookie)."""
    nonce = request.cookies.get(PRE_COOKIE)
    if nonce and 20 <= len(nonce) <= 100:
        return nonce, False
    return new_nonce(), True


def _ensure_pre_cookie(request: Request, response: Response) -> str:
    nonce, fresh = _pre_nonce(request)
    if fresh:
        set_cookie(response, request, PRE_COOKIE, nonce, None)
    return nonce


# --- pages ----------------------------------------------------------------------------------------


@pages.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    if login_session(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    nonce, fresh = _pre_nonce(request)
    response = page(request, "login.html", next=safe_next(next), csrf_token=nonce)
    if fresh:
        set_cookie(response, request, PRE_COOKIE, nonce, None)
    return response


@pages.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        _, token, _ = _login(state, request, username, password)
    except HTTPException as e:
        refused = page(
            request, "login.html", status=e.status_code, error=e.detail, username=username, next=safe_next(next)
        )
        if e.headers:
            refused.headers.update(e.headers)
        return refused
    response = RedirectResponse(safe_next(next), 303)
    _open(response, request, state, token)
    return response


@pages.post("/logout")
def logout(request: Request, state: State) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        state.accounts.close_session(token)
    response = RedirectResponse("/login", 303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


# --- API ------------------------------------------------------------------------------------------


@api.get("/session", response_model=SessionOut, summary="Current session, and the CSRF token to log in with")
def session_info(request: Request, response: Response) -> SessionOut:
    login = login_session(request)
    if login is not None:
        return SessionOut(authenticated=True, user=user_out(login.user), csrf_token=login.csrf_token)
    return SessionOut(authenticated=False, user=None, csrf_token=_ensure_pre_cookie(request, response))


@api.post(
    "/session",
    response_model=SessionOut,
    summary="Log in (sets the session cookie)",
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Too many failed attempts"}},
)
def session_open(credentials: Credentials, request: Request, response: Response, state: State) -> SessionOut:
    user, token, csrf = _login(state, request, credentials.username, credentials.password)
    _open(response, request, state, token)
    return SessionOut(authenticated=True, user=user_out(user), csrf_token=csrf)


@api.delete("/session", status_code=204, summary="Log out", response_class=Response)
def session_close(request: Request, state: State, _user: User) -> Response:
    response = Response(status_code=204)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        state.accounts.close_session(token)
    clear_cookie(response, request, SESSION_COOKIE)
    return response
