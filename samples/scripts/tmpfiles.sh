#!/bin/bash
# Create, keep, rename and delete temporary files with known ages, the way a
# service with a spool directory does: filelife's raw material.
set -euo pipefail
spool=$(mktemp -d /tmp/tt-sample-spool.XXXXXX)
for i in 1 2 3; do
	f=$(mktemp "$spool/job.XXXXXX")
	dd if=/dev/zero of="$f" bs=4096 count=$((i * 4)) status=none
	sleep 0.$((i * 2))
	mv "$f" "$spool/done-$i"
done
sleep 0.5
rm "$spool"/done-1
sleep 0.7
rm "$spool"/done-2 "$spool"/done-3
echo partial > "$spool/left-behind"
python3 -c 'import tempfile, time
with tempfile.NamedTemporaryFile(dir="'"$spool"'") as t:
    t.write(b"x" * 10000); t.flush(); time.sleep(0.3)'
rm -rf "$spool"
