#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berthd's HTTP layer with curl: dockerd's headers, _ping, the version prefix, the shapes of
# errors (404, 405, 400), unsupported features, bad JSON and bad arguments, daemon.json and
# the socket itself.

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	engine_setup
	start_supervisor
	start_berthd
}

teardown() {
	engine_teardown
}

@test "berthd: every response carries dockerd's headers" {
	local path
	for path in /_ping /version /v1.41/info /nothing /v1.99/_ping; do
		run curl -sS -D - -o /dev/null --unix-socket "$ESOCK" "http://berthd$path"
		assert_status 0
		assert_output_contains "Api-Version: 1.41"
		assert_output_contains "Docker-Experimental: false"
		assert_output_contains "OSType: linux"
		assert_output_contains "Server: berth/"
	done
}

@test "berthd: _ping answers GET and HEAD" {
	run api /_ping
	[ "$(api_status)" = 200 ]
	[ "$(api_body)" = OK ]
	run curl -sS -I --unix-socket "$ESOCK" http://berthd/_ping
	assert_status 0
	assert_output_contains "HTTP/1.1 200"
	assert_output_contains "Content-Length: 2"
	run api /v1.24/_ping
	[ "$(api_status)" = 200 ]
}

@test "berthd: version and info" {
	run api /v1.41/version
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .ApiVersion)" = 1.41 ]
	[ "$(api_body | jq -r .MinAPIVersion)" = 1.12 ]
	[ "$(api_body | jq -r .Os)" = linux ]
	run api /info
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Driver)" = overlay2 ]
	[ "$(api_body | jq -r .Containers)" = 0 ]
	[ "$(api_body | jq -r .Images)" = 0 ]
	[ "$(api_body | jq -r .Swarm.LocalNodeState)" = inactive ]
	[ "$(api_body | jq -r .DockerRootDir)" = "$EROOT" ]
}

@test "berthd: version prefixes outside 1.12 to 1.41 are refused as dockerd refuses them" {
	run api /v1.42/version
	[ "$(api_status)" = 400 ]
	[ "$(api_body | jq -r .message)" = "client version 1.42 is too new. Maximum supported API version is 1.41" ]
	run api /v1.11/info
	[ "$(api_status)" = 400 ]
	[[ "$(api_body | jq -r .message)" == "client version 1.11 is too old. Minimum supported API version is 1.12"* ]]
	run api /v1.12/version
	[ "$(api_status)" = 200 ]
	# Not a version at all: a path like any other, not found.
	run api /vx.y/version
	[ "$(api_status)" = 404 ]
}

@test "berthd: unknown paths are 404 and known paths with another method 405, as JSON" {
	run api /v1.41/nothing/here
	[ "$(api_status)" = 404 ]
	[ "$(api_body | jq -r .message)" = "page not found" ]
	run api -X DELETE /version
	[ "$(api_status)" = 405 ]
	[[ "$(api_body | jq -r .message)" == *"DELETE"* ]]
	run api -X POST /images/json
	[ "$(api_status)" = 405 ]
}

@test "berthd: unsupported features answer with dockerd's status and say what is missing" {
	run api /v1.41/swarm
	[ "$(api_status)" = 503 ]
	[[ "$(api_body | jq -r .message)" == *"not a swarm manager"* ]]
	run api /services
	[ "$(api_status)" = 503 ]
	run api -X POST /secrets/create
	[ "$(api_status)" = 503 ]
	run api /plugins
	[ "$(api_status)" = 501 ]
	[[ "$(api_body | jq -r .message)" == *"plugins are not supported"* ]]
	run api -X POST /build
	[ "$(api_status)" = 501 ]
	run api '/images/search?term=busybox'
	[ "$(api_status)" = 501 ]
	run api -X POST '/images/create?fromSrc=-'
	[ "$(api_status)" = 501 ]
}

@test "berthd: bad arguments and bodies are 400 naming the problem" {
	run api -X POST /images/create
	[ "$(api_status)" = 400 ]
	[ "$(api_body | jq -r .message)" = "fromImage is required" ]
	run api -X POST '/images/create?fromImage=upper/CASE'
	[ "$(api_status)" = 400 ]
	[[ "$(api_body | jq -r .message)" == *"must be lowercase"* ]]
	run api -X DELETE '/images/x?force=maybe'
	[ "$(api_status)" = 400 ]
	[[ "$(api_body | jq -r .message)" == *"force"* ]]
	run api '/images/json?filters=notjson'
	[ "$(api_status)" = 400 ]
	run api '/images/json?filters=%7B%22colour%22%3A%7B%22red%22%3Atrue%7D%7D'
	[ "$(api_status)" = 400 ]
	[ "$(api_body | jq -r .message)" = "invalid filter 'colour'" ]
	run api -X POST -H 'X-Registry-Auth: !!!' '/images/create?fromImage=127.0.0.1:1/x'
	[ "$(api_status)" = 400 ]
	[[ "$(api_body | jq -r .message)" == *"X-Registry-Auth"* ]]
	run api -X POST --data-binary @/dev/null /images/load
	[ "$(api_status)" = 400 ]
	# An upload leaves no file behind.
	[ -z "$(ls -A "$ESTATE" | grep upload || true)" ]
}

@test "berthd: a tarball that is not an image is 400 and leaves nothing" {
	head -c 10000 /dev/urandom >"$TMP/garbage.tar"
	run api -X POST -H 'Content-Type: application/x-tar' --data-binary @"$TMP/garbage.tar" /images/load
	[ "$(api_status)" = 400 ]
	[ -n "$(api_body | jq -r .message)" ]
	[ -z "$(ls -A "$ESTATE" | grep upload || true)" ]
	run api /images/json
	[ "$(api_body)" = "[]" ]
}

@test "berthd: a missing image is 404 in docker's words" {
	run api /images/nothere/json
	[ "$(api_status)" = 404 ]
	[ "$(api_body | jq -r .message)" = "No such image: nothere" ]
	run api -X DELETE /images/a/b/c
	[ "$(api_status)" = 404 ]
	[ "$(api_body | jq -r .message)" = "No such image: a/b/c" ]
	run api -X POST '/images/nothere/tag?repo=x&tag=y'
	[ "$(api_status)" = 404 ]
	run api -X POST '/images/127.0.0.1:1/nothere/push?tag=latest'
	[ "$(api_status)" = 404 ]
	[[ "$(api_body | jq -r .message)" == "An image does not exist locally with the tag: 127.0.0.1:1/nothere"* ]]
	run api '/images/get?names=nothere'
	[ "$(api_status)" = 404 ]
	run api /images/json
	[ "$(api_status)" = 200 ]
	[ "$(api_body)" = "[]" ]
}

@test "berthd: without a supervisor, image calls are 503 and the rest still answers" {
	kill_supervisor TERM
	run api /images/json
	[ "$(api_status)" = 503 ]
	[[ "$(api_body | jq -r .message)" == *"berth-supervisor"* ]]
	run api /_ping
	[ "$(api_status)" = 200 ]
}

@test "berthd: the socket is 0660, a second berthd on the same root is refused" {
	[ "$(stat -c %a "$ESOCK")" = 660 ]
	run timeout 10 "$BERTHD" --root "$EROOT" --state "$TMP/estate2" -H "unix://$TMP/b2.sock" \
		--supervisor "$SOCK" --config "$TMP/daemon.json"
	assert_failure
	assert_output_contains "another berthd uses root"
	[ ! -e "$TMP/b2.sock" ]
	run timeout 10 "$BERTHD" --root "$TMP/eroot2" --state "$TMP/estate2" -H "unix://$ESOCK" \
		--supervisor "$SOCK" --config "$TMP/daemon.json"
	assert_failure
	assert_output_contains "in use"
}

@test "berthd: daemon.json keys, and an unknown one named" {
	kill_berthd
	echo '{"debug": true, "data-root": "'"$TMP/dr"'", "log-level": "info"}' >"$TMP/daemon.json"
	"$BERTHD" --state "$ESTATE" -H "unix://$ESOCK" --supervisor "$SOCK" \
		--config "$TMP/daemon.json" 2>>"$TMP/berthd.log" 3>&- &
	BERTHD_PID=$!
	retry 100 0.1 test -S "$ESOCK"
	[ -f "$TMP/dr/engine.db" ]
	run api /info
	[ "$(api_body | jq -r .DockerRootDir)" = "$TMP/dr" ]
	kill_berthd
	echo '{"debug": true, "colour": "red"}' >"$TMP/daemon.json"
	run timeout 10 "$BERTHD" --root "$EROOT" --state "$ESTATE" -H "unix://$ESOCK" \
		--supervisor "$SOCK" --config "$TMP/daemon.json"
	assert_failure
	assert_output_contains "colour"
	echo '{"debug": "yes"}' >"$TMP/daemon.json"
	run timeout 10 "$BERTHD" --root "$EROOT" --state "$ESTATE" -H "unix://$ESOCK" \
		--supervisor "$SOCK" --config "$TMP/daemon.json"
	assert_failure
	assert_output_contains "debug"
}

@test "berthd: SIGTERM stops it and removes its socket" {
	kill_berthd TERM
	[ ! -e "$ESOCK" ]
	grep -q "stopping" "$TMP/berthd.log"
}

@test "berthd: SIGTERM during a pull from a registry that never answers stops it at once" {
	local port
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# Accepts connections and never answers.
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); conns = []
while True:
    conns.append(s.accept())' "$port" 3>&- &
	local reg_pid=$!
	on_teardown kill $reg_pid
	curl -sS --unix-socket "$ESOCK" -X POST "http://berthd/images/create?fromImage=127.0.0.1:$port/x&tag=latest" \
		>"$TMP/pull.out" 2>&1 3>&- &
	local curl_pid=$!
	on_teardown kill $curl_pid
	retry 50 0.1 grep -q "pull 127.0.0.1:$port/x:latest" "$TMP/berthd.log"
	sleep 0.5
	local start=$SECONDS
	kill_berthd TERM
	[ $((SECONDS - start)) -lt 5 ]
	[ ! -e "$ESOCK" ]
	# The supervisor's pull ends when the registry goes.
	kill $reg_pid
}
