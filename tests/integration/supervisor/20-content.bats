#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Content: berth-ctr content ls, get, rm and active against a running supervisor. Nothing
# writes blobs over the API yet, so the tests put them where the content store keeps them:
# a file named by its digest is a blob (without a metadata row, its times are the file's).

load ../helpers
load supervisor-helpers

# put_blob FILE: store FILE as a blob by hand; prints its digest.
put_blob() {
	local hex
	hex=$(sha256sum "$1" | cut -d' ' -f1)
	mkdir -p "$SROOT/content/blobs/sha256"
	cp "$1" "$SROOT/content/blobs/sha256/$hex"
	chmod 0444 "$SROOT/content/blobs/sha256/$hex"
	echo "sha256:$hex"
}

@test "content: ls, get and rm of blobs" {
	printf 'small blob\n' >"$TMP/small"
	head -c $((20 * 1024 * 1024 + 123)) /dev/urandom >"$TMP/big"
	local small big
	small=$(put_blob "$TMP/small")
	big=$(put_blob "$TMP/big")
	start_supervisor

	run ctr content ls
	assert_status 0
	[[ "${lines[0]}" =~ ^DIGEST\ +SIZE\ +AGE\ +LABELS$ ]]
	assert_output_contains "$small" "$big" "11B" "20.97MB"
	run ctr content ls -q
	assert_status 0
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf '%s\n%s' "$small" "$big" | sort)" ]
	run ctr content ls 'size==11'
	assert_status 0
	[ "${#lines[@]}" = 2 ]
	assert_output_contains "$small"

	# get: the exact bytes, a large blob read in several windows.
	ctr content get "$small" >"$TMP/small.out"
	cmp "$TMP/small" "$TMP/small.out"
	ctr content get "$big" >"$TMP/big.out"
	cmp "$TMP/big" "$TMP/big.out"

	# rm: each digest printed, a missing one reported and the status 1.
	"$CTR" --address "$SOCK" events 'topic==/content/delete' >"$TMP/events" 2>&1 3>&- &
	local events=$!
	sleep 0.5
	run ctr content rm "$small" "$small"
	assert_status 1
	assert_output_contains "$small" "content \`$small\` not found"
	[ ! -e "$SROOT/content/blobs/sha256/${small#sha256:}" ]
	retry 50 0.1 grep -q /content/delete "$TMP/events"
	kill "$events"
	wait "$events" || true
	run ctr content ls -q
	assert_status 0
	[ "$output" = "$big" ]
	run ctr content get "$small"
	assert_failure
	assert_output_contains "content \`$small\` not found"
}

@test "content: bad digests are refused" {
	start_supervisor
	run ctr content get sha256:abc
	assert_failure
	assert_output_contains "invalid digest \`sha256:abc\`: expected 64 lowercase hex digits"
	run ctr content rm md5:abc
	assert_failure
	assert_output_contains "unsupported digest algorithm"
	run ctr content ls 'size='
	assert_failure
}

@test "content: active lists ingests left behind" {
	local ref="pull/docker.io/library/busybox:latest/layer" key
	key=$(printf '%s' "$ref" | sha256sum | cut -d' ' -f1)
	mkdir -p "$SROOT/content/ingest/$key"
	head -c 1500 /dev/zero >"$SROOT/content/ingest/$key/data"
	echo "$(date +%s)000000000" >"$SROOT/content/ingest/$key/startedat"
	echo 3000 >"$SROOT/content/ingest/$key/total"
	echo "$ref" >"$SROOT/content/ingest/$key/ref"
	start_supervisor
	run ctr content active
	assert_status 0
	assert_output_contains "$ref" "1.5kB/3kB"
}
