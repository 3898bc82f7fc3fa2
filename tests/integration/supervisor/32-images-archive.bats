#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Images.Import and Images.Export end to end, through `berth-ctr images import|export`:
# tests/fixtures/make-image's OCI layout and docker-archive imported and unpacked; hostile
# tarballs refused with nothing left once collected; export round trips to the same
# manifest; a two-platform index (registry-helpers' index_layout) unpacked and exported per
# platform or whole; and the other tools reading and writing these tarballs for real: a dockerd of
# this test's own (`docker load` of an export, `docker save` imported), skopeo
# (oci-archive: and docker-archive: both ways) and umoci (an export's layout unpacked).
# Each of those skips, saying why, when its tool is not installed.

load ../helpers
load supervisor-helpers
load registry-helpers

IMAGE=berth.test/busybox:latest

if [ -x /usr/bin/docker ]; then
	DOCKER_CLI=/usr/bin/docker
else
	DOCKER_CLI=$(command -v docker || echo docker)
fi

setup() {
	supervisor_setup
	# No client here may read the caller's docker credentials.
	export DOCKER_CONFIG=$TMP/docker-config
	start_supervisor
}

has_line() {
	grep -qxF -- "$1" <<<"$2"
}

# The manifest digest of the image in make-image's OCI tarball $1.
layout_manifest() {
	tar -xOf "$1" index.json | jq -r '.manifests[0].digest'
}

# The config digest of the image in make-image's OCI tarball $1.
layout_config() {
	local m
	m=$(layout_manifest "$1")
	tar -xOf "$1" "blobs/sha256/${m#sha256:}" | jq -r .config.digest
}

# Nothing is stored once garbage is collected: no image, blob, ingest or snapshot.
assert_store_empty() {
	run ctr images prune
	assert_status 0
	run ctr images ls -q
	[ -z "$output" ] || fail "images left: $output"
	run ctr content ls -q
	[ -z "$output" ] || fail "blobs left: $output"
	run ctr content active
	[ "$(grep -c . <<<"$output")" -le 1 ] || fail "ingests left: $output"
	run ctr snapshots ls -q
	[ -z "$output" ] || fail "snapshots left: $output"
}

@test "import: make-image's OCI layout is stored, named and unpacked" {
	local tar m
	tar=$(image_archive)
	m=$(layout_manifest "$tar")
	run ctr images import "$tar"
	assert_status 0
	[ "$output" = "$IMAGE@$m" ] || fail "import printed: $output"
	run ctr images check "$IMAGE"
	assert_status 0
	assert_output_contains "complete (3/3)" "true"
	run ctr content ls -q
	has_line "$m" "$output"
	# Again: the same image, updated in place.
	run ctr images import "$tar"
	assert_status 0
	[ "$output" = "$IMAGE@$m" ] || fail "second import printed: $output"
	run ctr images ls -q
	[ "$output" = "$IMAGE" ] || fail "images: $output"
}

@test "import: make-image's docker-archive, gzipped, with tags normalized, labels and no unpack" {
	"$MAKE_IMAGE" docker "$TMP/docker.tar" busybox:1.36 >&2
	gzip -n "$TMP/docker.tar"
	run ctr images import --skip-unpack --label origin=test "$TMP/docker.tar.gz"
	assert_status 0
	assert_output_contains "docker.io/library/busybox:1.36@sha256:"
	# Complete, not unpacked (check says so, and fails for it).
	run ctr images check docker.io/library/busybox:1.36
	assert_output_contains "complete (3/3)" "false"
	run ctr images ls
	assert_output_contains "origin=test"
	run ctr snapshots ls -q
	[ -z "$output" ] || fail "--skip-unpack unpacked: $output"
}

@test "import: an unnamed image gets the base name with its digest" {
	local tar m
	tar=$(image_archive)
	mkdir "$TMP/l" && tar -xf "$tar" -C "$TMP/l"
	jq -c 'del(.manifests[0].annotations)' "$TMP/l/index.json" >"$TMP/idx"
	mv "$TMP/idx" "$TMP/l/index.json"
	tar -C "$TMP/l" -cf "$TMP/unnamed.tar" .
	m=$(layout_manifest "$tar")
	run ctr images import --base-name example.com/app "$TMP/unnamed.tar"
	assert_status 0
	assert_output_contains "example.com/app@$m"
	run ctr images ls -q
	[ "$output" = "example.com/app@$m" ] || fail "images: $output"
	run ctr images import --base-name example.com/app:tag "$TMP/unnamed.tar"
	assert_failure
	assert_output_contains "base name" "a repository has no tag or digest"
}

@test "import: hostile tarballs are refused, naming the problem, and leave only garbage" {
	local tar
	tar=$(image_archive)
	mkdir "$TMP/l" && tar -xf "$tar" -C "$TMP/l"
	local layer
	layer=$(ls "$TMP/l/blobs/sha256" | head -1)

	# A blob whose bytes are not its digest.
	cp -a "$TMP/l" "$TMP/forged"
	chmod u+w "$TMP/forged/blobs/sha256/$layer"
	echo forged >"$TMP/forged/blobs/sha256/$layer"
	tar -C "$TMP/forged" -cf "$TMP/forged.tar" .
	run ctr images import "$TMP/forged.tar"
	assert_failure
	assert_output_contains "blobs/sha256/$layer" "its bytes hash to"

	# A blob missing.
	cp -a "$TMP/l" "$TMP/missing"
	rm "$TMP/missing/blobs/sha256/$layer"
	tar -C "$TMP/missing" -cf "$TMP/missing.tar" .
	run ctr images import "$TMP/missing.tar"
	assert_failure
	assert_output_contains "sha256:$layer is not in the archive"

	# A path out of the tar, and a link out of it.
	/usr/bin/python3 - "$TMP/escape.tar" "$TMP/link.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../etc/evil"); i.size = 1
    t.addfile(i, io.BytesIO(b"x"))
with tarfile.open(sys.argv[2], "w") as t:
    i = tarfile.TarInfo("x/layer.tar"); i.type = tarfile.SYMTYPE; i.linkname = "/etc/shadow"
    t.addfile(i)
EOF
	run ctr images import "$TMP/escape.tar"
	assert_failure
	assert_output_contains "entry \`../../etc/evil\`"
	[ ! -e "$SROOT/../etc/evil" ]
	run ctr images import "$TMP/link.tar"
	assert_failure
	assert_output_contains "symbolic link to \`/etc/shadow\` leads outside"

	# Not a tar, not there, not absolute.
	echo hello >"$TMP/text"
	run ctr images import "$TMP/text"
	assert_failure
	assert_output_contains "is not a tar archive"
	run ctr images import "$TMP/none.tar"
	assert_failure

	assert_store_empty
}

@test "export: round trip to the same manifest, the same bytes twice, NOT_FOUND for no image" {
	local tar m
	tar=$(image_archive)
	m=$(layout_manifest "$tar")
	run ctr images import "$tar"
	assert_status 0
	run ctr images export "$TMP/out.tar" "$IMAGE"
	assert_status 0
	tar -tf "$TMP/out.tar" >"$TMP/list"
	grep -qx oci-layout "$TMP/list"
	grep -qx index.json "$TMP/list"
	grep -qx manifest.json "$TMP/list"
	[ "$(tar -xOf "$TMP/out.tar" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')" = "$IMAGE" ]
	[ "$(tar -xOf "$TMP/out.tar" manifest.json | jq -r '.[0].RepoTags[0]')" = "$IMAGE" ]
	# The same bytes again, also when the image is named twice (once by its short name).
	run ctr images export "$TMP/out2.tar" "$IMAGE" berth.test/busybox
	assert_status 0
	cmp "$TMP/out.tar" "$TMP/out2.tar"

	run ctr images rm --sync "$IMAGE"
	assert_status 0
	run ctr images import "$TMP/out.tar"
	assert_status 0
	[ "$output" = "$IMAGE@$m" ] || fail "import of the export printed: $output"

	# A reader that goes away mid-export cancels it; the supervisor goes on.
	ctr images export - "$IMAGE" 3>&- | head -c 1000 >/dev/null || true
	run ctr images ls -q
	assert_status 0
	[ "$output" = "$IMAGE" ]

	run ctr images export "$TMP/none.tar" example.com/none:1
	assert_failure
	assert_output_contains "not found"
	[ ! -e "$TMP/none.tar" ]
}

@test "an index: import unpacks the platform asked for; export picks a manifest or keeps all" {
	[ "$(uname -m)" = x86_64 ] || skip "the test index has linux/amd64 and linux/arm64 images"
	index_layout "$TMP/layout-multi"
	jq -c '.manifests[0].annotations = {"org.opencontainers.image.ref.name": "multi"}' \
		"$TMP/layout-multi/index.json" >"$TMP/i"
	mv "$TMP/i" "$TMP/layout-multi/index.json"
	tar -C "$TMP/layout-multi" -cf "$TMP/multi.tar" .

	# No such platform: refused, and nothing named.
	run ctr images import --platform linux/s390x --base-name example.com/multi "$TMP/multi.tar"
	assert_failure
	assert_output_contains "no manifest for linux/s390x"
	run ctr images ls -q
	[ -z "$output" ] || fail "a failed import left images: $output"

	run ctr images import --base-name example.com/multi "$TMP/multi.tar"
	assert_status 0
	[ "$output" = "example.com/multi:multi@$INDEX_DIGEST" ] || fail "import printed: $output"
	run ctr images check example.com/multi:multi
	assert_status 0
	assert_output_contains "true"

	run ctr images export "$TMP/host.tar" example.com/multi:multi
	assert_status 0
	[ "$(tar -xOf "$TMP/host.tar" index.json | jq -r '.manifests[0].digest')" = "$AMD64_MANIFEST" ]
	run ctr images export --platform linux/arm64 "$TMP/arm.tar" example.com/multi:multi
	assert_status 0
	[ "$(tar -xOf "$TMP/arm.tar" index.json | jq -r '.manifests[0].digest')" = "$ARM64_MANIFEST" ]
	local arm_config
	arm_config=$(jq -r .config.digest "$(blob_file "$TMP/layout-multi" "$ARM64_MANIFEST")")
	[ "$(tar -xOf "$TMP/arm.tar" manifest.json | jq -r '.[0].Config')" = "blobs/sha256/${arm_config#sha256:}" ]
	run ctr images export --platform linux/riscv64 "$TMP/none.tar" example.com/multi:multi
	assert_failure
	assert_output_contains "no manifest for linux/riscv64"

	# Every platform: the index itself, which imports back as it was.
	run ctr images export --all-platforms "$TMP/all.tar" example.com/multi:multi
	assert_status 0
	[ "$(tar -xOf "$TMP/all.tar" index.json | jq -r '.manifests[0].digest')" = "$INDEX_DIGEST" ]
	tar -tf "$TMP/all.tar" | grep -qx "blobs/sha256/${ARM64_MANIFEST#sha256:}"
	run ctr images rm --sync example.com/multi:multi
	assert_status 0
	run ctr images import "$TMP/all.tar"
	assert_status 0
	[ "$output" = "example.com/multi:multi@$INDEX_DIGEST" ] || fail "import printed: $output"
}

# ---- docker ------------------------------------------------------------------------------

# dk_start: a dockerd of this test, everything under $TMP/dk, no networking of its own.
dk_start() {
	DK_DIR=$TMP/dk
	DK_SOCK=$DK_DIR/docker.sock
	mkdir -p "$DK_DIR/data" "$DK_DIR/exec" "$DK_DIR/client"
	export DOCKER_CONFIG=$DK_DIR/client
	printf '{"deprecated-key-path": "%s"}\n' "$DK_DIR/key.json" >"$DK_DIR/daemon.json"
	dockerd --config-file "$DK_DIR/daemon.json" \
		--data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/dockerd.pid" -H "unix://$DK_SOCK" \
		--iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--bridge=none --userland-proxy=false \
		--exec-opt native.cgroupdriver=cgroupfs --add-runtime "ocirun=$OCIRUN" \
		>"$DK_DIR/dockerd.log" 2>&1 </dev/null 3>&- &
	DK_PID=$!
	on_teardown dk_stop
	retry 300 0.1 dk info >/dev/null 2>&1 || {
		tail -20 "$DK_DIR/dockerd.log" >&2
		return 1
	}
}

dk_stop() {
	local n=150
	kill -TERM "$DK_PID" 2>/dev/null || return 0
	while pid_alive "$DK_PID" && ((n-- > 0)); do
		sleep 0.1
	done
	kill -KILL "$DK_PID" 2>/dev/null || true
	# Its own containerd too, should it be left.
	local ctd
	for ctd in $(pgrep -f -- "containerd --config $DK_DIR/exec/containerd/containerd.toml"); do
		kill -KILL "$ctd" 2>/dev/null || true
	done
	grep -F " $DK_DIR/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# rm_cgroups NAME: the empty cgroup dirs /sys/fs/cgroup/*/NAME docker made as a parent.
rm_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
}

dk() {
	timeout -k 5 120 "$DOCKER_CLI" -H "unix://$DK_SOCK" "$@"
}

need_docker() {
	command -v dockerd >/dev/null && command -v "$DOCKER_CLI" >/dev/null ||
		skip "dockerd or docker is not installed (package docker.io)"
}

@test "docker: docker load reads an export; docker save is imported" {
	need_docker
	local tar cfg
	tar=$(image_archive)
	cfg=$(layout_config "$tar")
	run ctr images import "$tar"
	assert_status 0
	run ctr images export "$TMP/out.tar" "$IMAGE"
	assert_status 0
	dk_start

	run dk load -i "$TMP/out.tar"
	echo "$output"
	assert_status 0
	assert_output_contains "Loaded image: $IMAGE"
	# docker's image id is the digest of the config.
	[ "$(dk image inspect -f '{{.Id}}' "$IMAGE")" = "$cfg" ] || fail "docker image id is not $cfg"
	# And it runs (on ocirun, its container's cgroups under /$ID for the leak checks).
	on_teardown rm_cgroups "$ID"
	run_file dk run --rm --runtime ocirun --network none --cgroup-parent "/$ID" "$IMAGE" \
		echo loaded-from-berth
	assert_status 0
	[ "$output" = loaded-from-berth ] || fail "docker run printed: $output"

	dk tag "$IMAGE" example.com/saved:2
	dk save -o "$TMP/saved.tar" example.com/saved:2
	run ctr images import "$TMP/saved.tar"
	echo "$output"
	assert_status 0
	assert_output_contains "example.com/saved:2@sha256:"
	run ctr images check example.com/saved:2
	assert_status 0
	assert_output_contains "true"
	# The same config, so the same image to docker.
	run ctr images export "$TMP/again.tar" example.com/saved:2
	assert_status 0
	[ "$(tar -xOf "$TMP/again.tar" manifest.json | jq -r '.[0].Config')" = "blobs/sha256/${cfg#sha256:}" ]
}

# ---- skopeo and umoci --------------------------------------------------------------------

@test "skopeo: an export is an oci-archive and a docker-archive; skopeo's archives import" {
	require_skopeo
	local tar m cfg
	tar=$(image_archive)
	m=$(layout_manifest "$tar")
	cfg=$(layout_config "$tar")
	run ctr images import "$tar"
	assert_status 0
	run ctr images export "$TMP/out.tar" "$IMAGE"
	assert_status 0

	run skopeo inspect --raw "oci-archive:$TMP/out.tar"
	assert_status 0
	[ "$(jq -r .config.digest <<<"$output")" = "$cfg" ]
	run skopeo inspect --config "docker-archive:$TMP/out.tar"
	assert_status 0
	run skopeo copy "oci-archive:$TMP/out.tar" "docker-archive:$TMP/dk.tar:example.com/dk:1"
	assert_status 0
	run skopeo copy "docker-archive:$TMP/out.tar" "oci-archive:$TMP/oci.tar:example.com/oci:1"
	assert_status 0

	run ctr images import "$TMP/dk.tar"
	assert_status 0
	assert_output_contains "example.com/dk:1@sha256:"
	run ctr images import "$TMP/oci.tar"
	assert_status 0
	assert_output_contains "example.com/oci:1@sha256:"
	# Both carry make-image's config, and each is unpacked.
	run ctr images export "$TMP/both.tar" example.com/dk:1 example.com/oci:1
	assert_status 0
	[ "$(tar -xOf "$TMP/both.tar" manifest.json | jq -r '.[].Config' | sort -u)" = "blobs/sha256/${cfg#sha256:}" ]
	run ctr images check example.com/oci:1
	assert_output_contains "true"
}

@test "umoci: the layout of an export unpacks" {
	command -v umoci >/dev/null || skip "umoci is not installed (package umoci)"
	local tar
	tar=$(image_archive)
	run ctr images import "$tar"
	assert_status 0
	run ctr images export "$TMP/out.tar" "$IMAGE"
	assert_status 0
	mkdir "$TMP/layout"
	tar -xf "$TMP/out.tar" -C "$TMP/layout"
	run umoci ls --layout "$TMP/layout"
	assert_status 0
	has_line latest "$output"
	run umoci unpack --image "$TMP/layout:latest" "$TMP/bundle"
	assert_status 0
	[ -x "$TMP/bundle/rootfs/bin/busybox" ]
}
