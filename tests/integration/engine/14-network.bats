#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Container networking through the CNI plugins (/usr/lib/cni), with the docker CLI: the
# default bridge network (an address, NAT out, loopback), a web server (busybox httpd) reached
# through a published port on 127.0.0.1, user networks (create, ls, inspect, rm, prune; two
# containers talking by name and alias; connect and disconnect of a running container; a static
# --ip), bad input refused with nothing left behind, and no veth, iptables rule, host-local
# address or namespace left after create/start/remove cycles and after a kill -9 of berthd.
#
# Each test's berthd has a bridge and a subnet of its own (--bridge and daemon.json's bip),
# so the tests do not meet another engine's default network.

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -x /usr/lib/cni/bridge ] || skip "the CNI plugins are not installed"
	engine_setup
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	BR=bt$((BATS_TEST_NUMBER % 100))n$$
	BR=${BR:0:15}
	BERTHD_BRIDGE=$BR
	printf '{"bip": "10.231.%d.1/24"}\n' $((BATS_TEST_NUMBER % 250)) >"$TMP/daemon.json"
	start_supervisor
	start_berthd
	load_busybox
	C=$ID-c
}

teardown() {
	# Before engine_teardown stops berthd: the containers' networks go with them.
	net_cleanup
	engine_teardown
}

# At teardown: every container, the test's user networks and its bridge.
net_cleanup() {
	local c n
	if [ -n "${BERTHD_PID:-}" ]; then
		for c in $(dockercli ps -aq 2>/dev/null); do
			dockercli rm -f "$c" >/dev/null 2>&1 || true
		done
		for n in $(dockercli network ls -q --filter type=custom 2>/dev/null); do
			dockercli network rm "$n" >/dev/null 2>&1 || true
		done
	fi
	ip link delete "$BR" 2>/dev/null || true
}

# The host's leftovers: veths, iptables lines naming CNI chains of containers, host-local
# address files, network namespaces of the test's berthd.
count_veths() { ip -o link show type veth | wc -l; }
count_rules() { iptables-save | grep -c -- '-A CNI-' || true; }
count_ips() { find "$EROOT/network/ipam" -type f ! -name 'last_reserved_ip*' ! -name lock 2>/dev/null | wc -l; }
count_netns() { find "$ESTATE/netns" -type f 2>/dev/null | wc -l; }

@test "network: the default bridge network gives an address, loopback and a route out" {
	local since
	since=$(date +%s)
	run dockercli run --rm busybox sh -c 'ip -4 -o addr show eth0; ip -4 -o addr show lo; ip route'
	assert_status 0
	assert_output_contains "10.231.$((BATS_TEST_NUMBER % 250))."
	assert_output_contains "127.0.0.1/8"
	assert_output_contains "default via 10.231.$((BATS_TEST_NUMBER % 250)).1"
	# Nothing left once it is gone.
	retry 50 0.1 test "$(count_netns)" = 0
	[ "$(count_ips)" = 0 ]
	# docker's network events: connect at the start, disconnect at the exit.
	run dockercli events --since "$since" --until "$(($(date +%s) + 1))" --filter type=network --format '{{.Action}} {{.Actor.Attributes.name}}'
	assert_output_contains "connect bridge"
	assert_output_contains "disconnect bridge"
}

@test "network: a web server is reached through a published port on 127.0.0.1" {
	run dockercli run -d --name "$C" -p 127.0.0.1:18431:80 busybox sh -c 'echo hello-berth >/tmp/index.html; httpd -f -p 80 -h /tmp'
	assert_status 0
	run retry 50 0.2 curl -sf -m 2 http://127.0.0.1:18431/index.html
	assert_status 0
	assert_output_contains hello-berth
	run dockercli port "$C"
	assert_status 0
	assert_output_contains "80/tcp -> 127.0.0.1:18431"
	run dockercli ps --format '{{.Ports}}'
	assert_output_contains "127.0.0.1:18431->80/tcp"
	run dockercli inspect --format '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' "$C"
	assert_status 0
	assert_output_contains "10.231.$((BATS_TEST_NUMBER % 250)).1 18431"
	# A second container cannot take the same host port; nothing of it is left.
	local before_ips
	before_ips=$(count_ips)
	run dockercli run -d --name "$C-2" -p 18431:80 busybox sleep 100
	[ "$status" -ne 0 ]
	assert_output_contains "port is already allocated"
	[ "$(count_ips)" = "$before_ips" ]
	[ "$(count_netns)" = 1 ]
}

@test "network: --dns, --add-host, MacAddress, --hostname and NetworkMode container:<id>" {
	run dockercli run -d --name "$C" --hostname web1 --dns 192.0.2.53 --dns-search example.test --add-host db.local:192.0.2.7 busybox sleep 300
	assert_status 0
	run dockercli exec "$C" cat /etc/resolv.conf
	assert_output_contains "nameserver 192.0.2.53"
	assert_output_contains "search example.test"
	[[ "$output" != *"nameserver 127."* ]]
	run dockercli exec "$C" cat /etc/hosts
	assert_output_contains "192.0.2.7	db.local"
	assert_output_contains "	web1"
	# Config.MacAddress (the docker CLI sends it per network only from API 1.44 on).
	run api -X POST -H 'Content-Type: application/json' -d '{"Image": "busybox", "Cmd": ["sleep", "300"], "MacAddress": "02:42:ac:11:00:99"}' "/containers/create?name=$C-mac"
	[ "$(api_status)" = 201 ]
	dockercli start "$C-mac" >/dev/null
	run dockercli exec "$C-mac" cat /sys/class/net/eth0/address
	assert_output_contains "02:42:ac:11:00:99"
	run dockercli inspect --format '{{.NetworkSettings.MacAddress}}' "$C-mac"
	assert_output_contains "02:42:ac:11:00:99"
	# Another container in its network namespace sees the same interface.
	run dockercli run --rm --network "container:$C-mac" busybox cat /sys/class/net/eth0/address
	assert_status 0
	assert_output_contains "02:42:ac:11:00:99"
	# none: loopback only.
	run dockercli run --rm --network none busybox ls /sys/class/net
	assert_status 0
	[ "$output" = lo ]
}

@test "network: -P publishes every exposed port on an ephemeral host port" {
	run dockercli run -d --name "$C" -P --expose 80 --expose 81/udp busybox sh -c 'echo published >/tmp/index.html; httpd -f -p 80 -h /tmp'
	assert_status 0
	local port
	port=$(dockercli inspect --format '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' "$C")
	[ -n "$port" ] && [ "$port" -gt 0 ]
	run dockercli port "$C" 81/udp
	assert_status 0
	assert_output_contains "0.0.0.0:"
	run retry 50 0.2 curl -sf -m 2 "http://127.0.0.1:$port/index.html"
	assert_status 0
	assert_output_contains published
	# From another container, through the host's address on the bridge.
	run dockercli run --rm busybox wget -qO- "http://10.231.$((BATS_TEST_NUMBER % 250)).1:$port/index.html"
	assert_status 0
	assert_output_contains published
}

@test "network: two containers on a user network talk by name and alias" {
	run dockercli network create --subnet 10.232.$((BATS_TEST_NUMBER % 250)).0/24 "$ID-net"
	assert_status 0
	run dockercli network inspect --format '{{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}' "$ID-net"
	assert_status 0
	assert_output_contains "bridge 10.232.$((BATS_TEST_NUMBER % 250)).0/24 10.232.$((BATS_TEST_NUMBER % 250)).1"
	run dockercli network ls --filter type=custom --format '{{.Name}}'
	assert_output_contains "$ID-net"
	[ "$(echo "$output" | grep -c .)" = 1 ]
	run dockercli run -d --name "$C-web" --network "$ID-net" --network-alias www busybox sh -c 'echo by-name >/tmp/index.html; httpd -f -p 80 -h /tmp'
	assert_status 0
	run dockercli run --rm --network "$ID-net" busybox sh -c "wget -qO- http://$C-web/index.html && wget -qO- http://www/index.html"
	assert_status 0
	[ "$(echo "$output" | grep -c by-name)" = 2 ]
	# The network lists its container; the container its address on the network.
	run dockercli network inspect --format '{{range .Containers}}{{.Name}}{{end}}' "$ID-net"
	assert_output_contains "$C-web"
	run dockercli inspect --format "{{(index .NetworkSettings.Networks \"$ID-net\").IPAddress}}" "$C-web"
	assert_output_contains "10.232.$((BATS_TEST_NUMBER % 250))."
	# In use: it stays.
	run dockercli network rm "$ID-net"
	[ "$status" -ne 0 ]
	assert_output_contains "has active endpoints"
	dockercli rm -f "$C-web"
	run dockercli network rm "$ID-net"
	assert_status 0
	run dockercli network inspect "$ID-net"
	[ "$status" -ne 0 ]
}

@test "network: connect and disconnect a running container; a static --ip" {
	dockercli network create --subnet 10.233.$((BATS_TEST_NUMBER % 250)).0/24 "$ID-net" >/dev/null
	run dockercli run -d --name "$C-a" --network "$ID-net" --ip 10.233.$((BATS_TEST_NUMBER % 250)).50 busybox sleep 300
	assert_status 0
	run dockercli exec "$C-a" ip -4 -o addr show eth0
	assert_output_contains "10.233.$((BATS_TEST_NUMBER % 250)).50/24"
	dockercli run -d --name "$C-b" busybox sleep 300 >/dev/null
	run dockercli exec "$C-b" ping -c1 -W2 "$C-a"
	[ "$status" -ne 0 ]
	run dockercli network connect --alias bee "$ID-net" "$C-b"
	assert_status 0
	run dockercli exec "$C-b" ip -4 -o addr show eth1
	assert_output_contains "10.233.$((BATS_TEST_NUMBER % 250))."
	run dockercli exec "$C-b" ping -c1 -W2 "$C-a"
	assert_status 0
	# The other container's /etc/hosts learned the new one, by name and alias.
	run dockercli exec "$C-a" ping -c1 -W2 bee
	assert_status 0
	run dockercli network disconnect "$ID-net" "$C-b"
	assert_status 0
	run dockercli exec "$C-b" ip -4 -o addr show eth1
	[ "$status" -ne 0 ]
	run dockercli exec "$C-a" cat /etc/hosts
	# As a word: a hex hostname may hold the letters.
	[[ ! "$output" =~ (^|[[:space:]])bee($|[[:space:]]) ]]
	run dockercli network disconnect "$ID-net" "$C-b"
	[ "$status" -ne 0 ]
	assert_output_contains "is not connected"
}

@test "network: bad input is refused and leaves nothing behind" {
	local n=$((BATS_TEST_NUMBER % 250))
	dockercli network create --subnet 10.234.$n.0/24 "$ID-net" >/dev/null
	# Overlapping subnets: 403, as dockerd.
	run api -X POST -d "{\"Name\": \"$ID-x\", \"IPAM\": {\"Config\": [{\"Subnet\": \"10.234.$n.128/25\"}]}}" /networks/create
	[ "$(api_status)" = 403 ]
	api_body | jq -r .message | grep -q "overlaps"
	# A gateway or a range outside the subnet, a bad CIDR: 400.
	run api -X POST -d "{\"Name\": \"$ID-x\", \"IPAM\": {\"Config\": [{\"Subnet\": \"10.235.$n.0/24\", \"Gateway\": \"10.236.0.1\"}]}}" /networks/create
	[ "$(api_status)" = 400 ]
	api_body | jq -r .message | grep -q "Gateway"
	run api -X POST -d "{\"Name\": \"$ID-x\", \"IPAM\": {\"Config\": [{\"Subnet\": \"10.235.$n.0/33\"}]}}" /networks/create
	[ "$(api_status)" = 400 ]
	# A name in use: 409.
	run api -X POST -d "{\"Name\": \"$ID-net\"}" /networks/create
	[ "$(api_status)" = 409 ]
	run dockercli network ls -q --filter type=custom
	[ "$(echo "$output" | grep -c .)" = 1 ]
	# An address outside the subnet; an unknown network (404 at create).
	run dockercli run --rm --network "$ID-net" --ip 10.99.0.5 busybox true
	[ "$status" -ne 0 ]
	assert_output_contains "does not belong"
	run api -X POST -H 'Content-Type: application/json' -d '{"Image": "busybox", "HostConfig": {"NetworkMode": "nosuch"}}' /containers/create
	[ "$(api_status)" = 404 ]
	api_body | jq -r .message | grep -q "network nosuch not found"
	run dockercli ps -aq
	[ -z "$output" ]
	# Predefined networks stay.
	run dockercli network rm bridge
	[ "$status" -ne 0 ]
	assert_output_contains "pre-defined"
	[ "$(count_netns)" = 0 ]
	[ "$(count_ips)" = 0 ]
}

@test "network: an internal network has no way out; a bad port binding is refused at create" {
	run dockercli network create --internal "$ID-int"
	assert_status 0
	run dockercli network inspect --format '{{.Internal}}' "$ID-int"
	assert_output_contains true
	run dockercli run --rm --network "$ID-int" busybox ip route
	assert_status 0
	[[ "$output" != *default* ]]
	run api -X POST -H 'Content-Type: application/json' -d '{"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "http"}]}}}' /containers/create
	[ "$(api_status)" = 400 ]
	api_body | jq -r .message | grep -q "invalid hostPort: http"
	run dockercli ps -aq
	[ -z "$output" ]
	# prune takes the unused user networks, labels narrowing it; never the predefined ones.
	dockercli network create --label keep=yes "$ID-kept" >/dev/null
	run dockercli network prune -f --filter label!=keep
	assert_status 0
	assert_output_contains "$ID-int"
	[[ "$output" != *"$ID-kept"* ]]
	run dockercli network ls --format '{{.Name}}'
	assert_output_contains "$ID-kept"
	assert_output_contains bridge
	[[ "$output" != *"$ID-int"* ]]
}

@test "network: nothing leaks after 20 create/start/remove cycles" {
	local veths rules i
	veths=$(count_veths)
	rules=$(count_rules)
	dockercli network create "$ID-net" >/dev/null
	for i in $(seq 20); do
		dockercli run -d --name "$C-$i" --network "$ID-net" -p 127.0.0.1::80 busybox sleep 300 >/dev/null
		dockercli rm -f "$C-$i" >/dev/null
	done
	[ "$(count_veths)" = "$veths" ]
	[ "$(count_rules)" = "$rules" ]
	[ "$(count_ips)" = 0 ]
	[ "$(count_netns)" = 0 ]
	[ -z "$(ls "$ESTATE/network/cni")" ]
}

@test "network: nothing leaks after a kill -9 of berthd with running containers" {
	local veths rules
	veths=$(count_veths)
	rules=$(count_rules)
	dockercli run -d --name "$C-a" -p 127.0.0.1:18432:80 busybox sh -c 'echo alive >/tmp/index.html; httpd -f -p 80 -h /tmp' >/dev/null
	dockercli run -d --name "$C-b" busybox sleep 300 >/dev/null
	retry 50 0.2 curl -sf -m 2 http://127.0.0.1:18432/index.html
	local pid
	pid=$(dockercli inspect --format '{{.State.Pid}}' "$C-b")
	[ "$pid" -gt 0 ]
	kill_berthd KILL
	# While berthd is down: the web server still serves; the other one dies.
	run curl -sf -m 2 http://127.0.0.1:18432/index.html
	assert_output_contains alive
	kill -KILL "$pid"
	start_berthd
	# The exit found at the start undoes its network.
	retry 50 0.2 test "$(dockercli inspect --format '{{.State.Status}}' "$C-b")" = exited
	retry 50 0.2 test "$(count_netns)" = 1
	run curl -sf -m 2 http://127.0.0.1:18432/index.html
	assert_output_contains alive
	dockercli rm -f "$C-a" "$C-b" >/dev/null
	[ "$(count_veths)" = "$veths" ]
	[ "$(count_rules)" = "$rules" ]
	[ "$(count_ips)" = 0 ]
	[ "$(count_netns)" = 0 ]
}

@test "network: --bridge none: no default network; --bridge and daemon.json's bridge together are refused" {
	kill_berthd TERM
	BERTHD_BRIDGE=none
	start_berthd
	run dockercli run --rm busybox ls /sys/class/net
	assert_status 0
	[ "$output" = lo ]
	run api -X POST -H 'Content-Type: application/json' -d '{"Image": "busybox", "HostConfig": {"NetworkMode": "bridge"}}' /containers/create
	[ "$(api_status)" = 404 ]
	api_body | jq -r .message | grep -q "network bridge not found"
	kill_berthd TERM
	printf '{"bridge": "%s"}\n' "$BR" >"$TMP/daemon.json"
	run timeout 10 "$BERTHD" --root "$EROOT" --state "$ESTATE" -H "unix://$ESOCK" \
		--supervisor "$SOCK" --config "$TMP/daemon.json" --bridge "$BR"
	assert_failure
	assert_output_contains "specified both as a flag and in the configuration file: bridge"
}
