#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# linux.seccomp: errno and kill rules take effect in the container, bad profiles fail `create`
# with a message naming the bad value and leave nothing behind, unknown syscall names are
# skipped, and the default profile of `ocirun spec` lets a shell work but denies what Docker's
# does (unshare, mount), even with CAP_SYS_ADMIN.

load ../helpers

# The arches of the host's family are enough; ocirun drops the others anyway.
ARCHES='["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]'

# seccomp_profile JSON: set linux.seccomp (replacing any default profile).
seccomp_profile() {
	config_set --argjson s "$1" '.linux.seccomp = $s'
}

# deny_mkdir_profile [EXTRA-NAME...]: everything allowed but mkdir and mkdirat (and the extra
# names), which fail with ENOSYS.
deny_mkdir_profile() {
	local names
	names=$(json_array mkdir mkdirat "$@")
	seccomp_profile "$(jq -n --argjson a "$ARCHES" --argjson n "$names" \
		'{defaultAction: "SCMP_ACT_ALLOW", architectures: $a,
		  syscalls: [{names: $n, action: "SCMP_ACT_ERRNO", errnoRet: 38}]}')"
}

# create_fails_naming WORD...: `create` of $BUNDLE fails, the message names each WORD, and
# nothing is left behind.
create_fails_naming() {
	create_container
	assert_failure
	assert_output_contains "$@"
	assert_nothing_left
	[ ! -e "$ROOT/$ID" ]
}

# bad_profile JQ-FILTER WORD...: the profile that deny_mkdir_profile makes, edited by
# JQ-FILTER (applied to linux.seccomp), makes `create` fail naming each WORD.
bad_profile() {
	local filter=$1
	shift
	make_bundle
	deny_mkdir_profile
	config_set ".linux.seccomp |= ($filter)"
	create_fails_naming "$@"
}

@test "seccomp: a denied syscall fails with errnoRet, the rest works" {
	make_bundle
	deny_mkdir_profile
	config_args sh -c 'echo ok; grep "^Seccomp:" /proc/self/status; mkdir /tmp/x; echo "mkdir=$?"'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = ok ] || fail "output: $output"
	assert_output_contains "Function not implemented" "mkdir=1"
	grep -q "^Seccomp:[[:space:]]*2$" <<<"$output" || fail "no filter in the container: $output"
	assert_nothing_left
}

@test "seccomp: the filter is on the container process only, not on ocirun" {
	make_bundle
	deny_mkdir_profile
	# The runtime itself makes directories (the state dir, mount points) after parsing.
	config_mount /mnt/made tmpfs tmpfs
	config_args sh -c 'test -d /mnt/made && echo ok'
	run_file run_fg
	assert_status 0
	[ "$output" = ok ] || fail "output: $output"
}

@test "seccomp: SCMP_ACT_KILL kills the process that makes the call" {
	make_bundle
	seccomp_profile "$(jq -n --argjson a "$ARCHES" \
		'{defaultAction: "SCMP_ACT_ALLOW", architectures: $a,
		  syscalls: [{names: ["sync"], action: "SCMP_ACT_KILL"}]}')"
	# /bin/busybox by path: a new process, not an applet run inside the shell.
	config_args sh -c 'echo before; /bin/busybox sync; echo "status=$?"'
	run_file run_fg
	assert_status 0
	assert_output_contains before
	# 128 + SIGSYS (31)
	assert_output_contains "status=159"
}

@test "seccomp: SCMP_ACT_KILL on the container's init ends the container with SIGSYS" {
	make_bundle
	seccomp_profile "$(jq -n --argjson a "$ARCHES" \
		'{defaultAction: "SCMP_ACT_ALLOW", architectures: $a,
		  syscalls: [{names: ["sync"], action: "SCMP_ACT_KILL_PROCESS"}]}')"
	config_args /bin/busybox sync
	run_file run_fg
	assert_status 159
	assert_nothing_left
}

@test "seccomp: errnoRet defaults to EPERM" {
	make_bundle
	deny_mkdir_profile
	config_set '.linux.seccomp.syscalls[0] |= del(.errnoRet)'
	config_args sh -c 'mkdir /tmp/x; echo "mkdir=$?"'
	run_file run_fg
	assert_status 0
	assert_output_contains "Operation not permitted" "mkdir=1"
}

@test "seccomp: an unknown syscall name is skipped, the other names still apply" {
	make_bundle
	deny_mkdir_profile no_such_syscall_at_all
	config_args sh -c 'echo ok; mkdir /tmp/x; echo "mkdir=$?"'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = ok ] || fail "output: $output"
	assert_output_contains "Function not implemented" "mkdir=1"
}

@test "seccomp: a bad action fails create, naming it, and leaves nothing behind" {
	bad_profile '.syscalls[0].action = "SCMP_ACT_EXPLODE"' SCMP_ACT_EXPLODE
	# ocirun-only: the path of the field as well (runc: "invalid action").
	if [ "$OCIRUN_NAME" = ocirun ]; then
		assert_output_contains "seccomp" "syscalls[0]"
	fi
	run_file ocirun run --bundle "$BUNDLE" "$ID"
	assert_failure
	assert_output_contains SCMP_ACT_EXPLODE
	assert_nothing_left
}

@test "seccomp: a bad defaultAction fails create" {
	bad_profile '.defaultAction = "SCMP_ACT_NOPE"' SCMP_ACT_NOPE
}

@test "seccomp: a bad operator fails create" {
	bad_profile '.syscalls[0].args = [{index: 0, value: 1, op: "SCMP_CMP_ALMOST"}]' \
		SCMP_CMP_ALMOST
}

@test "seccomp: a bad architecture fails create" {
	bad_profile '.architectures += ["SCMP_ARCH_PDP11"]' SCMP_ARCH_PDP11
}

@test "seccomp: a bad flag fails create" {
	# runc 1.1 refuses every flag without naming it.
	local word=SECCOMP_FILTER_FLAG_MAGIC
	is_runc && word=flag
	bad_profile '.flags = ["SECCOMP_FILTER_FLAG_MAGIC"]' "$word"
}

# ocirun-only: runc fails too, with another message.
@test "seccomp: an argument index of 6 fails create" {
	skip_if_not_ocirun "message differs"
	bad_profile '.syscalls[0].args = [{index: 6, value: 1, op: "SCMP_CMP_EQ"}]' "index 6"
}

# ocirun-only: runc fails too, with another message.
@test "seccomp: a wrong JSON type fails create" {
	skip_if_not_ocirun "message differs"
	bad_profile '.syscalls[0].names = "mkdir"' names
}

# ocirun-only: runc fails too, with another message.
@test "seccomp: SCMP_ACT_NOTIFY without listenerPath fails create" {
	skip_if_not_ocirun "message differs"
	bad_profile '.syscalls[0].action = "SCMP_ACT_NOTIFY" | del(.syscalls[0].errnoRet)' \
		listenerPath
}

# The default profile: present once `ocirun spec` includes it.
default_profile_or_skip() {
	make_bundle
	if ! jq -e '.linux.seccomp != null' "$BUNDLE/config.json" >/dev/null; then
		skip "\`$OCIRUN_NAME spec\` has no linux.seccomp (the default profile is not wired in yet)"
	fi
}

@test "seccomp: the default profile lets a normal shell work" {
	default_profile_or_skip
	config_args sh -c 'echo hello; ls / >/dev/null && echo ls; mkdir /dev/shm/d && echo mkdir;
		echo data >/dev/shm/d/f && cat /dev/shm/d/f; rm -r /dev/shm/d && echo rm;
		(sleep 0.1 & wait) && echo subshell; echo x | grep -q x && echo pipe;
		date >/dev/null && echo date; id -u; grep "^Seccomp:" /proc/self/status'
	run_file run_fg
	assert_status 0
	local want=(hello ls mkdir data rm subshell pipe date 0) i
	for i in "${!want[@]}"; do
		[ "${lines[i]}" = "${want[i]}" ] || fail "line $i: want '${want[i]}'; output: $output"
	done
	grep -q "^Seccomp:[[:space:]]*2$" <<<"$output" || fail "no filter in the container: $output"
}

@test "seccomp: the default profile denies unshare and mount, even with CAP_SYS_ADMIN" {
	default_profile_or_skip
	# With CAP_SYS_ADMIN the kernel would allow both: a denial can only come from the filter.
	config_set '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
	config_args sh -c 'unshare -m true; echo "unshare=$?"; mount -t tmpfs none /tmp; echo "mount=$?";
		unshare -U true; echo "userns=$?"'
	run_file run_fg
	assert_status 0
	assert_output_contains "unshare=1" "userns=1" "Operation not permitted"
	grep -qE "^mount=[1-9]" <<<"$output" || fail "mount worked: $output"
	assert_nothing_left
}

@test "seccomp: the default profile allows the PER_LINUX32 personality, not others" {
	default_profile_or_skip
	[ "$(uname -m)" = x86_64 ] || skip "x86_64 only"
	config_args sh -c 'linux32 uname -m; echo "linux32=$?"'
	run_file run_fg
	assert_status 0
	assert_output_contains "linux32=0"
	[ "${lines[0]}" = i686 ] || fail "output: $output"
}
