"""What every request handler reaches through `request.app.state.web`: one per application."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from pipeline.db.accounts import AccountStore
from pipeline.db.store import ReviewStore
from pipeline.referentiel import Referentiel
from pipeline.settings import Settings
from pipeline.web.jobs import JobRunner
from pipeline.web.security import LoginLimiter


class WebOptions(BaseModel):
    """How the web server runs; the pipeline itself is configured by `Settings`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trust_proxy: bool = Field(
        default=False,
        description="Behind a reverse proxy on this machine: believe X-Forwarded-For/-Proto from loopback "
        "(client address, Secure cookies); other proxies are listed in DOSSIER_REVIEW_TRUSTED_PROXIES.",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="Lifetime of a login session.")
    workers: int | None = Field(
        default=None, ge=1, le=64, description="Reviews run at once (default: settings.workers)."
    )
    max_form_bytes: int = Field(default=1024 * 1024, description="Largest body of a request that is not an upload.")
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins per name and address in the window.")
    login_window_s: float = Field(default=300.0, gt=0)


@dataclass
class WebState:
    settings: Settings
    options: WebOptions
    ref: Referentiel
    store: ReviewStore
    accounts: AccountStore
    jobs: JobRunner
    limiter: LoginLimiter
    templates: Jinja2Templates
