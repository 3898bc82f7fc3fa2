#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Bad input: each case fails with a message naming the problem, and leaves nothing behind
# (no $ROOT/<id>, no listed container, no mount, no cgroup, no process).

load ../helpers

# create_fails [ID]: `create` of $BUNDLE fails and leaves nothing behind.
create_fails() {
	local id=${1-$ID}
	create_container "$id"
	assert_failure
	[ -n "$output" ] || fail "no error message"
	assert_nothing_left "$ID"
	if [ -n "$id" ] && [ "$id" != . ] && [ "$id" != .. ]; then
		[ ! -e "$ROOT/$id" ]
	fi
}

# run_fails: the same for `run`.
run_fails() {
	run_file ocirun run --bundle "$BUNDLE" "$ID"
	assert_failure
	[ -n "$output" ] || fail "no error message"
	assert_nothing_left
}

@test "missing config.json" {
	make_bundle
	rm "$BUNDLE/config.json"
	create_fails
	assert_output_contains config.json
	run_fails
	assert_output_contains config.json
}

@test "missing bundle directory" {
	BUNDLE=$TMP/no-such-bundle
	create_fails
	assert_output_contains no-such-bundle
}

@test "malformed JSON: truncated" {
	make_bundle
	head -c 100 "$BUNDLE/config.json" >"$BUNDLE/c" && mv "$BUNDLE/c" "$BUNDLE/config.json"
	create_fails
	# runc: "unexpected EOF"
	assert_output_contains_any config.json EOF unexpected
}

@test "malformed JSON: syntax error" {
	make_bundle
	printf '{\n "ociVersion": "1.0.2",\n "root": {"path": "rootfs"},\n "process": {"args": ["true"],, "cwd": "/"}}\n' \
		>"$BUNDLE/config.json"
	create_fails
	# runc: "invalid character ',' looking for beginning of object key string"
	assert_output_contains_any config.json "invalid character" ","
}

@test "malformed JSON: the error names config.json and the line" {
	# ocirun-only: runc names neither the file nor the position.
	skip_if_runc "says only 'unexpected EOF' / 'invalid character'"
	make_bundle
	printf '{\n "ociVersion": "1.0.2",\n "root": {"path": "rootfs"},\n "process": {"args": ["true"],, "cwd": "/"}}\n' \
		>"$BUNDLE/config.json"
	create_fails
	assert_output_contains config.json
	grep -qE '(line|:)[ ]*4' <<<"$output" || fail "no line number: $output"
}

@test "empty config.json" {
	make_bundle
	: >"$BUNDLE/config.json"
	create_fails
	assert_output_contains_any config.json EOF empty
}

@test "config.json that is not an object" {
	make_bundle
	echo '[]' >"$BUNDLE/config.json"
	create_fails
	assert_output_contains_any config.json array object
}

@test "ociVersion 2.0.0 is refused" {
	# ocirun-only: runc 1.1 does not check ociVersion at all.
	skip_if_runc "accepts any ociVersion"
	make_bundle
	config_set '.ociVersion = "2.0.0"'
	create_fails
	assert_output_contains_any 2.0.0 ociVersion
}

@test "missing rootfs directory" {
	make_bundle
	config_set '.root.path = "no-such-rootfs"'
	create_fails
	assert_output_contains no-such-rootfs
}

@test "no root" {
	make_bundle
	config_set 'del(.root)'
	create_fails
	assert_output_contains root
}

@test "no process" {
	make_bundle
	config_set 'del(.process)'
	create_fails
	assert_output_contains process
}

@test "process.args missing" {
	make_bundle
	config_set 'del(.process.args)'
	create_fails
	assert_output_contains args
}

@test "process.args empty" {
	make_bundle
	config_set '.process.args = []'
	create_fails
	assert_output_contains args
}

@test "wrong type: process.args is a string" {
	make_bundle
	config_set '.process.args = "sh"'
	create_fails
	assert_output_contains args
}

@test "wrong type: process.user.uid is a string" {
	make_bundle
	config_set '.process.user.uid = "zero"'
	create_fails
	assert_output_contains uid
}

@test "unknown namespace type" {
	make_bundle
	config_set '.linux.namespaces += [{type: "bogus"}]'
	create_fails
	assert_output_contains bogus
}

@test "duplicate namespace type" {
	make_bundle
	config_set '.linux.namespaces += [{type: "pid"}]'
	create_fails
	assert_output_contains pid
}

@test "duplicate id: the second create fails, the first container is unaffected" {
	make_bundle
	config_args sleep 100
	create_container
	assert_status 0
	local pid
	pid=$(container_pid)
	create_container "$ID"
	assert_failure
	# runc: "container with given ID already exists"
	assert_output_contains_any "$ID" "already exists"
	run_file ocirun run --bundle "$BUNDLE" "$ID"
	assert_failure
	assert_output_contains_any "$ID" "already exists"
	[ "$(container_status)" = created ]
	[ "$(container_pid)" = "$pid" ]
	pid_alive "$pid"
	ocirun start "$ID"
	retry 50 0.1 status_is running
}

@test "id with a slash" {
	make_bundle
	create_fails "$ID/x"
	# runc: "invalid container ID format"
	assert_output_contains_any "$ID/x" "container id"
	[ ! -e "$ROOT/$ID" ]
}

@test "id ..  and ../x" {
	make_bundle
	local id
	for id in .. ../x "../$ID" .; do
		create_fails "$id"
		assert_output_contains_any "$id" "container id"
	done
	[ ! -e "$TMP/$ID" ]
	[ -z "$(ls -A "$ROOT" 2>/dev/null)" ]
}

@test "empty id" {
	make_bundle
	create_fails ""
	assert_output_contains_any "container id" "id"
	[ -z "$(ls -A "$ROOT" 2>/dev/null)" ]
}

@test "id with a space" {
	make_bundle
	create_fails "a b$ID"
	assert_output_contains_any "a b$ID" "container id"
}

@test "id too long for a file name" {
	make_bundle
	local long
	long=$ID$(printf 'x%.0s' {1..300})
	create_fails "$long"
}

@test "unknown signal name for kill" {
	make_bundle
	config_args sleep 100
	run_detached
	run ocirun kill "$ID" SIGNOPE
	assert_failure
	assert_output_contains SIGNOPE
	[ "$(container_status)" = running ]
}

@test "start, state, kill, delete, of an unknown id" {
	local cmd
	for cmd in start state kill delete; do
		run ocirun "$cmd" "$ID"
		assert_unknown_container "$ID"
	done
	assert_nothing_left
}

@test "start, state, kill, delete of an invalid id" {
	local cmd
	for cmd in start state kill delete; do
		run ocirun "$cmd" "../$ID"
		assert_failure
	done
	[ ! -e "$TMP/$ID" ]
}

@test "--pid-file in a missing directory: run fails and rolls back" {
	make_bundle
	config_args sleep 100
	run_file ocirun run --detach --pid-file "$TMP/no-such-dir/pid" --bundle "$BUNDLE" "$ID"
	assert_failure
	assert_output_contains no-such-dir
	assert_nothing_left
}

@test "a failure leaves no trace in list" {
	make_bundle
	config_set '.root.path = "no-such-rootfs"'
	create_fails
	run ocirun list -q
	assert_status 0
	[ -z "$output" ]
	run ocirun list --format json
	[ "$output" = null ] || [ "$output" = "[]" ]
}
