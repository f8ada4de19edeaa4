#!/bin/bash
# make bench: install the peers (libbpf-tools, perf), then run the suite.
set -euo pipefail
BUILD=${1:-build}
if [ "$(id -u)" -eq 0 ]; then
	bash "$(dirname "$0")/../tools/install-deps.sh" >/dev/null || echo "bench: could not install peers; absent ones are skipped"
fi
exec python3 "$(dirname "$0")/suite.py" --build "$BUILD" "${@:2}"
