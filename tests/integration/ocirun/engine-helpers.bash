# SPDX-License-Identifier: Apache-2.0
# engine-helpers.bash: what the files where a container engine drives the runtime under test
# (30-containerd, 31-dockerd) share on top of ../helpers: the runtime path handed to the
# engine, installing or skipping on a missing package, the busybox image built by
# tests/fixtures/make-image, stopping a daemon, and failure diagnostics. Load it after
# ../helpers:
#
#   load ../helpers
#   load engine-helpers
#
# Environment:
#   RUNTIME_UNDER_TEST   the runtime binary the engine is told to use (default $OCIRUN). Set
#                        it to /usr/sbin/runc to check the test itself against the reference.
#   BERTH_TRACE_RUNTIME  1: give the engine a wrapper script that appends every runtime
#                        command line to runtime.trace in the daemon's directory and then
#                        execs the runtime; a failing test prints its part of the trace.
#                        Off by default, so that the engine runs the runtime binary itself.
#
# One daemon serves a whole file: setup_file starts it in a directory of its own
# (engine_dir), teardown_file stops it and removes that directory (engine_dir_remove). Each
# test names its containers after $ID, checks itself that nothing of them is left, and its
# teardown removes whatever a failure left; helpers' leak checks (processes, cgroups naming
# $ID) then run as usual.
#   BERTH_KEEP_ENGINE_DIR 1: keep the daemon's directory (logs, trace, state) at the end of
#                        the file instead of removing it; its path is printed
#   ENGINE_TIMEOUT       seconds one engine client call (ctr, docker) may take (default 60)

ENGINE_TIMEOUT=${ENGINE_TIMEOUT:-60}
ENGINE_IMAGE=berth.test/busybox:latest

RUNTIME_UNDER_TEST=${RUNTIME_UNDER_TEST:-${OCIRUN:-}}
if [ -n "$RUNTIME_UNDER_TEST" ] && [[ "$RUNTIME_UNDER_TEST" != */* ]]; then
	RUNTIME_UNDER_TEST=$(command -v "$RUNTIME_UNDER_TEST" || echo "$RUNTIME_UNDER_TEST")
fi
# berth_setup wants $OCIRUN: `RUNTIME_UNDER_TEST=/usr/sbin/runc bats FILE` alone is enough.
if [ -z "${OCIRUN:-}" ]; then
	OCIRUN=$RUNTIME_UNDER_TEST
fi
# The engine runs it from elsewhere: make it absolute.
if [ -n "$RUNTIME_UNDER_TEST" ] && [[ "$RUNTIME_UNDER_TEST" != /* ]]; then
	RUNTIME_UNDER_TEST=$(pwd)/$RUNTIME_UNDER_TEST
fi

# need_package PKG CMD...: make sure the commands CMD... exist; if not, install the Debian
# package PKG (apt-get, as contrib/install-deps does); if that fails, skip with a message
# saying so. For setup_file (a skip there skips the whole file) or a test.
need_package() {
	local pkg=$1 cmd missing='' log
	shift
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		skip "package $pkg is not installed (missing:$missing) and cannot be installed here (needs root and apt-get)"
	fi
	log=$(mktemp "${BATS_TMPDIR:-/tmp}/apt-$pkg.XXXXXX")
	echo "# $pkg missing ($missing ), installing it with apt-get" >&3
	if ! DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$pkg" >"$log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >>"$log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$pkg" >>"$log" 2>&1 || true
	fi
	missing=
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
	done
	if [ -n "$missing" ]; then
		local why
		why=$(grep -E '^(E|W):' "$log" | head -3 | tr '\n' ' ')
		rm -f "$log"
		skip "package $pkg cannot be installed (apt-get install $pkg failed: ${why:-see apt}); missing:$missing"
	fi
	rm -f "$log"
}

# need_runtime: RUNTIME_UNDER_TEST is an executable file.
need_runtime() {
	if [ -z "$RUNTIME_UNDER_TEST" ] || [ ! -x "$RUNTIME_UNDER_TEST" ] || [ -d "$RUNTIME_UNDER_TEST" ]; then
		echo "RUNTIME_UNDER_TEST (default \$OCIRUN) is not an executable: '$RUNTIME_UNDER_TEST'" >&2
		return 1
	fi
}

# build_image oci|docker: the busybox image of tests/fixtures/make-image as
# $BATS_FILE_TMPDIR/busybox-FORMAT.tar, named $ENGINE_IMAGE, built once per file; prints the
# path.
build_image() {
	local out=${BATS_FILE_TMPDIR:?}/busybox-$1.tar
	if [ ! -s "$out" ]; then
		"$BERTH_SOURCE_DIR/tests/fixtures/make-image" "$1" "$out" "$ENGINE_IMAGE" >&2 || return 1
	fi
	echo "$out"
}

# engine_dir NAME: a fresh directory for a daemon started by setup_file, under
# $BATS_TMPDIR (not $BATS_FILE_TMPDIR, which bats removes with a plain rm -rf), 0755;
# prints it. engine_dir_remove removes it.
engine_dir() {
	local d
	d=$(mktemp -d "${BATS_TMPDIR:-/tmp}/berth-$1.XXXXXX") || return 1
	chmod 0755 "$d"
	echo "$d"
}

# engine_dir_remove DIR: unmount what is still mounted under DIR (deepest first; lazily if
# busy), then remove it without ever crossing into another file system.
engine_dir_remove() {
	local dir=$1 m
	[[ "$dir" == */berth-* ]] && [ -d "$dir" ] || return 0
	for m in $(mounts_under "$dir"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ -n "$(mounts_under "$dir")" ]; then
		echo "engine_dir_remove: mounts remain under $dir, not removing it" >&2
		return 1
	fi
	if [ "${BERTH_KEEP_ENGINE_DIR:-0}" = 1 ]; then
		echo "# kept $dir (BERTH_KEEP_ENGINE_DIR=1)" >&3
		return 0
	fi
	rm -rf --one-file-system "$dir"
}

# runtime_path_setup DIR: set RUNTIME_PATH, what the engine is told to run:
# RUNTIME_UNDER_TEST, or with BERTH_TRACE_RUNTIME=1 a wrapper DIR/runtime-traced that
# appends each command line to DIR/runtime.trace (RUNTIME_TRACE) first.
runtime_path_setup() {
	local dir=$1
	need_runtime || return 1
	RUNTIME_PATH=$RUNTIME_UNDER_TEST
	RUNTIME_TRACE=$dir/runtime.trace
	if [ "${BERTH_TRACE_RUNTIME:-0}" = 1 ]; then
		RUNTIME_PATH=$dir/runtime-traced
		cat >"$RUNTIME_PATH" <<EOF
#!/bin/sh
printf '%s' "\$(date +%T.%N) $RUNTIME_UNDER_TEST" >>"$RUNTIME_TRACE"
for a in "\$@"; do printf ' %s' "\$a" >>"$RUNTIME_TRACE"; done
echo >>"$RUNTIME_TRACE"
exec "$RUNTIME_UNDER_TEST" "\$@"
EOF
		chmod 0755 "$RUNTIME_PATH"
	fi
}

# line_count FILE: its number of lines (0 when missing); with show_daemon_log and
# show_runtime_trace, the part of a daemon log or trace that belongs to one test.
line_count() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# stop_pid PID [SECONDS]: SIGTERM to PID (a daemon this test started), SIGKILL after
# SECONDS (default 15) if it is still there; waits until it is gone.
stop_pid() {
	local pid=$1 n=$((${2:-15} * 10))
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	while pid_alive "$pid"; do
		if ((n-- <= 0)); then
			echo "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) ignored SIGTERM, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			retry 50 0.1 pid_gone "$pid" || true
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true
}

# shims_for ADDRESS: pids of the containerd shims serving the containerd at socket ADDRESS.
shims_for() {
	pgrep -f -- "containerd-shim.* -address $1\$" || true
}

# kill_shims ADDRESS: SIGKILL every shim of that containerd (after a failure: a shim
# outlives its containerd by design).
kill_shims() {
	local p
	for p in $(shims_for "$1"); do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# rmdir_cgroups NAME: remove the cgroup dirs /sys/fs/cgroup/<hierarchy>/NAME (the parent
# an engine made for its containers) where they are empty; one with a container cgroup
# still in it stays, for the leak check to report.
rmdir_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$1"; do
		if [ -d "$d" ]; then
			rmdir "$d" 2>/dev/null || true
		fi
	done
}

# thaw_cgroups STR: thaw every frozen cgroup whose path contains STR. After a failed pause
# test: a frozen process cannot die, not even of SIGKILL, so nothing else could clean up.
thaw_cgroups() {
	local d
	for d in $(cgroups_matching "$1"); do
		if [ -f "$d/freezer.state" ]; then
			echo THAWED >"$d/freezer.state" 2>/dev/null || true
		fi
		if [ -f "$d/cgroup.freeze" ]; then
			echo 0 >"$d/cgroup.freeze" 2>/dev/null || true
		fi
	done
}

# tty_run CMD...: run CMD on a fresh pseudo-terminal (util-linux script), for client
# commands that insist on a terminal (ctr task exec -t, docker exec -t). Returns CMD's
# status. Stdin stays what it is (run_file makes it /dev/null).
tty_run() {
	local cmd
	cmd=$(printf '%q ' "$@")
	timeout -k 5 "$ENGINE_TIMEOUT" script -qec "$cmd" /dev/null
}

# strip_cr: remove the \r a terminal adds and the NULs script may echo.
strip_cr() {
	tr -d '\r\0'
}

# file_value FILE: FILE's first line, or empty.
file_value() {
	head -1 "$1" 2>/dev/null || true
}

# ticks_advance FILE [SECONDS]: the number in FILE (a container's counter, rewritten every
# 0.1 s) changes within SECONDS (default 3).
ticks_advance() {
	local f=$1 n=$((${2:-3} * 10)) v0
	v0=$(file_value "$f")
	while ((n-- > 0)); do
		sleep 0.1
		[ "$(file_value "$f")" != "$v0" ] && return 0
	done
	echo "$f stays at '$v0'" >&2
	return 1
}

# ticks_frozen FILE: the number in FILE does not change for a second.
ticks_frozen() {
	local f=$1 v0 v1
	v0=$(file_value "$f")
	sleep 1
	v1=$(file_value "$f")
	if [ "$v0" != "$v1" ]; then
		echo "$f changed from '$v0' to '$v1' while paused" >&2
		return 1
	fi
}

# The counter the pause tests run: /tmp/tick in the container, rewritten every 0.1 s.
# shellcheck disable=SC2016,SC2034
TICKER='i=0; while :; do i=$((i+1)); echo $i >/tmp/tick; sleep 0.1; done'

# show_runtime_trace [FROM-LINE]: the runtime command lines, when traced.
show_runtime_trace() {
	if [ -s "${RUNTIME_TRACE:-}" ]; then
		echo "--- runtime command lines ($RUNTIME_TRACE):" >&2
		tail -n +"$((${1:-0} + 1))" "$RUNTIME_TRACE" >&2
	fi
}

# show_log_json DIR: every runtime log.json (the runtime's --log) still under DIR.
show_log_json() {
	local f
	# shellcheck disable=SC2044
	for f in $(find "$1" -name log.json -size +0 2>/dev/null); do
		echo "--- $f:" >&2
		tail -20 "$f" >&2
	done
}

# show_daemon_log FILE [FROM-LINE]: warnings and errors from a daemon log.
show_daemon_log() {
	if [ -s "$1" ]; then
		echo "--- $1 (warnings and errors, last 30):" >&2
		tail -n +"$((${2:-0} + 1))" "$1" | grep -E 'level=(warning|error|fatal)' | tail -30 >&2 || true
	fi
}
