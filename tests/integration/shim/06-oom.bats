#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth-shim: OOM kills in the container's memory cgroup become "oom" events.

load ../helpers
load shim

@test "oom: an OOM kill is an event, and the exit is 137" {
	config_set '.linux.resources.memory = {limit: 16777216}'
	config_args sh -c 'x=aaaaaaaa; while :; do x=$x$x; done'
	create_task
	events_start
	sc Start >/dev/null
	wait_stopped
	[ "$(state_field exit_status)" = 137 ]
	retry 20 0.1 has_event oom
	retry 20 0.1 has_event exit
	[ "$(grep -c '"oom"' "$EVENTS")" = 1 ]
	sc Delete >/dev/null
}

@test "oom: no event for a process that ends without one" {
	config_set '.linux.resources.memory = {limit: 16777216}'
	config_args sh -c 'exit 0'
	create_task
	events_start
	sc Start >/dev/null
	wait_stopped
	retry 20 0.1 has_event exit
	sc Delete >/dev/null
	! grep -q '"oom"' "$EVENTS"
}
