#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# process: env, cwd, user, umask, rlimits, oomScoreAdj, noNewPrivileges, capabilities,
# args resolution.

load ../helpers


@test "env: PATH and a custom variable, nothing from the host" {
	make_bundle
	config_set '.process.env = ["PATH=/bin:/sbin", "FOO=bar baz", "EMPTY="]'
	export BERTH_HOST_ONLY=leak
	config_args sh -c 'echo "$PATH"; echo "$FOO"; echo "[${EMPTY-unset}]"; env'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = /bin:/sbin ]
	[ "${lines[1]}" = "bar baz" ]
	[ "${lines[2]}" = "[]" ]
	! grep -q -e BERTH_HOST_ONLY -e '^BATS_' <<<"$output" || fail "host environment leaked: $output"
}

@test "env: HOME is set from the user's passwd entry when missing" {
	make_bundle
	config_set '.process.env = ["PATH=/bin"]'
	config_args sh -c 'echo "$HOME"'
	run_file run_fg
	assert_status 0
	[ "$output" = /root ]
}

@test "cwd: an existing directory" {
	make_bundle
	config_set '.process.cwd = "/tmp"'
	config_args pwd
	run_file run_fg
	assert_status 0
	[ "$output" = /tmp ]
}

@test "cwd: a missing directory is created (as runc)" {
	make_bundle
	config_set '.process.cwd = "/no/such/dir"'
	config_args pwd
	run_file run_fg
	assert_status 0
	[ "$output" = /no/such/dir ]
}

@test "cwd: a relative path is refused" {
	make_bundle
	config_set '.process.cwd = "tmp"'
	config_args pwd
	run_file run_fg
	assert_failure
	assert_output_contains cwd
	assert_nothing_left
}

@test "user: uid, gid and additionalGids" {
	make_bundle
	config_set '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20]}'
	config_args sh -c 'id -u; id -g; id -G'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1001 ]
	[ "$(tr ' ' '\n' <<<"${lines[2]}" | sort -n | tr '\n' ' ')" = "10 20 1001 " ]
}

@test "user: no additionalGids means no supplementary groups" {
	make_bundle
	config_set '.process.user = {uid: 65534, gid: 65534}'
	config_args sh -c 'id -u; id -G'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 65534 ]
	[ "${lines[1]}" = 65534 ]
}

@test "user: a non-root user gets no capabilities" {
	make_bundle
	config_set '.process.user = {uid: 1000, gid: 1000}'
	config_args sh -c 'grep -E "^Cap(Eff|Prm):" /proc/self/status'
	run_file run_fg
	assert_status 0
	# ambient capabilities are kept: runc's default spec lists three of them.
	local eff
	eff=$(awk '$1 == "CapEff:" {print $2}' <<<"$output")
	[ "$eff" = 0000000000000000 ] || [ "$eff" = 0000000020000420 ] || fail "$output"
}

@test "umask: 63 shows as 0077" {
	make_bundle
	config_set '.process.user.umask = 63'
	config_args sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
	config_mount /tmp tmpfs tmpfs
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 0077 ]
	[ "${lines[1]}" = 600 ]
}

@test "umask: default is 0022" {
	make_bundle
	config_args sh -c umask
	run_file run_fg
	assert_status 0
	[ "$output" = 0022 ]
}

@test "rlimits: RLIMIT_NOFILE soft and hard" {
	make_bundle
	config_set '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1000, hard: 2000}]'
	config_args sh -c 'ulimit -n; ulimit -Hn; grep "open files" /proc/self/limits'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 2000 ]
}

@test "rlimits: several at once" {
	make_bundle
	config_set '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 512, hard: 512},
		{type: "RLIMIT_NPROC", soft: 3000, hard: 4000}, {type: "RLIMIT_CORE", soft: 0, hard: 0}]'
	config_args sh -c 'ulimit -n; ulimit -u; ulimit -c; ulimit -Hu'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 512 ]
	[ "${lines[1]}" = 3000 ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 4000 ]
}

@test "rlimits: soft above hard fails and names the limit" {
	make_bundle
	config_set '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 2000, hard: 1000}]'
	config_args true
	run_file run_fg
	assert_failure
	assert_output_contains_any RLIMIT_NOFILE rlimit "invalid argument"
	assert_nothing_left
}

@test "rlimits: an unknown type fails and names it" {
	make_bundle
	config_set '.process.rlimits = [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}]'
	config_args true
	run_file run_fg
	assert_failure
	assert_output_contains RLIMIT_BOGUS
	assert_nothing_left
}

@test "oomScoreAdj: raised to 500" {
	make_bundle
	local cur
	cur=$(cat /proc/self/oom_score_adj)
	[ "$cur" -le 500 ] || skip "this shell already has oom_score_adj $cur"
	config_set '.process.oomScoreAdj = 500'
	config_args cat /proc/self/oom_score_adj
	run_file run_fg
	assert_status 0
	[ "$output" = 500 ]
	# ocirun's own score is not changed for good.
	[ "$(cat /proc/self/oom_score_adj)" = "$cur" ]
}

@test "noNewPrivileges true" {
	make_bundle
	config_set '.process.noNewPrivileges = true'
	config_args grep NoNewPrivs /proc/self/status
	run_file run_fg
	assert_status 0
	[ "$(awk '{print $2}' <<<"$output")" = 1 ]
}

@test "noNewPrivileges false" {
	make_bundle
	config_set '.process.noNewPrivileges = false'
	config_args grep NoNewPrivs /proc/self/status
	run_file run_fg
	assert_status 0
	[ "$(awk '{print $2}' <<<"$output")" = 0 ]
}

@test "capabilities: the spec's sets, nothing more" {
	make_bundle
	config_set '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
		effective: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
		inheritable: [], ambient: []}'
	config_args grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
	run_file run_fg
	assert_status 0
	# CAP_KILL = 5, CAP_NET_BIND_SERVICE = 10, CAP_AUDIT_WRITE = 29
	[ "$(awk '$1 == "CapEff:" {print $2}' <<<"$output")" = 0000000000000420 ]
	[ "$(awk '$1 == "CapPrm:" {print $2}' <<<"$output")" = 0000000000000420 ]
	[ "$(awk '$1 == "CapBnd:" {print $2}' <<<"$output")" = 0000000020000420 ]
	[ "$(awk '$1 == "CapInh:" {print $2}' <<<"$output")" = 0000000000000000 ]
	[ "$(awk '$1 == "CapAmb:" {print $2}' <<<"$output")" = 0000000000000000 ]
}

@test "capabilities: without CAP_CHOWN, chown fails" {
	make_bundle
	config_set '.root.readonly = false'
	config_args sh -c 'touch /f; if chown 1 /f 2>/dev/null; then echo CHOWNED; else echo denied; fi'
	run_file run_fg
	assert_status 0
	[ "$output" = denied ]
}

@test "capabilities: an unknown name is named, and ignored or refused" {
	# A spec written for a newer kernel may list capabilities this one lacks: runc warns
	# "ignoring unknown or unavailable capabilities: [CAP_BOGUS]" and runs; refusing with
	# a message naming it is fine too. Either way: named, no crash, nothing half-made.
	make_bundle
	config_set '.process.capabilities.bounding += ["CAP_BOGUS"]'
	config_args echo ran
	run_file run_fg
	assert_output_contains CAP_BOGUS
	if [ "$status" = 0 ]; then
		grep -qx ran <<<"$output"
	else
		[ "$status" -lt 128 ] || fail "crashed: status $status"
		assert_nothing_left
	fi
}

@test "args[0] is looked up in the container's PATH" {
	make_bundle
	mkdir -p "$BUNDLE/rootfs/opt/bin"
	printf '#!/bin/sh\necho found-in-opt\n' >"$BUNDLE/rootfs/opt/bin/hello"
	chmod 755 "$BUNDLE/rootfs/opt/bin/hello"
	config_set '.process.env = ["PATH=/opt/bin:/bin"]'
	config_args hello
	run_file run_fg
	assert_status 0
	[ "$output" = found-in-opt ]
}

@test "args[0] is not looked up in the host's PATH" {
	make_bundle
	# bats exists on the host, not in the busybox rootfs.
	config_set '.process.env = ["PATH=/usr/bin:/bin"]'
	config_args bats --version
	run_file run_fg
	assert_failure
	assert_output_contains bats
	assert_nothing_left
}

@test "args[0] with a path is used as is" {
	make_bundle
	config_args /bin/echo direct
	run_file run_fg
	assert_status 0
	[ "$output" = direct ]
}

@test "a missing executable fails, names it, leaves nothing" {
	make_bundle
	config_args no-such-binary arg
	run_file run_fg
	assert_failure
	assert_output_contains no-such-binary
	assert_nothing_left
}

@test "a missing executable given by path fails, names it, leaves nothing" {
	make_bundle
	config_args /bin/no-such-binary
	run_file run_fg
	assert_failure
	assert_output_contains /bin/no-such-binary
	assert_nothing_left
}

@test "a file that is not executable fails and names it" {
	make_bundle
	echo 'not a program' >"$BUNDLE/rootfs/bin/noexec-file"
	chmod 644 "$BUNDLE/rootfs/bin/noexec-file"
	config_args /bin/noexec-file
	run_file run_fg
	assert_failure
	assert_output_contains noexec-file
	assert_nothing_left
}

@test "a missing executable with create fails at create, not at start" {
	make_bundle
	config_args no-such-binary
	create_container
	assert_failure
	assert_output_contains no-such-binary
	assert_nothing_left
}

@test "stdin is not a terminal with terminal false" {
	make_bundle
	config_args sh -c 'if [ -t 0 ]; then echo tty; else echo notty; fi'
	run_file run_fg
	assert_status 0
	[ "$output" = notty ]
}
