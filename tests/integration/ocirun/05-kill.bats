#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# `kill ID [SIGNAL]` and `kill --all`.

load ../helpers

# A running container whose init reports each trapped signal on its stdout
# ($TMP/$ID.out) and exits with 100+n on TERM/INT, so the test sees what arrived.
# A pid-1 process ignores signals it has no handler for, hence the traps.
start_trapper() {
	make_bundle
	config_args sh -c '
		trap "echo got-USR1" USR1
		trap "echo got-USR2" USR2
		trap "echo got-HUP" HUP
		trap "echo got-TERM; exit 115" TERM
		trap "echo got-INT; exit 102" INT
		echo ready
		while :; do sleep 0.1; done'
	run_detached "$ID"
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" ready
}

@test "kill: default signal is SIGTERM" {
	start_trapper
	run ocirun kill "$ID"
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" got-TERM
	retry 50 0.1 status_is stopped
}

@test "kill: signal by name, with and without SIG" {
	start_trapper
	local sig
	for sig in USR1 SIGUSR2 HUP; do
		run ocirun kill "$ID" "$sig"
		assert_status 0
		retry 50 0.1 file_has "$TMP/$ID.out" "got-${sig#SIG}"
	done
	[ "$(container_status)" = running ]
	run ocirun kill "$ID" SIGTERM
	assert_status 0
	retry 50 0.1 status_is stopped
	file_has "$TMP/$ID.out" got-TERM
}

@test "kill: signal by number" {
	start_trapper
	run ocirun kill "$ID" 10
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" got-USR1
	run ocirun kill "$ID" 15
	assert_status 0
	retry 50 0.1 status_is stopped
	file_has "$TMP/$ID.out" got-TERM
}

@test "kill: names are case-insensitive (as runc)" {
	start_trapper
	run ocirun kill "$ID" usr1
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" got-USR1
	run ocirun kill "$ID" sigint
	assert_status 0
	retry 50 0.1 status_is stopped
}

@test "kill KILL, SIGKILL and 9 kill an init with no handler" {
	make_bundle
	config_args sleep 100
	local sig id pid
	for sig in KILL SIGKILL 9; do
		id=$(new_id "$sig")
		run_detached "$id"
		assert_status 0
		pid=$(container_pid "$id")
		run ocirun kill "$id" "$sig"
		assert_status 0
		retry 50 0.1 status_is stopped "$id"
		pid_gone "$pid"
		ocirun delete "$id"
		assert_nothing_left "$id"
	done
}

@test "kill: SIGTERM to an init with no handler is ignored (pid 1 semantics)" {
	make_bundle
	config_args sleep 100
	run_detached "$ID"
	run ocirun kill "$ID" TERM
	assert_status 0
	sleep 0.3
	[ "$(container_status)" = running ]
}

@test "kill: an unknown signal name fails, names it, container unaffected" {
	start_trapper
	local pid
	pid=$(container_pid)
	run ocirun kill "$ID" NOSUCHSIG
	assert_failure
	assert_output_contains NOSUCHSIG
	run ocirun kill "$ID" SIGFOO
	assert_failure
	assert_output_contains SIGFOO
	[ "$(container_status)" = running ]
	pid_alive "$pid"
	! grep -q got- "$TMP/$ID.out"
}

@test "kill: an out-of-range signal number fails, container unaffected" {
	start_trapper
	local n
	for n in 99 -9 1x; do
		run ocirun kill "$ID" "$n"
		assert_failure
		# runc says only "invalid argument" for numbers.
		assert_output_contains_any "$n" invalid
	done
	[ "$(container_status)" = running ]
	! grep -q got- "$TMP/$ID.out"
}

@test "kill of a created container" {
	make_bundle
	config_args sleep 100
	create_container
	assert_status 0
	local pid
	pid=$(container_pid)
	run ocirun kill "$ID" KILL
	assert_status 0
	retry 50 0.1 status_is stopped
	pid_gone "$pid"
}

@test "kill of a stopped container fails (as runc 1.1)" {
	make_bundle
	config_args true
	run_detached "$ID"
	retry 50 0.1 status_is stopped
	run ocirun kill "$ID" KILL
	assert_failure
	assert_output_contains_any "not running" stopped
	[ "$(container_status)" = stopped ]
}

@test "kill of an unknown id fails" {
	run ocirun kill "$ID" KILL
	assert_unknown_container "$ID"
	assert_nothing_left
}

# n_procs: processes in the container's cgroup, seen from the host.
n_procs() {
	pids_matching "$ID" | wc -l
}

@test "kill --all KILL kills every process of the container" {
	make_bundle
	config_args sh -c 'sleep 1000 & sleep 1001 & echo ready; while :; do sleep 0.1; done'
	run_detached "$ID"
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	[ "$(n_procs)" -ge 3 ]
	run ocirun kill --all "$ID" KILL
	assert_status 0
	retry 50 0.1 status_is stopped
	retry 30 0.1 no_pids_matching "$ID"
	# ps on the host: no sleep 1000 left anywhere in the container's cgroup.
	[ -z "$(pids_matching "$ID")" ]
}

@test "kill -a TERM reaches processes with a handler beyond init" {
	make_bundle
	mkdir "$TMP/shared"
	config_mount /shared bind "$TMP/shared" rbind rw
	# init waits for the child on TERM: were init to exit first, the kernel would SIGKILL
	# the child before its trap ran.
	config_args sh -c '
		sh -c "trap \"echo child >/shared/child; exit 0\" TERM; echo >/shared/child-ready
			while :; do sleep 0.1; done" &
		c=$!
		trap "wait $c; exit 0" TERM
		echo ready; while :; do sleep 0.1; done'
	run_detached "$ID"
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	retry 50 0.1 test -e "$TMP/shared/child-ready"
	run ocirun kill -a "$ID" TERM
	assert_status 0
	retry 50 0.1 test -e "$TMP/shared/child"
	retry 50 0.1 status_is stopped
}

@test "kill without --all leaves other processes to die with init" {
	make_bundle
	config_args sh -c 'sleep 1000 & echo ready; while :; do sleep 0.1; done'
	run_detached "$ID"
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	run ocirun kill "$ID" KILL
	assert_status 0
	retry 50 0.1 status_is stopped
	# The pid namespace dies with its init: the kernel kills the rest.
	retry 30 0.1 no_pids_matching "$ID"
}
