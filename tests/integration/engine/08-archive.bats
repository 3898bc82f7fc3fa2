#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Files in and out of containers: docker cp both ways (running and stopped containers, files,
# directories, -a, "-" as a tar on stdin and stdout), symlinks in the container resolved in
# the container (never the host's files), the archive endpoints through curl (HEAD's
# X-Docker-Container-Path-Stat, a hostile PUT refused whole), docker export and docker diff;
# then the same through berth (cp, export -o, diff). The image is busybox:latest.

bats_require_minimum_version 1.5.0

load ../helpers
load ../supervisor/supervisor-helpers
load engine-helpers

BERTH=$(bin_of engine/berth)

setup() {
	engine_setup_containers
}

teardown() {
	engine_teardown
}

# has_line LINE: one of the output's lines is exactly LINE.
has_line() {
	printf '%s\n' "${lines[@]}" | grep -qxF -- "$1" || fail "no line \`$1\` in: $output"
}

# lacks TEXT: the output does not contain TEXT.
lacks() {
	[[ "$output" != *"$1"* ]] || fail "\`$1\` in: $output"
}

berthcli() {
	BERTH_HOST="unix://$ESOCK" timeout -k 5 120 "$BERTH" "$@"
}

# path_stat CONTAINER PATH: the decoded X-Docker-Container-Path-Stat of a HEAD, or the status.
path_stat() {
	local hdr
	hdr=$(timeout 60 curl -sS -I --unix-socket "$ESOCK" \
		"http://berthd/containers/$1/archive?path=$2" | tr -d '\r')
	echo "$hdr" | head -1
	echo "$hdr" | sed -n 's/^X-Docker-Container-Path-Stat: //ip' | base64 -d
}

# put_tar CONTAINER PATH TARFILE: PUT the tar, print the body and the status.
put_tar() {
	api -X PUT -H 'Content-Type: application/x-tar' --data-binary "@$3" \
		"/containers/$1/archive?path=$2"
}

# mktar OUT SPEC...: a tar made with python's tarfile. SPEC: f:NAME:DATA (file), d:NAME,
# l:NAME:TARGET (symlink), h:NAME:TARGET (hard link).
mktar() {
	/usr/bin/python3 - "$@" <<'EOF'
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for spec in sys.argv[2:]:
        kind, name, *rest = spec.split(":", 2)
        i = tarfile.TarInfo(name)
        i.mode = 0o644
        if kind == "f":
            data = rest[0].encode()
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
            continue
        if kind == "d":
            i.type, i.mode = tarfile.DIRTYPE, 0o755
        elif kind == "l":
            i.type, i.linkname = tarfile.SYMTYPE, rest[0]
        elif kind == "h":
            i.type, i.linkname = tarfile.LNKTYPE, rest[0]
        t.addfile(i)
EOF
}

# ---------------------------------------------------------------------------------------
# docker cp
# ---------------------------------------------------------------------------------------

@test "docker cp: files and directories both ways, running then stopped" {
	mkdir -p "$TMP/src/sub"
	echo one >"$TMP/src/a"
	echo two >"$TMP/src/sub/b"
	ln -s a "$TMP/src/lnk"
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli cp "$TMP/src" "$C:/dst"
	assert_status 0
	run dockercli exec "$C" sh -c 'cat /dst/a /dst/sub/b; readlink /dst/lnk'
	assert_status 0
	[ "$output" = "$(printf 'one\ntwo\na')" ]
	# Into an existing directory: the source's last element goes inside it.
	run dockercli cp "$TMP/src/a" "$C:/dst/sub"
	assert_status 0
	run dockercli exec "$C" cat /dst/sub/a
	[ "$output" = one ]
	# A file onto a new name.
	run dockercli cp "$TMP/src/a" "$C:/tmp/renamed"
	assert_status 0
	run dockercli exec "$C" cat /tmp/renamed
	[ "$output" = one ]
	# Out of it.
	run dockercli cp "$C:/dst" "$TMP/back"
	assert_status 0
	[ "$(cat "$TMP/back/sub/b")" = two ]
	[ "$(readlink "$TMP/back/lnk")" = a ]
	# SRC ending in /. copies the directory's contents, into an existing directory too.
	run dockercli cp "$C:/dst/." "$TMP/dotcopy"
	assert_status 0
	[ "$(cat "$TMP/dotcopy/a")" = one ] && [ "$(cat "$TMP/dotcopy/sub/b")" = two ]
	mkdir -p "$TMP/dotinto"
	run dockercli cp "$C:/dst/." "$TMP/dotinto"
	assert_status 0
	[ "$(cat "$TMP/dotinto/a")" = one ]
	run dockercli cp "$TMP/src/." "$C:/dst2"
	assert_status 0
	run dockercli exec "$C" cat /dst2/sub/b
	[ "$output" = two ]
	dockercli exec "$C" sh -c 'echo later >/dst/later'
	dockercli stop -t 0 "$C"
	# Stopped: both ways through the layer.
	run dockercli cp "$C:/dst/later" "$TMP/later"
	assert_status 0
	[ "$(cat "$TMP/later")" = later ]
	echo stopped >"$TMP/st"
	run dockercli cp "$TMP/st" "$C:/dst/"
	assert_status 0
	dockercli start "$C"
	run dockercli exec "$C" cat /dst/st
	[ "$output" = stopped ]
}

@test "docker cp -a: the tar's owners, or the container user's" {
	mkdir -p "$TMP/own"
	echo x >"$TMP/own/f"
	chown 1234:2345 "$TMP/own/f"
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli cp -a "$TMP/own/f" "$C:/tmp/f"
	assert_status 0
	run dockercli exec "$C" stat -c '%u:%g' /tmp/f
	[ "$output" = "1234:2345" ]
	# Out of it, the tar carries the owners (the CLI itself does not chown on the host).
	dockercli exec "$C" sh -c 'echo y >/tmp/g && chown 7:8 /tmp/g'
	run bash -c "DOCKER_HOST=unix://$ESOCK docker cp $C:/tmp/g - | tar tv --numeric-owner"
	assert_status 0
	assert_output_contains "7/8"
	# A container with a Config.User: -a makes the files that user's.
	dockercli run -d --name "$C-u" -u 4321:5432 busybox sleep 1000
	run dockercli cp -a "$TMP/own/f" "$C-u:/tmp/f"
	assert_status 0
	run dockercli exec "$C-u" stat -c '%u:%g' /tmp/f
	[ "$output" = "4321:5432" ]
	run dockercli cp "$TMP/own/f" "$C-u:/tmp/f2"
	assert_status 0
	run dockercli exec "$C-u" stat -c '%u:%g' /tmp/f2
	[ "$output" = "1234:2345" ]
}

@test "docker cp with - : a tar on stdout and from stdin" {
	dockercli run -d --name "$C" busybox sh -c 'mkdir /d && echo hi >/d/f && sleep 1000'
	retry 50 0.1 dockercli exec "$C" test -f /d/f
	run bash -c "DOCKER_HOST=unix://$ESOCK docker cp $C:/d - | tar t"
	assert_status 0
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "d/ d/f " ]
	mkdir -p "$TMP/t"
	echo piped >"$TMP/t/p"
	run bash -c "tar -C '$TMP/t' -cf - p | DOCKER_HOST=unix://$ESOCK docker cp - $C:/d"
	assert_status 0
	run dockercli exec "$C" cat /d/p
	[ "$output" = piped ]
	# Into a directory that is not there: the CLI's stat finds nothing.
	run bash -c "tar -C '$TMP/t' -cf - p | DOCKER_HOST=unix://$ESOCK docker cp - $C:/nowhere"
	assert_failure
	assert_output_contains "must be a directory"
	run bash -c "tar -C '$TMP/t' -cf - p | curl -sS --unix-socket $ESOCK -X PUT --data-binary @- -w '\n%{http_code}' 'http://berthd/containers/$C/archive?path=/nowhere'"
	assert_output_contains "Could not find the file /nowhere in container $C"
	[ "${lines[-1]}" = 404 ]
}

@test "docker cp: missing paths and containers give docker's errors" {
	dockercli run -d --name "$C" busybox sleep 1000
	run dockercli cp "$C:/nothere" "$TMP/x"
	assert_failure
	assert_output_contains "Could not find the file /nothere in container $C"
	[ ! -e "$TMP/x" ]
	run dockercli cp "$ID-none:/etc/passwd" "$TMP/x"
	assert_failure
	assert_output_contains "No such container"
	run api -X PUT --data-binary '' "/containers/$C/archive"
	[ "$(api_status)" = 400 ]
	assert_output_contains "path"
}

@test "docker cp: symlinks resolve inside the container, never to the host's files" {
	dockercli run -d --name "$C" busybox sh -c \
		'echo container-shadow >/etc/shadow && ln -s /etc/shadow /abs && ln -s ../../../../../etc/shadow /tmp/rel && ln -s / /rootlink && sleep 1000'
	retry 50 0.1 dockercli exec "$C" test -L /rootlink
	# The link itself without -L, its target with -L: the container's file either way.
	run dockercli cp "$C:/abs" "$TMP/abs"
	assert_status 0
	[ -L "$TMP/abs" ] && [ "$(readlink "$TMP/abs")" = /etc/shadow ]
	run dockercli cp -L "$C:/abs" "$TMP/absL"
	assert_status 0
	[ "$(cat "$TMP/absL")" = container-shadow ]
	run dockercli cp -L "$C:/tmp/rel" "$TMP/relL"
	assert_status 0
	[ "$(cat "$TMP/relL")" = container-shadow ]
	run dockercli cp "$C:/rootlink/etc/shadow" "$TMP/through"
	assert_status 0
	[ "$(cat "$TMP/through")" = container-shadow ]
	# The stat's linkTarget is the path in the container.
	run path_stat "$C" /tmp/rel
	assert_output_contains "200"
	assert_output_contains '"linkTarget":"/etc/shadow"'
	# Writing through a link stays in the container too.
	echo written >"$TMP/w"
	run dockercli cp "$TMP/w" "$C:/rootlink/tmp/w"
	assert_status 0
	[ ! -e /tmp/w ] || [ "$(cat /tmp/w)" != written ]
	run dockercli exec "$C" cat /tmp/w
	[ "$output" = written ]
	# Stopped: the same, through the layer's mount.
	dockercli stop -t 0 "$C"
	run dockercli cp -L "$C:/tmp/rel" "$TMP/relS"
	assert_status 0
	[ "$(cat "$TMP/relS")" = container-shadow ]
}

@test "docker cp: a read-only rootfs refuses writes with docker's 403" {
	dockercli run -d --read-only -v "$ID-rw:/data" --name "$C" busybox sleep 1000
	echo x >"$TMP/ro"
	# A volume of a read-only container takes files, running or stopped.
	run dockercli cp "$TMP/ro" "$C:/data/ro"
	assert_status 0
	run dockercli cp "$TMP/ro" "$C:/ro"
	assert_failure
	assert_output_contains "container rootfs is marked read-only"
	mktar "$TMP/ro.tar" f:ro:x
	run put_tar "$C" / "$TMP/ro.tar"
	[ "$(api_status)" = 403 ]
	dockercli stop -t 0 "$C"
	run put_tar "$C" / "$TMP/ro.tar"
	[ "$(api_status)" = 403 ]
	assert_output_contains "container rootfs is marked read-only"
	run put_tar "$C" /data "$TMP/ro.tar"
	[ "$(api_status)" = 200 ]
	dockercli start "$C"
	run dockercli exec "$C" test -e /ro
	assert_failure
	run dockercli exec "$C" cat /data/ro
	[ "$output" = x ]
	dockercli rm -f "$C"
	dockercli volume rm "$ID-rw"
}

@test "docker cp: a stopped container's volumes and binds are its files, read-only ones refused" {
	mkdir -p "$TMP/hostdir"
	echo host-side >"$TMP/hostdir/h"
	dockercli run --name "$C" -v "$ID-vol:/data" -v "$TMP/hostdir:/ro:ro" busybox \
		sh -c 'echo in-volume >/data/f'
	run dockercli cp "$C:/data/f" "$TMP/f"
	assert_status 0
	[ "$(cat "$TMP/f")" = in-volume ]
	run dockercli cp "$C:/ro/h" "$TMP/h"
	assert_status 0
	[ "$(cat "$TMP/h")" = host-side ]
	echo copied >"$TMP/new"
	run dockercli cp "$TMP/new" "$C:/data/new"
	assert_status 0
	run dockercli run --rm -v "$ID-vol:/data" busybox cat /data/new
	[ "$output" = copied ]
	run dockercli cp "$TMP/new" "$C:/ro/new"
	assert_failure
	assert_output_contains "mounted volume is marked read-only"
	[ ! -e "$TMP/hostdir/new" ]
	# Nothing stays mounted once the copies are done.
	run grep -c "$ESTATE/rootfs-" /proc/self/mountinfo
	[ "$output" = 0 ]
	dockercli rm -f "$C"
	dockercli volume rm "$ID-vol"
}

# ---------------------------------------------------------------------------------------
# the endpoints
# ---------------------------------------------------------------------------------------

@test "HEAD archive: the path's stat as base64 JSON" {
	dockercli run -d --name "$C" busybox sh -c 'printf 12345 >/tmp/five && mkdir /tmp/dir && sleep 1000'
	retry 50 0.1 dockercli exec "$C" test -d /tmp/dir
	run path_stat "$C" /tmp/five
	[[ "${lines[0]}" == *" 200"* ]]
	local js=${lines[1]}
	[ "$(echo "$js" | /usr/bin/python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["name"], o["size"], oct(o["mode"]), o["linkTarget"] == "")')" = "five 5 0o644 True" ]
	run path_stat "$C" /tmp/dir
	js=${lines[1]}
	# A directory: Go's os.ModeDir (1<<31) with the permissions.
	[ "$(echo "$js" | /usr/bin/python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["name"], o["mode"] >> 31, oct(o["mode"] & 0o777))')" = "dir 1 0o755" ]
	run path_stat "$C" /tmp/missing
	[[ "${lines[0]}" == *" 404"* ]]
	run path_stat "$ID-none" /tmp
	[[ "${lines[0]}" == *" 404"* ]]
}

@test "PUT archive: a hostile tar is refused whole with 400 and writes nothing" {
	dockercli run -d --name "$C" busybox sh -c 'mkdir /dst && sleep 1000'
	retry 50 0.1 dockercli exec "$C" test -d /dst
	local tar
	mktar "$TMP/dotdot.tar" f:ok1:ok "f:../escape1:bad"
	mktar "$TMP/abs.tar" f:ok2:ok "f:/escape2:bad"
	mktar "$TMP/symfile.tar" f:ok3:ok l:lnk:/etc "f:lnk/escape3:bad"
	mktar "$TMP/symrel.tar" f:ok4:ok l:up:../../.. "f:ok5:ok"
	mktar "$TMP/hard.tar" f:ok6:ok "h:hl:../../etc/passwd"
	for tar in dotdot abs symfile symrel hard; do
		run put_tar "$C" /dst "$TMP/$tar.tar"
		echo "$tar: $output"
		[ "$(api_status)" = 400 ]
	done
	assert_output_contains "outside"
	run dockercli exec "$C" sh -c 'ls -A /dst; ls /escape1 /escape2 /etc/escape3 2>&1'
	[ "${lines[0]}" != ok1 ]
	lacks "ok"
	[ ! -e /escape1 ] && [ ! -e /escape2 ] && [ ! -e /etc/escape3 ]
	# A good tar after all that lands.
	mktar "$TMP/good.tar" d:sub f:sub/file:fine l:sub/l:file
	run put_tar "$C" /dst "$TMP/good.tar"
	[ "$(api_status)" = 200 ]
	run dockercli exec "$C" cat /dst/sub/l
	[ "$output" = fine ]
	# noOverwriteDirNonDir: a file onto a directory is refused.
	mktar "$TMP/over.tar" f:sub:notadir
	run put_tar "$C" "/dst&noOverwriteDirNonDir=true" "$TMP/over.tar"
	[ "$(api_status)" = 400 ]
	run dockercli exec "$C" test -d /dst/sub
	assert_status 0
	# Not a tar at all.
	echo "plain text" >"$TMP/plain"
	run put_tar "$C" /dst "$TMP/plain"
	[ "$(api_status)" = 400 ]
}

# ---------------------------------------------------------------------------------------
# export and diff
# ---------------------------------------------------------------------------------------

@test "docker export: the whole root filesystem as a tar, without /proc's contents" {
	dockercli run -d --name "$C" busybox sh -c 'echo mark >/marker && sleep 1000'
	retry 50 0.1 dockercli exec "$C" test -f /marker
	run bash -c "DOCKER_HOST=unix://$ESOCK docker export $C | tar t"
	assert_status 0
	has_line marker
	has_line etc/passwd
	has_line bin/busybox
	lacks "proc/1/"
	run dockercli export -o "$TMP/exp.tar" "$C"
	assert_status 0
	[ "$(tar -xOf "$TMP/exp.tar" marker)" = mark ]
	dockercli stop -t 0 "$C"
	run bash -c "DOCKER_HOST=unix://$ESOCK docker export $C | tar t"
	assert_status 0
	has_line marker
	run dockercli export "$ID-none"
	assert_failure
	assert_output_contains "No such container"
}

@test "docker diff: A, C and D lines for added, changed and deleted files" {
	dockercli run -d --name "$C" busybox sh -c \
		'echo new >/added && echo more >>/etc/passwd && rm /etc/group && mkdir -p /newdir/sub && touch /newdir/sub/f && sleep 1000'
	retry 50 0.1 dockercli exec "$C" test -f /newdir/sub/f
	run dockercli diff "$C"
	assert_status 0
	has_line "A /added"
	has_line "C /etc"
	has_line "C /etc/passwd"
	has_line "D /etc/group"
	has_line "A /newdir"
	has_line "A /newdir/sub/f"
	lacks "/bin"
	# The parent comes before what changed in it, as docker's walk lists them.
	[ "$(printf '%s\n' "${lines[@]}" | grep -n '^C /etc$' | cut -d: -f1)" -lt \
		"$(printf '%s\n' "${lines[@]}" | grep -n '^C /etc/passwd$' | cut -d: -f1)" ]
	dockercli stop -t 0 "$C"
	run dockercli diff "$C"
	assert_status 0
	has_line "D /etc/group"
	run api "/containers/$ID-none/changes"
	[ "$(api_status)" = 404 ]
}

# ---------------------------------------------------------------------------------------
# berth
# ---------------------------------------------------------------------------------------

@test "berth cp, export -o and diff" {
	mkdir -p "$TMP/bsrc"
	echo berth >"$TMP/bsrc/f"
	berthcli run -d --name "$C" busybox sleep 1000
	run berthcli cp "$TMP/bsrc" "$C:/bdst"
	assert_status 0
	run berthcli exec "$C" cat /bdst/f
	[ "$output" = berth ]
	run berthcli cp "$C:/bdst" "$TMP/bback"
	assert_status 0
	[ "$(cat "$TMP/bback/f")" = berth ]
	run berthcli cp "$C:/bdst/." "$TMP/bdot"
	assert_status 0
	[ "$(cat "$TMP/bdot/f")" = berth ]
	mkdir -p "$TMP/bdotinto"
	run berthcli cp "$C:/bdst/." "$TMP/bdotinto"
	assert_status 0
	[ "$(cat "$TMP/bdotinto/f")" = berth ]
	run berthcli cp "$C:/nothere" "$TMP/bx"
	assert_failure
	assert_output_contains "Could not find the file /nothere in container $C"
	# -L copies a link's target under the link's name; -a gives the files to the container's
	# user.
	berthcli exec "$C" sh -c 'echo target >/tmp/t && ln -s /tmp/t /tmp/l'
	run berthcli cp -L "$C:/tmp/l" "$TMP/"
	assert_status 0
	[ ! -L "$TMP/l" ] && [ "$(cat "$TMP/l")" = target ]
	run berthcli cp "$C:/tmp/l" "$TMP/l2"
	assert_status 0
	[ "$(readlink "$TMP/l2")" = /tmp/t ]
	run berthcli cp -L "$C:/tmp/none" "$TMP/"
	assert_failure
	assert_output_contains "No such container:path: $C:/tmp/none"
	berthcli run -d --name "$C-u" -u 4321:5432 busybox sleep 1000
	run berthcli cp -a "$TMP/bsrc/f" "$C-u:/tmp/f"
	assert_status 0
	run berthcli exec "$C-u" stat -c '%u:%g' /tmp/f
	[ "$output" = "4321:5432" ]
	run berthcli export -o "$TMP/b.tar" "$C"
	assert_status 0
	tar tf "$TMP/b.tar" | grep -qx bdst/f
	run bash -c "BERTH_HOST=unix://$ESOCK $BERTH export $C | tar t"
	assert_status 0
	has_line bdst/f
	run berthcli diff "$C"
	assert_status 0
	has_line "A /bdst"
	has_line "A /bdst/f"
	run berthcli export "$ID-none"
	assert_failure
	assert_output_contains "No such container"
	run berthcli diff
	[ "$status" = 1 ] || [ "$status" = 125 ]
	# A terminal on stdout without -o: docker's refusal.
	run script -qec "env BERTH_HOST=unix://$ESOCK $BERTH export $C" /dev/null
	assert_failure
	assert_output_contains "cowardly refusing to save to a terminal. Use the -o flag or redirect"
}
