#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-ctr tasks attach, end to end: input to a process started with -d -i, detaching and
# attaching again, the exit status at the end, EOF and --no-stdin, several clients at once,
# an exec's stdio, and a terminal with its detach keys.

load ../helpers
load supervisor-helpers

ctr_cmdline() {
	printf '%q ' "$CTR" --address "$SOCK" "$@"
}

# An echo loop: each line read comes back on stdout and stderr; "quit" exits 7, EOF 8.
ECHO_LOOP='while read l; do echo "out:$l"; echo "err:$l" >&2; [ "$l" = quit ] && exit 7; done; exit 8'

@test "attach: input and output of a -d -i container; detach, attach again, the exit status" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d -i --rootfs "$TMP/rootfs" "$ID" sh -c "$ECHO_LOOP"
	mkfifo "$TMP/in"
	"$CTR" --address "$SOCK" tasks attach "$ID" <"$TMP/in" >"$TMP/a1.out" 2>"$TMP/a1.err" 3>&- &
	local att=$!
	exec 4>"$TMP/in"
	echo one >&4
	retry 50 0.1 file_has "$TMP/a1.out" out:one
	retry 50 0.1 file_has "$TMP/a1.err" err:one
	# SIGINT detaches, exit status 0, and leaves the process and its stdin alone.
	kill -INT "$att"
	wait_exit "$att" 10
	exec 4>&-
	[ "$EXIT_STATUS" = 0 ]
	[ "$(cat "$TMP/a1.out")" = out:one ]
	[ "$(cat "$TMP/a1.err")" = err:one ]
	sleep 0.2
	[ "$(task_status "$ID")" = RUNNING ]

	local rc=0
	printf 'two\nquit\n' | ctr tasks attach "$ID" >"$TMP/a2.out" 2>"$TMP/a2.err" || rc=$?
	[ "$rc" = 7 ]
	[ "$(cat "$TMP/a2.out")" = $'out:two\nout:quit' ]
	[ "$(cat "$TMP/a2.err")" = $'err:two\nerr:quit' ]
	[ "$(task_status "$ID")" = STOPPED ]
	[ "$(task_json "$ID" | jq -r .exit_status)" = 7 ]
	# Once it has exited, an attach returns its status at once.
	run ctr tasks attach "$ID" </dev/null
	assert_status 7
	[ -z "$output" ]
	# Everything went to the log too, the lines sent while nobody was attached included.
	local log
	log=$(task_json "$ID" | jq -r .log_path)
	[ "$(jq -j 'select(.stream == "stdout") | .log' "$log")" = $'out:one\nout:two\nout:quit' ]
}

@test "attach: EOF on stdin closes the process's stdin, --no-stdin does not; clients share output" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d -i --rootfs "$TMP/rootfs" "$ID" sh -c "$ECHO_LOOP"
	"$CTR" --address "$SOCK" tasks attach --no-stdin "$ID" </dev/null >"$TMP/watch" 2>&1 3>&- &
	local watcher=$!
	sleep 0.3
	# stdin at EOF, but --no-stdin: nothing happens to the process.
	[ "$(task_status "$ID")" = RUNNING ]
	pid_alive "$watcher"

	run ctr tasks attach "$ID" < <(echo hello)
	assert_status 8
	assert_output_contains out:hello err:hello
	# The other client saw the same output and the same exit.
	wait_exit "$watcher" 10
	[ "$EXIT_STATUS" = 8 ]
	[ "$(cat "$TMP/watch")" = $'out:hello\nerr:hello' ] ||
		[ "$(cat "$TMP/watch")" = $'err:hello\nout:hello' ]
	[ "$(task_status "$ID")" = STOPPED ]
}

@test "attach: to the process a task got killed, and to an exec" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d -i --rootfs "$TMP/rootfs" "$ID" sh -c "$ECHO_LOOP"
	ctr tasks exec -d -i --exec-id e1 "$ID" sh -c 'read l; echo "exec got $l"; exit 5'
	run ctr tasks attach --exec-id e1 "$ID" < <(echo hi)
	assert_status 5
	[ "$output" = "exec got hi" ]
	run ctr tasks wait --exec-id e1 "$ID"
	[ "$output" = 5 ]

	"$CTR" --address "$SOCK" tasks attach --no-stdin "$ID" >"$TMP/out" 2>&1 </dev/null 3>&- &
	local att=$!
	sleep 0.3
	pid_alive "$att"
	ctr tasks kill -s KILL "$ID"
	wait_exit "$att" 10
	[ "$EXIT_STATUS" = 137 ]
	[ ! -s "$TMP/out" ]
}

@test "attach: errors name the task" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	run ctr tasks attach nope
	assert_failure
	assert_output_contains nope
	ctr containers create --rootfs "$TMP/rootfs" "$ID" true
	run ctr tasks attach "$ID"
	assert_failure
	assert_output_contains "$ID"
	ctr run -d --rootfs "$TMP/rootfs" "${ID}b" sleep 1000
	run ctr tasks attach --exec-id nope "${ID}b"
	assert_failure
	assert_output_contains nope
}

@test "attach: a terminal: input, output, Ctrl-P Ctrl-Q detaches, the exit status" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d -i -t --rootfs "$TMP/rootfs" "$ID" sh
	[ "$(task_json "$ID" | jq -r .terminal)" = true ]

	# script gives the attach a terminal; its input comes through a fifo, so the detach
	# keys are sent (again) until the attach has its terminal in raw mode and takes them.
	mkfifo "$TMP/in"
	script -qec "$(ctr_cmdline tasks attach "$ID")" /dev/null <"$TMP/in" >"$TMP/a1" 2>&1 3>&- &
	local att=$! i
	exec 4>"$TMP/in"
	for ((i = 0; i < 20; i++)); do
		printf '\020\021' >&4
		sleep 0.25
		pid_alive "$att" || break
	done
	wait_exit "$att" 10
	exec 4>&-
	[ "$EXIT_STATUS" = 0 ]
	[ "$(task_status "$ID")" = RUNNING ]

	run timeout 30 script -qec "$(ctr_cmdline tasks attach "$ID")" /dev/null \
		< <(printf 'echo "hi-$((40 + 2))"; tty\nexit 5\n')
	assert_status 5
	assert_output_contains hi-42
	[[ "$output" =~ /dev/pts/[0-9]+ ]]
	[ "$(task_status "$ID")" = STOPPED ]
}
