# SPDX-License-Identifier: Apache-2.0
# supervisor-helpers.bash: a whole berth-supervisor stack per test, in $TMP.
#
# Load after ../helpers. Gives:
#   SUPERVISOR, SHIM, CTR   the built binaries (from BERTH_BUILD_DIR, else PATH)
#   SROOT, SSTATE, SOCK     the supervisor's --root, --state and --address
#   ROOT                    the runtime root of namespace "default" (so the leak checks of
#                           ../helpers see the containers the shims made)
#   start_supervisor [BINARY]   start one (in the background) and wait for its socket
#   kill_supervisor [SIGNAL]    stop it (default TERM) and wait for it to go
#   ctr ARGS...                 berth-ctr against this stack
#   make_rootfs DIR             a busybox root filesystem at DIR
# and tears everything down: tasks killed and deleted, supervisor stopped, shims gone.

BERTH_BUILD_DIR=${BERTH_BUILD_DIR:-}
bin_of() {
	local rel=$1 name=${1##*/}
	if [ -n "$BERTH_BUILD_DIR" ] && [ -x "$BERTH_BUILD_DIR/$rel" ]; then
		echo "$BERTH_BUILD_DIR/$rel"
	else
		command -v "$name" || echo "$name"
	fi
}
SUPERVISOR=$(bin_of supervisor/berth-supervisor)
SHIM=$(bin_of shim/berth-shim)
CTR=$(bin_of supervisor/ctr/berth-ctr)

supervisor_setup() {
	berth_setup
	SROOT=$TMP/sroot
	SSTATE=$TMP/sstate
	SOCK=$TMP/s.sock
	ROOT=$SSTATE/runtime/default
	SUP_PID=
	on_teardown supervisor_cleanup
}

setup() {
	supervisor_setup
}

# start_supervisor [BINARY]: the supervisor (or another build of it: an upgrade), logging to
# $TMP/supervisor.log.
start_supervisor() {
	local bin=${1:-$SUPERVISOR}
	rm -f "$SOCK"
	"$bin" --root "$SROOT" --state "$SSTATE" --address "$SOCK" --runtime "$OCIRUN" \
		--shim "$SHIM" --debug 2>>"$TMP/supervisor.log" 3>&- &
	SUP_PID=$!
	retry 100 0.1 test -S "$SOCK" || {
		cat "$TMP/supervisor.log" >&2
		fail "supervisor did not start"
	}
	retry 50 0.1 "$CTR" --address "$SOCK" version >/dev/null
}

kill_supervisor() {
	local sig=${1:-TERM}
	[ -n "$SUP_PID" ] || return 0
	kill "-$sig" "$SUP_PID" 2>/dev/null || true
	wait "$SUP_PID" 2>/dev/null || true
	SUP_PID=
}

ctr() {
	"$CTR" --address "$SOCK" "$@"
}

# shim_pids: the shims serving this test's state dir.
shim_pids() {
	pgrep -f "berth-shim .*--bundle $SSTATE/" || true
}

make_rootfs() {
	local dir=$1
	local cache=${BATS_FILE_TMPDIR:-$TMP}/busybox-bundle
	if [ ! -f "$cache/config.json" ]; then
		"$BERTH_SOURCE_DIR/contrib/busybox-bundle" "$cache" "$OCIRUN" >&2 || return 1
	fi
	mkdir -p "$(dirname "$dir")"
	cp -a "$cache/rootfs" "$dir"
}

# The state of the task of container $1 in namespace default, as JSON (from tasks ls).
task_json() {
	ctr tasks ls --format json | jq -c --arg id "$1" '(if type == "array" then . else .tasks end)[] | select(.container_id == $id)'
}

task_status() {
	task_json "$1" | jq -r .status
}

supervisor_cleanup() {
	local ns c
	if [ -n "$SUP_PID" ] && [ -S "$SOCK" ]; then
		for ns in $(ctr namespaces ls -q 2>/dev/null); do
			for c in $("$CTR" --address "$SOCK" --namespace "$ns" tasks ls --format json 2>/dev/null |
				jq -r '(if type == "array" then . else .tasks end)[].container_id'); do
				"$CTR" --address "$SOCK" --namespace "$ns" tasks kill -s KILL --all "$c" >/dev/null 2>&1 || true
				"$CTR" --address "$SOCK" --namespace "$ns" tasks rm -f "$c" >/dev/null 2>&1 || true
			done
		done
	fi
	kill_supervisor TERM
	local p
	for p in $(shim_pids); do
		kill -KILL "$p" 2>/dev/null || true
	done
	# Whatever the shims left: containers in any namespace's runtime root.
	local r
	for r in "$SSTATE"/runtime/*; do
		[ -d "$r" ] || continue
		for c in $("$OCIRUN" --root "$r" list -q 2>/dev/null); do
			"$OCIRUN" --root "$r" kill --all "$c" KILL >/dev/null 2>&1 || true
			"$OCIRUN" --root "$r" delete --force "$c" >/dev/null 2>&1 || true
		done
	done
}
