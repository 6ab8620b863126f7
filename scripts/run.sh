#!/usr/bin/env bash
# Run the app: make or reuse .venv with the pinned packages, then `streamlit run app.py`.
# Usage: bash scripts/run.sh [streamlit options, e.g. --server.port 8502]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
exec python -m streamlit run app.py "$@"
