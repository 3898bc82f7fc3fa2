#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# exec: a new process in a running container joins all its namespaces and its cgroup, keeps
# its seccomp filter and capabilities (--cap adds one), and takes the command line's
# overrides: --process, args, --env, --cwd, --user, --additional-gids, --no-new-privs,
# --tty, --detach with --pid-file, --preserve-fds. Its exit status is exec's. Exec into a
# stopped container, or of a missing binary, fails clearly and leaves no process.

load ../helpers
load security-helpers

ARCHES='["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]'
NS_TYPES="cgroup ipc mnt net pid time user uts"

# running_container [JQ-FILTER]: $ID running `sleep 100` from a fresh bundle (edited by
# JQ-FILTER); sets INIT to its host pid.
running_container() {
	make_bundle
	[ -z "${1:-}" ] || config_set "$1"
	config_args sleep 100
	run_detached
	assert_status 0
	INIT=$(container_pid)
}

# exec_out ARGS...: `ocirun exec ARGS...` into $ID through run_file.
exec_out() {
	run_file ocirun exec "$@"
}

@test "exec: the process is in every namespace of the container's init" {
	running_container
	# shellcheck disable=SC2016
	exec_out "$ID" sh -c 'for n in $0; do readlink /proc/self/ns/$n 2>/dev/null || echo "$n:none"; done' "$NS_TYPES"
	assert_status 0
	local n want=
	for n in $NS_TYPES; do
		want+="$(readlink "/proc/$INIT/ns/$n" 2>/dev/null || echo "$n:none")"$'\n'
	done
	[ "$output" = "${want%$'\n'}" ] || fail "exec: $output
init: $want"
	# And the container's namespaces are not the host's (the test would prove little if
	# they were).
	[ "$(readlink "/proc/$INIT/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
	[ "$(readlink "/proc/$INIT/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
}

@test "exec: the process is in the container's cgroups" {
	running_container
	exec_out "$ID" sh -c 'cat /proc/self/cgroup; echo --; cat /proc/1/cgroup'
	assert_status 0
	[ "$(sed -n '1,/^--$/p' <<<"$output" | sed '$d')" = "$(sed -n '/^--$/,$p' <<<"$output" | sed 1d)" ] ||
		fail "exec and init cgroups differ: $output"
	# From the host: a detached exec's cgroups are the init's.
	run_file ocirun exec --detach --pid-file "$TMP/exec.pid" "$ID" sleep 100
	assert_status 0
	[ "$(cat "/proc/$(cat "$TMP/exec.pid")/cgroup")" = "$(cat "/proc/$INIT/cgroup")" ]
	grep -q "$ID" "/proc/$(cat "$TMP/exec.pid")/cgroup"
}

@test "exec: the container's seccomp filter applies (mkdir denied for exec too)" {
	make_bundle
	config_set --argjson a "$ARCHES" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		architectures: $a, syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}'
	config_mount /tmp tmpfs tmpfs
	config_args sleep 100
	run_detached
	assert_status 0
	exec_out "$ID" sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/x; echo "mkdir=$?"'
	assert_status 0
	assert_output_contains "Function not implemented" "mkdir=1"
	[ "$(status_field Seccomp)" = 2 ] || fail "$output"
}

@test "exec: the process has the container's capabilities" {
	running_container '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
		effective: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
		permitted: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
		inheritable: [], ambient: []}'
	exec_out "$ID" grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
	assert_status 0
	local f
	for f in CapEff CapPrm CapBnd CapInh CapAmb; do
		[ "$(status_field "$f")" = "$(proc_field "$INIT" "$f")" ] ||
			fail "$f: exec $(status_field "$f"), init $(proc_field "$INIT" "$f")"
	done
	[ "$(status_field CapEff)" = "$(cap_mask CAP_KILL CAP_NET_BIND_SERVICE CAP_CHOWN)" ] || fail "$output"
}

@test "exec --cap CAP_SYS_ADMIN adds it to the process's sets, not to the container's" {
	running_container
	exec_out --cap CAP_SYS_ADMIN "$ID" grep -E '^Cap(Eff|Bnd):' /proc/self/status
	assert_status 0
	local bit eff init_eff
	bit=$(cap_number CAP_SYS_ADMIN)
	eff=$((0x$(status_field CapEff)))
	init_eff=$((0x$(proc_field "$INIT" CapEff)))
	((eff & (1 << bit))) || fail "no CAP_SYS_ADMIN in CapEff: $output"
	((0x$(status_field CapBnd) & (1 << bit))) || fail "no CAP_SYS_ADMIN in CapBnd: $output"
	# Everything the init has, plus CAP_SYS_ADMIN.
	[ $((eff & init_eff)) = "$init_eff" ] || fail "exec lost capabilities: $output"
	((!(init_eff & (1 << bit)))) || fail "the init had CAP_SYS_ADMIN already"
	# It works: sethostname needs it (and, unlike mount, the default seccomp profile allows
	# it).
	exec_out "$ID" hostname not-allowed
	assert_failure
	exec_out --cap CAP_SYS_ADMIN "$ID" sh -c 'hostname exec-set && hostname'
	assert_status 0
	[ "$output" = exec-set ] || fail "$output"
	# A later exec without --cap does not have it.
	exec_out "$ID" grep '^CapEff:' /proc/self/status
	[ "$(status_field CapEff)" = "$(proc_field "$INIT" CapEff)" ] || fail "$output"
}

@test "exec --process FILE: args, env, cwd and user from the file" {
	running_container
	jq -n '{args: ["sh", "-c", "echo \"$FOO\"; pwd; id -u; id -g"], env: ["PATH=/bin", "FOO=from-file"],
		cwd: "/tmp", user: {uid: 1000, gid: 1001}}' >"$TMP/process.json"
	exec_out --process "$TMP/process.json" "$ID"
	assert_status 0
	[ "$output" = "from-file
/tmp
1000
1001" ] || fail "$output"
}

@test "exec: args are passed exactly" {
	running_container
	# shellcheck disable=SC2016
	exec_out "$ID" sh -c 'printf "[%s]" "$0" "$@"' zero "two words" "" '$HOME' '*'
	assert_status 0
	[ "$output" = '[zero][two words][][$HOME][*]' ] || fail "$output"
}

@test "exec --env adds and overrides variables, keeps the container's" {
	running_container '.process.env = ["PATH=/bin:/sbin", "KEEP=kept", "OVER=old"]'
	exec_out --env FOO=bar --env "OVER=new value" "$ID" sh -c 'echo "$FOO|$OVER|$KEEP|$PATH"'
	assert_status 0
	[ "$output" = "bar|new value|kept|/bin:/sbin" ] || fail "$output"
}

@test "exec --cwd" {
	running_container
	exec_out --cwd /etc "$ID" pwd
	assert_status 0
	[ "$output" = /etc ] || fail "$output"
}

@test "exec --user uid:gid and --additional-gids" {
	running_container
	exec_out --user 1000:1001 "$ID" sh -c 'id -u; id -g; id -G'
	assert_status 0
	[ "${lines[0]}" = 1000 ] || fail "$output"
	[ "${lines[1]}" = 1001 ] || fail "$output"
	[ "${lines[2]}" = 1001 ] || fail "$output"
	exec_out --user 1000:1001 --additional-gids 10 --additional-gids 20 "$ID" id -G
	assert_status 0
	[ "$(tr ' ' '\n' <<<"$output" | sort -n | tr '\n' ' ')" = "10 20 1001 " ] || fail "$output"
	# The init is still root.
	[ "$(proc_field "$INIT" Uid)" = 0 ]
}

@test "exec --no-new-privs" {
	running_container '.process.noNewPrivileges = false'
	exec_out "$ID" grep '^NoNewPrivs:' /proc/self/status
	assert_status 0
	[ "$(status_field NoNewPrivs)" = 0 ] || fail "$output"
	exec_out --no-new-privs "$ID" grep '^NoNewPrivs:' /proc/self/status
	assert_status 0
	[ "$(status_field NoNewPrivs)" = 1 ] || fail "$output"
}

@test "exec --tty from a terminal: the process gets a pty" {
	running_container
	# script(1) gives ocirun a terminal on stdin.
	run_file script -qec "$(printf '%q ' "$OCIRUN" --root "$ROOT" exec --tty "$ID" \
		sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo all-tty')" /dev/null
	assert_status 0
	# script(1) with stdin at EOF may echo a "^@" into the transcript.
	output=$(tr -d '\r' <<<"$output" | sed 's/\^@//g')
	grep -qx '/dev/pts/[0-9]*' <<<"$output" || fail "$output"
	grep -qx all-tty <<<"$output" || fail "$output"
}

@test "exec --tty --detach --console-socket: the pty master goes to the socket" {
	running_container
	console_receiver "$TMP/console.sock" "$TMP/console.out"
	run_file ocirun exec --tty --detach --console-socket "$TMP/console.sock" \
		--pid-file "$TMP/exec.pid" "$ID" sh -c 'tty; echo through-the-pty'
	assert_status 0
	retry 50 0.1 pid_gone "$RECV_PID"
	grep -qx '/dev/pts/[0-9]*' "$TMP/console.out" || fail "$(cat "$TMP/console.out")"
	grep -qx through-the-pty "$TMP/console.out" || fail "$(cat "$TMP/console.out")"
}

@test "exec without --tty has no terminal" {
	running_container
	exec_out "$ID" sh -c '[ -t 0 ] || [ -t 1 ] || echo no-tty'
	assert_status 0
	[ "$output" = no-tty ] || fail "$output"
}

@test "exec --detach --pid-file: the pid is alive and in the container's pid namespace" {
	running_container
	local t0=$SECONDS pid
	run_file ocirun exec --detach --pid-file "$TMP/exec.pid" "$ID" sleep 100
	assert_status 0
	[ $((SECONDS - t0)) -lt 10 ]
	pid=$(cat "$TMP/exec.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || fail "pid file: $pid"
	pid_alive "$pid"
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$INIT/ns/pid")" ]
	# Inside, it has a small pid of the container's namespace.
	local inner
	inner=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")
	[ "$inner" -gt 1 ] && [ "$inner" -lt 100 ] || fail "NSpid: $(grep NSpid "/proc/$pid/status")"
	ocirun delete --force "$ID"
	retry 50 0.1 pid_gone "$pid"
	assert_gone
}

@test "exec --preserve-fds 1: fd 3 is passed, fd 4 is not" {
	running_container
	echo "passed-through" >"$TMP/fd3"
	echo "not-passed" >"$TMP/fd4"
	ocirun exec --preserve-fds 1 "$ID" sh -c 'cat /proc/self/fd/3; [ -e /proc/self/fd/4 ] && echo fd4-open; true' \
		3<"$TMP/fd3" 4<"$TMP/fd4" >"$TMP/out" 2>&1 </dev/null
	[ "$(cat "$TMP/out")" = passed-through ] || fail "$(cat "$TMP/out")"
	# Without --preserve-fds, fd 3 is not passed.
	ocirun exec "$ID" sh -c '[ -e /proc/self/fd/3 ] && cat /proc/self/fd/3; echo done' \
		3<"$TMP/fd3" >"$TMP/out" 2>&1 </dev/null
	[ "$(cat "$TMP/out")" = "done" ] || fail "$(cat "$TMP/out")"
}

@test "exec: the process's exit status is exec's" {
	running_container
	exec_out "$ID" sh -c 'exit 42'
	assert_status 42
	exec_out "$ID" true
	assert_status 0
	exec_out "$ID" sh -c 'kill -KILL $$'
	assert_status 137
	# The container goes on.
	[ "$(container_status)" = running ]
}

@test "exec: stdout and stderr come through separately, stdin is passed" {
	running_container
	echo from-stdin | ocirun exec "$ID" sh -c 'cat; echo to-stderr >&2' >"$TMP/stdout" 2>"$TMP/stderr"
	[ "$(cat "$TMP/stdout")" = from-stdin ]
	[ "$(cat "$TMP/stderr")" = to-stderr ]
}

@test "exec into a stopped container fails, naming it; no process is left" {
	make_bundle
	config_args true
	create_container
	assert_status 0
	ocirun start "$ID"
	retry 50 0.1 status_is stopped
	exec_out "$ID" sh -c "sleep 100; : $ID-exec-marker"
	assert_failure
	# runc: "cannot exec in a stopped container", without the id.
	is_runc || assert_output_contains "$ID"
	assert_output_contains_any stopped "not running"
	[ -z "$(pids_matching "$ID-exec-marker")" ] || fail "stray: $(pids_matching "$ID-exec-marker")"
	# The container can still be deleted, and nothing remains.
	ocirun delete "$ID"
	assert_gone
}

@test "exec of a missing binary fails, naming it; no process is left" {
	running_container
	local before
	before=$(pids_matching "$ID" | wc -l)
	exec_out "$ID" no-such-binary-here arg
	assert_failure
	assert_output_contains no-such-binary-here
	exec_out "$ID" /bin/no-such-binary-here
	assert_failure
	assert_output_contains /bin/no-such-binary-here
	retry 20 0.1 test "$(pids_matching "$ID" | wc -l)" = "$before"
	[ "$(container_status)" = running ]
}

@test "exec into an unknown container fails, naming it" {
	exec_out "$ID-nosuch" true
	assert_unknown_container "$ID-nosuch"
}
