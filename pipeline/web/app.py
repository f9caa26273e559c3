"""The FastAPI application: pages and JSON API over the same pipeline, database and files."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.db.accounts import AccountStore
from pipeline.db.store import ReviewStore
from pipeline.referentiel import Referentiel, resolve_referentiel
from pipeline.settings import Settings
from pipeline.web import admin, api, auth, health, pages
from pipeline.web.deps import NOT_FOUND, LoginRequired
from pipeline.web.jobs import JobRunner
from pipeline.web.proxies import LOOPBACK, TrustedProxies, parse_networks
from pipeline.web.render import STATIC, make_templates, page, standalone_error
from pipeline.web.retention import RetentionSchedule
from pipeline.web.security import LoginLimiter
from pipeline.web.state import WebOptions, WebState
from pipeline.web.uploads import BodyLimit, json_error

log = logging.getLogger(__name__)

UPLOAD_PATHS = frozenset({"/upload", "/api/v1/dossiers"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
FORM_INVALID = "Formulaire incomplet ou invalide : vérifiez les champs et recommencez."


class SecurityHeaders:
    """Headers every response carries: CSP (no inline script, no third-party origin), no sniffing, no framing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for k, v in (
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                ):
                    if k not in names:
                        headers.append((k, v))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings, options: WebOptions | None = None, ref: Referentiel | None = None) -> FastAPI:
    """Build the application; the database is migrated and interrupted jobs are marked failed."""
    options = options or WebOptions()
    settings.ensure_dirs()
    store = ReviewStore(settings.db_url)
    ref = ref or resolve_referentiel(settings.referentiel)
    templates = make_templates()
    state = WebState(
        settings=settings,
        options=options,
        ref=ref,
        store=store,
        accounts=AccountStore(store.session),
        jobs=JobRunner(store, settings, ref, workers=options.workers),
        limiter=LoginLimiter(max_failures=options.login_max_failures, window_s=options.login_window_s),
        templates=templates,
    )

    retention = RetentionSchedule(store, settings)  # DOSSIER_REVIEW_RETENTION_DAYS, daily

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        retention.start()
        gc.freeze()  # what start-up built lives as long as the server: out of every full collection's walk
        yield
        retention.stop()
        state.jobs.shutdown()

    app = FastAPI(
        title="dossier-review",
        summary="Pré-lecture des dossiers de certification : API JSON de l’espace de relecture.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads its code from a CDN: the server must work offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = state
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    from pipeline.web import sessions as exam_sessions  # certification sessions (pages and API)

    app.include_router(exam_sessions.pages)
    app.include_router(exam_sessions.api)
    app.include_router(auth.pages)
    app.include_router(auth.api)
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(api.router)
    app.include_router(health.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "Connectez-vous d’abord (POST /api/v1/session)."}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", 303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else NOT_FOUND
        if exc.status_code == 405:
            message = "Méthode non autorisée sur cette adresse."
        headers = getattr(exc, "headers", None)
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code, headers=headers)
        return page(request, "error.html", status=exc.status_code, message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": _plain(exc.errors())}, status_code=422)
        return page(request, "error.html", status=400, message=FORM_INVALID)

    def render_too_large(path: str, message: str) -> tuple[bytes, str]:
        if path.startswith("/api/"):
            return json_error(message)
        return standalone_error(templates, 413, message), "text/html; charset=utf-8"

    app.add_middleware(
        BodyLimit,
        default_limit=options.max_form_bytes,
        upload_limit=settings.max_file_bytes,
        is_upload=lambda p: p in UPLOAD_PATHS,
        render=render_too_large,
    )
    app.add_middleware(SecurityHeaders)
    trusted = parse_networks(settings.trusted_proxies) + (LOOPBACK if options.trust_proxy else ())
    if trusted:
        app.add_middleware(TrustedProxies, trusted=trusted)
    return app


def _plain(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without the offending input (it may be a password) and JSON-safe."""
    return [
        {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]
