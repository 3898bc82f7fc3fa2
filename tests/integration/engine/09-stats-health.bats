#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A container's resources and health over a real berth-supervisor: GET /containers/{id}/stats
# (stream=0's document, one-shot, the stream, a stopped container), POST
# /containers/{id}/update (limits checked in the cgroup files, kept across a restart of the
# container, the restart policy, wrong types), docker's HEALTHCHECK (healthy, unhealthy after
# Retries, a probe past its timeout, the last 5 results, "(healthy)" in ps, health_status
# events, a prober stopped by the exit, the removal and berthd's stop), through the docker
# CLI, curl and berth's own stats and update.

bats_require_minimum_version 1.5.0

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

BERTH=$(bin_of engine/berth)

setup() {
	command -v jq >/dev/null || skip "jq is not installed"
	engine_setup_containers
	EV_PID=
	on_teardown stop_events
}

teardown() {
	engine_teardown
}

berthcli() {
	BERTH_HOST="unix://$ESOCK" timeout -k 5 120 "$BERTH" "$@"
}

inspect() {
	dockercli inspect -f "$2" "$1"
}

health_is() {
	[ "$(inspect "$1" '{{.State.Health.Status}}')" = "$2" ]
}

# The cgroup v1 directory of a container under the memory or cpu controller (berth's
# default parent is /berth); the test is skipped on a host without that hierarchy.
cgroup_file() {
	local id=$1 ctl=$2 file=$3 d
	for d in "/sys/fs/cgroup/$ctl/berth/$id" "/sys/fs/cgroup/$ctl"/*/berth/"$id"; do
		if [ -e "$d/$file" ]; then
			cat "$d/$file"
			return 0
		fi
	done
	echo "no $ctl/$file for $id" >&2
	return 1
}

start_events() {
	curl -sS -N --unix-socket "$ESOCK" "http://berthd/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D" \
		>"$TMP/events.out" 2>"$TMP/events.err" 3>&- &
	EV_PID=$!
	retry 50 0.1 listeners_are 1 || fail "the /events stream did not start"
}

listeners_are() {
	[ "$(api /info | head -n 1 | jq .NEventsListener)" = "$1" ]
}

stop_events() {
	[ -n "${EV_PID:-}" ] || return 0
	kill "$EV_PID" 2>/dev/null || true
	wait "$EV_PID" 2>/dev/null || true
	EV_PID=
}

# ---------------------------------------------------------------- stats

@test "stats: docker stats, with --no-stream and streaming, shows a running container with its memory" {
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' "$C"
	assert_status 0
	echo "$output"
	[[ "$output" =~ ^$C\ [0-9.]+(B|KiB|MiB)\ /\ [0-9.]+(KiB|MiB|GiB|TiB|PiB|EiB)\ 1$ ]]
	# The usage is not nothing.
	[[ ! "$output" =~ ^$C\ 0B ]]
	# Without --no-stream the CLI redraws from the stream (one document a second) until killed.
	DOCKER_HOST="unix://$ESOCK" timeout -s KILL 4 docker stats --format '{{.Name}} {{.MemUsage}}' "$C" \
		>"$TMP/stats.out" 2>&1 3>&- || true
	[ "$(grep -o "$C [0-9.]*[KM]iB" "$TMP/stats.out" | wc -l)" -ge 3 ]
}

@test "stats: stream=0 waits for a second sample; one-shot=1 does not; shapes as dockerd" {
	local id
	id=$(dockercli run -d --name "$C" busybox sleep 1000)
	run api "/containers/$C/stats?stream=0"
	[ "$(api_status)" = 200 ]
	api_body >"$TMP/s.json"
	run jq -r '[.id, .name, (.read != "0001-01-01T00:00:00Z"), (.preread != "0001-01-01T00:00:00Z"),
		(.cpu_stats.cpu_usage.total_usage > 0), (.precpu_stats.cpu_usage.total_usage > 0),
		(.cpu_stats.system_cpu_usage >= .precpu_stats.system_cpu_usage),
		(.cpu_stats.online_cpus > 0), (.memory_stats.usage > 0), (.memory_stats.limit > 0),
		(.memory_stats.stats | type), .pids_stats.current, (.blkio_stats | type)] | map(tostring) | join(" ")' "$TMP/s.json"
	assert_status 0
	[ "$output" = "$id /$C true true true true true true true true object 1 object" ]
	# read and preread are about a second apart.
	run jq -r '((.read | sub("\\.[0-9]+"; "") | fromdate) - (.preread | sub("\\.[0-9]+"; "") | fromdate))' "$TMP/s.json"
	[[ "$output" =~ ^[12]$ ]]

	run api "/containers/$C/stats?stream=0&one-shot=1"
	[ "$(api_status)" = 200 ]
	run jq -r '"\(.preread) \(.precpu_stats.cpu_usage.total_usage)"' <<<"$(api_body)"
	[ "$output" = "0001-01-01T00:00:00Z 0" ]

	run api "/containers/$C/stats?stream=1&one-shot=1"
	[ "$(api_status)" = 400 ]
	run api "/containers/$C/stats?stream=maybe"
	[ "$(api_status)" = 400 ]
	run api "/containers/nosuch-$ID/stats?stream=0"
	[ "$(api_status)" = 404 ]
}

@test "stats: the stream sends a document a second until the client goes or the container stops" {
	dockercli run -d --name "$C" busybox sleep 1000
	run timeout 3.6 curl -sS -N --unix-socket "$ESOCK" "http://berthd/containers/$C/stats"
	[ "$status" = 124 ]
	local n
	n=$(grep -c '"cpu_stats"' <<<"$output")
	[ "$n" -ge 3 ] && [ "$n" -le 5 ]
	# The second document has the first one's CPU figures as its precpu_stats.
	run jq -s -r '(.[1].precpu_stats.cpu_usage.total_usage == .[0].cpu_stats.cpu_usage.total_usage)' <<<"$output"
	[ "$output" = true ]

	# A stop ends the stream (curl exits 0: the server ended it).
	curl -sS -N --unix-socket "$ESOCK" "http://berthd/containers/$C/stats" >"$TMP/stream.out" 3>&- &
	local pid=$!
	sleep 1.5
	dockercli stop -t 1 "$C"
	local i
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid" || true
		fail "the stream went on after the container stopped"
	fi
	wait "$pid"
}

@test "stats: berthd's stop ends a stream at once" {
	dockercli run -d --name "$C" busybox sleep 1000
	curl -sS -N --unix-socket "$ESOCK" "http://berthd/containers/$C/stats" >"$TMP/stream.out" 3>&- &
	local pid=$! t0=$SECONDS
	retry 50 0.1 grep -q cpu_stats "$TMP/stream.out"
	kill_berthd TERM
	[ $((SECONDS - t0)) -le 5 ]
	local i
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid" || true
		fail "the stream outlived berthd"
	fi
	wait "$pid" || true
}

@test "stats: a stopped container gets dockerd's empty document" {
	local id
	id=$(dockercli create --name "$C" busybox true)
	run api "/containers/$C/stats?stream=0"
	[ "$(api_status)" = 200 ]
	run jq -c '{read, preread, num_procs, pids_stats, memory_stats, name, id,
		cpu: .cpu_stats.cpu_usage.total_usage}' <<<"$(api_body)"
	[ "$output" = "{\"read\":\"0001-01-01T00:00:00Z\",\"preread\":\"0001-01-01T00:00:00Z\",\"num_procs\":0,\"pids_stats\":{},\"memory_stats\":{},\"name\":\"/$C\",\"id\":\"$id\",\"cpu\":0}" ]
	# The stream of a stopped container is that one document, then its end.
	run timeout 5 curl -sS -N --unix-socket "$ESOCK" "http://berthd/containers/$C/stats"
	assert_status 0
	[ "${#lines[@]}" = 1 ]
}

@test "stats: berth stats --no-stream" {
	dockercli run -d --name "$C" busybox sleep 1000
	run berthcli stats --no-stream
	assert_status 0
	echo "$output"
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT ]]
	[[ "${lines[1]}" =~ \ $C\ .*\ [0-9.]+(B|KiB|MiB)\ /\ [0-9.]+[KMGTPE]iB\ .*\ 1$ ]]
	run berthcli stats --no-stream --format '{{.Name}} {{.PIDs}}' "$C"
	assert_status 0
	[ "$output" = "$C 1" ]
}

# ---------------------------------------------------------------- update

@test "update: docker update --memory --cpus reaches the cgroup, inspect, and the next start" {
	local id
	id=$(dockercli run -d --name "$C" busybox sleep 1000)
	run dockercli update --memory 64m --memory-swap 128m --cpus 0.5 --pids-limit 50 "$C"
	assert_status 0
	[ "$output" = "$C" ]
	run inspect "$C" '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}'
	[ "$output" = "67108864 134217728 500000000 50" ]
	run cgroup_file "$id" memory memory.limit_in_bytes
	[ "$output" = 67108864 ]
	run cgroup_file "$id" cpu cpu.cfs_quota_us
	[ "$output" = 50000 ]
	run cgroup_file "$id" pids pids.max
	[ "$output" = 50 ]
	# The stats see the new limit.
	run jq -r .memory_stats.limit <<<"$(api "/containers/$C/stats?stream=0&one-shot=1" | sed '$d')"
	[ "$output" = 67108864 ]

	# A field not given stays as it was.
	dockercli update --cpu-shares 512 "$C"
	run inspect "$C" '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}'
	[ "$output" = "67108864 512" ]
	run cgroup_file "$id" cpu cpu.shares
	[ "$output" = 512 ]

	# And it all holds after a restart of the container (a new task from the stored spec).
	dockercli restart -t 1 "$C"
	run cgroup_file "$id" memory memory.limit_in_bytes
	[ "$output" = 67108864 ]
	run cgroup_file "$id" cpu cpu.cfs_quota_us
	[ "$output" = 50000 ]
	# And after a restart of berthd.
	kill_berthd TERM
	start_berthd
	run inspect "$C" '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}'
	[ "$output" = "67108864 500000000 512" ]
}

@test "update: a stopped container gets its limits at its next start" {
	local id
	id=$(dockercli create --name "$C" busybox sleep 1000)
	dockercli update --memory 32m "$C"
	dockercli start "$C"
	run cgroup_file "$id" memory memory.limit_in_bytes
	[ "$output" = 33554432 ]
}

@test "update: the restart policy, and what is refused" {
	dockercli run -d --name "$C" busybox sleep 1000
	dockercli update --restart on-failure:3 "$C"
	run inspect "$C" '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'
	[ "$output" = "on-failure 3" ]

	run api -X POST -H 'Content-Type: application/json' -d '{"Memory":"64m"}' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	assert_output_contains "Memory"
	run api -X POST -H 'Content-Type: application/json' -d '{"CpusetCpus":3}' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	assert_output_contains "CpusetCpus"
	run api -X POST -H 'Content-Type: application/json' -d '{"RestartPolicy":{"Name":"sometimes"}}' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	assert_output_contains "sometimes"
	run api -X POST -H 'Content-Type: application/json' -d '{"RestartPolicy":{"Name":"always","MaximumRetryCount":2}}' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	run api -X POST -H 'Content-Type: application/json' -d '{"Memory":' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	run api -X POST -H 'Content-Type: application/json' -d '[{"Memory":67108864}]' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	assert_output_contains "expected an object"
	run api -X POST -H 'Content-Type: application/json' -d '{"PidsLimit":"10"}' "/containers/$C/update"
	[ "$(api_status)" = 400 ]
	assert_output_contains "PidsLimit"
	# A memory limit under docker's minimum (6 MiB).
	run dockercli update --memory 1m "$C"
	assert_failure
	assert_output_contains "Memory"
	assert_output_contains "6 MiB"
	run api -X POST -H 'Content-Type: application/json' -d '{"Memory":1}' "/containers/nosuch-$ID/update"
	[ "$(api_status)" = 404 ]
	# A value the kernel refuses (a memory node this host does not have) changes nothing:
	# not the running task, not the spec of the next start.
	run dockercli update --cpuset-mems 63 "$C"
	assert_failure
	assert_output_contains "cpuset"
	dockercli restart -t 1 "$C"
	run inspect "$C" '{{.State.Status}} {{.HostConfig.CpusetMems}}'
	[ "$output" = "running " ]
	# Nothing refused was kept.
	run inspect "$C" '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}'
	[ "$output" = "0 on-failure" ]
}

@test "update: a new restart policy applies at the next exit" {
	dockercli run -d --name "$C" busybox sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; rm /tmp/go; exit 3'
	dockercli update --restart always "$C"
	dockercli exec "$C" touch /tmp/go
	retry 100 0.1 restarted_and_running "$C"
}

restarted_and_running() {
	[ "$(inspect "$1" '{{.RestartCount}} {{.State.Status}}')" = "1 running" ]
}

@test "update: berth update prints the names it updated and applies the flags" {
	local id
	id=$(dockercli run -d --name "$C" busybox sleep 1000)
	run berthcli update -m 48m --cpus 0.25 -c 256 --pids-limit 20 --restart unless-stopped "$C"
	assert_status 0
	[ "$output" = "$C" ]
	run inspect "$C" '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}'
	[ "$output" = "50331648 250000000 256 20 unless-stopped" ]
	run cgroup_file "$id" memory memory.limit_in_bytes
	[ "$output" = 50331648 ]
	run cgroup_file "$id" cpu cpu.cfs_quota_us
	[ "$output" = 25000 ]
	# A quota where --cpus is set is refused (as dockerd), and nothing changes.
	run berthcli update --cpu-period 200000 --cpu-quota 30000 "$C"
	assert_status 1
	assert_output_contains "NanoCpus"
	run cgroup_file "$id" cpu cpu.cfs_quota_us
	[ "$output" = 25000 ]
	local id2
	id2=$(dockercli run -d --name "$C-2" busybox sleep 1000)
	run berthcli container update --cpu-period 200000 --cpu-quota 30000 --cpuset-cpus 0 "$C-2"
	assert_status 0
	[ "$output" = "$C-2" ]
	run cgroup_file "$id2" cpu cpu.cfs_period_us
	[ "$output" = 200000 ]
	run cgroup_file "$id2" cpu cpu.cfs_quota_us
	[ "$output" = 30000 ]
	run cgroup_file "$id2" cpuset cpuset.cpus
	[ "$output" = 0 ]
	run berthcli update --memory lots "$C"
	[ "$status" = 125 ]
	assert_output_contains "lots"
	run berthcli update --memory 64m "$C" "nosuch-$ID"
	[ "$status" = 1 ]
	[ "${lines[0]}" = "$C" ]
	assert_output_contains "nosuch-$ID"
	run berthcli update "$C"
	[ "$status" != 0 ]
}

# ---------------------------------------------------------------- health

@test "health: a passing check makes the container healthy, in inspect, ps and events" {
	start_events
	dockercli run -d --name "$C" --health-cmd 'true' --health-interval 1s busybox sleep 1000
	run inspect "$C" '{{.State.Health.Status}}'
	[ "$output" = starting ]
	run dockercli ps --format '{{.Status}}' -f "name=$C"
	[[ "$output" =~ \(health:\ starting\)$ ]]
	retry 50 0.2 health_is "$C" healthy
	run dockercli inspect -f '{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}}' "$C"
	[ "$output" = "0 0" ]
	run dockercli ps --format '{{.Status}}' -f "name=$C"
	[[ "$output" =~ ^Up\ .*\(healthy\)$ ]]
	run dockercli ps -f health=healthy --format '{{.Names}}'
	[ "$output" = "$C" ]
	retry 50 0.1 grep -q '"health_status: healthy"' "$TMP/events.out"
	# The Log keeps the last 5 results.
	sleep 6
	run dockercli inspect -f '{{len .State.Health.Log}}' "$C"
	[ "$output" = 5 ]
	# The container's stop stops the prober.
	dockercli stop -t 1 "$C"
	local n
	n=$(dockercli inspect -f '{{len .State.Health.Log}} {{(index .State.Health.Log 4).End}}' "$C")
	sleep 2.5
	[ "$(dockercli inspect -f '{{len .State.Health.Log}} {{(index .State.Health.Log 4).End}}' "$C")" = "$n" ]
	run inspect "$C" '{{.State.Health.Status}}'
	[ "$output" = unhealthy ]
	# A new start begins at "starting" with the earlier results kept, as dockerd.
	dockercli start "$C"
	run inspect "$C" '{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{len .State.Health.Log}}'
	[ "$output" = "starting 0 5" ]
	retry 50 0.1 health_is "$C" healthy
}

@test "health: a failing check turns unhealthy after Retries; CMD form and its output" {
	start_events
	dockercli run -d --name "$C" --health-cmd 'echo probe-says-no; exit 3' --health-interval 1s \
		--health-retries 2 busybox sleep 1000
	retry 60 0.2 health_is "$C" unhealthy
	run dockercli inspect -f '{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}' "$C"
	[[ "$output" =~ ^[2-9]\ 3\ probe-says-no ]]
	retry 50 0.1 grep -q '"health_status: unhealthy"' "$TMP/events.out"
	run dockercli ps --format '{{.Status}}' -f "name=$C"
	[[ "$output" =~ \(unhealthy\)$ ]]

	# The CMD form through the API (no shell), and Retries' default of 3.
	run api -X POST -H 'Content-Type: application/json' \
		-d '{"Image":"busybox","Cmd":["sleep","1000"],"Healthcheck":{"Test":["CMD","/bin/false"],"Interval":300000000}}' \
		"/containers/create?name=$C-2"
	[ "$(api_status)" = 201 ]
	dockercli start "$C-2"
	retry 50 0.1 health_is "$C-2" unhealthy
	run dockercli inspect -f '{{.State.Health.FailingStreak}}' "$C-2"
	[ "$output" -ge 3 ] && [ "$output" -le 4 ]

	# A probe that cannot start is a failure with -1 and the runtime's error, as with dockerd.
	run api -X POST -H 'Content-Type: application/json' \
		-d '{"Image":"busybox","Cmd":["sleep","1000"],"Healthcheck":{"Test":["CMD","/nonexist"],"Interval":300000000,"Retries":1}}' \
		"/containers/create?name=$C-3"
	[ "$(api_status)" = 201 ]
	dockercli start "$C-3"
	retry 50 0.1 health_is "$C-3" unhealthy
	run dockercli inspect -f '{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}' "$C-3"
	[[ "$output" =~ ^-1\ .*/nonexist ]]
}

@test "health: a probe past its timeout is killed and counts as a failure" {
	dockercli run -d --name "$C" --health-cmd 'sleep 30' --health-interval 1s --health-timeout 1s \
		--health-retries 1 busybox sleep 1000
	retry 60 0.2 health_is "$C" unhealthy
	run dockercli inspect -f '{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}' "$C"
	[ "$output" = "-1 Health check exceeded timeout (1s)" ]
	# The probe was killed: no sleep 30 is left in the container.
	run dockercli top "$C"
	[[ "$output" != *"sleep 30"* ]]
}

@test "health: NONE and no healthcheck have no Health; StartPeriod hides early failures" {
	dockercli run -d --name "$C" --health-cmd 'true' --no-healthcheck busybox sleep 1000 2>/dev/null ||
		dockercli run -d --name "$C" busybox sleep 1000
	run inspect "$C" '{{json .State.Health}}'
	[ "$output" = null ]
	run api -X POST -H 'Content-Type: application/json' \
		-d '{"Image":"busybox","Cmd":["sleep","1000"],"Healthcheck":{"Test":["NONE"]}}' \
		"/containers/create?name=$C-n"
	[ "$(api_status)" = 201 ]
	dockercli start "$C-n"
	run inspect "$C-n" '{{json .State.Health}}'
	[ "$output" = null ]

	dockercli run -d --name "$C-p" --health-cmd 'false' --health-interval 1s --health-retries 1 \
		--health-start-period 30s busybox sleep 1000
	sleep 3.5
	run inspect "$C-p" '{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{len .State.Health.Log}}'
	[[ "$output" =~ ^starting\ 0\ [2-4]$ ]]
}

@test "health: probers stop at removal and at berthd's stop, leaving nothing behind" {
	dockercli run -d --name "$C" --health-cmd 'sleep 0.3' --health-interval 1s busybox sleep 1000
	dockercli run -d --name "$C-2" --health-cmd 'sleep 30' --health-interval 1s --health-timeout 20s busybox sleep 1000
	retry 50 0.1 health_is "$C" healthy
	sleep 1.5
	dockercli rm -f "$C"
	# berthd stops at once though a probe is running; the sanitizer checks at teardown
	# (engine_teardown) find no leak and no use after free.
	local t0=$SECONDS
	kill_berthd TERM
	[ $((SECONDS - t0)) -le 5 ]
	# The container went on; a new berthd starts its prober again from "starting".
	start_berthd
	run inspect "$C-2" '{{.State.Status}} {{.State.Health.Status}}'
	[ "$output" = "running starting" ]
	dockercli rm -f "$C-2"
}
