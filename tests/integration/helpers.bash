# SPDX-License-Identifier: Apache-2.0
# helpers.bash: what every integration test shares, whatever binary it drives.
#
# Loaded by each tests/integration/<binary>/NN-topic.bats with `load ../helpers`. It gives
# each test:
#   TMP      a fresh temp dir (removed at teardown), made world-traversable so a container
#            running as another uid (user namespaces) can reach its rootfs
#   ROOT     "$TMP/state", passed as --root to every `ocirun` call
#   ID       a container id unique to this test; more ids come from `new_id`; every id of
#            the test contains $ID, which is what the leak checks look for
#   BUNDLE   set by make_bundle
# and checks at teardown that the test left nothing behind (containers, mounts, cgroups,
# processes): a leak is cleaned up and then fails the test.
#
# Environment:
#   OCIRUN            runtime under test (ctest: the built ocirun; by hand e.g. /usr/sbin/runc)
#   BERTH_SOURCE_DIR  source tree (default: derived from this file's path)
#   BERTH_BUILD_DIR   build tree (unused here; for later binaries: berthd, supervisor)
#   OCIRUN_TIMEOUT    seconds one ocirun call may take before it is killed (default 60)
#
# A file needing more setup defines its own setup()/teardown() and calls berth_setup /
# berth_teardown from them. Daemons started by later suites (berthd, supervisor) register
# their stop command with `on_teardown`, which runs before the leak checks.

BERTH_SOURCE_DIR=${BERTH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BERTH_BUILD_DIR=${BERTH_BUILD_DIR:-}
OCIRUN_TIMEOUT=${OCIRUN_TIMEOUT:-60}
# A bare name is looked up in PATH (OCIRUN=runc works).
if [ -z "${OCIRUN:-}" ]; then
	OCIRUN=$(command -v ocirun || true)
elif [[ "$OCIRUN" != */* ]]; then
	OCIRUN=$(command -v "$OCIRUN" || echo "$OCIRUN")
fi

# ---------------------------------------------------------------------------------------
# Which runtime is under test
# ---------------------------------------------------------------------------------------

# OCIRUN_NAME: the first word of `$OCIRUN --version` ("runc", "crun", "ocirun").
OCIRUN_NAME=
if [ -n "${OCIRUN:-}" ] && [ -x "$OCIRUN" ]; then
	OCIRUN_NAME=$("$OCIRUN" --version 2>/dev/null | head -1 | awk '{print $1}')
fi

is_runc() { [ "$OCIRUN_NAME" = runc ]; }
is_crun() { [ "$OCIRUN_NAME" = crun ]; }

# skip_if_runc REASON: for behaviour where ocirun intentionally differs from runc, or where
# runc fails on this machine for environmental reasons. Mark the test `# ocirun-only:`.
skip_if_runc() {
	if is_runc; then
		skip "runc: $*"
	fi
}

# skip_if_not_ocirun REASON: for checks only ocirun promises (stricter error messages).
skip_if_not_ocirun() {
	if [ "$OCIRUN_NAME" != ocirun ]; then
		skip "$OCIRUN_NAME: $*"
	fi
}

require_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root"
	fi
}

# ---------------------------------------------------------------------------------------
# Setup and teardown
# ---------------------------------------------------------------------------------------

berth_setup() {
	require_root
	if [ -z "${OCIRUN:-}" ] || [ ! -x "$OCIRUN" ]; then
		echo "OCIRUN is not set to an executable (got '${OCIRUN:-}')" >&2
		return 1
	fi
	TMP=
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/berth-it.XXXXXX")
	chmod 0755 "$TMP"
	ROOT=$TMP/state
	# The id ends with a letter so that test 3's ids never contain test 30's.
	ID="bt$$-${BATS_TEST_NUMBER}-c"
	BUNDLE=
	N_RUNS=0
	TEARDOWN_HOOKS=()
}

# on_teardown CMD...: run CMD at teardown (last registered first), before the leak checks.
# For resources a test makes itself: a netns mount, a background ocirun, a daemon.
on_teardown() {
	local q
	q=$(printf '%q ' "$@")
	TEARDOWN_HOOKS+=("$q")
}

berth_teardown() {
	local rc=0 i
	# TMP is a common environment variable: only ever clean what berth_setup made.
	[[ "${TMP:-}" == */berth-it.* ]] && [ -d "$TMP" ] || return 0

	for ((i = ${#TEARDOWN_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${TEARDOWN_HOOKS[i]}" >/dev/null 2>&1 || true
	done

	# What the runtime still knows about is not a leak: the test may simply end there.
	local c
	if [ -d "$ROOT" ]; then
		for c in $(ocirun list -q 2>/dev/null); do
			ocirun delete --force "$c" >/dev/null 2>&1 || true
		done
	fi

	local leaks
	leaks=$(find_leaks_settled "$ID")
	if [ -n "$leaks" ]; then
		echo "teardown: the test left behind:" >&2
		echo "$leaks" >&2
		cleanup_leaks "$ID"
		rc=1
	fi
	# Never rm -rf through a mount point that could still reach host data.
	if [ -n "$(mounts_under "$TMP")" ]; then
		echo "teardown: mounts remain under $TMP, not removing it" >&2
		return 1
	fi
	rm -rf --one-file-system "$TMP"
	return $rc
}

setup() {
	berth_setup
}

teardown() {
	berth_teardown
}

# new_id [SUFFIX]: another container id for this test, containing $ID; without SUFFIX, a
# counter kept in a file, so that `id2=$(new_id)` works from a subshell.
new_id() {
	local n=0
	if [ -z "${1:-}" ]; then
		[ -f "$TMP/.n_ids" ] && n=$(cat "$TMP/.n_ids")
		n=$((n + 1))
		echo "$n" >"$TMP/.n_ids"
	fi
	echo "$ID${1:-$n}"
}

# ---------------------------------------------------------------------------------------
# Leak detection
# ---------------------------------------------------------------------------------------

# mounts_under DIR: mount points at or below DIR in this mount namespace, deepest first.
mounts_under() {
	local dir=$1
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# cgroups_matching STR: cgroup dirs (v1 controllers and cgroup2) whose path contains STR,
# deepest first.
cgroups_matching() {
	local str=$1
	find /sys/fs/cgroup -mindepth 1 -type d -path "*${str}*" 2>/dev/null | sort -r
}

# pids_matching STR: live processes whose cgroup path or command line contains STR.
# STR is given to grep as "[s]tr", which matches STR but not grep's own command line.
pids_matching() {
	local str=$1 pat f pid stat
	pat=$(sed 's/[][\\.*^$]/\\&/g' <<<"${str:1}")
	pat="[${str:0:1}]$pat"
	for f in $(grep -la -- "$pat" /proc/[0-9]*/cgroup /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%%/*}
		# Skip zombies: their parent reaps them; an exited container process is no leak.
		stat=
		{ read -r stat <"/proc/$pid/stat" || true; } 2>/dev/null
		stat=${stat##*) }
		if [ -n "$stat" ] && [ "${stat%% *}" != Z ]; then
			echo "$pid"
		fi
	done | sort -un
}

# find_leaks STR: one line per thing left behind by containers whose id contains STR, or
# under $TMP: "container ID", "state DIR", "mount PATH", "cgroup DIR", "process PID CMDLINE".
find_leaks() {
	local str=$1 c d p
	if [ -d "$ROOT" ]; then
		for c in $(ocirun list -q 2>/dev/null); do
			if [[ "$c" == *"$str"* ]]; then
				echo "container $c"
			fi
		done
		for d in "$ROOT"/*"$str"*; do
			if [ -e "$d" ]; then
				echo "state $d"
			fi
		done
	fi
	for d in $(mounts_under "$TMP"); do
		echo "mount $d"
	done
	for d in $(cgroups_matching "$str"); do
		echo "cgroup $d"
	done
	for p in $(pids_matching "$str"); do
		echo "process $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
	return 0
}

# find_leaks_filtered STR: find_leaks minus the lines matching the extended regex $BERTH_LEAK_IGNORE: for known
# artifacts of a reference runtime on this host (crun on a hybrid host with the cgroup2
# mount hidden leaves plain dirs under /sys/fs/cgroup/unified). Never set by ctest.
find_leaks_filtered() {
	if [ -n "${BERTH_LEAK_IGNORE:-}" ]; then
		find_leaks "$1" | grep -Ev -- "$BERTH_LEAK_IGNORE" || true
	else
		find_leaks "$1"
	fi
}

# find_leaks_settled STR: find_leaks, given about 2 seconds for dying processes to go and
# cgroups to be removed.
find_leaks_settled() {
	local i leaks
	for ((i = 0; i < 10; i++)); do
		leaks=$(find_leaks_filtered "$1")
		if [ -z "$leaks" ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "$leaks"
}

cleanup_leaks() {
	local str=$1 p d
	for p in $(pids_matching "$str"); do
		kill -KILL "$p" 2>/dev/null || true
	done
	retry 20 0.1 no_pids_matching "$str" || true
	for d in $(mounts_under "$TMP"); do
		umount -l "$d" 2>/dev/null || true
	done
	for d in $(cgroups_matching "$str"); do
		rmdir "$d" 2>/dev/null || true
	done
	if [ -d "$ROOT" ]; then
		rm -rf --one-file-system "${ROOT:?}"/*"$str"* 2>/dev/null || true
	fi
}

no_pids_matching() {
	[ -z "$(pids_matching "$1")" ]
}

# assert_nothing_left [ID]: after a failed or finished command, the runtime left nothing of
# container ID (default $ID): not listed, no state dir, no mount under $TMP, no cgroup, no
# process.
assert_nothing_left() {
	local id=${1:-$ID} leaks
	leaks=$(find_leaks_settled "$id")
	if [ -n "$leaks" ]; then
		echo "left behind by $id:" >&2
		echo "$leaks" >&2
		return 1
	fi
}

# ---------------------------------------------------------------------------------------
# Running things
# ---------------------------------------------------------------------------------------

# ocirun ARGS...: the runtime under test with this test's state root, bounded in time.
ocirun() {
	timeout -k 5 "$OCIRUN_TIMEOUT" "$OCIRUN" --root "$ROOT" "$@"
}

# run_file CMD...: like bats' `run`, but the command's stdout and stderr go to a file, not a
# pipe, and stdin is /dev/null. Use it for anything that starts a container: a container
# inherits those fds, and one left running (create, run --detach, or a runtime bug) would
# hold a pipe, and with it the test, open forever. Sets status, output, lines (without
# empty lines, as bats does), and OUTFILE, which keeps collecting what the container writes.
run_file() {
	local flags=$-
	N_RUNS=$((N_RUNS + 1))
	OUTFILE=$TMP/out.$N_RUNS
	set +eET
	"$@" >"$OUTFILE" 2>&1 </dev/null
	status=$?
	set "-$flags"
	output=$(cat "$OUTFILE")
	lines=()
	IFS=$'\n' read -d '' -r -a lines <<<"$output" || true
}

# run_fg [RUN-OPTIONS...]: `ocirun run` of $BUNDLE as $ID in the foreground; meant for
# `run_file run_fg`.
run_fg() {
	ocirun run --bundle "$BUNDLE" "$@" "$ID"
}

# wait_exit PID [SECONDS]: wait for the background job PID (a child of this shell) to end,
# at most SECONDS (default 10); sets EXIT_STATUS. On timeout, kills it and fails.
wait_exit() {
	local pid=$1 n=$((${2:-10} * 10))
	while pid_alive "$pid"; do
		if ((n-- <= 0)); then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			echo "process $pid still running after ${2:-10}s" >&2
			return 1
		fi
		sleep 0.1
	done
	EXIT_STATUS=0
	wait "$pid" || EXIT_STATUS=$?
}

# retry N DELAY CMD...: run CMD up to N times, DELAY seconds apart, until it succeeds.
retry() {
	local n=$1 delay=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		if "$@"; then
			return 0
		fi
		sleep "$delay"
	done
	echo "retry: '$*' still failing after $n tries" >&2
	return 1
}

# fail MSG: fail the test with a message.
fail() {
	echo "$@" >&2
	return 1
}

# assert_status N: $status is N (prints the output otherwise).
assert_status() {
	if [ "$status" != "$1" ]; then
		echo "expected status $1, got $status; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

# assert_failure: $status is not 0.
assert_failure() {
	if [ "$status" = 0 ]; then
		echo "expected failure, got status 0; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

# assert_output_contains STR...: $output contains each STR (case-insensitive).
assert_output_contains() {
	local s
	for s in "$@"; do
		if ! grep -qiF -- "$s" <<<"$output"; then
			echo "output does not mention '$s':" >&2
			echo "$output" >&2
			return 1
		fi
	done
}

# assert_output_contains_any STR...: $output contains at least one STR (case-insensitive).
assert_output_contains_any() {
	local s
	for s in "$@"; do
		grep -qiF -- "$s" <<<"$output" && return 0
	done
	echo "output mentions none of: $*" >&2
	echo "$output" >&2
	return 1
}

# assert_unknown_container ID: the error for an unknown container. ocirun must name the id;
# runc says only "container does not exist".
assert_unknown_container() {
	assert_failure
	if is_runc || is_crun; then
		assert_output_contains_any "$1" "does not exist" "not exist" "not found"
	else
		assert_output_contains "$1"
	fi
}

# ---------------------------------------------------------------------------------------
# Bundles
# ---------------------------------------------------------------------------------------

# make_bundle [DIR]: an OCI bundle from contrib/busybox-bundle in DIR (default
# $TMP/bundle), with process.terminal false; sets BUNDLE. The busybox rootfs is built once
# per bats file and copied, which keeps a test well under a second.
make_bundle() {
	local dir=${1:-$TMP/bundle}
	local cache=${BATS_FILE_TMPDIR:-$TMP}/busybox-bundle
	if [ ! -f "$cache/config.json" ]; then
		"$BERTH_SOURCE_DIR/contrib/busybox-bundle" "$cache" "$OCIRUN" >&2 || return 1
	fi
	mkdir -p "$(dirname "$dir")"
	cp -a "$cache" "$dir"
	BUNDLE=$dir
	config_set '.process.terminal = false'
}

# config_set [JQ-OPTIONS...] FILTER: edit $BUNDLE/config.json in place with jq, e.g.
#   config_set '.hostname = "box"'
#   config_set --arg d "$dir" '.mounts += [{destination: "/data", source: $d, ...}]'
config_set() {
	local f=$BUNDLE/config.json
	jq "$@" "$f" >"$f.tmp" && mv "$f.tmp" "$f"
}

# config_args ARG...: set process.args.
config_args() {
	config_set --argjson a "$(json_array "$@")" '.process.args = $a'
}

# json_array STR...: a JSON array of strings.
json_array() {
	jq -cn '$ARGS.positional' --args -- "$@"
}

# config_ns TYPE [PATH]: make sure linux.namespaces has TYPE (a new one; with PATH, the one
# at PATH). Default specs differ on some types (runc 1.2 and ocirun list cgroup; runc 1.1
# does not), and a type listed twice is an error.
config_ns() {
	config_set --arg t "$1" --arg p "${2:-}" '.linux.namespaces |=
		(map(select(.type != $t)) + [if $p == "" then {type: $t} else {type: $t, path: $p} end])'
}

# config_no_ns TYPE: drop TYPE from linux.namespaces (share the host's).
config_no_ns() {
	config_set --arg t "$1" '.linux.namespaces |= map(select(.type != $t))'
}

# config_mount DEST TYPE SOURCE [OPTION...]: append a mount.
config_mount() {
	local dest=$1 type=$2 src=$3
	shift 3
	config_set --arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(json_array "$@")" \
		'.mounts += [{destination: $d, type: $t, source: $s, options: $o}]'
}

# ---------------------------------------------------------------------------------------
# Container helpers
# ---------------------------------------------------------------------------------------

# create_container [ID] [CREATE-OPTIONS...]: `ocirun create` of $BUNDLE through run_file;
# the container's stdout and stderr land in $TMP/<id>.out (= OUTFILE).
create_container() {
	local id=${1-$ID}
	shift || true
	run_file ocirun create --bundle "$BUNDLE" "$@" "$id"
	keep_outfile "$id"
}

# run_detached [ID] [RUN-OPTIONS...]: `ocirun run --detach`, output in $TMP/<id>.out.
run_detached() {
	local id=${1-$ID}
	shift || true
	run_file ocirun run --detach --bundle "$BUNDLE" "$@" "$id"
	keep_outfile "$id"
}

# keep_outfile ID: name OUTFILE $TMP/ID.out when ID makes a sane file name (bad-input
# tests pass ids like "../x" that do not).
keep_outfile() {
	if [[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$ ]]; then
		mv "$OUTFILE" "$TMP/$1.out"
		OUTFILE=$TMP/$1.out
	fi
}

# container_status [ID]: the status field of `ocirun state`.
container_status() {
	ocirun state "${1:-$ID}" | jq -r .status
}

# container_pid [ID]: the pid field of `ocirun state`.
container_pid() {
	ocirun state "${1:-$ID}" | jq -r .pid
}

# status_is STATUS [ID]: for retry.
status_is() {
	[ "$(container_status "${2:-$ID}" 2>/dev/null)" = "$1" ]
}

# file_has FILE STR: FILE exists and contains STR; for retry.
file_has() {
	[ -f "$1" ] && grep -qF -- "$2" "$1"
}

# pid_alive PID: process exists and is not a zombie.
pid_alive() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pid_gone() {
	! pid_alive "$1"
}
