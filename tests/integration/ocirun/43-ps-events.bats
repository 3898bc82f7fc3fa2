#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# ps: the container's processes (exactly those in its cgroup) as a `ps -ef` table, ps
# options passed through, --format json a list of host pids. events: --stats prints one
# stats line in runc's shape (cpu, memory, pids, ...); --interval streams them until the
# container stops (ocirun); an OOM kill during streaming prints {"type":"oom"}. Both fail
# clearly for a stopped or unknown container.

load ../helpers
load resource-helpers

MiB=1048576

# busy_container [JQ-FILTER]: $ID running a shell with two sleeping children, plus an
# exec'd `sleep 102`: four processes. Sets INIT and EXEC_PID.
busy_container() {
	make_bundle
	[ -z "${1:-}" ] || config_set "$1"
	config_args sh -c 'sleep 100 & sleep 101 & echo ready; wait'
	run_detached
	assert_status 0
	INIT=$(container_pid)
	retry 50 0.1 file_has "$TMP/$ID.out" ready
	run_file ocirun exec --detach --pid-file "$TMP/exec.pid" "$ID" sleep 102
	assert_status 0
	EXEC_PID=$(cat "$TMP/exec.pid")
	retry 50 0.1 n_procs_is 4
}

n_procs_is() {
	[ "$(wc -l <"$(ctr_dir pids)/cgroup.procs")" = "$1" ]
}

# host_pids_of_container: the live host pids whose /proc/PID/cgroup is the init's, sorted.
host_pids_of_container() {
	local want line f pid
	want=$(cat "/proc/$INIT/cgroup")
	# candidates: the init's line of one hierarchy (it names the id), then the whole file
	line=$(grep -m1 ':pids:' <<<"$want" || head -1 <<<"$want")
	for f in $(grep -lxF -- "$line" /proc/[0-9]*/cgroup 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cgroup}
		if [ "$(cat "$f" 2>/dev/null)" = "$want" ] && pid_alive "$pid"; then
			echo "$pid"
		fi
	done | sort -n
}

# ---------------------------------------------------------------------------------------
# ps
# ---------------------------------------------------------------------------------------

@test "ps: a ps -ef table of exactly the container's processes; --format json the same pids" {
	busy_container
	run_file ocirun ps --format json "$ID"
	assert_status 0
	local json host
	json=$(jq -r '.[]' <<<"$output" | sort -n)
	host=$(host_pids_of_container)
	[ "$json" = "$host" ] || fail "ps --format json: $(echo $json); host: $(echo $host)"
	[ "$(jq -r 'type' <<<"$output")" = array ]
	grep -qx "$INIT" <<<"$json"
	grep -qx "$EXEC_PID" <<<"$json"
	[ "$(wc -l <<<"$json")" = 4 ]

	run_file ocirun ps "$ID"
	assert_status 0
	local header
	header=${lines[0]}
	for col in UID PID PPID CMD; do
		[[ " $header " == *" $col "* ]] || fail "header: $header"
	done
	local table
	table=$(printf '%s\n' "${lines[@]:1}" | awk '{print $2}' | sort -n)
	[ "$table" = "$json" ] || fail "ps table pids: $(echo $table); json: $(echo $json)"
	# the commands are the container's
	printf '%s\n' "${lines[@]:1}" | grep -q "sleep 101" || fail "$output"
	printf '%s\n' "${lines[@]:1}" | grep -q "sleep 102" || fail "$output"
}

@test "ps ID -o pid,comm: ps options are passed through" {
	busy_container
	run_file ocirun ps "$ID" -o pid,comm
	assert_status 0
	[ "$(echo ${lines[0]})" = "PID COMMAND" ] || fail "header: ${lines[0]}"
	local pids comms
	pids=$(printf '%s\n' "${lines[@]:1}" | awk '{print $1}' | sort -n)
	[ "$pids" = "$(host_pids_of_container)" ] || fail "$output"
	comms=$(printf '%s\n' "${lines[@]:1}" | awk '{print $2}' | sort -u | tr '\n' ' ')
	[ "$comms" = "sh sleep " ] || fail "commands: $comms"
}

@test "ps: a process that leaves the container leaves the list" {
	busy_container
	kill -KILL "$EXEC_PID"
	retry 50 0.1 n_procs_is 3
	run_file ocirun ps --format json "$ID"
	assert_status 0
	! jq -e --argjson p "$EXEC_PID" 'index($p)' <<<"$output" >/dev/null || fail "$output"
	[ "$(jq length <<<"$output")" = 3 ]
}

@test "ps of a stopped container fails clearly (runc: an empty table)" {
	make_bundle
	config_args true
	run_detached
	assert_status 0
	retry 50 0.1 status_is stopped
	run_file ocirun ps "$ID"
	if is_runc; then
		assert_status 0
		[ "${#lines[@]}" = 1 ] || fail "$output"
	else
		assert_failure
		assert_output_contains "$ID" "not running"
	fi
}

@test "ps of an unknown container fails naming it" {
	run_file ocirun ps "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
	run_file ocirun ps --format json "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
}

# ---------------------------------------------------------------------------------------
# events --stats
# ---------------------------------------------------------------------------------------

@test "events --stats: one JSON line, type stats, cpu, memory and pids filled in" {
	busy_container ".linux.resources.memory = {limit: $((64 * MiB))}"
	run_file ocirun events --stats "$ID"
	assert_status 0
	[ "${#lines[@]}" = 1 ] || fail "$output"
	local s=${lines[0]}
	[ "$(jq -r .type <<<"$s")" = stats ] || fail "$s"
	[ "$(jq -r .id <<<"$s")" = "$ID" ] || fail "$s"
	[ "$(jq -r .data.cpu.usage.total <<<"$s")" -gt 0 ] || fail "$s"
	[ "$(jq -r .data.memory.usage.usage <<<"$s")" -gt 0 ] || fail "$s"
	[ "$(jq -r .data.memory.usage.limit <<<"$s")" = $((64 * MiB)) ] || fail "$s"
	[ "$(jq -r .data.pids.current <<<"$s")" = 4 ] || fail "$s"
	# the figures are the cgroup's
	local usage
	usage=$(ctr_file cpuacct cpuacct.usage 2>/dev/null || echo 0)
	[ "$(jq -r .data.cpu.usage.total <<<"$s")" -le "$usage" ] || fail "cpu total above cpuacct.usage $usage: $s"
	local ncpu
	ncpu=$(wc -w <<<"$(ctr_file cpuacct cpuacct.usage_percpu 2>/dev/null || nproc)")
	[ "$(jq -r '.data.cpu.usage.percpu | length' <<<"$s")" = "$ncpu" ] || fail "$s"
	[ "$(jq -r .data.memory.usage.max <<<"$s")" -ge "$(jq -r .data.memory.usage.usage <<<"$s")" ]
}

# The stats a consumer of runc's `events --stats` reads: every field name runc 1.1 prints
# for the same bundle on this host, ocirun prints too (values aside).
@test "events --stats: the same field names as runc's on the same bundle" {
	skip_if_runc "compares ocirun with runc"
	local runc
	runc=$(command -v runc || true)
	[ -n "$runc" ] || skip "no runc to compare with"
	busy_container ".linux.resources.memory = {limit: $((64 * MiB))}"
	local rid rroot=$TMP/runc-state
	rid=$(new_id r)
	on_teardown "$runc" --root "$rroot" delete --force "$rid"
	"$runc" --root "$rroot" run --detach --bundle "$BUNDLE" "$rid" </dev/null >"$TMP/runc.out" 2>&1
	"$runc" --root "$rroot" events --stats "$rid" >"$TMP/runc-stats.json"
	run_file ocirun events --stats "$ID"
	assert_status 0
	# leaf paths, an array as one leaf (its entries depend on the I/O done); runc leaves zero
	# fields out (omitempty), so only what runc prints is required
	local paths='[paths(scalars or type == "array") | (index(map(select(type == "number"))[0]) // length) as $i
		| .[:$i] | join(".")] | unique | .[]'
	local missing
	missing=$(comm -23 <(jq -r "$paths" "$TMP/runc-stats.json" | sort) <(jq -r "$paths" <<<"$output" | sort))
	[ -z "$missing" ] || fail "fields runc prints and ocirun does not:
$missing"
	[ "$(jq -r '.data | keys | join(",")' "$TMP/runc-stats.json")" != "" ]
}

@test "events --stats of a stopped container fails clearly" {
	make_bundle
	config_args true
	run_detached
	assert_status 0
	retry 50 0.1 status_is stopped
	run_file ocirun events --stats "$ID"
	assert_failure
	assert_output_contains "$ID" "not running"
}

@test "events of an unknown container fails naming it" {
	run_file ocirun events --stats "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
	run_file ocirun events "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
}

# ---------------------------------------------------------------------------------------
# events streaming
# ---------------------------------------------------------------------------------------

# start_events ARGS...: `ocirun events ARGS... $ID` in the background, output in
# $TMP/events.out; sets EVENTS_PID (killed at teardown).
start_events() {
	# not through the ocirun function: $! must be the runtime itself
	"$OCIRUN" --root "$ROOT" events "$@" "$ID" >"$TMP/events.out" 2>&1 </dev/null &
	EVENTS_PID=$!
	on_teardown kill -KILL "$EVENTS_PID"
}

n_stats() {
	grep -c '"type":"stats"' "$TMP/events.out" || true
}

n_stats_ge() {
	[ "$(n_stats)" -ge "$1" ]
}

@test "events --interval 1s: a stats line a second; exits when the container stops" {
	make_bundle
	config_args sleep 100
	run_detached
	assert_status 0
	start_events --interval 1s
	sleep 2.5
	[ "$(n_stats)" -ge 2 ] || fail "$(n_stats) stats lines in 2.5s: $(cat "$TMP/events.out")"
	[ "$(n_stats)" -le 4 ] || fail "$(n_stats) stats lines in 2.5s"
	local l
	while IFS= read -r l; do
		[ "$(jq -r .type <<<"$l")" = stats ] || fail "$l"
		[ "$(jq -r .id <<<"$l")" = "$ID" ] || fail "$l"
	done <"$TMP/events.out"
	pid_alive "$EVENTS_PID"
	ocirun kill "$ID" KILL
	retry 50 0.1 status_is stopped
	if is_runc; then
		# runc 1.1 keeps polling a stopped container
		kill "$EVENTS_PID"
		wait "$EVENTS_PID" || true
	else
		wait_exit "$EVENTS_PID" 5 || fail "events still running after the container stopped"
		[ "$EXIT_STATUS" = 0 ] || fail "events exited $EXIT_STATUS: $(tail -2 "$TMP/events.out")"
	fi
}

@test "events: an OOM kill while streaming prints {\"type\":\"oom\",\"id\":...}" {
	require_v1 memory
	make_bundle
	local r="\"limit\": $((32 * MiB))"
	[ -f "$(cg_mount memory)/memory.memsw.limit_in_bytes" ] && r+=", \"swap\": $((32 * MiB))"
	config_set --argjson r "{$r}" '.linux.resources.memory = $r'
	config_args sleep 100
	run_detached
	assert_status 0
	start_events --interval 1s
	# the first stats line: events is set up
	retry 50 0.1 n_stats_ge 1
	run_file ocirun exec "$ID" tail /dev/zero
	assert_status 137
	retry 50 0.1 file_has "$TMP/events.out" '"type":"oom"' || fail "$(grep -v '"stats"' "$TMP/events.out")"
	local l
	l=$(grep '"type":"oom"' "$TMP/events.out" | head -1)
	[ "$(jq -r .id <<<"$l")" = "$ID" ] || fail "$l"
	# the container lives on (only the offender was killed)
	[ "$(container_status)" = running ]
}
