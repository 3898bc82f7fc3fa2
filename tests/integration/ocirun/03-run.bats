#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# `run`: create + start + wait in one call, stdio passed through, exit status returned.

load ../helpers


@test "run: stdout and stderr come through" {
	make_bundle
	config_args sh -c 'echo hello; echo oops >&2'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = hello ] || [ "${lines[1]}" = hello ]
	assert_output_contains oops
	[ "${#lines[@]}" = 2 ]
}

@test "run: the container's exit status is ocirun's" {
	make_bundle
	config_args sh -c 'exit 42'
	run_file run_fg
	assert_status 42
	[ -z "$output" ]
}

@test "run: exit status 0 of true, 1 of false" {
	make_bundle
	config_args true
	run_file run_fg
	assert_status 0
	config_args false
	run_file run_fg
	assert_status 1
}

@test "run: stdin passes through" {
	make_bundle
	config_args cat
	pipe_hi() { echo hi | run_fg; }
	run_file pipe_hi
	assert_status 0
	[ "$output" = hi ]
}

@test "run: the process is pid 1 of its own pid namespace" {
	make_bundle
	config_args sh -c 'echo $$'
	run_file run_fg
	assert_status 0
	[ "$output" = 1 ]
}

@test "run: /proc/1/cmdline is the configured process" {
	make_bundle
	config_args cat /proc/1/cmdline
	run_fg >"$TMP/cmdline" </dev/null
	[ "$(tr '\0' ' ' <"$TMP/cmdline")" = "cat /proc/1/cmdline " ]
}

@test "run: hostname is the configured one" {
	make_bundle
	config_set '.hostname = "box-one"'
	config_args hostname
	run_file run_fg
	assert_status 0
	[ "$output" = box-one ]
}

@test "run: the root is the bundle's rootfs" {
	make_bundle
	echo "inside-$ID" >"$BUNDLE/rootfs/marker"
	echo host-only >"$TMP/host-marker"
	config_args sh -c "cat /marker; ls /bin/busybox; test -e '$TMP/host-marker' && echo host-visible; cat /etc/hostname 2>/dev/null; true"
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = "inside-$ID" ]
	[ "${lines[1]}" = /bin/busybox ]
	[ "${#lines[@]}" = 2 ] || fail "host files visible inside: $output"
}

@test "run: SIGTERM to ocirun is forwarded to the container" {
	make_bundle
	config_args sh -c 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done'
	"$OCIRUN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" >"$TMP/out" 2>&1 </dev/null &
	local pid=$!
	on_teardown kill -KILL "$pid"
	retry 50 0.1 file_has "$TMP/out" ready
	kill -TERM "$pid"
	wait_exit "$pid"
	[ "$EXIT_STATUS" = 7 ] || fail "status $EXIT_STATUS, output: $(cat "$TMP/out")"
	assert_nothing_left
}

@test "run: SIGINT and SIGHUP are forwarded too" {
	# bash starts background jobs with SIGINT ignored (no job control). runc forwards it
	# anyway: it installs its own handlers. An ignored signal is dropped before signalfd
	# or a blocked mask can see it, so a runtime must reset SIG_IGN for what it forwards.
	make_bundle
	config_args sh -c 'trap "exit 3" INT; trap "exit 4" HUP; echo ready; while :; do sleep 0.1; done'
	local sig want
	for sig in INT HUP; do
		"$OCIRUN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" >"$TMP/out" 2>&1 </dev/null &
		local pid=$!
		on_teardown kill -KILL "$pid"
		retry 50 0.1 file_has "$TMP/out" ready
		kill -"$sig" "$pid"
		wait_exit "$pid"
		want=3
		[ "$sig" = INT ] || want=4
		[ "$EXIT_STATUS" = "$want" ] || fail "$sig: status $EXIT_STATUS, output: $(cat "$TMP/out")"
		: >"$TMP/out"
	done
}

@test "run: a container killed by a signal gives 128+signal" {
	make_bundle
	config_args sh -c 'echo ready; exec sleep 100'
	"$OCIRUN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" >"$TMP/out" 2>&1 </dev/null &
	local pid=$!
	on_teardown kill -KILL "$pid"
	retry 50 0.1 file_has "$TMP/out" ready
	retry 50 0.1 status_is running
	ocirun kill "$ID" KILL
	wait_exit "$pid"
	[ "$EXIT_STATUS" = 137 ] || fail "status $EXIT_STATUS, output: $(cat "$TMP/out")"
}

@test "run: the container is removed when it ends" {
	make_bundle
	config_args true
	run_file run_fg
	assert_status 0
	run ocirun list -q
	assert_status 0
	! grep -qx "$ID" <<<"$output" || false
	assert_nothing_left
}

@test "run: the same id can be run again after it ended" {
	make_bundle
	config_args echo again
	run_file run_fg
	assert_status 0
	run_file run_fg
	assert_status 0
	[ "$output" = again ]
}

@test "run --detach returns at once with the container running" {
	make_bundle
	config_args sleep 100
	local t0=$SECONDS
	run_detached "$ID"
	assert_status 0
	[ $((SECONDS - t0)) -lt 10 ]
	[ "$(container_status)" = running ]
	local pid
	pid=$(container_pid)
	pid_alive "$pid"
	ocirun kill "$ID" KILL
	retry 50 0.1 status_is stopped
	ocirun delete "$ID"
	pid_gone "$pid"
	assert_nothing_left
}

@test "run -d is --detach" {
	make_bundle
	config_args sleep 100
	run_file ocirun run -d --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ "$(container_status)" = running ]
	ocirun delete --force "$ID"
	assert_nothing_left
}

@test "run --detach --pid-file writes the host pid" {
	make_bundle
	config_args sleep 100
	run_detached "$ID" --pid-file "$TMP/pid"
	assert_status 0
	local pid
	pid=$(cat "$TMP/pid")
	[[ "$pid" =~ ^[0-9]+$ ]]
	[ "$pid" = "$(container_pid)" ]
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
}

@test "run --pid-file in the foreground writes the host pid" {
	make_bundle
	config_args sleep 100
	"$OCIRUN" --root "$ROOT" run --pid-file "$TMP/pid" --bundle "$BUNDLE" "$ID" >"$TMP/out" 2>&1 </dev/null &
	local runpid=$!
	on_teardown kill -KILL "$runpid"
	retry 50 0.1 test -s "$TMP/pid"
	local pid
	pid=$(cat "$TMP/pid")
	[[ "$pid" =~ ^[0-9]+$ ]]
	retry 50 0.1 status_is running
	[ "$pid" = "$(container_pid)" ]
	grep -q "$ID" "/proc/$pid/cgroup"
	ocirun kill "$ID" KILL
	wait_exit "$runpid"
	[ "$EXIT_STATUS" = 137 ]
}

@test "run --bundle defaults to the working directory" {
	make_bundle
	config_args echo cwd-bundle
	cd "$BUNDLE"
	run_file ocirun run "$ID"
	assert_status 0
	[ "$output" = cwd-bundle ]
}
