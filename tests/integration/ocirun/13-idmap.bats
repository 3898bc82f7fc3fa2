#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Idmapped bind mounts ("idmap", "ridmap"): on-disk ids (containerID) show through the mount as
# hostID, and writes through the mount land with the on-disk id.

load ../helpers

idmap_src() {
	SRC="$TMP/src"
	mkdir -p "$SRC/sub"
	echo data >"$SRC/file"
	echo nested >"$SRC/sub/file"
	chown 0:0 "$SRC/file"
}

@test "idmap: a root-owned file shows as the mapped id through the mount" {
	skip_if_runc "runc 1.1 has no idmapped mounts"
	make_bundle
	idmap_src
	config_set --arg s "$SRC" '.mounts += [{destination: "/mnt", type: "bind", source: $s,
		options: ["bind", "idmap"],
		uidMappings: [{containerID: 0, hostID: 1234, size: 1}],
		gidMappings: [{containerID: 0, hostID: 1234, size: 1}]}]'
	config_args sh -c 'stat -c "%u:%g" /mnt/file; grep " /mnt " /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = "1234:1234" ] || fail "owner through the mount: ${lines[0]}"
	[[ "${lines[1]}" == *idmapped* ]] || fail "mount not idmapped: ${lines[1]}"
	# The host's view is unchanged.
	[ "$(stat -c %u:%g "$SRC/file")" = "0:0" ]
}

@test "idmap: a write through the mount is stored with the on-disk id" {
	skip_if_runc "runc 1.1 has no idmapped mounts"
	make_bundle
	idmap_src
	config_set --arg s "$SRC" '.mounts += [{destination: "/mnt", type: "bind", source: $s,
		options: ["bind", "idmap"],
		uidMappings: [{containerID: 0, hostID: 0, size: 1}, {containerID: 1000, hostID: 2000, size: 1}],
		gidMappings: [{containerID: 0, hostID: 0, size: 1}, {containerID: 1000, hostID: 2000, size: 1}]}]
		| .process.capabilities |= map_values(. + ["CAP_CHOWN"])'
	config_args sh -c 'touch /mnt/new && chown 2000:2000 /mnt/new && stat -c "%u" /mnt/new'
	run_file run_fg
	assert_status 0
	[ "$output" = 2000 ] || fail "inside: $output"
	[ "$(stat -c %u "$SRC/new")" = 1000 ] || fail "on disk: $(stat -c %u "$SRC/new")"
}

@test "ridmap: submounts are idmapped too; idmap on a non-bind mount is refused" {
	skip_if_runc "runc 1.1 has no idmapped mounts"
	make_bundle
	idmap_src
	mount -t tmpfs tmpfs "$SRC/sub"
	on_teardown umount "$SRC/sub"
	config_set --arg s "$SRC" '.mounts += [{destination: "/mnt", type: "bind", source: $s,
		options: ["rbind", "ridmap"],
		uidMappings: [{containerID: 0, hostID: 77, size: 1}],
		gidMappings: [{containerID: 0, hostID: 77, size: 1}]}]'
	config_args sh -c 'stat -c %u /mnt/sub'
	run_file run_fg
	assert_status 0
	[ "$output" = 77 ] || fail "submount owner: $output"

	make_bundle
	config_set '.mounts += [{destination: "/t", type: "tmpfs", source: "tmpfs", options: ["idmap"]}]'
	config_args true
	run_file run_fg
	[ "$status" -ne 0 ]
	assert_output_contains "idmap"
	[ ! -e "$ROOT/$ID" ]
}
