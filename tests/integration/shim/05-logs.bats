#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-shim: the json-file log: long lines, rotation, a log that cannot be written.

load ../helpers
load shim

@test "logs: lines longer than 16 KiB are cut into records, the last one ending the line" {
	config_args sh -c 'head -c 40000 /dev/zero | tr "\0" a; echo; echo short'
	create_task
	sc Start >/dev/null
	wait_stopped
	[ "$(wc -l <"$LOG")" = 4 ]
	[ "$(jq -r '.log | length' "$LOG" | tr '\n' ' ')" = "16384 16384 7233 6 " ]
	[ "$(jq -r '.log | endswith("\n")' "$LOG" | tr '\n' ' ')" = "false false true true " ]
	sc Delete >/dev/null
}

@test "logs: rotation keeps max_files files of about max_size" {
	config_args sh -c 'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done'
	create_task log.max_size=2000 log.max_files=3
	sc Start >/dev/null
	wait_stopped
	[ -f "$LOG" ]
	[ -f "$LOG.1" ]
	[ -f "$LOG.2" ]
	[ ! -e "$LOG.3" ]
	# A file is rotated once it reached max_size, so it holds at most one write more.
	for f in "$LOG" "$LOG.1" "$LOG.2"; do
		[ "$(stat -c %s "$f")" -lt 4000 ]
		jq -e . "$f" >/dev/null
	done
	[ "$(stat -c %s "$LOG.1")" -ge 2000 ]
	# Newest last, with no line lost between the files kept.
	[ "$(jq -j .log "$LOG" | tail -n1)" = "line 299" ]
	all=$(cat "$LOG.2" "$LOG.1" "$LOG" | jq -j .log)
	first=$(head -n1 <<<"$all" | awk '{print $2}')
	[ "$(wc -l <<<"$all")" = $((300 - first)) ]
	sc Delete >/dev/null
}

@test "logs: max_files 1 truncates in place" {
	config_args sh -c 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done'
	create_task log.max_size=1000 log.max_files=1
	sc Start >/dev/null
	wait_stopped
	[ ! -e "$LOG.1" ]
	[ "$(stat -c %s "$LOG")" -lt 2000 ]
	[ "$(jq -j .log "$LOG" | tail -n1)" = "line 199" ]
	sc Delete >/dev/null
}

@test "logs: no log path, no log; attach still works" {
	config_args sh -c 'echo only-attach'
	start_shim
	sc Create >/dev/null
	[ "$(state_field log_path)" = "" ]
	"$SHIM_CLIENT" attach "$BUNDLE/init.attach.sock" >"$TMP/a.out" </dev/null &
	a=$!
	on_teardown kill $a
	sleep 0.2
	sc Start >/dev/null
	wait_exit "$a" 10
	[ "$(cat "$TMP/a.out")" = only-attach ]
	[ ! -e "$LOG" ]
	sc Delete >/dev/null
}

@test "logs: the log directory is created; an unwritable log path fails the create" {
	LOG=$TMP/logs/deeper/ctr.log
	config_args echo made
	create_task
	sc Start >/dev/null
	wait_stopped
	[ "$(jq -r .log "$LOG")" = made ]
	sc Delete >/dev/null

	rm -f "$BUNDLE/shim.sock"
	touch "$TMP/file"
	start_shim
	pid=$(shim_pid)
	run_file sc Create log.path="$TMP/file/ctr.log"
	assert_failure
	assert_output_contains "$TMP/file"
	retry 50 0.1 shim_gone "$pid"
	assert_nothing_left
}
