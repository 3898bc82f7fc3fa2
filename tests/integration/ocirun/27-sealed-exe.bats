#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The runc CVE-2019-5736 class: a container process must not be able to overwrite the
# runtime's binary on the host through /proc/<pid>/exe of a runtime process that runs in or
# next to the container. ocirun re-execs itself from a sealed memfd copy for create, run and
# exec (so /proc/<pid>/exe of every such process is "memfd:ocirun", not the host file), and
# its container init is non-dumpable until it execs the user process (so the container
# cannot open its /proc/<pid>/exe, mem, fds...).
#
# Every test here uses a private copy of the runtime ($RT) as the runtime, so that a
# successful attack could only ever damage that copy, never the build.

load ../helpers
load security-helpers

setup() {
	berth_setup
	mkdir "$TMP/rt"
	RT=$TMP/rt/$(basename "$OCIRUN")
	cp "$OCIRUN" "$RT"
	chmod 755 "$RT"
	RT_SHA=$(sha256sum "$RT" | awk '{print $1}')
}

# rt ARGS...: the copy, with this test's root, bounded in time.
rt() {
	timeout -k 5 "$OCIRUN_TIMEOUT" "$RT" --root "$ROOT" "$@"
}

# memfd_exe PID: PID's /proc/PID/exe is an anonymous memfd (not a file on disk).
memfd_exe() {
	local exe
	exe=$(readlink "/proc/$1/exe") || return 1
	[[ "$exe" == /memfd:* ]] || {
		echo "/proc/$1/exe is $exe" >&2
		return 1
	}
}

# no_pidns_bundle: a bundle without a pid namespace: the container sees host pids, and the
# runtime's own processes, as a real attacker in such a container would.
no_pidns_bundle() {
	make_bundle
	config_set '.linux.namespaces |= map(select(.type != "pid")) | .root.readonly = false'
}

# ocirun-only: runc 1.1 clones itself only for `runc init`.
@test "sealed exe: a foreground run's /proc/PID/exe is a memfd, not the binary" {
	skip_if_runc "1.1 clones itself only for runc init"
	make_bundle
	config_args sleep 100
	"$RT" --root "$ROOT" run --bundle "$BUNDLE" "$ID" >"$TMP/run.out" 2>&1 </dev/null &
	local pid=$!
	on_teardown kill -KILL "$pid"
	retry 50 0.1 status_is running
	memfd_exe "$pid"
	[[ "$(readlink "/proc/$pid/exe")" == "/memfd:ocirun"* ]] || fail "$(readlink "/proc/$pid/exe")"
	[ "$(readlink "/proc/$pid/exe")" != "$RT" ]
	rt kill "$ID" KILL
	wait_exit "$pid"
	[ "$(sha256sum "$RT" | awk '{print $1}')" = "$RT_SHA" ]
}

# ocirun-only: runc 1.1's init is dumpable; it relies on a read-only clone of its binary.
@test "sealed exe: the init of a created container runs from the memfd, and is not dumpable" {
	skip_if_runc "1.1's init is dumpable (it runs from a read-only clone instead)"
	no_pidns_bundle
	config_args sleep 100
	run_file rt create --bundle "$BUNDLE" "$ID"
	assert_status 0
	local pid
	pid=$(container_pid)
	memfd_exe "$pid"
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" != "sleep 100 " ]
	# From inside the container (same uid, same capabilities as the init), the init's
	# /proc entries are closed: it is non-dumpable until it execs.
	run_file rt exec "$ID" sh -c "readlink /proc/$pid/exe || echo exe-denied;
		cat /proc/$pid/environ >/dev/null 2>&1 || echo environ-denied;
		readlink /proc/$pid/fd/0 >/dev/null 2>&1 || echo fd-denied"
	assert_status 0
	grep -qx exe-denied <<<"$output" || fail "the init's exe is readable from the container: $output"
	grep -qx environ-denied <<<"$output" || fail "$output"
	grep -qx fd-denied <<<"$output" || fail "$output"
	# Once started, the process is the user's, dumpable again, and its exe the rootfs's.
	rt start "$ID"
	retry 50 0.1 test "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "sleep 100 "
	run_file rt exec "$ID" readlink "/proc/$pid/exe"
	assert_status 0
	[ "$output" = /bin/busybox ] || fail "$output"
	rt delete --force "$ID"
	assert_gone
}

@test "sealed exe: an exec'd process's runtime is a memfd too" {
	skip_if_runc "1.1 clones itself only for runc init"
	make_bundle
	config_args sleep 100
	run_file rt run --detach --bundle "$BUNDLE" "$ID"
	assert_status 0
	"$RT" --root "$ROOT" exec "$ID" sleep 100 >"$TMP/exec.out" 2>&1 </dev/null &
	local pid=$!
	on_teardown kill -KILL "$pid"
	# The exec'd process is the runtime's child once it runs.
	retry 50 0.1 grep -q '[0-9]' "/proc/$pid/task/$pid/children"
	memfd_exe "$pid"
	rt delete --force "$ID"
	wait_exit "$pid" || true
}

# CVE-2019-5736 itself. pid 1 of the container (no pid namespace: what the container sees as
# /proc/<pid> is the host's) execs /proc/self/exe, the runtime, with `--log /fifo list`:
# opening the log fifo blocks, so it sits in the runtime's code. A process exec'd into the
# container then opens /proc/<pid>/exe read-only (fd 3), unblocks pid 1 by reading the fifo,
# waits for it to exit (a running binary cannot be opened for writing: ETXTBSY), and
# re-opens fd 3 for writing through /proc/self/fd/3. Against a runtime that runs from its
# file on disk, that write replaces the host binary. Here it must fail, and the copy's
# sha256 must be unchanged. A control does the same to a plain file and must succeed.
@test "sealed exe: CVE-2019-5736: the container cannot overwrite the runtime through /proc/PID/exe" {
	no_pidns_bundle
	local rootfs=$BUNDLE/rootfs lib
	# The runtime must be able to run inside: its loader and libraries, at the same paths
	# (none for a static build: ldd fails, and there is nothing to copy).
	if ldd "$RT" >/dev/null 2>&1; then
		for lib in $(ldd "$RT" | grep -o '/[^ ]*'); do
			mkdir -p "$rootfs$(dirname "$lib")"
			cp -L "$lib" "$rootfs$lib"
		done
	fi
	mkfifo "$rootfs/fifo"
	echo original >"$rootfs/victim"
	cat >"$rootfs/attack.sh" <<'EOF'
#!/bin/sh
pid=$1
readlink /proc/$pid/exe
exec 3</proc/$pid/exe || { echo open-failed; exit 2; }
cat /fifo >/dev/null &
i=0
while [ -d /proc/$pid ] && ! grep -q '^State:[[:space:]]*Z' /proc/$pid/status 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo still-running; exit 3; }
	sleep 0.05
done
echo target-exited
if echo pwned >/proc/self/fd/3; then echo WROTE-RUNTIME; else echo write-refused; fi
exec 3<&-
exec 4</victim
if echo pwned >/proc/self/fd/4; then echo control-wrote; fi
EOF
	chmod 755 "$rootfs/attack.sh"
	config_args /proc/self/exe --log /fifo list
	run_file rt run --detach --bundle "$BUNDLE" "$ID"
	assert_status 0
	local pid
	pid=$(container_pid)
	# pid 1 is blocked in the runtime's code, opening the fifo.
	retry 50 0.1 test "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "/proc/self/exe --log /fifo list "
	is_runc || memfd_exe "$pid"

	run_file rt exec "$ID" /attack.sh "$pid"
	assert_status 0
	is_runc || grep -q '^/memfd:ocirun' <<<"${lines[0]}" || fail "pid 1's exe seen from inside: $output"
	grep -qx target-exited <<<"$output" || fail "$output"
	grep -qx write-refused <<<"$output" || fail "the runtime's exe was writable: $output"
	! grep -q WROTE-RUNTIME <<<"$output" || fail "wrote the runtime: $output"
	# The control: the same reopen trick works on a plain file, so the refusal above is the
	# memfd's seals, not a broken test.
	grep -qx control-wrote <<<"$output" || fail "control failed: $output"
	[ "$(cat "$rootfs/victim")" = pwned ]

	[ "$(sha256sum "$RT" | awk '{print $1}')" = "$RT_SHA" ] || fail "the runtime binary changed"
	! grep -q pwned "$RT" || fail "pwned is in the runtime binary"
	rt delete --force "$ID"
	assert_gone
}

@test "sealed exe: the memfd is sealed against writes, growing and shrinking" {
	skip_if_runc "checks ocirun's seals"
	make_bundle
	config_args sleep 100
	"$RT" --root "$ROOT" run --bundle "$BUNDLE" "$ID" >"$TMP/run.out" 2>&1 </dev/null &
	local pid=$!
	on_teardown kill -KILL "$pid"
	retry 50 0.1 status_is running
	memfd_exe "$pid"
	# Writing through /proc/PID/exe from the host, as root, fails too.
	if echo pwned >>"/proc/$pid/exe" 2>/dev/null; then
		fail "appended to the runtime's memfd"
	fi
	if dd if=/dev/zero of="/proc/$pid/exe" bs=1 count=1 conv=notrunc 2>/dev/null; then
		fail "wrote into the runtime's memfd"
	fi
	if truncate -s 0 "/proc/$pid/exe" 2>/dev/null; then
		fail "truncated the runtime's memfd"
	fi
	cmp -s "/proc/$pid/exe" "$RT" || fail "the memfd is not the binary"
	rt kill "$ID" KILL
	wait_exit "$pid"
}

# The CVE-2016-9962 class: between joining the container and exec'ing the user's program,
# an exec'd process runs the runtime's code inside the container with the container's uid
# and capabilities. If it is dumpable then, any process of the container can reach into it
# through /proc/<pid> (exe, fds such as the runtime's sync socket, mem). The container's init
# here scans /proc for readable exe links that are not its own busybox and records them.
# To make the window wide enough to hit every time, the exec'd command is looked up along a
# PATH of 40000 entries that each end in a symlink loop (ELOOP after 40 hops).
@test "sealed exe: an exec'd process is not dumpable while it runs the runtime's code" {
	make_bundle
	mkdir "$TMP/found"
	ln -s l "$BUNDLE/rootfs/l"
	config_mount /found bind "$TMP/found" bind rw
	# shellcheck disable=SC2016
	config_args sh -c 'echo scanning >/found/ready
		while :; do
			for p in /proc/[0-9]*; do
				e=$(readlink $p/exe 2>/dev/null) || continue
				[ "$e" = /bin/busybox ] || echo "$p $e" >>/found/exe
			done
		done'
	run_file rt run --detach --bundle "$BUNDLE" "$ID"
	assert_status 0
	retry 50 0.1 test -s "$TMP/found/ready"
	local path i
	path=$(printf '/l:%.0s' $(seq 1 40000))/bin
	for i in 1 2 3; do
		rt exec --env "PATH=$path" "$ID" true >"$TMP/exec.out" 2>&1 </dev/null ||
			fail "exec: $(cat "$TMP/exec.out")"
	done
	[ ! -s "$TMP/found/exe" ] || fail "the container read the exe of runtime processes in it: $(sort -u "$TMP/found/exe")"
	rt delete --force "$ID"
	assert_gone
}
