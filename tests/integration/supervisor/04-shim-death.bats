#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A shim that dies is noticed: its container is killed and the task reported stopped (137),
# whether the supervisor was up when it happened or learns of it when it starts.

load ../helpers
load supervisor-helpers

shim_of() {
	cat "$SSTATE/tasks/default/$1/shim.pid"
}

@test "shim death: the container is killed and its task reported stopped" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d --rootfs "$TMP/rootfs" "$ID" sleep 1000
	retry 50 0.1 task_status_is "$ID" RUNNING
	local pid shim
	pid=$(task_json "$ID" | jq -r .pid)
	shim=$(shim_of "$ID")
	kill -KILL "$shim"
	retry 100 0.1 task_status_is "$ID" STOPPED
	[ "$(task_json "$ID" | jq -r .exit_status)" = 137 ]
	# Gone, not running on without a parent to reap it or hold its stdio.
	retry 50 0.1 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' /proc/$pid/stat"
	[ -z "$("$OCIRUN" --root "$ROOT" list -q)" ]
	ctr tasks rm "$ID"
	ctr containers rm "$ID"
}

@test "shim death while the supervisor is down: found at start" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d --rootfs "$TMP/rootfs" "$ID" sleep 1000
	retry 50 0.1 task_status_is "$ID" RUNNING
	local pid
	pid=$(task_json "$ID" | jq -r .pid)
	kill_supervisor KILL
	kill -KILL "$(shim_of "$ID")"
	start_supervisor
	retry 50 0.1 task_status_is "$ID" STOPPED
	[ "$(task_json "$ID" | jq -r .exit_status)" = 137 ]
	retry 50 0.1 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' /proc/$pid/stat"
	ctr tasks rm "$ID"
	ctr containers rm "$ID"
}
