#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Where the container's cgroups go, as runc places them (cgroupfs driver): an absolute
# linux.cgroupsPath is taken from the root of every hierarchy, a relative one from the
# caller's own cgroup in each, and none means "<caller's cgroup>/<id>". A path climbing out
# with ".." is refused (ocirun; runc cleans it), delete removes every directory, and
# --systemd-cgroup without a running systemd fails and leaves nothing.
#
# Places are read from the host's /proc/<init>/cgroup and checked against the directories;
# the caller may itself sit in a non-root cgroup of some hierarchies (memory here).

load ../helpers
load resource-helpers

# sleeping_container [CGROUPS-PATH]: $ID created (not started) running `sleep 100`, with
# linux.cgroupsPath set to CGROUPS-PATH if given; sets INIT.
sleeping_container() {
	make_bundle
	if [ -n "${1:-}" ]; then
		config_set --arg p "$1" '.linux.cgroupsPath = $p'
	fi
	config_args sleep 100
	create_container
	assert_status 0
	INIT=$(container_pid)
}

# check_placement WANT_PREFIX_FN SUFFIX: for every hierarchy the caller is in, the init's
# path there is "$(WANT_PREFIX_FN <caller's path>)SUFFIX", its directory exists and lists
# the init in cgroup.procs.
check_placement() {
	local prefix_fn=$1 suffix=$2 line hid ctrl self want got dir n=0
	while IFS= read -r line; do
		hid=${line%%:*}
		ctrl=${line#*:}
		ctrl=${ctrl%%:*}
		self=${line#*:*:}
		want="$($prefix_fn "$self")$suffix"
		got=$(awk -F: -v h="$hid" '$1 == h { print $3 }' "/proc/$INIT/cgroup")
		[ "$got" = "$want" ] || fail "hierarchy $hid ($ctrl): container in '$got', want '$want'"
		dir=$(cg_mount "$ctrl")$want
		[ -d "$dir" ] || fail "no directory $dir"
		grep -qx "$INIT" "$dir/cgroup.procs" || fail "$INIT not in $dir/cgroup.procs"
		n=$((n + 1))
	done < <(cg_hierarchies self)
	[ "$n" -gt 0 ] || fail "no cgroup hierarchy checked"
	# at least one v1 controller hierarchy among them
	has_v1 memory || has_v1 pids || has_v1 cpu || fail "no v1 controller hierarchy"
}

from_root() { :; }
from_caller() { [ "$1" = / ] || echo "$1"; }

@test "cgroupsPath absolute: lands at <mount>/berth-<id> in every hierarchy, whatever the caller's cgroup" {
	sleeping_container "/berth-$ID"
	check_placement from_root "/berth-$ID"
	# the memory hierarchy too, where the caller is nested (on this host)
	if has_v1 memory; then
		[ "$(cg_path "$INIT" memory)" = "/berth-$ID" ]
		[ -d "$(cg_mount memory)/berth-$ID" ]
	fi
}

@test "cgroupsPath relative: lands under the caller's own cgroup in every hierarchy" {
	sleeping_container "rel-$ID"
	check_placement from_caller "/rel-$ID"
	# nothing at the root of a hierarchy where the caller is nested
	local line ctrl self
	while IFS= read -r line; do
		ctrl=${line#*:}
		ctrl=${ctrl%%:*}
		self=${line#*:*:}
		if [ "$self" != / ]; then
			[ ! -e "$(cg_mount "$ctrl")/rel-$ID" ] || fail "rel-$ID made at the root of $ctrl"
		fi
	done < <(cg_hierarchies self)
}

@test "cgroupsPath unset: <caller's cgroup>/<id> in every hierarchy" {
	sleeping_container
	[ "$(jq -r '.linux.cgroupsPath // ""' "$BUNDLE/config.json")" = "" ]
	check_placement from_caller "/$ID"
}

@test "cgroupsPath: the placement holds for exec'd processes too" {
	sleeping_container "rel-$ID"
	run_file ocirun start "$ID"
	assert_status 0
	run_file ocirun exec --detach --pid-file "$TMP/exec.pid" "$ID" sleep 100
	assert_status 0
	[ "$(cat "/proc/$(cat "$TMP/exec.pid")/cgroup")" = "$(cat "/proc/$INIT/cgroup")" ]
}

# ocirun-only: runc cleans ".." away (CleanPath), ocirun refuses a path that would climb
# out of the hierarchy or the caller's cgroup.
@test "cgroupsPath with .. escaping is refused with a clear error, nothing left" {
	skip_if_runc "cleans .. out of cgroupsPath instead of refusing it"
	make_bundle
	config_args true
	local p
	for p in "../esc-$ID" "/a/../../esc-$ID" "rel-$ID/../../esc-$ID" "rel-$ID/.."; do
		config_set --arg p "$p" '.linux.cgroupsPath = $p'
		run_file run_fg
		assert_failure
		assert_output_contains cgroupsPath "$p" ".."
		assert_nothing_left
		[ -z "$(cgroups_matching "esc-$ID")" ] || fail "made: $(cgroups_matching "esc-$ID")"
		[ ! -e "$(cg_mount pids)/esc-$ID" ]
		[ ! -e "$(cg_mount memory)/esc-$ID" ]
	done
	# create too
	config_set --arg p "../esc-$ID" '.linux.cgroupsPath = $p'
	create_container
	assert_failure
	assert_output_contains ".."
	assert_nothing_left
}

@test "cgroupsPath: delete removes the directories in every hierarchy (absolute, relative, default)" {
	local p dirs d
	for p in "/berth-$ID" "rel-$ID" ""; do
		sleeping_container "$p"
		dirs=$(while IFS= read -r line; do
			c=${line#*:}
			c=${c%%:*}
			echo "$(cg_mount "$c")${line#*:*:}"
		done < <(cg_hierarchies "$INIT"))
		[ -n "$dirs" ]
		for d in $dirs; do
			[ -d "$d" ] || fail "no $d"
		done
		run_file ocirun start "$ID"
		assert_status 0
		ocirun delete --force "$ID"
		retry 20 0.1 pid_gone "$INIT"
		for d in $dirs; do
			[ ! -e "$d" ] || fail "delete left $d (cgroupsPath '$p')"
		done
		assert_nothing_left
		rm -rf "$BUNDLE"
	done
}

@test "cgroupsPath: a container that exited loses its directories at a plain delete" {
	make_bundle
	config_set --arg p "/berth-$ID" '.linux.cgroupsPath = $p'
	config_args true
	run_detached
	assert_status 0
	retry 50 0.1 status_is stopped
	[ -d "$(cg_mount pids)/berth-$ID" ] || [ -d "$(cg_mount memory)/berth-$ID" ] ||
		fail "the cgroup is gone before delete"
	ocirun delete "$ID"
	[ -z "$(cgroups_matching "berth-$ID")" ] || fail "left: $(cgroups_matching "berth-$ID")"
	assert_nothing_left
}

@test "--systemd-cgroup without systemd running fails, names systemd, leaves nothing" {
	[ ! -d /run/systemd/system ] || skip "systemd is running here"
	make_bundle
	config_args true
	run_file ocirun --systemd-cgroup run --bundle "$BUNDLE" "$ID"
	assert_failure
	assert_output_contains systemd
	assert_nothing_left
	run_file ocirun --systemd-cgroup create --bundle "$BUNDLE" "$ID"
	assert_failure
	assert_output_contains systemd
	assert_nothing_left
	# with a systemd-style cgroupsPath too
	config_set '.linux.cgroupsPath = "system.slice:berth:'"$ID"'"'
	run_file ocirun --systemd-cgroup run --bundle "$BUNDLE" "$ID"
	assert_failure
	assert_output_contains systemd
	assert_nothing_left
}
