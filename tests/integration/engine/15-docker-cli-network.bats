#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The real docker CLI against berthd with its default bridge network, as a user drives
# networking: a web server (busybox httpd) reached from the host through a port published on
# 127.0.0.1, docker port, two containers on a `docker network create` network talking by name,
# docker network connect and disconnect of a running container (it gains and loses the
# interface, its name resolves and then stops resolving), and the NetworkSettings of
# docker inspect. 03-docker-cli-containers.bats keeps berthd's --bridge none (its
# expectations were checked against dockerd --bridge=none); this file gives each test's
# berthd a bridge and a subnet of its own (--bridge and daemon.json's bip), apart from
# 14-network.bats' ones, so that the two files can run side by side.

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

setup() {
	engine_setup_network bc 241
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	load_busybox
}

teardown() {
	# Before engine_teardown stops berthd: the containers' networks go with them.
	net_cleanup
	engine_teardown
}


inspect_f() {
	dockercli inspect --format "$1" "$2"
}

# resolves NAME HOST: in container NAME, HOST resolves to an address (through /etc/hosts:
# busybox's nslookup asks DNS only, ping reads the hosts file first).
resolves() {
	dockercli exec "$1" ping -c1 -W2 "$2" >/dev/null 2>&1
}

@test "docker run -p 127.0.0.1:PORT:80: httpd in the container answers curl on the host; docker port" {
	local port=18451
	run dockercli run -d --name "$C" -p "127.0.0.1:$port:80" busybox \
		sh -c 'mkdir -p /www && echo served-by-berth >/www/index.html && exec httpd -f -p 80 -h /www'
	assert_status 0
	run retry 50 0.2 curl -sf -m 2 "http://127.0.0.1:$port/"
	assert_status 0
	[ "$output" = served-by-berth ]
	run dockercli port "$C"
	assert_status 0
	[ "$output" = "80/tcp -> 127.0.0.1:$port" ]
	run dockercli port "$C" 80
	assert_status 0
	[ "$output" = "127.0.0.1:$port" ]
	run dockercli port "$C" 81
	[ "$status" -ne 0 ]
	assert_output_contains "No public port '81" "published for $C"
	# Stopped, the port goes; started again, the mapping comes back.
	local since
	since=$(date +%s)
	dockercli stop -t 1 "$C" >/dev/null
	# docker's order: the container dies, then leaves its network.
	run dockercli events --since "$since" --until "$(($(date +%s) + 1))" --format '{{.Type}} {{.Action}}'
	[ "$(echo "$output" | grep -E '^(container die|network disconnect)$' | xargs)" = "container die network disconnect" ]
	run curl -sf -m 2 "http://127.0.0.1:$port/"
	[ "$status" -ne 0 ]
	run dockercli port "$C"
	assert_status 0
	[ -z "$output" ]
	dockercli start "$C" >/dev/null
	run retry 50 0.2 curl -sf -m 2 "http://127.0.0.1:$port/"
	assert_status 0
	[ "$output" = served-by-berth ]
	dockercli rm -f "$C" >/dev/null
	run curl -sf -m 2 "http://127.0.0.1:$port/"
	[ "$status" -ne 0 ]
}

@test "docker network create: two containers on it talk by name" {
	run dockercli network create --subnet "10.242.$N.0/24" "$ID-net"
	assert_status 0
	run dockercli run -d --name "$C-web" --network "$ID-net" busybox \
		sh -c 'mkdir -p /www && echo by-name >/www/index.html && exec httpd -f -p 80 -h /www'
	assert_status 0
	run dockercli run --rm --name "$C-client" --network "$ID-net" busybox \
		sh -c "ping -c1 -W2 $C-web && wget -qO- http://$C-web/"
	assert_status 0
	assert_output_contains "1 packets received"
	assert_output_contains by-name
	# And back: the server resolves a client by its name while the client runs.
	dockercli run -d --name "$C-client" --network "$ID-net" busybox sleep 300 >/dev/null
	run dockercli exec "$C-web" ping -c1 -W2 "$C-client"
	assert_status 0
	assert_output_contains "10.242.$N."
	# On the default bridge, names do not resolve (as dockerd).
	run dockercli run --rm busybox ping -c1 -W2 "$C-web"
	[ "$status" -ne 0 ]
}

@test "docker network connect and disconnect: the interface and the name come and go" {
	dockercli network create --subnet "10.242.$N.0/24" "$ID-net" >/dev/null
	dockercli run -d --name "$C-a" --network "$ID-net" busybox sleep 300 >/dev/null
	dockercli run -d --name "$C-b" busybox sleep 300 >/dev/null
	run dockercli exec "$C-b" ls /sys/class/net
	[ "$(echo $output)" = "eth0 lo" ]
	! resolves "$C-a" "$C-b"
	! resolves "$C-b" "$C-a"

	run dockercli network connect "$ID-net" "$C-b"
	assert_status 0
	run dockercli exec "$C-b" ls /sys/class/net
	[ "$(echo $output)" = "eth0 eth1 lo" ]
	run dockercli exec "$C-b" ip -4 -o addr show eth1
	assert_output_contains "10.242.$N."
	resolves "$C-a" "$C-b"
	resolves "$C-b" "$C-a"
	run dockercli exec "$C-b" ping -c1 -W2 "$C-a"
	assert_status 0
	run inspect_f "{{range \$k, \$v := .NetworkSettings.Networks}}{{\$k}} {{end}}" "$C-b"
	[ "$(echo $output | tr ' ' '\n' | sort | xargs)" = "$(printf '%s\n' bridge "$ID-net" | sort | xargs)" ]
	run dockercli network inspect --format '{{range .Containers}}{{.Name}} {{end}}' "$ID-net"
	assert_output_contains "$C-a" "$C-b"
	# Connected twice: refused, as dockerd.
	run dockercli network connect "$ID-net" "$C-b"
	[ "$status" -ne 0 ]

	run dockercli network disconnect "$ID-net" "$C-b"
	assert_status 0
	run dockercli exec "$C-b" ls /sys/class/net
	[ "$(echo $output)" = "eth0 lo" ]
	! resolves "$C-a" "$C-b"
	! resolves "$C-b" "$C-a"
	run inspect_f "{{range \$k, \$v := .NetworkSettings.Networks}}{{\$k}} {{end}}" "$C-b"
	[ "$output" = "bridge " ]
	run dockercli network inspect --format '{{range .Containers}}{{.Name}} {{end}}' "$ID-net"
	[ "$output" = "$C-a " ]
	# Its default network was never touched.
	run dockercli exec "$C-b" ping -c1 -W2 "10.241.$N.1"
	assert_status 0
}

@test "docker inspect: NetworkSettings on the default bridge, a user network and none" {
	dockercli run -d --name "$C" -p 127.0.0.1:18452:80 busybox sleep 300 >/dev/null
	local ip mac
	ip=$(inspect_f '{{.NetworkSettings.IPAddress}}' "$C")
	[[ "$ip" == 10.241.$N.* ]]
	run inspect_f '{{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}' "$C"
	[ "$output" = "10.241.$N.1 24" ]
	run inspect_f '{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.Gateway}}' "$C"
	[ "$output" = "$ip 10.241.$N.1" ]
	# The MAC and the address are those of eth0 inside.
	mac=$(inspect_f '{{.NetworkSettings.MacAddress}}' "$C")
	[[ "$mac" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]]
	run dockercli exec "$C" cat /sys/class/net/eth0/address
	[ "$output" = "$mac" ]
	run dockercli exec "$C" ip -4 -o addr show eth0
	assert_output_contains "inet $ip/24"
	run inspect_f '{{.NetworkSettings.Networks.bridge.MacAddress}}' "$C"
	[ "$output" = "$mac" ]
	run inspect_f '{{.NetworkSettings.Networks.bridge.NetworkID}}' "$C"
	[ "$output" = "$(dockercli network inspect --format '{{.Id}}' bridge)" ]
	run inspect_f '{{json .NetworkSettings.Ports}}' "$C"
	[ "$output" = '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18452"}]}' ]
	run inspect_f '{{.NetworkSettings.SandboxKey}}' "$C"
	[ -n "$output" ]
	run inspect_f '{{.HostConfig.NetworkMode}}' "$C"
	[ "$output" = default ]

	# A user network: the top-level fields are the default bridge's, so empty.
	dockercli network create --subnet "10.242.$N.0/24" "$ID-net" >/dev/null
	dockercli run -d --name "$C-u" --network "$ID-net" --network-alias www busybox sleep 300 >/dev/null
	run inspect_f '{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.Gateway}}' "$C-u"
	[ "$output" = "|" ]
	run inspect_f "{{with index .NetworkSettings.Networks \"$ID-net\"}}{{.Gateway}} {{.IPPrefixLen}}{{end}}" "$C-u"
	[ "$output" = "10.242.$N.1 24" ]
	run inspect_f "{{(index .NetworkSettings.Networks \"$ID-net\").IPAddress}}" "$C-u"
	[[ "$output" == 10.242.$N.* ]]
	run inspect_f "{{(index .NetworkSettings.Networks \"$ID-net\").Aliases}}" "$C-u"
	assert_output_contains www
	run inspect_f '{{.HostConfig.NetworkMode}}' "$C-u"
	[ "$output" = "$ID-net" ]

	# none: no address, a "none" entry.
	dockercli run -d --name "$C-n" --network none busybox sleep 300 >/dev/null
	run inspect_f '{{.NetworkSettings.IPAddress}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}' "$C-n"
	[ "$output" = "|none=;" ]

	# Stopped: no address any more (released before the stop returns), the network still
	# listed.
	dockercli stop -t 1 "$C" >/dev/null
	run inspect_f '{{.NetworkSettings.IPAddress}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}' "$C"
	[ "$output" = "|bridge=;" ]
}

@test "docker restart, and stop then start at once: the container keeps its network" {
	dockercli run -d --name "$C" -p 127.0.0.1:18453:80 busybox \
		sh -c 'mkdir -p /www && echo again >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
	local i
	for i in 1 2 3 4 5; do
		if [ $((i % 2)) = 1 ]; then
			dockercli restart -t 1 "$C" >/dev/null
		else
			dockercli stop -t 1 "$C" >/dev/null
			dockercli start "$C" >/dev/null
		fi
		run dockercli exec "$C" ip -4 -o addr show eth0
		assert_status 0
		assert_output_contains "10.241.$N."
		run retry 50 0.2 curl -sf -m 2 http://127.0.0.1:18453/
		assert_status 0
		[ "$output" = again ]
		[ -n "$(inspect_f '{{.NetworkSettings.IPAddress}}' "$C")" ]
	done
}
