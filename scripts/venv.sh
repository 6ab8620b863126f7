#!/usr/bin/env bash
# Make (or reuse) the project's virtual environment in .venv and install the pinned packages.
#
#   source scripts/venv.sh     # from the repository's top folder; leaves .venv/bin first on PATH
#
# Works with Debian's and Ubuntu's own Python (PEP 668 forbids pip outside a venv there), pyenv's
# and conda's. When the venv module has no ensurepip (Debian without python3-venv) and we are
# root, python3-venv is installed through apt. A second run reuses .venv and installs nothing
# unless requirements.txt changed. QUIZ_PYTHON picks the interpreter (default: python3 on PATH).

QUIZ_PYTHON=${QUIZ_PYTHON:-python3}
VENV_DIR=${QUIZ_VENV:-.venv}

_quiz_log() { echo "== $*" >&2; }

if ! command -v "$QUIZ_PYTHON" >/dev/null 2>&1; then
  echo "error: $QUIZ_PYTHON not found; install Python 3.11 or newer (Debian: apt-get install python3)" >&2
  return 1 2>/dev/null || exit 1
fi
if ! "$QUIZ_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $("$QUIZ_PYTHON" -V 2>&1) is too old: this app needs Python 3.11 or newer" >&2
  return 1 2>/dev/null || exit 1
fi

_quiz_make_venv() {
  rm -rf "$VENV_DIR"
  "$QUIZ_PYTHON" -m venv "$VENV_DIR" >&2 2>"${TMPDIR:-/tmp}/quiz-venv.err"
}

if [ ! -x "$VENV_DIR/bin/python" ] || ! "$VENV_DIR/bin/python" -c 'import sys' >/dev/null 2>&1; then
  _quiz_log "making a virtual environment in $VENV_DIR with $("$QUIZ_PYTHON" -V 2>&1)"
  # Debian and Ubuntu ship the venv module without ensurepip's wheels unless python3-venv is installed.
  if ! _quiz_make_venv; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      version=$("$QUIZ_PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      _quiz_log "installing python${version}-venv through apt (this Python cannot make a venv without it)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq "python${version}-venv" >&2 || apt-get install -y -qq python3-venv >&2
      _quiz_make_venv || { cat "${TMPDIR:-/tmp}/quiz-venv.err" >&2; return 1 2>/dev/null || exit 1; }
    else
      cat "${TMPDIR:-/tmp}/quiz-venv.err" >&2
      echo "error: $QUIZ_PYTHON cannot make a virtual environment; install python3-venv (as root: apt-get install python3-venv)" >&2
      return 1 2>/dev/null || exit 1
    fi
  fi
fi

stamp="$VENV_DIR/.requirements.sha256"
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  _quiz_log "installing the pinned Python packages into $VENV_DIR"
  "$VENV_DIR/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$VENV_DIR/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt >&2
  echo "$wanted" > "$stamp"
fi

PATH="$(cd "$VENV_DIR" && pwd)/bin:$PATH"
export PATH VIRTUAL_ENV="$(cd "$VENV_DIR" && pwd)"
hash -r
