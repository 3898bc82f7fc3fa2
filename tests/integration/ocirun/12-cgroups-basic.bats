#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The container's own cgroup (v1 hybrid here: v1 controllers plus an empty cgroup2 mount):
# made at create, holding every process, removed at delete. Resource limits: later files.

load ../helpers

# cgroup_of PID CONTROLLER: the path of PID's cgroup in the v1 hierarchy with CONTROLLER
# ("" for the cgroup2 line).
cgroup_of() {
	awk -F: -v c="$2" 'c == "" && $1 == "0" { print $3; exit }
		c != "" && index("," $2 ",", "," c ",") { print $3; exit }' "/proc/$1/cgroup"
}

# cgroup_dir CONTROLLER PATH: the host directory of PATH in CONTROLLER's hierarchy.
cgroup_dir() {
	echo "/sys/fs/cgroup/$1$2"
}

has_v1() {
	[ -d "/sys/fs/cgroup/$1" ] && grep -qw "$1" /proc/self/cgroup
}

@test "cgroups: the container gets its own cgroup named after its id" {
	make_bundle
	config_args sleep 100
	create_container
	assert_status 0
	local pid c path
	pid=$(container_pid)
	for c in memory pids; do
		has_v1 "$c" || continue
		path=$(cgroup_of "$pid" "$c")
		[[ "$path" == *"$ID"* ]] || fail "$c cgroup of the container: $path"
		[ "$path" != "$(cgroup_of $$ "$c")" ]
		grep -qx "$pid" "$(cgroup_dir "$c" "$path")/cgroup.procs"
	done
}

@test "cgroups: every process of the container is in it" {
	make_bundle
	config_args sh -c 'sleep 100 & echo ready; while :; do sleep 0.1; done'
	run_detached
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	local pid path
	pid=$(container_pid)
	path=$(cgroup_of "$pid" pids)
	local procs p found=
	procs=$(cat "$(cgroup_dir pids "$path")/cgroup.procs")
	grep -qx "$pid" <<<"$procs"
	# the background child, not only init (the loop's short sleeps come and go)
	for p in $procs; do
		if [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 100 " ]; then
			found=$p
		fi
	done
	[ -n "$found" ] || fail "sleep 100 not in the cgroup: $procs"
	[ "$(cgroup_of "$found" pids)" = "$path" ]
}

@test "cgroups: the cgroup2 hierarchy of a hybrid host too" {
	grep -q '^0::' /proc/self/cgroup || skip "no cgroup2 hierarchy"
	make_bundle
	config_args sleep 100
	create_container
	assert_status 0
	local path
	path=$(cgroup_of "$(container_pid)" "")
	[[ "$path" == *"$ID"* ]] || fail "cgroup2 path: $path"
}

@test "cgroups: delete removes the cgroup directories" {
	make_bundle
	config_args sleep 100
	run_detached
	assert_status 0
	[ -n "$(cgroups_matching "$ID")" ]
	ocirun delete --force "$ID"
	[ -z "$(cgroups_matching "$ID")" ] || fail "left: $(cgroups_matching "$ID")"
}

@test "cgroups: a container that exits by itself loses its cgroup at delete" {
	make_bundle
	config_args true
	run_detached
	retry 50 0.1 status_is stopped
	ocirun delete "$ID"
	[ -z "$(cgroups_matching "$ID")" ]
}

@test "cgroups: run removes the cgroup when the container ends" {
	make_bundle
	config_args true
	run_file ocirun run --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ -z "$(cgroups_matching "$ID")" ]
}

@test "cgroups: a custom linux.cgroupsPath is used as is" {
	make_bundle
	config_set --arg p "/berth-test-$ID" '.linux.cgroupsPath = $p'
	config_args sleep 100
	create_container
	assert_status 0
	local pid c
	pid=$(container_pid)
	for c in memory pids; do
		has_v1 "$c" || continue
		[ "$(cgroup_of "$pid" "$c")" = "/berth-test-$ID" ]
		[ -d "/sys/fs/cgroup/$c/berth-test-$ID" ]
		grep -qx "$pid" "/sys/fs/cgroup/$c/berth-test-$ID/cgroup.procs"
	done
	ocirun delete --force "$ID"
	[ -z "$(cgroups_matching "berth-test-$ID")" ]
}

@test "cgroups: the container's cgroup is not the caller's" {
	make_bundle
	# without a cgroup namespace, the container sees its full cgroup path
	config_no_ns cgroup
	config_args cat /proc/self/cgroup
	run_file ocirun run --bundle "$BUNDLE" "$ID"
	assert_status 0
	local line
	for line in "${lines[@]}"; do
		case "$line" in
		*:pids:* | *:memory:*) [[ "$line" == *"$ID"* ]] || fail "$line" ;;
		esac
	done
}
