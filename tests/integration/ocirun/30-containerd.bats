#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# containerd drives the runtime under test. setup_file starts a containerd of its own (1.6,
# Debian 12; the system one, if any, is never used) with config, root, state, socket and log
# in a directory of its own, imports the busybox OCI image of tests/fixtures/make-image, and
# every test runs containers (ids containing $ID) with
#   ctr run --runc-binary $RUNTIME_UNDER_TEST --runc-root <dir>/runtime-root ...
# so that the runc v2 shim (containerd-shim-runc-v2) calls the runtime exactly as it calls
# runc: --root <dir>/runtime-root/berthtest --log <bundle>/log.json --log-format json, then
# create --bundle B --pid-file F [--console-socket S], start, state, exec --process P
# --detach --pid-file F [--console-socket S], pause, resume, ps --format json, kill [--all],
# delete [--force]. The bundle is <dir>/state/io.containerd.runtime.v2.task/berthtest/<id>.
#
# RUNTIME_UNDER_TEST defaults to $OCIRUN; `RUNTIME_UNDER_TEST=/usr/sbin/runc bats ...` checks
# the test itself. BERTH_TRACE_RUNTIME=1 logs every runtime command line (engine-helpers).
# A failing test prints containerd's warnings, the runtime's log.json files still there and
# the trace. Skips only when the containerd package cannot be installed.

load ../helpers
load engine-helpers

NS=berthtest

# One containerd for the file (engine-helpers); each test gets its own ids.
setup_file() {
	require_root
	need_package containerd containerd ctr containerd-shim-runc-v2
	need_package util-linux script
	OCI_IMAGE_TAR=$(build_image oci)
	CTD_DIR=$(engine_dir containerd)
	export CTD_DIR
	runtime_path_setup "$CTD_DIR"
	ctd_start
	run ctr_ns image import "$OCI_IMAGE_TAR"
	assert_status 0
	run ctr_ns image ls -q
	assert_status 0
	[ "$output" = "$ENGINE_IMAGE" ] || fail "imported image not named $ENGINE_IMAGE: $output"
	export RUNTIME_PATH RUNTIME_TRACE CTD_SOCK CTD_PID RUNTIME_ROOT
}

teardown_file() {
	[ -n "${CTD_DIR:-}" ] || return 0
	local rc=0
	if [ -n "${CTD_PID:-}" ]; then
		stop_pid "$CTD_PID"
	fi
	if [ -n "$(shims_for "$CTD_SOCK")" ]; then
		echo "teardown_file: shims left: $(shims_for "$CTD_SOCK")" >&2
		kill_shims "$CTD_SOCK"
		rc=1
	fi
	engine_dir_remove "$CTD_DIR" || rc=1
	rmdir_cgroups "$NS"
	return $rc
}

setup() {
	berth_setup
	LOG_MARK=$(line_count "$CTD_DIR/containerd.log")
	TRACE_MARK=$(line_count "$RUNTIME_TRACE")
}

teardown() {
	local rc=0
	ctd_test_teardown || rc=1
	berth_teardown || rc=1
	return $rc
}

# ---------------------------------------------------------------------------------------
# containerd
# ---------------------------------------------------------------------------------------

# ctd_start: containerd with everything under $CTD_DIR: config.toml, root, state, socket
# CTD_SOCK, log containerd.log; the CRI plugin off (slow to start, not needed). Waits until
# it answers. The runtime's root (ctr run --runc-root) is $CTD_DIR/runtime-root: the shim
# passes --root $RUNTIME_ROOT/$NS.
ctd_start() {
	CTD_SOCK=$CTD_DIR/containerd.sock
	RUNTIME_ROOT=$CTD_DIR/runtime-root
	mkdir -p "$CTD_DIR/root" "$CTD_DIR/state" "$CTD_DIR/opt" "$CTD_DIR/fifo"
	cat >"$CTD_DIR/config.toml" <<EOF
version = 2
root = "$CTD_DIR/root"
state = "$CTD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CTD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD_DIR/opt"
EOF
	# Not holding bats' fd 3: bats waits for it to close. The shims inherit this.
	containerd --config "$CTD_DIR/config.toml" --log-level debug \
		>"$CTD_DIR/containerd.log" 2>&1 </dev/null 3>&- &
	CTD_PID=$!
	retry 100 0.1 ctd_ready || {
		show_daemon_log "$CTD_DIR/containerd.log"
		return 1
	}
}

ctd_ready() {
	pid_alive "$CTD_PID" || {
		echo "containerd exited:" >&2
		tail -20 "$CTD_DIR/containerd.log" >&2
		return 2
	}
	[ -S "$CTD_SOCK" ] && ctr --address "$CTD_SOCK" version >/dev/null 2>&1
}

# ctr_ns ARGS...: ctr on our containerd, namespace $NS, bounded in time.
ctr_ns() {
	timeout -k 5 "$ENGINE_TIMEOUT" ctr --address "$CTD_SOCK" -n "$NS" "$@"
}

# ctr_run [RUN-OPTIONS...] -- ID ARGS...: ctr run of the busybox image with the runtime under
# test.
ctr_run() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	local id=$1
	shift
	ctr_ns run --runc-binary "$RUNTIME_PATH" --runc-root "$RUNTIME_ROOT" \
		--fifo-dir "$CTD_DIR/fifo" "${opts[@]}" "$ENGINE_IMAGE" "$id" "$@"
}

# task_status ID: STATUS column of `ctr task ls` for ID (RUNNING, PAUSED, STOPPED...).
task_status() {
	ctr_ns task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}

# task_pid ID: PID column of `ctr task ls`.
task_pid() {
	ctr_ns task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $2 }'
}

task_status_is() {
	[ "$(task_status "$1")" = "$2" ]
}

# bundle_dir ID: the bundle the shim made (config.json, rootfs, log.json, options.json).
bundle_dir() {
	echo "$CTD_DIR/state/io.containerd.runtime.v2.task/$NS/$1"
}

# runtime_state ID: `state` of the runtime under test, with the root the shim gave it.
runtime_state() {
	timeout -k 5 "$ENGINE_TIMEOUT" "$RUNTIME_UNDER_TEST" --root "$RUNTIME_ROOT/$NS" state "$1"
}

# start_detached ID ARGS...: ctr run -d; the task is RUNNING when it returns.
start_detached() {
	local id=$1
	shift
	run_file ctr_run -d -- "$id" "$@"
	assert_status 0
	retry 50 0.1 task_status_is "$id" RUNNING
}

# kill_and_delete ID: SIGKILL the task, wait for it to stop, delete task and container.
kill_and_delete() {
	local id=$1
	run ctr_ns task kill -s SIGKILL "$id"
	assert_status 0
	retry 100 0.1 task_status_is "$id" STOPPED
	run ctr_ns task delete "$id"
	assert_status 0
	run ctr_ns container delete "$id"
	assert_status 0
}

# assert_ctd_clean ID: containerd, the shim and the runtime kept nothing of container ID:
# not a task, not a container, no bundle dir, no runtime state (the runtime's own `state`
# fails and its root has no entry), no shim, no mount, no cgroup, no process naming it.
# (Teardown then checks, through helpers, that nothing at all is left.)
assert_ctd_clean() {
	local id=$1 out
	out=$(ctr_ns task ls -q)
	! grep -qx -- "$id" <<<"$out" || fail "task $id still listed"
	out=$(ctr_ns container ls -q)
	! grep -qx -- "$id" <<<"$out" || fail "container $id still listed"
	[ ! -e "$(bundle_dir "$id")" ] || fail "bundle dir $(bundle_dir "$id") still there: $(ls "$(bundle_dir "$id")")"
	! runtime_state "$id" >/dev/null 2>&1 || fail "$RUNTIME_UNDER_TEST state $id still answers"
	if [ -d "$RUNTIME_ROOT/$NS" ]; then
		out=$(ls -A "$RUNTIME_ROOT/$NS")
		! grep -qx -- "$id" <<<"$out" || fail "runtime state left in $RUNTIME_ROOT/$NS: $out"
	fi
	out=$(pgrep -af -- "containerd-shim.* -id $id " || true)
	[ -z "$out" ] || fail "shim still running: $out"
	# What helpers' leak check looks for, for this id alone (other tasks may be running).
	local i
	for ((i = 0; i < 20; i++)); do
		out=$(mounts_under "$(bundle_dir "$id")"; cgroups_matching "$id"; pids_matching "$id")
		[ -z "$out" ] && return 0
		sleep 0.1
	done
	fail "left behind by $id: $out"
}

# ctd_test_teardown: after a failure, show what helps and remove every task and container;
# after a pass, anything left is a failure.
ctd_test_teardown() {
	local rc=0 left id
	[ -n "${CTD_PID:-}" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		show_daemon_log "$CTD_DIR/containerd.log" "$LOG_MARK"
		show_log_json "$CTD_DIR/state"
		show_runtime_trace "$TRACE_MARK"
	fi
	left=$( (ctr_ns task ls -q; ctr_ns container ls -q) 2>/dev/null | sort -u)
	if [ -n "$left" ]; then
		if [ -n "${BATS_TEST_COMPLETED:-}" ]; then
			echo "teardown: containerd still has: $left" >&2
			rc=1
		fi
		for id in $left; do
			ctr_ns task resume "$id" >/dev/null 2>&1 || true
			ctr_ns task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
		done
		thaw_cgroups "$ID"
		for id in $left; do
			retry 30 0.1 task_gone_or_stopped "$id" >/dev/null 2>&1 || true
			ctr_ns task delete -f "$id" >/dev/null 2>&1 || true
			ctr_ns container delete "$id" >/dev/null 2>&1 || true
		done
	fi
	thaw_cgroups "$ID"
	return $rc
}

task_gone_or_stopped() {
	local s
	s=$(task_status "$1")
	[ -z "$s" ] || [ "$s" = STOPPED ]
}

# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------

@test "containerd: ctr run --rm prints the container's output and leaves nothing" {
	run_file ctr_run --rm -- "$ID" echo hello
	assert_status 0
	[ "$output" = hello ] || fail "expected 'hello', got: $output"
	assert_ctd_clean "$ID"
}

@test "containerd: ctr run --rm returns the container's exit status and its stderr" {
	run_file ctr_run --rm -- "$ID" sh -c 'echo to-stderr >&2; exit 3'
	assert_status 3
	assert_output_contains to-stderr
	assert_ctd_clean "$ID"
}

@test "containerd: a detached task runs under the runtime under test, with the root the shim passes" {
	start_detached "$ID" sleep 1000
	local pid
	pid=$(task_pid "$ID")
	[[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid"
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 1000 " ]
	# The shim was told to use the runtime under test, and that runtime knows the container
	# under the root the shim passes: <runtime-root>/<namespace>.
	run jq -r .binary_name "$(bundle_dir "$ID")/options.json"
	[ "$output" = "$RUNTIME_PATH" ] || fail "options.json binary_name: $output"
	run runtime_state "$ID"
	assert_status 0
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state: $output"
	[ "$(jq -r .pid <<<"$output")" = "$pid" ] || fail "runtime pid $(jq -r .pid <<<"$output"), ctr pid $pid"
	# The cgroup ctr asks for: /<namespace>/<id>.
	grep -q ":/$NS/$ID\$" "/proc/$pid/cgroup" || fail "cgroups: $(cat "/proc/$pid/cgroup")"
	kill_and_delete "$ID"
	pid_gone "$pid"
	assert_ctd_clean "$ID"
}

@test "containerd: ctr task exec without a tty: output, stderr, exit status, stdin, same namespaces" {
	start_detached "$ID" sleep 1000
	local pid
	pid=$(task_pid "$ID")

	run_file ctr_ns task exec --fifo-dir "$CTD_DIR/fifo" --exec-id e1 "$ID" \
		sh -c 'echo out; echo err >&2; [ -t 1 ] || echo no-tty; exit 5'
	assert_status 5
	assert_output_contains out err no-tty

	# stdin reaches the exec'd process, and its end ends it.
	pipe_in() { echo piped-in | ctr_ns task exec --fifo-dir "$CTD_DIR/fifo" --exec-id e2 "$ID" cat; }
	run_file pipe_in
	assert_status 0
	[ "$output" = piped-in ] || fail "cat gave: $output"

	# It runs in the container: its pid 1 is the task, its namespaces are the task's.
	run_file ctr_ns task exec --fifo-dir "$CTD_DIR/fifo" --exec-id e3 "$ID" \
		sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; for n in pid mnt uts ipc net; do readlink /proc/self/ns/$n; done'
	assert_status 0
	[ "${lines[0]}" = "sleep 1000 " ] || fail "pid 1 in the exec: ${lines[0]}"
	local n i=1
	for n in pid mnt uts ipc net; do
		[ "${lines[i]}" = "$(readlink "/proc/$pid/ns/$n")" ] || fail "$n namespace differs: ${lines[i]}"
		i=$((i + 1))
	done

	# An exec id can be used again once its process is gone.
	run_file ctr_ns task exec --fifo-dir "$CTD_DIR/fifo" --exec-id e1 "$ID" echo again
	assert_status 0
	[ "$output" = again ]

	[ "$(task_status "$ID")" = RUNNING ]
	kill_and_delete "$ID"
	assert_ctd_clean "$ID"
}

@test "containerd: ctr task exec -t gives the process a terminal" {
	start_detached "$ID" sleep 1000
	run_file tty_run ctr --address "$CTD_SOCK" -n "$NS" task exec --fifo-dir "$CTD_DIR/fifo" \
		-t --exec-id t1 "$ID" sh -c '[ -t 0 ] && [ -t 1 ] && tty; echo tty-done; exit 4'
	output=$(strip_cr <<<"$output")
	assert_status 4
	assert_output_contains /dev/pts/ tty-done
	[ "$(task_status "$ID")" = RUNNING ]
	kill_and_delete "$ID"
	assert_ctd_clean "$ID"
}

@test "containerd: ctr run -t gives the task a terminal" {
	run_file tty_run ctr --address "$CTD_SOCK" -n "$NS" run --runc-binary "$RUNTIME_PATH" \
		--runc-root "$RUNTIME_ROOT" --fifo-dir "$CTD_DIR/fifo" --rm -t "$ENGINE_IMAGE" "$ID" \
		sh -c '[ -t 0 ] && [ -t 1 ] && tty; echo tty-done'
	output=$(strip_cr <<<"$output")
	assert_status 0
	assert_output_contains tty-done
	assert_output_contains_any /dev/pts/ /dev/console
	assert_ctd_clean "$ID"
}

@test "containerd: ctr task pause freezes the task, ctr task resume thaws it" {
	start_detached "$ID" sh -c "$TICKER"
	local tick
	tick=$(bundle_dir "$ID")/rootfs/tmp/tick
	retry 50 0.1 test -s "$tick"
	ticks_advance "$tick"

	run ctr_ns task pause "$ID"
	assert_status 0
	[ "$(task_status "$ID")" = PAUSED ] || fail "after pause: $(ctr_ns task ls)"
	run runtime_state "$ID"
	[ "$(jq -r .status <<<"$output")" = paused ] || fail "runtime state after pause: $output"
	ticks_frozen "$tick"

	run ctr_ns task resume "$ID"
	assert_status 0
	[ "$(task_status "$ID")" = RUNNING ] || fail "after resume: $(ctr_ns task ls)"
	run runtime_state "$ID"
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state after resume: $output"
	ticks_advance "$tick"

	kill_and_delete "$ID"
	assert_ctd_clean "$ID"
}

@test "containerd: a paused task can be killed and deleted" {
	# ctr sends SIGKILL to the frozen task as is (dockerd unpauses first): the shim runs
	# `kill ID 9` on a paused container, and the runtime must thaw it after signalling, as
	# runc does, or the process never gets to die.
	start_detached "$ID" sleep 1000
	local pid
	pid=$(task_pid "$ID")
	run ctr_ns task pause "$ID"
	assert_status 0
	retry 20 0.1 task_status_is "$ID" PAUSED
	run ctr_ns task kill -s SIGKILL "$ID"
	assert_status 0
	retry 100 0.1 task_status_is "$ID" STOPPED ||
		fail "task $(task_status "$ID") 10 s after SIGKILL to the paused task; runtime state: $(runtime_state "$ID" | jq -c '{status, pid}'), process $pid $(awk '/^State:/ {print $2, $3, $4}' "/proc/$pid/status" 2>/dev/null)"
	pid_gone "$pid"
	run ctr_ns task delete "$ID"
	assert_status 0
	run ctr_ns container delete "$ID"
	assert_status 0
	assert_ctd_clean "$ID"
}

@test "containerd: ctr task ps lists the task's processes" {
	start_detached "$ID" sh -c 'sleep 1000 & exec sleep 1001'
	local pid
	pid=$(task_pid "$ID")
	retry 50 0.1 pgrep -f -P "$pid" 'sleep 1000'
	run ctr_ns task ps "$ID"
	assert_status 0
	# PID INFO: the init and its child, by host pid.
	grep -qE "^${pid}[[:space:]]" <<<"$output" || fail "init $pid not in: $output"
	[ "$(grep -cE '^[0-9]+[[:space:]]' <<<"$output")" = 2 ] || fail "expected 2 processes: $output"
	kill_and_delete "$ID"
	assert_ctd_clean "$ID"
}

@test "containerd: ctr task kill sends the signal; SIGTERM ends a task that traps it" {
	start_detached "$ID" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
	run ctr_ns task kill "$ID"
	assert_status 0
	retry 100 0.1 task_status_is "$ID" STOPPED
	run ctr_ns task delete "$ID"
	assert_status 0
	run ctr_ns container delete "$ID"
	assert_status 0
	assert_ctd_clean "$ID"
}

@test "containerd: ctr task kill --all ends every process of the task" {
	start_detached "$ID" sh -c 'sleep 1000 & sleep 1001 & wait'
	local pid
	pid=$(task_pid "$ID")
	retry 50 0.1 pgrep -f -P "$pid" 'sleep 1001'
	run ctr_ns task kill --all -s SIGKILL "$ID"
	assert_status 0
	retry 100 0.1 task_status_is "$ID" STOPPED
	run ctr_ns task delete "$ID"
	assert_status 0
	run ctr_ns container delete "$ID"
	assert_status 0
	assert_ctd_clean "$ID"
}

@test "containerd: two tasks at once, and a task id reused after delete" {
	# Neither id contains the other: assert_ctd_clean's leak check matches substrings.
	local id1 id2
	id1=$(new_id)
	id2=$(new_id)
	start_detached "$id1" sleep 1000
	start_detached "$id2" sleep 1000
	[ "$(runtime_state "$id1" | jq -r .status)" = running ]
	[ "$(runtime_state "$id2" | jq -r .status)" = running ]
	kill_and_delete "$id1"
	assert_ctd_clean "$id1"
	[ "$(task_status "$id2")" = RUNNING ]
	run_file ctr_run --rm -- "$id1" echo reused
	assert_status 0
	[ "$output" = reused ]
	assert_ctd_clean "$id1"
	kill_and_delete "$id2"
	assert_ctd_clean "$id2"
}
