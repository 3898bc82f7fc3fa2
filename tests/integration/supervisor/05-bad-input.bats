#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Bad input gets the right status and a clear message, and leaves nothing half-made: no
# shim, no bundle, no runtime state, no mount.

load ../helpers
load supervisor-helpers

setup() {
	supervisor_setup
	start_supervisor
	make_rootfs "$TMP/rootfs"
}

# nothing_left ID: no shim, no bundle and no runtime state for ID.
nothing_left() {
	[ -z "$(pgrep -f "berth-shim .*--id $1 " || true)" ] || fail "a shim for $1 is left"
	[ ! -e "$SSTATE/tasks/default/$1" ] || fail "bundle of $1 is left: $(ls "$SSTATE/tasks/default/$1")"
	[ -z "$("$OCIRUN" --root "$ROOT" list -q 2>/dev/null | grep -x "$1" || true)" ] || fail "runtime state of $1 is left"
}

@test "bad input: unknown ids are NOT_FOUND" {
	run ctr tasks start nope
	assert_failure
	assert_output_contains "not found"
	run ctr containers info nope
	assert_failure
	assert_output_contains "container \`nope\` not found"
	run ctr tasks kill nope
	assert_failure
	assert_output_contains "task \`nope\` not found"
	run ctr containers rm nope
	assert_failure
	assert_output_contains "not found"
}

@test "bad input: duplicate ids are refused" {
	ctr containers create --rootfs "$TMP/rootfs" "$ID" sleep 100
	run ctr containers create --rootfs "$TMP/rootfs" "$ID" sleep 100
	assert_failure
	assert_output_contains "already exists"
	ctr tasks start -d "$ID"
	run ctr tasks start -d "$ID"
	assert_failure
	assert_output_contains "already exists"
	ctr tasks kill -s KILL "$ID"
	ctr tasks rm -f "$ID"
	ctr containers rm "$ID"
	nothing_left "$ID"
}

@test "bad input: invalid names and a missing namespace" {
	run ctr containers create --rootfs "$TMP/rootfs" "../$ID" true
	assert_failure
	assert_output_contains "is not valid"
	run "$CTR" --address "$SOCK" --namespace no-such-ns containers ls
	assert_failure
	assert_output_contains "namespace \`no-such-ns\` not found"
	run "$CTR" --address "$SOCK" --namespace "bad/ns" containers ls
	assert_failure
	assert_output_contains "not valid"
}

@test "bad input: a malformed spec is INVALID_ARGUMENT and nothing is created" {
	printf '{"process": {"args": ["x"]' >"$TMP/bad.json"
	run ctr containers create --config "$TMP/bad.json" --rootfs "$TMP/rootfs" "$ID"
	assert_failure
	assert_output_contains "line"
	run ctr containers ls -q
	[ -z "$output" ]
}

@test "bad input: a spec the runtime refuses fails task create and leaves nothing" {
	"$OCIRUN" spec --bundle "$TMP"
	jq '.process.args = [] | .process.terminal = false' "$TMP/config.json" >"$TMP/noargs.json"
	ctr containers create --config "$TMP/noargs.json" --rootfs "$TMP/rootfs" "$ID"
	run ctr tasks start -d "$ID"
	assert_failure
	assert_output_contains "create task \`$ID\`"
	nothing_left "$ID"
	run ctr tasks ls -q
	[ -z "$output" ]
	ctr containers rm "$ID"
}

@test "bad input: a failing runtime binary fails task create and leaves nothing" {
	ctr containers create --runtime-binary /bin/false --rootfs "$TMP/rootfs" "$ID" true
	run ctr tasks start -d "$ID"
	assert_failure
	assert_output_contains "create task \`$ID\`"
	nothing_left "$ID"
	ctr containers rm "$ID"
	run ctr run -d --runtime-binary /nonexistent/runtime --rootfs "$TMP/rootfs" "$ID" true
	assert_failure
	nothing_left "$ID"
}

@test "bad input: a rootfs that is not a directory" {
	run ctr run -d --rootfs "$TMP/nowhere" "$ID" true
	assert_failure
	assert_output_contains "rootfs"
	nothing_left "$ID"
}

@test "bad input: deleting a running task or a container with a task is refused" {
	ctr run -d --rootfs "$TMP/rootfs" "$ID" sleep 100
	run ctr tasks rm "$ID"
	assert_failure
	assert_output_contains "running"
	run ctr containers rm "$ID"
	assert_failure
	ctr tasks kill -s KILL "$ID"
	ctr tasks rm -f "$ID"
	ctr containers rm "$ID"
	nothing_left "$ID"
}

@test "bad input: an event client that disconnects mid-stream leaves the supervisor serving" {
	local i pids=()
	for i in 1 2 3; do
		timeout -s KILL 1 "$CTR" --address "$SOCK" events >/dev/null 2>&1 3>&- &
		pids+=($!)
	done
	sleep 0.5
	ctr namespaces create "ev$ID"
	wait "${pids[@]}" || true
	ctr namespaces rm "ev$ID"
	ctr version >/dev/null
	kill -0 "$SUP_PID"
}
