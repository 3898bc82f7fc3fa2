#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Bad security settings: unknown capability names, a seccomp rule with a bad action or a bad
# argument operator, a uid outside the user namespace's maps, a hook path that does not
# exist, exec into a stopped container. Each is a clear error naming the problem, a non-zero
# exit, and leaves nothing: no state dir under $ROOT, not listed, no cgroup, no mount, no
# process whose cgroup or command line names the container (a half-set-up init, or a
# process that joined some of its namespaces), and the teardown leak checks pass.

load ../helpers
load security-helpers

ARCHES='["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]'

# refused [WORD...]: `create` and `run` of $BUNDLE both fail, naming each WORD, and leave
# nothing behind. The process's command line carries the id, so that a process that got
# as far as exec'ing it would be found.
refused() {
	config_args sh -c ": $ID-marker; sleep 100"
	create_container
	assert_failure
	assert_output_contains "$@"
	assert_gone
	run_file run_fg
	assert_failure
	assert_output_contains "$@"
	assert_gone
	run_detached
	assert_failure
	assert_gone
}

# seccomp_with JQ-RULE: a profile allowing everything but one rule, JQ-RULE.
seccomp_with() {
	config_set --argjson a "$ARCHES" ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\",
		architectures: \$a, syscalls: [$1]}"
}

# running_container: $ID running `sleep 100`; sets INIT.
running_container() {
	make_bundle
	config_args sleep 100
	run_detached
	assert_status 0
	INIT=$(container_pid)
}

# ocirun-only: runc warns about unknown capabilities and ignores them.
@test "bad input: an unknown capability in the bounding set" {
	skip_if_runc "warns about unknown capabilities and ignores them"
	make_bundle
	config_set '.process.capabilities.bounding += ["CAP_FOO"]'
	refused CAP_FOO bounding
}

@test "bad input: an unknown capability in the ambient set" {
	skip_if_runc "warns about unknown capabilities and ignores them"
	make_bundle
	config_set '.process.capabilities.ambient = ["CAP_NOT_A_CAP"]'
	refused CAP_NOT_A_CAP ambient
}

@test "bad input: a lower-case or unprefixed capability name is unknown too" {
	skip_if_runc "warns about unknown capabilities and ignores them"
	make_bundle
	config_set '.process.capabilities.effective += ["chown"]'
	refused chown
	make_bundle "$TMP/bundle2"
	config_set '.process.capabilities.permitted += ["KILL"]'
	refused KILL
}

@test "bad input: exec --cap with an unknown capability fails, naming it; no process" {
	skip_if_runc "warns about unknown capabilities and ignores them"
	running_container
	run_file ocirun exec --cap CAP_FOO "$ID" sh -c ": $ID-exec-marker; sleep 100"
	assert_failure
	assert_output_contains CAP_FOO
	[ -z "$(pids_matching "$ID-exec-marker")" ] || fail "stray: $(pids_matching "$ID-exec-marker")"
	[ "$(container_status)" = running ]
}

@test "bad input: exec --process with an unknown capability fails, naming it; no process" {
	skip_if_runc "warns about unknown capabilities and ignores them"
	running_container
	jq -n --arg m "$ID-exec-marker" '{args: ["sh", "-c", (": " + $m + "; sleep 100")], cwd: "/",
		env: ["PATH=/bin"], capabilities: {bounding: ["CAP_BAR"]}}' >"$TMP/process.json"
	run_file ocirun exec --process "$TMP/process.json" "$ID"
	assert_failure
	assert_output_contains CAP_BAR
	[ -z "$(pids_matching "$ID-exec-marker")" ] || fail "stray: $(pids_matching "$ID-exec-marker")"
	[ "$(container_status)" = running ]
}

@test "bad input: a seccomp rule with a bad action" {
	make_bundle
	seccomp_with '{names: ["mkdir"], action: "SCMP_ACT_MAYBE"}'
	refused SCMP_ACT_MAYBE
}

@test "bad input: a seccomp rule with a bad argument operator" {
	make_bundle
	seccomp_with '{names: ["mkdir"], action: "SCMP_ACT_ERRNO",
		args: [{index: 1, value: 448, op: "SCMP_CMP_ROUGHLY"}]}'
	refused SCMP_CMP_ROUGHLY
}

@test "bad input: a uid outside the user namespace's maps" {
	make_bundle
	config_set '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1000}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1000}]
		| .process.user = {uid: 4242, gid: 0}'
	# runc: "cannot set uid to unmapped user in user namespace", without the uid.
	if is_runc; then
		refused "unmapped"
	else
		refused 4242
		# Not only the number: why it is refused.
		assert_output_contains_any "map" "user namespace"
	fi
}

@test "bad input: a prestart hook that does not exist" {
	make_bundle
	config_set --arg p "$TMP/no-such-prestart-hook" '.hooks.prestart = [{path: $p}]'
	refused no-such-prestart-hook
}

@test "bad input: a createContainer hook that does not exist (it runs in the container's namespaces)" {
	make_bundle
	config_set --arg p "$TMP/no-such-cc-hook" '.hooks.createContainer = [{path: $p}]'
	refused no-such-cc-hook
}

@test "bad input: a relative hook path" {
	skip_if_runc "runs it from its working directory"
	make_bundle
	config_set '.hooks.prestart = [{path: "relative/hook"}]'
	# The field and what is wrong with it.
	refused prestart absolute
}

@test "bad input: exec into a stopped container fails, naming it; no process, nothing left" {
	make_bundle
	config_args true
	create_container
	assert_status 0
	ocirun start "$ID"
	retry 50 0.1 status_is stopped
	run_file ocirun exec "$ID" sh -c ": $ID-exec-marker; sleep 100"
	assert_failure
	is_runc || assert_output_contains "$ID"
	assert_output_contains_any stopped "not running"
	[ -z "$(pids_matching "$ID-exec-marker")" ] || fail "stray: $(pids_matching "$ID-exec-marker")"
	# exec did not make it look alive, nor remove it.
	[ "$(container_status)" = stopped ]
	ocirun delete "$ID"
	assert_gone
}

@test "bad input: exec --detach into a stopped container fails too" {
	make_bundle
	config_args true
	create_container
	assert_status 0
	ocirun start "$ID"
	retry 50 0.1 status_is stopped
	run_file ocirun exec --detach --pid-file "$TMP/exec.pid" "$ID" sh -c ": $ID-exec-marker; sleep 100"
	assert_failure
	assert_output_contains_any stopped "not running"
	[ ! -s "$TMP/exec.pid" ] || fail "pid file written: $(cat "$TMP/exec.pid")"
	[ -z "$(pids_matching "$ID-exec-marker")" ]
	ocirun delete "$ID"
	assert_gone
}

@test "bad input: exec of a missing binary fails after joining the namespaces; nothing half-joined remains" {
	running_container
	# The runtime's helper and child carry exec's command line, marker included, until the
	# child execs: none may survive the failure.
	run_file ocirun exec "$ID" no-such-binary-anywhere "$ID-exec-marker"
	assert_failure
	assert_output_contains no-such-binary-anywhere
	retry 20 0.1 no_pids_matching "$ID-exec-marker"
	# Only the init remains in the container.
	local p
	for p in $(pids_matching "$ID"); do
		[ "$p" = "$INIT" ] || fail "process $p remains: $(tr '\0' ' ' <"/proc/$p/cmdline")"
	done
	[ "$(container_status)" = running ]
}
