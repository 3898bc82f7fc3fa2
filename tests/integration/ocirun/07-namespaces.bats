#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# linux.namespaces: new ones, joined ones (by path), user namespace mappings, uts names.

load ../helpers

# run_fg: `ocirun run` of $BUNDLE as $ID in the foreground.

# ns_inside NS...: print `readlink /proc/self/ns/NS` from inside, one a line.
ns_inside() {
	local script="" ns
	for ns in "$@"; do
		script="$script readlink /proc/self/ns/$ns;"
	done
	config_args sh -c "$script"
	run_file run_fg
	assert_status 0
	[ "${#lines[@]}" = "$#" ] || fail "output: $output"
}

@test "namespaces: pid, mount, uts, ipc, net and cgroup are all new" {
	make_bundle
	config_ns cgroup
	local names=(pid mnt uts ipc net cgroup) i
	ns_inside "${names[@]}"
	for i in "${!names[@]}"; do
		[[ "${lines[i]}" == "${names[i]}:["* ]] || fail "${names[i]}: ${lines[i]}"
		[ "${lines[i]}" != "$(readlink "/proc/self/ns/${names[i]}")" ] ||
			fail "${names[i]} namespace shared with the host: ${lines[i]}"
	done
}

@test "namespaces: a type left out is shared with the host" {
	make_bundle
	config_no_ns network
	config_no_ns ipc
	ns_inside net ipc pid
	[ "${lines[0]}" = "$(readlink /proc/self/ns/net)" ]
	[ "${lines[1]}" = "$(readlink /proc/self/ns/ipc)" ]
	[ "${lines[2]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "namespaces: the user process is in the namespaces shown by /proc/<pid>/ns on the host" {
	make_bundle
	config_args sleep 100
	run_detached
	assert_status 0
	local pid ns
	pid=$(container_pid)
	for ns in pid mnt uts ipc net; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] ||
			fail "$ns shared with the host"
	done
}

@test "namespaces: new network namespace has only lo, down" {
	make_bundle
	config_args sh -c 'ls /sys/class/net; cat /sys/class/net/lo/operstate'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = lo ]
	[ "${#lines[@]}" = 2 ]
}

@test "namespaces: join a network namespace by path" {
	make_bundle
	touch "$TMP/netns"
	unshare --net="$TMP/netns" true
	on_teardown umount "$TMP/netns"
	local ino
	ino=$(stat -L -c %i "$TMP/netns")
	config_ns network "$TMP/netns"
	ns_inside net
	[ "${lines[0]}" = "net:[$ino]" ]
	# The joined namespace outlives the container, untouched.
	run ocirun list -q
	[ -z "$output" ]
	[ "$(stat -L -c %i "$TMP/netns")" = "$ino" ]
	umount "$TMP/netns"
}

@test "namespaces: join another container's uts and ipc namespaces by /proc path" {
	make_bundle
	config_set '.hostname = "first"'
	config_args sleep 100
	local id2 pid
	id2=$(new_id)
	run_detached "$id2"
	assert_status 0
	pid=$(container_pid "$id2")
	# no hostname: setting one would rename the first container's uts namespace
	config_set 'del(.hostname)'
	config_ns uts "/proc/$pid/ns/uts"
	config_ns ipc "/proc/$pid/ns/ipc"
	config_args sh -c 'hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = first ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/uts")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$pid/ns/ipc")" ]
}

@test "namespaces: a path that is not a namespace fails and names it" {
	make_bundle
	touch "$TMP/not-a-netns"
	config_ns network "$TMP/not-a-netns"
	config_args true
	run_file run_fg
	assert_failure
	# runc: "failed to setns into net namespace: Invalid argument"
	assert_output_contains_any not-a-netns namespace
	assert_nothing_left
}

@test "namespaces: a missing namespace path fails and names it" {
	make_bundle
	config_ns network "$TMP/no-such-ns"
	config_args true
	run_file run_fg
	assert_failure
	assert_output_contains no-such-ns
	assert_nothing_left
}

@test "uts: hostname" {
	make_bundle
	config_set '.hostname = "berth-box"'
	config_args sh -c 'hostname; cat /proc/sys/kernel/hostname'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = berth-box ]
	[ "${lines[1]}" = berth-box ]
	[ "$(hostname)" != berth-box ]
}

@test "uts: domainname" {
	# ocirun-only: runc 1.1 ignores .domainname (added in runc 1.2).
	skip_if_runc "1.1 ignores domainname"
	make_bundle
	config_set '.domainname = "example.test"'
	config_args cat /proc/sys/kernel/domainname
	run_file run_fg
	assert_status 0
	[ "$output" = example.test ]
}

@test "uts: the hostname set inside stays inside" {
	make_bundle
	config_set '.hostname = "before"
		| .process.capabilities |= map_values(. + ["CAP_SYS_ADMIN"])'
	config_args sh -c 'hostname after; hostname'
	local host
	host=$(hostname)
	run_file run_fg
	assert_status 0
	[ "$output" = after ]
	[ "$(hostname)" = "$host" ]
}

@test "cgroup namespace: the container's cgroup is its root" {
	make_bundle
	config_ns cgroup
	config_args cat /proc/self/cgroup
	run_file run_fg
	assert_status 0
	local line
	for line in "${lines[@]}"; do
		[ "${line##*:}" = / ] || fail "not at the root of its cgroup namespace: $line"
	done
}

@test "time namespace" {
	[ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
	# ocirun-only: runc 1.1 refuses the type (namespace {"time" ""} does not exist).
	skip_if_runc "1.1 has no time namespace"
	make_bundle
	config_ns time
	ns_inside time
	[[ "${lines[0]}" == "time:["* ]]
	[ "${lines[0]}" != "$(readlink /proc/self/ns/time)" ]
}

@test "user namespace: container root is host uid 100000" {
	make_bundle
	config_ns user
	config_set '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	config_args sh -c 'id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map; readlink /proc/self/ns/user; ls /bin/busybox'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[ "$(squeeze_ws <<<"${lines[2]}")" = "0 100000 65536" ]
	[ "$(squeeze_ws <<<"${lines[3]}")" = "0 100000 65536" ]
	[ "${lines[4]}" != "$(readlink /proc/self/ns/user)" ]
	[ "${lines[5]}" = /bin/busybox ]
}

@test "user namespace: the host sees the process as uid 100000" {
	make_bundle
	config_ns user
	config_set '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	config_args sleep 100
	run_detached
	assert_status 0
	local pid
	pid=$(container_pid)
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	[ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
}

@test "user namespace: a file written by container root is owned by 100000 on the host" {
	make_bundle
	mkdir "$TMP/shared" "$BUNDLE/rootfs/shared"
	chown 100000:100000 "$TMP/shared"
	config_mount /shared bind "$TMP/shared" rbind rw
	config_ns user
	config_set '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	config_args sh -c 'echo x >/shared/f'
	run_file run_fg
	assert_status 0
	[ "$(stat -c %u:%g "$TMP/shared/f")" = 100000:100000 ]
}

squeeze_ws() {
	sed -E 's/^[[:space:]]+//; s/[[:space:]]+/ /g; s/ $//'
}
