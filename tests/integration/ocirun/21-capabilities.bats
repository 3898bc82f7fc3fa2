#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# process.capabilities: the five sets (bounding, effective, inheritable, permitted, ambient)
# as the container's process has them, what a dropped capability forbids inside, ambient
# capabilities of a non-root user surviving exec, noNewPrivileges, an unknown capability name
# (refused by ocirun) and one the kernel does not know (skipped).
#
# How the sets look depends on when they are read. The runtime installs the configured sets
# and then execs the user process, and execve(2) recomputes them (capabilities(7)):
#   root, no file capabilities: P'(permitted) = bounding | inheritable | ambient on a stock
#     kernel (some kernels give P(permitted) | ambient instead), P'(effective) = P'(permitted);
#   any other uid: P'(permitted) = P'(effective) = ambient;
#   inheritable, bounding and ambient are kept.
# So the exact configured sets are read from the init between create and start (it has
# applied them and waits for start in the runtime's code), and the sets after exec are
# checked with configs where both kernel rules give the same answer.

load ../helpers
load security-helpers

# caps_of_init: CapBnd/Eff/Inh/Prm/Amb of the created (not started) container's init,
# one "Field: value" line each, into $output.
caps_of_init() {
	local pid
	pid=$(container_pid)
	output=$(grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' "/proc/$pid/status")
}

@test "capabilities: the init has exactly the configured five sets before exec" {
	make_bundle
	set_caps "CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_AUDIT_WRITE" \
		"CAP_KILL" \
		"CAP_CHOWN CAP_NET_RAW" \
		"CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW" \
		"CAP_NET_RAW"
	config_args true
	create_container
	assert_status 0
	caps_of_init
	[ "$(status_field CapBnd)" = "$(cap_mask CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_AUDIT_WRITE)" ] || fail "$output"
	[ "$(status_field CapEff)" = "$(cap_mask CAP_KILL)" ] || fail "$output"
	[ "$(status_field CapInh)" = "$(cap_mask CAP_CHOWN CAP_NET_RAW)" ] || fail "$output"
	[ "$(status_field CapPrm)" = "$(cap_mask CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW)" ] || fail "$output"
	[ "$(status_field CapAmb)" = "$(cap_mask CAP_NET_RAW)" ] || fail "$output"
	ocirun delete --force "$ID"
	assert_gone
}

@test "capabilities: the five sets seen from inside /proc/self/status (root)" {
	make_bundle
	# permitted = bounding, inheritable within it, ambient within inheritable: every kernel
	# rule gives permitted' = effective' = bounding.
	local all="CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_AUDIT_WRITE"
	set_caps "$all" "CAP_KILL CAP_NET_BIND_SERVICE" "CAP_CHOWN CAP_NET_RAW" "$all" "CAP_NET_RAW"
	config_args grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
	run_file run_fg
	assert_status 0
	# shellcheck disable=SC2086
	[ "$(status_field CapBnd)" = "$(cap_mask $all)" ] || fail "$output"
	# shellcheck disable=SC2086
	[ "$(status_field CapPrm)" = "$(cap_mask $all)" ] || fail "$output"
	# shellcheck disable=SC2086
	[ "$(status_field CapEff)" = "$(cap_mask $all)" ] || fail "$output"
	[ "$(status_field CapInh)" = "$(cap_mask CAP_CHOWN CAP_NET_RAW)" ] || fail "$output"
	[ "$(status_field CapAmb)" = "$(cap_mask CAP_NET_RAW)" ] || fail "$output"
	assert_gone
}

@test "capabilities: empty sets give a process with no capabilities at all" {
	make_bundle
	set_caps "" "" "" "" ""
	config_args grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
	run_file run_fg
	assert_status 0
	local f
	for f in CapBnd CapPrm CapEff CapInh CapAmb; do
		[ "$(status_field "$f")" = 0000000000000000 ] || fail "$f: $output"
	done
}

@test "capabilities: without CAP_CHOWN chown fails, with it chown works" {
	make_bundle
	config_mount /tmp tmpfs tmpfs
	config_args sh -c 'touch /tmp/f; if chown 1 /tmp/f; then stat -c "owner=%u" /tmp/f; else echo denied; fi'
	set_caps "CAP_KILL CAP_DAC_OVERRIDE" "CAP_KILL CAP_DAC_OVERRIDE" "" "CAP_KILL CAP_DAC_OVERRIDE" ""
	run_file run_fg
	assert_status 0
	grep -qx denied <<<"$output" || fail "chown without CAP_CHOWN: $output"
	assert_output_contains "Operation not permitted"

	set_caps "CAP_CHOWN CAP_KILL" "CAP_CHOWN CAP_KILL" "" "CAP_CHOWN CAP_KILL" ""
	run_file run_fg
	assert_status 0
	[ "$output" = owner=1 ] || fail "chown with CAP_CHOWN: $output"
}

@test "capabilities: without CAP_NET_RAW ping cannot open its raw socket" {
	make_bundle
	# CAP_NET_ADMIN to bring lo of the new network namespace up. The namespace's
	# net.ipv4.ping_group_range is "1 0": no unprivileged ICMP sockets to fall back on.
	config_args sh -c 'ip link set lo up && ping -c 1 -W 1 127.0.0.1; echo "ping=$?"'
	set_caps "CAP_NET_ADMIN" "CAP_NET_ADMIN" "" "CAP_NET_ADMIN" ""
	run_file run_fg
	assert_status 0
	assert_output_contains "ping=1" "permission denied"
	! grep -q "1 packets received" <<<"$output" || fail "ping worked without CAP_NET_RAW: $output"

	set_caps "CAP_NET_ADMIN CAP_NET_RAW" "CAP_NET_ADMIN CAP_NET_RAW" "" "CAP_NET_ADMIN CAP_NET_RAW" ""
	run_file run_fg
	assert_status 0
	assert_output_contains "1 packets received" "ping=0"
}

@test "capabilities: a non-root user keeps ambient CAP_NET_BIND_SERVICE across exec" {
	make_bundle
	config_set '.process.user = {uid: 1000, gid: 1000}'
	set_caps "CAP_NET_BIND_SERVICE CAP_KILL" "CAP_NET_BIND_SERVICE" \
		"CAP_NET_BIND_SERVICE" "CAP_NET_BIND_SERVICE CAP_KILL" "CAP_NET_BIND_SERVICE"
	# sh -> sh -> grep and sh -> nc: each exec keeps the ambient set, which makes up the
	# permitted and effective sets of a non-root process.
	config_args sh -c 'id -u
		sh -c "grep -E \"^Cap(Inh|Prm|Eff|Bnd|Amb):\" /proc/self/status"
		nc -l -p 80 >/dev/null 2>/tmp/nc.err &
		for i in 1 2 3 4 5 6 7 8 9 10; do netstat -ltn | grep -q ":80 " && break; sleep 0.1; done
		netstat -ltn | grep -q ":80 " && echo bound-80 || cat /tmp/nc.err
		kill $! 2>/dev/null; true'
	config_mount /tmp tmpfs tmpfs
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 1000 ] || fail "$output"
	local nbs kill
	nbs=$(cap_mask CAP_NET_BIND_SERVICE)
	kill=$(cap_mask CAP_NET_BIND_SERVICE CAP_KILL)
	[ "$(status_field CapAmb)" = "$nbs" ] || fail "ambient: $output"
	[ "$(status_field CapEff)" = "$nbs" ] || fail "effective: $output"
	[ "$(status_field CapPrm)" = "$nbs" ] || fail "permitted: $output"
	[ "$(status_field CapInh)" = "$nbs" ] || fail "inheritable: $output"
	[ "$(status_field CapBnd)" = "$kill" ] || fail "bounding: $output"
	grep -qx bound-80 <<<"$output" || fail "uid 1000 could not bind port 80: $output"
}

@test "capabilities: a non-root user without ambient capabilities cannot bind port 80" {
	make_bundle
	config_set '.process.user = {uid: 1000, gid: 1000}'
	set_caps "CAP_NET_BIND_SERVICE" "CAP_NET_BIND_SERVICE" "CAP_NET_BIND_SERVICE" \
		"CAP_NET_BIND_SERVICE" ""
	config_args sh -c 'grep -E "^Cap(Eff|Amb):" /proc/self/status; nc -l -p 80; echo "nc=$?"'
	run_file run_fg
	assert_status 0
	[ "$(status_field CapEff)" = 0000000000000000 ] || fail "$output"
	[ "$(status_field CapAmb)" = 0000000000000000 ] || fail "$output"
	assert_output_contains "nc=1" "permission denied"
}

@test "capabilities: noNewPrivileges shows NoNewPrivs: 1, and 0 without it" {
	make_bundle
	config_set '.process.noNewPrivileges = true'
	config_args sh -c 'grep "^NoNewPrivs:" /proc/self/status'
	run_file run_fg
	assert_status 0
	[ "$(status_field NoNewPrivs)" = 1 ] || fail "$output"
	config_set '.process.noNewPrivileges = false'
	run_file run_fg
	assert_status 0
	[ "$(status_field NoNewPrivs)" = 0 ] || fail "$output"
}

@test "capabilities: noNewPrivileges holds for a non-root user with ambient capabilities" {
	make_bundle
	config_set '.process.noNewPrivileges = true | .process.user = {uid: 1000, gid: 1000}'
	set_caps "CAP_NET_BIND_SERVICE" "CAP_NET_BIND_SERVICE" "CAP_NET_BIND_SERVICE" \
		"CAP_NET_BIND_SERVICE" "CAP_NET_BIND_SERVICE"
	config_args grep -E '^(NoNewPrivs|CapAmb):' /proc/self/status
	run_file run_fg
	assert_status 0
	[ "$(status_field NoNewPrivs)" = 1 ] || fail "$output"
	[ "$(status_field CapAmb)" = "$(cap_mask CAP_NET_BIND_SERVICE)" ] || fail "$output"
}

# ocirun-only: runc warns "ignoring unknown or unavailable capabilities" and goes on.
@test "capabilities: an unknown name (CAP_FOO) in any set fails create, naming it and the set" {
	skip_if_runc "warns about unknown capabilities and ignores them"
	local set
	for set in bounding effective inheritable permitted ambient; do
		make_bundle "$TMP/bundle-$set"
		config_args true
		config_set --arg s "$set" '.process.capabilities[$s] += ["CAP_FOO"]'
		create_container
		assert_failure
		assert_output_contains CAP_FOO "$set"
		assert_gone
		run_file run_fg
		assert_failure
		assert_output_contains CAP_FOO
		assert_gone
	done
}

@test "capabilities: a capability above the kernel's cap_last_cap is skipped" {
	# Every name ocirun knows is at most CAP_CHECKPOINT_RESTORE (40), which this kernel has.
	# So the runtime runs in a private mount namespace where /proc/sys/kernel/cap_last_cap
	# reads 39: there, CAP_CHECKPOINT_RESTORE is a capability the kernel does not know.
	[ "$(cat /proc/sys/kernel/cap_last_cap)" -ge 40 ] || skip "kernel without CAP_CHECKPOINT_RESTORE"
	make_bundle
	set_caps "CAP_KILL CAP_CHECKPOINT_RESTORE" "CAP_KILL CAP_CHECKPOINT_RESTORE" "" \
		"CAP_KILL CAP_CHECKPOINT_RESTORE" ""
	config_args grep -E '^Cap(Prm|Eff|Bnd):' /proc/self/status
	echo 39 >"$TMP/cap_last_cap"
	# shellcheck disable=SC2016
	run_file timeout -k 5 "$OCIRUN_TIMEOUT" unshare -m --propagation private sh -c \
		'mount --bind "$1" /proc/sys/kernel/cap_last_cap && shift && exec "$@"' sh \
		"$TMP/cap_last_cap" "$OCIRUN" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
	assert_status 0
	# The runtime's own view of the kernel (39) decides: CAP_CHECKPOINT_RESTORE is neither
	# permitted nor effective. Whether bit 40 stays in the bounding set depends on how far
	# the runtime drops (runc drops up to its own last cap and leaves it), so only bits 0..39
	# of the bounding set are compared.
	local want
	want=$(cap_mask CAP_KILL)
	[ "$(status_field CapPrm)" = "$want" ] || fail "permitted: $output"
	[ "$(status_field CapEff)" = "$want" ] || fail "effective: $output"
	[ "$(printf '%016x' $((0x$(status_field CapBnd) & ((1 << 40) - 1))))" = "$want" ] ||
		fail "bounding: $output"
	assert_gone
}
