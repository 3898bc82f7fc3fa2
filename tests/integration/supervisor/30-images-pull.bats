#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The Images service end to end: berth-ctr images against a supervisor pulling from real
# registries (Debian's docker-registry): plain http on loopback, basic auth behind TLS, a
# multi-platform index, images sharing a base layer, a tampered blob, a supervisor killed
# mid-pull, and garbage collection. Images come from tests/fixtures/make-image, extended
# here with extra layers; remote-client pushes them.

load ../helpers
load supervisor-helpers
load registry-helpers

setup() {
	supervisor_setup
	registry_setup
}

# layered_image SRC DST KB: a copy of layout SRC whose image has one more layer on top: a
# gzip'd tar holding one file of KB kilobytes of random bytes (0: a line of text). Sets
# TOP_MANIFEST, TOP_LAYER (the new layer's blob) and TOP_DIFF (its diff id).
layered_image() {
	local src=$1 dst=$2 kb=$3 m cfg dir ls cd cs ms
	cp -a "$src" "$dst"
	m=$(jq -r '.manifests[0].digest' "$dst/index.json")
	cfg=$(jq -r .config.digest "$(blob_file "$dst" "$m")")
	dir=$TMP/layer-src
	rm -rf "$dir" && mkdir -p "$dir"
	if [ "$kb" -gt 0 ]; then
		head -c "$((kb * 1024))" /dev/urandom >"$dir/data"
	else
		echo "layer of $dst" >"$dir/data"
	fi
	tar -C "$dir" --owner=0 --group=0 --numeric-owner -cf "$TMP/layer.tar" data
	TOP_DIFF=sha256:$(sha256sum "$TMP/layer.tar" | cut -d' ' -f1)
	gzip -n -1 -c "$TMP/layer.tar" >"$TMP/layer.tgz"
	read -r TOP_LAYER ls < <(put_blob "$dst" "$TMP/layer.tgz")
	jq -c --arg d "$TOP_DIFF" '.rootfs.diff_ids += [$d]' "$(blob_file "$dst" "$cfg")" >"$TMP/cfg"
	read -r cd cs < <(put_blob "$dst" "$TMP/cfg")
	jq -c --arg c "$cd" --argjson cs "$cs" --arg l "$TOP_LAYER" --argjson ls "$ls" \
		'.config.digest = $c | .config.size = $cs |
		 .layers += [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
		              digest: $l, size: $ls}]' "$(blob_file "$dst" "$m")" >"$TMP/man"
	read -r TOP_MANIFEST ms < <(put_blob "$dst" "$TMP/man")
	jq -c --arg d "$TOP_MANIFEST" --argjson s "$ms" \
		'.manifests[0].digest = $d | .manifests[0].size = $s' "$dst/index.json" >"$TMP/idx"
	mv "$TMP/idx" "$dst/index.json"
}

# The first layer of make-image's image: its blob and diff id (BASE_LAYER, BASE_DIFF).
base_layer() {
	local m
	m=$(jq -r '.manifests[0].digest' "$1/index.json")
	BASE_LAYER=$(jq -r '.layers[0].digest' "$(blob_file "$1" "$m")")
	BASE_DIFF=$(jq -r '.rootfs.diff_ids[0]' \
		"$(blob_file "$1" "$(jq -r .config.digest "$(blob_file "$1" "$m")")")")
}

chain2() {
	echo "sha256:$(printf '%s %s' "$1" "$2" | sha256sum | cut -d' ' -f1)"
}

has_line() {
	grep -qxF -- "$1" <<<"$2"
}

@test "pull over plain http: content, snapshots by chain id, record, events; a second pull finds it all" {
	start_registry reg
	image_layout "$TMP/img"
	base_layer "$TMP/img"
	run rc push "$TMP/img" "$REG/test/busybox:1"
	assert_status 0
	local m
	m=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")
	start_supervisor
	ctr events >"$TMP/events" 2>&1 3>&- &
	local ev=$!
	on_teardown kill "$ev"

	run ctr images pull --plain-http "$REG/test/busybox:1"
	echo "$output"
	assert_status 0
	assert_output_contains "$REG/test/busybox:1@$m"
	run ctr images ls -q
	assert_status 0
	has_line "$REG/test/busybox:1" "$output"
	run ctr content ls -q
	has_line "$m" "$output"
	has_line "$BASE_LAYER" "$output"
	# The one layer is the snapshot named by its diff id (its chain id).
	run ctr snapshots ls -q
	has_line "$BASE_DIFF" "$output"
	run ctr images check "$REG/test/busybox:1"
	echo "$output"
	assert_status 0
	assert_output_contains "unpacked"
	retry 20 0.1 grep -q "/images/create" "$TMP/events"

	# Everything is there: nothing is downloaded again.
	run ctr images pull --plain-http "$REG/test/busybox:1"
	assert_status 0
	assert_output_contains "exists"
	[ "$(grep -c "GET /v2/test/busybox/blobs/$BASE_LAYER" "$TMP/reg/registry.log")" = 1 ]
	retry 20 0.1 grep -q "/images/update" "$TMP/events"

	# Bad references and unknown tags are clear errors.
	run ctr images pull --plain-http "$REG/test/Busybox:1"
	assert_failure
	assert_output_contains "invalid reference"
	run ctr images pull --plain-http "$REG/test/busybox:nope"
	assert_failure
	assert_output_contains "not found"
	run ctr images pull --plain-http --platform linux/s390x "$REG/test/busybox:1"
	assert_failure
	run ctr images ls -q
	[ "$(wc -l <<<"$output")" = 1 ]
}
