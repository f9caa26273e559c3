#!/usr/bin/env bash
# Set everything up on a fresh machine and run the main job on a bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
step() { printf '\n==> %s\n' "$*"; }
step "Python environment in .venv (first time: 3 to 6 minutes of pip install; log in .venv/pip-install.log)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[dev]"; } \
     >.venv/pip-install.log 2>&1; then
  cat .venv/pip-install.log; exit 1
fi
export DOSSIER_REVIEW_DATA_DIR=${DOSSIER_REVIEW_DATA_DIR:-$PWD/.data}
step "The M1 grid of the referentiel"
.venv/bin/dossier-review referentiel --module M1
step "Review of a bundled sample (first time: about 30 s, the embedding model warms up); runs are stored in $DOSSIER_REVIEW_DATA_DIR"
.venv/bin/dossier-review review samples/m1_biscuiterie_fort/m1_biscuiterie_fort.docx --module M1 --out out/m1_biscuiterie_fort
echo "Rapport : out/m1_biscuiterie_fort/rapport.md — JSON : out/m1_biscuiterie_fort/review.json"
echo "Commandes : .venv/bin/dossier-review --help (ou « . .venv/bin/activate » puis dossier-review …)"
