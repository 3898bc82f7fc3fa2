#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The containers API with curl: create and what it refuses (wrong types naming the field,
# an unknown image, a name in use, a bad name) with nothing left behind (no row, no
# snapshot); start, stop, restart, kill, pause, unpause, rename and wait with docker's
# statuses (204, 304, 404, 409); rm and rm -f; list filters, limit and prune; top; logs with
# tail, since, timestamps and one stream; ids by short prefix, and ambiguous prefixes.

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	engine_setup_containers
}

teardown() {
	engine_teardown
}

# create NAME JSON: POST /containers/create; prints the id (fails on any other status).
create() {
	local out
	out=$(api -X POST -H 'Content-Type: application/json' -d "$2" "/containers/create?name=$1")
	[ "$(tail -n1 <<<"$out")" = 201 ] || {
		echo "create $1: $out" >&2
		return 1
	}
	sed '$d' <<<"$out" | jq -r .Id
}

# post PATH [JSON]: run api -X POST on PATH (with a JSON body when given).
post() {
	if [ $# -gt 1 ]; then
		run api -X POST -H 'Content-Type: application/json' -d "$2" "$1"
	else
		run api -X POST "$1"
	fi
}

status_of() {
	api "/containers/$1/json" | sed '$d' | jq -r .State.Status
}

status_is() {
	[ "$(status_of "$1")" = "$2" ]
}

# The ids listed by GET /containers/json with these query arguments, sorted.
listed() {
	api "/containers/json?$1" | sed '$d' | jq -r '.[].Id' | sort
}

snapshots() {
	"$CTR" --address "$SOCK" --namespace berth snapshots ls 2>/dev/null | sed 1d | wc -l
}

urlenc() {
	jq -rn --arg v "$1" '$v|@uri'
}

@test "containers API: create refuses bad bodies naming the field, and leaves nothing behind" {
	local first snaps
	first=$(create "$ID-a" '{"Image":"busybox","Cmd":["true"]}')
	snaps=$(snapshots)
	[ "$snaps" -ge 1 ]

	# Not JSON, not an object.
	post "/containers/create?name=$ID-b" '{"Image":'
	[ "$(api_status)" = 400 ]
	post "/containers/create?name=$ID-b" '["busybox"]'
	[ "$(api_status)" = 400 ]
	# Wrong types: 400, and the message names the field.
	local body field
	for body in '{"Image":5}=Image' \
		'{"Image":"busybox","Cmd":5}=Cmd' \
		'{"Image":"busybox","Env":"A=1"}=Env' \
		'{"Image":"busybox","Env":[1]}=Env' \
		'{"Image":"busybox","Labels":{"a":1}}=Labels' \
		'{"Image":"busybox","Entrypoint":{"a":1}}=Entrypoint' \
		'{"Image":"busybox","Tty":"yes"}=Tty' \
		'{"Image":"busybox","HostConfig":{"Memory":"lots"}}=Memory' \
		'{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}=restart' \
		'{"Image":"busybox","HostConfig":{"Binds":"x:/y"}}=Binds' \
		'{"Image":"busybox","HostConfig":"none"}=HostConfig'; do
		field=${body##*=}
		body=${body%=*}
		post "/containers/create?name=$ID-b" "$body"
		[ "$(api_status)" = 400 ] || fail "$body: $output"
		[[ "$(api_body | jq -r .message)" == *"$field"* ]] || fail "$body: $output"
	done
	# An unknown image: 404 in docker's words.
	post "/containers/create?name=$ID-b" '{"Image":"nosuchimage:1"}'
	[ "$(api_status)" = 404 ]
	[[ "$(api_body | jq -r .message)" == "No such image: nosuchimage:1"* ]]
	# A name in use: 409 naming it.
	post "/containers/create?name=$ID-a" '{"Image":"busybox"}'
	[ "$(api_status)" = 409 ]
	[[ "$(api_body | jq -r .message)" == *"\"/$ID-a\" is already in use"* ]]
	# Bad names: 400.
	local bad
	for bad in 'a%20b' '-x' 'a/b' '.x' '%C3%A9t%C3%A9'; do
		post "/containers/create?name=$bad" '{"Image":"busybox"}'
		[ "$(api_status)" = 400 ] || fail "name $bad: $output"
		[[ "$(api_body | jq -r .message)" == "Invalid container name"* ]] || fail "name $bad: $output"
	done

	# Nothing of any of them: one row (the first), one container's worth of snapshots.
	run listed all=1
	[ "$output" = "$first" ]
	[ "$(snapshots)" = "$snaps" ]
	run api /info
	[ "$(api_body | jq -r .Containers)" = 1 ]
	# The name refused as a duplicate is still free for a good create.
	create "$ID-b" '{"Image":"busybox"}' >/dev/null
}

@test "containers API: start, stop, restart, kill, pause and unpause answer as dockerd" {
	local id
	id=$(create "$ID-a" '{"Image":"busybox","Cmd":["sleep","1000"]}')
	status_is "$id" created
	# Not running yet: nothing to stop (304), kill, pause or top (409).
	post "/containers/$id/stop?t=1"
	[ "$(api_status)" = 304 ]
	post "/containers/$id/kill"
	[ "$(api_status)" = 409 ]
	[[ "$(api_body | jq -r .message)" == *"is not running"* ]]
	post "/containers/$id/pause"
	[ "$(api_status)" = 409 ]

	post "/containers/$id/start"
	[ "$(api_status)" = 204 ]
	status_is "$id" running
	post "/containers/$id/start"
	[ "$(api_status)" = 304 ]
	post "/containers/$id/unpause"
	[ "$(api_status)" = 409 ]

	post "/containers/$id/pause"
	[ "$(api_status)" = 204 ]
	status_is "$id" paused
	[ "$(api "/containers/$id/json" | sed '$d' | jq -r .State.Paused)" = true ]
	post "/containers/$id/pause"
	[ "$(api_status)" = 409 ]
	post "/containers/$id/unpause"
	[ "$(api_status)" = 204 ]
	status_is "$id" running

	# A bad signal is 400, a good one by name kills.
	post "/containers/$id/kill?signal=NOPE"
	[ "$(api_status)" = 400 ]
	local pid1
	pid1=$(api "/containers/$id/json" | sed '$d' | jq -r .State.Pid)
	post "/containers/$id/restart?t=1"
	[ "$(api_status)" = 204 ]
	status_is "$id" running
	[ "$(api "/containers/$id/json" | sed '$d' | jq -r .State.Pid)" != "$pid1" ]

	post "/containers/$id/kill?signal=SIGKILL"
	[ "$(api_status)" = 204 ]
	retry 50 0.1 status_is "$id" exited
	[ "$(api "/containers/$id/json" | sed '$d' | jq -r .State.ExitCode)" = 137 ]
	post "/containers/$id/stop"
	[ "$(api_status)" = 304 ]
	# restart of a stopped container starts it.
	post "/containers/$id/restart?t=1"
	[ "$(api_status)" = 204 ]
	status_is "$id" running
	# sleep ignores SIGTERM as pid 1: stop kills after t.
	post "/containers/$id/stop?t=1"
	[ "$(api_status)" = 204 ]
	status_is "$id" exited
	[ "$(api "/containers/$id/json" | sed '$d' | jq -r .State.ExitCode)" = 137 ]

	# Unknown containers: 404 for every verb.
	local verb
	for verb in start stop restart kill pause unpause wait; do
		post "/containers/nosuch$ID/$verb"
		[ "$(api_status)" = 404 ] || fail "$verb: $output"
		[[ "$(api_body | jq -r .message)" == "No such container: nosuch$ID" ]] || fail "$verb: $output"
	done
}

@test "containers API: rm refuses a running container (409), rm -f removes it, with its snapshot" {
	local id snaps
	snaps=$(snapshots)
	id=$(create "$ID-a" '{"Image":"busybox","Cmd":["sleep","1000"]}')
	post "/containers/$id/start"
	[ "$(api_status)" = 204 ]
	run api -X DELETE "/containers/$id"
	[ "$(api_status)" = 409 ]
	[ "$(api_body | jq -r .message)" = "You cannot remove a running container $id. Stop the container before attempting removal or force remove" ]
	status_is "$id" running
	post "/containers/$id/pause"
	run api -X DELETE "/containers/$id"
	[ "$(api_status)" = 409 ]
	[ "$(api_body | jq -r .message)" = "You cannot remove a paused container $id. Unpause and then stop the container before attempting removal or force remove" ]
	run api -X DELETE "/containers/$id?force=1"
	[ "$(api_status)" = 204 ]
	run api "/containers/$id/json"
	[ "$(api_status)" = 404 ]
	run api -X DELETE "/containers/$id"
	[ "$(api_status)" = 404 ]
	run listed all=1
	[ -z "$output" ]
	[ "$(snapshots)" = "$snaps" ]
	# No task left in the supervisor.
	run "$CTR" --address "$SOCK" --namespace berth tasks ls -q
	[ -z "$output" ]
	# A stopped one goes without force; its name is free again.
	id=$(create "$ID-a" '{"Image":"busybox","Cmd":["true"]}')
	run api -X DELETE "/containers/$ID-a"
	[ "$(api_status)" = 204 ]
	create "$ID-a" '{"Image":"busybox"}' >/dev/null
}

@test "containers API: rename" {
	local a b
	a=$(create "$ID-a" '{"Image":"busybox"}')
	b=$(create "$ID-b" '{"Image":"busybox"}')
	post "/containers/$a/rename?name=$ID-c"
	[ "$(api_status)" = 204 ]
	[ "$(api "/containers/$a/json" | sed '$d' | jq -r .Name)" = "/$ID-c" ]
	run api "/containers/$ID-a/json"
	[ "$(api_status)" = 404 ]
	post "/containers/$ID-c/rename?name=$ID-b"
	[ "$(api_status)" = 409 ]
	post "/containers/$ID-c/rename?name=a%20b"
	[ "$(api_status)" = 400 ]
	post "/containers/$ID-c/rename"
	[ "$(api_status)" = 400 ]
	post "/containers/nosuch$ID/rename?name=x$ID"
	[ "$(api_status)" = 404 ]
	# The old name is free.
	create "$ID-a" '{"Image":"busybox"}' >/dev/null
	[ "$(api "/containers/$b/json" | sed '$d' | jq -r .Name)" = "/$ID-b" ]
}

@test "containers API: wait for not-running, next-exit and removed" {
	local id out
	id=$(create "$ID-a" '{"Image":"busybox","Cmd":["sh","-c","exit 5"]}')
	# Created is not running: at once, code 0.
	post "/containers/$id/wait"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .StatusCode)" = 0 ]
	post "/containers/$id/start"
	retry 50 0.1 status_is "$id" exited
	post "/containers/$id/wait?condition=not-running"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .StatusCode)" = 5 ]
	post "/containers/$id/wait?condition=sometime"
	[ "$(api_status)" = 400 ]

	# next-exit: waits for the next start's exit.
	out=$TMP/wait-next
	api -X POST "/containers/$id/wait?condition=next-exit" >"$out" 3>&- &
	local wpid=$!
	sleep 0.5
	kill -0 "$wpid"
	post "/containers/$id/start"
	[ "$(api_status)" = 204 ]
	wait "$wpid"
	[ "$(tail -n1 "$out")" = 200 ]
	[ "$(sed '$d' "$out" | jq -r .StatusCode)" = 5 ]

	# removed: waits until rm, through a stop on the way.
	local id2
	id2=$(create "$ID-b" '{"Image":"busybox","Cmd":["sleep","1000"]}')
	post "/containers/$id2/start"
	out=$TMP/wait-removed
	api -X POST "/containers/$id2/wait?condition=removed" >"$out" 3>&- &
	wpid=$!
	post "/containers/$id2/kill"
	retry 50 0.1 status_is "$id2" exited
	sleep 0.3
	kill -0 "$wpid"
	run api -X DELETE "/containers/$id2"
	[ "$(api_status)" = 204 ]
	wait "$wpid"
	[ "$(tail -n1 "$out")" = 200 ]
	[ "$(sed '$d' "$out" | jq -r .StatusCode)" = 137 ]
}

@test "containers API: list filters, limit and prune" {
	local run1 ex0 ex3 cr
	run1=$(create "$ID-run" '{"Image":"busybox","Cmd":["sleep","1000"],"Labels":{"role":"web","tier":"1"}}')
	ex0=$(create "$ID-ex0" '{"Image":"busybox","Cmd":["true"],"Labels":{"role":"job"}}')
	ex3=$(create "$ID-ex3" '{"Image":"busybox","Cmd":["sh","-c","exit 3"],"Labels":{"role":"job"}}')
	cr=$(create "$ID-cr" '{"Image":"busybox","Cmd":["true"]}')
	local c
	for c in "$run1" "$ex0" "$ex3"; do
		post "/containers/$c/start"
		[ "$(api_status)" = 204 ]
	done
	retry 50 0.1 status_is "$ex0" exited
	retry 50 0.1 status_is "$ex3" exited

	f() { listed "filters=$(urlenc "$1")${2:+&$2}"; }
	sorted() { printf '%s\n' "$@" | sort; }

	# Without all: the running one only.
	[ "$(listed '')" = "$run1" ]
	[ "$(listed all=1 | wc -l)" = 4 ]
	[ "$(f '{"status":["running"]}')" = "$run1" ]
	[ "$(f '{"status":["exited"]}')" = "$(sorted "$ex0" "$ex3")" ]
	[ "$(f '{"status":["created"]}')" = "$cr" ]
	[ "$(f '{"status":["created","running"]}')" = "$(sorted "$cr" "$run1")" ]
	[ "$(f '{"name":["'"$ID"'-ex"]}' all=1)" = "$(sorted "$ex0" "$ex3")" ]
	[ "$(f '{"name":["'"$ID"'-run"]}' all=1)" = "$run1" ]
	[ "$(f '{"label":["role=job"]}' all=1)" = "$(sorted "$ex0" "$ex3")" ]
	[ "$(f '{"label":["tier"]}' all=1)" = "$run1" ]
	[ "$(f '{"label":["role=web","tier=1"]}' all=1)" = "$run1" ]
	[ -z "$(f '{"label":["role=web","tier=2"]}' all=1)" ]
	[ "$(f '{"id":["'"${ex3:0:12}"'"]}' all=1)" = "$ex3" ]
	[ "$(f '{"exited":["3"]}')" = "$ex3" ]
	[ "$(f '{"exited":["0"]}')" = "$ex0" ]
	[ "$(f '{"ancestor":["busybox"]}' all=1 | wc -l)" = 4 ]
	[ "$(f '{"ancestor":["busybox:latest"]}' all=1 | wc -l)" = 4 ]
	[ -z "$(f '{"ancestor":["nosuchimage"]}' all=1)" ]
	# The legacy map form of a filter.
	[ "$(f '{"status":{"running":true}}')" = "$run1" ]
	# Bad filters and arguments: 400.
	run api "/containers/json?filters=$(urlenc '{"colour":["red"]}')"
	[ "$(api_status)" = 400 ]
	[[ "$(api_body | jq -r .message)" == *colour* ]]
	run api "/containers/json?filters=notjson"
	[ "$(api_status)" = 400 ]
	run api "/containers/json?filters=$(urlenc '{"status":["sleepy"]}')"
	[ "$(api_status)" = 400 ]
	run api "/containers/json?limit=x"
	[ "$(api_status)" = 400 ]

	# limit: the newest N, stopped ones included.
	[ "$(listed limit=2)" = "$(sorted "$cr" "$ex3")" ]
	[ "$(api '/containers/json?limit=1' | sed '$d' | jq -r '.[0].Id')" = "$cr" ]
	# The summary's fields.
	run api "/containers/json?filters=$(urlenc '{"id":["'"$ex3"'"]}')&all=1"
	[ "$(api_body | jq -r '.[0].Names[0]')" = "/$ID-ex3" ]
	[ "$(api_body | jq -r '.[0].Image')" = busybox ]
	[ "$(api_body | jq -r '.[0].State')" = exited ]
	[[ "$(api_body | jq -r '.[0].Status')" == "Exited (3) "* ]]
	[ "$(api_body | jq -r '.[0].Labels.role')" = job ]

	# prune: with a label filter, then everything stopped; never the running one.
	post "/containers/prune?filters=$(urlenc '{"label":["role=job"]}')"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r '.ContainersDeleted[]' | sort)" = "$(sorted "$ex0" "$ex3")" ]
	api_body | jq -e '.SpaceReclaimed | type == "number"'
	post /containers/prune
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r '.ContainersDeleted[]')" = "$cr" ]
	[ "$(listed all=1)" = "$run1" ]
	post /containers/prune
	[ "$(api_body | jq -r '.ContainersDeleted | length')" = 0 ]
	post "/containers/prune?filters=$(urlenc '{"colour":["red"]}')"
	[ "$(api_status)" = 400 ]
}

@test "containers API: top" {
	local id
	id=$(create "$ID-a" '{"Image":"busybox","Cmd":["sh","-c","sleep 1000 & exec sleep 999"]}')
	run api "/containers/$id/top"
	[ "$(api_status)" = 409 ]
	post "/containers/$id/start"
	retry 50 0.1 bash -c "curl -sS --unix-socket $ESOCK http://berthd/containers/$id/top | jq -e '.Processes | length == 2'"
	run api "/containers/$id/top"
	[ "$(api_status)" = 200 ]
	api_body | jq -e '.Titles | index("PID") != null'
	api_body | jq -e '.Titles | index("CMD") != null'
	[[ "$(api_body | jq -r '.Processes[][-1]')" == *"sleep 999"* ]]
	[[ "$(api_body | jq -r '.Processes[][-1]')" == *"sleep 1000"* ]]
	# ps arguments.
	run api "/containers/$id/top?ps_args=-o%20pid,comm"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r '.Titles | join(",")')" = "PID,COMMAND" ]
	post "/containers/$id/kill"
	retry 50 0.1 status_is "$id" exited
	run api "/containers/$id/top"
	[ "$(api_status)" = 409 ]
}

@test "containers API: logs with tail, since, timestamps and one stream" {
	local id
	id=$(create "$ID-a" '{"Image":"busybox","Cmd":["sh","-c","for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; sleep 2; echo late"]}')
	post "/containers/$id/start"
	retry 100 0.1 status_is "$id" exited

	run dockercli logs "$id"
	assert_status 0
	[ "$(grep -c '^out' <<<"$output")" = 5 ]
	[ "$(grep -c '^err' <<<"$output")" = 5 ]
	run dockercli logs --tail 2 "$ID-a"
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "err5 late " ] ||
		[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "late out5 " ] || fail "$output"
	run dockercli logs --tail 0 "$id"
	[ -z "$output" ]
	run dockercli logs --tail all "$id"
	[ "${#lines[@]}" = 11 ]

	# One stream only, through the API (a multiplexed stream: stream 1 is stdout).
	curl -sS --unix-socket "$ESOCK" -o "$TMP/out" "http://berthd/containers/$id/logs?stdout=1"
	grep -q out3 "$TMP/out"
	! grep -q err "$TMP/out" || false
	[ "$(head -c1 "$TMP/out" | od -An -tu1 | tr -d ' ')" = 1 ]
	curl -sS --unix-socket "$ESOCK" -o "$TMP/err" "http://berthd/containers/$id/logs?stderr=1"
	grep -q err3 "$TMP/err"
	! grep -q out "$TMP/err" || false
	[ "$(head -c1 "$TMP/err" | od -An -tu1 | tr -d ' ')" = 2 ]
	# Neither stream: 400, as dockerd.
	run api "/containers/$id/logs"
	[ "$(api_status)" = 400 ]

	# Timestamps: RFC 3339 with nanoseconds before each line; since the last one's time.
	run dockercli logs -t "$id"
	[[ "${lines[0]}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]+Z\ (out|err)1$ ]] || fail "$output"
	local late
	late=$(grep ' late$' <<<"$output" | cut -d' ' -f1)
	[ -n "$late" ]
	local since
	since=$(date -d "$late" +%s)
	# The 2 s sleep puts every other line in an earlier second.
	run dockercli logs --since "$since" "$id"
	[ "$output" = late ]
	run api "/containers/$id/logs?stdout=1&since=$((since + 10))"
	[ "$(api_status)" = 200 ]
	[ -z "$(api_body)" ]
	run api "/containers/$id/logs?stdout=1&since=yesterday"
	[ "$(api_status)" = 400 ]
	run api "/containers/$id/logs?stdout=1&tail=lots"
	[ "$(api_status)" = 400 ]
}

@test "containers API: short id prefixes, and ambiguous ones are refused" {
	local id ids=() i
	id=$(create "$ID-a" '{"Image":"busybox"}')
	run api "/containers/${id:0:12}/json"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Id)" = "$id" ]
	run api "/containers/${id:0:4}/json"
	[ "$(api_status)" = 200 ]
	# Create until two ids share their first character (17 always do).
	ids=("$id")
	local a='' b=''
	for i in $(seq 1 16); do
		ids+=("$(create "$ID-p$i" '{"Image":"busybox"}')")
		local x y
		for x in "${ids[@]}"; do
			[ "$x" = "${ids[-1]}" ] && continue
			if [ "${x:0:1}" = "${ids[-1]:0:1}" ]; then
				a=$x
				b=${ids[-1]}
			fi
		done
		[ -n "$a" ] && break
	done
	[ -n "$a" ]
	run api "/containers/${a:0:1}/json"
	[ "$(api_status)" = 400 ]
	[[ "$(api_body | jq -r .message)" == *"multiple IDs found with provided prefix: ${a:0:1}"* ]]
	post "/containers/${a:0:1}/start"
	[ "$(api_status)" = 400 ]
	run api -X DELETE "/containers/${a:0:1}"
	[ "$(api_status)" = 400 ]
	# Both still there; a longer prefix tells them apart.
	local n=1
	while [ "${a:0:$n}" = "${b:0:$n}" ]; do n=$((n + 1)); done
	run api "/containers/${b:0:$n}/json"
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .Id)" = "$b" ]
	run api -X DELETE "/containers/${a:0:$n}"
	[ "$(api_status)" = 204 ]
	run api "/containers/$a/json"
	[ "$(api_status)" = 404 ]
	# A name wins over an id prefix that is also a name.
	local c
	c=$(create "${b:0:$n}" '{"Image":"busybox"}')
	run api "/containers/${b:0:$n}/json"
	[ "$(api_body | jq -r .Id)" = "$c" ]
}
