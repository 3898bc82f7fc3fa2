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

@test "spec: Init runs the command under docker-init, and OomScoreAdj is the process's" {
	local init
	for init in /usr/bin/docker-init /usr/bin/tini-static ""; do
		[ -x "$init" ] && break
	done
	[ -n "$init" ] || skip "no static init binary (docker-init, tini-static) is installed"
	gen_bundle '{"Cmd":["sh","-c","cat /proc/1/cmdline | tr \"\\0\" \" \"; echo; cat /proc/self/oom_score_adj"],
		"HostConfig":{"NetworkMode":"none","Init":true,"OomScoreAdj":300}}'
	run_file run_fg
	assert_status 0
	[[ "${lines[0]}" == "/sbin/docker-init -- sh -c "* ]]
	[ "${lines[1]}" = 300 ]
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

# ---------------------------------------------------------------------------------------
# Against dockerd: the defaults of a generated spec are those of the config.json dockerd
# (20.10, Debian's docker.io) writes for the same container. dockerd runs with everything
# under a directory of its own (as in ../ocirun/31-dockerd.bats: no bridge, no iptables,
# the cgroupfs driver, ocirun as its runtime), and the bundle's config.json is read under its
# exec root while the container runs.
# ---------------------------------------------------------------------------------------

DOCKER_CLI=/usr/bin/docker

dk() {
	timeout -k 5 60 "$DOCKER_CLI" -H "unix://$DK_DIR/docker.sock" "$@"
}

dk_stop() {
	local n=0
	dk rm -f "$ID" >/dev/null 2>&1 || true
	if [ -n "${DK_PID:-}" ]; then
		kill -TERM "$DK_PID" 2>/dev/null || true
		while kill -0 "$DK_PID" 2>/dev/null && ((n++ < 300)); do sleep 0.1; done
		kill -KILL "$DK_PID" 2>/dev/null || true
	fi
	local m
	for m in $(mounts_under "$DK_DIR"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	[ -n "$(mounts_under "$DK_DIR")" ] || rm -rf --one-file-system "$DK_DIR"
}

# The fields compared, each as a jq filter normalised so that order does not matter.
# dockerd 20.10 predates masking /sys/devices/virtual/powercap (newer dockerd masks it);
# its device rules are compared apart, below.
SPEC_DEFAULTS='{
	caps: (.process.capabilities | map_values(sort)),
	user: .process.user,
	cwd: .process.cwd,
	terminal: (.process.terminal // false),
	env: ([.process.env[] | select(startswith("HOSTNAME=") | not)] | sort),
	masked: ([.linux.maskedPaths[] | select(. != "/sys/devices/virtual/powercap")] | sort),
	readonly: (.linux.readonlyPaths | sort),
	namespaces: ([.linux.namespaces[].type] | sort),
	mounts: ([.mounts[] | select(.destination | test("^/(proc|dev|sys)")) |
		{destination, type, source, options: (.options | sort)}] | sort_by(.destination)),
	seccomp: (.linux.seccomp.defaultAction != null),
	root_readonly: (.root.readonly // false)
}'

@test "spec: the defaults are dockerd's, field by field" {
	for c in dockerd containerd containerd-shim-runc-v2 "$DOCKER_CLI"; do
		command -v "$c" >/dev/null || skip "$c is not installed (package docker.io)"
	done
	DK_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/berth-dockerd.XXXXXX")
	chmod 0755 "$DK_DIR"
	on_teardown dk_stop
	mkdir -p "$DK_DIR/data" "$DK_DIR/exec" "$DK_DIR/client"
	export DOCKER_CONFIG=$DK_DIR/client
	printf '{"deprecated-key-path": "%s"}\n' "$DK_DIR/key.json" >"$DK_DIR/daemon.json"
	dockerd --config-file "$DK_DIR/daemon.json" \
		--data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/dockerd.pid" -H "unix://$DK_DIR/docker.sock" \
		--iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--bridge=none --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
		--add-runtime "ocirun=$OCIRUN" --shutdown-timeout 5 \
		>"$DK_DIR/dockerd.log" 2>&1 </dev/null 3>&- &
	DK_PID=$!
	retry 300 0.1 dk info >/dev/null 2>&1 || {
		tail -20 "$DK_DIR/dockerd.log" >&2
		skip "dockerd does not start here"
	}
	"$BERTH_SOURCE_DIR/tests/fixtures/make-image" docker "$DK_DIR/busybox.tar" berth.test/busybox:latest >&2
	dk load -i "$DK_DIR/busybox.tar" >/dev/null

	dk run -d --name "$ID" --runtime ocirun --network none --cgroup-parent "/$ID" \
		berth.test/busybox:latest sleep 60 >/dev/null
	local id dkcfg
	id=$(dk inspect -f '{{.Id}}' "$ID")
	dkcfg=$(find "$DK_DIR/exec" -path "*/$id/config.json" | head -1)
	[ -f "$dkcfg" ] || {
		echo "no config.json of $id under $DK_DIR/exec" >&2
		return 1
	}
	cp "$dkcfg" "$TMP/docker.json"
	dk image inspect -f '{{json .Config}}' berth.test/busybox:latest >"$TMP/image.json"
	dk rm -f "$ID" >/dev/null

	make_bundle
	printf '%s\n' '{"Cmd":["sleep","60"],"HostConfig":{"NetworkMode":"none"}}' >"$TMP/body.json"
	"$GEN" --create "$TMP/body.json" --image "$TMP/image.json" --rootfs "$BUNDLE/rootfs" \
		--id "$id" >"$TMP/ours.json"

	jq -S "$SPEC_DEFAULTS" "$TMP/docker.json" >"$TMP/docker.fields"
	jq -S "$SPEC_DEFAULTS" "$TMP/ours.json" >"$TMP/ours.fields"
	# Not a comparison of two empty documents:
	jq -e '(.caps.bounding | length) == 14 and (.mounts | length) >= 7 and
		(.masked | length) >= 8 and (.namespaces | length) >= 5' "$TMP/docker.fields"
	diff -u "$TMP/docker.fields" "$TMP/ours.fields"
	# Every device rule of dockerd's is ours too; ours has more (full, ptmx, the pts, tun,
	# mknod) because runc adds those itself and ocirun does not.
	jq -c '.linux.resources.devices[] | {allow, type: (.type // "a"), major, minor, access}' \
		"$TMP/docker.json" | sort >"$TMP/docker.devices"
	jq -c '.linux.resources.devices[] | {allow, type: (.type // "a"), major, minor, access}' \
		"$TMP/ours.json" | sort >"$TMP/ours.devices"
	comm -23 "$TMP/docker.devices" "$TMP/ours.devices" >"$TMP/missing.devices"
	[ ! -s "$TMP/missing.devices" ] || {
		echo "device rules of dockerd's missing here:" >&2
		cat "$TMP/missing.devices" >&2
		return 1
	}
	# The command too, and both name the same hostname.
	[ "$(jq -c .process.args "$TMP/docker.json")" = "$(jq -c .process.args "$TMP/ours.json")" ]
	[ "$(jq -r .hostname "$TMP/docker.json")" = "$(jq -r .hostname "$TMP/ours.json")" ]
}
