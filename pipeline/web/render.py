"""Server-side rendering: the Jinja2 environment and the one helper every page goes through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pipeline.db.accounts import ROLE_LABELS
from pipeline.reports.confidence import confidence_label, confidence_percent
from pipeline.reports.grid import fmt_datetime
from pipeline.reports.wording import backend_label
from pipeline.web.deps import expected_csrf, get_state, login_session

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
STATUS_LABELS = {"queued": "en attente", "running": "en cours", "done": "terminée", "failed": "échec"}
KIND_LABELS = {"assessment": "évaluation", "self_check": "auto-évaluation"}


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters["date"] = fmt_datetime
    env.filters["pct"] = lambda v: confidence_percent(float(v))  # "31 %" with a no-break space
    env.filters["confidence"] = confidence_label
    env.filters["backend"] = backend_label
    env.globals.update(role_labels=ROLE_LABELS, status_labels=STATUS_LABELS, kind_labels=KIND_LABELS)
    return templates


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the logged-in user (if any) and the CSRF token its forms must carry."""
    login = login_session(request)
    templates = get_state(request).templates
    return templates.TemplateResponse(
        request,
        name,
        {"user": login.user if login else None, "csrf_token": expected_csrf(request) or "", **context},
        status_code=status,
    )


def standalone_error(templates: Jinja2Templates, status: int, message: str) -> bytes:
    """An error page rendered outside any request (the body-size guard answers before routing)."""
    html = templates.env.get_template("error.html").render(
        user=None, csrf_token="", status=status, message=message, request=None
    )
    return html.encode("utf-8")
