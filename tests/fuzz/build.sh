#!/bin/sh
# Build the oci/ fuzz target with clang (libFuzzer + ASan + UBSan) straight from the sources
# and run it for N seconds (default 30) over the seed corpus. Exits non-zero on a crash; the
# crashing input is left in $FUZZ_OUT (default /tmp/bulwark-fuzz).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-30}
out=${FUZZ_OUT:-/tmp/bulwark-fuzz}

mkdir -p "$out/corpus"
clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$root" "$here/fuzz_spec.c" "$root"/oci/*.c \
	"$root/common/error.c" "$root/common/fs.c" "$root/common/json.c" "$root/common/util.c" \
	-lyajl -o "$out/fuzz_spec"

# The network policy and domain-name target (netns/, oci/policy.c).
mkdir -p "$out/corpus_dns"
clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$root" "$here/fuzz_dns.c" "$root"/oci/*.c "$root/netns/domains.c" \
	"$root/netns/fw_render.c" \
	"$root/common/error.c" "$root/common/fs.c" "$root/common/json.c" "$root/common/util.c" \
	-lyajl -o "$out/fuzz_dns"

# The network agent: DNS queries and answers through libresolv, NFLOG messages, audit lines.
mkdir -p "$out/corpus_dnsproxy"
clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$root" "$here/fuzz_dnsproxy.c" "$root"/oci/*.c "$root/netns/domains.c" \
	"$root/netns/dnsproxy.c" "$root/netns/dnsproxy_msg.c" "$root/netns/nflog.c" "$root/netns/nfset.c" \
	"$root/common/error.c" "$root/common/fs.c" "$root/common/json.c" "$root/common/util.c" \
	-lyajl -lresolv -o "$out/fuzz_dnsproxy"

cd "$out"
./fuzz_dnsproxy -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$out/dnsproxy-" "$out/corpus_dnsproxy" "$here/corpus_dnsproxy"
./fuzz_dns -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$out/dns-" "$out/corpus_dns" "$here/corpus_dns"
exec ./fuzz_spec -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$out/" "$out/corpus" "$here/corpus"
