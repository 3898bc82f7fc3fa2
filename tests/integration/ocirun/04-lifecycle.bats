#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# create -> created -> start -> running -> (exit) stopped -> delete, one call at a time,
# with the state kept in --root between calls.

load ../helpers

# A bundle whose process proves it ran by writing $TMP/shared/ran, then sleeps.
bundle_with_witness() {
	make_bundle
	mkdir -p "$TMP/shared"
	config_mount /shared bind "$TMP/shared" rbind rw
	config_args sh -c "echo ran >/shared/ran; ${1:-exec sleep 100}"
}

@test "create: status created, init pid alive, user process not run yet" {
	bundle_with_witness
	create_container
	assert_status 0
	[ "$(container_status)" = created ]
	local pid
	pid=$(container_pid)
	[[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 0 ]
	[ -d "/proc/$pid" ]
	grep -q "$ID" "/proc/$pid/cgroup"
	sleep 0.3
	[ ! -e "$TMP/shared/ran" ]
	ocirun list -q | grep -qx "$ID"
}

@test "start: the process runs, status running, same pid" {
	bundle_with_witness
	create_container
	assert_status 0
	local pid
	pid=$(container_pid)
	run ocirun start "$ID"
	assert_status 0
	[ -z "$output" ]
	retry 50 0.1 test -e "$TMP/shared/ran"
	[ "$(container_status)" = running ]
	[ "$(container_pid)" = "$pid" ]
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
}

@test "the process exiting makes the container stopped; delete removes it" {
	bundle_with_witness true
	create_container
	assert_status 0
	ocirun start "$ID"
	retry 50 0.1 status_is stopped
	run ocirun state "$ID"
	assert_status 0
	[ "$(jq -r .status <<<"$output")" = stopped ]
	ocirun list -q | grep -qx "$ID"
	run ocirun delete "$ID"
	assert_status 0
	run ocirun list -q
	! grep -qx "$ID" <<<"$output" || false
	[ ! -e "$ROOT/$ID" ]
	run ocirun state "$ID"
	assert_failure
	assert_nothing_left
}

@test "state: ociVersion, id, status, pid, bundle (absolute)" {
	bundle_with_witness
	create_container
	assert_status 0
	run ocirun state "$ID"
	assert_status 0
	jq -e . <<<"$output" >/dev/null
	[[ "$(jq -r .ociVersion <<<"$output")" =~ ^1\. ]]
	[ "$(jq -r .id <<<"$output")" = "$ID" ]
	[ "$(jq -r .status <<<"$output")" = created ]
	[ "$(jq -r '.pid | type' <<<"$output")" = number ]
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
	# runc also gives rootfs, created (RFC 3339) and owner; annotations when set.
	[ "$(jq -r .rootfs <<<"$output")" = "$BUNDLE/rootfs" ]
	[[ "$(jq -r .created <<<"$output")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
}

@test "state: bundle is absolute when given relative" {
	bundle_with_witness
	cd "$TMP"
	run_file ocirun create --bundle bundle "$ID"
	assert_status 0
	[ "$(ocirun state "$ID" | jq -r .bundle)" = "$TMP/bundle" ]
}

@test "state: annotations from config.json" {
	bundle_with_witness
	config_set '.annotations = {"org.berth.test": "yes"}'
	create_container
	assert_status 0
	[ "$(ocirun state "$ID" | jq -r '.annotations["org.berth.test"]')" = yes ]
}

@test "create --pid-file writes the init pid" {
	bundle_with_witness
	create_container "$ID" --pid-file "$TMP/pid"
	assert_status 0
	[ "$(cat "$TMP/pid")" = "$(container_pid)" ]
}

@test "create --pid-file with a relative path is relative to the working directory" {
	bundle_with_witness
	mkdir "$TMP/wd"
	cd "$TMP/wd"
	create_container "$ID" --pid-file pidfile
	assert_status 0
	[ "$(cat "$TMP/wd/pidfile")" = "$(container_pid)" ]
}

@test "start of a running container fails" {
	bundle_with_witness
	create_container
	ocirun start "$ID"
	retry 50 0.1 status_is running
	run ocirun start "$ID"
	assert_failure
	assert_output_contains_any running "$ID"
	[ "$(container_status)" = running ]
}

@test "start of a stopped container fails" {
	bundle_with_witness true
	create_container
	ocirun start "$ID"
	retry 50 0.1 status_is stopped
	run ocirun start "$ID"
	assert_failure
	assert_output_contains_any stopped "$ID"
}

@test "delete of a running container fails without --force" {
	bundle_with_witness
	create_container
	ocirun start "$ID"
	retry 50 0.1 status_is running
	local pid
	pid=$(container_pid)
	run ocirun delete "$ID"
	assert_failure
	assert_output_contains "$ID"
	assert_output_contains_any running "not stopped"
	[ "$(container_status)" = running ]
	pid_alive "$pid"
}

@test "delete --force of a running container kills it" {
	bundle_with_witness
	create_container
	ocirun start "$ID"
	retry 50 0.1 status_is running
	local pid
	pid=$(container_pid)
	run ocirun delete --force "$ID"
	assert_status 0
	pid_gone "$pid"
	[ ! -e "$ROOT/$ID" ]
	assert_nothing_left
}

@test "delete -f of a created container" {
	bundle_with_witness
	create_container
	local pid
	pid=$(container_pid)
	run ocirun delete -f "$ID"
	assert_status 0
	pid_gone "$pid"
	[ ! -e "$TMP/shared/ran" ]
	assert_nothing_left
}

@test "delete of a created container (no --force)" {
	# runc deletes a created container without --force: its process never ran.
	bundle_with_witness
	create_container
	local pid
	pid=$(container_pid)
	run ocirun delete "$ID"
	assert_status 0
	pid_gone "$pid"
	[ ! -e "$TMP/shared/ran" ]
	assert_nothing_left
}

@test "delete of an unknown id fails" {
	run ocirun delete "$ID"
	assert_unknown_container "$ID"
	assert_nothing_left
}

@test "delete --force of an unknown id succeeds quietly" {
	# As runc (and rm -f): forcing the removal of what is not there is not an error.
	run ocirun delete --force "$ID"
	assert_status 0
	assert_nothing_left
}

@test "state of an unknown id fails" {
	run ocirun state "$ID"
	assert_unknown_container "$ID"
	assert_nothing_left
}

@test "start of an unknown id fails" {
	run ocirun start "$ID"
	assert_unknown_container "$ID"
	assert_nothing_left
}

@test "two containers from one bundle live side by side" {
	bundle_with_witness
	local id2
	id2=$(new_id)
	create_container "$ID"
	assert_status 0
	create_container "$id2"
	assert_status 0
	ocirun start "$id2"
	retry 50 0.1 status_is running "$id2"
	[ "$(container_status "$ID")" = created ]
	[ "$(ocirun list -q | sort | tr '\n' ' ')" = "$(printf '%s\n' "$ID" "$id2" | sort | tr '\n' ' ')" ]
	ocirun delete --force "$id2"
	assert_nothing_left "$id2"
	[ "$(container_status "$ID")" = created ]
}

@test "the state survives between invocations in --root" {
	bundle_with_witness
	create_container
	assert_status 0
	[ -d "$ROOT" ]
	[ -e "$ROOT/$ID" ]
	# a second state root knows nothing of it
	run "$OCIRUN" --root "$TMP/other" state "$ID"
	assert_failure
	ocirun start "$ID"
	retry 50 0.1 status_is running
}
