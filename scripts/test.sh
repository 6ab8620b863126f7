#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine (root, apt) and run all tests,
# the real-browser tests, the PostgreSQL runs and single sign-on against a real OIDC provider
# (Debian's glewlwyd) included. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "== installing Debian's nodejs and npm for the GIFT round-trip test (an independent parser)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if ! command -v glewlwyd >/dev/null 2>&1 && [ ! -x /usr/bin/glewlwyd ]; then
  echo "== installing Debian's glewlwyd, a real OpenID Connect provider for the single sign-on test"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq glewlwyd >/dev/null
fi
# The SSO browser test starts its own glewlwyd from this binary; without the variable it skips (fails under CI).
export QUIZ_TEST_GLEWLWYD="${QUIZ_TEST_GLEWLWYD:-/usr/bin/glewlwyd}"
if [ ! -d tests/gift/node_modules/gift-pegjs ]; then
  echo "== installing gift-pegjs (tests/gift/package-lock.json)"
  npm ci --prefix tests/gift --no-audit --no-fund --loglevel=error >/dev/null
fi
# shellcheck source=scripts/venv.sh
source scripts/venv.sh

export QUIZ_SOURCES_DIR="${QUIZ_SOURCES_DIR:-$(cd .. && pwd)/shared/seeds}"
if [ -x .ci/postgres.sh ] && [ -z "${QUIZ_TEST_POSTGRES_URL:-}" ]; then
  echo "== starting a throwaway PostgreSQL server"
  QUIZ_TEST_POSTGRES_URL="$(bash .ci/postgres.sh)"
  export QUIZ_TEST_POSTGRES_URL
  trap 'bash .ci/postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi

echo "== validating content"
python3 -m quiz validate --strict --sources "$QUIZ_SOURCES_DIR" content/
echo "== running tests"
python3 -m pytest "$@"
