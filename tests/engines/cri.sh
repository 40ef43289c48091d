# The Kubernetes path: containerd's CRI plugin with bulwark as a RuntimeClass handler. The
# configuration and the RuntimeClass object are taken from docs/engines.md (between the
# "cri-config" and "runtimeclass" markers), so what users copy is exactly what is tested.

DOC=$top/docs/engines.md

doc_block() { # MARKER -> the fenced block after <!-- MARKER -->
	awk -v m="<!-- $1 -->" '$0 == m { on = 1; next } on && /^```/ { if (in_block) exit; in_block = 1; next } in_block' "$DOC"
}

# cri_config DIR FRAGMENT: a containerd config with CRI on, everything under DIR.
cri_config() {
	cat <<EOF
version = 2
root = "$1/root"
state = "$1/state"
[grpc]
  address = "$1/containerd.sock"
[ttrpc]
  address = "$1/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$1/opt"
EOF
	printf '%s\n' "$2" | grep -v '^version = '
}

# The documented fragment, pointed at the runtime under test and a temporary root; with
# ENGINES_CGROUP_DRIVER=systemd, the documented SystemdCgroup = true variant.
cri_fragment() {
	local sd=false
	[ "$CG_DRIVER" = systemd ] && sd=true
	doc_block cri-config | sed -e "s|/usr/local/bin/bulwark|$BULWARK|" -e "s|\"/run/bulwark\"|\"$T/cri/rt-root\"|" \
		-e "s|SystemdCgroup = false|SystemdCgroup = $sd|"
}

# cri_start DIR CONFIG -> "ok"/"error"/...: the CRI plugin's status in a containerd running CONFIG.
cri_start() {
	local d=$1 pid status
	mkdir -p "$d"
	printf '%s\n' "$2" >"$d/config.toml"
	containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	pid=$!
	DAEMON_PIDS+=($pid)
	if wait_for 30 ctr -a "$d/containerd.sock" version >/dev/null 2>&1; then
		status=$(ctr -a "$d/containerd.sock" plugins ls 2>/dev/null |
			awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { print $NF }')
	fi
	stop_pid "$pid"
	echo "${status:-none}"
}

c_cri_doc_blocks() {
	local frag rc handler
	frag=$(doc_block cri-config)
	rc=$(doc_block runtimeclass)
	[ -n "$frag" ] || fail "no cri-config block in $DOC"
	[ -n "$rc" ] || fail "no runtimeclass block in $DOC"
	expect_contains "$frag" 'runtime_type = "io.containerd.runc.v2"' "runtime type"
	expect_contains "$frag" 'BinaryName = ' "BinaryName"
	expect_contains "$frag" 'Root = ' "Root"
	expect_contains "$frag" 'default_runtime_name = "runc"' "the default runtime stays configured"
	handler=$(printf '%s\n' "$rc" | awk '$1 == "handler:" { print $2 }')
	expect_contains "$frag" "containerd.runtimes.$handler]" "the RuntimeClass handler names the runtime"
	expect_contains "$rc" "kind: RuntimeClass" "RuntimeClass object"
}

c_cri_config_dump() {
	local out
	out=$(containerd --config <(cri_config "$T/cri/dump" "$(cri_fragment)") config dump 2>&1) ||
		fail "containerd config dump: $out"
	expect_contains "$out" "BinaryName = \"$BULWARK\"" "merged config"
	expect_contains "$out" 'runtime_type = "io.containerd.runc.v2"' "merged config"
	[ "$CG_DRIVER" != systemd ] || expect_contains "$out" "SystemdCgroup = true" "merged config"
}

c_cri_plugin_accepts() {
	local st
	st=$(cri_start "$T/cri/good" "$(cri_config "$T/cri/good" "$(cri_fragment)")")
	expect_eq "$st" ok "CRI plugin status with the documented configuration"
	# bulwark as the default for every pod, the other documented variant
	st=$(cri_start "$T/cri/default" "$(cri_config "$T/cri/default" "$(cri_fragment |
		sed 's/default_runtime_name = "runc"/default_runtime_name = "bulwark"/')")")
	expect_eq "$st" ok "CRI plugin status with default_runtime_name = bulwark"
}

c_cri_plugin_rejects() { # the check can fail: a default runtime that is not configured
	local st
	st=$(cri_start "$T/cri/bad" "$(cri_config "$T/cri/bad" "$(cri_fragment |
		sed 's/default_runtime_name = "runc"/default_runtime_name = "no-such-runtime"/')")")
	[ "$st" != ok ] || fail "containerd accepted a default runtime that does not exist"
}

cri_matrix() {
	cell cri/doc-blocks c_cri_doc_blocks
	cell cri/config-dump c_cri_config_dump
	# systemd driver (the VM): the plugin's start-up is the host run's job; each containerd costs
	# seconds under emulation, and the cgroup driver does not change what the plugin checks.
	[ "$CG_DRIVER" != systemd ] || return 0
	cell cri/plugin-accepts-config c_cri_plugin_accepts
	cell cri/plugin-rejects-bad-config c_cri_plugin_rejects
}
