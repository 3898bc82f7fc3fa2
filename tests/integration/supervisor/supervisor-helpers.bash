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
# and tears everything down: tasks killed and deleted, supervisor stopped, shims gone. In a
# sanitizer build (BERTH_SANITIZE), a test also fails at teardown when the supervisor, a shim,
# ocirun or berth-ctr reported an error: see sanitizer_reports.

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
	# ASan and LeakSanitizer reports of every process below this test (a shim's log goes
	# with its task) land in $TMP/sanitizer.<pid>. UBSan keeps writing to stderr (in ASan's
	# runtime it ignores log_path): the supervisor's lands in supervisor.log, a shim's in its
	# shim.log. Options given by the caller (ctest's) are kept.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TMP/sanitizer"
	on_teardown supervisor_cleanup
}

setup() {
	supervisor_setup
}

# sanitizer_reports: print the sanitizer reports of this test's stack (for teardown, once
# the supervisor has stopped, LeakSanitizer reporting as it exits); fail if there are any.
sanitizer_reports() {
	local f found=0
	for f in "$TMP"/sanitizer.* "$TMP/supervisor.log" "$SSTATE"/tasks/*/*/shim.log; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$f"; then
			echo "sanitizer report in $f:" >&2
			grep -E -A40 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$f" | head -80 >&2
			found=1
		fi
	done
	return $found
}

teardown() {
	local rc=0
	# Only a stack this test made (TMP unset: setup skipped or failed early).
	if [[ "${TMP:-}" == */berth-it.* ]] && [ -n "${SSTATE:-}" ]; then
		supervisor_cleanup
		sanitizer_reports || rc=1
	fi
	berth_teardown || rc=1
	return $rc
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

no_shims() {
	[ -z "$(shim_pids)" ]
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

# task_status_is ID STATUS: for retry, which must re-run the check itself
# (`retry 10 0.1 [ "$(task_status x)" = y ]` would expand the status once, before retrying).
task_status_is() {
	[ "$(task_status "$1")" = "$2" ]
}

supervisor_cleanup() {
	local ns c
	local deleted=
	if [ -n "$SUP_PID" ] && [ -S "$SOCK" ]; then
		deleted=1
		for ns in $(ctr namespaces ls -q 2>/dev/null); do
			for c in $("$CTR" --address "$SOCK" --namespace "$ns" tasks ls --format json 2>/dev/null |
				jq -r '(if type == "array" then . else .tasks end)[].container_id'); do
				"$CTR" --address "$SOCK" --namespace "$ns" tasks kill -s KILL --all "$c" >/dev/null 2>&1 || true
				"$CTR" --address "$SOCK" --namespace "$ns" tasks rm -f "$c" >/dev/null 2>&1 || true
			done
		done
	fi
	kill_supervisor TERM
	# A shim exits by itself once its task is deleted: give it a moment (and LeakSanitizer
	# the time to report) before killing what is left.
	if [ -n "$deleted" ]; then
		retry 20 0.1 no_shims >/dev/null 2>&1 || true
	fi
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
