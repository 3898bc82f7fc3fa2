#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berthd's /events (live streams, since/until replays, filters, the docker CLI's `events`),
# /system/df and /auth (`docker login` against a registry with htpasswd), over a real
# berth-supervisor and a local registry.

load ../helpers
load ../supervisor/supervisor-helpers
load ../supervisor/registry-helpers
load engine-helpers

setup() {
	engine_setup
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	command -v jq >/dev/null || skip "jq is not installed"
	require_skopeo
	start_supervisor
	start_berthd
	start_registry reg
	skopeo copy -q --dest-tls-verify=false "oci-archive:$(image_archive)" "docker://$REG/x:latest"
	EV_PID=
	on_teardown stop_events
}

teardown() {
	engine_teardown
}

# A streaming GET /events (curl in the background) writing to $TMP/events.out.
start_events() {
	local query=${1:-}
	curl -sS -N --unix-socket "$ESOCK" "http://berthd/events$query" >"$TMP/events.out" \
		2>"$TMP/events.err" 3>&- &
	EV_PID=$!
	# Subscribed once berthd counts the listener.
	retry 50 0.1 listeners_are 1 || fail "the /events stream did not start"
}

stop_events() {
	[ -n "${EV_PID:-}" ] || return 0
	kill "$EV_PID" 2>/dev/null || true
	wait "$EV_PID" 2>/dev/null || true
	EV_PID=
}

listeners_are() {
	[ "$(api /info | head -n 1 | jq .NEventsListener)" = "$1" ]
}

# Lines of $TMP/events.out as "Type Action Actor.ID Actor.Attributes.name".
events_summary() {
	jq -r '"\(.Type) \(.Action) \(.Actor.ID) \(.Actor.Attributes.name)"' "$TMP/events.out"
}

registry_image_id() {
	skopeo inspect --tls-verify=false --raw "docker://$REG/x:latest" | jq -r .config.digest
}

@test "events: a pull, a tag and an rmi stream live on /events, in docker's shape" {
	local id
	id=$(registry_image_id)
	start_events
	dockercli pull -q "$REG/x"
	dockercli tag "$REG/x" "$REG/y:v1"
	dockercli rmi "$REG/y:v1" "$REG/x"
	retry 50 0.1 grep -q '"Action":"delete"' "$TMP/events.out" || {
		cat "$TMP/events.out" >&2
		fail "no delete event"
	}
	run events_summary
	[ "$output" = "image pull $REG/x:latest $REG/x
image tag $id $REG/y:v1
image untag $id $REG/y:v1
image untag $id $REG/x:latest
image delete $id $id" ]
	# The legacy fields and the times, as dockerd writes them.
	run jq -r 'select(.Action == "pull") | "\(.status) \(.id) \(.scope) \(.time == (.timeNano / 1e9 | floor))"' "$TMP/events.out"
	[ "$output" = "pull $REG/x:latest local true" ]
	# The client going away ends its subscription.
	stop_events
	retry 50 0.1 listeners_are 0
}

@test "events: push, save, load and prune" {
	local id start end
	id=$(registry_image_id)
	dockercli pull -q "$REG/x" >/dev/null
	dockercli tag "$REG/x" "$REG/pushed:1"
	start=$(date +%s.%N)
	dockercli push "$REG/pushed:1" >/dev/null
	dockercli save -o "$TMP/x.tar" "$REG/x"
	dockercli load -i "$TMP/x.tar" >/dev/null
	dockercli rmi "$REG/pushed:1" >/dev/null
	dockercli image prune -a -f >/dev/null
	sleep 1
	end=$(date +%s)
	run dockercli events --since "$start" --until "$end" --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
	assert_status 0
	[ "$output" = "push $REG/pushed:1 $REG/pushed
save $id $id
load $id $id
untag $id $REG/pushed:1
untag $id $REG/x:latest
delete $id $id
prune  <no value>" ]
	run dockercli events --since "$start" --until "$end" --filter event=prune --format '{{.Actor.Attributes.reclaimed}}'
	# What the garbage collection freed, in bytes (as the prune's answer says).
	[[ "$output" =~ ^[0-9]+$ ]]
}

@test "events: since and until replay what happened, filters select" {
	local id start end
	id=$(registry_image_id)
	start=$(date +%s)
	dockercli pull -q "$REG/x"
	dockercli tag "$REG/x" "$REG/y:v1"
	dockercli tag "$REG/x" "$REG/z:v2"
	sleep 1
	end=$(date +%s.%N)
	# until in the past: the replay ends by itself.
	run api "/events?since=$start&until=$end"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Action | tr '\n' ' ')" = "pull tag tag " ]
	# until alone replays everything before it.
	run api "/events?until=$end"
	[ "$(api_body | jq -r .Action | tr '\n' ' ')" = "pull tag tag " ]
	# since after them all: nothing, and the stream still ends at until.
	run api "/events?since=$end&until=$end"
	[ "$(api_status)" = 200 ]
	[ -z "$(api_body)" ]
	# RFC 3339 and durations are read too.
	run api "/events?since=$(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ)&until=$end"
	[ "$(api_body | jq -r .Action | tr '\n' ' ')" = "pull tag tag " ]
	run api "/events?since=10m&until=$end"
	[ "$(api_body | jq -r .Action | tr '\n' ' ')" = "pull tag tag " ]
	# Filters: keys AND, values OR.
	run api -G --data-urlencode 'filters={"type":{"image":true},"event":{"tag":true}}' "/events?since=$start&until=$end"
	[ "$(api_body | jq -r .Actor.Attributes.name | tr '\n' ' ')" = "$REG/y:v1 $REG/z:v2 " ]
	run api -G --data-urlencode "filters={\"image\":{\"$REG/z\":true}}" "/events?since=$start&until=$end"
	[ "$(api_body | jq -r .Actor.Attributes.name)" = "$REG/z:v2" ]
	run api -G --data-urlencode 'filters={"type":["container"]}' "/events?since=$start&until=$end"
	[ "$(api_status)" = 200 ]
	[ -z "$(api_body)" ]
	# Bad arguments are 400s that say what is wrong.
	run api -G --data-urlencode 'filters={"colour":{"red":true}}' "/events?until=$end"
	[ "$(api_status)" = 400 ]
	assert_output_contains "invalid filter 'colour'"
	run api "/events?since=yesterday"
	[ "$(api_status)" = 400 ]
	assert_output_contains 'failed to parse value as time or duration: \"yesterday\"'
	run api "/events?since=$end&until=$start"
	[ "$(api_status)" = 400 ]
	assert_output_contains "cannot be after"
}

@test "docker CLI: events --since --until, with filters and formats" {
	local start end
	start=$(date +%s)
	dockercli pull -q "$REG/x"
	dockercli tag "$REG/x" "$REG/y:v1"
	dockercli rmi "$REG/y:v1"
	sleep 1
	end=$(date +%s)
	run dockercli events --since "$start" --until "$end" --format '{{.Type}} {{.Action}}'
	assert_status 0
	[ "$output" = "image pull
image tag
image untag" ]
	run dockercli events --since "$start" --until "$end" --filter event=tag --format '{{.Actor.Attributes.name}}'
	assert_status 0
	[ "$output" = "$REG/y:v1" ]
	run dockercli events --since "$start" --until "$end" --filter type=container
	assert_status 0
	[ -z "$output" ]
	# Without --until it follows.
	DOCKER_HOST="unix://$ESOCK" docker events --filter type=image \
		--format '{{.Action}} {{.Actor.Attributes.name}}' >"$TMP/cli-events.out" 2>&1 3>&- &
	local pid=$!
	retry 50 0.1 listeners_are 1
	dockercli tag "$REG/x" "$REG/live:1"
	retry 50 0.1 grep -qx "tag $REG/live:1" "$TMP/cli-events.out" || {
		cat "$TMP/cli-events.out" >&2
		fail "docker events did not print the tag"
	}
	kill "$pid"
	wait "$pid" || true
	retry 50 0.1 listeners_are 0
}

@test "events: a stopping berthd ends the streams it serves" {
	start_events
	local t0=$SECONDS
	kill_berthd TERM
	[ $((SECONDS - t0)) -lt 10 ]
	# curl saw the end of the stream (a chunked body that closed cleanly).
	retry 50 0.1 bash -c "! kill -0 $EV_PID 2>/dev/null"
	wait "$EV_PID" 2>/dev/null || true
	EV_PID=
	[ ! -s "$TMP/events.err" ] || {
		cat "$TMP/events.err" >&2
		fail "curl reported an error"
	}
}

@test "docker CLI: system df" {
	run dockercli system df
	assert_status 0
	assert_output_contains "Images          0"
	dockercli pull -q "$REG/x"
	run api /system/df
	[ "$(api_status)" = 200 ]
	run jq -r '"\(.Images | length) \(.Images[0].RepoTags[0]) \(.Images[0].Containers) \(.Images[0].Size > 0) \(.LayersSize > 0) \(.BuildCache) \(.Containers) \(.Volumes)"' <<<"$(api_body)"
	[ "$output" = "1 $REG/x:latest 0 true true [] [] []" ]
	run dockercli system df
	assert_status 0
	assert_output_contains "Images          1"
	run dockercli system df -v
	assert_status 0
	assert_output_contains "$REG/x"

	# A second image with the same layer (an index whose amd64 config differs): the layer
	# counts once in LayersSize and is shared by both.
	local layer
	layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG/x:latest" | jq '[.layers[].size] | add')
	run api /system/df
	[ "$(api_body | jq '"\(.LayersSize) \(.Images[0].SharedSize)"')" = "\"$layer 0\"" ]
	index_layout "$TMP/two"
	skopeo copy -q --all --dest-tls-verify=false "oci:$TMP/two" "docker://$REG/two:latest"
	dockercli pull -q "$REG/two"
	run api /system/df
	[ "$(api_body | jq '.Images | length')" = 2 ]
	[ "$(api_body | jq -c '[.LayersSize, [.Images[].SharedSize]]')" = "[$layer,[$layer,$layer]]" ]
	dockercli rmi "$REG/two" >/dev/null

	# A container with a file in its layer and a volume with a file in it.
	load_busybox
	dockercli volume create data >/dev/null
	dockercli run --name writer -v data:/data busybox:latest \
		sh -c 'head -c 100000 /dev/zero >/big; head -c 5000 /dev/zero >/data/f'
	run api /system/df
	[ "$(api_status)" = 200 ]
	local body
	body=$(api_body)
	run jq -r '.Containers[] | "\(.Names[0]) \(.Image) \(.SizeRw >= 100000) \(.SizeRootFs > .SizeRw)"' <<<"$body"
	[ "$output" = "/writer busybox:latest true true" ]
	run jq -r '.Volumes[] | "\(.Name) \(.UsageData.Size) \(.UsageData.RefCount)"' <<<"$body"
	[ "$output" = "data 5000 1" ]
	run jq -r '.Images[] | select(.RepoTags | index("busybox:latest")) | .Containers' <<<"$body"
	[ "$output" = 1 ]
	run dockercli system df -v
	assert_status 0
	assert_output_contains "writer"
	assert_output_contains "data"
}

@test "events: containers' events come through the bus with docker's attributes" {
	load_busybox
	local start end
	start=$(date +%s)
	dockercli run --name ev1 busybox:latest true
	dockercli rm ev1 >/dev/null
	sleep 1
	end=$(date +%s)
	run dockercli events --since "$start" --until "$end" --filter type=container --format '{{.Action}} {{.Actor.Attributes.name}} {{.From}}'
	assert_status 0
	assert_output_contains "create ev1 busybox:latest"
	assert_output_contains "start ev1 busybox:latest"
	assert_output_contains "die ev1 busybox:latest"
	assert_output_contains "destroy ev1 busybox:latest"
	run dockercli events --since "$start" --until "$end" --filter container=ev1 --filter event=die --format '{{.Actor.Attributes.exitCode}}'
	[ "$output" = 0 ]
}

@test "docker CLI: login checks the credentials with the registry" {
	htpasswd_line alice 's3cret' >"$TMP/htpasswd"
	start_registry sec "auth:
  htpasswd:
    realm: berth-test
    path: $TMP/htpasswd"
	run bash -c "echo s3cret | DOCKER_HOST=unix://$ESOCK timeout 60 docker login -u alice --password-stdin $REG"
	assert_status 0
	assert_output_contains "Login Succeeded"
	run bash -c "echo wrong | DOCKER_HOST=unix://$ESOCK timeout 60 docker login -u alice --password-stdin $REG"
	assert_failure
	assert_output_contains "unauthorized"
	run bash -c "echo s3cret | DOCKER_HOST=unix://$ESOCK timeout 60 docker login -u bob --password-stdin $REG"
	assert_failure
	# The API itself: 401 for a refused login, 400 for a body without credentials.
	run api -X POST -H 'Content-Type: application/json' \
		-d "{\"username\":\"alice\",\"password\":\"nope\",\"serveraddress\":\"$REG\"}" /auth
	[ "$(api_status)" = 401 ]
	run api -X POST -H 'Content-Type: application/json' \
		-d "{\"username\":\"alice\",\"password\":\"s3cret\",\"serveraddress\":\"http://$REG/\"}" /auth
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Status)" = "Login Succeeded" ]
	# A user name that cannot be a namespace (the probe goes to the top level).
	run api -X POST -H 'Content-Type: application/json' \
		-d "{\"username\":\"Carol@example.com\",\"password\":\"x\",\"serveraddress\":\"$REG\"}" /auth
	[ "$(api_status)" = 401 ]
	run api -X POST -H 'Content-Type: application/json' -d '{"password":"x"}' /auth
	[ "$(api_status)" = 400 ]
	assert_output_contains "username"
	# Nothing was stored by the checks.
	run dockercli images -q
	[ -z "$output" ]
}
