#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-ctr tasks exec, end to end: attached (stdio, exit status, process options), detached
# with its status from `tasks wait --exec-id`, with a terminal, and the errors.

load ../helpers
load supervisor-helpers

ctr_cmdline() {
	printf '%q ' "$CTR" --address "$SOCK" "$@"
}

# exec_pids ID EXEC: the pids `tasks ps ID` gives exec EXEC.
exec_pids() {
	ctr tasks ps "$1" | awk -v e="$2" 'NR > 1 && $2 == e {print $1}'
}

start_sleeper() {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d --rootfs "$TMP/rootfs" --env FROM=spec --cwd /etc "$ID" sleep 1000
}

@test "exec: attached, stdout and stderr apart, stdin piped in, the exit status passed on" {
	start_sleeper
	local rc=0
	printf 'in-1\nin-2\n' | ctr tasks exec --exec-id e1 "$ID" \
		sh -c 'cat; echo to-stderr >&2; exit 5' >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" = 5 ]
	[ "$(cat "$TMP/out")" = $'in-1\nin-2' ]
	[ "$(cat "$TMP/err")" = to-stderr ]
	# The exec went with its exit: the id is free again, the task runs on.
	[ -z "$(exec_pids "$ID" e1)" ]
	run ctr tasks exec --exec-id e1 "$ID" true
	assert_status 0
	[ "$(task_status "$ID")" = RUNNING ]
	# The exec's output is not the task's log (that is the init's).
	[ ! -s "$(task_json "$ID" | jq -r .log_path)" ]
}

@test "exec: the container's process settings, and --env, --cwd and --user over them" {
	start_sleeper
	run ctr tasks exec --exec-id e1 "$ID" sh -c 'echo "$FROM|$(pwd)|$(id -u)"'
	assert_status 0
	[ "$output" = "spec|/etc|0" ]
	run ctr tasks exec --exec-id e2 -e FROM=exec -e NEW=1 --cwd /tmp -u 1000:1001 "$ID" \
		sh -c 'echo "$FROM|$NEW|$(pwd)|$(id -u):$(id -g)"'
	assert_status 0
	[ "$output" = "exec|1|/tmp|1000:1001" ]
}

@test "exec -d: returns once started, listed by ps; tasks wait --exec-id gives its status" {
	start_sleeper
	run ctr tasks exec -d --exec-id e1 "$ID" sh -c 'while [ ! -e /go ]; do sleep 0.1; done; exit 9'
	assert_status 0
	[ -z "$output" ]
	local pid
	pid=$(exec_pids "$ID" e1)
	[ -n "$pid" ]
	pid_alive "$pid"
	"$CTR" --address "$SOCK" tasks wait --exec-id e1 "$ID" >"$TMP/wait" 2>&1 3>&- &
	local waiter=$!
	sleep 0.3
	pid_alive "$waiter" # still waiting
	touch "$TMP/rootfs/go"
	wait_exit "$waiter" 10
	[ "$EXIT_STATUS" = 0 ]
	[ "$(cat "$TMP/wait")" = 9 ]
	# A stopped exec answers at once, until it is deleted.
	run ctr tasks wait --exec-id e1 "$ID"
	[ "$output" = 9 ]
	ctr tasks rm --exec-id e1 "$ID"
	run ctr tasks wait --exec-id e1 "$ID"
	assert_failure
	assert_output_contains e1
	[ "$(task_status "$ID")" = RUNNING ]

	# Detached without -i, the exec reads EOF; with -i its stdin stays open.
	ctr tasks exec -d --exec-id e2 "$ID" sh -c 'cat; exit 3'
	run ctr tasks wait --exec-id e2 "$ID"
	[ "$output" = 3 ]
	ctr tasks exec -d -i --exec-id e3 "$ID" sh -c 'cat; exit 4'
	sleep 0.3
	[ -n "$(exec_pids "$ID" e3)" ]
	ctr tasks kill --exec-id e3 -s KILL "$ID"
	run ctr tasks wait --exec-id e3 "$ID"
	[ "$output" = 137 ]
}

@test "exec -t: the exec gets a terminal" {
	start_sleeper
	run timeout 30 script -qec "$(ctr_cmdline tasks exec -t --exec-id t1 "$ID" \
		sh -c 'tty; echo "term=$TERM"; exit 6')" /dev/null </dev/null
	assert_status 6
	[[ "$output" =~ /dev/pts/[0-9]+ ]]
	assert_output_contains term=xterm
	run ctr tasks exec --exec-id t2 "$ID" tty
	assert_status 1
	[ "$output" = "not a tty" ]
}

@test "exec: errors name what is wrong and leave nothing" {
	start_sleeper
	run ctr tasks exec "$ID" true
	assert_failure
	assert_output_contains --exec-id
	run ctr tasks exec --exec-id e1 "$ID"
	assert_failure
	run ctr tasks exec --exec-id e1 nope true
	assert_failure
	assert_output_contains nope
	# A command that is not there.
	run ctr tasks exec --exec-id e1 "$ID" /no/such/binary
	assert_failure
	assert_output_contains /no/such/binary
	# One error, no warning about cleaning up an exec that is gone already.
	[ "${#lines[@]}" = 1 ]
	[ -z "$(exec_pids "$ID" e1)" ]
	run ctr tasks exec -d --exec-id e1 "$ID" /no/such/binary
	assert_failure
	[ "${#lines[@]}" = 1 ]
	# An exec id in use.
	ctr tasks exec -d --exec-id e2 "$ID" sleep 1000
	run ctr tasks exec --exec-id e2 "$ID" true
	assert_failure
	assert_output_contains e2
	[ "$(exec_pids "$ID" e2 | wc -l)" = 1 ]
	# A task that has stopped.
	ctr tasks kill -s KILL --all "$ID"
	retry 50 0.1 task_status_is "$ID" STOPPED
	run ctr tasks exec --exec-id e3 "$ID" true
	assert_failure
	assert_output_contains "$ID"
}
