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
	engine_setup_network bt 231
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	load_busybox
}

teardown() {
	# Before engine_teardown stops berthd: the containers' networks go with them.
	net_cleanup
	engine_teardown
}


# Host-local address files and network namespaces of the test's berthd.
count_ips() { find "$EROOT/network/ipam" -type f ! -name 'last_reserved_ip*' ! -name lock 2>/dev/null | wc -l; }
count_netns() { find "$ESTATE/netns" -type f 2>/dev/null | wc -l; }

# The leak checks below count only what the test's own containers could leave (other engines
# on the host, other tests among them, make and remove CNI rules and veths meanwhile): each
# container made is noted (note_ctr NAME: its id in $TMP/ids, and while it runs the names of
# the per-container iptables chains its rules jump to in $TMP/chains), and `leftovers` prints
#   veths=   interfaces enslaved to the test's bridges ($BR and the user networks' br-*)
#   rules=   iptables lines naming a noted id or an address of the test's subnets
#   chains=  noted chains still declared
#   ips=     host-local address files under berthd's root
#   netns=   files and mounts under berthd's <state>/netns
#   cache=   cached CNI results under <state>/network/cni
#   cni=     files naming a noted id under /var/lib/cni (the plugins' default places)
#   run=     entries of /run/netns (berthd makes none there)
# all of which must read 0, and `run=` what it read at the start.
note_ctr() {
	local id ip
	read -r id ip < <(dockercli inspect --format '{{.Id}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1")
	[ -n "$id" ] && [ -n "$ip" ]
	echo "$id" >>"$TMP/ids"
	# The chains a running container's rules jump to, but not the shared ones that stay.
	iptables-save | grep -F -e "$id" -e "$ip/32" | grep -oE -- '-j CNI-[A-Za-z0-9-]+' | cut -c4- |
		grep -vE '^CNI-(FORWARD|ADMIN|HOSTPORT-)' >>"$TMP/chains" || true
}
leftovers() {
	local bridges=$BR b veths=0 rules chains ips netns cache cni run
	for b in $(dockercli network ls -q --filter type=custom 2>/dev/null); do
		bridges+=" br-${b:0:12}"
	done
	for b in $bridges; do
		veths=$((veths + $(ip -o link show master "$b" 2>/dev/null | wc -l)))
	done
	touch "$TMP/ids" "$TMP/chains"
	rules=$(iptables-save | grep -cF -e "10.231.$N." -e "10.236.$N." -f "$TMP/ids" || true)
	sed 's/.*/:& /' "$TMP/chains" | sort -u >"$TMP/chain-decls"
	# (grep -c prints nothing at all for an empty list of patterns)
	chains=0
	[ ! -s "$TMP/chain-decls" ] || chains=$(iptables-save | grep -cF -f "$TMP/chain-decls" || true)
	ips=$(count_ips)
	netns=$(($(count_netns) + $(grep -c " $ESTATE/netns/" /proc/self/mountinfo || true)))
	cache=$(find "$ESTATE/network/cni" -mindepth 1 2>/dev/null | wc -l)
	cni=0
	[ ! -s "$TMP/ids" ] || cni=$( (grep -rlF -f "$TMP/ids" /var/lib/cni 2>/dev/null || true) | wc -l)
	run=$(find /run/netns -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo "veths=$veths rules=$rules chains=$chains ips=$ips netns=$netns cache=$cache cni=$cni run=$run"
}

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

@test "network: nothing leaks after 100 create/start/remove cycles on the default bridge and a user network" {
	local i start
	start=$(leftovers)
	[[ "$start" == "veths=0 rules=0 chains=0 ips=0 netns=0 cache=0 cni=0 run="* ]]
	dockercli network create --subnet "10.236.$N.0/24" "$ID-net" >/dev/null
	# Odd cycles on the default bridge, even ones on the user network, with a published port;
	# every tenth also connected to the other network while it runs.
	SECONDS=0
	for i in $(seq 100); do
		if [ $((i % 2)) = 1 ]; then
			dockercli run -d --name "$C-$i" -p 127.0.0.1::80 busybox sleep 300 >/dev/null
			[ $((i % 10)) != 1 ] || dockercli network connect "$ID-net" "$C-$i"
		else
			dockercli run -d --name "$C-$i" --network "$ID-net" -p 127.0.0.1::80 busybox sleep 300 >/dev/null
			[ $((i % 10)) != 0 ] || dockercli network connect bridge "$C-$i"
		fi
		note_ctr "$C-$i"
		dockercli rm -f "$C-$i" >/dev/null
	done
	# Slow (minutes): most of a cycle is the CNI plugins, as each ADD and DEL runs bridge,
	# host-local, portmap and firewall, and these call iptables under its lock.
	echo "# 100 cycles: ${SECONDS}s (load average $(cut -d' ' -f1 /proc/loadavg))" >&3
	[ "$(wc -l <"$TMP/ids")" = 100 ]
	# Each container had its own chains (masquerade, port DNAT): they were seen, and are gone.
	[ "$(sort -u "$TMP/chains" | wc -l)" -ge 100 ]
	run leftovers
	[ "$output" = "$start" ]
}

@test "network: nothing leaks after a kill -9 of berthd with running containers" {
	local start
	start=$(leftovers)
	[[ "$start" == "veths=0 rules=0 chains=0 ips=0 netns=0 cache=0 cni=0 run="* ]]
	dockercli network create --subnet "10.236.$N.0/24" "$ID-net" >/dev/null
	dockercli run -d --name "$C-a" -p 127.0.0.1:18432:80 busybox sh -c 'echo alive >/tmp/index.html; httpd -f -p 80 -h /tmp' >/dev/null
	dockercli run -d --name "$C-b" busybox sleep 300 >/dev/null
	dockercli run -d --name "$C-u" --network "$ID-net" -p 127.0.0.1::80 busybox sleep 300 >/dev/null
	dockercli network connect bridge "$C-u"
	dockercli run -d --name "$C-v" --network "$ID-net" busybox sleep 300 >/dev/null
	local c
	for c in a b u v; do note_ctr "$C-$c"; done
	# The counts see them while they run (what makes the final comparison mean something).
	run leftovers
	[[ "$output" =~ ^veths=[1-9][0-9]*\ rules=[1-9][0-9]*\ chains=[1-9][0-9]*\ ips=[1-9][0-9]*\ netns=[1-9][0-9]*\ cache=[1-9] ]]
	retry 50 0.2 curl -sf -m 2 http://127.0.0.1:18432/index.html
	local pid_b pid_v
	pid_b=$(dockercli inspect --format '{{.State.Pid}}' "$C-b")
	pid_v=$(dockercli inspect --format '{{.State.Pid}}' "$C-v")
	[ "$pid_b" -gt 0 ] && [ "$pid_v" -gt 0 ]
	kill_berthd KILL
	# While berthd is down: the web server still serves; two others die.
	run curl -sf -m 2 http://127.0.0.1:18432/index.html
	assert_output_contains alive
	kill -KILL "$pid_b" "$pid_v"
	start_berthd
	# The exits found at the start undo their networks.
	retry 50 0.2 test "$(dockercli inspect --format '{{.State.Status}}' "$C-b")" = exited
	retry 50 0.2 test "$(dockercli inspect --format '{{.State.Status}}' "$C-v")" = exited
	retry 50 0.2 test "$(count_netns)" = 2
	run curl -sf -m 2 http://127.0.0.1:18432/index.html
	assert_output_contains alive
	# The survivors can still be disconnected, and removed.
	run dockercli network disconnect bridge "$C-u"
	assert_status 0
	dockercli rm -f "$C-a" "$C-b" "$C-u" "$C-v" >/dev/null
	run leftovers
	[ "$output" = "$start" ]
	# Twice: once more with the containers still running at the second kill -9.
	dockercli run -d --name "$C-w" --network "$ID-net" busybox sleep 300 >/dev/null
	note_ctr "$C-w"
	kill_berthd KILL
	start_berthd
	dockercli rm -f "$C-w" >/dev/null
	run leftovers
	[ "$output" = "$start" ]
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
