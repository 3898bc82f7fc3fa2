#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-shim: attach sockets (docker's multiplexed framing both ways, the exit frame), and
# terminals.

load ../helpers
load shim

# attach_bg OUT ERR [OPTIONS...]: attach to the init in the background, its stdout in OUT and
# stderr in ERR; ATTACH is its pid. Returns once the client is connected.
attach_bg() {
	local out=$1 err=$2
	shift 2
	"$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" "$@" >"$out" 2>"$err" </dev/null &
	ATTACH=$!
	on_teardown kill "$ATTACH"
	# Connected once the shim's listener has no pending connection: give it a moment.
	sleep 0.2
}

@test "attach: output by stream, then the exit status, then the end" {
	config_args sh -c 'sleep 0.3; echo to-out; echo to-err >&2; exit 7'
	create_task
	attach_bg "$TMP/a.out" "$TMP/a.err"
	attach_bg "$TMP/b.out" "$TMP/b.err"
	a=$ATTACH
	sc Start >/dev/null
	wait_exit "$a" 10
	[ "$EXIT_STATUS" = 7 ]
	wait_exit "$ATTACH" 10
	[ "$EXIT_STATUS" = 7 ]
	# Both clients got everything, each stream in its own frames.
	[ "$(cat "$TMP/a.out")" = to-out ]
	[ "$(cat "$TMP/a.err")" = to-err ]
	[ "$(cat "$TMP/b.out")" = to-out ]
	[ "$(cat "$TMP/b.err")" = to-err ]
	sc Delete >/dev/null
}

@test "attach: a client connecting after the exit gets the exit frame at once" {
	config_args sh -c 'exit 4'
	create_task
	sc Start >/dev/null
	wait_stopped
	run_file "$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock"
	assert_status 4
	[ -z "$output" ]
	sc Delete >/dev/null
}

@test "attach: stdin frames reach the process, the empty frame closes its stdin" {
	config_args sh -c 'cat; echo after-eof'
	create_task
	sc Start >/dev/null
	attach_in() { printf 'hello\nworld\n' | "$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" --stdin --close-stdin; }
	run_file attach_in
	assert_status 0
	[ "$output" = "$(printf 'hello\nworld\nafter-eof')" ]
	[ "$(log_field log | tr '\n' ' ')" = '"hello\n" "world\n" "after-eof\n" ' ]
	sc Delete >/dev/null
}

@test "attach: a client going away never closes stdin" {
	config_args sh -c 'cat; echo closed'
	create_task
	sc Start >/dev/null
	one() { echo first | "$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" --stdin --detach; }
	run_file one
	assert_status 0
	retry 50 0.1 file_has "$LOG" first
	sleep 0.2
	[ "$(status_of)" = RUNNING ]
	two() { echo second | "$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" --stdin --close-stdin; }
	run_file two
	assert_status 0
	# The second client sees only what came after it connected.
	[ "$output" = "$(printf 'second\nclosed')" ]
	[ "$(log_field log | tr '\n' ' ')" = '"first\n" "second\n" "closed\n" ' ]
	sc Delete >/dev/null
}

@test "attach: input sent before start waits for the process" {
	config_args sh -c 'read line; echo "got $line"'
	create_task
	early() { echo early | "$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" --stdin --close-stdin; }
	early >"$TMP/early.out" 2>&1 </dev/null &
	on_teardown kill $!
	pid=$!
	sleep 0.3
	sc Start >/dev/null
	wait_exit "$pid" 10
	[ "$EXIT_STATUS" = 0 ]
	[ "$(cat "$TMP/early.out")" = "got early" ]
	sc Delete >/dev/null
}

@test "attach: a terminal's output is stream 1, in the log as stdout" {
	config_set '.process.terminal = true'
	config_args sh -c 'tty; echo hi >&2'
	create_task
	[ "$(state_field terminal)" = true ]
	attach_bg "$TMP/a.out" "$TMP/a.err"
	sc Start >/dev/null
	wait_exit "$ATTACH" 10
	[ "$EXIT_STATUS" = 0 ]
	grep -q '^/dev/pts/' "$TMP/a.out"
	grep -q 'hi' "$TMP/a.out"
	[ ! -s "$TMP/a.err" ]
	[ "$(jq -r .stream "$LOG" | sort -u)" = stdout ]
	grep -qF '"log":"hi\r\n"' "$LOG"
	sc Delete >/dev/null
}

@test "attach: terminal input, and Resize" {
	config_set '.process.terminal = true'
	config_args sh -c 'read line; echo "got $line"; stty size'
	create_task
	run_file sc Resize width=100 height=40
	assert_status 0
	run_file sc Resize width=0 height=40
	assert_failure
	assert_output_contains "error 22"
	sc Start >/dev/null
	typein() { echo typed | "$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" --stdin; }
	run_file typein
	assert_status 0
	assert_output_contains "got typed" "40 100"
	sc Delete >/dev/null
}

@test "attach: Resize without a terminal is refused" {
	config_args sleep 100
	create_task
	run_file sc Resize width=80 height=24
	assert_failure
	assert_output_contains "error 22" terminal
	sc Delete >/dev/null
}
