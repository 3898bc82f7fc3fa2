#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# `list`: table, -q, --format json.

load ../helpers

HEADER="ID PID STATUS BUNDLE CREATED OWNER"

# squeeze: runs of blanks to one space, trailing blanks dropped.
squeeze() {
	sed -E 's/[[:space:]]+/ /g; s/ $//'
}

@test "list: empty root prints the header only" {
	mkdir -p "$ROOT"
	run ocirun list
	assert_status 0
	[ "${#lines[@]}" = 1 ]
	[ "$(squeeze <<<"${lines[0]}")" = "$HEADER" ]
}

@test "list: a root that does not exist yet is empty, not an error" {
	run ocirun list
	assert_status 0
	[ "$(squeeze <<<"${lines[0]}")" = "$HEADER" ]
	run ocirun list -q
	assert_status 0
	[ -z "$output" ]
}

@test "list -q: empty root prints nothing" {
	mkdir -p "$ROOT"
	run ocirun list -q
	assert_status 0
	[ -z "$output" ]
}

@test "list --format json: empty root prints null (as runc)" {
	mkdir -p "$ROOT"
	run ocirun list --format json
	assert_status 0
	[ "$output" = null ]
}

@test "list: one row per container with id, pid, status, bundle, created, owner" {
	make_bundle
	config_args sleep 100
	local id2 id3
	id2=$(new_id)
	id3=$(new_id)
	create_container "$ID"
	assert_status 0
	run_detached "$id2"
	assert_status 0
	config_args true
	run_detached "$id3"
	retry 50 0.1 status_is stopped "$id3"

	run ocirun list
	assert_status 0
	[ "$(squeeze <<<"${lines[0]}")" = "$HEADER" ]
	[ "${#lines[@]}" = 4 ]
	local row id pid st bundle created owner extra
	for row in "${lines[@]:1}"; do
		read -r id pid st bundle created owner extra <<<"$row"
		[ -z "$extra" ] || fail "extra columns: $row"
		[ "$bundle" = "$BUNDLE" ] || fail "bundle: $row"
		[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$ ]] || fail "created: $row"
		[ "$owner" = root ] || fail "owner: $row"
		case "$id" in
		"$ID")
			[ "$st" = created ] && [ "$pid" = "$(container_pid "$ID")" ] && [ "$pid" -gt 0 ]
			;;
		"$id2")
			[ "$st" = running ] && [ "$pid" = "$(container_pid "$id2")" ] && [ "$pid" -gt 0 ]
			;;
		"$id3")
			# runc shows pid 0 for a stopped container.
			[ "$st" = stopped ] && [ "$pid" = 0 ]
			;;
		*) fail "unexpected row: $row" ;;
		esac
	done
}

@test "list -q and --quiet: ids only" {
	make_bundle
	config_args sleep 100
	local id2
	id2=$(new_id)
	create_container "$ID"
	create_container "$id2"
	run ocirun list -q
	assert_status 0
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$ID" "$id2" | sort)" ]
	run ocirun list --quiet
	assert_status 0
	[ "${#lines[@]}" = 2 ]
}

@test "list --format json and -f json: array of objects" {
	make_bundle
	config_args sleep 100
	local id2
	id2=$(new_id)
	create_container "$ID"
	run_detached "$id2"
	run ocirun list --format json
	assert_status 0
	[ "$(jq -r 'type' <<<"$output")" = array ]
	[ "$(jq -r 'length' <<<"$output")" = 2 ]
	local k
	for k in id pid status bundle created owner; do
		jq -e --arg k "$k" 'all(has($k))' <<<"$output" >/dev/null || fail "no $k: $output"
	done
	[ "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .status' <<<"$output")" = created ]
	[ "$(jq -r --arg id "$id2" '.[] | select(.id == $id) | .status' <<<"$output")" = running ]
	[ "$(jq -r --arg id "$id2" '.[] | select(.id == $id) | .pid' <<<"$output")" = "$(container_pid "$id2")" ]
	[ "$(jq -r --arg id "$id2" '.[] | select(.id == $id) | .bundle' <<<"$output")" = "$BUNDLE" ]
	[ "$(jq -r '.[0].owner' <<<"$output")" = root ]
	run ocirun list -f json
	assert_status 0
	[ "$(jq -r 'length' <<<"$output")" = 2 ]
}

@test "list --format table is the default" {
	mkdir -p "$ROOT"
	run ocirun list --format table
	assert_status 0
	[ "$(squeeze <<<"${lines[0]}")" = "$HEADER" ]
}

@test "list --format of an unknown format fails and names it" {
	mkdir -p "$ROOT"
	run ocirun list --format yaml
	assert_failure
	# runc: "invalid format option"
	assert_output_contains_any yaml format
}

@test "list: a deleted container is gone" {
	make_bundle
	config_args sleep 100
	create_container
	ocirun delete --force "$ID"
	run ocirun list -q
	assert_status 0
	[ -z "$output" ]
}
