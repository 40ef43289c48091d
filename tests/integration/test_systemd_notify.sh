# NOTIFY_SOCKET with systemd itself (docs/engines.md): `bulwark run` as a Type=notify unit's main
# process. Needs systemd as PID 1: run it in the VM booted with systemd
# (VM_SUITE_FILTER='^test_sd_notify' tests/vm/run-vm-suite.sh --systemd). Anywhere else this
# file defines no tests, so nothing here is reported as passed without having run.
[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -S /run/systemd/private ] || return 0

# The unit is "activating" until the container says READY=1, then "active": systemd accepted
# the datagram (NotifyAccess=main: it came from bulwark run, the unit's main pid).
test_sd_notify_type_notify_unit_is_active_once_the_container_is_ready() {
	b=$(ntf_bundle sdn-unit)
	rm -f "$WORK/ntf-bin/go"
	# READY=1 once the test says so (/home is $WORK/ntf-bin): no race with the VM's speed.
	cfg "$b" '.process.args=["sh","-c","while [ ! -e /home/go ]; do sleep 0.1; done; /home/sd_notify READY=1; exec sleep 300"]'
	SDN_UNIT=bwit-notify-$$.service
	systemd-run --quiet --no-block --unit="$SDN_UNIT" -p Type=notify -p TimeoutStartSec=240 \
		"$BULWARK" --root "$BW_ROOT" run -b "$b" sdn-unit
	wait_for 120 sdn_container_is running ||
		fail "container not running: $(systemctl status "$SDN_UNIT" 2>&1 | tail -5)"
	expect_eq "before READY=1" activating "$(systemctl is-active "$SDN_UNIT")"
	touch "$WORK/ntf-bin/go"
	wait_for 120 sdn_unit_is active ||
		fail "unit not active: $(systemctl status "$SDN_UNIT" 2>&1 | tail -5)"
	main=$(systemctl show -p MainPID --value "$SDN_UNIT")
	expect_contains "main process" bulwark "$(readlink "/proc/$main/exe")"
	bw kill sdn-unit KILL
	wait_for 120 sdn_unit_gone || fail "unit still there: $(systemctl status "$SDN_UNIT" 2>&1 | tail -5)"
	wait_for 60 [ ! -e "$BW_ROOT/sdn-unit" ] || fail "container left"
	rm -f "$WORK/ntf-bin/go"
}

# (wait_for runs its command again each time: the state is read inside these, not in its args.)
sdn_container_is() { [ "$(bw state sdn-unit 2>/dev/null | jq -r .status)" = "$1" ]; }
sdn_unit_is() { [ "$(systemctl is-active "$SDN_UNIT")" = "$1" ]; }
sdn_unit_gone() {
	systemctl reset-failed "$SDN_UNIT" 2>/dev/null
	! systemctl is-active --quiet "$SDN_UNIT" && [ "$(systemctl is-failed "$SDN_UNIT")" != failed ]
}
