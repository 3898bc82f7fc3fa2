#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# pause/resume (the freezer): state and list say paused, the processes make no progress until
# resumed; pausing what is not running and resuming what is not paused fail clearly; a paused
# container can be killed and force-deleted. update: runc's flags, -r FILE and -r - change
# the cgroup files; an unknown field (ocirun), a value the kernel refuses, or a stopped
# container fail clearly and leave the previous values.

load ../helpers
load resource-helpers

MiB=1048576

# ticking_container: $ID printing one line every 0.1s to $TMP/$ID.out; sets INIT.
ticking_container() {
	make_bundle
	config_args sh -c 'trap "echo got-term; exit 3" TERM; while :; do echo tick; usleep 100000; done'
	run_detached
	assert_status 0
	INIT=$(container_pid)
	retry 50 0.1 file_has "$TMP/$ID.out" tick
}

ticks() {
	grep -c "^tick" "${1:-$TMP/$ID.out}"
}

# ticks_over N [FILE]: more than N ticks; for retry.
ticks_over() {
	[ "$(ticks "${2:-}")" -gt "$1" ]
}

# sleeping_container [JQ-FILTER]: $ID running `sleep 100` detached; sets INIT.
sleeping_container() {
	make_bundle
	[ -z "${1:-}" ] || config_set "$1"
	config_args sleep 100
	run_detached
	assert_status 0
	INIT=$(container_pid)
}

list_status() {
	ocirun list --format json | jq -r --arg id "$ID" '.[] | select(.id == $id) | .status'
}

freezer_state() {
	ctr_file freezer freezer.state
}

# ---------------------------------------------------------------------------------------
# pause / resume
# ---------------------------------------------------------------------------------------

@test "pause: state and list say paused, the process stops making progress; resume restarts it" {
	ticking_container
	run_file ocirun pause "$ID"
	assert_status 0
	[ "$(container_status)" = paused ]
	[ "$(list_status)" = paused ]
	ocirun list | grep -E "^${ID}[[:space:]]+${INIT}[[:space:]]+paused" || fail "$(ocirun list)"
	if has_v1 freezer; then
		[ "$(freezer_state)" = FROZEN ]
	fi
	local a b
	sleep 0.2 # a tick written just before the freeze lands
	a=$(ticks)
	sleep 0.6
	b=$(ticks)
	[ "$a" = "$b" ] || fail "progress while paused: $a -> $b ticks"
	# the init is stopped in the refrigerator, not gone
	pid_alive "$INIT"
	run_file ocirun resume "$ID"
	assert_status 0
	[ "$(container_status)" = running ]
	[ "$(list_status)" = running ]
	retry 30 0.1 ticks_over $((b + 2)) || fail "no progress after resume"
	if has_v1 freezer; then
		[ "$(freezer_state)" = THAWED ]
	fi
}

@test "pause: every process of the container is frozen, exec'd ones too" {
	ticking_container
	run_file ocirun exec --detach "$ID" sh -c 'while :; do echo tick; usleep 100000; done'
	assert_status 0
	local exfile=$OUTFILE
	retry 50 0.1 ticks_over 1 "$exfile"
	run_file ocirun pause "$ID"
	assert_status 0
	local a b
	sleep 0.2
	a=$(ticks "$exfile")
	sleep 0.6
	b=$(ticks "$exfile")
	[ "$a" = "$b" ] || fail "exec'd process progressed while paused: $a -> $b"
	ocirun resume "$ID"
	retry 30 0.1 ticks_over $((b + 2)) "$exfile" || fail "no progress after resume"
}

@test "pause a stopped container: fails clearly" {
	make_bundle
	config_args true
	run_detached
	assert_status 0
	retry 50 0.1 status_is stopped
	run_file ocirun pause "$ID"
	assert_failure
	if is_runc; then
		assert_output_contains "not running"
	else
		assert_output_contains "$ID" stopped
	fi
	[ "$(container_status)" = stopped ]
}

@test "resume a running (not paused) container: fails clearly, it keeps running" {
	sleeping_container
	run_file ocirun resume "$ID"
	assert_failure
	assert_output_contains "not paused"
	is_runc || assert_output_contains "$ID"
	[ "$(container_status)" = running ]
}

@test "pause twice: the second fails, the container stays paused" {
	sleeping_container
	ocirun pause "$ID"
	run_file ocirun pause "$ID"
	assert_failure
	is_runc || assert_output_contains "$ID" paused
	[ "$(container_status)" = paused ]
	ocirun resume "$ID"
}

@test "pause and resume of an unknown container fail naming it" {
	run_file ocirun pause "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
	run_file ocirun resume "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
}

# runc allows pausing a created container: it is then "paused", resume brings it back to
# "created" and start runs it.
@test "pause of a created container: paused, resume -> created, start runs it" {
	make_bundle
	config_args sh -c 'echo started; sleep 100'
	create_container
	assert_status 0
	# If the runtime loses track of the freeze, a forced delete could not kill the init.
	on_teardown thaw "$(container_pid)"
	run_file ocirun pause "$ID"
	assert_status 0
	[ "$(container_status)" = paused ] || fail "after pause: $(container_status)"
	run_file ocirun resume "$ID"
	assert_status 0
	[ "$(container_status)" = created ] || fail "after resume: $(container_status)"
	# bounded: a start of a container whose init is still frozen would block
	OCIRUN_TIMEOUT=10 run_file ocirun start "$ID"
	assert_status 0
	retry 50 0.1 file_has "$TMP/$ID.out" started
	[ "$(container_status)" = running ]
}

@test "delete --force of a paused created container kills it, nothing left" {
	make_bundle
	config_args sh -c 'echo started; sleep 100'
	create_container
	assert_status 0
	INIT=$(container_pid)
	on_teardown thaw "$INIT"
	ocirun pause "$ID"
	run_file ocirun delete --force "$ID"
	assert_status 0
	retry 30 0.1 pid_gone "$INIT" || fail "the frozen init survived delete --force"
	assert_nothing_left
	! grep -q started "$TMP/$ID.out"
}

@test "delete --force of a paused container thaws and kills it, nothing left" {
	ticking_container
	ocirun exec --detach "$ID" sleep 100 </dev/null >/dev/null 2>&1
	ocirun pause "$ID"
	[ "$(container_status)" = paused ]
	run_file ocirun delete --force "$ID"
	assert_status 0
	retry 30 0.1 pid_gone "$INIT"
	assert_nothing_left
}

@test "kill --all KILL of a paused container thaws it: every process dies (as runc)" {
	ticking_container
	ocirun exec --detach "$ID" sleep 100 </dev/null >/dev/null 2>&1
	ocirun pause "$ID"
	run_file ocirun kill --all "$ID" KILL
	assert_status 0
	retry 30 0.1 pid_gone "$INIT"
	[ "$(container_status)" = stopped ]
	ocirun delete "$ID"
	assert_nothing_left
}

@test "delete (not forced) of a paused container fails, it stays paused" {
	sleeping_container
	ocirun pause "$ID"
	run_file ocirun delete "$ID"
	assert_failure
	[ "$(container_status)" = paused ]
	pid_alive "$INIT"
	ocirun resume "$ID"
}

@test "kill of a paused container: TERM is delivered on resume" {
	ticking_container
	ocirun pause "$ID"
	run_file ocirun kill "$ID" TERM
	assert_status 0
	sleep 0.3
	[ "$(container_status)" = paused ]
	! grep -q got-term "$TMP/$ID.out" || fail "handled while paused"
	run_file ocirun resume "$ID"
	assert_status 0
	retry 50 0.1 status_is stopped
	grep -q got-term "$TMP/$ID.out" || fail "$(tail -3 "$TMP/$ID.out")"
}

@test "kill KILL of a paused container stops it" {
	sleeping_container
	ocirun pause "$ID"
	run_file ocirun kill "$ID" KILL
	assert_status 0
	retry 50 0.1 status_is stopped
	ocirun delete "$ID"
	assert_nothing_left
}

# ---------------------------------------------------------------------------------------
# update
# ---------------------------------------------------------------------------------------

@test "update flags: --memory, --memory-reservation, --pids-limit, --cpu-quota/--cpu-period, --cpu-share, --cpuset-cpus" {
	require_v1 memory pids cpu cpuset
	sleeping_container
	run_file ocirun update --memory 64m --memory-reservation 32m --pids-limit 20 \
		--cpu-period 100000 --cpu-quota 20000 --cpu-share 512 --cpuset-cpus 0 "$ID"
	assert_status 0
	[ "$(ctr_file memory memory.limit_in_bytes)" = $((64 * MiB)) ]
	[ "$(ctr_file memory memory.soft_limit_in_bytes)" = $((32 * MiB)) ]
	[ "$(ctr_file pids pids.max)" = 20 ]
	[ "$(ctr_file cpu cpu.cfs_quota_us)" = 20000 ]
	[ "$(ctr_file cpu cpu.cfs_period_us)" = 100000 ]
	[ "$(ctr_file cpu cpu.shares)" = 512 ]
	[ "$(ctr_file cpuset cpuset.cpus)" = 0 ]
	[ "$(container_status)" = running ]
	# stats see the new limit
	run_file ocirun events --stats "$ID"
	assert_status 0
	[ "$(jq -r .data.memory.usage.limit <<<"$output")" = $((64 * MiB)) ] || fail "$output"
	# a later update of one field keeps the others
	run_file ocirun update --pids-limit 30 "$ID"
	assert_status 0
	[ "$(ctr_file pids pids.max)" = 30 ]
	[ "$(ctr_file memory memory.limit_in_bytes)" = $((64 * MiB)) ]
	[ "$(ctr_file cpu cpu.cfs_quota_us)" = 20000 ]
}

@test "update: the new limits are enforced (pids)" {
	require_v1 pids
	sleeping_container
	ocirun update --pids-limit 2 "$ID"
	# init + the exec'd shell = 2: the shell cannot fork
	run_file ocirun exec "$ID" sh -c 'sleep 1 & echo forked'
	assert_failure
	assert_output_contains_any "can't fork" "Resource temporarily unavailable"
	ocirun update --pids-limit 10 "$ID"
	run_file ocirun exec "$ID" sh -c 'sleep 0.1 & wait; echo forked'
	assert_status 0
	assert_output_contains forked
}

@test "update -r FILE: a linux.resources document" {
	require_v1 memory pids cpu
	sleeping_container
	jq -n --argjson m $((48 * MiB)) '{memory: {limit: $m}, pids: {limit: 33},
		cpu: {shares: 256, period: 50000, quota: 25000}}' >"$TMP/res.json"
	run_file ocirun update -r "$TMP/res.json" "$ID"
	assert_status 0
	[ "$(ctr_file memory memory.limit_in_bytes)" = $((48 * MiB)) ]
	[ "$(ctr_file pids pids.max)" = 33 ]
	[ "$(ctr_file cpu cpu.shares)" = 256 ]
	[ "$(ctr_file cpu cpu.cfs_period_us)" = 50000 ]
	[ "$(ctr_file cpu cpu.cfs_quota_us)" = 25000 ]
}

@test "update -r -: the document from stdin" {
	require_v1 pids memory
	sleeping_container
	update_stdin() { echo "{\"pids\": {\"limit\": 17}, \"memory\": {\"limit\": $((40 * MiB))}}" | ocirun update -r - "$ID"; }
	run_file update_stdin
	assert_status 0
	[ "$(ctr_file pids pids.max)" = 17 ]
	[ "$(ctr_file memory memory.limit_in_bytes)" = $((40 * MiB)) ]
}

# snapshot: the cgroup files an update could touch, for "nothing changed".
snapshot() {
	local c f d pid
	pid=$(container_pid)
	for c in memory:memory.limit_in_bytes memory:memory.soft_limit_in_bytes pids:pids.max \
		cpu:cpu.shares cpu:cpu.cfs_quota_us cpu:cpu.cfs_period_us cpuset:cpuset.cpus; do
		f=${c#*:}
		d=$(cg_dir "$pid" "${c%%:*}") || continue
		echo "$f=$(cat "$d/$f")"
	done
}

# ocirun-only: runc ignores unknown fields of the document.
@test "update with an unknown field fails naming it, nothing changes" {
	skip_if_runc "ignores unknown fields in update -r"
	require_v1 pids memory
	sleeping_container '.linux.resources.pids = {limit: 50}'
	local before
	before=$(snapshot)
	echo '{"memory": {"limitt": 1}, "pids": {"limit": 7}}' >"$TMP/bad1.json"
	run_file ocirun update -r "$TMP/bad1.json" "$ID"
	assert_failure
	assert_output_contains limitt
	[ "$(snapshot)" = "$before" ] || fail "changed: $(diff <(echo "$before") <(snapshot))"
	echo '{"bogus": {}, "pids": {"limit": 7}}' >"$TMP/bad2.json"
	run_file ocirun update -r "$TMP/bad2.json" "$ID"
	assert_failure
	assert_output_contains bogus
	[ "$(snapshot)" = "$before" ]
	[ "$(ctr_file pids pids.max)" = 50 ]
	[ "$(container_status)" = running ]
}

@test "update: bad flag values fail clearly, nothing changes" {
	require_v1 pids memory
	sleeping_container
	local before
	before=$(snapshot)
	run_file ocirun update --memory 12zz "$ID"
	assert_failure
	is_runc || assert_output_contains 12zz
	run_file ocirun update --pids-limit many "$ID"
	assert_failure
	is_runc || assert_output_contains many
	run_file ocirun update -r "$TMP/nosuch.json" "$ID"
	assert_failure
	assert_output_contains nosuch.json
	echo '{not json' >"$TMP/broken.json"
	run_file ocirun update -r "$TMP/broken.json" "$ID"
	assert_failure
	[ "$(snapshot)" = "$before" ]
}

@test "update: a value the kernel refuses (--cpuset-cpus 9999) fails clearly, the previous value stays" {
	require_v1 cpuset
	sleeping_container '.linux.resources.cpu = {cpus: "0"}'
	run_file ocirun update --cpuset-cpus 9999 "$ID"
	assert_failure
	assert_output_contains 9999 cpuset.cpus
	[ "$(ctr_file cpuset cpuset.cpus)" = 0 ]
	[ "$(container_status)" = running ]
	# and the container can still be updated
	run_file ocirun update --cpuset-cpus 0 "$ID"
	assert_status 0
}

# runc 1.1 writes the controllers in its own order (cpuset first) and, on failure, sets the
# previous resources back; an update is all or nothing.
@test "update: a refused value among others leaves every previous value (no partial update)" {
	require_v1 cpuset pids memory
	sleeping_container ".linux.resources.pids = {limit: 50} | .linux.resources.memory = {limit: $((80 * MiB))}"
	local before
	before=$(snapshot)
	run_file ocirun update --pids-limit 44 --memory 40m --cpuset-cpus 9999 "$ID"
	assert_failure
	assert_output_contains 9999
	[ "$(ctr_file pids pids.max)" = 50 ] || fail "pids.max: $(ctr_file pids pids.max), want 50"
	[ "$(ctr_file memory memory.limit_in_bytes)" = $((80 * MiB)) ] ||
		fail "memory.limit_in_bytes: $(ctr_file memory memory.limit_in_bytes), want $((80 * MiB))"
	[ "$(snapshot)" = "$before" ]
}

@test "update of a stopped container fails clearly" {
	make_bundle
	config_args true
	run_detached
	assert_status 0
	retry 50 0.1 status_is stopped
	run_file ocirun update --pids-limit 10 "$ID"
	assert_failure
	if is_runc; then
		assert_output_contains "not running"
	else
		assert_output_contains "$ID" stopped
	fi
	[ "$(container_status)" = stopped ]
}

@test "update of an unknown container fails naming it" {
	run_file ocirun update --pids-limit 10 "nosuch-$ID"
	assert_unknown_container "nosuch-$ID"
}

@test "update of a paused container applies, it stays paused" {
	require_v1 pids
	sleeping_container
	ocirun pause "$ID"
	run_file ocirun update --pids-limit 21 "$ID"
	assert_status 0
	[ "$(ctr_file pids pids.max)" = 21 ]
	[ "$(container_status)" = paused ]
	ocirun resume "$ID"
}
