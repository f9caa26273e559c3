"""`referentiel/` and `prompts/` are found from the editable install and from a built wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import pipeline, json; from pipeline.referentiel import load_referentiel;"
    " from pipeline.prompts import draft_prompts; r = load_referentiel();"
    " print(json.dumps({'file': pipeline.__file__, 'n': len(r.criteria_by_id),"
    " 'prompt': draft_prompts().hash}))"
)


def _probe(env: dict[str, str], cwd: Path) -> dict[str, object]:
    import json

    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_editable_install_finds_data(tmp_path: Path) -> None:
    got = _probe(dict(os.environ), tmp_path)
    assert got["n"] == 79 and str(ROOT) in str(got["file"])


def test_built_wheel_ships_referentiel_and_prompts(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if build.returncode != 0 and "No module named build" in build.stderr:
        pytest.skip("the 'build' package is not installed")
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("dossier_review-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "pipeline/_data/referentiel/mdc-2023.yaml" in names
    assert "pipeline/_data/prompts/draft_criterion.user.md" in names
    assert any(n.startswith("pipeline/db/migrations/versions/0001") for n in names)
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env = dict(os.environ, PYTHONPATH=str(target))
    got = _probe(env, tmp_path)
    assert str(target) in str(got["file"]) and got["n"] == 79
    assert got["prompt"] == _probe(dict(os.environ), tmp_path)["prompt"]
