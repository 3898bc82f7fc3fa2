#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Containers outlive the supervisor: kill -9 it with three running containers, let one exit
# while it is down, start it again (the same binary, then a copy standing for an upgrade) and
# check every status, the exit code and the exit time.

load ../helpers
load supervisor-helpers

# wait_gone PID: until the process has exited (gone, or a zombie of someone else).
wait_gone() {
	local s
	for _ in $(seq 100); do
		s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
		if [ -z "$s" ] || [ "$s" = Z ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

@test "restart: kill -9 of the supervisor leaves containers running and reports exits that happened while it was down" {
	start_supervisor
	local a=${ID}a b=${ID}b c=${ID}c x
	for x in $a $b $c; do
		make_rootfs "$TMP/rootfs-$x"
	done
	ctr run -d --rootfs "$TMP/rootfs-$a" "$a" sleep 1000
	ctr run -d --rootfs "$TMP/rootfs-$b" "$b" sh -c 'while [ ! -e /go ]; do sleep 0.1; done; exit 7'
	ctr run -d --rootfs "$TMP/rootfs-$c" "$c" sleep 1000
	retry 50 0.1 task_status_is "$b" RUNNING
	local pid_a pid_b pid_c
	pid_a=$(task_json "$a" | jq -r .pid)
	pid_b=$(task_json "$b" | jq -r .pid)
	pid_c=$(task_json "$c" | jq -r .pid)
	local shims_before
	shims_before=$(shim_pids | sort | tr '\n' ' ')

	kill_supervisor KILL
	# Everything below the supervisor is untouched.
	kill -0 "$pid_a" && kill -0 "$pid_b" && kill -0 "$pid_c"
	[ "$(shim_pids | sort | tr '\n' ' ')" = "$shims_before" ]

	local t0 t1
	t0=$(date +%s%N)
	touch "$TMP/rootfs-$b/go"
	wait_gone "$pid_b"
	t1=$(date +%s%N)
	sleep 0.2

	start_supervisor
	[ "$(task_status "$a")" = RUNNING ]
	[ "$(task_status "$c")" = RUNNING ]
	[ "$(task_status "$b")" = STOPPED ]
	[ "$(task_json "$b" | jq -r .exit_status)" = 7 ]
	local at
	at=$(task_json "$b" | jq -r .exited_at)
	# The exit time is when it happened, not when the supervisor learned of it.
	[ "$at" -ge "$((t0 - 1000000000))" ] && [ "$at" -le "$t1" ]
	run ctr tasks wait "$b" 2>/dev/null || true
	kill -0 "$pid_a" && kill -0 "$pid_c"

	# An upgrade: another binary over the same state.
	kill_supervisor TERM
	cp "$SUPERVISOR" "$TMP/berth-supervisor-new"
	start_supervisor "$TMP/berth-supervisor-new"
	[ "$(task_status "$a")" = RUNNING ]
	[ "$(task_status "$b")" = STOPPED ]
	[ "$(task_json "$b" | jq -r .exit_status)" = 7 ]
	ctr tasks kill -s KILL "$a"
	retry 50 0.1 task_status_is "$a" STOPPED
	[ "$(task_json "$a" | jq -r .exit_status)" = 137 ]
	for x in $a $b $c; do
		ctr tasks rm -f "$x"
		ctr containers rm "$x"
	done
	[ -z "$(shim_pids)" ]
}
