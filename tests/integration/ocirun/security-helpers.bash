# SPDX-License-Identifier: Apache-2.0
# security-helpers.bash: what the security, exec, terminal and hook files (21-28) share on top
# of ../helpers: capability masks, a console-socket receiver (and run_on_console, which
# drives a container through it), a logging hook script, and "nothing of this container is
# left" checks. Load it after ../helpers:
#
#   load ../helpers
#   load security-helpers

# ---------------------------------------------------------------------------------------
# Capabilities
# ---------------------------------------------------------------------------------------

# The numbers of linux/capability.h, in order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
CAP_NAMES=(
	CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID
	CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST
	CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO
	CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE
	CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE CAP_AUDIT_WRITE
	CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM
	CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE
)

# cap_number NAME: the capability's bit number.
cap_number() {
	local i
	for i in "${!CAP_NAMES[@]}"; do
		if [ "${CAP_NAMES[i]}" = "$1" ]; then
			echo "$i"
			return 0
		fi
	done
	echo "cap_number: unknown capability $1" >&2
	return 1
}

# cap_mask NAME...: the mask of those capabilities as /proc/PID/status prints it (16 hex
# digits); no name gives 0000000000000000.
cap_mask() {
	local m=0 n c
	for c in "$@"; do
		n=$(cap_number "$c") || return 1
		m=$((m | (1 << n)))
	done
	printf '%016x\n' "$m"
}

# set_caps BND EFF INH PRM AMB: process.capabilities from five space-separated name lists
# (bounding, effective, inheritable, permitted, ambient; "" for an empty set).
set_caps() {
	# shellcheck disable=SC2086 # splitting the name lists is the point
	config_set --argjson b "$(json_array $1)" --argjson e "$(json_array $2)" \
		--argjson i "$(json_array $3)" --argjson p "$(json_array $4)" \
		--argjson a "$(json_array $5)" \
		'.process.capabilities = {bounding: $b, effective: $e, inheritable: $i,
		  permitted: $p, ambient: $a}'
}

# status_field FIELD [TEXT]: the value of "FIELD:" in /proc/PID/status text (default $output).
status_field() {
	awk -v f="$1:" '$1 == f { print $2; exit }' <<<"${2-$output}"
}

# proc_field PID FIELD: the value of "FIELD:" in /proc/PID/status.
proc_field() {
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

# ---------------------------------------------------------------------------------------
# Nothing left behind
# ---------------------------------------------------------------------------------------

# assert_gone [ID]: assert_nothing_left, and explicitly no state directory under $ROOT and no
# live process whose command line or cgroup names the id.
assert_gone() {
	local id=${1:-$ID}
	assert_nothing_left "$id"
	[ ! -e "$ROOT/$id" ] || fail "state dir $ROOT/$id remains"
	[ -z "$(pids_matching "$id")" ] || fail "processes of $id remain: $(pids_matching "$id")"
	if [ -d "$ROOT" ]; then
		! ocirun list -q 2>/dev/null | grep -qxF "$id" || fail "$id is still listed"
	fi
}

# ---------------------------------------------------------------------------------------
# Terminals
# ---------------------------------------------------------------------------------------

# console_receiver SOCKET OUTFILE: start a console-socket receiver in the background. It
# listens on SOCKET, takes the pty master the runtime sends (SCM_RIGHTS), writes the name
# sent with it to OUTFILE.name, writes everything the container prints to OUTFILE (with the
# pty's \r removed), and exits when the container's side of the pty closes (EIO), or after
# 30 s in all. Anything in $TMP/console.in is typed into the pty first. Sets RECV_PID.
console_receiver() {
	local sock=$1 out=$2
	cat >"$TMP/console-recv.py" <<'EOF'
import os, socket, sys, time, select
sock_path, out_path = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 30
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock_path)
s.listen(1)
s.settimeout(30)
conn, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(conn, 1024, 4)
conn.close()
s.close()
with open(out_path + ".name", "wb") as f:
    f.write(msg)
if not fds:
    sys.exit("no fd received")
master = fds[0]
try:
    with open(os.path.join(os.path.dirname(out_path), "console.in"), "rb") as f:
        os.write(master, f.read())
except FileNotFoundError:
    pass
with open(out_path, "wb") as f:
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        f.write(data.replace(b"\r", b""))
        f.flush()
EOF
	python3 "$TMP/console-recv.py" "$sock" "$out" >"$out.log" 2>&1 </dev/null &
	RECV_PID=$!
	on_teardown kill -KILL "$RECV_PID"
	retry 50 0.1 test -S "$sock"
}

# ---------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------

# write_hook_script PATH: a hook that logs. Called as `PATH NAME LOG [ARG...]` (args[0] is
# its own name), it appends NAME to LOG and leaves, next to LOG:
#   LOG.NAME.state  its stdin (the state JSON)
#   LOG.NAME.mnt    readlink /proc/self/ns/mnt
#   LOG.NAME.args   its arguments after NAME and LOG, one per line
#   LOG.NAME.env    its environment (env, sorted)
# It must work with the host's /bin/sh and busybox sh alike (startContainer runs it inside).
write_hook_script() {
	cat >"$1" <<'EOF'
#!/bin/sh
name=$1
log=$2
shift 2
cat >"$log.$name.state"
readlink /proc/self/ns/mnt >"$log.$name.mnt"
: >"$log.$name.args"
for a in "$@"; do
	printf '%s\n' "$a" >>"$log.$name.args"
done
env | sort >"$log.$name.env"
echo "$name" >>"$log"
EOF
	chmod 755 "$1"
}

# run_on_console [ID]: create ID from $BUNDLE (process.terminal true) with --console-socket
# $TMP/console.sock served by console_receiver (output in $TMP/console.out), start it, wait
# for it to stop and for the receiver to drain the pty, and delete it. runc refuses
# --console-socket on a foreground `run`, so this goes through create and start.
run_on_console() {
	local id=${1:-$ID}
	console_receiver "$TMP/console.sock" "$TMP/console.out"
	create_container "$id" --console-socket "$TMP/console.sock"
	assert_status 0
	ocirun start "$id"
	retry 100 0.1 status_is stopped "$id"
	retry 50 0.1 pid_gone "$RECV_PID"
	ocirun delete "$id"
	# shellcheck disable=SC2034 # for the caller
	CONSOLE_OUT=$(cat "$TMP/console.out")
}
