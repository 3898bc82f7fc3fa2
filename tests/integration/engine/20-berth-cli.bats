#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth, the CLI, against berthd over a real berth-supervisor: host selection, version and
# info, bad flags (125 and docker's messages), --format paths, images (load, images, tag,
# inspect, history, save, rmi), volumes, login/logout and their config file, pull and push
# through a local registry, and containers (run -d/--rm/-i, ps, logs, exec, stop, rm, wait,
# rename, inspect).

bats_require_minimum_version 1.5.0

load ../helpers
load ../supervisor/supervisor-helpers
load ../supervisor/registry-helpers
load engine-helpers

BERTH=$(bin_of engine/berth)

setup() {
	engine_setup
	start_supervisor
	start_berthd
	C=$ID-c
	V=$ID-v
	on_teardown remove_all
}

teardown() {
	engine_teardown
}

# berthcli ARGS...: berth against this test's berthd, bounded in time.
berthcli() {
	BERTH_HOST="unix://$ESOCK" timeout -k 5 120 "$BERTH" "$@"
}

remove_all() {
	local c
	for c in $(berthcli ps -aq 2>/dev/null); do
		berthcli rm -f "$c" >/dev/null 2>&1 || true
	done
	berthcli volume rm -f "$V" >/dev/null 2>&1 || true
}

busybox_tar() {
	local tar=${BATS_FILE_TMPDIR:?}/busybox.tar
	if [ ! -s "$tar" ]; then
		"$BERTH_SOURCE_DIR/contrib/busybox-image" "$tar" >&2 || fail "contrib/busybox-image failed"
	fi
	echo "$tar"
}

load_busybox_berth() {
	run berthcli load -i "$(busybox_tar)"
	assert_status 0
	assert_output_contains "Loaded image: busybox:latest"
}

@test "berth: the host comes from -H, BERTH_HOST, then DOCKER_HOST" {
	run env -u BERTH_HOST DOCKER_HOST="unix://$ESOCK" "$BERTH" version --format '{{.Server.ApiVersion}}'
	assert_status 0
	[ "$output" = 1.41 ]
	# -H wins over the environment.
	run env BERTH_HOST=unix:///nonexistent.sock "$BERTH" -H "unix://$ESOCK" info --format '{{.OSType}}'
	assert_status 0
	[ "$output" = linux ]
	# BERTH_HOST wins over DOCKER_HOST.
	run env BERTH_HOST=unix:///nonexistent.sock DOCKER_HOST="unix://$ESOCK" "$BERTH" info
	assert_failure
	assert_output_contains "Cannot connect to berthd at unix:///nonexistent.sock"
	run env BERTH_HOST=tcp://127.0.0.1:2375 "$BERTH" info
	assert_status 125
	assert_output_contains "invalid host \`tcp://127.0.0.1:2375\` (from BERTH_HOST)"
}

@test "berth version and info" {
	run berthcli version
	assert_status 0
	assert_output_contains "Client:"
	assert_output_contains " API version:       1.41"
	assert_output_contains "Server: berth"
	assert_output_contains "  API version:      1.41 (minimum version 1.12)"
	run berthcli info
	assert_status 0
	assert_output_contains " Containers: 0"
	assert_output_contains " Storage Driver: overlay2"
	assert_output_contains " Swarm: inactive"
	run berthcli info --format '{{.Driver}} {{json .Swarm.LocalNodeState}} {{.Nope}}'
	assert_status 0
	[ "$output" = 'overlay2 "inactive" <no value>' ]
	run berthcli system info -f '{{.Images}}'
	assert_status 0
	[ "$output" = 0 ]
}

@test "berth: bad flags, arguments and commands exit 125 (or 1) with docker's messages" {
	run berthcli ps --bogus
	assert_status 125
	[ "${lines[0]}" = "unknown flag: --bogus" ]
	[ "${lines[1]}" = "See 'berth ps --help'." ]
	run berthcli images -x
	assert_status 125
	[ "${lines[0]}" = "unknown shorthand flag: 'x' in -x" ]
	run berthcli ps -n many
	assert_status 125
	assert_output_contains 'invalid argument "many" for "-n, --last" flag'
	run berthcli rm
	assert_status 125
	assert_output_contains '"berth rm" requires at least 1 argument.'
	run berthcli run --memory lots busybox true
	assert_status 125
	assert_output_contains "invalid --memory: \`lots\`"
	run berthcli run --restart sometimes busybox true
	assert_status 125
	assert_output_contains "invalid restart policy \`sometimes\`"
	run berthcli run -p 70000:80 busybox true
	assert_status 125
	assert_output_contains 'invalid argument "70000:80" for "-p, --publish" flag: invalid hostPort: 70000'
	run berthcli frobnicate
	assert_status 1
	assert_output_contains "'frobnicate' is not a berth command"
	run berthcli info --format '{{.Driver'
	assert_failure
	assert_output_contains "template: unclosed action"
	run berthcli ps --help
	assert_status 0
	assert_output_contains "Usage:  berth ps [OPTIONS]"
	# Nothing was created by the refused runs.
	run berthcli ps -aq
	assert_status 0
	[ -z "$output" ]
}

@test "berth images: load, images, tag, inspect, history, save, rmi" {
	load_busybox_berth
	run berthcli images
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "REPOSITORY TAG IMAGE ID CREATED SIZE" ]
	assert_output_contains "busybox      latest"
	local id
	id=$(berthcli image inspect --format '{{.Id}}' busybox)
	[[ "$id" == sha256:* ]]
	run berthcli images -q
	assert_status 0
	[ "$output" = "${id:7:12}" ]
	run berthcli images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	assert_status 0
	[ "$output" = "busybox:latest $id" ]

	run berthcli tag busybox berth.test/other:v1
	assert_status 0
	run berthcli images --format '{{.Repository}} {{.Tag}}' berth.test/other
	assert_status 0
	[ "$output" = "berth.test/other v1" ]
	run berthcli inspect --format '{{len .RepoTags}} {{index .RepoTags 0}} {{.Os}}' "${id:7:12}"
	assert_status 0
	[[ "$output" == "2 "*" linux" ]]
	run berthcli inspect busybox
	assert_status 0
	[ "$(echo "$output" | jq -r '.[0].Id')" = "$id" ]
	run berthcli history busybox
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "IMAGE CREATED CREATED BY SIZE COMMENT" ]
	run berthcli history -q --no-trunc busybox
	assert_status 0
	assert_output_contains "$id"

	# save | load, through a file and through a pipe.
	run berthcli save -o "$TMP/saved.tar" berth.test/other:v1
	assert_status 0
	tar -tf "$TMP/saved.tar" | grep -q manifest.json
	run berthcli rmi berth.test/other:v1
	assert_status 0
	[ "$output" = "Untagged: berth.test/other:v1" ]
	run berthcli rmi berth.test/other:v1
	assert_status 1
	assert_output_contains "Error response from daemon:"
	run sh -c "BERTH_HOST=unix://$ESOCK $BERTH load < '$TMP/saved.tar'"
	assert_status 0
	assert_output_contains "Loaded image: berth.test/other:v1"
	run berthcli save busybox
	assert_status 0
	berthcli save busybox | tar -t | grep -q manifest.json
	run berthcli inspect nosuchthing
	assert_status 1
	assert_output_contains "Error: No such object: nosuchthing"
	run berthcli rmi -f busybox berth.test/other:v1
	assert_status 0
	assert_output_contains "Deleted: $id"
	run berthcli images -q
	[ -z "$output" ]
}

@test "berth volume: create, ls, inspect, rm" {
	run berthcli volume create --label team=a "$V"
	assert_status 0
	[ "$output" = "$V" ]
	run berthcli volume ls
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "DRIVER VOLUME NAME" ]
	assert_output_contains "local     $V"
	run berthcli volume ls -q
	[ "$output" = "$V" ]
	run berthcli volume inspect --format '{{.Name}} {{.Driver}} {{.Labels.team}}' "$V"
	assert_status 0
	[ "$output" = "$V local a" ]
	run berthcli volume rm "$V"
	assert_status 0
	[ "$output" = "$V" ]
	run berthcli volume rm "$V"
	assert_status 1
	assert_output_contains "Error response from daemon:"
}

@test "berth login/logout: docker's config.json, base64 auth, the file kept private" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	start_registry reg
	run berthcli login -u alice --password-stdin "$REG" <<<"s3cret"
	assert_status 0
	assert_output_contains "Login Succeeded"
	local cfg=$DOCKER_CONFIG/config.json
	[ "$(jq -r --arg r "$REG" '.auths[$r].auth' "$cfg")" = "$(printf alice:s3cret | base64)" ]
	[ "$(stat -c %a "$cfg")" = 600 ]
	# Other keys of the file survive.
	jq '.detachKeys = "ctrl-x"' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
	run berthcli logout "$REG"
	assert_status 0
	[ "$output" = "Removing login credentials for $REG" ]
	[ "$(jq -r --arg r "$REG" '.auths[$r] // "gone"' "$cfg")" = gone ]
	[ "$(jq -r .detachKeys "$cfg")" = ctrl-x ]
	run berthcli logout "$REG"
	assert_status 0
	[ "$output" = "Not logged in to $REG" ]
	run berthcli login --password-stdin "$REG" </dev/null
	assert_status 1
	assert_output_contains "Must provide --username with --password-stdin"
}

@test "berth pull and push through a loopback registry, with progress lines" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	require_skopeo
	start_registry reg
	skopeo copy -q --dest-tls-verify=false "oci-archive:$(image_archive)" "docker://$REG/x:latest"
	run berthcli pull "$REG/x"
	assert_status 0
	assert_output_contains "latest: Pulling from x"
	assert_output_contains "Pull complete"
	assert_output_contains "Digest: sha256:"
	assert_output_contains "Status: Downloaded newer image for $REG/x:latest"
	[ "${lines[-1]}" = "$REG/x:latest" ]
	run berthcli pull -q "$REG/x:latest"
	assert_status 0
	[ "$output" = "$REG/x:latest" ]
	run berthcli pull "$REG/nothere"
	assert_status 1
	assert_output_contains "nothere"
	run berthcli tag "$REG/x" "$REG/y:v2"
	assert_status 0
	run berthcli push "$REG/y:v2"
	assert_status 0
	assert_output_contains "v2: digest: sha256:"
	skopeo inspect --tls-verify=false "docker://$REG/y:v2" >/dev/null
	run berthcli images --digests --format '{{.Repository}} {{.Digest}}' "$REG/x"
	assert_status 0
	[[ "$output" == "$REG/x sha256:"* ]]
}

@test "berth run, ps, logs, exec, stop, rm: a detached container's life" {
	load_busybox_berth
	run berthcli run -d --name "$C" -e GREETING=hi busybox sh -c 'echo "$GREETING out"; echo err >&2; exec sleep 1000'
	assert_status 0
	local id=$output
	[ "${#id}" = 64 ]
	run berthcli ps
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" ]
	assert_output_contains "${id:0:12}"
	assert_output_contains "$C"
	run berthcli ps -q --no-trunc
	[ "$output" = "$id" ]
	run berthcli ps --format '{{.Names}} {{.State}} {{.Image}}'
	[ "$output" = "$C running busybox" ]
	run berthcli inspect --format '{{.State.Status}} {{.Name}} {{index .Config.Env 0}}' "$C"
	assert_status 0
	[[ "$output" == "running /$C "* ]]
	retry 50 0.1 sh -c "BERTH_HOST=unix://$ESOCK $BERTH logs $C 2>&1 | grep -q err"
	run berthcli logs "$C"
	assert_status 0
	assert_output_contains "hi out"
	# stdout and stderr stay apart.
	[ "$(berthcli logs "$C" 2>/dev/null)" = "hi out" ]
	run berthcli exec "$C" sh -c 'echo in $(pwd) as $(id -u); exit 4'
	assert_status 4
	[ "$output" = "in / as 0" ]
	run sh -c "echo piped | BERTH_HOST=unix://$ESOCK $BERTH exec -i $C cat"
	assert_status 0
	[ "$output" = piped ]
	run berthcli rename "$C" "$C-new"
	assert_status 0
	run berthcli stop -t 1 "$C-new"
	assert_status 0
	[ "$output" = "$C-new" ]
	run berthcli wait "$C-new"
	assert_status 0
	[ "$output" = 137 ] || [ "$output" = 143 ]
	run berthcli ps -q
	[ -z "$output" ]
	run berthcli ps -a --format '{{.Names}} {{.State}}'
	[ "$output" = "$C-new exited" ]
	run berthcli rm "$C-new"
	assert_status 0
	run berthcli rm "$C-new"
	assert_status 1
	assert_output_contains "Error response from daemon:"
	run berthcli ps -aq
	[ -z "$output" ]
}

@test "berth run: output, exit codes, --rm leaves nothing, stdin with -i" {
	load_busybox_berth
	run berthcli run --rm busybox echo hello from berth
	assert_status 0
	[ "$output" = "hello from berth" ]
	run berthcli run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
	assert_status 3
	assert_output_contains out
	assert_output_contains err
	run sh -c "echo through stdin | BERTH_HOST=unix://$ESOCK $BERTH run --rm -i busybox cat"
	assert_status 0
	[ "$output" = "through stdin" ]
	run -127 berthcli run --rm busybox /no/such/command
	assert_status 127
	run berthcli run --rm busybox:nosuchtag true
	assert_status 125
	assert_output_contains "Unable to find image 'busybox:nosuchtag' locally"
	run berthcli ps -aq
	[ -z "$output" ]
	# A signal to berth goes on to the container (--sig-proxy, on by default).
	BERTH_HOST="unix://$ESOCK" "$BERTH" run --rm busybox sh -c 'trap "echo got-term; exit 9" TERM; echo ready; sleep 100 & wait' >"$TMP/sig.out" 2>&1 3>&- &
	local pid=$!
	retry 100 0.1 grep -q ready "$TMP/sig.out"
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 9 ]
	grep -q got-term "$TMP/sig.out"
	# Without --rm the container stays, exited with its code.
	run berthcli run --name "$C" busybox sh -c 'exit 7'
	assert_status 7
	run berthcli inspect -f '{{.State.ExitCode}} {{.State.Status}}' "$C"
	[ "$output" = "7 exited" ]
	run berthcli create --name "$C-2" -w /tmp busybox pwd
	assert_status 0
	run berthcli start -a "$C-2"
	assert_status 0
	[ "$output" = /tmp ]
	run berthcli rm "$C" "$C-2"
	assert_status 0
}

@test "berth: a terminal for run -it and exec -t, its exit code, its size" {
	command -v script >/dev/null || skip "script(1) is not installed"
	load_busybox_berth
	# script gives berth a terminal; the shell inside reads the lines typed into it.
	run sh -c "printf 'echo typed-\$((6*7))\nexit 5\n' | BERTH_HOST=unix://$ESOCK script -qec '$BERTH run --rm -it busybox sh' /dev/null"
	assert_status 5
	assert_output_contains "typed-42"
	run sh -c "BERTH_HOST=unix://$ESOCK script -qec '$BERTH run --rm -t busybox sh -c \"tty; exit 2\"' /dev/null"
	assert_status 2
	assert_output_contains "/dev/pts/"
	run berthcli run -d --name "$C" busybox sleep 1000
	assert_status 0
	# The size follows the terminal: sent once the process runs (and on SIGWINCH), so the
	# command looks at it a moment later.
	run sh -c "BERTH_HOST=unix://$ESOCK script -qec 'stty cols 91 rows 17; $BERTH exec -t $C sh -c \"sleep 1; stty size\"' /dev/null </dev/null"
	assert_status 0
	assert_output_contains "17 91"
	run sh -c "BERTH_HOST=unix://$ESOCK script -qec 'stty cols 83 rows 19; $BERTH run --rm -t busybox sh -c \"sleep 1; stty size\"' /dev/null </dev/null"
	assert_status 0
	assert_output_contains "19 83"
	run berthcli exec -i -t "$C" true </dev/null
	assert_status 1
	assert_output_contains "the input device is not a TTY"
	# ctrl-p ctrl-q detaches (typed once berth holds the terminal raw); the container runs on.
	run sh -c "(sleep 2; printf '\\020\\021'; sleep 5) | BERTH_HOST=unix://$ESOCK timeout 30 script -qec '$BERTH run -it --name $C-d busybox sh; echo berth-rc=\$?' /dev/null"
	assert_output_contains "berth-rc=0"
	run berthcli inspect -f '{{.State.Status}}' "$C-d"
	[ "$output" = running ]
	run sh -c "(sleep 2; printf '\\001d'; sleep 5) | BERTH_HOST=unix://$ESOCK timeout 30 script -qec '$BERTH attach --detach-keys ctrl-a,d $C-d; echo berth-rc=\$?' /dev/null"
	assert_output_contains "berth-rc=0"
	run berthcli attach --detach-keys ctrl-Q "$C-d"
	assert_status 125
	assert_output_contains "invalid detach keys"
}

@test "berth: attach, top, pause/unpause, kill -s, events, system df, inspect's JSON" {
	load_busybox_berth
	run berthcli run -d --name "$C" busybox sh -c 'sleep 5; echo late; exit 6'
	assert_status 0
	run berthcli top "$C"
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "UID PID PPID C STIME TTY TIME CMD" ]
	assert_output_contains "sleep 5"
	run berthcli attach "$C"
	assert_status 6
	assert_output_contains late
	run berthcli run -d --name "$C-2" busybox sleep 1000
	assert_status 0
	run berthcli rm "$C"
	assert_status 0
	C=$C-2
	run berthcli pause "$C"
	assert_status 0
	run berthcli ps --format '{{.Status}}'
	[[ "$output" == *"(Paused)" ]]
	run berthcli unpause "$C"
	assert_status 0
	run berthcli kill -s KILL "$C"
	assert_status 0
	[ "$output" = "$C" ]
	run berthcli wait "$C"
	[ "$output" = 137 ]
	run berthcli events --since 5m --until 0s --filter type=container --filter event=pause \
		--format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
	assert_status 0
	[ "$output" = "container pause $C" ]
	run berthcli events --since 5m --until 0s --filter event=unpause
	assert_status 0
	[[ "$output" == *" container unpause "*"name=$C"* ]]
	run berthcli system df
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" ]
	assert_output_contains "Images          1"
	# inspect prints docker's layout: four spaces, "[]" for nothing found.
	run berthcli inspect "$C"
	assert_status 0
	[ "${lines[1]}" = "    {" ]
	[[ "${lines[2]}" == '        "Id": "'* ]]
	run berthcli volume inspect nosuchvolume
	assert_status 1
	[ "${lines[0]}" = "[]" ]
	assert_output_contains "Error: No such volume: nosuchvolume"
	run berthcli ps -a --format 'table {{.Names}}\t{{.State}}'
	assert_status 0
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "NAMES STATE" ]
	[ "$(echo "${lines[1]}" | tr -s ' ')" = "$C exited" ]
}

@test "berth: exec -e -w -u -d, logs --tail -t --since, ps --filter and -n, create with a volume" {
	load_busybox_berth
	run berthcli run -d --name "$C" -v "$V:/data" busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done; exec sleep 1000'
	assert_status 0
	run berthcli exec -e X=1 -w /data -u 1000:1000 "$C" sh -c 'echo $X $(pwd) $(id -u):$(id -g)'
	assert_status 0
	[ "$output" = "1 /data 1000:1000" ]
	run berthcli exec -d "$C" sh -c 'echo detached >/data/marker'
	assert_status 0
	[ -z "$output" ]
	retry 50 0.1 sh -c "BERTH_HOST=unix://$ESOCK $BERTH exec $C cat /data/marker | grep -q detached"
	run berthcli volume ls -q
	[ "$output" = "$V" ]
	retry 50 0.1 sh -c "BERTH_HOST=unix://$ESOCK $BERTH logs $C | grep -q line5"
	run berthcli logs --tail 2 "$C"
	assert_status 0
	[ "$output" = "$(printf 'line4\nline5')" ]
	run berthcli logs -t --tail 1 "$C"
	[[ "$output" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T.*Z\ line5$ ]]
	run berthcli logs --since 1h "$C"
	assert_output_contains line1
	run berthcli logs --tail many "$C"
	assert_status 125
	assert_output_contains "invalid value for --tail"
	run berthcli create --name "$C-2" busybox true
	assert_status 0
	run berthcli ps -a --filter "name=$C-2" --format '{{.Names}} {{.State}}'
	assert_status 0
	[ "$output" = "$C-2 created" ]
	run berthcli ps --filter status=running -q --no-trunc
	[ "$output" = "$(berthcli inspect -f '{{.Id}}' "$C")" ]
	run berthcli ps -n 1 --format '{{.Names}}'
	[ "$output" = "$C-2" ]
	run berthcli ps -l --format '{{.Names}}'
	[ "$output" = "$C-2" ]
	run berthcli ps --filter nokey
	assert_failure
	assert_output_contains "bad format of filter"
	run berthcli rm -f -v "$C" "$C-2"
	assert_status 0
}

@test "berth: restart, start -a, the prunes (container, image, volume, system) and search" {
	load_busybox_berth
	run berthcli run -d --name "$C" busybox sh -c 'echo started; sleep 1000'
	assert_status 0
	pid1=$(berthcli inspect -f '{{.State.Pid}}' "$C")
	run berthcli restart -t 1 "$C"
	assert_status 0
	[ "$output" = "$C" ]
	pid2=$(berthcli inspect -f '{{.State.Pid}}' "$C")
	[ "$pid1" != "$pid2" ] && [ "$pid2" -gt 0 ]
	run berthcli create --name "$C-a" busybox sh -c 'echo attached; exit 4'
	assert_status 0
	run berthcli start -a "$C-a"
	assert_status 4
	[ "$output" = attached ]
	# container prune removes the stopped one only.
	ida=$(berthcli inspect -f '{{.Id}}' "$C-a")
	run berthcli container prune -f
	assert_status 0
	[ "${lines[0]}" = "Deleted Containers:" ]
	[ "${lines[1]}" = "$ida" ]
	assert_output_contains "Total reclaimed space:"
	run berthcli ps -aq
	[ "${#lines[@]}" = 1 ]
	# volume prune removes the unused volume, keeps the used one.
	run berthcli volume create "$V-unused"
	assert_status 0
	run berthcli run -d --name "$C-v" -v "$V-used:/data" busybox sleep 1000
	assert_status 0
	run berthcli volume prune -f
	assert_status 0
	assert_output_contains "$V-unused"
	run berthcli volume ls -q
	[ "$output" = "$V-used" ]
	# image prune -a keeps the image containers use; untagged images go with plain prune.
	run berthcli tag busybox "$ID-extra:1"
	assert_status 0
	run berthcli image prune -a -f
	assert_status 0
	run berthcli images --format '{{.Repository}}'
	assert_output_contains busybox
	# rmi: another tag of the image just goes; the last one is refused while containers use it.
	run berthcli rmi "$ID-extra:1"
	assert_status 0
	[ "$output" = "Untagged: $ID-extra:1" ]
	run berthcli rmi busybox
	assert_status 1
	assert_output_contains "(must force) - container "
	assert_output_contains " is using its referenced image"
	run berthcli rmi -f busybox
	assert_status 1
	assert_output_contains "(cannot be forced) - image is being used by running container"
	# system prune: the stopped containers; with --volumes the unused volumes too.
	run berthcli stop -t 1 "$C" "$C-v"
	assert_status 0
	run berthcli system prune -f --volumes
	assert_status 0
	assert_output_contains "Deleted Containers:"
	assert_output_contains "Total reclaimed space:"
	run berthcli ps -aq
	[ -z "$output" ]
	run berthcli volume ls -q
	[ -z "$output" ]
	# search is answered "not supported" by berthd: the error comes through, exit 1.
	run berthcli search busybox
	assert_status 1
	assert_output_contains "not supported"
	run berthcli search --limit x busybox
	assert_status 125
}
