#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Faults: berthd and the supervisor killed with SIGKILL while containers run. The shims own
# the containers, their logs and their exit statuses, so nothing is lost: after both daemons
# restart, every container is listed with the right status (an exit during the outage
# included), a logger's log has every line it wrote while the daemons were down, and the
# containers can still be stopped and removed. Also berthd alone killed while a container
# exits: the exit is seen when it comes back, and a restart policy applies then.

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	engine_setup_containers
	mkdir -p "$TMP/go"
}

teardown() {
	engine_teardown
}

inspect_f() {
	dockercli inspect --format "$1" "$2"
}

state_is() {
	[ "$(inspect_f '{{.State.Status}}' "$1")" = "$2" ]
}

# The counter lines of the logger's log are 0, 1, 2, ... N with no gap and no repeat, and
# N is at least $2.
counter_whole() {
	local log
	log=$(dockercli logs "$1") || return 1
	local n
	n=$(wc -l <<<"$log")
	[ "$n" -gt "$2" ] || {
		echo "only $n lines" >&2
		return 1
	}
	[ "$log" = "$(seq 0 $((n - 1)))" ] || {
		diff <(echo "$log") <(seq 0 $((n - 1))) | head >&2
		return 1
	}
}

last_counter() {
	dockercli logs --tail 1 "$1"
}

# For retry, which runs its command again (a $(...) in its arguments would be read once).
log_lines_at_least() {
	[ "$(dockercli logs "$1" | wc -l)" -ge "$2" ]
}
counter_at_least() {
	[ "$(last_counter "$1")" -ge "$2" ]
}
restarts_are() {
	[ "$(inspect_f '{{.RestartCount}}' "$1")" = "$2" ]
}
no_task_for() {
	! "$CTR" --address "$SOCK" --namespace berth tasks ls -q | grep -q "$1"
}

# A command for a container that exits with code $1 once the test creates $TMP/go/now
# (bind-mounted on /go): an exit at a moment the test chooses, not after a sleep that a slow
# machine could outlast.
exit_on_go() {
	echo "while [ ! -e /go/now ]; do sleep 0.1; done; exit $1"
}

go_now() {
	touch "$TMP/go/now"
}

@test "faults: kill -9 of berthd and the supervisor loses no container, exit or log line" {
	run dockercli run -d --name "$C-log" --restart always busybox \
		sh -c 'i=0; while true; do echo $i; i=$((i + 1)); sleep 0.2; done'
	assert_status 0
	run dockercli run -d --name "$C-sleep" busybox sleep 1000
	assert_status 0
	run dockercli run -d --name "$C-exit" -v "$TMP/go:/go" busybox sh -c "$(exit_on_go 3)"
	assert_status 0
	local exit_pid sleep_pid log_pid before
	exit_pid=$(inspect_f '{{.State.Pid}}' "$C-exit")
	sleep_pid=$(inspect_f '{{.State.Pid}}' "$C-sleep")
	log_pid=$(inspect_f '{{.State.Pid}}' "$C-log")
	[ "$exit_pid" -gt 0 ] && [ "$sleep_pid" -gt 0 ] && [ "$log_pid" -gt 0 ]
	retry 50 0.1 log_lines_at_least "$C-log" 3
	before=$(last_counter "$C-log")

	kill_berthd KILL
	kill_supervisor KILL
	! test -S "$ESOCK" || ! curl -sS --max-time 2 --unix-socket "$ESOCK" http://berthd/_ping
	# The containers go on without the daemons: the third exits with nobody watching.
	pid_alive "$exit_pid"
	go_now
	retry 100 0.1 pid_gone "$exit_pid"
	pid_alive "$sleep_pid"
	pid_alive "$log_pid"
	# An outage of a few seconds: the logger writes ~10 lines nobody reads.
	sleep 2

	start_supervisor
	start_berthd
	# Every container is still there, with the right status.
	run dockercli ps -a --format '{{.Names}}'
	assert_status 0
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$C-exit" "$C-log" "$C-sleep")" ]
	retry 50 0.1 state_is "$C-exit" exited
	[ "$(inspect_f '{{.State.ExitCode}}' "$C-exit")" = 3 ]
	[ "$(inspect_f '{{.State.FinishedAt}}' "$C-exit")" != 0001-01-01T00:00:00Z ]
	state_is "$C-sleep" running
	state_is "$C-log" running
	[ "$(inspect_f '{{.State.Pid}}' "$C-sleep")" = "$sleep_pid" ]
	[ "$(inspect_f '{{.State.Pid}}' "$C-log")" = "$log_pid" ]
	# The logger was not restarted: it never stopped.
	[ "$(inspect_f '{{.RestartCount}}' "$C-log")" = 0 ]
	run dockercli ps --filter status=exited --format '{{.Names}} {{.Status}}'
	[[ "$output" == "$C-exit Exited (3) "* ]]

	# The log has every value, from before, during and after the outage.
	local after
	after=$(last_counter "$C-log")
	[ "$after" -ge $((before + 10)) ] || fail "counter $before -> $after"
	retry 50 0.1 counter_at_least "$C-log" $((after + 3))
	counter_whole "$C-log" $((after + 2))
	# logs -f follows on from there.
	run timeout 3 docker -H "unix://$ESOCK" logs -f --tail 1 "$C-log"
	[ "${#lines[@]}" -ge 5 ]

	# stop and rm work; exec still reaches a container started before the crash.
	run dockercli exec "$C-sleep" echo still here
	assert_status 0
	[ "$output" = "still here" ]
	run dockercli stop -t 1 "$C-log" "$C-sleep"
	assert_status 0
	state_is "$C-log" exited
	state_is "$C-sleep" exited
	pid_gone "$log_pid"
	pid_gone "$sleep_pid"
	sleep 1
	state_is "$C-log" exited
	run dockercli rm "$C-log" "$C-sleep" "$C-exit"
	assert_status 0
	run dockercli ps -aq
	[ -z "$output" ]
	# No task left behind in the supervisor.
	run "$CTR" --address "$SOCK" --namespace berth tasks ls -q
	[ -z "$output" ]

	# A container started after the restart works.
	run dockercli run --rm busybox echo after the crash
	assert_status 0
	[ "$output" = "after the crash" ]
	run dockercli run -d --name "$C-new" busybox sleep 1000
	assert_status 0
	state_is "$C-new" running
	run dockercli rm -f "$C-new"
	assert_status 0
}

@test "faults: kill -9 of berthd alone while a container exits; the exit is seen at restart" {
	run dockercli run -d --name "$C" -v "$TMP/go:/go" busybox sh -c "$(exit_on_go 7)"
	assert_status 0
	run dockercli run -d --name "$C-again" -v "$TMP/go:/go" --restart on-failure:1 busybox \
		sh -c "$(exit_on_go 9)"
	assert_status 0
	local pid pid2 id
	pid=$(inspect_f '{{.State.Pid}}' "$C")
	pid2=$(inspect_f '{{.State.Pid}}' "$C-again")
	id=$(inspect_f '{{.Id}}' "$C")
	kill_berthd KILL
	pid_alive "$pid"
	pid_alive "$pid2"
	go_now
	retry 100 0.1 pid_gone "$pid"
	retry 100 0.1 pid_gone "$pid2"
	start_berthd
	retry 50 0.1 state_is "$C" exited
	[ "$(inspect_f '{{.State.ExitCode}}' "$C")" = 7 ]
	run dockercli wait "$C"
	assert_status 0
	[ "$output" = 7 ]
	# The policy of the other applies now: one restart, then exited with its code.
	retry 100 0.1 restarts_are "$C-again" 1
	retry 100 0.1 state_is "$C-again" exited
	[ "$(inspect_f '{{.State.ExitCode}}' "$C-again")" = 9 ]
	# The die event was published once berthd saw it (by id: a name filter also matches
	# the names it is a prefix of, as dockerd's does).
	run api "/events?since=0&until=$(date +%s)&filters=$(jq -rn --arg c "$id" '{"container":[$c],"event":["die"]}|tojson|@uri')"
	[ "$(api_body | jq -r '.Actor.Attributes.exitCode')" = 7 ]
	# And no task is left for it in the supervisor.
	retry 50 0.1 no_task_for "$id"
	run dockercli rm "$C" "$C-again"
	assert_status 0
}

@test "faults: kill -9 of the supervisor alone; berthd reconnects and sees an exit it missed" {
	run dockercli run -d --name "$C" -v "$TMP/go:/go" busybox sh -c "$(exit_on_go 5)"
	assert_status 0
	run dockercli run -d --name "$C-sleep" busybox sleep 1000
	assert_status 0
	local pid
	pid=$(inspect_f '{{.State.Pid}}' "$C")
	kill_supervisor KILL
	pid_alive "$pid"
	go_now
	retry 100 0.1 pid_gone "$pid"
	start_supervisor
	retry 100 0.1 state_is "$C" exited
	[ "$(inspect_f '{{.State.ExitCode}}' "$C")" = 5 ]
	state_is "$C-sleep" running
	run dockercli stop -t 1 "$C-sleep"
	assert_status 0
	state_is "$C-sleep" exited
	run dockercli run --rm busybox echo ok
	assert_status 0
	[ "$output" = ok ]
}
