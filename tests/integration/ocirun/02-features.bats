#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# `features`: what the runtime supports, as JSON (runtime-spec features.md). Keys and
# types are checked, not values, except for what the tests elsewhere rely on.

load ../helpers

setup() {
	berth_setup
	run ocirun features
	assert_status 0
	FEATURES=$output
}

# has TYPE PATH: the features document has PATH (a jq path) of TYPE.
has() {
	[ "$(jq -r "$2 | type" <<<"$FEATURES")" = "$1" ] || fail "$2 is not a $1: $(jq -c "$2" <<<"$FEATURES")"
}

@test "features: valid JSON object" {
	jq -e 'type == "object"' <<<"$FEATURES" >/dev/null
}

@test "features: ociVersionMin and ociVersionMax" {
	has string .ociVersionMin
	has string .ociVersionMax
	[[ "$(jq -r .ociVersionMin <<<"$FEATURES")" =~ ^1\.[0-9]+\.[0-9]+ ]]
	[[ "$(jq -r .ociVersionMax <<<"$FEATURES")" =~ ^1\.[0-9]+\.[0-9]+ ]]
}

@test "features: hooks" {
	has array .hooks
	local h
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e --arg h "$h" '.hooks | index($h)' <<<"$FEATURES" >/dev/null || fail "no hook $h"
	done
}

@test "features: mountOptions" {
	has array .mountOptions
	local o
	for o in bind rbind ro rw nosuid nodev noexec private rprivate; do
		jq -e --arg o "$o" '.mountOptions | index($o)' <<<"$FEATURES" >/dev/null || fail "no option $o"
	done
}

@test "features: linux.namespaces" {
	has array .linux.namespaces
	local ns
	for ns in cgroup ipc mount network pid user uts; do
		jq -e --arg n "$ns" '.linux.namespaces | index($n)' <<<"$FEATURES" >/dev/null || fail "no $ns"
	done
}

@test "features: linux.capabilities" {
	has array .linux.capabilities
	jq -e '.linux.capabilities | all(startswith("CAP_"))' <<<"$FEATURES" >/dev/null
	jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")' <<<"$FEATURES" >/dev/null
}

@test "features: linux.cgroup" {
	has object .linux.cgroup
	local k
	for k in v1 v2 systemd systemdUser; do
		has boolean ".linux.cgroup.$k"
	done
}

@test "features: linux.seccomp" {
	has object .linux.seccomp
	has boolean .linux.seccomp.enabled
	if [ "$(jq -r .linux.seccomp.enabled <<<"$FEATURES")" = true ]; then
		has array .linux.seccomp.actions
		has array .linux.seccomp.operators
		has array .linux.seccomp.archs
		jq -e '.linux.seccomp.actions | index("SCMP_ACT_ERRNO")' <<<"$FEATURES" >/dev/null
	fi
}

@test "features: linux.apparmor and linux.selinux" {
	has boolean .linux.apparmor.enabled
	has boolean .linux.selinux.enabled
}

@test "features: annotations is an object of strings" {
	has object .annotations
	jq -e '.annotations | to_entries | all(.value | type == "string")' <<<"$FEATURES" >/dev/null
}

@test "features: extra arguments are refused" {
	run ocirun features extra
	assert_failure
}
