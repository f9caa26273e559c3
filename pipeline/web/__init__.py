"""Web review workspace: FastAPI pages and JSON API for assessors, candidates, trainers and admins.

`create_app` is imported lazily so that the command line does not pay for FastAPI at start-up.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WebOptions", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from pipeline.web.app import create_app

        return create_app
    if name == "WebOptions":
        from pipeline.web.state import WebOptions

        return WebOptions
    raise AttributeError(name)
