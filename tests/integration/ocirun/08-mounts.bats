#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# mounts, root.readonly, maskedPaths, readonlyPaths, /dev, linux.devices, pivot_root.

load ../helpers


# mount_opts_of DEST: the per-mount options (field 6) of DEST in the container's
# mountinfo, from a `cat /proc/self/mountinfo` in $output.
mount_opts_of() {
	awk -v d="$1" '$5 == d { print $6 }' <<<"$output" | tail -1
}

@test "bind mount rw: writes reach the host" {
	make_bundle
	mkdir "$TMP/data"
	echo from-host >"$TMP/data/in"
	config_mount /data bind "$TMP/data" bind rw
	config_args sh -c 'cat /data/in; echo from-container >/data/out'
	run_file run_fg
	assert_status 0
	[ "$output" = from-host ]
	[ "$(cat "$TMP/data/out")" = from-container ]
}

@test "bind mount ro: writes fail" {
	make_bundle
	mkdir "$TMP/data"
	echo from-host >"$TMP/data/in"
	config_mount /data bind "$TMP/data" bind ro
	config_args sh -c 'cat /data/in; if echo x >/data/out; then echo WROTE; fi; grep " /data " /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = from-host ]
	! grep -q WROTE <<<"$output" || false
	[ ! -e "$TMP/data/out" ]
	[[ "$(awk '{print $6}' <<<"${lines[-1]}")" == ro* ]]
}

@test "bind of a single file" {
	make_bundle
	echo file-content >"$TMP/afile"
	config_mount /etc/afile bind "$TMP/afile" bind ro
	config_args cat /etc/afile
	run_file run_fg
	assert_status 0
	[ "$output" = file-content ]
}

@test "rbind brings submounts, bind does not" {
	make_bundle
	mkdir -p "$TMP/data/sub"
	mount -t tmpfs -o size=1m tmpfs "$TMP/data/sub"
	on_teardown umount "$TMP/data/sub"
	echo in-submount >"$TMP/data/sub/f"
	config_mount /r bind "$TMP/data" rbind ro
	config_mount /b bind "$TMP/data" bind ro
	config_args sh -c 'cat /r/sub/f; ls /b/sub | wc -l'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = in-submount ]
	[ "${lines[1]}" = 0 ]
	umount "$TMP/data/sub"
}

@test "tmpfs with size and mode" {
	make_bundle
	config_mount /scratch tmpfs tmpfs size=1m mode=700 nosuid
	config_args sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo ok >/scratch/f && cat /scratch/f'
	run_file run_fg
	assert_status 0
	grep -q 'size=1024k' <<<"${lines[0]}" || fail "no size: ${lines[0]}"
	grep -q 'mode=700' <<<"${lines[0]}" || fail "no mode: ${lines[0]}"
	[ "${lines[1]}" = 700 ]
	[ "${lines[2]}" = ok ]
}

@test "nosuid, noexec, nodev show in mountinfo" {
	make_bundle
	config_mount /flagged tmpfs tmpfs nosuid noexec nodev
	config_mount /plain tmpfs tmpfs
	config_args cat /proc/self/mountinfo
	run_file run_fg
	assert_status 0
	local o
	o=$(mount_opts_of /flagged)
	[[ ",$o," == *,nosuid,* && ",$o," == *,noexec,* && ",$o," == *,nodev,* ]] || fail "/flagged: $o"
	o=$(mount_opts_of /plain)
	[[ ",$o," != *,noexec,* ]] || fail "/plain: $o"
}

@test "noexec really forbids exec" {
	make_bundle
	config_mount /nx tmpfs tmpfs noexec
	config_args sh -c 'cp /bin/busybox /nx/bb && /nx/bb true && echo EXECUTED; true'
	run_file run_fg
	assert_status 0
	! grep -q EXECUTED <<<"$output"
}

@test "a destination that is an absolute symlink out of the rootfs stays inside" {
	make_bundle
	mkdir -p "$BUNDLE/rootfs/etc"
	echo inside >"$BUNDLE/rootfs/etc/marker"
	ln -s /etc "$BUNDLE/rootfs/evil"
	config_mount /evil tmpfs tmpfs size=1m
	config_args sh -c 'ls /etc | wc -l; grep -c " /etc " /proc/self/mountinfo'
	local before
	before=$(grep -c ' /etc ' /proc/self/mountinfo || true)
	run_file run_fg
	assert_status 0
	# The tmpfs covers the container's /etc (rootfs/etc), which is now empty...
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 1 ]
	# ...and neither the host's /etc nor the rootfs underneath were touched.
	[ "$(grep -c ' /etc ' /proc/self/mountinfo || true)" = "$before" ]
	[ -s /etc/passwd ]
	[ "$(cat "$BUNDLE/rootfs/etc/marker")" = inside ]
}

@test "a destination that is a relative symlink climbing out stays inside" {
	make_bundle
	mkdir -p "$TMP/outside"
	ln -s ../../../../../../../../"$TMP"/outside "$BUNDLE/rootfs/climb"
	config_mount /climb tmpfs tmpfs size=1m
	config_args sh -c 'echo x >/climb/f; grep -c tmpfs /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	[ -z "$(ls -A "$TMP/outside")" ]
	[ -z "$(mounts_under "$TMP/outside")" ]
}

@test "a bind source that is a symlink is followed on the host" {
	make_bundle
	mkdir "$TMP/real"
	echo real >"$TMP/real/f"
	ln -s real "$TMP/link"
	config_mount /data bind "$TMP/link" bind ro
	config_args cat /data/f
	run_file run_fg
	assert_status 0
	[ "$output" = real ]
}

@test "a missing destination is created, with its parents" {
	make_bundle
	config_set '.root.readonly = false'
	config_mount /new/deep/dir tmpfs tmpfs size=1m
	config_args sh -c 'grep -c " /new/deep/dir " /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	[ "$output" = 1 ]
	[ -d "$BUNDLE/rootfs/new/deep/dir" ]
}

@test "mounts are made in order" {
	make_bundle
	mkdir "$TMP/data"
	echo second >"$TMP/data/f"
	config_mount /a tmpfs tmpfs size=1m
	config_mount /a/b bind "$TMP/data" bind ro
	config_args sh -c 'cat /a/b/f; grep -c " /a/b " /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = second ]
	[ "${lines[1]}" = 1 ]
	# /a/b was created in the tmpfs, not in the rootfs.
	[ ! -e "$BUNDLE/rootfs/a/b" ]
}

@test "a later mount over an earlier one hides it" {
	make_bundle
	mkdir "$TMP/one" "$TMP/two"
	echo one >"$TMP/one/f"
	echo two >"$TMP/two/f"
	config_mount /m bind "$TMP/one" bind ro
	config_mount /m bind "$TMP/two" bind ro
	config_args cat /m/f
	run_file run_fg
	assert_status 0
	[ "$output" = two ]
}

@test "root.readonly: / is read-only, a tmpfs on it is writable" {
	make_bundle
	config_set '.root.readonly = true'
	config_mount /tmp tmpfs tmpfs size=1m
	config_args sh -c 'if touch /x 2>/dev/null; then echo ROOT-WRITABLE; fi; touch /tmp/x && echo tmp-ok; awk "\$5 == \"/\" {print \$6}" /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	! grep -q ROOT-WRITABLE <<<"$output" || false
	[ "${lines[0]}" = tmp-ok ]
	[[ "${lines[1]}" == ro* ]]
	[ ! -e "$BUNDLE/rootfs/x" ]
}

@test "root.readonly false: / is writable" {
	make_bundle
	config_set '.root.readonly = false'
	config_args sh -c 'echo w >/written'
	run_file run_fg
	assert_status 0
	[ "$(cat "$BUNDLE/rootfs/written")" = w ]
}

@test "maskedPaths: a file reads empty, a directory is empty" {
	make_bundle
	echo secret >"$BUNDLE/rootfs/secret-file"
	mkdir "$BUNDLE/rootfs/secret-dir"
	echo secret >"$BUNDLE/rootfs/secret-dir/f"
	config_set '.linux.maskedPaths += ["/secret-file", "/secret-dir", "/does-not-exist", "/proc/version"]'
	config_args sh -c 'echo "[$(cat /secret-file)]"; ls -A /secret-dir | wc -l; cat /proc/version | wc -c'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = "[]" ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = 0 ]
	[ "$(cat "$BUNDLE/rootfs/secret-file")" = secret ]
}

@test "readonlyPaths: writes fail" {
	make_bundle
	config_set '.root.readonly = false'
	mkdir "$BUNDLE/rootfs/ro-dir"
	config_set '.linux.readonlyPaths += ["/ro-dir"]'
	config_set '.process.capabilities |= map_values(. + ["CAP_SYS_ADMIN"])'
	config_args sh -c 'if touch /ro-dir/x 2>/dev/null; then echo RO-DIR-WRITABLE; fi
		if { echo 1 >/proc/sys/kernel/ns_last_pid; } 2>/dev/null; then echo PROC-SYS-WRITABLE; fi
		grep -E " /(ro-dir|proc/sys) " /proc/self/mountinfo | awk "{print \$5, \$6}"
		echo done'
	run_file run_fg
	assert_status 0
	! grep -q WRITABLE <<<"$output" || fail "$output"
	[[ "$(awk '$1 == "/ro-dir" {print $2}' <<<"$output")" == ro* ]] || fail "$output"
	[[ "$(awk '$1 == "/proc/sys" {print $2}' <<<"$output")" == ro* ]] || fail "$output"
	[ "${lines[-1]}" = done ]
	[ ! -e "$BUNDLE/rootfs/ro-dir/x" ]
}

@test "default /dev: devices, symlinks, pts, shm, mqueue; /sys and /proc" {
	make_bundle
	config_args sh -c '
		for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo "c $d"; done
		for l in fd stdin stdout stderr ptmx; do [ -L /dev/$l ] && echo "l $l $(readlink /dev/$l)"; done
		[ -d /dev/pts ] && echo pts
		for m in /dev /dev/pts /dev/shm /dev/mqueue /sys /proc; do
			awk -v m=$m "\$5 == m {print \"m \" m \" \" \$(NF-2)}" /proc/self/mountinfo | tail -1
		done
		head -c 4 /dev/zero | wc -c
		echo x >/dev/null && echo null-ok'
	run_file run_fg
	assert_status 0
	local d
	for d in null zero full random urandom tty; do
		grep -qx "c $d" <<<"$output" || fail "no /dev/$d: $output"
	done
	grep -qx "l fd /proc/self/fd" <<<"$output"
	grep -qx "l stdin /proc/self/fd/0" <<<"$output"
	grep -qx "l stdout /proc/self/fd/1" <<<"$output"
	grep -qx "l stderr /proc/self/fd/2" <<<"$output"
	grep -qx "l ptmx pts/ptmx" <<<"$output"
	grep -qx pts <<<"$output"
	grep -qx "m /dev tmpfs" <<<"$output"
	grep -qx "m /dev/pts devpts" <<<"$output"
	grep -qx "m /dev/shm tmpfs" <<<"$output"
	grep -qx "m /dev/mqueue mqueue" <<<"$output"
	grep -qx "m /sys sysfs" <<<"$output"
	grep -qx "m /proc proc" <<<"$output"
	grep -qx 4 <<<"$output"
	grep -qx null-ok <<<"$output"
}

@test "default /dev: only the default devices" {
	make_bundle
	config_args sh -c 'ls /dev'
	run_file run_fg
	assert_status 0
	! grep -qx -e sda -e vda -e mem -e kmsg <<<"$output" || fail "host devices leaked: $output"
}

@test "linux.devices: a char device with major, minor, mode, uid, gid" {
	make_bundle
	config_set '.linux.devices = [{path: "/dev/mynull", type: "c", major: 1, minor: 3,
		fileMode: 438, uid: 1, gid: 2}]
		| .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 3, access: "rwm"}]'
	config_args sh -c 'stat -c "%F %t %T %a %u %g" /dev/mynull; echo x >/dev/mynull && echo write-ok'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = "character special file 1 3 666 1 2" ]
	[ "${lines[1]}" = write-ok ]
}

@test "linux.devices: a device node in a new directory" {
	make_bundle
	config_set '.linux.devices = [{path: "/dev/sub/zero", type: "c", major: 1, minor: 5, fileMode: 438}]'
	config_args sh -c 'stat -c "%F %t %T %a" /dev/sub/zero'
	run_file run_fg
	assert_status 0
	[ "$output" = "character special file 1 5 666" ]
}

@test "rootfsPropagation private is accepted" {
	make_bundle
	config_set '.linux.rootfsPropagation = "private"'
	config_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	run_file run_fg
	assert_status 0
	! grep -q 'shared:' <<<"$output"
}

@test "create --no-pivot: the root is still the bundle's rootfs" {
	make_bundle
	echo "marker-$ID" >"$BUNDLE/rootfs/marker"
	config_args sh -c 'cat /marker; ls /bin/busybox'
	create_container "$ID" --no-pivot
	assert_status 0
	ocirun start "$ID"
	retry 50 0.1 status_is stopped
	run cat "$TMP/$ID.out"
	[ "${lines[0]}" = "marker-$ID" ]
	[ "${lines[1]}" = /bin/busybox ]
}

@test "/proc/1/mountinfo shows the rootfs as /" {
	make_bundle
	config_args cat /proc/1/mountinfo
	run_file run_fg
	assert_status 0
	# exactly one mount at /, and it is the bundle's rootfs (same root inside it).
	[ "$(awk '$5 == "/"' <<<"$output" | wc -l)" = 1 ]
	local root
	root=$(awk '$5 == "/" {print $4}' <<<"$output")
	[[ "$root" == */rootfs ]] || fail "root of /: $root"
}

@test "the rootfs is not visible on the host's mount table" {
	make_bundle
	config_args sleep 100
	run_detached
	assert_status 0
	[ -z "$(mounts_under "$TMP")" ]
}

@test "a mount of an unknown type fails and names the destination" {
	make_bundle
	config_mount /weird nosuchfs none
	config_args true
	run_file run_fg
	assert_failure
	assert_output_contains_any /weird nosuchfs
	assert_nothing_left
}

@test "a bind of a missing source fails and names it" {
	make_bundle
	config_mount /data bind "$TMP/no-such-source" bind
	config_args true
	run_file run_fg
	assert_failure
	assert_output_contains no-such-source
	assert_nothing_left
}
