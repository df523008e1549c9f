#!/usr/bin/env bash
# One-time set-up: a virtual environment in .venv with the library, the book tools and the
# test tools. Python 3.11+ is needed; torch 2.14.1 / torchvision 0.29.1 are pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
"$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[book,test,dev]"
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "ready: .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
