#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-shim: processes exec'd into the container.

load ../helpers
load shim

# running_task: a started task running `sleep 100`.
running_task() {
	config_args sleep 100
	create_task
	sc Start >/dev/null
}

@test "exec: define, attach, start, exit recorded and reported, delete" {
	running_task
	events_start
	process_spec "$TMP/p.json" sh -c 'echo from-exec; echo exec-err >&2; exit 9'
	run_file sc Exec exec_id=e1 spec=@"$TMP/p.json"
	assert_status 0
	[ "$(jq -r .attach_socket "$OUTFILE")" = "$BUNDLE/e1.attach.sock" ]
	[ -S "$BUNDLE/e1.attach.sock" ]
	[ -f "$BUNDLE/e1.process.json" ]
	[ "$(status_of e1)" = CREATED ]

	"$SHIM_CLIENT" attach "$BUNDLE/e1.attach.sock" >"$TMP/e.out" 2>"$TMP/e.err" </dev/null &
	a=$!
	on_teardown kill $a
	sleep 0.2
	run_file sc Start exec_id=e1
	assert_status 0
	pid=$(jq -r .pid "$OUTFILE")
	[ "$pid" -gt 0 ]
	wait_exit "$a" 10
	[ "$EXIT_STATUS" = 9 ]
	[ "$(cat "$TMP/e.out")" = from-exec ]
	[ "$(cat "$TMP/e.err")" = exec-err ]
	wait_stopped e1
	[ "$(state_field e1 exit_status)" = 9 ]
	[ "$(state_field e1 pid)" = "$pid" ]
	[ "$(jq -r .exit_status "$BUNDLE/exit/e1")" = 9 ]
	retry 20 0.1 has_event exec-started e1
	retry 20 0.1 has_event exit e1
	# An exec's output is not the container's log.
	! grep -q from-exec "$LOG" || false

	run_file sc List
	[ "$(jq '.processes | length' "$OUTFILE")" = 2 ]
	[ "$(jq -r '.processes[0].exec_id' "$OUTFILE")" = "" ]
	[ "$(jq -r '.processes[1].exec_id' "$OUTFILE")" = e1 ]
	[ "$(status_of)" = RUNNING ]

	run_file sc Delete exec_id=e1
	assert_status 0
	[ "$(jq -r .exit_status "$OUTFILE")" = 9 ]
	[ ! -e "$BUNDLE/e1.attach.sock" ]
	[ ! -e "$BUNDLE/e1.process.json" ]
	[ ! -e "$BUNDLE/exit/e1" ]
	run_file sc State exec_id=e1
	assert_failure
	assert_output_contains "error 2" e1
	# The id can be used again.
	run_file sc Exec exec_id=e1 spec=@"$TMP/p.json"
	assert_status 0

	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}

@test "exec: ids are checked, duplicates and unknown ids refused" {
	running_task
	process_spec "$TMP/p.json" true
	for bad in '' '-x' 'a/b' '../x' 'a b' "$(printf 'x%.0s' {1..77})"; do
		run_file sc Exec exec_id="$bad" spec=@"$TMP/p.json"
		assert_failure
		assert_output_contains "error 22" "exec id"
	done
	run_file sc Exec exec_id=ok.1_-x spec=@"$TMP/p.json"
	assert_status 0
	run_file sc Exec exec_id=ok.1_-x spec=@"$TMP/p.json"
	assert_failure
	assert_output_contains "error 17" ok.1_-x
	for m in Start State Kill Delete CloseIO Resize; do
		run_file sc "$m" exec_id=nope
		assert_failure
		assert_output_contains "error 2" nope
	done
	run_file sc Exec exec_id=bad-spec spec='{not json'
	assert_failure
	assert_output_contains "error 22" spec
	[ ! -e "$BUNDLE/bad-spec.attach.sock" ]
	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}

@test "exec: a start the runtime refuses returns its error and forgets the exec" {
	running_task
	process_spec "$TMP/p.json" /no/such/binary
	sc Exec exec_id=bad spec=@"$TMP/p.json" >/dev/null
	run_file sc Start exec_id=bad
	assert_failure
	assert_output_contains "ocirun exec:"
	run_file sc State exec_id=bad
	assert_failure
	assert_output_contains "error 2"
	[ ! -e "$BUNDLE/bad.attach.sock" ]
	[ "$(status_of)" = RUNNING ]
	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}

@test "exec: kill, stdin, and a running exec cannot be deleted" {
	running_task
	process_spec "$TMP/p.json" sh -c 'read x; echo "read $x"; sleep 100'
	sc Exec exec_id=k spec=@"$TMP/p.json" >/dev/null
	run_file sc Kill exec_id=k signal=9
	assert_failure
	assert_output_contains "error 16"
	sc Start exec_id=k >/dev/null
	feed() { echo hi | "$SHIM_CLIENT" attach "$BUNDLE/k.attach.sock" --stdin --detach; }
	run_file feed
	run_file sc Delete exec_id=k
	assert_failure
	assert_output_contains "error 16" running
	run_file sc Kill exec_id=k signal=9
	assert_status 0
	wait_stopped k
	[ "$(state_field k exit_status)" = 137 ]
	[ "$(status_of)" = RUNNING ]
	sc Delete exec_id=k >/dev/null
	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}

@test "exec: with a terminal" {
	running_task
	process_spec "$TMP/p.json" sh -c 'tty; exit 2'
	run_file sc Exec exec_id=t spec=@"$TMP/p.json" io.terminal=true
	assert_status 0
	[ "$(state_field t terminal)" = true ]
	[ "$(jq -r .terminal "$BUNDLE/t.process.json")" = true ]
	"$SHIM_CLIENT" attach "$BUNDLE/t.attach.sock" >"$TMP/t.out" 2>&1 </dev/null &
	a=$!
	on_teardown kill $a
	sleep 0.2
	sc Start exec_id=t >/dev/null
	wait_exit "$a" 10
	[ "$EXIT_STATUS" = 2 ]
	grep -q '^/dev/pts/' "$TMP/t.out"
	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}

@test "exec: refused once the task stopped" {
	config_args true
	create_task
	sc Start >/dev/null
	wait_stopped
	process_spec "$TMP/p.json" true
	run_file sc Exec exec_id=late spec=@"$TMP/p.json"
	assert_failure
	assert_output_contains "error 16" stopped
	sc Delete >/dev/null
}
