#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# daemon.json: the keys berthd honours show in /info (and docker info), hosts replaces -H,
# and a bad key or value stops berthd at start with a message naming it.

load ../helpers
load ../supervisor/supervisor-helpers
load ../supervisor/registry-helpers
load engine-helpers

setup() {
	engine_setup
	start_supervisor
}

teardown() {
	engine_teardown
}

# berthd with $TMP/daemon.json, expected to refuse it: prints its output.
refused() {
	run timeout 10 "$BERTHD" --root "$EROOT" --state "$ESTATE" -H "unix://$ESOCK" \
		--supervisor "$SOCK" --config "$TMP/daemon.json"
	assert_failure
	[ ! -S "$ESOCK" ]
}

@test "daemon.json: defaults in /info without a file" {
	start_berthd
	run api /info
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .LoggingDriver)" = json-file ]
	[ "$(api_body | jq -r .LiveRestoreEnabled)" = false ]
	[ "$(api_body | jq -c '.RegistryConfig.InsecureRegistryCIDRs')" = '["::1/128","127.0.0.0/8"]' ]
	[ "$(api_body | jq -r '.RegistryConfig.IndexConfigs["docker.io"].Secure')" = true ]
	[ "$(api_body | jq -r '.RegistryConfig.IndexConfigs["docker.io"].Official')" = true ]
}

@test "daemon.json: log-driver, log-opts, default-ulimits, insecure-registries, live-restore" {
	cat >"$TMP/daemon.json" <<-EOF
		{
		  "log-driver": "none",
		  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 2048, "Soft": 1024}},
		  "insecure-registries": ["myreg.example:5000", "10.20.0.0/16", "http://plain.example"],
		  "live-restore": true
		}
	EOF
	start_berthd
	run api /info
	[ "$(api_status)" = 200 ]
	[ "$(api_body | jq -r .LoggingDriver)" = none ]
	[ "$(api_body | jq -r .LiveRestoreEnabled)" = true ]
	api_body | jq -r '.RegistryConfig.InsecureRegistryCIDRs[]' | grep -qx 10.20.0.0/16
	api_body | jq -r '.RegistryConfig.InsecureRegistryCIDRs[]' | grep -qx 127.0.0.0/8
	[ "$(api_body | jq -r '.RegistryConfig.IndexConfigs["myreg.example:5000"].Secure')" = false ]
	[ "$(api_body | jq -r '.RegistryConfig.IndexConfigs["plain.example"].Name')" = plain.example ]
	grep -q "should not contain 'http://'" "$TMP/berthd.log"

	run dockercli info
	assert_status 0
	assert_output_contains "Logging Driver: none"
	assert_output_contains "Live Restore Enabled: true"
	assert_output_contains "myreg.example:5000"
	assert_output_contains "10.20.0.0/16"
	kill_berthd

	echo '{"log-opts": {"max-size": "10m", "max-file": "3"}}' >"$TMP/daemon.json"
	start_berthd
	run api /info
	[ "$(api_body | jq -r .LoggingDriver)" = json-file ]
}

@test "daemon.json: bad keys and values stop berthd, naming them" {
	echo '{"debug": true, "colour": "red"}' >"$TMP/daemon.json"
	refused
	assert_output_contains "don't match any configuration option: colour"

	echo '{"log-driver": "syslog"}' >"$TMP/daemon.json"
	refused
	assert_output_contains "log-driver"
	assert_output_contains "syslog"

	echo '{"log-opts": {"max-size": "ten megs"}}' >"$TMP/daemon.json"
	refused
	assert_output_contains "max-size"
	assert_output_contains "ten megs"

	echo '{"log-opts": {"compress": "true"}}' >"$TMP/daemon.json"
	refused
	assert_output_contains "unknown log opt 'compress'"

	echo '{"default-ulimits": {"nofile": {"Hard": 10, "Soft": 20}}}' >"$TMP/daemon.json"
	refused
	assert_output_contains "default-ulimits"
	assert_output_contains "soft limit must be less than or equal to hard limit"

	echo '{"default-ulimits": {"openfiles": {"Hard": 10, "Soft": 10}}}' >"$TMP/daemon.json"
	refused
	assert_output_contains "invalid ulimit type: openfiles"

	echo '{"insecure-registries": ["ftp://reg"]}' >"$TMP/daemon.json"
	refused
	assert_output_contains "insecure-registries"

	echo '{"live-restore": "yes"}' >"$TMP/daemon.json"
	refused
	assert_output_contains "live-restore"

	echo '{"log-driver": "none"' >"$TMP/daemon.json"
	refused
	assert_output_contains "daemon.json"
}

@test "daemon.json: hosts is the socket when -H is not given, and both are refused" {
	echo "{\"hosts\": [\"unix://$TMP/from-config.sock\"]}" >"$TMP/daemon.json"
	"$BERTHD" --root "$EROOT" --state "$ESTATE" --supervisor "$SOCK" \
		--config "$TMP/daemon.json" 2>>"$TMP/berthd.log" 3>&- &
	BERTHD_PID=$!
	retry 100 0.1 test -S "$TMP/from-config.sock"
	run curl -sS --unix-socket "$TMP/from-config.sock" http://berthd/_ping
	assert_status 0
	[ "$output" = OK ]
	kill_berthd

	refused
	assert_output_contains "specified both as a flag and in the configuration file: hosts"

	echo '{"hosts": ["tcp://0.0.0.0:2375"]}' >"$TMP/daemon.json"
	refused
	assert_output_contains "hosts"
}

@test "daemon.json: insecure-registries: plain http to a registry outside the loopback" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	local ip
	ip=$(hostname -I | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
	[ -n "$ip" ] || skip "this host has no IPv4 address outside the loopback"
	REGISTRY_ADDR=$ip start_registry reg
	start_berthd
	load_busybox
	run dockercli tag busybox:latest "$REG/bb:1"
	assert_status 0
	# Not named insecure: berthd asks for https, which a plain http registry cannot answer.
	run dockercli push "$REG/bb:1"
	assert_failure
	[[ "$output" != *"plain http to \`$REG\` refused"* ]]
	kill_berthd

	# Named: berthd asks for http; the supervisor, which speaks to registries and keeps its
	# own list (--insecure-registry), still refuses while it does not name the host.
	echo "{\"insecure-registries\": [\"$REG\"]}" >"$TMP/daemon.json"
	start_berthd
	run dockercli push "$REG/bb:1"
	assert_failure
	assert_output_contains "plain http to \`$REG\` refused"
	kill_berthd

	# Both name it (berthd by a CIDR): pushes and pulls go over http.
	kill_supervisor
	printf '#!/bin/sh\nexec "%s" --insecure-registry "%s" "$@"\n' "$SUPERVISOR" "$ip" >"$TMP/sup-insecure"
	chmod +x "$TMP/sup-insecure"
	start_supervisor "$TMP/sup-insecure"
	echo "{\"insecure-registries\": [\"$ip/32\"]}" >"$TMP/daemon.json"
	start_berthd
	run dockercli push "$REG/bb:1"
	assert_status 0
	run dockercli rmi "$REG/bb:1"
	assert_status 0
	run dockercli pull "$REG/bb:1"
	assert_status 0
	grep -q '"PUT /v2/bb/manifests/1' "$TMP/reg/registry.log"
}
