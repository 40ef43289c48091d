# NOTIFY_SOCKET with systemd itself (docs/engines.md): `bulwark run` as a Type=notify unit's main
# process. Needs systemd as PID 1: run it in the VM booted with systemd
# (VM_SUITE_FILTER='^test_sd_notify' tests/vm/run-vm-suite.sh --systemd). Anywhere else this
# file defines no tests, so nothing here is reported as passed without having run.
[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -S /run/systemd/private ] || return 0

# The unit is "activating" until the container says READY=1, then "active": systemd accepted
# the datagram (NotifyAccess=main: it came from bulwark run, the unit's main pid).
test_sd_notify_type_notify_unit_is_active_once_the_container_is_ready() {
	b=$(ntf_bundle sdn-unit)
	cfg "$b" '.process.args=["sh","-c","sleep 3; /home/sd_notify READY=1; exec sleep 120"]'
	unit=bwit-notify-$$.service
	systemd-run --quiet --no-block --unit="$unit" -p Type=notify -p TimeoutStartSec=90 \
		"$BULWARK" --root "$BW_ROOT" run -b "$b" sdn-unit
	wait_for 10 [ "$(bw state sdn-unit 2>/dev/null | jq -r .status)" = running ] ||
		fail "container not running: $(systemctl status "$unit" 2>&1 | tail -5)"
	expect_eq "before READY=1" activating "$(systemctl is-active "$unit")"
	wait_for 60 [ "$(systemctl is-active "$unit")" = active ] ||
		fail "unit not active: $(systemctl status "$unit" 2>&1 | tail -5)"
	main=$(systemctl show -p MainPID --value "$unit")
	expect_contains "main process" bulwark "$(readlink "/proc/$main/exe")"
	bw kill sdn-unit KILL
	wait_for 30 [ "$(systemctl is-active "$unit")" != active ] || fail "unit still active"
	systemctl reset-failed "$unit" 2>/dev/null || true
	wait_for 10 [ ! -e "$BW_ROOT/sdn-unit" ] || fail "container left"
}
