#!/usr/bin/env bash
# The environment: a virtual environment in .venv with the library, the book tools and the test
# tools, made from python3 or from BASE_PYTHON=/path/to/python3.11 (3.11 or newer is needed);
# torch 2.14.1 and torchvision 0.29.1 are pinned.
#
#   bash scripts/setup.sh              # create or update .venv
#   bash scripts/setup.sh --if-needed  # only when .venv is missing, unfinished or older than
#                                      # pyproject.toml (scripts/book.sh and scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${BASE_PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python was not found; install Python 3.11 or newer, or run with" \
    "BASE_PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: Python 3.11 or newer is needed, and $python is $("$python" --version 2>&1);" \
    "run with BASE_PYTHON=/path/to/python3.11" >&2
  exit 1
fi
# Written last, so that an interrupted set-up is completed by the next call.
stamp=.venv/.sphereface-setup
wanted="$("$python" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
if [ "${1:-}" = "--if-needed" ] && [ -x .venv/bin/python ] \
  && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi
started=$(date +%s)
echo "setting up .venv (torch, the book tools, the test tools: several minutes the first time)"
"$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[book,test,dev]"
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "$wanted" >"$stamp"
echo "ready: .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)')) in $(( $(date +%s) - started )) s"
