#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Events: every lifecycle step is published, in order, and filters select them.

load ../helpers
load supervisor-helpers

@test "events: a container's life, in order, and filters" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	"$CTR" --address "$SOCK" events >"$TMP/all" 2>&1 3>&- &
	local all=$!
	"$CTR" --address "$SOCK" events 'topic==/tasks/exit' >"$TMP/exits" 2>&1 3>&- &
	local exits=$!
	"$CTR" --address "$SOCK" events "event.container_id==nope" >"$TMP/none" 2>&1 3>&- &
	local none=$!
	sleep 0.5
	run ctr run --rootfs "$TMP/rootfs" "$ID" sh -c 'exit 4'
	assert_status 4
	ctr containers rm "$ID"
	retry 50 0.1 grep -q /containers/delete "$TMP/all"
	kill "$all" "$exits" "$none"
	wait "$all" "$exits" "$none" || true
	cat "$TMP/all"
	local topics
	topics=$(awk '{print $3}' "$TMP/all" | tr '\n' ' ')
	[ "$topics" = "/containers/create /tasks/create /tasks/start /tasks/exit /tasks/delete /containers/delete " ]
	grep -q '"exit_status": *4' "$TMP/exits"
	[ "$(wc -l <"$TMP/exits")" = 1 ]
	[ ! -s "$TMP/none" ]
}
