#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# linux.sysctl (namespaced ones applied inside only; host-wide ones, and net.* / ipc ones
# without their own namespace, refused), linux.personality, linux.intelRdt (refused: no
# resctrl here), process.apparmorProfile and process.selinuxLabel on a host with neither.

load ../helpers
load security-helpers

# create_fails_naming WORD...: `create` of $BUNDLE fails, naming each WORD; nothing is left.
create_fails_naming() {
	create_container
	assert_failure
	assert_output_contains "$@"
	assert_gone
}

@test "sysctl: kernel.shmmax and net.ipv4.ip_forward are set inside, not on the host" {
	make_bundle
	local shmmax fwd
	shmmax=$(cat /proc/sys/kernel/shmmax)
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	config_set '.linux.sysctl = {"kernel.shmmax": "123456789", "net.ipv4.ip_forward": "1"}'
	config_args sh -c 'cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 123456789 ] || fail "$output"
	[ "${lines[1]}" = 1 ] || fail "$output"
	[ "$(cat /proc/sys/kernel/shmmax)" = "$shmmax" ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ]
}

@test "sysctl: a value that differs from the host's default is what the container reads" {
	make_bundle
	# 0 and 1 are both defaults somewhere: pick the opposite of the host's.
	local want=1
	[ "$(cat /proc/sys/net/ipv4/tcp_syncookies 2>/dev/null)" = 1 ] && want=0
	config_set --arg v "$want" '.linux.sysctl = {"net.ipv4.tcp_syncookies": $v}'
	config_args cat /proc/sys/net/ipv4/tcp_syncookies
	run_file run_fg
	assert_status 0
	[ "$output" = "$want" ] || fail "$output"
}

@test "sysctl: kernel.panic (not namespaced) is refused, naming it; nothing left" {
	make_bundle
	local panic
	panic=$(cat /proc/sys/kernel/panic)
	config_set '.linux.sysctl = {"kernel.panic": "17"}'
	config_args true
	create_fails_naming kernel.panic
	assert_output_contains_any namespace namespaced
	[ "$(cat /proc/sys/kernel/panic)" = "$panic" ]
}

@test "sysctl: net.* without a new network namespace is refused, naming it; nothing left" {
	make_bundle
	config_set '.linux.sysctl = {"net.ipv4.ip_forward": "1"}
		| .linux.namespaces |= map(select(.type != "network"))'
	config_args true
	create_fails_naming net.ipv4.ip_forward
	assert_output_contains_any "network namespace" "host network"
}

@test "sysctl: an ipc sysctl without a new ipc namespace is refused; nothing left" {
	make_bundle
	config_set '.linux.sysctl = {"kernel.shmmax": "1000"}
		| .linux.namespaces |= map(select(.type != "ipc"))'
	config_args true
	create_fails_naming kernel.shmmax ipc
}

@test "sysctl: a namespaced name the kernel lacks fails, naming it; nothing left" {
	make_bundle
	config_set '.linux.sysctl = {"net.ipv4.no_such_knob": "1"}'
	config_args true
	create_fails_naming no_such_knob
}

# ocirun-only: runc 1.1 does not implement linux.personality (ignores it).
@test "personality: LINUX32 makes uname -m a 32-bit machine" {
	skip_if_runc "1.1 ignores linux.personality"
	make_bundle
	config_set '.linux.personality = {domain: "LINUX32"}'
	config_args sh -c 'uname -m; cat /proc/self/personality'
	run_file run_fg
	assert_status 0
	[[ "${lines[0]}" =~ ^(i[3-6]86|armv[0-9].*|s390|ppc|mips)$ ]] || fail "uname -m: $output"
	# PER_LINUX32 = 0x0008
	[ "$((0x${lines[1]} & 0xff))" = 8 ] || fail "personality: $output"
}

@test "personality: LINUX keeps the native machine" {
	skip_if_runc "1.1 ignores linux.personality"
	make_bundle
	config_set '.linux.personality = {domain: "LINUX"}'
	config_args uname -m
	run_file run_fg
	assert_status 0
	[ "$output" = "$(uname -m)" ] || fail "$output"
}

@test "personality: an unknown domain fails, naming it; nothing left" {
	skip_if_runc "1.1 ignores linux.personality"
	make_bundle
	config_set '.linux.personality = {domain: "LINUX64"}'
	config_args true
	create_fails_naming LINUX64 personality
}

@test "intelRdt: set on a host without resctrl fails, naming intelRdt; nothing left" {
	[ ! -d /sys/fs/resctrl/info ] || skip "this host has resctrl"
	make_bundle
	config_set '.linux.intelRdt = {closID: "berth", l3CacheSchema: "L3:0=ff"}'
	config_args true
	create_fails_naming intelRdt
	run_file run_fg
	assert_failure
	assert_output_contains intelRdt
	assert_gone
}

# ocirun-only: runc 1.1 here tries to apply the profile and fails ("write /proc/self/attr/exec:
# invalid argument").
@test "apparmor: a profile on a host without apparmor: the container runs, with a warning" {
	skip_if_runc "tries to apply the profile and fails"
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "apparmor is enabled"
	make_bundle
	config_set '.process.apparmorProfile = "berth-test-profile"'
	config_args echo ran
	run_file run_fg
	assert_status 0
	grep -qx ran <<<"$output" || fail "$output"
	grep -qi "warn" <<<"$output" || fail "no warning: $output"
	assert_output_contains apparmor berth-test-profile
	assert_gone
}

# ocirun-only: runc refuses the label ("selinux is disabled or not supported").
@test "selinux: a label on a host without selinux: the container runs, with a warning" {
	skip_if_runc "refuses selinuxLabel without selinux"
	[ ! -d /sys/fs/selinux ] || skip "selinux is enabled"
	make_bundle
	config_set '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
	config_args echo ran
	run_file run_fg
	assert_status 0
	grep -qx ran <<<"$output" || fail "$output"
	grep -qi "warn" <<<"$output" || fail "no warning: $output"
	assert_output_contains selinux
	# The warning goes to stderr, not to the container's stdout.
	run_fg >"$TMP/stdout" 2>"$TMP/stderr" </dev/null
	[ "$(cat "$TMP/stdout")" = ran ] || fail "stdout: $(cat "$TMP/stdout")"
	grep -qi selinux "$TMP/stderr" || fail "stderr: $(cat "$TMP/stderr")"
}

@test "apparmor: the warning goes to stderr, stdout is the container's" {
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "apparmor is enabled"
	skip_if_runc "tries to apply the profile and fails"
	make_bundle
	config_set '.process.apparmorProfile = "berth-test-profile"'
	config_args echo ran
	run_fg >"$TMP/stdout" 2>"$TMP/stderr" </dev/null
	[ "$(cat "$TMP/stdout")" = ran ] || fail "stdout: $(cat "$TMP/stdout")"
	grep -qi apparmor "$TMP/stderr" || fail "stderr: $(cat "$TMP/stderr")"
}
