#!/usr/bin/env bash
# Installs what gorun needs, builds the release preset and runs the hello_tasks sample.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
echo "quickstart: running build/release/samples/hello_tasks/hello_tasks"
build/release/samples/hello_tasks/hello_tasks
