#!/usr/bin/env bash
# The whole test suite: lint and type checks, unit tests, the smoke build of the book, nbval on
# the executed notebooks, then the tests of the built book (browser, reruns). Fails on the first
# failure. Creates .venv first when it is missing (scripts/setup.sh); PYTHON=<interpreter> uses
# that environment instead.
#
#   bash scripts/test.sh          # everything
#   bash scripts/test.sh --unit   # lint, types, committed files and unit tests only (minutes;
#                                 # the Pages workflow runs it before it builds the book)
set -euo pipefail
case "${1:-}" in
  "") unit_only=false ;;
  --unit) unit_only=true ;;
  *) echo "usage: bash scripts/test.sh [--unit]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  bash scripts/setup.sh --if-needed
fi
python="${PYTHON:-.venv/bin/python}"
# An absolute path, as the nbval step runs from another folder (the directory is resolved, not
# the interpreter's link, which would leave the virtual environment).
case "$python" in */*) python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")" ;; esac
export SPHEREFACE_CACHE="${SPHEREFACE_CACHE:-$PWD/.cache/runs}"

echo "== lint, format, types, committed files (the pre-commit hooks)"
sources=(sphereface_lib tests scripts benchmarks notebooks)
"$python" -m ruff check "${sources[@]}"
"$python" -m ruff format --check "${sources[@]}"
"$python" -m mypy
"$python" scripts/check_committed_files.py

echo "== unit tests (one process per core: pytest-xdist)"
"$python" -m pytest -q -m "not book" -n auto tests
if [ "$unit_only" = true ]; then
  exit 0
fi

echo "== smoke build of the book"
"$python" scripts/build_book.py --profile smoke

echo "== nbval: re-execute every chapter and compare its outputs"
(cd book/_executed && "$python" -m pytest -q --nbval -p no:cacheprovider --nbval-cell-timeout=900 ./*.ipynb)

echo "== the built book"
"$python" -m pytest -q -m book tests
