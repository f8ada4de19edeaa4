#!/bin/bash
# Drive a real interactive bash under tmux (readline needs a terminal) and
# type a few commands into it, as a person would.  Recorded by
# samples/make-samples.sh with `tracetape record -- bash bash-session.sh`,
# so the recorder follows this script, tmux, the bash and its commands.
set -euo pipefail
SOCK=tt-sample-$$
work=$(mktemp -d /tmp/tt-sample-work.XXXXXX)
tmux -L "$SOCK" new-session -d -x 160 -y 40 -c "$work" "bash --norc -i"
sleep 0.5
type_line() {
	tmux -L "$SOCK" send-keys -l "$1"
	tmux -L "$SOCK" send-keys Enter
	sleep "${2:-0.4}"
}
type_line "echo hello > greeting.txt"
type_line "cat greeting.txt | wc -c"
type_line "ls -la"
type_line "grep -c root /etc/passwd"
type_line "cp greeting.txt copy.txt && rm copy.txt"
type_line "mkdir logs && echo started > logs/app.log && mv logs/app.log logs/app.log.1"
type_line "sh -c 'exit 3'"
type_line "cat /etc/does-not-exist"
type_line "sleep 1 &" 0.3
type_line "wc -l /etc/services" 1.2
type_line "exit" 0.5
tmux -L "$SOCK" kill-server 2>/dev/null || true
rm -rf "$work"
