#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Restart policies through the docker CLI, as dockerd applies them: on-failure:N restarts N
# times and then leaves the container exited; always restarts a container whatever its exit
# code until a user stops it; unless-stopped the same; no never restarts; the delay between
# restarts doubles from 100 ms (seen from each die event to the next start). And across a restart
# of berthd: a manually stopped "always" container comes back, an "unless-stopped" one does
# not (docker's documented difference between the two).

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	engine_setup_containers
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

restarts_are() {
	[ "$(inspect_f '{{.RestartCount}}' "$1")" = "$2" ]
}

restarts_at_least() {
	[ "$(inspect_f '{{.RestartCount}}' "$1")" -ge "$2" ]
}

# The events of container $1 so far, "ACTION TIMENANO" a line; $2.. the actions (default
# start). By id: a name filter also matches the names it is a prefix of, as dockerd's does.
events_of() {
	local id now
	id=$(inspect_f '{{.Id}}' "$1") || return 1
	shift
	now=$(date +%s)
	api "/events?since=0&until=$now&filters=$(jq -rn --arg c "$id" '{"container":[$c],"event":$ARGS.positional}|tojson|@uri' --args "${@:-start}")" |
		sed '$d' | jq -r '"\(.Action) \(.timeNano)"'
}

# The times (ns) of the start events of container $1 so far.
start_times() {
	events_of "$1" start | cut -d' ' -f2
}

starts_at_least() {
	[ "$(start_times "$1" | wc -l)" -ge "$2" ]
}

@test "restart on-failure:2: two restarts, then exited for good with RestartCount 2" {
	run dockercli run -d --name "$C" --restart on-failure:2 busybox sh -c 'echo ran; exit 4'
	assert_status 0
	retry 100 0.1 restarts_are "$C" 2
	retry 100 0.1 state_is "$C" exited
	# Long past any backoff: no third run.
	sleep 2
	state_is "$C" exited
	restarts_are "$C" 2
	[ "$(inspect_f '{{.State.ExitCode}}' "$C")" = 4 ]
	[ "$(inspect_f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' "$C")" = on-failure:2 ]
	[ "$(dockercli logs "$C" | grep -c ran)" = 3 ]
	[ "$(start_times "$C" | wc -l)" = 3 ]

	# A success is not a failure: no restart.
	run dockercli run -d --name "$C-ok" --restart on-failure busybox true
	assert_status 0
	retry 100 0.1 state_is "$C-ok" exited
	sleep 1
	state_is "$C-ok" exited
	restarts_are "$C-ok" 0
}

@test "restart always: a container exiting 0 is restarted; docker stop stops it for good" {
	run dockercli run -d --name "$C" --restart always busybox sh -c 'echo ran; sleep 0.3'
	assert_status 0
	retry 100 0.1 restarts_at_least "$C" 3
	[ "$(inspect_f '{{.State.ExitCode}}' "$C")" = 0 ]
	run dockercli stop -t 1 "$C"
	assert_status 0
	state_is "$C" exited
	local n
	n=$(inspect_f '{{.RestartCount}}' "$C")
	sleep 2
	state_is "$C" exited
	restarts_are "$C" "$n"
	# docker start starts it again, and the policy applies again.
	run dockercli start "$C"
	assert_status 0
	retry 100 0.1 restarts_at_least "$C" $((n + 1))
	dockercli stop -t 1 "$C"
	state_is "$C" exited
}

@test "restart always: docker stop during the backoff delay stops it too" {
	# A failing run every time: the delay grows past a second quickly.
	run dockercli run -d --name "$C" --restart always busybox false
	assert_status 0
	retry 100 0.1 restarts_at_least "$C" 4
	run dockercli stop -t 1 "$C"
	assert_status 0
	retry 50 0.1 state_is "$C" exited
	local n
	n=$(inspect_f '{{.RestartCount}}' "$C")
	sleep 3
	state_is "$C" exited
	restarts_are "$C" "$n"
}

@test "restart unless-stopped restarts until stopped; no never restarts" {
	run dockercli run -d --name "$C" --restart unless-stopped busybox sh -c 'exit 2'
	assert_status 0
	retry 100 0.1 restarts_at_least "$C" 2
	run dockercli stop -t 1 "$C"
	assert_status 0
	retry 50 0.1 state_is "$C" exited
	local n
	n=$(inspect_f '{{.RestartCount}}' "$C")
	sleep 2
	restarts_are "$C" "$n"

	run dockercli run -d --name "$C-no" --restart no busybox sh -c 'exit 1'
	assert_status 0
	run dockercli run -d --name "$C-none" busybox sh -c 'exit 1'
	assert_status 0
	retry 50 0.1 state_is "$C-no" exited
	retry 50 0.1 state_is "$C-none" exited
	sleep 1.5
	state_is "$C-no" exited
	restarts_are "$C-no" 0
	restarts_are "$C-none" 0
	[ "$(start_times "$C-no" | wc -l)" = 1 ]
	[ "$(inspect_f '{{.HostConfig.RestartPolicy.Name}}' "$C-none")" = no ]
}

@test "restart: the delay between restarts doubles" {
	# A run of half a second: each start's event comes well before its die's (a process
	# that fails at once can be seen to exit before its start is recorded).
	run dockercli run -d --name "$C" --restart always busybox sh -c 'sleep 0.5; exit 1'
	assert_status 0
	# Six restarts: delays of 100, 200, 400, 800, 1600 and 3200 ms.
	retry 500 0.1 starts_at_least "$C" 7
	dockercli stop -t 1 "$C"
	# From each die to the next start: the delay, plus what deleting the task and making
	# the next one take (seconds on a loaded machine, varying by most of one), so only
	# lower bounds and the growth over the longer delays are checked.
	local gaps=() die=0 action t
	while read -r action t; do
		if [ "$action" = die ]; then
			die=$t
		elif [ "$die" != 0 ]; then
			gaps+=($(((t - die) / 1000000)))
			die=0
		fi
	done < <(events_of "$C" die start | sort -k2,2n)
	echo "die to start (ms): ${gaps[*]}" >&2
	[ "${#gaps[@]}" -ge 6 ] || fail "restarts: ${gaps[*]}"
	local i delay=100
	for ((i = 0; i < 6; i++)); do
		[ "${gaps[i]}" -ge "$delay" ] || fail "restart $i after ${gaps[i]} ms, before its $delay ms delay"
		delay=$((delay * 2))
	done
	# The last two 4500 ms more than the first two; the sixth 2400 ms more than the fourth.
	[ $((gaps[4] + gaps[5] - gaps[0] - gaps[1])) -ge 3000 ] || fail "gaps do not grow: ${gaps[*]}"
	[ $((gaps[5] - gaps[3])) -ge 1500 ] || fail "gaps do not grow: ${gaps[*]}"
}

@test "restart always vs unless-stopped: stopped by the user, only always comes back with berthd" {
	run dockercli run -d --name "$C-always" --restart always busybox sleep 1000
	assert_status 0
	run dockercli run -d --name "$C-unless" --restart unless-stopped busybox sleep 1000
	assert_status 0
	run dockercli run -d --name "$C-up" --restart unless-stopped busybox sleep 1000
	assert_status 0
	dockercli stop -t 1 "$C-always" "$C-unless"
	state_is "$C-always" exited
	state_is "$C-unless" exited
	kill_berthd TERM
	start_berthd
	retry 50 0.1 state_is "$C-always" running
	state_is "$C-up" running
	sleep 1
	state_is "$C-unless" exited
	# The one kept running is the same process, not a restart.
	restarts_are "$C-up" 0
}
