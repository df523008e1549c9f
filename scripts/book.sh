#!/usr/bin/env bash
# The published book from a fresh clone, in one command: the environment (created when it is
# missing), every data set (fetched from its public source when it is missing, and verified by
# SHA-256 either way), every chapter with the full profile, then the HTML.
#
#   bash scripts/book.sh                             # the published book -> _build/html
#   bash scripts/book.sh --profile smoke             # the quick check: minutes on two cores
#   bash scripts/book.sh --only 02 -p seeds "[0]"    # any option of scripts/build_book.py
#   bash scripts/book.sh --data-only                 # the environment and the data, no build
#
# Data: $SPHEREFACE_DATA (default ~/.cache/sphereface/data); SPHEREFACE_MIRROR=<url> fetches
# <url>/<file name> instead of the public sources. PYTHON=<interpreter> uses that environment
# instead of .venv. Trained runs are cached in $SPHEREFACE_CACHE (default .cache/runs).
set -euo pipefail
cd "$(dirname "$0")/.."
data_only=0
build=(--profile full)  # a later --profile among the arguments wins
for argument in "$@"; do
  if [ "$argument" = "--data-only" ]; then data_only=1; else build+=("$argument"); fi
done
if [ -z "${PYTHON:-}" ]; then
  bash scripts/setup.sh --if-needed
fi
python="${PYTHON:-.venv/bin/python}"
started=$(date +%s)

if [ "$data_only" = 1 ]; then
  echo "== data: verified, and fetched when missing"
  "$python" -m sphereface_lib data --download
  echo "data ready in $(( $(date +%s) - started )) s"
  exit 0
fi

echo "== the book: data, then every chapter (a line as each starts and ends), then the HTML"
"$python" scripts/build_book.py "${build[@]}"
case " ${build[*]} " in
  *" --no-html "*) ;;
  *) echo "HTML: $PWD/_build/html/index.html" ;;
esac
echo "book built in $(( $(date +%s) - started )) s"
