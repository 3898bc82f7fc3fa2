#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The engine's spec generator (engine/spec) against a real runtime: engine-spec-gen
# (tests/tools/engine-spec) turns a ContainerCreate body and an image config into the
# config.json of a busybox bundle (contrib/busybox-bundle), and `ocirun run` runs it. What
# the body asked for must be what the container sees: its environment, working directory
# and user, a read-only rootfs with a bind mount and a tmpfs, memory and pids limits in its
# cgroup, its capabilities in /proc/self/status, seccomp, and the host's devices when
# privileged. Containers use NetworkMode none (the only mode besides host the generator has)
# and the cgroup parent /$ID, so that helpers' leak checks see their cgroups.

load ../helpers

GEN=${BERTH_BUILD_DIR:-}/tests/tools/engine-spec/engine-spec-gen

setup() {
	berth_setup
	[ -x "$GEN" ] || {
		echo "engine-spec-gen is not built: '$GEN'" >&2
		return 1
	}
}

teardown() {
	local d
	# The cgroup parent the generator put this test's container under, empty by now; what
	# is still in it is for the leak check to report.
	for d in /sys/fs/cgroup/*/"$ID"; do
		if [ -d "$d" ]; then rmdir "$d" 2>/dev/null || true; fi
	done
	berth_teardown
}

# gen_bundle BODY [IMAGE-CONFIG]: a busybox bundle in $BUNDLE whose config.json is what
# engine-spec-gen makes of BODY (a ContainerCreate body) and IMAGE-CONFIG.
gen_bundle() {
	make_bundle || return 1
	printf '%s\n' "$1" >"$TMP/body.json"
	local args=(--create "$TMP/body.json" --rootfs "$BUNDLE/rootfs" --id "$ID"
		--cgroup-parent "/$ID")
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2" >"$TMP/image.json"
		args+=(--image "$TMP/image.json")
	fi
	"$GEN" "${args[@]}" >"$BUNDLE/config.json.new" || return 1
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

@test "spec: environment, working directory and user reach the process" {
	gen_bundle '{"Cmd":["sh","-c","id -u; id -g; id -G; pwd; echo \"$FOO $BAR\"; echo $HOME; echo $HOSTNAME; hostname"],
		"User":"nobody","WorkingDir":"/tmp","Env":["FOO=mine"],"Hostname":"box",
		"HostConfig":{"NetworkMode":"none","GroupAdd":["123"]}}' \
		'{"config":{"Env":["FOO=image","BAR=img"],"Cmd":["false"]}}'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = 65534 ]
	[ "${lines[1]}" = 65534 ]
	[ "${lines[2]}" = "65534 123" ]
	[ "${lines[3]}" = /tmp ]
	[ "${lines[4]}" = "mine img" ]
	[ "${lines[5]}" = /nonexistent ]
	[ "${lines[6]}" = box ]
	[ "${lines[7]}" = box ]
}

@test "spec: the image's entrypoint and command run when the body has none" {
	gen_bundle '{"HostConfig":{"NetworkMode":"none"}}' \
		'{"config":{"Entrypoint":["sh","-c"],"Cmd":["echo from-image; exit 3"]}}'
	run_file run_fg
	assert_status 3
	[ "$output" = from-image ]
}

@test "spec: a read-only rootfs with a bind mount and a tmpfs" {
	mkdir "$TMP/data"
	echo host >"$TMP/data/in"
	gen_bundle '{"Cmd":["sh","-c","cat /data/in; echo container >/data/out; if touch /x 2>/dev/null; then echo rootfs-writable; fi; echo t >/scratch/f && cat /scratch/f; grep \" /scratch \" /proc/mounts | cut -d\" \" -f3; grep \" / \" /proc/mounts | grep -c \"[ ,]ro[ ,]\""],
		"HostConfig":{"NetworkMode":"none","ReadonlyRootfs":true,
		"Binds":["'"$TMP/data"':/data"],"Tmpfs":{"/scratch":"size=1m"}}}'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = host ]
	[ "${lines[1]}" = t ]
	[ "${lines[2]}" = tmpfs ]
	[ "${lines[3]}" -ge 1 ]
	[ "$(cat "$TMP/data/out")" = container ]
	[ ! -e "$BUNDLE/rootfs/x" ]
}

@test "spec: a read-only bind cannot be written" {
	mkdir "$TMP/data"
	gen_bundle '{"Cmd":["sh","-c","echo x >/data/f"],
		"HostConfig":{"NetworkMode":"none","Binds":["'"$TMP/data"':/data:ro"]}}'
	run_file run_fg
	assert_failure
	assert_output_contains "Read-only file system"
	[ ! -e "$TMP/data/f" ]
}

@test "spec: memory and pids limits are the container's cgroup's" {
	gen_bundle '{"Cmd":["sh","-c","cat /proc/self/cgroup | grep -E \":(memory|pids):\"; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"],
		"HostConfig":{"NetworkMode":"none","Memory":67108864,"PidsLimit":42}}'
	run_file run_fg
	assert_status 0
	assert_output_contains "$ID"
	[ "${lines[2]}" = 67108864 ]
	[ "${lines[3]}" = 42 ]
}

@test "spec: Docker's default capabilities, and CapDrop/CapAdd" {
	gen_bundle '{"Cmd":["grep","^Cap[EBP]","/proc/self/status"],"HostConfig":{"NetworkMode":"none"}}'
	run_file run_fg
	assert_status 0
	# chown dac_override fowner fsetid kill setgid setuid setpcap net_bind_service net_raw
	# sys_chroot mknod audit_write setfcap: Docker's 14.
	assert_output_contains "CapEff:	00000000a80425fb"
	assert_output_contains "CapBnd:	00000000a80425fb"

	gen_bundle '{"Cmd":["grep","^Cap[EBP]","/proc/self/status"],
		"HostConfig":{"NetworkMode":"none","CapDrop":["ALL"],"CapAdd":["kill","CAP_NET_RAW"]}}'
	run_file run_fg
	assert_status 0
	assert_output_contains "CapEff:	0000000000002020"
	assert_output_contains "CapBnd:	0000000000002020"

	gen_bundle '{"Cmd":["chown","1:1","/tmp"],"HostConfig":{"NetworkMode":"none","CapDrop":["CHOWN"]}}'
	run_file run_fg
	assert_failure
	assert_output_contains "Operation not permitted"
}

@test "spec: seccomp is on by default, off with seccomp=unconfined" {
	gen_bundle '{"Cmd":["sh","-c","grep ^Seccomp: /proc/self/status; grep ^NoNewPrivs: /proc/self/status"],
		"HostConfig":{"NetworkMode":"none"}}'
	run_file run_fg
	assert_status 0
	assert_output_contains "Seccomp:	2"
	assert_output_contains "NoNewPrivs:	0"

	gen_bundle '{"Cmd":["sh","-c","grep ^Seccomp: /proc/self/status; grep ^NoNewPrivs: /proc/self/status"],
		"HostConfig":{"NetworkMode":"none","SecurityOpt":["seccomp=unconfined","no-new-privileges"]}}'
	run_file run_fg
	assert_status 0
	assert_output_contains "Seccomp:	0"
	assert_output_contains "NoNewPrivs:	1"
}

@test "spec: masked and read-only /proc paths, no host devices unless privileged" {
	[ -n "$(head -c 16 /proc/timer_list 2>/dev/null)" ] || skip "the host has no /proc/timer_list to mask"
	gen_bundle '{"Cmd":["sh","-c","wc -c </proc/timer_list; grep \" /proc/sys \" /proc/mounts | grep -c \"[ ,]ro[ ,]\"; ls /dev/loop-control 2>&1"],
		"HostConfig":{"NetworkMode":"none"}}'
	run_file run_fg
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" -ge 1 ]
	assert_output_contains "/dev/loop-control: No such file"
}

@test "spec: a privileged container sees the host's devices and every capability" {
	[ -c /dev/loop-control ] || skip "the host has no /dev/loop-control"
	gen_bundle '{"Cmd":["sh","-c","ls /dev/loop-control; grep ^CapEff: /proc/self/status; grep ^Seccomp: /proc/self/status"],
		"HostConfig":{"NetworkMode":"none","Privileged":true}}'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = /dev/loop-control ]
	assert_output_contains "CapEff:	000001ff"
	assert_output_contains "Seccomp:	0"
}

@test "spec: a device of HostConfig.Devices is there and usable" {
	gen_bundle '{"Cmd":["sh","-c","echo hi >/dev/mynull && echo ok; ls -l /dev/mynull"],
		"HostConfig":{"NetworkMode":"none","Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/dev/mynull","CgroupPermissions":"rwm"}]}}'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = ok ]
	assert_output_contains "1,   3"
}

@test "spec: bad input is refused with the field named, and no config is written" {
	make_bundle
	cp "$BUNDLE/config.json" "$TMP/before.json"
	printf '%s\n' '{"Cmd":["x"],"HostConfig":{"NetworkMode":"none","Memory":"1g"}}' >"$TMP/body.json"
	run "$GEN" --create "$TMP/body.json" --rootfs "$BUNDLE/rootfs" --id "$ID"
	assert_status 1
	assert_output_contains "HostConfig.Memory: expected an integer, got a string"

	printf '%s\n' '{"Cmd":["x"],"User":"nosuchuser","HostConfig":{"NetworkMode":"none"}}' >"$TMP/body.json"
	run "$GEN" --create "$TMP/body.json" --rootfs "$BUNDLE/rootfs" --id "$ID"
	assert_status 1
	assert_output_contains "Config.User: unknown user \`nosuchuser\`"

	printf '%s\n' '{"Cmd":["x"]}' >"$TMP/body.json"
	run "$GEN" --create "$TMP/body.json" --rootfs "$BUNDLE/rootfs" --id "$ID"
	assert_status 1
	assert_output_contains "NetworkMode: \`default\` is not supported yet"
	cmp "$BUNDLE/config.json" "$TMP/before.json"
}
