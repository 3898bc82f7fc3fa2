#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# User namespaces: id maps with several ranges, who owns what in the container's /dev, the
# terminal's owner, a uid or gid the maps do not cover, and a rootless container run by an
# unprivileged host user (`spec --rootless`, run, exec, delete, default state root).

load ../helpers
load security-helpers

# Two ranges each way: container 0-999 is host 100000-100999, 1000-1999 is 200000-200999.
MAPS='[{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 200000, size: 1000}]'

userns_bundle() {
	make_bundle
	config_set ".linux.namespaces += [{type: \"user\"}]
		| .linux.uidMappings = $MAPS | .linux.gidMappings = $MAPS"
}

# inside_id HOST-ID: what a host uid/gid is in the container under $MAPS.
inside_id() {
	local h=$1
	if ((h >= 100000 && h < 101000)); then
		echo $((h - 100000))
	elif ((h >= 200000 && h < 201000)); then
		echo $((h - 199000))
	else
		echo 65534
	fi
}

squeeze_ws() {
	sed -E 's/^[[:space:]]+//; s/[[:space:]]+/ /g; s/ $//'
}

@test "userns: uid and gid maps with two ranges are written as configured" {
	userns_bundle
	config_args sh -c 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map'
	run_file run_fg
	assert_status 0
	[ "$(squeeze_ws <<<"$output")" = "0 100000 1000
1000 200000 1000
--
0 100000 1000
1000 200000 1000" ] || fail "maps: $output"
}

@test "userns: both ranges work: uid 0 is host 100000, uid 1500 is host 200500" {
	userns_bundle
	config_set '.process.user = {uid: 1500, gid: 1500}'
	config_args sleep 100
	run_detached
	assert_status 0
	local pid
	pid=$(container_pid)
	[ "$(proc_field "$pid" Uid)" = 200500 ]
	[ "$(proc_field "$pid" Gid)" = 200500 ]
	ocirun exec --user 0:0 "$ID" sh -c 'id -u; cat /proc/self/uid_map | wc -l' >"$TMP/exec.out" 2>&1 </dev/null
	[ "$(head -1 "$TMP/exec.out")" = 0 ] || fail "$(cat "$TMP/exec.out")"
	[ "$(tail -1 "$TMP/exec.out")" = 2 ] || fail "$(cat "$TMP/exec.out")"
	ocirun delete --force "$ID"
	assert_gone
}

@test "userns: what the runtime makes in /dev belongs to the container's root" {
	userns_bundle
	config_args sh -c 'ls -lnd /dev /dev/pts /dev/shm; ls -ln /dev'
	run_file run_fg
	assert_status 0
	# The directories and links the runtime makes itself are owned by container root...
	local name line
	for name in /dev /dev/pts /dev/shm; do
		line=$(awk -v n="$name" '$NF == n' <<<"$output")
		[ "$(awk '{print $3 ":" $4}' <<<"$line")" = 0:0 ] || fail "$name: '$line' in $output"
	done
	for name in fd stdin stdout stderr ptmx; do
		line=$(awk -v n="$name" '$(NF-2) == n && $(NF-1) == "->"' <<<"$output")
		[ -n "$line" ] || fail "/dev/$name missing: $output"
		[ "$(awk '{print $3 ":" $4}' <<<"$line")" = 0:0 ] || fail "/dev/$name: '$line'"
	done
	# ...while the default device nodes are the host's, bind-mounted (mknod is refused in a
	# user namespace, runc binds too): their owner is the host's owner seen through the
	# maps, nobody (65534) for a node owned by host root.
	for name in null zero full random urandom tty; do
		line=$(awk -v n="$name" '$NF == n' <<<"$output")
		[[ "$line" == c* ]] || fail "/dev/$name missing or not a char device: '$line' in $output"
		[ "$(awk '{print $3 ":" $4}' <<<"$line")" = \
			"$(inside_id "$(stat -c %u "/dev/$name")"):$(inside_id "$(stat -c %g "/dev/$name")")" ] ||
			fail "/dev/$name: '$line', host owner $(stat -c %u:%g "/dev/$name")"
	done
}

@test "userns: the device nodes work for container root" {
	userns_bundle
	config_args sh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
	run_file run_fg
	assert_status 0
	[ "$(tr -d ' ' <<<"$output" | tr '\n' ' ')" = "4 4 " ] || fail "$output"
}

@test "userns: the terminal belongs to the process's user" {
	userns_bundle
	config_set '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	config_args sh -c 'tty; stat -c "owner=%u:%g" "$(tty)"; id -u'
	run_on_console
	local out=$CONSOLE_OUT
	grep -qx '/dev/pts/[0-9]*' <<<"$out" || fail "tty: $out"
	# The owner is the process's uid; the group is its gid (ocirun) or the devpts mount's
	# gid=5, the tty group (runc).
	grep -qxE 'owner=1000:(1000|5)' <<<"$out" || fail "pty owner: $out"
	grep -qx 1000 <<<"$out" || fail "uid: $out"
	assert_gone
}

@test "userns: a uid outside the maps fails with an error naming it and the maps, nothing left" {
	userns_bundle
	config_set '.process.user = {uid: 5000, gid: 0}'
	config_args id
	create_container
	assert_failure
	# runc: "cannot set uid to unmapped user in user namespace", without the uid.
	is_runc || assert_output_contains 5000
	# "setuid 5000: Invalid argument" alone does not say why: the uid is not mapped.
	assert_output_contains_any "map" "user namespace"
	assert_gone
	run_file run_fg
	assert_failure
	is_runc || assert_output_contains 5000
	assert_gone
}

@test "userns: a gid outside the maps fails with an error naming it, nothing left" {
	userns_bundle
	config_set '.process.user = {uid: 0, gid: 5000}'
	config_args id
	create_container
	assert_failure
	is_runc || assert_output_contains 5000
	assert_output_contains_any "map" "user namespace"
	assert_gone
}

# ---------------------------------------------------------------------------------------
# Rootless: the runtime run by an unprivileged host user.
# ---------------------------------------------------------------------------------------

RL_USER=berthtest

# rootless_setup: the user (made if missing), a copy of the runtime any user can run (the
# build tree may not be reachable for others), and a bundle owned by the user whose
# config.json is the runtime's own `spec --rootless`, written as the user. Sets RL_UID,
# RL_BIN, BUNDLE, XDG (the user's XDG_RUNTIME_DIR for this test).
rootless_setup() {
	if ! id "$RL_USER" >/dev/null 2>&1; then
		useradd --no-create-home --shell /bin/sh "$RL_USER"
	fi
	RL_UID=$(id -u "$RL_USER")
	mkdir -p "$TMP/bin"
	cp "$OCIRUN" "$TMP/bin/"
	RL_BIN=$TMP/bin/$(basename "$OCIRUN")
	chmod 755 "$TMP/bin" "$RL_BIN"
	as_user "$RL_BIN" --version >/dev/null || fail "$RL_USER cannot run $RL_BIN"
	make_bundle "$TMP/rootless"
	rm "$BUNDLE/config.json"
	chown -R "$RL_USER:" "$BUNDLE"
	as_user sh -c 'cd "$1" && "$2" spec --rootless' sh "$BUNDLE" "$RL_BIN" ||
		fail "spec --rootless as $RL_USER failed"
	[ "$(stat -c %U "$BUNDLE/config.json")" = "$RL_USER" ]
	config_set '.process.terminal = false'
	chown "$RL_USER:" "$BUNDLE/config.json"
	XDG=$TMP/xdg
	mkdir -m 0700 "$XDG"
	chown "$RL_USER:" "$XDG"
}

# as_user CMD...: CMD as $RL_USER, with XDG_RUNTIME_DIR=$XDG if XDG is set, else unset.
as_user() {
	if [ -n "${XDG:-}" ]; then
		runuser -u "$RL_USER" -- env XDG_RUNTIME_DIR="$XDG" "$@"
	else
		runuser -u "$RL_USER" -- env -u XDG_RUNTIME_DIR "$@"
	fi
}

# rl ARGS...: the runtime copy as $RL_USER, with its default state root, bounded in time.
rl() {
	as_user timeout -k 5 "$OCIRUN_TIMEOUT" "$RL_BIN" "$@"
}

# rl_state_root: where the runtime keeps state for $RL_USER without --root.
rl_state_root() {
	if [ -n "${XDG:-}" ]; then
		echo "$XDG/$OCIRUN_NAME"
	else
		echo "/tmp/$OCIRUN_NAME-$RL_UID"
	fi
}

# rootless_lifecycle: run --detach as the user, check the container from inside and from
# the host, exec into it, delete it, and check nothing is left in the state root.
rootless_lifecycle() {
	local sroot pid
	sroot=$(rl_state_root)
	on_teardown rl delete --force "$ID"
	config_args sleep 100
	chown "$RL_USER:" "$BUNDLE/config.json"
	run_file rl run --detach --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ -d "$sroot/$ID" ] || fail "no state in $sroot: $(ls -la "$sroot" 2>&1)"
	[ "$(rl state "$ID" | jq -r .status)" = running ]
	pid=$(rl state "$ID" | jq -r .pid)
	# From the host: the process is the unprivileged user.
	[ "$(proc_field "$pid" Uid)" = "$RL_UID" ] || fail "host uid of the container: $(proc_field "$pid" Uid)"

	run_file rl exec "$ID" sh -c 'id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map'
	assert_status 0
	[ "${lines[0]}" = 0 ] || fail "$output"
	[ "${lines[1]}" = 0 ] || fail "$output"
	[ "$(squeeze_ws <<<"${lines[2]}")" = "0 $RL_UID 1" ] || fail "uid_map: $output"
	[ "$(squeeze_ws <<<"${lines[3]}")" = "0 $(id -g "$RL_USER") 1" ] || fail "gid_map: $output"

	run_file rl delete --force "$ID"
	assert_status 0
	retry 50 0.1 pid_gone "$pid"
	[ ! -e "$sroot/$ID" ] || fail "state left in $sroot/$ID"
	run_file rl list -q
	! grep -qxF "$ID" <<<"$output" || fail "still listed: $output"
	assert_gone
}

@test "rootless: spec --rootless, run as an unprivileged user: uid 0 inside, uid_map '0 <uid> 1'" {
	rootless_setup
	config_args sh -c 'id -u; id -g; cat /proc/self/uid_map'
	chown "$RL_USER:" "$BUNDLE/config.json"
	run_file rl run --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ "${lines[0]}" = 0 ] || fail "$output"
	[ "${lines[1]}" = 0 ] || fail "$output"
	[ "$(squeeze_ws <<<"${lines[2]}")" = "0 $RL_UID 1" ] || fail "uid_map: $output"
	[ ! -e "$(rl_state_root)/$ID" ] || fail "state left in $(rl_state_root)/$ID"
	assert_gone
}

@test "rootless: run --detach, exec, delete; state under \$XDG_RUNTIME_DIR, nothing left" {
	rootless_setup
	rootless_lifecycle
	# No container state is left in the user's state root (a runtime may keep shared,
	# hidden caches there, such as ocirun's .seccomp).
	[ -z "$(ls "$(rl_state_root)" 2>/dev/null)" ] || fail "left in $(rl_state_root): $(ls "$(rl_state_root)")"
	[ -z "$(find "$(rl_state_root)" -name "*$ID*" 2>/dev/null)" ] || fail "left: $(find "$(rl_state_root)" -name "*$ID*")"
}

# ocirun-only: runc without XDG_RUNTIME_DIR uses /run/runc, which the user cannot write.
@test "rootless: without XDG_RUNTIME_DIR the state lives in /tmp/ocirun-<uid>, nothing left" {
	skip_if_runc "its rootless default root needs XDG_RUNTIME_DIR"
	rootless_setup
	XDG=
	rootless_lifecycle
	[ -z "$(find "/tmp/$OCIRUN_NAME-$RL_UID" -name "*$ID*" 2>/dev/null)" ] ||
		fail "left: $(find "/tmp/$OCIRUN_NAME-$RL_UID" -name "*$ID*")"
}
