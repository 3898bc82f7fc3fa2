#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Faults at random points: while a workload creates, starts, execs into, reads the logs of,
# stops and removes containers, a killer sends SIGKILL, round after round, to a random one of
# berthd, the supervisor, a workload container's shim, or an ocirun process (a create, start,
# exec or kill half done), and restarts the daemon it killed. Afterwards: a logger that ran
# throughout has every line, each container berthd lists is there once, in a state its
# processes bear out, and all of them can be removed; then no shim, mount, cgroup or row of
# the supervisor's is left.
#
# BERTH_CHAOS_ROUNDS sets the rounds (4 by default, the short profile CI runs;
# tests/reliability/run long runs 60).

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

ROUNDS=${BERTH_CHAOS_ROUNDS:-4}

setup() {
	command -v jq >/dev/null || skip "jq is not installed"
	engine_setup_containers
	# The workload's cgroups under a parent of this test's own, to count what is left of them.
	CGPARENT=/berth-chaos-$ID
	on_teardown remove_cgroup_parent
}

teardown() {
	engine_teardown
}

remove_cgroup_parent() {
	local d
	for d in /sys/fs/cgroup/*"$CGPARENT" /sys/fs/cgroup/unified"$CGPARENT"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	true
}

# The workload's cgroups still there (their dirs under the test's parent, any hierarchy).
cgroups_left() {
	find /sys/fs/cgroup/ -mindepth 2 -maxdepth 3 -path "*$CGPARENT/*" -type d 2>/dev/null | wc -l
}

mounts_of_test() {
	grep -c "$TMP" /proc/self/mountinfo || true
}

# A CLI call that gives up quickly: the daemons may be down for a moment.
quick() {
	DOCKER_HOST="unix://$ESOCK" timeout -k 2 20 docker "$@"
}

# The workload: a container at a time through its whole life, until $TMP/stop appears.
# Failures are expected while a daemon is down; they are only counted.
workload() {
	local i=0 name
	while [ ! -e "$TMP/stop" ]; do
		name=$ID-w$i
		if quick run -d --name "$name" --cgroup-parent "$CGPARENT" busybox \
			sh -c 'echo started; while true; do sleep 0.1; done' >/dev/null 2>&1; then
			quick exec "$name" echo in >/dev/null 2>&1 || echo "exec $name" >>"$TMP/workload.err"
			quick logs "$name" >/dev/null 2>&1 || echo "logs $name" >>"$TMP/workload.err"
			quick stop -t 1 "$name" >/dev/null 2>&1 || echo "stop $name" >>"$TMP/workload.err"
		else
			echo "run $name" >>"$TMP/workload.err"
		fi
		quick rm -f "$name" >/dev/null 2>&1 || echo "rm $name" >>"$TMP/workload.err"
		i=$((i + 1))
		echo "$i" >"$TMP/workload.count"
	done
}

# One SIGKILL at a random target; a daemon killed is started again (here, not in a
# subshell: its pid is kept).
kill_one() {
	case $1 in
	berthd)
		kill_berthd KILL
		start_berthd
		;;
	supervisor)
		kill_supervisor KILL
		start_supervisor
		;;
	*) kill_process "$1" ;;
	esac
}

# The target, or for a shim or an ocirun the pid killed: printed.
kill_process() {
	local pids pid ledger
	case $1 in
	shim)
		# A workload container's shim, never the ledger's.
		ledger=$(cat "$TMP/ledger.id")
		pids=$(pgrep -f "berth-shim .*--bundle $SSTATE/" -a | grep -v "$ledger" | awk '{print $1}' | shuf -n 1)
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		echo "shim ${pids:-(none then)}"
		;;
	ocirun)
		pid=$(pgrep -f -- "^$OCIRUN .*$SSTATE" | shuf -n 1)
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
		echo "ocirun ${pid:-(none then)}"
		;;
	esac
}

ledger_whole() {
	local log n
	log=$(dockercli logs "$ID-ledger") || return 1
	n=$(wc -l <<<"$log")
	[ "$n" -ge "$1" ] || return 1
	[ "$log" = "$(seq 0 $((n - 1)))" ] || {
		diff <(echo "$log") <(seq 0 $((n - 1))) | head >&2
		return 1
	}
}

@test "chaos: $ROUNDS rounds of kill -9 at random daemons, shims and ocirun under a workload" {
	local base_mounts r wl target
	run dockercli run -d --name "$ID-ledger" busybox \
		sh -c 'i=0; while true; do echo $i; i=$((i + 1)); sleep 0.1; done'
	assert_status 0
	dockercli inspect -f '{{.Id}}' "$ID-ledger" >"$TMP/ledger.id"
	base_mounts=$(mounts_of_test)

	workload 3>&- &
	wl=$!
	for ((r = 0; r < ROUNDS; r++)); do
		# A moment into whatever the workload is doing.
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		target=$(shuf -n 1 -e berthd supervisor shim ocirun)
		case $target in
		berthd | supervisor) kill_one "$target" ;;
		*) target=$(kill_process "$target") ;;
		esac
		echo "# round $r: $target" >&3
	done
	sleep 1
	touch "$TMP/stop"
	wait "$wl" || true
	echo "# workload: $(cat "$TMP/workload.count" 2>/dev/null || echo 0) containers, $(wc -l <"$TMP/workload.err" 2>/dev/null || echo 0) failed steps" >&3

	# The ledger ran throughout and lost no line.
	[ "$(dockercli inspect -f '{{.State.Status}}' "$ID-ledger")" = running ]
	ledger_whole 10

	# Each container is listed once, and a running one's process is alive.
	run dockercli ps -a --format '{{.Names}}'
	assert_status 0
	[ "$(sort <<<"$output" | uniq -d)" = "" ]
	local c state pid
	for c in $output; do
		state=$(dockercli inspect -f '{{.State.Status}}' "$c")
		pid=$(dockercli inspect -f '{{.State.Pid}}' "$c")
		case $state in
		running) pid_alive "$pid" || fail "$c is running with a dead pid $pid" ;;
		created | exited | dead) [ "$pid" = 0 ] || fail "$c is $state with pid $pid" ;;
		*) fail "$c: state $state" ;;
		esac
	done

	# Everything can be removed, and then nothing is left.
	for c in $output; do
		run dockercli rm -f "$c"
		assert_status 0
	done
	run dockercli ps -aq
	[ -z "$output" ]
	retry 100 0.1 test -z "$(shim_pids)"
	run "$CTR" --address "$SOCK" --namespace berth containers ls -q
	[ -z "$output" ]
	run "$CTR" --address "$SOCK" --namespace berth tasks ls -q
	[ -z "$output" ]
	retry 50 0.1 test "$(mounts_of_test)" -le "$base_mounts"
	[ "$(cgroups_left)" = 0 ] || fail "cgroups left: $(find /sys/fs/cgroup/ -mindepth 2 -maxdepth 3 -path "*$CGPARENT/*" -type d)"

	# And the stack still works.
	run dockercli run --rm busybox echo after the chaos
	assert_status 0
	[ "$output" = "after the chaos" ]
}
