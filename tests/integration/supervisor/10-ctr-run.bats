#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-ctr run, end to end with real containers: attached stdio (stdout and stderr apart,
# stdin piped in, the exit status passed on), -d and -i, --rm, the process options
# (--env, --cwd, --user, --mount), -t, the json-file log of a task, and runs that fail.

load ../helpers
load supervisor-helpers

# ctr_cmdline ARGS...: this stack's berth-ctr command line, quoted for `script -c`.
ctr_cmdline() {
	printf '%q ' "$CTR" --address "$SOCK" "$@"
}

# in_log ID STR: the json-file log of task ID has a record whose log is STR (a line).
in_log() {
	local log
	log=$(task_json "$1" | jq -r .log_path)
	[ -f "$log" ] && jq -e --arg l "$2"$'\n' 'select(.log == $l)' "$log" >/dev/null
}

@test "run: stdout and stderr apart, stdin piped in, the exit status passed on" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	local rc=0
	printf 'one\ntwo\n' | ctr run --rootfs "$TMP/rootfs" "$ID" \
		sh -c 'cat; echo to-stderr >&2; exit 3' >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" = 3 ]
	[ "$(cat "$TMP/out")" = $'one\ntwo' ]
	[ "$(cat "$TMP/err")" = to-stderr ]
	# The task went with the exit; the container stays (no --rm).
	[ -z "$(task_json "$ID")" ]
	[ "$(ctr containers ls -q)" = "$ID" ]
	ctr containers rm "$ID"

	# stdin at EOF: the process reads EOF and ends.
	run ctr run --rm --rootfs "$TMP/rootfs" "$ID" sh -c 'cat; echo done' </dev/null
	assert_status 0
	[ "$output" = done ]
}

@test "run: signals to berth-ctr go to the process; one killed exits 128 + the signal" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	"$CTR" --address "$SOCK" run --rm --rootfs "$TMP/rootfs" "$ID" sh -c \
		'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done' \
		>"$TMP/out" 2>&1 </dev/null 3>&- &
	local pid=$!
	retry 50 0.1 file_has "$TMP/out" ready
	kill -TERM "$pid"
	wait_exit "$pid" 10
	[ "$EXIT_STATUS" = 42 ]
	[ "$(cat "$TMP/out")" = $'ready\ngot-term' ]

	# The init of a pid namespace cannot be killed from inside: SIGKILL from outside.
	"$CTR" --address "$SOCK" run --rm --rootfs "$TMP/rootfs" "$ID" sh -c 'echo ready; sleep 100' \
		>"$TMP/out" 2>&1 </dev/null 3>&- &
	pid=$!
	retry 50 0.1 file_has "$TMP/out" ready
	ctr tasks kill -s KILL "$ID"
	wait_exit "$pid" 10
	[ "$EXIT_STATUS" = 137 ]
	[ -z "$(ctr containers ls -q)" ]
}

@test "run --rm: nothing is left, whatever the exit status" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	run ctr run --rm --rootfs "$TMP/rootfs" "$ID" sh -c 'echo bye; exit 2'
	assert_status 2
	[ "$output" = bye ]
	[ -z "$(ctr containers ls -q)" ]
	[ -z "$(ctr tasks ls -q)" ]
	[ -z "$(shim_pids)" ]
	[ ! -e "$SSTATE/tasks/default/$ID" ]
	[ ! -e "$SSTATE/runtime/default/$ID" ]
	[ ! -e "$SROOT/logs/default/$ID" ]
	# berth-ctr's fifo directories (named after the id) are gone too.
	[ -z "$(find /run/berth/ctr-fifo "${XDG_RUNTIME_DIR:-/nonexistent}" /tmp -maxdepth 1 \
		-name "$ID*" 2>/dev/null)" ]

	run ctr run -d --rm --rootfs "$TMP/rootfs" "$ID" true
	assert_failure
	assert_output_contains "--rm" "--detach"
	[ -z "$(ctr containers ls -q)" ]
}

@test "run -d: returns once started; the process reads EOF, or keeps its stdin with -i" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	local b=${ID}b
	run ctr run -d --rootfs "$TMP/rootfs" "$ID" sh -c 'echo started; cat; echo eof-read; sleep 100'
	assert_status 0
	[ -z "$output" ]
	[ "$(task_status "$ID")" = RUNNING ]
	pid_alive "$(task_json "$ID" | jq -r .pid)"
	retry 50 0.1 in_log "$ID" eof-read

	ctr run -d -i --rootfs "$TMP/rootfs" "$b" sh -c 'echo started; cat; echo eof-read'
	retry 50 0.1 in_log "$b" started
	sleep 0.3
	[ "$(task_status "$b")" = RUNNING ]
	run in_log "$b" eof-read
	assert_failure
	# Closing its stdin through an attach client ends it.
	run ctr tasks attach "$b" </dev/null
	assert_status 0
	retry 50 0.1 in_log "$b" eof-read
	[ "$(task_status "$b")" = STOPPED ]
}

@test "run: the json-file log has each line with its stream and an RFC 3339 time in ns" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr run -d --rootfs "$TMP/rootfs" "$ID" sh -c 'echo out-1; echo err-1 >&2; echo out-2; exit 0'
	retry 50 0.1 task_status_is "$ID" STOPPED
	local log
	log=$(task_json "$ID" | jq -r .log_path)
	[ "$log" = "$SROOT/logs/default/$ID/$ID-json.log" ]
	cat "$log"
	[ "$(jq -j 'select(.stream == "stdout") | .log' "$log")" = $'out-1\nout-2' ]
	[ "$(jq -j 'select(.stream == "stderr") | .log' "$log")" = err-1 ]
	[ "$(wc -l <"$log")" = 3 ]
	# RFC 3339 with nanoseconds, in UTC, and about now.
	local t now
	now=$(date -u +%s)
	for t in $(jq -r .time "$log"); do
		[[ "$t" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}Z$ ]]
		local s
		s=$(date -u -d "$t" +%s)
		[ $((now - s)) -lt 60 ]
		[ $((s - now)) -lt 60 ]
	done
	ctr tasks rm "$ID"
	ctr containers rm "$ID"
	[ ! -e "$log" ]
}

@test "run: --env, --cwd and --user reach the process" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	run ctr run --rm --rootfs "$TMP/rootfs" --env FOO=bar -e 'SP=a b' --cwd /tmp \
		--user 1000:1001 "$ID" sh -c 'echo "$FOO|$SP|$(pwd)|$(id -u):$(id -g)"; echo "$PATH"'
	assert_status 0
	[ "${lines[0]}" = "bar|a b|/tmp|1000:1001" ]
	# --env adds to the default environment rather than replacing it.
	[[ "${lines[1]}" == */bin* ]]

	# A user name is looked up in the rootfs.
	echo 'app:x:1234:4321::/home/app:/bin/sh' >>"$TMP/rootfs/etc/passwd"
	run ctr run --rm --rootfs "$TMP/rootfs" --user app "$ID" sh -c 'echo $(id -u):$(id -g)'
	assert_status 0
	[ "$output" = 1234:4321 ]

	run ctr run --rm --rootfs "$TMP/rootfs" --cwd relative "$ID" true
	assert_failure
	assert_output_contains relative
	[ -z "$(ctr containers ls -q)" ]
}

@test "run: --mount binds a host directory, and a read-only one refuses writes" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	mkdir "$TMP/rw" "$TMP/ro"
	echo from-host >"$TMP/ro/f"
	run ctr run --rm --rootfs "$TMP/rootfs" \
		--mount "type=bind,src=$TMP/rw,dst=/rw,options=rbind:rw" \
		--mount "src=$TMP/ro,dst=/ro,options=rbind:ro" \
		"$ID" sh -c 'echo from-container >/rw/g && cat /ro/f && echo x >/ro/h; echo "rc=$?"'
	assert_status 0
	assert_output_contains from-host "read-only file system" rc=1
	[ "$(cat "$TMP/rw/g")" = from-container ]
	[ ! -e "$TMP/ro/h" ]
	# The rootfs itself never saw the mounts' files.
	[ ! -e "$TMP/rootfs/rw/g" ]

	run ctr run --rm --rootfs "$TMP/rootfs" --mount "src=$TMP/nonexistent,dst=/x" "$ID" true
	assert_failure
	assert_output_contains nonexistent
	[ -z "$(ctr containers ls -q)" ]
}

@test "run -t: the process gets a terminal, its exit status still passed on" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	# script gives berth-ctr a terminal of its own.
	run timeout 30 script -qec "$(ctr_cmdline run -t --rm --rootfs "$TMP/rootfs" "$ID" \
		sh -c 'tty; echo "term=$TERM"; echo on-stderr >&2; exit 4')" /dev/null </dev/null
	assert_status 4
	[[ "$output" =~ /dev/pts/[0-9]+ ]]
	assert_output_contains term=xterm on-stderr
	[ -z "$(ctr containers ls -q)" ]

	# Without -t, no terminal.
	run ctr run --rm --rootfs "$TMP/rootfs" "$ID" tty
	assert_status 1
	[ "$output" = "not a tty" ]
}

@test "containers create, then tasks start: attached, -d -i, and -t giving the spec a terminal" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	ctr containers create --rootfs "$TMP/rootfs" "$ID" sh -c 'read l; echo "got $l"; exit 6'
	run ctr tasks start "$ID" < <(echo one)
	assert_status 6
	[ "$output" = "got one" ]
	[ -z "$(task_json "$ID")" ]

	# Detached: EOF at once without -i; with -i, input from an attach later.
	ctr tasks start -d "$ID"
	run ctr tasks wait "$ID"
	[ "$output" = 6 ]
	ctr tasks rm "$ID"
	ctr tasks start -d -i "$ID"
	sleep 0.3
	[ "$(task_status "$ID")" = RUNNING ]
	run ctr tasks attach "$ID" < <(echo two)
	assert_status 6
	[ "$output" = "got two" ]
	ctr tasks rm "$ID"

	# The supervisor gives a task the terminal its spec asks for: -t sets it there.
	[ "$(ctr containers info --spec "$ID" | jq -r .process.terminal)" = false ]
	run timeout 30 script -qec "$(ctr_cmdline tasks start -t "$ID")" /dev/null \
		< <(printf 'three\n')
	assert_status 6
	assert_output_contains "got three"
	ctr containers info --spec "$ID" | jq -e '.process.terminal == true and
		(.process.env | index("TERM=xterm"))'
	ctr containers rm "$ID"
}

@test "run: a process that cannot start leaves no container behind" {
	start_supervisor
	make_rootfs "$TMP/rootfs"
	run ctr run --rootfs "$TMP/rootfs" "$ID" /no/such/binary
	assert_failure
	assert_output_contains /no/such/binary
	[ -z "$(ctr containers ls -q)" ]
	[ -z "$(ctr tasks ls -q)" ]
	[ -z "$(shim_pids)" ]

	run ctr run --rootfs "$TMP/no-rootfs" "$ID" true
	assert_failure
	assert_output_contains "$TMP/no-rootfs"
	[ -z "$(ctr containers ls -q)" ]
}
