#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Load: many API clients at once creating, starting, exec'ing into and removing containers,
# and many containers logging fast to `logs -f` readers. Every call answers, every exec's
# output comes back, every log line reaches its reader, and afterwards nothing is left (no
# container, shim, mount) and the daemons' memory has not grown past a bound.
#
# The sizes are the short profile, which CI runs; tests/reliability/run long sets the issue's
# full sizes (BERTH_LOAD_CONTAINERS=200 BERTH_LOAD_CLIENTS=20 BERTH_LOG_CONTAINERS=100
# BERTH_LOG_SECONDS=60).

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

CONTAINERS=${BERTH_LOAD_CONTAINERS:-40}
CLIENTS=${BERTH_LOAD_CLIENTS:-8}
LOGGERS=${BERTH_LOG_CONTAINERS:-8}
LOG_SECONDS=${BERTH_LOG_SECONDS:-5}
# How far a daemon's resident memory may grow over a run (KiB): its caches (SQLite's pages,
# the allocator's arenas, one thread stack a connection) but nothing a container.
RSS_GROWTH_KIB=${BERTH_LOAD_RSS_GROWTH_KIB:-16384}

setup() {
	command -v jq >/dev/null || skip "jq is not installed"
	engine_setup_containers
}

teardown() {
	engine_teardown
}

rss_kib() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

supervisor_pid() {
	pgrep -f -- "berth-supervisor.*$SROOT" | head -1
}

shims_of_test() {
	pgrep -f -- "berth-shim.*$TMP" | wc -l
}

# One client: its share of containers, each created, started, exec'd into (its output checked)
# and removed by force. Its failures go to $TMP/load.err.
client() {
	local k=$1 n=$2 i id eid out
	for ((i = 0; i < n; i++)); do
		id=$(curl -sSf --unix-socket "$ESOCK" -H 'Content-Type: application/json' \
			-d '{"Image":"busybox","Cmd":["sleep","600"]}' \
			"http://berthd/containers/create?name=$ID-$k-$i" | jq -r .Id) || {
			echo "client $k: create $i failed" >>"$TMP/load.err"
			continue
		}
		curl -sSf --unix-socket "$ESOCK" -X POST "http://berthd/containers/$id/start" ||
			echo "client $k: start $i failed" >>"$TMP/load.err"
		eid=$(curl -sSf --unix-socket "$ESOCK" -H 'Content-Type: application/json' \
			-d "{\"Cmd\":[\"echo\",\"hi-$k-$i\"],\"AttachStdout\":true}" \
			"http://berthd/containers/$id/exec" | jq -r .Id) || {
			echo "client $k: exec create $i failed" >>"$TMP/load.err"
		}
		# The connection is hijacked for the exec's stream, as the docker CLI asks for it.
		out=$(curl -sSf --unix-socket "$ESOCK" -H 'Content-Type: application/json' \
			-H 'Connection: Upgrade' -H 'Upgrade: tcp' -d '{"Detach":false,"Tty":false}' \
			"http://berthd/exec/$eid/start" 2>&1 | tr -d '\0\1\2') ||
			echo "client $k: exec start $i failed" >>"$TMP/load.err"
		[[ "$out" == *"hi-$k-$i"* ]] || echo "client $k: exec $i printed [$out]" >>"$TMP/load.err"
		out=$(curl -sS --unix-socket "$ESOCK" -X DELETE -w '%{http_code}' \
			"http://berthd/containers/$id?force=1")
		[ "$out" = 204 ] || echo "client $k: remove $i: $out" >>"$TMP/load.err"
	done
}

@test "load: $CONTAINERS containers created, started, exec'd into and removed by $CLIENTS clients" {
	local spid before_e before_s after_e after_s k pids=()
	spid=$(supervisor_pid)
	[ -n "$spid" ]
	# One round first, so the memory compared is a warm daemon's.
	client warm 1
	[ ! -s "$TMP/load.err" ] || fail "$(cat "$TMP/load.err")"
	before_e=$(rss_kib "$BERTHD_PID")
	before_s=$(rss_kib "$spid")

	for ((k = 0; k < CLIENTS; k++)); do
		client "$k" $(((CONTAINERS + CLIENTS - 1 - k) / CLIENTS)) 3>&- &
		pids+=($!)
	done
	for k in "${pids[@]}"; do
		wait "$k"
	done
	[ ! -s "$TMP/load.err" ] || fail "$(head -20 "$TMP/load.err")"

	# Nothing is left: no container, no shim, no mount of a container's root.
	[ -z "$(dockercli ps -aq)" ]
	retry 50 0.1 test "$(shims_of_test)" = 0
	! grep -q "$TMP/sroot/snapshots" /proc/self/mountinfo || false

	after_e=$(rss_kib "$BERTHD_PID")
	after_s=$(rss_kib "$spid")
	echo "# berthd RSS ${before_e} -> ${after_e} KiB, supervisor ${before_s} -> ${after_s} KiB" >&3
	# AddressSanitizer keeps up to 256 MiB of freed memory in quarantine, so a sanitizer
	# build's RSS says nothing of leaks; LeakSanitizer checks both daemons at teardown instead.
	if ldd "$BERTHD" | grep -q libasan; then
		return 0
	fi
	[ $((after_e - before_e)) -le "$RSS_GROWTH_KIB" ] ||
		fail "berthd grew from $before_e to $after_e KiB"
	[ $((after_s - before_s)) -le "$RSS_GROWTH_KIB" ] ||
		fail "the supervisor grew from $before_s to $after_s KiB"
}

@test "load: $LOGGERS containers logging 1 MB/s for ${LOG_SECONDS}s, each to a logs -f reader" {
	local i pids=() want
	# 10000 lines of 100 bytes a second, numbered by the second, then END.
	for ((i = 0; i < LOGGERS; i++)); do
		dockercli run -d --name "$ID-log-$i" busybox sh -c \
			"i=0; while [ \$i -lt $LOG_SECONDS ]; do yes \$(printf '%099d' \$i) | head -n 10000; i=\$((i+1)); sleep 1; done; echo END" \
			>/dev/null
		# The reader follows from the start; it ends when the container does, which on a
		# machine that cannot carry the whole rate is well after LOG_SECONDS.
		DOCKER_HOST="unix://$ESOCK" timeout -k 5 $((LOG_SECONDS * 20 + 120)) \
			docker logs -f "$ID-log-$i" >"$TMP/reader-$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	want=$((LOG_SECONDS * 10000 + 1))
	for ((i = 0; i < LOGGERS; i++)); do
		[ "$(tail -1 "$TMP/reader-$i")" = END ] || fail "reader $i: the last line is not END"
		[ "$(wc -l <"$TMP/reader-$i")" = "$want" ] ||
			fail "reader $i: $(wc -l <"$TMP/reader-$i") lines, not $want"
		# Every line of every second, in order.
		[ "$(uniq -c "$TMP/reader-$i" | awk '$1 != 10000 && $2 != "END"' | wc -l)" = 0 ] ||
			fail "reader $i: a second's lines are missing or out of order"
		# And the log on disk has them all too.
		[ "$(dockercli logs "$ID-log-$i" | wc -l)" = "$want" ]
	done
}
