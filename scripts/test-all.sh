#!/usr/bin/env bash
# The whole suite: lint, migrations check, pytest on SQLite and on PostgreSQL, browser tests.
# Where PostgreSQL or chromium is missing, says so in one line and skips only that part,
# unless REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 (as in CI), which turn the skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PYTEST_ARGS=("$@")

# Tests never touch the operator's instance folder.
export YICIBAN_INSTANCE_DIR=${YICIBAN_INSTANCE_DIR_TEST:-$(mktemp -d)}

echo "== lint (ruff) and migrations check"
"$BIN/ruff" check .
"$BIN/ruff" format --check .
DATABASE_URL="sqlite:///$YICIBAN_INSTANCE_DIR/check.sqlite3" \
  "$BIN/yiciban" makemigrations --check --dry-run >/dev/null

marker=()
if [ -x "$CHROMIUM" ]; then
  export YICIBAN_CHROMIUM="$CHROMIUM"
else
  if [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
    echo "FAIL: REQUIRE_BROWSER=1 but $CHROMIUM is missing (apt-get install chromium fonts-noto-cjk)"; exit 1
  fi
  echo "SKIP browser tests: $CHROMIUM not found (apt-get install chromium fonts-noto-cjk to run them)"
  marker=(-m "not e2e")
fi

echo "== pytest on SQLite"
DATABASE_URL="sqlite:///$YICIBAN_INSTANCE_DIR/test.sqlite3" \
  "$BIN/pytest" -q "${marker[@]}" "${PYTEST_ARGS[@]}"

if "$BIN/python" - "$TEST_DATABASE_URL" <<'PY' 2>/dev/null
import sys, psycopg
from urllib.parse import urlsplit
# Django creates the test database through the server's maintenance database, so the
# database named in the URL need not exist: probe the server, not that database.
url = urlsplit(sys.argv[1].replace("postgres://", "postgresql://", 1))
psycopg.connect(url._replace(path="/postgres").geturl(), connect_timeout=3).close()
PY
then
  echo "== pytest on PostgreSQL ($TEST_DATABASE_URL)"
  DATABASE_URL="$TEST_DATABASE_URL" "$BIN/pytest" -q "${marker[@]}" "${PYTEST_ARGS[@]}"
else
  if [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
    echo "FAIL: REQUIRE_POSTGRES=1 but no PostgreSQL answers at $TEST_DATABASE_URL"; exit 1
  fi
  echo "SKIP PostgreSQL run: no server answers at $TEST_DATABASE_URL (set TEST_DATABASE_URL)"
fi
