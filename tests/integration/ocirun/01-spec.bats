#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# `spec`: the starter config.json.

load ../helpers

# spec_in DIR: run `spec` with DIR as the working directory.
spec_in() {
	(cd "$1" && "$OCIRUN" spec "${@:2}")
}

@test "spec writes config.json in the working directory" {
	mkdir "$TMP/b"
	run spec_in "$TMP/b"
	assert_status 0
	[ -f "$TMP/b/config.json" ]
	jq -e . "$TMP/b/config.json" >/dev/null
}

@test "spec --bundle DIR writes DIR/config.json" {
	mkdir "$TMP/b"
	run "$OCIRUN" spec --bundle "$TMP/b"
	assert_status 0
	jq -e . "$TMP/b/config.json" >/dev/null
}

@test "spec -b DIR is --bundle" {
	mkdir "$TMP/b"
	run "$OCIRUN" spec -b "$TMP/b"
	assert_status 0
	[ -f "$TMP/b/config.json" ]
}

@test "spec refuses to overwrite config.json" {
	mkdir "$TMP/b"
	echo '{"mine": true}' >"$TMP/b/config.json"
	run spec_in "$TMP/b"
	assert_failure
	assert_output_contains config.json
	[ "$(jq -c . "$TMP/b/config.json")" = '{"mine":true}' ]
}

@test "spec --bundle of a missing directory fails and names it" {
	run "$OCIRUN" spec --bundle "$TMP/missing"
	assert_failure
	assert_output_contains "$TMP/missing"
	[ ! -e "$TMP/missing" ]
}

@test "spec: version, process, root" {
	run spec_in "$TMP"
	assert_status 0
	local c=$TMP/config.json
	[[ "$(jq -r .ociVersion "$c")" =~ ^1\.[0-9]+\.[0-9]+ ]]
	[ "$(jq -c .process.args "$c")" = '["sh"]' ]
	[ "$(jq -r .process.cwd "$c")" = / ]
	[ "$(jq -r .process.user.uid "$c")" = 0 ]
	[ "$(jq -r .process.user.gid "$c")" = 0 ]
	jq -e '.process.env | any(startswith("PATH="))' "$c" >/dev/null
	jq -e '.process.capabilities.bounding | index("CAP_KILL")' "$c" >/dev/null
	[ "$(jq -r .root.path "$c")" = rootfs ]
	[ "$(jq -r '.hostname | type' "$c")" = string ]
}

@test "spec: default mounts" {
	run spec_in "$TMP"
	assert_status 0
	local c=$TMP/config.json d
	for d in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys; do
		jq -e --arg d "$d" '.mounts | any(.destination == $d)' "$c" >/dev/null ||
			fail "no mount at $d: $(jq -c '[.mounts[].destination]' "$c")"
	done
	[ "$(jq -r '.mounts[] | select(.destination == "/proc") | .type' "$c")" = proc ]
	[ "$(jq -r '.mounts[] | select(.destination == "/dev/pts") | .type' "$c")" = devpts ]
	[ "$(jq -r '.mounts[] | select(.destination == "/dev/mqueue") | .type' "$c")" = mqueue ]
	[ "$(jq -r '.mounts[] | select(.destination == "/sys") | .type' "$c")" = sysfs ]
	jq -e '.mounts | any(.type == "cgroup" or .type == "cgroup2")' "$c" >/dev/null
	# /proc must come before anything mounted under /dev or /sys needs it, and /dev before
	# /dev/pts: order is part of the contract.
	[ "$(jq -r '[.mounts[].destination] | index("/dev") < index("/dev/pts")' "$c")" = true ]
}

@test "spec: default namespaces, masked and read-only paths" {
	run spec_in "$TMP"
	assert_status 0
	local c=$TMP/config.json ns
	for ns in pid network ipc uts mount; do
		jq -e --arg t "$ns" '.linux.namespaces | any(.type == $t)' "$c" >/dev/null ||
			fail "no $ns namespace: $(jq -c .linux.namespaces "$c")"
	done
	# No user namespace for root; runc 1.1 adds no cgroup namespace either, runc 1.2 does.
	jq -e '.linux.namespaces | all(.type != "user")' "$c" >/dev/null
	jq -e '.linux.namespaces | all(has("path") | not)' "$c" >/dev/null
	jq -e '.linux.maskedPaths | index("/proc/kcore")' "$c" >/dev/null
	jq -e '.linux.readonlyPaths | index("/proc/sys")' "$c" >/dev/null
	jq -e '.linux.readonlyPaths | index("/proc/sysrq-trigger")' "$c" >/dev/null
}

@test "spec --rootless: user namespace with mappings, no network namespace" {
	run spec_in "$TMP" --rootless
	assert_status 0
	local c=$TMP/config.json
	jq -e '.linux.namespaces | any(.type == "user")' "$c" >/dev/null
	jq -e '.linux.namespaces | all(.type != "network")' "$c" >/dev/null
	[ "$(jq -r '.linux.uidMappings | length' "$c")" -ge 1 ]
	[ "$(jq -r '.linux.gidMappings | length' "$c")" -ge 1 ]
	[ "$(jq -r '.linux.uidMappings[0].containerID' "$c")" = 0 ]
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$c")" = "$(id -u)" ]
	[ "$(jq -r '.linux.gidMappings[0].hostID' "$c")" = "$(id -g)" ]
	[ "$(jq -r '.linux.uidMappings[0].size' "$c")" -ge 1 ]
}

@test "spec output runs as is (after dropping the terminal)" {
	make_bundle
	config_args echo spec-works
	run_file ocirun run --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ "$output" = spec-works ]
}
