#!/bin/bash
# Say which Debian package to install for each tool or header the build misses.
status=0
need_cmd() { command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' not found: apt-get install $2 (or: make deps)" >&2; status=1; }; }
need_hdr() { [ -e "/usr/include/$1" ] || { echo "error: <$1> not found: apt-get install $2 (or: make deps)" >&2; status=1; }; }
need_cmd cc gcc
need_cmd clang clang
need_cmd bpftool bpftool
need_hdr zstd.h libzstd-dev
need_hdr bpf/libbpf.h libbpf-dev
need_hdr libelf.h libelf-dev
need_hdr zlib.h zlib1g-dev
need_hdr cmocka.h libcmocka-dev
exit $status
