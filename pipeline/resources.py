"""Locate the data folders (`referentiel/`, `prompts/`) in a checkout or in an installed wheel.

In the repository they sit beside `pipeline/`; the wheel ships them inside the package
as `pipeline/_data/<name>` (see `[tool.hatch.build.targets.wheel.force-include]`).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder holding the named data (`referentiel` or `prompts`)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} not found beside {_PACKAGE} nor inside it")
