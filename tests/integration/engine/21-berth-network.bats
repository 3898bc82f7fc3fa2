#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth, the CLI, and container networking (berthd's CNI networks), with berth only: -p to a
# busybox httpd fetched with curl from the host, berth port, -P and --expose, the run flags
# that shape the network (--dns, --dns-search, --dns-option, --add-host, --hostname,
# --mac-address, --network none), user networks (create, ls, inspect, rm, prune, containers
# talking by name and alias), connect/disconnect of a running container, a static --ip, and
# bad values refused with exit 125 before anything reaches berthd.
#
# As 14-network.bats: each test's berthd has a bridge and a subnet of its own.

bats_require_minimum_version 1.5.0

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

BERTH=$(bin_of engine/berth)

setup() {
	engine_setup_network bb 247
	NET_CLI=berthcli
	run berthcli load -i "$(busybox_tar)"
	assert_status 0
}

teardown() {
	net_cleanup
	engine_teardown
}

# berthcli ARGS...: berth against this test's berthd, bounded in time.
berthcli() {
	BERTH_HOST="unix://$ESOCK" timeout -k 5 60 "$BERTH" "$@"
}

busybox_tar() {
	local tar=${BATS_FILE_TMPDIR:?}/busybox.tar
	if [ ! -s "$tar" ]; then
		"$BERTH_SOURCE_DIR/contrib/busybox-image" "$tar" >&2 || fail "contrib/busybox-image failed"
	fi
	echo "$tar"
}


# free_port: a TCP port of 20000-29999 nothing listens on (nor binds, for the ones it checks).
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 10000))
		if ! ss -Htan "( sport = :$p )" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	fail "no free port found"
}

# The number of create requests berthd was sent (its debug log names each request).
creates_sent() {
	grep -c 'api POST /v1.41/containers/create' "$TMP/berthd.log" || true
}

@test "berth run -p: a web server reached through a published port; berth port" {
	local p
	p=$(free_port)
	run berthcli run -d --name "$C" -p "127.0.0.1:$p:80" busybox sh -c 'echo hello-berth >/tmp/index.html; httpd -f -p 80 -h /tmp'
	assert_status 0
	run retry 50 0.2 curl -sf -m 2 "http://127.0.0.1:$p/index.html"
	assert_status 0
	[ "$output" = hello-berth ]
	run berthcli port "$C"
	assert_status 0
	[ "$output" = "80/tcp -> 127.0.0.1:$p" ]
	# One port: only its addresses, "80" meaning 80/tcp.
	run berthcli port "$C" 80
	assert_status 0
	[ "$output" = "127.0.0.1:$p" ]
	run berthcli port "$C" 80/udp
	assert_status 1
	assert_output_contains "No public port '80/udp' published for $C"
	run berthcli ps --format '{{.Ports}}'
	assert_output_contains "127.0.0.1:$p->80/tcp"
	# -P with --expose ranges: an ephemeral host port for each, listed in natural order.
	run berthcli run -d --name "$C-all" -P --expose 7000-7001/udp --expose 90 busybox sleep 300
	assert_status 0
	run berthcli port "$C-all"
	assert_status 0
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" =~ ^90/tcp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
	[[ "${lines[1]}" =~ ^7000/udp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
	[[ "${lines[2]}" =~ ^7001/udp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
	# Ranges as docker pairs them (create only: no port is bound until a start).
	run berthcli create --name "$C-r" -p 127.0.0.1:18080-18081:80-81 -p 18090-18099:90/udp busybox true
	assert_status 0
	run berthcli inspect --format '{{json .HostConfig.PortBindings}}' "$C-r"
	assert_status 0
	[ "$(jq -c 'to_entries | map({(.key): [.value[] | .HostIp + ":" + .HostPort]}) | add' <<<"$output")" = '{"80/tcp":["127.0.0.1:18080"],"81/tcp":["127.0.0.1:18081"],"90/udp":[":18090-18099"]}' ]
}

@test "berth run: --dns, --dns-search, --dns-option, --add-host, --hostname, --mac-address, --network none" {
	run berthcli run --rm --hostname web1 --dns 192.0.2.53 --dns-search example.test --dns-option ndots:2 \
		--add-host db.local:192.0.2.7 --mac-address 02:42:ac:11:00:99 busybox \
		sh -c 'cat /etc/resolv.conf /etc/hosts /sys/class/net/eth0/address; hostname'
	assert_status 0
	assert_output_contains "nameserver 192.0.2.53"
	assert_output_contains "search example.test"
	assert_output_contains "options ndots:2"
	assert_output_contains "192.0.2.7	db.local"
	assert_output_contains "02:42:ac:11:00:99"
	[ "${lines[-1]}" = web1 ]
	run berthcli run --rm --network none busybox ls /sys/class/net
	assert_status 0
	[ "$output" = lo ]
	run berthcli run --rm --net host busybox cat /proc/net/dev
	assert_status 0
	assert_output_contains "$BR"
}

@test "berth network: two containers on a user network talk by name and alias" {
	run berthcli network create --subnet "10.242.$N.0/24" --gateway "10.242.$N.254" "$ID-net"
	assert_status 0
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	local id=$output
	run berthcli network ls
	assert_status 0
	[[ "${lines[0]}" =~ ^NETWORK\ ID\ +NAME\ +DRIVER\ +SCOPE$ ]]
	assert_output_contains "${id:0:12}"
	[[ "$output" =~ ${id:0:12}\ +$ID-net\ +bridge\ +local ]]
	run berthcli network inspect --format '{{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}' "$ID-net"
	assert_status 0
	[ "$output" = "bridge 10.242.$N.0/24 10.242.$N.254" ]
	run berthcli run -d --name "$C-web" --network "$ID-net" --network-alias www --network-alias web2 busybox sh -c 'echo by-name >/tmp/index.html; httpd -f -p 80 -h /tmp'
	assert_status 0
	run berthcli run --rm --network "$ID-net" busybox sh -c "wget -qO- http://$C-web/index.html && wget -qO- http://www/index.html && ping -c1 -W2 web2 >/dev/null && echo pinged"
	assert_status 0
	[ "$(grep -c by-name <<<"$output")" = 2 ]
	assert_output_contains pinged
	run berthcli network inspect --format '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}' "$ID-net"
	assert_output_contains "$C-web 10.242.$N."
	run berthcli inspect --format "{{json (index .NetworkSettings.Networks \"$ID-net\").Aliases}}" "$C-web"
	[ "$output" = '["www","web2"]' ]
	# In use: it stays; once its container is gone it goes.
	run berthcli network rm "$ID-net"
	assert_status 1
	assert_output_contains "has active endpoints"
	berthcli rm -f "$C-web" >/dev/null
	run berthcli network rm "$ID-net"
	assert_status 0
	[ "$output" = "$ID-net" ]
	run berthcli network inspect "$ID-net"
	assert_status 1
	assert_output_contains "No such network: $ID-net"
}

@test "berth network connect/disconnect of a running container; a static --ip" {
	berthcli network create --subnet "10.243.$N.0/24" "$ID-net" >/dev/null
	run berthcli run -d --name "$C-a" --network "$ID-net" --ip "10.243.$N.50" busybox sleep 300
	assert_status 0
	run berthcli exec "$C-a" ip -4 -o addr show eth0
	assert_output_contains "10.243.$N.50/24"
	berthcli run -d --name "$C-b" busybox sleep 300 >/dev/null
	run berthcli exec "$C-b" ping -c1 -W1 "$C-a"
	[ "$status" -ne 0 ]
	run berthcli network connect --ip "10.243.$N.60" --alias bee "$ID-net" "$C-b"
	assert_status 0
	run berthcli exec "$C-b" ip -4 -o addr show eth1
	assert_output_contains "10.243.$N.60/24"
	run berthcli exec "$C-b" ping -c1 -W2 "$C-a"
	assert_status 0
	run berthcli exec "$C-a" ping -c1 -W2 bee
	assert_status 0
	run berthcli network connect "$ID-net" "$C-b"
	assert_status 1
	assert_output_contains "already exists in network"
	run berthcli network disconnect "$ID-net" "$C-b"
	assert_status 0
	run berthcli exec "$C-b" ip -4 -o addr show eth1
	[ "$status" -ne 0 ]
	run berthcli network disconnect -f "$ID-net" "$C-b"
	assert_status 1
	assert_output_contains "is not connected"
	run berthcli network connect "$ID-net" nosuch
	assert_status 1
	assert_output_contains "nosuch"
}

@test "berth network ls, inspect, rm and prune: filters, -q, --format, several names" {
	berthcli network create --label keep=yes "$ID-kept" >/dev/null
	berthcli network create --internal --label tier=back "$ID-int" >/dev/null
	berthcli network create -d bridge --ip-range "10.244.$N.128/25" --subnet "10.244.$N.0/24" "$ID-r" >/dev/null
	run berthcli network ls -q --filter type=custom
	assert_status 0
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
	run berthcli network ls --format '{{.Name}} {{.Internal}} {{.Labels}}' --filter label=tier
	assert_status 0
	[ "$output" = "$ID-int true tier=back" ]
	# dangling: the user networks no container is on.
	berthcli create --name "$ID-on-r" --network "$ID-r" busybox true >/dev/null
	run berthcli network ls --format '{{.Name}}' --filter dangling=true
	assert_status 0
	[ "$output" = "$(printf '%s\n' "$ID-int" "$ID-kept" | LC_ALL=C sort)" ]
	run berthcli network ls --format '{{.Name}}' --filter dangling=false
	assert_output_contains "$ID-r"
	assert_output_contains bridge
	! echo "$output" | grep -qx "$ID-kept" || false
	run berthcli network ls --filter dangling=maybe
	assert_failure
	assert_output_contains "'dangling'='maybe'"
	berthcli rm "$ID-on-r" >/dev/null
	# Sorted by name; the predefined ones listed too.
	run berthcli network ls --format '{{.Name}}'
	assert_status 0
	[ "$output" = "$(printf '%s\n' "$output" | LC_ALL=C sort)" ]
	assert_output_contains bridge
	assert_output_contains host
	assert_output_contains none
	run berthcli network inspect --format '{{range .IPAM.Config}}{{.IPRange}}{{end}}' "$ID-r"
	[ "$output" = "10.244.$N.128/25" ]
	# inspect: what it found, then an error for what it did not.
	run berthcli network inspect "$ID-kept" nosuch
	assert_status 1
	assert_output_contains "\"Name\": \"$ID-kept\""
	assert_output_contains "Error: No such network: nosuch"
	# rm: each name in turn, the missing one an error; -f ignores it.
	run berthcli network rm nosuch "$ID-r"
	assert_status 1
	assert_output_contains "nosuch"
	assert_output_contains "$ID-r"
	run berthcli network rm -f nosuch
	assert_status 0
	run berthcli network rm bridge
	assert_status 1
	assert_output_contains "pre-defined"
	# prune takes the unused user networks, a label narrowing it.
	run berthcli network prune -f --filter label!=keep
	assert_status 0
	[ "$output" = "$(printf 'Deleted Networks:\n%s' "$ID-int")" ]
	run berthcli network ls --format '{{.Name}}' --filter type=custom
	[ "$output" = "$ID-kept" ]
	# Without -f it asks; no answer keeps everything.
	run berthcli network prune </dev/null
	assert_status 0
	assert_output_contains "Are you sure you want to continue?"
	run berthcli network ls -q --filter type=custom
	[ "${#lines[@]}" = 1 ]
	run berthcli network --help
	assert_status 0
	assert_output_contains "Usage:  berth network COMMAND"
	assert_output_contains "disconnect  Disconnect a container from a network"
	run berthcli network create --help
	assert_status 0
	assert_output_contains "Usage:  berth network create [OPTIONS] NETWORK"
	assert_output_contains "--subnet"
}

@test "berth: bad network values exit 125 naming the flag, and nothing reaches berthd" {
	local before
	before=$(creates_sent)
	run berthcli run -p abc busybox true
	assert_status 125
	assert_output_contains 'invalid argument "abc" for "-p, --publish" flag: invalid containerPort: abc'
	run berthcli create -p 70000:80 busybox true
	assert_status 125
	assert_output_contains 'invalid argument "70000:80" for "-p, --publish" flag: invalid hostPort: 70000'
	run berthcli run -p 8080-8082:80-81 busybox true
	assert_status 125
	assert_output_contains "invalid ranges specified for container and host Ports"
	run berthcli run -p 80/icmp busybox true
	assert_status 125
	assert_output_contains "invalid proto: icmp"
	run berthcli run --network "$ID-x" --ip 1.2.3 busybox true
	assert_status 125
	assert_output_contains 'invalid argument "1.2.3" for "--ip" flag'
	run berthcli run --ip 10.0.0.9 busybox true
	assert_status 125
	assert_output_contains "user defined networks only"
	run berthcli run --add-host db busybox true
	assert_status 125
	assert_output_contains '"--add-host" flag'
	run berthcli run --dns not-an-ip busybox true
	assert_status 125
	assert_output_contains '"--dns" flag'
	run berthcli run --mac-address 02:42:zz:00:00:01 busybox true
	assert_status 125
	assert_output_contains '"--mac-address" flag'
	run berthcli run --expose 80:80 busybox true
	assert_status 125
	assert_output_contains "invalid port format for --expose"
	run berthcli run --network a --network b busybox true
	assert_status 125
	assert_output_contains "only one --network"
	run berthcli run --network none --network-alias x busybox true
	assert_status 125
	assert_output_contains "--network-alias"
	[ "$(creates_sent)" = "$before" ]
	# The daemon's refusals: an unknown network, an address outside the subnet.
	run berthcli run --rm --network nosuch busybox true
	assert_status 125
	assert_output_contains "network nosuch not found"
	berthcli network create --subnet "10.245.$N.0/24" "$ID-net" >/dev/null
	run berthcli run --rm --network "$ID-net" --ip 10.99.0.5 busybox true
	assert_status 125
	assert_output_contains "does not belong"
	run berthcli ps -aq
	[ -z "$output" ]
	# network commands: 125 for bad flags and operands, 1 for what the daemon refuses.
	run berthcli network create
	assert_status 125
	assert_output_contains '"berth network create" requires exactly 1 argument.'
	run berthcli network inspect
	assert_status 125
	assert_output_contains '"berth network inspect" requires at least 1 argument.'
	run berthcli network frob
	assert_status 125
	assert_output_contains "unknown command \`frob\`"
	run berthcli network create --gateway 10.246.0.1 "$ID-g"
	assert_status 1
	assert_output_contains "every ip-range or gateway must have a corresponding subnet"
	run berthcli network create --subnet 10.246.0.0/33 "$ID-g"
	assert_status 1
	assert_output_contains "Error response from daemon"
	run berthcli network create --subnet "10.245.$N.128/25" "$ID-g"
	assert_status 1
	assert_output_contains "overlaps"
	run berthcli network create "$ID-net"
	assert_status 1
	run berthcli network connect --ip 10.245.1 "$ID-net" nosuch
	assert_status 125
	assert_output_contains 'invalid argument "10.245.1" for "--ip" flag'
	run berthcli network ls -q --filter type=custom
	[ "${#lines[@]}" = 1 ]
}
