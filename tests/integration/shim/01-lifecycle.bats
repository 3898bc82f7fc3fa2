#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-shim: starting the daemon, Create / Start / exit / Delete, what is recorded, and how
# the shim ends.

load ../helpers
load shim

@test "shim: the command returns once the socket serves, the daemon is not its child" {
	# Its output to a pipe: the command's end must not wait for the daemon's. An fd left
	# open by the caller must not reach the daemon.
	exec 7>"$TMP/inherited"
	timeout 10 "$SHIM" --namespace test --id "$ID" --bundle "$BUNDLE" --runtime "$OCIRUN" \
		--runtime-root "$ROOT" </dev/null 2>&1 | timeout 10 cat
	exec 7>&-
	[ -S "$SOCK" ]
	pid=$(shim_pid)
	pid_alive "$pid"
	# Re-parented away from the caller, with a sid of its own, reading /dev/null.
	[ "$(awk '{print $4}' "/proc/$pid/stat")" != $$ ]
	[ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ]
	[ "$(readlink "/proc/$pid/cwd")" = "$BUNDLE" ]
	! ls -l "/proc/$pid/fd" | grep -q "$TMP/inherited" || false
	grep -q 'tag=shim' "$BUNDLE/shim.log"

	run_file sc Connect
	assert_status 0
	[ "$(jq -r .shim_pid "$OUTFILE")" = "$pid" ]
	[ "$(jq -r .task_pid "$OUTFILE")" = 0 ]
	[ -n "$(jq -r .version "$OUTFILE")" ]

	# Delete before Create: nothing to delete, the shim goes.
	run_file sc Delete
	assert_status 0
	retry 50 0.1 shim_gone "$pid"
}

@test "shim: bad command lines are refused" {
	run_file "$SHIM" --namespace test --id "$ID" --bundle "$BUNDLE" --runtime "$OCIRUN"
	assert_failure
	assert_output_contains --runtime-root
	run_file "$SHIM" --namespace test --id "$ID" --bundle "$TMP/nope" --runtime "$OCIRUN" --runtime-root "$ROOT"
	assert_failure
	assert_output_contains "$TMP/nope"
	run_file "$SHIM" --namespace test --id "$ID" --bundle "$BUNDLE" --runtime no-such-runtime --runtime-root "$ROOT"
	assert_failure
	assert_output_contains no-such-runtime
	[ ! -e "$SOCK" ]
}

@test "shim: a second shim on a served bundle fails, the first keeps serving" {
	start_shim
	pid=$(shim_pid)
	run_file start_shim
	assert_failure
	assert_output_contains "$SOCK"
	pid_alive "$pid"
	[ "$(shim_pid)" = "$pid" ]
	run_file sc Connect
	assert_status 0
	[ "$(jq -r .shim_pid "$OUTFILE")" = "$pid" ]
	sc Delete
	retry 50 0.1 shim_gone "$pid"
}

@test "shim: create, start, output in the json-file log, exit recorded, delete ends the shim" {
	config_args sh -c 'echo hello; echo oops >&2; exit 3'
	create_task
	events_start
	[ "$(status_of)" = CREATED ]
	[ "$(state_field pid)" = "$TASK_PID" ]
	[ "$(state_field log_path)" = "$LOG" ]
	[ "$(state_field attach_socket)" = "$BUNDLE/init.attach.sock" ]
	[ -S "$BUNDLE/init.attach.sock" ]
	[ "$(container_status)" = created ]
	[ "$(sc Connect | jq -r .task_pid)" = "$TASK_PID" ]

	run_file sc Start
	assert_status 0
	[ "$(jq -r .pid "$OUTFILE")" = "$TASK_PID" ]
	wait_stopped
	[ "$(state_field exit_status)" = 3 ]
	retry 20 0.1 has_event start
	retry 20 0.1 has_event exit
	ev=$(grep '"exit"' "$EVENTS")
	[ "$(jq -r .exit_status <<<"$ev")" = 3 ]
	[ "$(jq -r .pid <<<"$ev")" = "$TASK_PID" ]

	# The record on disk, written before anyone was told.
	[ "$(jq -r .exit_status "$BUNDLE/exit/init")" = 3 ]
	[ "$(jq -r .pid "$BUNDLE/exit/init")" = "$TASK_PID" ]
	[ "$(jq -r .exited_at "$BUNDLE/exit/init")" = "$(jq -r .exited_at <<<"$ev")" ]

	# docker's json-file: one object a line, log / stream / time in this order.
	[ "$(wc -l <"$LOG")" = 2 ]
	grep -qxF '{"log":"hello\n","stream":"stdout","time":"'"$(jq -r 'select(.stream=="stdout").time' "$LOG")"'"}' "$LOG"
	[ "$(jq -r 'select(.stream=="stderr").log' "$LOG")" = oops ]
	jq -r .time "$LOG" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'

	pid=$(shim_pid)
	run_file sc Delete
	assert_status 0
	[ "$(jq -r .exit_status "$OUTFILE")" = 3 ]
	[ "$(jq -r .pid "$OUTFILE")" = "$TASK_PID" ]
	[ "$(jq -r .exited_at "$OUTFILE")" -gt 0 ]
	retry 50 0.1 shim_gone "$pid"
	[ ! -e "$BUNDLE/init.attach.sock" ]
	[ ! -e "$BUNDLE/shim.pid" ]
	[ -z "$(ocirun list -q)" ]
	assert_nothing_left
}

@test "shim: an exit while no client is connected is found through List" {
	config_args sh -c 'sleep 0.3; exit 5'
	create_task
	sc Start >/dev/null
	# Nobody connected while it exits.
	sleep 1
	[ -f "$BUNDLE/exit/init" ]
	run_file sc List
	assert_status 0
	[ "$(jq '.processes | length' "$OUTFILE")" = 1 ]
	[ "$(jq -r '.processes[0].status' "$OUTFILE")" = STOPPED ]
	[ "$(jq -r '.processes[0].exit_status' "$OUTFILE")" = 5 ]
	[ "$(jq -r '.processes[0].exited_at' "$OUTFILE")" -gt 0 ]
	[ "$(jq -r '.processes[0].pid' "$OUTFILE")" = "$TASK_PID" ]
	sc Delete >/dev/null
}

@test "shim: kill, and statuses as a shell reports them" {
	config_args sleep 100
	create_task
	sc Start >/dev/null
	[ "$(status_of)" = RUNNING ]
	# Wrong state and bad signal.
	run_file sc Delete
	assert_failure
	assert_output_contains "error 16" running
	run_file sc Kill signal=0
	assert_failure
	assert_output_contains "error 22" signal
	run_file sc Kill signal=9
	assert_status 0
	wait_stopped
	[ "$(state_field exit_status)" = 137 ]
	run_file sc Kill signal=9
	assert_failure
	assert_output_contains "error 16"
	sc Delete >/dev/null
	assert_nothing_left
}

@test "shim: a created task that never started can be deleted" {
	config_args sleep 100
	create_task
	pid=$(shim_pid)
	run_file sc Delete
	assert_status 0
	retry 50 0.1 shim_gone "$pid"
	retry 50 0.1 pid_gone "$TASK_PID"
	assert_nothing_left
}

@test "shim: SIGTERM leaves the shim and the container running" {
	config_args sleep 100
	create_task
	sc Start >/dev/null
	pid=$(shim_pid)
	kill -TERM "$pid"
	kill -INT "$pid"
	kill -HUP "$pid"
	sleep 0.3
	pid_alive "$pid"
	pid_alive "$TASK_PID"
	[ "$(status_of)" = RUNNING ]
	grep -q 'ignored' "$BUNDLE/shim.log"
	# The init of a pid namespace ignores SIGTERM without a handler: SIGKILL it.
	sc Kill signal=9 >/dev/null
	wait_stopped
	[ "$(state_field exit_status)" = 137 ]
	sc Delete >/dev/null
	retry 50 0.1 shim_gone "$pid"
}

@test "shim: a failing runtime returns its error and leaves no shim behind" {
	SHIM_RUNTIME=/bin/false start_shim
	pid=$(shim_pid)
	run_file sc Create
	assert_failure
	assert_output_contains "false create" "exited with status 1"
	retry 50 0.1 shim_gone "$pid"
	assert_nothing_left
}

@test "shim: a create the runtime refuses names the problem and leaves nothing" {
	config_set '.process.args = ["/no/such/binary"] | .process.cwd = "relative"'
	start_shim
	pid=$(shim_pid)
	run_file sc Create
	assert_failure
	assert_output_contains "ocirun create:"
	retry 50 0.1 shim_gone "$pid"
	assert_nothing_left
}

@test "shim: create checks the request and refuses a second create" {
	start_shim
	pid=$(shim_pid)
	run_file sc Start
	assert_failure
	assert_output_contains "error 2" "not created"
	create_task_again() { sc Create log.path="$LOG"; }
	run_file create_task_again
	assert_status 0
	run_file sc Create
	assert_failure
	assert_output_contains "error 17" "already exists"
	pid_alive "$pid"
	sc Delete >/dev/null
	retry 50 0.1 shim_gone "$pid"
}

@test "shim: create with another id fails and the shim goes" {
	start_shim
	pid=$(shim_pid)
	run_file sc Create id=other
	assert_failure
	assert_output_contains "error 22" other
	retry 50 0.1 shim_gone "$pid"
}

@test "shim: pause, resume, pids, stats, update" {
	config_args sleep 100
	create_task
	events_start
	sc Start >/dev/null
	run_file sc Resume
	assert_failure
	assert_output_contains "error 16"
	sc Pause >/dev/null
	[ "$(status_of)" = PAUSED ]
	[ "$(container_status)" = paused ]
	sc Resume >/dev/null
	[ "$(status_of)" = RUNNING ]
	retry 20 0.1 has_event paused
	retry 20 0.1 has_event resumed

	run_file sc Pids
	assert_status 0
	jq -e --argjson p "$TASK_PID" '.pids | index($p)' "$OUTFILE" >/dev/null

	run_file sc Stats
	assert_status 0
	jq -r .data "$OUTFILE" | jq -e '.type == "stats"' >/dev/null

	echo '{"pids": {"limit": 77}}' >"$TMP/res.json"
	run_file sc Update resources=@"$TMP/res.json"
	assert_status 0
	run_file sc Update resources='not json'
	assert_failure
	assert_output_contains "error 22" resources

	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}
