#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Container networking through the CNI plugins (/usr/lib/cni), with the docker CLI: the
# default bridge network (an address, NAT out, loopback), a web server (busybox httpd) reached
# through a published port on 127.0.0.1, user networks (create, ls, inspect, rm, prune; two
# containers talking by name and alias; connect and disconnect of a running container; a static
# --ip), bad input refused with nothing left behind, and no veth, iptables rule, host-local
# address or namespace left after create/start/remove cycles and after a kill -9 of berthd.
#
# Each test's berthd has a bridge and a subnet of its own (daemon.json bridge and bip), so the
# tests do not meet another engine's default network.

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
	printf '{"bip": "10.231.%d.1/24", "bridge": "%s"}\n' $((BATS_TEST_NUMBER % 250)) "$BR" >"$TMP/daemon.json"
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
	run dockercli run --rm busybox sh -c 'ip -4 -o addr show eth0; ip -4 -o addr show lo; ip route'
	assert_status 0
	assert_output_contains "10.231.$((BATS_TEST_NUMBER % 250))."
	assert_output_contains "127.0.0.1/8"
	assert_output_contains "default via 10.231.$((BATS_TEST_NUMBER % 250)).1"
	# Nothing left once it is gone.
	retry 50 0.1 test "$(count_netns)" = 0
	[ "$(count_ips)" = 0 ]
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
