#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# docker commit (POST /commit) and berth commit: a container that added, changed and deleted
# files becomes an image whose containers see the same files; --change instructions, author
# and message reach the image config; the image has its layer in history, goes to a registry
# and back, and is saved. Bad input: a change that is not allowed, an unknown container.

load ../helpers
load ../supervisor/supervisor-helpers
load ../supervisor/registry-helpers
load engine-helpers

BERTH=$(bin_of engine/berth)

setup() {
	engine_setup_containers
}

teardown() {
	engine_teardown
}

@test "docker commit: the new image has the container's added, changed and deleted files" {
	dockercli run --name "$C" busybox sh -c \
		'echo added >/added && echo "x:x:9:9::/:/bin/sh" >>/etc/passwd && rm /etc/group && mkdir /d && echo old >/d/old' >/dev/null
	run dockercli commit "$C" c1:v1
	assert_status 0
	[[ "$output" == sha256:* ]]
	local id=$output
	run dockercli images --format '{{.Repository}}:{{.Tag}} {{.ID}}' c1
	assert_status 0
	[ "$output" = "c1:v1 ${id:7:12}" ]
	run dockercli run --rm c1:v1 sh -c 'cat /added; tail -n1 /etc/passwd; test -e /etc/group || echo nogroup; cat /d/old'
	assert_status 0
	[ "$output" = "added
x:x:9:9::/:/bin/sh
nogroup
old" ]

	# A second commit on top: a directory removed and made again hides what it had
	# (an opaque directory), a file removed from the first layer is whited out.
	dockercli run --name "$C-2" c1:v1 sh -c 'rm -r /d && mkdir /d && echo new >/d/new && rm /added' >/dev/null
	run dockercli commit "$C-2" c1:v2
	assert_status 0
	run dockercli run --rm c1:v2 sh -c 'ls /d; test -e /added || echo noadded'
	assert_status 0
	[ "$output" = "new
noadded" ]
	run dockercli image inspect --format '{{len .RootFS.Layers}}' c1:v2
	[ "$output" = 3 ]
	# The layer as a tar has the OCI whiteouts.
	dockercli save -o "$TMP/v2.tar" c1:v2
	mkdir "$TMP/v2" && tar -C "$TMP/v2" -xf "$TMP/v2.tar"
	local layer
	layer=$(jq -r '.[0].Layers[-1]' "$TMP/v2/manifest.json")
	run bash -c "gzip -dc '$TMP/v2/$layer' 2>/dev/null | tar -t || tar -tf '$TMP/v2/$layer'"
	assert_output_contains ".wh.added"
	assert_output_contains "d/.wh..wh..opq"
	assert_output_contains "d/new"
}

@test "docker commit: --change, author and message reach the image" {
	dockercli run --name "$C" -e KEEP=1 busybox sh -c 'echo hello >/x' >/dev/null
	run dockercli commit -a "A. Author <a@example.com>" -m "the message" \
		--change 'CMD ["cat","/x"]' --change 'ENV FOO=bar' --change 'WORKDIR /tmp' \
		--change 'LABEL k=v' --change 'EXPOSE 8080' --change 'USER nobody' "$C" c2
	assert_status 0
	run dockercli run --rm c2
	assert_status 0
	[ "$output" = hello ]
	run dockercli run --rm c2 sh -c 'echo $FOO $KEEP; pwd; id -un'
	assert_status 0
	[ "$output" = "bar 1
/tmp
nobody" ]
	run dockercli image inspect --format '{{.Author}}|{{.Comment}}|{{.Config.Labels.k}}|{{json .Config.ExposedPorts}}|{{.Container}}' c2
	assert_status 0
	[[ "$output" == "A. Author <a@example.com>|the message|v|{\"8080/tcp\":{}}|"* ]]
	run dockercli history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' c2
	assert_status 0
	[ "${lines[0]}" = "sh -c echo hello >/x|the message" ]
	# ENTRYPOINT without CMD drops the command it had.
	run dockercli commit --change 'ENTRYPOINT ["echo","ep"]' "$C" c3
	assert_status 0
	run dockercli run --rm c3
	[ "$output" = ep ]
	# A commit publishes its event.
	run dockercli events --since 0 --until "$(($(date +%s) + 1))" --filter event=commit --format '{{.Actor.Attributes.imageRef}}'
	assert_output_contains "c2:latest"
}

@test "docker commit: bad input is refused and makes no image" {
	dockercli create --name "$C" busybox >/dev/null
	run dockercli commit --change 'RUN true' "$C" bad
	assert_failure
	assert_output_contains "RUN is not a valid change command"
	run dockercli commit --change 'FROBNICATE x' "$C" bad
	assert_failure
	assert_output_contains "unknown instruction: FROBNICATE"
	run dockercli commit --change 'EXPOSE 99999' "$C" bad
	assert_failure
	assert_output_contains "invalid containerPort"
	run dockercli commit "$C" 'Bad:Name'
	assert_failure
	run dockercli images -q bad
	[ -z "$output" ]
	run api -X POST "/v1.41/commit?container=$ID-nothere"
	[ "$(api_status)" = 404 ]
	[[ "$(api_body)" == *"No such container: $ID-nothere"* ]]
	run api -X POST "/v1.41/commit"
	[ "$(api_status)" = 400 ]
	run api -X POST -H 'Content-Type: application/json' -d '[1]' "/v1.41/commit?container=$C"
	[ "$(api_status)" = 400 ]
	run api -X POST -H 'Content-Type: application/json' -d '{"Env":[1]}' "/v1.41/commit?container=$C&repo=bad"
	[ "$(api_status)" = 400 ]
	[[ "$(api_body)" == *"Config.Env: item 0: expected string"* ]]
	run api -X POST -H 'Content-Type: application/json' -d '{"Labels":{"a":1}}' "/v1.41/commit?container=$C&repo=bad"
	[ "$(api_status)" = 400 ]
	[[ "$(api_body)" == *"Config.Labels.a"* ]]
	run api -X POST "/v1.41/commit?container=$C&repo=bad&pause=maybe"
	[ "$(api_status)" = 400 ]
	run dockercli images -q bad
	[ -z "$output" ]
}

@test "docker commit: a running container is paused for the commit and runs on" {
	dockercli run -d --name "$C" busybox sh -c 'echo live >/live; sleep 600' >/dev/null
	retry 50 0.1 dockercli exec "$C" test -e /live
	run dockercli commit "$C" c4
	assert_status 0
	run dockercli inspect --format '{{.State.Status}}' "$C"
	[ "$output" = running ]
	# It was paused for the diff, and unpaused after.
	run dockercli events --since 0 --until "$(($(date +%s) + 1))" --filter "container=$C" --format '{{.Action}}'
	assert_status 0
	[ "$(echo "$output" | grep -E '^(pause|unpause|commit)$' | tr '\n' ' ')" = "pause unpause commit " ]
	run dockercli run --rm c4 cat /live
	[ "$output" = live ]
	# Without a name: an image with no tag (dangling), known by its ID.
	run dockercli commit --pause=false "$C"
	assert_status 0
	local id=$output
	run dockercli events --since 0 --until "$(($(date +%s) + 1))" --filter "container=$C" --filter event=pause --format '{{.Action}}'
	[ "$output" = pause ]
	run dockercli images -q --no-trunc --filter dangling=true
	assert_output_contains "$id"
	# It lists as docker's untagged images do: <none> both ways, no digest name of its own.
	run dockercli images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}} {{.Digest}}'
	assert_output_contains "$id <none>:<none> <none>"
	run dockercli run --rm "${id:7:12}" cat /live
	[ "$output" = live ]
}

@test "docker commit: the image goes to a registry and back" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	start_registry reg
	dockercli run --name "$C" busybox sh -c 'echo pushed >/p' >/dev/null
	run dockercli commit "$C" "$REG/c:1"
	assert_status 0
	local id=$output
	run dockercli push "$REG/c:1"
	assert_status 0
	run dockercli rm "$C"
	run dockercli rmi "$REG/c:1"
	assert_status 0
	run dockercli pull "$REG/c:1"
	assert_status 0
	run dockercli image inspect --format '{{.Id}}' "$REG/c:1"
	[ "$output" = "$id" ]
	run dockercli run --rm "$REG/c:1" cat /p
	[ "$output" = pushed ]
}

@test "berth commit: flags, the ID printed, errors" {
	dockercli run --name "$C" busybox sh -c 'echo b >/b' >/dev/null
	run "$BERTH" -H "unix://$ESOCK" commit -a me -m msg -c 'ENV B=2' -c 'CMD ["cat","/b"]' "$C" bimg:1
	assert_status 0
	[[ "$output" == sha256:* ]]
	local id=$output
	run dockercli image inspect --format '{{.Id}} {{.Author}} {{.Comment}}' bimg:1
	[ "$output" = "$id me msg" ]
	run dockercli run --rm bimg:1
	[ "$output" = b ]
	run dockercli run --rm bimg:1 sh -c 'echo $B'
	[ "$output" = 2 ]
	run "$BERTH" -H "unix://$ESOCK" commit "$ID-nothere"
	assert_failure
	assert_output_contains "No such container: $ID-nothere"
	run "$BERTH" -H "unix://$ESOCK" commit -c 'ADD a b' "$C"
	assert_failure
	assert_output_contains "ADD is not a valid change command"
	run "$BERTH" -H "unix://$ESOCK" commit
	[ "$status" -eq 125 ]
}

@test "POST /commit: the body's Config is merged over the container's, changes on top" {
	# A container never started: its layer is empty, the image still gets one.
	dockercli create --name "$C" -e FROM_CTR=1 -l from=ctr busybox sleep 1 >/dev/null
	run api -X POST -H 'Content-Type: application/json' \
		-d '{"Cmd":"sh","Entrypoint":null,"Labels":{}}' "/v1.41/commit?container=$C&repo=c6"
	[ "$(api_status)" = 201 ]
	run dockercli image inspect --format '{{json .Config.Cmd}}' c6
	[ "$output" = '["sh"]' ]
	run api -X POST -H 'Content-Type: application/json' \
		-d '{"Cmd":["sh","-c","echo $FROM_BODY $FROM_CTR $CHANGED"],"Env":["FROM_BODY=b"],"Labels":{"from":"body"}}' \
		"/v1.41/commit?container=$C&repo=c7&tag=t&changes=ENV%20CHANGED%3Dc%0AWORKDIR%20w"
	[ "$(api_status)" = 201 ]
	local id
	id=$(api_body | jq -r .Id)
	[[ "$id" == sha256:* ]]
	run dockercli image inspect --format '{{.Id}} {{.Config.Labels.from}} {{.Config.WorkingDir}} {{len .RootFS.Layers}}' c7:t
	[ "$output" = "$id body /w 2" ]
	run dockercli run --rm c7:t
	assert_status 0
	[ "$output" = "b 1 c" ]
	# The image's own PATH is kept under the merged Env.
	run dockercli image inspect --format '{{json .Config.Env}}' c7:t
	assert_output_contains "PATH="
	# Nothing of the commit is left in berthd's state dir.
	[ -z "$(find "$ESTATE" -name 'commit-*')" ]
}
