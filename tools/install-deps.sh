#!/bin/bash
# Install the Debian packages tracetape's build, tests and benchmarks need.
set -euo pipefail
PKGS=(make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev
      libcmocka-dev libclang-rt-14-dev zstd pkg-config
      python3 time strace tmux bash libbpf-tools linux-perf
      qemu-system-x86 cpio)
# Not prometheus: it is a server package (a daemon on machines with systemd);
# tests/e2e/analyses.sh takes promtool alone out of it with apt-get download.
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]} (run: sudo make deps)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
