#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kill --all signals every process of the container's cgroup, which matters most for a
# container sharing the host's pid namespace, where the init's death leaves the others
# running. Whatever way the container ends, delete leaves nothing: no cgroup directory in
# any hierarchy (v1 and cgroup2), no mount, no state, no process; a container without a pid
# namespace whose init died loses its remaining processes at delete.

load ../helpers
load resource-helpers

# no_pidns_container [ARGS...]: $ID without its own pid namespace, running ARGS (default: a
# shell with two sleeping children), plus an exec'd `sleep 102`; sets INIT, EXEC_PID and
# DIRS (its cgroup directories in every hierarchy).
no_pidns_container() {
	make_bundle
	config_no_ns pid
	if [ $# -gt 0 ]; then
		config_args "$@"
	else
		config_args sh -c 'sleep 100 & sleep 101 & echo ready; wait'
	fi
	run_detached
	assert_status 0
	INIT=$(container_pid)
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	run_file ocirun exec --detach --pid-file "$TMP/exec.pid" "$ID" sleep 102
	assert_status 0
	EXEC_PID=$(cat "$TMP/exec.pid")
	record_dirs
}

# record_dirs: DIRS = the init's cgroup directory in every mounted hierarchy.
record_dirs() {
	local line c
	DIRS=$(while IFS= read -r line; do
		c=${line#*:}
		c=${c%%:*}
		echo "$(cg_mount "$c")${line#*:*:}"
	done < <(cg_hierarchies "$INIT"))
	[ -n "$DIRS" ]
	# v1 and cgroup2 both, on a hybrid host
	if grep -q '^0::' "/proc/$INIT/cgroup" && [ -n "$(cg_mount "")" ]; then
		grep -q "^$(cg_mount "")/" <<<"$DIRS" || fail "no cgroup2 dir in: $DIRS"
	fi
}

# container_pids: the pids in the container's cgroup (from its first recorded dir).
container_pids() {
	cat "$(head -1 <<<"$DIRS")/cgroup.procs" 2>/dev/null
}

n_container_pids_is() {
	[ "$(container_pids | grep -c .)" = "$1" ]
}

# assert_all_gone: no recorded directory, nothing of the container left anywhere.
assert_all_gone() {
	local d
	for d in $DIRS; do
		[ ! -e "$d" ] || fail "left: $d"
	done
	assert_nothing_left
	[ ! -e "$ROOT/$ID" ] || fail "state dir left"
}

@test "no pid namespace: killing the init leaves the other processes running (the premise)" {
	no_pidns_container
	local before
	before=$(container_pids | sort -n)
	[ "$(grep -c . <<<"$before")" = 4 ] || fail "$before"
	run_file ocirun kill "$ID" KILL
	assert_status 0
	retry 50 0.1 pid_gone "$INIT"
	retry 50 0.1 status_is stopped
	# the others live on in the cgroup
	n_container_pids_is 3 || fail "$(container_pids)"
	pid_alive "$EXEC_PID"
}

@test "kill --all: every process of the cgroup gets the signal (no pid namespace)" {
	no_pidns_container
	local p before
	before=$(container_pids)
	run_file ocirun kill --all "$ID" KILL
	assert_status 0
	for p in $before; do
		retry 50 0.1 pid_gone "$p" || fail "$p ($(tr '\0' ' ' <"/proc/$p/cmdline")) survived kill --all"
	done
	retry 50 0.1 status_is stopped
	run_file ocirun delete "$ID"
	assert_status 0
	assert_all_gone
}

@test "kill --all TERM: a catchable signal reaches every process too" {
	no_pidns_container sh -c 'trap "echo init-term; exit 0" TERM; sleep 100 & sleep 101 & echo ready; while :; do usleep 100000; done'
	local p before
	before=$(container_pids)
	run_file ocirun kill --all "$ID" TERM
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" init-term
	for p in $before; do
		retry 50 0.1 pid_gone "$p" || fail "$p survived kill --all TERM"
	done
	retry 50 0.1 status_is stopped
	ocirun delete "$ID"
	assert_all_gone
}

@test "kill --all after the init died reaches the processes left behind" {
	no_pidns_container
	ocirun kill "$ID" KILL
	retry 50 0.1 status_is stopped
	n_container_pids_is 3
	local p left
	left=$(container_pids)
	run_file ocirun kill --all "$ID" KILL
	assert_status 0
	for p in $left; do
		retry 50 0.1 pid_gone "$p" || fail "$p survived"
	done
	ocirun delete "$ID"
	assert_all_gone
}

@test "kill --all with its own pid namespace: every process too" {
	make_bundle
	config_args sh -c 'sleep 100 & sleep 101 & echo ready; wait'
	run_detached
	assert_status 0
	INIT=$(container_pid)
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	record_dirs
	run_file ocirun exec --detach "$ID" sleep 102
	assert_status 0
	local p before
	before=$(container_pids)
	[ "$(grep -c . <<<"$before")" = 4 ] || fail "$before"
	run_file ocirun kill --all "$ID" KILL
	assert_status 0
	for p in $before; do
		retry 50 0.1 pid_gone "$p" || fail "$p survived"
	done
	retry 50 0.1 status_is stopped
	ocirun delete "$ID"
	assert_all_gone
}

@test "delete of a container whose init exited kills the processes it left (no pid namespace)" {
	# The init exits by itself after a second, leaving two daemonized sleeps in the cgroup.
	make_bundle
	config_no_ns pid
	config_args sh -c '(sleep 100 &); (sleep 101 &); echo ready; sleep 1'
	run_detached
	assert_status 0
	INIT=$(container_pid)
	record_dirs
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	retry 50 0.1 status_is stopped
	local left p
	left=$(container_pids)
	[ "$(grep -c . <<<"$left")" = 2 ] || fail "left: $left"
	run_file ocirun delete "$ID"
	assert_status 0
	for p in $left; do
		retry 50 0.1 pid_gone "$p" || fail "$p survived delete"
	done
	assert_all_gone
}

@test "delete --force of a running container without pid namespace kills every process" {
	no_pidns_container
	local left p
	left=$(container_pids)
	run_file ocirun delete --force "$ID"
	assert_status 0
	for p in $left; do
		retry 50 0.1 pid_gone "$p" || fail "$p survived delete --force"
	done
	assert_all_gone
}

@test "a container that exits by itself, then delete: no cgroup in any hierarchy, no mount, no state, no process" {
	make_bundle
	config_set --arg p "/berth-$ID" '.linux.cgroupsPath = $p'
	config_mount /scratch tmpfs tmpfs
	config_args sh -c 'sleep 100 & echo ready; sleep 1'
	run_detached
	assert_status 0
	INIT=$(container_pid)
	record_dirs
	retry 50 0.1 status_is stopped
	# stopped: the state is kept until delete, the init is gone
	pid_gone "$INIT"
	[ "$(container_status)" = stopped ]
	run_file ocirun delete "$ID"
	assert_status 0
	assert_all_gone
	# the container's mounts were in its own namespace: none on the host
	! grep -q "$ID" /proc/self/mountinfo || fail "$(grep "$ID" /proc/self/mountinfo)"
	run_file ocirun state "$ID"
	assert_unknown_container "$ID"
}

@test "run: when the init exits, the container's other processes go too and nothing is left (no pid namespace)" {
	make_bundle
	config_no_ns pid
	config_args sh -c '(sleep 100 &); echo started'
	run_file run_fg
	assert_status 0
	assert_output_contains started
	assert_nothing_left
}

@test "kill --all of an unknown container fails naming it" {
	run_file ocirun kill --all "nosuch-$ID" KILL
	assert_unknown_container "nosuch-$ID"
}
