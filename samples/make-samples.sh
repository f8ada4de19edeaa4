#!/bin/bash
# Re-record the sample tapes (root, BPF).  Each sample records one script's
# process tree with `tracetape record -- ...`, then verifies the tape.
set -euo pipefail
cd "$(dirname "$0")/.."
TT=${TT:-build/tracetape}
for s in bash-session compile tmpfiles; do
	rm -rf "samples/$s"
	"$TT" record -q -o "samples/$s" -- bash "samples/scripts/$s.sh"
	"$TT" verify "samples/$s" >/dev/null
	chmod -R a+rX "samples/$s"
	echo "samples/$s: $(du -sh "samples/$s" | cut -f1)"
done
