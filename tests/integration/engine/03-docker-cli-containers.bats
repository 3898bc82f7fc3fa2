#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The real docker CLI against berthd over a real berth-supervisor: the life of containers,
# written to what the docker CLI does against dockerd. run (--rm, -d, -i, -e, -w, -u,
# --entrypoint, --name, -v, -m) and its exit codes (the command's own, 125 when the engine
# cannot run it, 126/127 when the command cannot be run), ps, logs (-f), exec (-i, -t, -u,
# -e, -w), attach, stop, start, restart, rm, cp both ways, inspect, events, rename, pause and
# unpause, top, kill -s, wait. The image is busybox:latest, berth's default image
# (contrib/busybox-image), loaded with docker load.
#
# Every expectation here holds against dockerd 20.10 (Debian's docker.io) with runc and the
# same image: to check a change to this file, point ESOCK at such a dockerd's socket in setup
# instead of starting berthd (dockerd with --bridge=none prints a networking warning on stderr,
# which has to be filtered from the output).

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	engine_setup_containers
}

teardown() {
	engine_teardown
}


# inspect_f FORMAT NAME: one field of `docker inspect`.
inspect_f() {
	dockercli inspect --format "$1" "$2"
}

# state_is NAME STATUS: the container's State.Status is STATUS.
state_is() {
	[ "$(inspect_f '{{.State.Status}}' "$1")" = "$2" ]
}

# ---------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------

@test "docker run --rm: the output, the exit code, nothing left" {
	run dockercli run --rm busybox echo hello from berth
	assert_status 0
	[ "$output" = "hello from berth" ]
	run dockercli run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
	assert_status 3
	assert_output_contains out err
	# The image's own Cmd (sh) with stdin: a script given on stdin.
	run bash -c "echo 'echo from stdin; exit 0' | DOCKER_HOST=unix://$ESOCK timeout 60 docker run --rm -i busybox"
	assert_status 0
	[ "$output" = "from stdin" ]
	run dockercli ps -aq
	assert_status 0
	[ -z "$output" ]
}

@test "docker run: 125 for what the engine refuses, 126 and 127 for commands that cannot run" {
	run dockercli run --rm --pull never berth.test/nothere:latest true
	assert_status 125
	assert_output_contains "berth.test/nothere"
	run dockercli run --rm busybox nosuchcommand
	assert_status 127
	assert_output_contains "nosuchcommand"
	run dockercli run --rm busybox /etc/passwd
	assert_status 126
	# A name that is not valid.
	run dockercli run --rm --name 'bad name!' busybox true
	assert_status 125
	assert_output_contains "bad name!"
	# None of them is left behind.
	run dockercli ps -aq
	[ -z "$output" ]
}

@test "docker run -e -w -u --entrypoint --name" {
	run dockercli run --rm -e FOO=bar -e EMPTY= -w /tmp -u nobody busybox \
		sh -c 'echo "$FOO|$EMPTY|$(pwd)|$(id -u):$(id -g)"'
	assert_status 0
	[ "$output" = "bar||/tmp|65534:65534" ]
	run dockercli run --rm -u 1234:5678 busybox id
	assert_status 0
	assert_output_contains "uid=1234" "gid=5678"
	# A working directory the image lacks is created.
	run dockercli run --rm -w /new/dir busybox pwd
	assert_status 0
	[ "$output" = /new/dir ]
	run dockercli run --rm --entrypoint echo busybox via entrypoint
	assert_status 0
	[ "$output" = "via entrypoint" ]
	# The image's PATH is the container's.
	run dockercli run --rm busybox sh -c 'echo $PATH'
	assert_status 0
	assert_output_contains "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	run dockercli run -d --name "$C" busybox sleep 1000
	assert_status 0
	run dockercli run -d --name "$C" busybox true
	assert_status 125
	assert_output_contains "$C" "already in use"
	run inspect_f '{{.Name}}' "$C"
	[ "$output" = "/$C" ]
	dockercli rm -f "$C"
}

@test "docker run -d, ps, logs and logs -f" {
	local id
	run dockercli run -d --name "$C" busybox sh -c 'echo one; sleep 1; echo two; exec sleep 1000'
	assert_status 0
	id=$output
	[[ "$id" =~ ^[0-9a-f]{64}$ ]]
	run dockercli ps --format '{{.ID}} {{.Names}} {{.Image}} {{.Status}}'
	assert_status 0
	[[ "$output" == "${id:0:12} $C busybox Up "* ]]
	# By name, by id, by a prefix of the id.
	run inspect_f '{{.Id}}' "${id:0:7}"
	[ "$output" = "$id" ]

	# Following: what comes later arrives while logs -f runs, and logs -f does not end by itself.
	run timeout 5 docker -H "unix://$ESOCK" logs -f "$C"
	assert_status 124
	[ "${lines[0]}" = one ]
	[ "${lines[1]}" = two ]
	run dockercli logs "$C"
	assert_status 0
	[ "$output" = "$(printf 'one\ntwo')" ]
	run dockercli logs --tail 1 "$C"
	[ "$output" = two ]
	run dockercli logs -t "$C"
	[[ "${lines[0]}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*\ one$ ]]
	# stderr stays stderr.
	dockercli run -d --name "$C-err" busybox sh -c 'echo to-err >&2'
	dockercli wait "$C-err"
	[ -z "$(dockercli logs "$C-err" 2>/dev/null)" ]
	[ "$(dockercli logs "$C-err" 2>&1 >/dev/null)" = to-err ]

	run dockercli ps -a --format '{{.Names}}' --filter status=exited
	[ "$output" = "$C-err" ]
	run dockercli ps -q
	[ "$output" = "${id:0:12}" ]
	dockercli rm -f "$C" "$C-err"
}

@test "docker stop, start, restart, rm" {
	local started
	run dockercli run -d --name "$C" busybox sh -c 'echo started; exec sleep 1000'
	assert_status 0
	# sleep as pid 1 ignores SIGTERM: stop kills it after the timeout.
	run dockercli stop -t 1 "$C"
	assert_status 0
	[ "$output" = "$C" ]
	state_is "$C" exited
	[ "$(inspect_f '{{.State.ExitCode}}' "$C")" = 137 ]
	run dockercli ps -a --format '{{.Status}}'
	[[ "$output" == "Exited (137) "* ]]

	run dockercli start "$C"
	assert_status 0
	state_is "$C" running
	retry 50 0.1 test "$(dockercli logs "$C" | grep -c started)" = 2
	started=$(inspect_f '{{.State.StartedAt}}' "$C")
	sleep 1
	run dockercli restart -t 1 "$C"
	assert_status 0
	state_is "$C" running
	[ "$(inspect_f '{{.State.StartedAt}}' "$C")" != "$started" ]
	[ "$(inspect_f '{{.RestartCount}}' "$C")" = 0 ]

	# A running container is not removed without -f.
	run dockercli rm "$C"
	assert_failure
	assert_output_contains "stop the container before"
	state_is "$C" running
	run dockercli rm -f "$C"
	assert_status 0
	run dockercli inspect "$C"
	assert_failure
	assert_output_contains "No such" "$C"
	run dockercli rm "$C"
	assert_failure
	assert_output_contains "No such container" "$C"
	# stop and start of what does not exist.
	run dockercli stop "$C"
	assert_failure
	assert_output_contains "No such container"
}

@test "docker run --rm -d: the container goes when it exits" {
	run dockercli run --rm -d --name "$C" busybox sh -c 'sleep 1'
	assert_status 0
	retry 100 0.1 bash -c "[ -z \"\$(DOCKER_HOST=unix://$ESOCK docker ps -aq)\" ]"
}

# ---------------------------------------------------------------------------------------
# exec and attach
# ---------------------------------------------------------------------------------------

@test "docker exec: output, exit code, -i, -t, -u, -e, -w" {
	dockercli run -d --name "$C" -e FROM_RUN=1 busybox sleep 1000
	run dockercli exec "$C" echo hi
	assert_status 0
	[ "$output" = hi ]
	run dockercli exec "$C" sh -c 'exit 5'
	assert_status 5
	# dockerd gives 126 for any exec that cannot start (run maps "not found" to 127 itself).
	run dockercli exec "$C" nosuchcommand
	assert_status 126
	assert_output_contains "nosuchcommand"
	run dockercli exec -u nobody -e X=y -w /tmp "$C" sh -c 'echo "$(id -u) $X $FROM_RUN $(pwd)"'
	assert_status 0
	[ "$output" = "65534 y 1 /tmp" ]
	# stdin
	run bash -c "printf 'line1\nline2\n' | DOCKER_HOST=unix://$ESOCK timeout 60 docker exec -i $C cat"
	assert_status 0
	[ "$output" = "$(printf 'line1\nline2')" ]
	# A terminal: script gives docker one.
	run timeout 60 script -qec "DOCKER_HOST=unix://$ESOCK docker exec -it $C sh -c 'tty; exit 4'" /dev/null
	assert_status 4
	assert_output_contains "/dev/pts/"
	# An exec in a container that does not run.
	dockercli stop -t 0 "$C"
	run dockercli exec "$C" true
	assert_failure
	assert_output_contains "is not running"
	run dockercli exec nothere true
	assert_failure
	assert_output_contains "No such container"
	dockercli rm -f "$C"
}

@test "docker attach: the output from then on and the exit code; run -i with stdin" {
	local apid
	dockercli run -d --name "$C" busybox \
		sh -c 'while [ ! -f /tmp/go ]; do sleep 0.1; done; echo after-attach; exit 7'
	DOCKER_HOST="unix://$ESOCK" timeout 60 docker attach --no-stdin "$C" >"$TMP/attach.out" 2>&1 3>&- &
	apid=$!
	sleep 1
	dockercli exec "$C" touch /tmp/go
	local rc=0
	wait "$apid" || rc=$?
	cat "$TMP/attach.out"
	[ "$rc" = 7 ]
	grep -qx after-attach "$TMP/attach.out"

	# run -i: the container reads the caller's stdin.
	run bash -c "echo via-stdin | DOCKER_HOST=unix://$ESOCK timeout 60 docker run --rm -i busybox cat"
	assert_status 0
	[ "$output" = via-stdin ]
	dockercli rm -f "$C"
}

# ---------------------------------------------------------------------------------------
# volumes and files
# ---------------------------------------------------------------------------------------

@test "docker run -v NAME:/data: the volume outlives its containers" {
	run dockercli run --rm -v "$V:/data" busybox sh -c 'echo kept >/data/f'
	assert_status 0
	run dockercli volume ls --format '{{.Name}}'
	assert_output_contains "$V"
	run dockercli run --rm -v "$V:/data" busybox cat /data/f
	assert_status 0
	[ "$output" = kept ]
	# Read-only.
	run dockercli run --rm -v "$V:/data:ro" busybox sh -c 'echo x >/data/g'
	assert_failure
	assert_output_contains "Read-only file system"
	# In use: not removed.
	dockercli run -d --name "$C" -v "$V:/data" busybox sleep 1000
	run inspect_f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}' "$C"
	[ "$output" = "volume $V /data" ]
	run dockercli volume rm "$V"
	assert_failure
	assert_output_contains "in use"
	dockercli rm -f "$C"
	run dockercli volume rm "$V"
	assert_status 0
}

@test "docker cp: into a container and out of it, running or stopped" {
	echo "from the host" >"$TMP/in.txt"
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli cp "$TMP/in.txt" "$C:/tmp/"
	assert_status 0
	run dockercli exec "$C" cat /tmp/in.txt
	[ "$output" = "from the host" ]
	run dockercli cp "$C:/etc/passwd" "$TMP/passwd"
	assert_status 0
	grep -q '^root:x:0:0:' "$TMP/passwd"
	# A directory, out of a stopped container.
	dockercli exec "$C" sh -c 'mkdir -p /out/sub && echo deep >/out/sub/f'
	dockercli stop -t 0 "$C"
	run dockercli cp "$C:/out" "$TMP/out"
	assert_status 0
	[ "$(cat "$TMP/out/sub/f")" = deep ]
	run dockercli cp "$C:/nothere" "$TMP/x"
	assert_failure
	assert_output_contains "/nothere"
	dockercli rm -f "$C"
}

# ---------------------------------------------------------------------------------------
# inspect, events, rename, pause, top, kill, wait
# ---------------------------------------------------------------------------------------

@test "docker inspect: State, Config.Env, HostConfig.Memory" {
	dockercli run -d --name "$C" -e A=1 -m 64m busybox sh -c 'while [ ! -f /tmp/go ]; do sleep 0.1; done; exit 4'
	run inspect_f '{{.State.Status}} {{.State.Running}} {{.HostConfig.Memory}}' "$C"
	[ "$output" = "running true 67108864" ]
	[ "$(inspect_f '{{.State.Pid}}' "$C")" -gt 0 ]
	run inspect_f '{{json .Config.Env}}' "$C"
	assert_output_contains '"A=1"' '"PATH=/usr/local/sbin:'
	run inspect_f '{{.Config.Image}} {{json .Config.Cmd}}' "$C"
	[ "$output" = 'busybox ["sh","-c","while [ ! -f /tmp/go ]; do sleep 0.1; done; exit 4"]' ]
	dockercli exec "$C" touch /tmp/go
	run dockercli wait "$C"
	[ "$output" = 4 ]
	run inspect_f '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.Pid}}' "$C"
	[ "$output" = "exited false 4 0" ]
	[ "$(inspect_f '{{.State.FinishedAt}}' "$C")" != "0001-01-01T00:00:00Z" ]
	# The memory limit is the container's cgroup's.
	dockercli rm "$C"
	run dockercli run --rm -m 64m busybox sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	assert_status 0
	[ "$output" = 67108864 ]
}

@test "docker events: a container's life in order" {
	local since until
	since=$(date +%s)
	dockercli run -d --name "$C" busybox sleep 1000
	dockercli stop -t 1 "$C"
	dockercli rm "$C"
	sleep 1
	until=$(date +%s)
	run dockercli events --since "$since" --until "$until" --filter "container=$C" \
		--format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
	assert_status 0
	# create, start, then (stop's) kill, die, stop, then destroy: in that order.
	run bash -c "grep -E ' (create|start|die|destroy) ' <<<'$output' | cut -d' ' -f2 | tr '\n' ' '"
	[ "$output" = "create start die destroy " ]
	run dockercli events --since "$since" --until "$until" --filter "container=$C" --format '{{.Type}} {{.Actor.Attributes.name}}'
	[[ "${lines[0]}" == "container $C" ]]
}

@test "docker rename" {
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli rename "$C" "$C-new"
	assert_status 0
	[ "$(inspect_f '{{.Name}}' "$C-new")" = "/$C-new" ]
	run dockercli inspect "$C"
	assert_failure
	dockercli run -d --name "$C" busybox sleep 1000
	# To a name in use: refused, both keep theirs.
	run dockercli rename "$C" "$C-new"
	assert_failure
	assert_output_contains "already in use"
	[ "$(inspect_f '{{.Name}}' "$C")" = "/$C" ]
	dockercli rm -f "$C" "$C-new"
}

@test "docker pause and unpause" {
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli pause "$C"
	assert_status 0
	state_is "$C" paused
	[ "$(inspect_f '{{.State.Paused}}' "$C")" = true ]
	run dockercli ps --format '{{.Status}}'
	[[ "$output" == *"(Paused)" ]]
	run dockercli exec "$C" true
	assert_failure
	assert_output_contains "paused"
	run dockercli pause "$C"
	assert_failure
	assert_output_contains "already paused"
	run dockercli unpause "$C"
	assert_status 0
	state_is "$C" running
	run dockercli exec "$C" echo awake
	[ "$output" = awake ]
	dockercli rm -f "$C"
}

@test "docker top" {
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli top "$C"
	assert_status 0
	assert_output_contains "PID" "CMD" "sleep 1000"
	dockercli stop -t 0 "$C"
	run dockercli top "$C"
	assert_failure
	assert_output_contains "is not running"
	dockercli rm -f "$C"
}

@test "docker kill -s and wait" {
	dockercli run -d --name "$C" busybox \
		sh -c 'trap "echo got-usr1; exit 9" USR1; while true; do sleep 0.1; done'
	sleep 0.5
	run dockercli kill -s USR1 "$C"
	assert_status 0
	run dockercli wait "$C"
	assert_status 0
	[ "$output" = 9 ]
	run dockercli logs "$C"
	[ "$output" = got-usr1 ]
	dockercli rm "$C"

	# SIGKILL by default: 137.
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli kill "$C"
	assert_status 0
	run dockercli wait "$C"
	[ "$output" = 137 ]
	run dockercli kill -s NOSUCHSIGNAL "$C"
	assert_failure
	# A container that no longer runs cannot be killed.
	run dockercli kill "$C"
	assert_failure
	assert_output_contains "is not running"
	dockercli rm "$C"

	# wait blocks until the exit.
	dockercli run -d --name "$C" busybox sh -c 'sleep 1; exit 6'
	run dockercli wait "$C"
	assert_status 0
	[ "$output" = 6 ]
	dockercli rm "$C"
}
