#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A full disk: the supervisor's root (content, snapshots, metadata.db) or berthd's root
# (engine.db, the containers' logs) on a small tmpfs that fills up during a pull or while a
# container logs. Each gives an error naming the lack of space, never corruption: what was
# stored before is intact and readable, no half-pulled image is listed, every line of a log
# is whole, and once there is room again the same operations succeed.

load ../helpers
load ../supervisor/supervisor-helpers
load ../supervisor/registry-helpers
load engine-helpers

MAKE_BIG_IMAGE=${BERTH_SOURCE_DIR:-.}/tests/bench/make-big-image

setup() {
	command -v jq >/dev/null || skip "jq is not installed"
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	engine_setup
	MOUNTED=()
	on_teardown unmount_all
}

teardown() {
	engine_teardown
}

# A tmpfs of the given size on dir (made empty first).
small_disk() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0711" tmpfs "$1"
	MOUNTED+=("$1")
}

grow_disk() {
	mount -o "remount,size=$2" "$1"
}

unmount_all() {
	local m
	for m in "${MOUNTED[@]}"; do
		umount -l "$m" 2>/dev/null || true
	done
}

# Every blob in the supervisor's content store hashes to its name.
content_intact() {
	local f bad=0
	for f in "$SROOT"/content/blobs/sha256/*; do
		[ -f "$f" ] || continue
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "${f##*/}" ] || {
			echo "blob ${f##*/} does not hash to its name" >&2
			bad=1
		}
	done
	return $bad
}

@test "full disk: a pull that fills the supervisor's root fails cleanly and succeeds with room" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	require_skopeo
	small_disk "$SROOT" 24m
	start_supervisor
	start_berthd
	load_busybox
	start_registry reg
	"$MAKE_BIG_IMAGE" "$TMP/big" 40 2 >/dev/null
	skopeo copy -q --dest-tls-verify=false "oci:$TMP/big:1" "docker://$REG/big:1"

	run dockercli pull "$REG/big:1"
	assert_failure
	assert_output_contains "no space left on device"
	# Nothing half made is listed, what was there is intact, and the stack still works.
	run dockercli images --format '{{.Repository}}'
	assert_status 0
	! echo "$output" | grep -q big || false
	content_intact
	# The partial download stays for the next pull to resume, so the disk is still full: a
	# container cannot get its layer now, and says why.
	run dockercli run --rm busybox echo still fine
	assert_failure
	assert_output_contains "disk is full"
	[ "$(sqlite3 "$SROOT/metadata.db" 'PRAGMA integrity_check')" = ok ]

	# With room, the same pull completes, resuming or redoing what it had.
	grow_disk "$SROOT" 512m
	run dockercli pull "$REG/big:1"
	assert_status 0
	run dockercli image inspect --format '{{.Id}}' "$REG/big:1"
	assert_status 0
	content_intact
	run dockercli run --rm busybox echo room again
	assert_status 0
	[ "$output" = "room again" ]
}

@test "full disk: a container logging into a full engine root; whole lines, and logging resumes" {
	small_disk "$EROOT" 6m
	start_supervisor
	start_berthd
	load_busybox
	# ~1 KiB numbered lines, fast, well past the room left; then one more once told to go on.
	mkdir -p "$TMP/go"
	run dockercli run -d --name "$ID-log" -v "$TMP/go:/go" busybox sh -c \
		'i=0; while [ $i -lt 10000 ]; do printf "%08d %0990d\n" $i 0; i=$((i+1)); done;
		 touch /go/written; while [ ! -e /go/on ]; do sleep 0.1; done; echo after-the-room'
	assert_status 0
	local log
	log=$(dockercli inspect -f '{{.LogPath}}' "$ID-log")
	# The disk fills; the container is not stuck on its output (it goes on to wait for /go/on),
	# and what did not fit is dropped.
	retry 600 0.1 test -e "$TMP/go/written"
	[ "$(grep -c . "$log")" -lt 10000 ]

	# A new container cannot be made while there is no room at all: an error, not a crash.
	dd if=/dev/zero of="$EROOT/filler" bs=64k 2>/dev/null || true
	run dockercli create --name "$ID-new" busybox true
	assert_failure
	assert_output_contains "No space left on device"
	run dockercli ps -a --format '{{.Names}}'
	assert_status 0
	assert_output_contains "$ID-log"
	! echo "$output" | grep -q "$ID-new" || false
	[ "$(ls "$EROOT/containers" | wc -l)" = 1 ]

	rm "$EROOT/filler"
	grow_disk "$EROOT" 256m
	touch "$TMP/go/on"
	retry 100 0.1 test "$(dockercli inspect -f '{{.State.Status}}' "$ID-log")" = exited
	# Every line in the file is a whole JSON record; the logs read back in order.
	run jq -e -c 'select(.log and .stream and .time) | 1' "$log"
	assert_status 0
	[ "$(grep -c . "$log")" = "$(jq -c 1 "$log" | wc -l)" ]
	run dockercli logs "$ID-log"
	assert_status 0
	[ "${lines[-1]}" = after-the-room ]
	[ "$(printf '%s\n' "${lines[@]:0:${#lines[@]}-1}" | cut -c1-8)" = "$(printf '%s\n' "${lines[@]:0:${#lines[@]}-1}" | cut -c1-8 | sort)" ]
	[ "$(sqlite3 "$EROOT/engine.db" 'PRAGMA integrity_check')" = ok ]
	# And with room, a new container runs.
	run dockercli run --rm busybox echo room again
	assert_status 0
	[ "$output" = "room again" ]
}
