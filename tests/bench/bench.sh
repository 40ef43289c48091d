#!/usr/bin/env bash
# Startup bench against runc and crun, in one run, on the same bundle. crun 1.8 refuses hybrid
# cgroup hosts, so every runtime runs in a private mount namespace in which the cgroup2
# "unified" mount is detached: all three see the same v1 layout, and the comparison is fair.
# Usage: tests/bench/bench.sh [N]   (BULWARK=path/to/bulwark)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BULWARK=$(readlink -f "${BULWARK:-$here/../../build/runtime/bulwark}")
if [ -z "${RSSWRAP:-}" ]; then
	RSSWRAP=$(mktemp /tmp/rsswrap.XXXXXX)
	trap 'rm -f "$RSSWRAP"' EXIT
	gcc -O2 -o "$RSSWRAP" "$here/rsswrap.c"
	export RSSWRAP
fi
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null && [ -z "${BENCH_IN_NS:-}" ]; then
	unshare -m --propagation private env BENCH_IN_NS=1 bash -c \
		'umount -l /sys/fs/cgroup/unified && exec python3 "$0" "$@"' "$here/bench.py" "${1:-20}"
	exit
fi
python3 "$here/bench.py" "${1:-20}"
