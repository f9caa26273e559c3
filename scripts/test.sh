#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: creates its own virtualenv, installs what the
# tests need (LibreOffice, poppler, PostgreSQL, Chromium from Debian when root), starts a
# throw-away PostgreSQL on a Unix socket, runs pytest, stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
step() { printf '\n==> %s\n' "$*"; }
step "Python environment in $VENV (first time: 3 to 6 minutes of pip install; log in $VENV/pip-install.log)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# pip's own chatter (mirror warnings) goes to a log, shown only if the install fails
if ! { "$VENV/bin/python" -m pip install -q --upgrade pip && "$VENV/bin/python" -m pip install -q -e ".[dev]"; } \
     >"$VENV/pip-install.log" 2>&1; then
  cat "$VENV/pip-install.log"; exit 1
fi

need=()
command -v soffice >/dev/null || need+=(libreoffice-writer-nogui)
# Word's Calibri and Cambria drawn with their metric-compatible twins, as a reader's LibreOffice
# does (without them LibreOffice substitutes DejaVu and lays a Word report out on more pages)
fc-list 2>/dev/null | grep -i carlito >/dev/null || need+=(fonts-crosextra-carlito fonts-crosextra-caladea)  # no -q: with pipefail, an early exit fails fc-list
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v chromium >/dev/null || need+=(chromium)
command -v ocrmypdf >/dev/null || need+=(ocrmypdf tesseract-ocr-fra)
command -v initdb >/dev/null || [ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && [ -z "${DR_NO_APT:-}" ]; then
  step "Debian packages: ${need[*]} (first time: 3 to 8 minutes)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
    || echo "warning: apt-get install ${need[*]} failed; tests needing them will be skipped"
fi

PGBIN=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -1 || echo /nonexistent/initdb)")
PGTMP=""
cleanup() { if [ -n "$PGTMP" ]; then su_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$PGTMP"; fi; }
su_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
trap cleanup EXIT
if [ -x "$PGBIN/initdb" ] && { [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }; then
  step "Throw-away PostgreSQL on a Unix socket"
  PGTMP=$(mktemp -d /tmp/dr-pg.XXXXXX)
  chmod 755 "$PGTMP"
  [ "$(id -u)" = 0 ] && chown postgres "$PGTMP"
  if su_pg "$PGBIN/initdb" -D "$PGTMP/data" -A trust -U postgres >/dev/null \
     && su_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -o "-k $PGTMP -h '' -F" -l "$PGTMP/log" -w start >/dev/null; then
    export DOSSIER_REVIEW_TEST_PG_URL="postgresql+psycopg://postgres@/postgres?host=$PGTMP"
  else
    echo "warning: could not start PostgreSQL; PostgreSQL tests will be skipped"
  fi
fi

step "pytest (about 5 to 10 minutes on 2 cores)"
LOG=$(mktemp /tmp/dr-pytest.XXXXXX)
set +e
"$VENV/bin/python" -m pytest -q -rs "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
skipped=$(grep -c '^SKIPPED' "$LOG" || true)
if [ "$skipped" -gt 0 ]; then
  printf '\n==> %s test group(s) SKIPPED — reasons:\n' "$skipped"
  grep '^SKIPPED' "$LOG" | sed -E 's/^SKIPPED \[([0-9]+)\] [^:]+:[0-9]+: /  \1 × /' | sort | uniq -c | sort -rn
  # pytest's own closing line last again, for whoever reads the end of the log
  grep -E '^=* ?[0-9]+ (passed|failed)' "$LOG" | tail -1 || true
fi
rm -f "$LOG"
exit "$status"
