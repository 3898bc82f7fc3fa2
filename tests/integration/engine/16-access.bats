#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Who may reach what: berthd's socket is root's and its group's (berthd --group, "berth" by
# default) and nobody else's; the supervisor's socket is root's alone; a container sees neither
# the host's processes and mounts nor another container's files, and only --privileged gives it
# the host's devices.

bats_require_minimum_version 1.5.0

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

# An unprivileged user (nobody) with the given supplementary groups (none when empty).
as_nobody() {
	local groups=$1
	shift
	if [ -n "$groups" ]; then
		setpriv --reuid=65534 --regid=65534 --groups="$groups" -- "$@"
	else
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
	fi
}

setup() {
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	getent group users >/dev/null || skip "no group users"
	engine_setup
	# The sockets' directory must be open to everyone, so that only the sockets' own modes
	# decide (the first test shows that they are reachable when the modes allow).
	chmod 0711 "$TMP"
	start_supervisor
}

teardown() {
	engine_teardown
}

@test "access: berthd's socket serves its group and refuses other users" {
	start_berthd --group users
	[ "$(stat -c '%U:%G %a' "$ESOCK")" = "root:users 660" ]
	# A member of the group gets answers.
	run as_nobody 100 curl -sS --unix-socket "$ESOCK" http://berthd/_ping
	assert_status 0
	[ "$output" = "OK" ]
	# Anyone else cannot connect at all.
	run as_nobody "" curl -sS --unix-socket "$ESOCK" http://berthd/_ping
	assert_failure
	assert_output_contains "Couldn't connect"
	# And root can, as ever.
	run curl -sS --unix-socket "$ESOCK" http://berthd/_ping
	[ "$output" = "OK" ]
}

@test "access: a --group that does not exist stops berthd with an error, leaving no socket" {
	run timeout 20 "$BERTHD" --root "$EROOT" --state "$ESTATE" -H "unix://$ESOCK" \
		--supervisor "$SOCK" --config "$TMP/daemon.json" --bridge none --group no-such-group-x
	assert_failure
	assert_output_contains "no group \`no-such-group-x\`"
	[ ! -e "$ESOCK" ]
}

@test "access: the supervisor's socket is root's alone" {
	[ "$(stat -c '%U %a' "$SOCK")" = "root 600" ]
	run as_nobody "$(stat -c %g "$SOCK")" curl -sS --unix-socket "$SOCK" http://x/
	assert_failure
	assert_output_contains "Couldn't connect"
}

@test "access: a container sees none of the host's processes and mounts" {
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	start_berthd
	load_busybox
	on_teardown remove_all_containers
	# Its own processes only: the shell that lists them, ps and tail (busybox's sh runs an
	# applet through /proc/self/exe, so one may still be called exe).
	run dockercli run --rm busybox sh -c 'ps -o comm | tail -n +2'
	assert_status 0
	[ -n "$output" ]
	! echo "$output" | grep -Evxq 'sh|ps|tail|exe' || false
	# No mount of the host's: its own root, the kernel's file systems and its three /etc files
	# are all it has mounted (a bind's source names a host path; what matters is where it is).
	run dockercli run --rm busybox sh -c "awk '{print \$5}' /proc/self/mountinfo"
	assert_status 0
	echo "$output" | grep -qx /
	! echo "$output" | grep -Evx '/|/(proc|dev|sys)(/.*)?|/etc/(resolv.conf|hostname|hosts)' || false
	# The host's root is nowhere to be found through /proc.
	run dockercli run --rm busybox sh -c 'ls /proc/1/root/ && cat /proc/1/cmdline'
	assert_status 0
	! echo "$output" | grep -q berth-it || false
}

@test "access: a container cannot reach another container's files" {
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	start_berthd
	load_busybox
	on_teardown remove_all_containers
	dockercli run -d --name "$ID-a" busybox sh -c 'echo secret-of-a > /only-in-a; sleep 600'
	# Its file is in its own root, nowhere in another's, not even through /proc.
	run dockercli exec "$ID-a" cat /only-in-a
	[ "$output" = "secret-of-a" ]
	run dockercli run --rm busybox sh -c \
		'cat /only-in-a; cat /proc/*/root/only-in-a; find / -xdev -name only-in-a 2>/dev/null; true'
	assert_status 0
	! echo "$output" | grep -q secret-of-a || false
	! echo "$output" | grep -q '^/' || false
}

@test "access: only --privileged gives the host's devices" {
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	[ -e /dev/loop0 ] || skip "the host has no /dev/loop0"
	start_berthd
	load_busybox
	on_teardown remove_all_containers
	# Unprivileged: docker's default devices only, and a node made for a host device cannot be
	# opened (the device cgroup or the missing capability refuses it).
	run dockercli run --rm busybox ls /dev
	assert_status 0
	! echo "$output" | grep -qx loop0 || false
	! echo "$output" | grep -qx kmsg || false
	run dockercli run --rm busybox sh -c 'mknod /tmp/l b 7 0 2>&1 && head -c1 /tmp/l >/dev/null'
	assert_failure
	# Privileged: the host's devices are there and usable.
	run dockercli run --rm --privileged busybox sh -c 'ls /dev; head -c1 /dev/loop0 | wc -c'
	assert_status 0
	echo "$output" | grep -qx loop0
	echo "$output" | grep -qx kmsg
}
