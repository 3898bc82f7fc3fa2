#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-shim: the container's stdio through fifos, stdin and CloseIO, readers that go away.

load ../helpers
load shim

# fifo NAME: a fifo in $TMP; prints its path.
fifo() {
	mkfifo "$TMP/$1"
	echo "$TMP/$1"
}

# read_fifo FIFO FILE: copy FIFO to FILE in the background until its writers are gone.
read_fifo() {
	cat "$1" >"$2" 2>/dev/null &
	on_teardown kill $!
	READER=$!
}

@test "io: stdout and stderr go to their fifos and to the log" {
	config_args sh -c 'echo to-out; echo to-err >&2'
	out=$(fifo out)
	err=$(fifo err)
	read_fifo "$out" "$TMP/out.txt"
	r1=$READER
	read_fifo "$err" "$TMP/err.txt"
	r2=$READER
	create_task io.stdout="$out" io.stderr="$err"
	[ "$(state_field io.stdout)" = "$out" ]
	[ "$(state_field io.stderr)" = "$err" ]
	sc Start >/dev/null
	wait_stopped
	# The shim closes the fifos once the process is drained: the readers see EOF.
	wait_exit "$r1" 5
	wait_exit "$r2" 5
	[ "$(cat "$TMP/out.txt")" = to-out ]
	[ "$(cat "$TMP/err.txt")" = to-err ]
	[ "$(log_field log | tr '\n' ' ')" = '"to-out\n" "to-err\n" ' ] ||
		[ "$(log_field log | tr '\n' ' ')" = '"to-err\n" "to-out\n" ' ]
	sc Delete >/dev/null
}

@test "io: an output fifo without a reader yet keeps the output for a later one" {
	config_args sh -c 'echo early; sleep 100'
	out=$(fifo out)
	create_task io.stdout="$out"
	sc Start >/dev/null
	retry 50 0.1 file_has "$LOG" early
	# The reader comes later and still finds the line in the fifo.
	run_file timeout 5 head -n1 "$out"
	assert_status 0
	[ "$output" = early ]
	sc Kill signal=9 >/dev/null
	wait_stopped
	sc Delete >/dev/null
}

@test "io: a fifo reader that goes away stops that copy, not the shim" {
	config_args sh -c 'i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); sleep 0.05; done'
	out=$(fifo out)
	read_fifo "$out" "$TMP/out.txt"
	create_task io.stdout="$out"
	sc Start >/dev/null
	retry 50 0.1 file_has "$TMP/out.txt" "line 2"
	kill "$READER"
	wait_stopped
	[ "$(state_field exit_status)" = 0 ]
	# The log has every line, the shim still answers.
	[ "$(wc -l <"$LOG")" = 30 ]
	grep -q "line 29" "$LOG"
	pid_alive "$(shim_pid)"
	sc Delete >/dev/null
}

@test "io: the stdin fifo feeds the process, its EOF closes the process's stdin" {
	config_args sh -c 'cat; echo done'
	in=$(fifo in)
	create_task io.stdin="$in"
	sc Start >/dev/null
	printf 'one\ntwo\n' >"$in"
	wait_stopped
	[ "$(state_field exit_status)" = 0 ]
	[ "$(log_field log | tr '\n' ' ')" = '"one\n" "two\n" "done\n" ' ]
	sc Delete >/dev/null
}

@test "io: stdin stays open without a fifo until CloseIO" {
	config_args sh -c 'cat; echo eof'
	create_task
	sc Start >/dev/null
	sleep 0.3
	[ "$(status_of)" = RUNNING ]
	run_file sc CloseIO stdin=true
	assert_status 0
	wait_stopped
	[ "$(log_field log)" = '"eof\n"' ]
	run_file sc CloseIO exec_id=nope stdin=true
	assert_failure
	assert_output_contains "error 2" nope
	sc Delete >/dev/null
}

@test "io: a partial last line is written without a newline" {
	config_args sh -c 'printf "no newline"'
	create_task
	sc Start >/dev/null
	wait_stopped
	[ "$(log_field log)" = '"no newline"' ]
	sc Delete >/dev/null
}

@test "io: a fifo that cannot be opened fails the create and the shim goes" {
	start_shim
	pid=$(shim_pid)
	run_file sc Create io.stdout="$TMP/missing/fifo"
	assert_failure
	assert_output_contains "$TMP/missing/fifo"
	retry 50 0.1 shim_gone "$pid"
	assert_nothing_left
}

@test "io: lots of output reaches the log whole" {
	config_args sh -c 'i=0; while [ $i -lt 20000 ]; do echo "line $i of some output"; i=$((i+1)); done'
	create_task
	sc Start >/dev/null
	wait_stopped
	[ "$(wc -l <"$LOG")" = 20000 ]
	[ "$(jq -j .log "$LOG" | tail -n1)" = "line 19999 of some output" ]
	[ "$(jq -j .log "$LOG" | sed -n 12345p)" = "line 12344 of some output" ]
	sc Delete >/dev/null
}
