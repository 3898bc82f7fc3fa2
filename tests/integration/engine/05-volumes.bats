#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berthd's volumes: create, list (filters), inspect, remove and prune through the API with curl
# and through the docker CLI; bad names and drivers, unknown volumes, and a volume in use.

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

# Record that a container uses volume $2 at $3, straight in engine.db (a container row made
# for the purpose, id $1), as the container code does when it creates one.
store_use_volume() {
	sqlite3 "$EROOT/engine.db" "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
		INSERT OR IGNORE INTO containers (id, name, image, config, host_config, created_at)
			VALUES ('$1', 'c-$1', 'busybox', '{}', '{}', 0);
		INSERT INTO container_volumes (container, volume, dest) VALUES ('$1', '$2', '$3');" >/dev/null
}

store_forget_container() {
	sqlite3 "$EROOT/engine.db" "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
		DELETE FROM containers WHERE id = '$1';" >/dev/null
}

@test "volumes: create, inspect, list and remove through the API" {
	run api -X POST -H 'Content-Type: application/json' \
		-d '{"Name": "data1", "Labels": {"team": "a", "tier": "db"}}' /v1.41/volumes/create
	[ "$(api_status)" = 201 ]
	[ "$(api_body | jq -r .Name)" = data1 ]
	[ "$(api_body | jq -r .Driver)" = local ]
	[ "$(api_body | jq -r .Scope)" = local ]
	[ "$(api_body | jq -r .Mountpoint)" = "$EROOT/volumes/data1/_data" ]
	[ "$(api_body | jq -r .Labels.team)" = a ]
	api_body | jq -r .CreatedAt | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
	[ -d "$EROOT/volumes/data1/_data" ]

	run api /volumes/data1
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Name)" = data1 ]
	[ "$(api_body | jq -r .Labels.tier)" = db ]

	# An existing name is returned as it is (its labels are not replaced), as dockerd does.
	touch "$EROOT/volumes/data1/_data/kept"
	run api -X POST -d '{"Name": "data1", "Labels": {"team": "b"}}' /volumes/create
	[ "$(api_status)" = 201 ]
	[ "$(api_body | jq -r .Labels.team)" = a ]
	[ -f "$EROOT/volumes/data1/_data/kept" ]

	# No name: a random 64-hex one.
	run api -X POST -d '{}' /volumes/create
	[ "$(api_status)" = 201 ]
	local anon
	anon=$(api_body | jq -r .Name)
	[[ "$anon" =~ ^[0-9a-f]{64}$ ]]

	run api /volumes
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r '.Volumes | length')" = 2 ]
	[ "$(api_body | jq -r '.Warnings')" = null ]
	api_body | jq -r '.Volumes[].Name' | grep -qx data1
	api_body | jq -r '.Volumes[].Name' | grep -qx "$anon"

	run api -X DELETE /volumes/data1
	[ "$(api_status)" = 204 ]
	[ ! -e "$EROOT/volumes/data1" ]
	run api /volumes/data1
	[ "$(api_status)" = 404 ]
	[ "$(api_body | jq -r .message)" = "get data1: no such volume" ]
	run api /volumes
	[ "$(api_body | jq -r '.Volumes | length')" = 1 ]
}

@test "volumes: bad names, drivers, options and bodies are refused, nothing is made" {
	local name
	for name in a '-x' '.x' 'a/b' 'a b' 'a:b' '..'; do
		run api -X POST -d "$(jq -cn --arg n "$name" '{Name: $n}')" /volumes/create
		[ "$(api_status)" = 400 ]
		api_body | jq -r .message | grep -q "includes invalid characters for a local volume name"
	done
	run api -X POST -d '{"Name": "v1", "Driver": "nfs"}' /volumes/create
	[ "$(api_status)" = 400 ]
	api_body | jq -r .message | grep -q 'plugin "nfs" not found'
	run api -X POST -d '{"Name": "v1", "DriverOpts": {"colour": "red"}}' /volumes/create
	[ "$(api_status)" = 400 ]
	api_body | jq -r .message | grep -q 'invalid option key: "colour"'
	run api -X POST -d '{"Name": "v1", "DriverOpts": {"type": "tmpfs", "device": "tmpfs"}}' \
		/volumes/create
	[ "$(api_status)" = 501 ]
	run api -X POST -d '{"Name": "v1", "Labels": {"a": 1}}' /volumes/create
	[ "$(api_status)" = 400 ]
	api_body | jq -r .message | grep -q 'Labels'
	run api -X POST -d '{"Name": 5}' /volumes/create
	[ "$(api_status)" = 400 ]
	api_body | jq -r .message | grep -q 'Name'
	run api -X POST -d '[1]' /volumes/create
	[ "$(api_status)" = 400 ]
	run api /volumes
	[ "$(api_body | jq -r '.Volumes | length')" = 0 ]
	[ -z "$(ls -A "$EROOT/volumes" 2>/dev/null)" ]
}

@test "volumes: unknown volumes are 404, and rm -f of one succeeds" {
	run api /volumes/nothere
	[ "$(api_status)" = 404 ]
	run api -X DELETE /volumes/nothere
	[ "$(api_status)" = 404 ]
	api_body | jq -r .message | grep -q "no such volume"
	run api -X DELETE '/volumes/nothere?force=1'
	[ "$(api_status)" = 204 ]
	run api -X DELETE '/volumes/nothere?force=maybe'
	[ "$(api_status)" = 400 ]
}

@test "volumes: a volume in use is 409 naming the container, even with force" {
	run api -X POST -d '{"Name": "busy"}' /volumes/create
	[ "$(api_status)" = 201 ]
	local id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	store_use_volume "$id" busy /data
	run api -X DELETE /volumes/busy
	[ "$(api_status)" = 409 ]
	[ "$(api_body | jq -r .message)" = "remove busy: volume is in use - [$id]" ]
	run api -X DELETE '/volumes/busy?force=true'
	[ "$(api_status)" = 409 ]
	[ -d "$EROOT/volumes/busy/_data" ]
	# Not dangling while used; prune leaves it.
	run api --get --data-urlencode 'filters={"dangling":["true"]}' /volumes
	[ "$(api_body | jq -r '.Volumes | length')" = 0 ]
	run api --get --data-urlencode 'filters={"dangling":["false"]}' /volumes
	[ "$(api_body | jq -r '.Volumes[0].Name')" = busy ]
	run api -X POST /volumes/prune
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .VolumesDeleted)" = null ]
	[ -d "$EROOT/volumes/busy/_data" ]
	# Once the container is gone, it can go.
	store_forget_container "$id"
	run api -X DELETE /volumes/busy
	[ "$(api_status)" = 204 ]
	[ ! -e "$EROOT/volumes/busy" ]
}

@test "volumes: list filters (name, label, driver, dangling) and bad filters" {
	api -X POST -d '{"Name": "web-data", "Labels": {"app": "web", "env": "prod"}}' /volumes/create >/dev/null
	api -X POST -d '{"Name": "web-cache", "Labels": {"app": "web"}}' /volumes/create >/dev/null
	api -X POST -d '{"Name": "db-data", "Labels": {"app": "db"}}' /volumes/create >/dev/null
	store_use_volume bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb db-data /d

	names() { api_body | jq -r '.Volumes[].Name' | sort | tr '\n' ' '; }
	run api --get --data-urlencode 'filters={"name":{"web":true}}' /volumes
	[ "$(names)" = "web-cache web-data " ]
	run api --get --data-urlencode 'filters={"name":["^db"]}' /volumes
	[ "$(names)" = "db-data " ]
	run api --get --data-urlencode 'filters={"label":["app=web"]}' /volumes
	[ "$(names)" = "web-cache web-data " ]
	run api --get --data-urlencode 'filters={"label":["app=web","env"]}' /volumes
	[ "$(names)" = "web-data " ]
	run api --get --data-urlencode 'filters={"driver":["local"]}' /volumes
	[ "$(names)" = "db-data web-cache web-data " ]
	run api --get --data-urlencode 'filters={"driver":["nfs"]}' /volumes
	[ "$(names)" = "" ]
	run api --get --data-urlencode 'filters={"dangling":["true"]}' /volumes
	[ "$(names)" = "web-cache web-data " ]
	run api --get --data-urlencode 'filters={"dangling":["yes"]}' /volumes
	[ "$(api_status)" = 400 ]
	[ "$(api_body | jq -r .message)" = "invalid filter 'dangling=yes'" ]
	run api --get --data-urlencode 'filters={"colour":["red"]}' /volumes
	[ "$(api_status)" = 400 ]
	[ "$(api_body | jq -r .message)" = "invalid filter 'colour'" ]
	run api --get --data-urlencode 'filters=nope' /volumes
	[ "$(api_status)" = 400 ]
}

@test "volumes: prune removes unused volumes (label filters), reports the space" {
	api -X POST -d '{"Name": "keep", "Labels": {"keep": "yes"}}' /volumes/create >/dev/null
	api -X POST -d '{"Name": "big"}' /volumes/create >/dev/null
	api -X POST -d '{"Name": "used"}' /volumes/create >/dev/null
	store_use_volume cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc used /u
	head -c 10000 /dev/zero >"$EROOT/volumes/big/_data/file"
	mkdir "$EROOT/volumes/big/_data/sub"
	head -c 500 /dev/zero >"$EROOT/volumes/big/_data/sub/f"
	ln "$EROOT/volumes/big/_data/sub/f" "$EROOT/volumes/big/_data/link"

	run api -X POST --get --data-urlencode 'filters={"colour":["x"]}' /volumes/prune
	[ "$(api_status)" = 400 ]
	run api -X POST --get --data-urlencode 'filters={"label!":["keep"]}' /volumes/prune
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -c .VolumesDeleted)" = '["big"]' ]
	[ "$(api_body | jq -r .SpaceReclaimed)" = 10500 ]
	[ ! -e "$EROOT/volumes/big" ]
	run api -X POST --get --data-urlencode 'filters={"label":["keep=no"]}' /volumes/prune
	[ "$(api_body | jq -r .VolumesDeleted)" = null ]
	run api -X POST /volumes/prune
	[ "$(api_body | jq -c .VolumesDeleted)" = '["keep"]' ]
	run api /volumes
	[ "$(api_body | jq -r '.Volumes[].Name')" = used ]
}

@test "volumes: the docker CLI creates, lists, inspects, removes and prunes" {
	run dockercli volume create --label purpose=test clivol
	assert_status 0
	[ "$output" = clivol ]
	run dockercli volume ls -q
	assert_status 0
	[ "$output" = clivol ]
	run dockercli volume ls --filter label=purpose=test --format '{{.Name}} {{.Driver}}'
	assert_status 0
	[ "$output" = "clivol local" ]
	run dockercli volume inspect --format '{{.Mountpoint}} {{.Labels.purpose}}' clivol
	assert_status 0
	[ "$output" = "$EROOT/volumes/clivol/_data test" ]
	run dockercli volume inspect nothere
	assert_failure
	assert_output_contains "no such volume"
	run dockercli volume create 'bad/name'
	assert_failure
	assert_output_contains "includes invalid characters"
	run dockercli volume rm clivol
	assert_status 0
	run dockercli volume ls -q
	[ -z "$output" ]
	run dockercli volume create p1
	run dockercli volume create p2
	run dockercli volume prune -f
	assert_status 0
	assert_output_contains p1
	assert_output_contains p2
	run dockercli volume ls -q
	[ -z "$output" ]
}

@test "volumes: they outlive a restart of berthd" {
	api -X POST -d '{"Name": "durable", "Labels": {"x": "y"}}' /volumes/create >/dev/null
	kill_berthd
	start_berthd
	run api /volumes/durable
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Labels.x)" = y ]
}

@test "volumes: containers use them; in use is 409, rm -v takes anonymous ones only" {
	load_busybox
	# An anonymous volume: a volume mount without a source.
	run dockercli create --name user1 -v named1:/data --mount type=volume,dst=/anon busybox true
	assert_status 0
	local id=$output
	run dockercli volume ls -q
	assert_status 0
	[ "$(echo "$output" | wc -l)" = 2 ]
	local anon
	anon=$(echo "$output" | grep -v '^named1$')
	[[ "$anon" =~ ^[0-9a-f]{64}$ ]]
	run api -X DELETE /volumes/named1
	[ "$(api_status)" = 409 ]
	[ "$(api_body | jq -r .message)" = "remove named1: volume is in use - [$id]" ]
	run api --get --data-urlencode 'filters={"dangling":["true"]}' /volumes
	[ "$(api_body | jq -r '.Volumes | length')" = 0 ]
	run dockercli volume prune -f
	assert_status 0
	[ -d "$EROOT/volumes/named1/_data" ]
	[ -d "$EROOT/volumes/$anon/_data" ]

	# What a container writes is in the volume's directory.
	run dockercli run --rm -v named1:/data busybox sh -c 'echo hello >/data/f'
	assert_status 0
	[ "$(cat "$EROOT/volumes/named1/_data/f")" = hello ]

	run dockercli rm -v user1
	assert_status 0
	[ ! -e "$EROOT/volumes/$anon" ]
	run dockercli volume ls -q
	[ "$output" = named1 ]
	run api -X DELETE /volumes/named1
	[ "$(api_status)" = 204 ]
}

@test "volumes: create, destroy and prune are events" {
	local since
	since=$(date +%s)
	api -X POST -d '{"Name": "ev1"}' /volumes/create >/dev/null
	api -X DELETE /volumes/ev1 >/dev/null
	api -X POST -d '{"Name": "ev2"}' /volumes/create >/dev/null
	api -X POST /volumes/prune >/dev/null
	run api --get --data-urlencode "since=$since" --data-urlencode "until=$((since + 2))" \
		--data-urlencode 'filters={"type":["volume"]}' /events
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r '"\(.Type) \(.Action) \(.Actor.ID) \(.Actor.Attributes.driver // .Actor.Attributes.reclaimed)"' | tr '\n' ,)" = \
		"volume create ev1 local,volume destroy ev1 local,volume create ev2 local,volume destroy ev2 local,volume prune  0," ]
}
