# SPDX-License-Identifier: Apache-2.0
# shim.bash: what the berth-shim tests share, loaded after ../helpers.bash.
#
#   SHIM         the berth-shim under test ($BERTH_BUILD_DIR/shim/berth-shim)
#   SHIM_CLIENT  tests/tools/shim-client, the client the tests drive it with
#   SOCK         $BUNDLE/shim.sock once start_shim ran
#
# setup() makes a busybox bundle (make_bundle) for a shim serving $ID, with the runtime under
# test ($OCIRUN) and the test's state root ($ROOT). teardown() kills a shim still running (a
# test may end with its container up), then the usual leak checks run; a sanitizer report in
# the shim's log fails the test.

BERTH_BUILD_DIR=${BERTH_BUILD_DIR:-$(cd "$(dirname "$OCIRUN")/.." && pwd)}
SHIM=${BERTH_SHIM:-$BERTH_BUILD_DIR/shim/berth-shim}
SHIM_CLIENT=${SHIM_CLIENT:-$BERTH_BUILD_DIR/tests/tools/shim-client/shim-client}

setup() {
	berth_setup
	if [ ! -x "$SHIM" ] || [ ! -x "$SHIM_CLIENT" ]; then
		echo "berth-shim or shim-client not built (BERTH_BUILD_DIR=$BERTH_BUILD_DIR)" >&2
		return 1
	fi
	make_bundle
	SOCK=$BUNDLE/shim.sock
	LOG=$TMP/ctr.log
}

teardown() {
	local rc=0 pid
	if [ -f "$BUNDLE/shim.pid" ]; then
		pid=$(cat "$BUNDLE/shim.pid")
		if pid_alive "$pid" && grep -q berth-shim "/proc/$pid/cmdline" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	if grep -q Sanitizer "$BUNDLE/shim.log" 2>/dev/null; then
		echo "sanitizer report in shim.log:" >&2
		cat "$BUNDLE/shim.log" >&2
		rc=1
	fi
	berth_teardown || rc=1
	return $rc
}

# start_shim [OPTIONS...]: start berth-shim for $ID on $BUNDLE; returns when it serves.
start_shim() {
	"$SHIM" --namespace test --id "$ID" --bundle "$BUNDLE" --runtime "${SHIM_RUNTIME:-$OCIRUN}" \
		--runtime-root "$ROOT" "$@" </dev/null
}

# sc METHOD [FIELD=VALUE...]: one request to the shim; the response (JSON) on stdout.
sc() {
	"$SHIM_CLIENT" "$SOCK" "$@"
}

# shim_pid: the daemon's pid.
shim_pid() {
	cat "$BUNDLE/shim.pid"
}

# create_task [FIELD=VALUE...]: start the shim and Create the task, logging to $LOG.
create_task() {
	start_shim
	run_file sc Create log.path="$LOG" "$@"
	assert_status 0
	TASK_PID=$(jq -r .pid "$OUTFILE")
	[ "$TASK_PID" -gt 0 ]
}

# state_field [EXEC_ID] FIELD: a field of State.
state_field() {
	if [ $# = 2 ]; then
		sc State exec_id="$1" | jq -r ".$2"
	else
		sc State | jq -r ".$1"
	fi
}

# status_of [EXEC_ID]: CREATED, RUNNING, STOPPED, PAUSED.
status_of() {
	if [ $# = 1 ]; then
		state_field "$1" status
	else
		state_field status
	fi
}

# is_status STATUS [EXEC_ID]: for retry.
is_status() {
	[ "$(status_of "${@:2}")" = "$1" ]
}

# wait_stopped [EXEC_ID]: until the process is reported stopped (at most 10 s).
wait_stopped() {
	retry 100 0.1 is_status STOPPED "$@"
}

# events_start: collect events in $TMP/events (JSON lines) from now on; returns once the
# shim accepted the client.
events_start() {
	EVENTS=$TMP/events
	"$SHIM_CLIENT" "$SOCK" events >"$EVENTS" 2>&1 </dev/null &
	on_teardown kill $! 
	retry 50 0.1 file_has "$EVENTS" connected
}

# has_event KIND [EXEC_ID]: an event of that kind (for that exec) was received.
has_event() {
	grep -v '^connected$' "$EVENTS" |
		jq -s -e --arg k "$1" --arg e "${2:-}" 'any(.[]; .kind == $k and .exec_id == $e)' >/dev/null 2>&1
}

# process_spec FILE ARG...: an exec process spec running ARG... (terminal false).
process_spec() {
	local f=$1
	shift
	jq -n --argjson a "$(json_array "$@")" \
		'{args: $a, cwd: "/", env: ["PATH=/usr/bin:/bin"], user: {uid: 0, gid: 0}, terminal: false}' >"$f"
}

# shim_gone: the daemon has exited and its socket is removed.
shim_gone() {
	local pid=$1
	pid_gone "$pid" && [ ! -e "$SOCK" ]
}

# log_field FIELD: that field of each record of $LOG, one a line, JSON-encoded (so \n shows).
log_field() {
	jq -c ".$1" "$LOG"
}
