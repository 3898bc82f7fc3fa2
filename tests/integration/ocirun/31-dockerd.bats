#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# dockerd drives the runtime under test. setup_file starts a dockerd of its own (20.10,
# Debian 12; the system one, if any, is never used) with data root, exec root, pid file,
# socket and log in a directory of its own, letting it start its own managed containerd
# (socket <dir>/exec/containerd/containerd.sock), and registers the runtime as
# `--add-runtime ocirun=$RUNTIME_UNDER_TEST`; it `docker load`s the busybox docker-archive
# of tests/fixtures/make-image. Every test runs containers named after $ID with
# `docker run --runtime ocirun --network none --cgroup-parent /$ID`. dockerd hands the
# runtime to containerd's runc v2 shim (io.containerd.runc.v2 with the options binary_name
# and root <dir>/exec/runtime-runc), which calls it exactly as it calls runc (see
# 30-containerd.bats), with --root <dir>/exec/runtime-runc/moby; `docker update` adds
# `update --resources -`, `docker top` `ps --format json`.
#
# This host: dockerd runs only with --iptables=false --bridge=none (no bridge, no NAT), so
# containers use --network none. The cgroups are hybrid (v1 controllers, cgroup2 at
# /sys/fs/cgroup/unified, no systemd): dockerd 20.10 reports "Cgroup Version: 1" and works
# with the cgroupfs driver, given explicitly (--exec-opt native.cgroupdriver=cgroupfs); no
# other flag is needed. Each container's cgroup goes under --cgroup-parent /$ID, so that
# helpers' leak checks (which look for $ID) see it; the test's teardown removes that parent
# once empty. daemon.json moves the daemon's trust key from /etc/docker/key.json to the
# daemon's directory (the hidden "deprecated-key-path" setting of 20.10).
#
# The client is /usr/bin/docker of the docker.io package when present (the daemon's
# version; another docker earlier in PATH may be much newer), with DOCKER_CONFIG in the
# daemon's directory.
#
# RUNTIME_UNDER_TEST defaults to $OCIRUN; `RUNTIME_UNDER_TEST=/usr/sbin/runc bats ...` checks
# the test itself. BERTH_TRACE_RUNTIME=1 logs every runtime command line (engine-helpers).
# A failing test prints dockerd's and containerd's warnings, the runtime's log.json files
# still there and the trace. Skips only when the docker.io package cannot be installed.

load ../helpers
load engine-helpers

RUNTIME_NAME=ocirun

if [ -x /usr/bin/docker ]; then
	DOCKER_CLI=/usr/bin/docker
else
	DOCKER_CLI=$(command -v docker || echo docker)
fi

# One dockerd for the file (engine-helpers); each test gets its own names.
setup_file() {
	require_root
	need_package docker.io dockerd docker containerd containerd-shim-runc-v2
	need_package util-linux script
	DOCKER_IMAGE_TAR=$(build_image docker)
	DK_DIR=$(engine_dir dockerd)
	export DK_DIR
	runtime_path_setup "$DK_DIR"
	dk_start
	run dk load -i "$DOCKER_IMAGE_TAR"
	assert_status 0
	assert_output_contains "Loaded image: $ENGINE_IMAGE"
	export RUNTIME_PATH RUNTIME_TRACE DK_SOCK DK_PID DK_CTD_SOCK DOCKER_CONFIG
}

teardown_file() {
	[ -n "${DK_DIR:-}" ] || return 0
	local rc=0 ctd
	if [ -n "${DK_PID:-}" ]; then
		stop_pid "$DK_PID" 30
	fi
	if [ -n "$(shims_for "$DK_CTD_SOCK")" ]; then
		echo "teardown_file: shims left: $(shims_for "$DK_CTD_SOCK")" >&2
		kill_shims "$DK_CTD_SOCK"
		rc=1
	fi
	# dockerd stops the containerd it started; make sure.
	ctd=$(pgrep -f -- "containerd --config $DK_DIR/exec/containerd/containerd.toml" || true)
	if [ -n "$ctd" ]; then
		echo "teardown_file: dockerd left its containerd ($ctd) running" >&2
		stop_pid "$ctd"
		rc=1
	fi
	engine_dir_remove "$DK_DIR" || rc=1
	return $rc
}

setup() {
	berth_setup
	LOG_MARK=$(line_count "$DK_DIR/dockerd.log")
	CTD_LOG_MARK=$(line_count "$DK_DIR/exec/containerd/containerd.log")
	TRACE_MARK=$(line_count "$RUNTIME_TRACE")
}

teardown() {
	local rc=0
	dk_test_teardown || rc=1
	# The cgroup parent of this test's containers, empty by now; what is still in it is for
	# the leak check to report.
	rmdir_cgroups "$ID"
	berth_teardown || rc=1
	return $rc
}

# ---------------------------------------------------------------------------------------
# dockerd
# ---------------------------------------------------------------------------------------

# dk_start: dockerd with everything under $DK_DIR; waits until `docker info` answers.
dk_start() {
	DK_SOCK=$DK_DIR/docker.sock
	DK_CTD_SOCK=$DK_DIR/exec/containerd/containerd.sock
	mkdir -p "$DK_DIR/data" "$DK_DIR/exec" "$DK_DIR/client"
	DOCKER_CONFIG=$DK_DIR/client
	export DOCKER_CONFIG
	printf '{"deprecated-key-path": "%s"}\n' "$DK_DIR/key.json" >"$DK_DIR/daemon.json"
	# Not holding bats' fd 3: bats waits for it to close. containerd and the shims inherit
	# this.
	dockerd --config-file "$DK_DIR/daemon.json" \
		--data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/dockerd.pid" -H "unix://$DK_SOCK" \
		--iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--bridge=none --userland-proxy=false \
		--exec-opt native.cgroupdriver=cgroupfs \
		--add-runtime "$RUNTIME_NAME=$RUNTIME_PATH" \
		--shutdown-timeout 5 --log-level debug \
		>"$DK_DIR/dockerd.log" 2>&1 </dev/null 3>&- &
	DK_PID=$!
	retry 300 0.1 dk_ready || {
		show_daemon_log "$DK_DIR/dockerd.log"
		return 1
	}
}

dk_ready() {
	pid_alive "$DK_PID" || {
		echo "dockerd exited:" >&2
		tail -20 "$DK_DIR/dockerd.log" >&2
		return 2
	}
	[ -S "$DK_SOCK" ] && "$DOCKER_CLI" -H "unix://$DK_SOCK" info >/dev/null 2>&1
}

# dk ARGS...: the docker client on our dockerd, bounded in time.
dk() {
	timeout -k 5 "$ENGINE_TIMEOUT" "$DOCKER_CLI" -H "unix://$DK_SOCK" "$@"
}

# dk_run ARGS...: docker run with the runtime under test, no network, and the container's
# cgroup under /$ID.
dk_run() {
	dk run --runtime "$RUNTIME_NAME" --network none --cgroup-parent "/$ID" "$@"
}

# dk_detached NAME ARGS...: a detached container named NAME running ARGS; sets CID (full
# id) and CPID (host pid of its process 1).
dk_detached() {
	local name=$1
	shift
	run_file dk_run -d --name "$name" "$ENGINE_IMAGE" "$@"
	assert_status 0
	CID=$output
	[[ "$CID" =~ ^[0-9a-f]{64}$ ]] || fail "docker run -d printed: $output"
	retry 50 0.1 state_is "$name" running
	CPID=$(dk inspect -f '{{.State.Pid}}' "$name")
}

# state_is NAME STATUS: docker's State.Status (running, paused, exited...).
state_is() {
	[ "$(dk inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = "$2" ]
}

# bundle_dir CID: the bundle the shim made under dockerd's containerd.
bundle_dir() {
	echo "$DK_DIR/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$1"
}

# runtime_root CID: the --root the shim passes to the runtime: options.json's root plus
# the containerd namespace (moby).
runtime_root() {
	local root
	root=$(jq -r '.root // empty' "$(bundle_dir "$1")/options.json" 2>/dev/null)
	echo "${root:-/run/containerd/runc}/moby"
}

# runtime_state CID [ROOT]: `state` of the runtime under test.
runtime_state() {
	timeout -k 5 "$ENGINE_TIMEOUT" "$RUNTIME_UNDER_TEST" --root "${2:-$(runtime_root "$1")}" state "$1"
}

# cgroup_dir PID CONTROLLER: the v1 cgroup dir of PID for CONTROLLER.
cgroup_dir() {
	local p
	p=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
	[ -n "$p" ] && echo "/sys/fs/cgroup/$2$p"
}

# assert_dk_clean NAME CID RUNTIME-ROOT: dockerd, containerd, the shim and the runtime kept
# nothing of the container: not listed, no containerd container, no bundle, no runtime state,
# no shim, no cgroup, no process, no mount.
assert_dk_clean() {
	local name=$1 cid=$2 root=$3 out i
	out=$(dk ps -a --no-trunc --format '{{.ID}} {{.Names}}')
	! grep -qE -- "$cid|$name" <<<"$out" || fail "docker still lists it: $out"
	out=$(timeout 10 ctr --address "$DK_CTD_SOCK" -n moby container ls -q 2>&1)
	! grep -qx -- "$cid" <<<"$out" || fail "containerd still has container $cid"
	[ ! -e "$(bundle_dir "$cid")" ] || fail "bundle dir still there: $(ls "$(bundle_dir "$cid")")"
	! runtime_state "$cid" "$root" >/dev/null 2>&1 || fail "$RUNTIME_UNDER_TEST --root $root state $cid still answers"
	[ ! -e "$root/$cid" ] || fail "runtime state dir $root/$cid still there"
	out=$(pgrep -af -- "containerd-shim.* -id $cid " || true)
	[ -z "$out" ] || fail "shim still running: $out"
	for ((i = 0; i < 20; i++)); do
		out=$(cgroups_matching "$cid"; pids_matching "$cid"; grep -F "$cid" /proc/self/mountinfo | awk '{print "mount " $5}')
		[ -z "$out" ] && return 0
		sleep 0.1
	done
	fail "left behind by $cid: $out"
}

# dk_test_teardown: after a failure, show what helps and remove every container; after a
# pass, anything left is a failure.
dk_test_teardown() {
	local rc=0 left c
	[ -n "${DK_PID:-}" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		show_daemon_log "$DK_DIR/dockerd.log" "$LOG_MARK"
		show_daemon_log "$DK_DIR/exec/containerd/containerd.log" "$CTD_LOG_MARK"
		show_log_json "$DK_DIR/exec/containerd/daemon"
		show_runtime_trace "$TRACE_MARK"
	fi
	left=$(dk ps -aq 2>/dev/null)
	if [ -n "$left" ]; then
		if [ -n "${BATS_TEST_COMPLETED:-}" ]; then
			echo "teardown: dockerd still has containers: $left" >&2
			rc=1
		fi
		for c in $left; do
			dk unpause "$c" >/dev/null 2>&1 || true
		done
		thaw_cgroups "$ID"
		# shellcheck disable=SC2086
		dk rm -f $left >/dev/null 2>&1 || true
	fi
	thaw_cgroups "$ID"
	return $rc
}

# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------

@test "dockerd: docker info lists the runtime under test" {
	run dk info --format '{{json .Runtimes}}'
	assert_status 0
	run jq -r --arg n "$RUNTIME_NAME" '.[$n].path' <<<"$output"
	[ "$output" = "$RUNTIME_PATH" ] || fail "runtime $RUNTIME_NAME: '$output'"
	run dk info
	assert_status 0
	grep -E '^ *Runtimes:.* '"$RUNTIME_NAME"'( |$)' <<<"$output" || fail "docker info: $output"
}

@test "dockerd: docker run --rm prints the container's output, its exit status and stdin" {
	run_file dk_run --rm --name "$ID" "$ENGINE_IMAGE" echo hello
	assert_status 0
	[ "$output" = hello ] || fail "expected 'hello', got: $output"

	run_file dk_run --rm --name "$ID" "$ENGINE_IMAGE" sh -c 'echo to-stderr >&2; exit 3'
	assert_status 3
	assert_output_contains to-stderr

	pipe_in() { echo piped-in | dk_run --rm -i --name "$ID" "$ENGINE_IMAGE" cat; }
	run_file pipe_in
	assert_status 0
	[ "$output" = piped-in ] || fail "cat gave: $output"

	run dk ps -aq
	assert_status 0
	[ -z "$output" ] || fail "containers left: $output"
}

@test "dockerd: a detached container runs under the runtime under test" {
	dk_detached "$ID" sh -c 'echo started; exec sleep 1000'
	[ "$(dk inspect -f '{{.HostConfig.Runtime}}' "$ID")" = "$RUNTIME_NAME" ]
	pid_alive "$CPID"
	[ "$(tr '\0' ' ' <"/proc/$CPID/cmdline")" = "sleep 1000 " ]
	retry 50 0.1 dk_logs_have "$ID" started

	# The shim was told to run the runtime under test, and that runtime knows the
	# container under the root the shim passes.
	run jq -r .binary_name "$(bundle_dir "$CID")/options.json"
	[ "$output" = "$RUNTIME_PATH" ] || fail "options.json binary_name: $output"
	local root
	root=$(runtime_root "$CID")
	run runtime_state "$CID"
	assert_status 0
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state: $output"
	[ "$(jq -r .pid <<<"$output")" = "$CPID" ] || fail "runtime pid $(jq -r .pid <<<"$output"), docker pid $CPID"
	grep -q ":/$ID/$CID\$" "/proc/$CPID/cgroup" || fail "cgroups: $(cat "/proc/$CPID/cgroup")"

	run dk rm -f "$ID"
	assert_status 0
	pid_gone "$CPID"
	assert_dk_clean "$ID" "$CID" "$root"
}

dk_logs_have() {
	dk logs "$1" 2>&1 | grep -qF -- "$2"
}

@test "dockerd: docker exec without a tty: output, stderr, exit status, stdin, same namespaces" {
	dk_detached "$ID" sleep 1000
	local root
	root=$(runtime_root "$CID")

	run_file dk exec "$ID" sh -c 'echo out; echo err >&2; [ -t 1 ] || echo no-tty; exit 5'
	assert_status 5
	assert_output_contains out err no-tty

	pipe_in() { echo piped-in | dk exec -i "$ID" cat; }
	run_file pipe_in
	assert_status 0
	[ "$output" = piped-in ] || fail "cat gave: $output"

	run_file dk exec "$ID" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; for n in pid mnt uts ipc net; do readlink /proc/self/ns/$n; done'
	assert_status 0
	[ "${lines[0]}" = "sleep 1000 " ] || fail "pid 1 in the exec: ${lines[0]}"
	local n i=1
	for n in pid mnt uts ipc net; do
		[ "${lines[i]}" = "$(readlink "/proc/$CPID/ns/$n")" ] || fail "$n namespace differs: ${lines[i]}"
		i=$((i + 1))
	done

	# exec as another user, in another directory, with an extra variable.
	run_file dk exec -u 65534:65534 -w /tmp -e FOO=bar "$ID" sh -c 'id -u; id -g; pwd; echo $FOO'
	assert_status 0
	[ "$output" = $'65534\n65534\n/tmp\nbar' ] || fail "exec -u -w -e gave: $output"

	state_is "$ID" running
	run dk rm -f "$ID"
	assert_status 0
	assert_dk_clean "$ID" "$CID" "$root"
}

@test "dockerd: docker exec -it gives the process a terminal" {
	dk_detached "$ID" sleep 1000
	local root
	root=$(runtime_root "$CID")
	run_file tty_run "$DOCKER_CLI" -H "unix://$DK_SOCK" exec -it "$ID" \
		sh -c '[ -t 0 ] && [ -t 1 ] && tty; stty size; echo tty-done; exit 4'
	output=$(strip_cr <<<"$output")
	assert_status 4
	assert_output_contains /dev/pts/ tty-done
	state_is "$ID" running
	run dk rm -f "$ID"
	assert_status 0
	assert_dk_clean "$ID" "$CID" "$root"
}

@test "dockerd: docker run -it gives the container a terminal" {
	run_file tty_run "$DOCKER_CLI" -H "unix://$DK_SOCK" run --rm -it --runtime "$RUNTIME_NAME" \
		--network none --cgroup-parent "/$ID" --name "$ID" "$ENGINE_IMAGE" sh -c '[ -t 0 ] && [ -t 1 ] && tty; echo tty-done'
	output=$(strip_cr <<<"$output")
	assert_status 0
	assert_output_contains tty-done
	assert_output_contains_any /dev/pts/ /dev/console
}

@test "dockerd: docker pause freezes the container, docker unpause thaws it" {
	dk_detached "$ID" sh -c "$TICKER"
	local root tick
	root=$(runtime_root "$CID")
	tick=$(dk inspect -f '{{.GraphDriver.Data.MergedDir}}' "$ID")/tmp/tick
	retry 50 0.1 test -s "$tick"
	ticks_advance "$tick"

	run dk pause "$ID"
	assert_status 0
	[ "$(dk inspect -f '{{.State.Paused}}' "$ID")" = true ]
	state_is "$ID" paused
	run runtime_state "$CID"
	[ "$(jq -r .status <<<"$output")" = paused ] || fail "runtime state after pause: $output"
	ticks_frozen "$tick"
	# An exec into a paused container is refused, not hung.
	run dk exec "$ID" true
	assert_failure

	run dk unpause "$ID"
	assert_status 0
	[ "$(dk inspect -f '{{.State.Paused}}' "$ID")" = false ]
	state_is "$ID" running
	run runtime_state "$CID"
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state after unpause: $output"
	ticks_advance "$tick"

	run dk rm -f "$ID"
	assert_status 0
	assert_dk_clean "$ID" "$CID" "$root"
}

@test "dockerd: docker rm -f removes a paused container" {
	dk_detached "$ID" sleep 1000
	local root
	root=$(runtime_root "$CID")
	run dk pause "$ID"
	assert_status 0
	retry 20 0.1 state_is "$ID" paused
	run dk rm -f "$ID"
	assert_status 0
	pid_gone "$CPID"
	assert_dk_clean "$ID" "$CID" "$root"
}

@test "dockerd: docker top lists the container's processes" {
	dk_detached "$ID" sh -c 'sleep 1000 & exec sleep 1001'
	local root
	root=$(runtime_root "$CID")
	retry 50 0.1 pgrep -f -P "$CPID" 'sleep 1000'
	run dk top "$ID" -o pid,args
	assert_status 0
	grep -qE "^ *$CPID +sleep 1001" <<<"$output" || fail "init $CPID not in: $output"
	grep -qE "sleep 1000" <<<"$output" || fail "child not in: $output"
	run dk rm -f "$ID"
	assert_status 0
	assert_dk_clean "$ID" "$CID" "$root"
}

@test "dockerd: docker update changes the container's cgroup limits" {
	dk_detached "$ID" sleep 1000
	local root
	root=$(runtime_root "$CID")
	run dk update --cpu-shares 512 --pids-limit 50 "$ID"
	assert_status 0
	if [ -f /sys/fs/cgroup/cpu/cpu.shares ]; then
		[ "$(cat "$(cgroup_dir "$CPID" cpu)/cpu.shares")" = 512 ] || fail "cpu.shares: $(cat "$(cgroup_dir "$CPID" cpu)/cpu.shares")"
		[ "$(cat "$(cgroup_dir "$CPID" pids)/pids.max")" = 50 ] || fail "pids.max: $(cat "$(cgroup_dir "$CPID" pids)/pids.max")"
	else
		local g
		g=/sys/fs/cgroup$(awk -F: '$1 == 0 { print $3 }' "/proc/$CPID/cgroup")
		[ "$(cat "$g/pids.max")" = 50 ] || fail "pids.max: $(cat "$g/pids.max")"
	fi
	[ "$(dk inspect -f '{{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}' "$ID")" = "512 50" ]
	run dk rm -f "$ID"
	assert_status 0
	assert_dk_clean "$ID" "$CID" "$root"
}

@test "dockerd: docker stop, docker start again, docker rm" {
	dk_detached "$ID" sh -c 'trap "exit 0" TERM; echo up; while :; do sleep 0.1; done'
	local root pid1=$CPID
	root=$(runtime_root "$CID")
	run dk stop -t 10 "$ID"
	assert_status 0
	state_is "$ID" exited
	[ "$(dk inspect -f '{{.State.ExitCode}}' "$ID")" = 0 ] || fail "exit code $(dk inspect -f '{{.State.ExitCode}}' "$ID") (SIGTERM not delivered?)"
	pid_gone "$pid1"
	! runtime_state "$CID" "$root" >/dev/null 2>&1 || fail "runtime still has $CID after stop"

	# The same container id is created again by the runtime.
	run dk start "$ID"
	assert_status 0
	retry 50 0.1 state_is "$ID" running
	run_file dk exec "$ID" echo again
	assert_status 0
	[ "$output" = again ]
	[ "$(dk logs "$ID" 2>&1 | grep -c up)" = 2 ]

	run dk rm -f "$ID"
	assert_status 0
	assert_dk_clean "$ID" "$CID" "$root"
}
