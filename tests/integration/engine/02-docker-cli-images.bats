#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The real docker CLI against berthd, over a real berth-supervisor and a local registry
# (Debian's docker-registry, the image pushed there by skopeo from tests/fixtures/make-image):
# version, info, pull, images, inspect, history, tag, rmi, save | load, push, prune.

load ../helpers
load ../supervisor/supervisor-helpers
load ../supervisor/registry-helpers
load engine-helpers

setup() {
	engine_setup
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	require_skopeo
	start_supervisor
	start_berthd
	start_registry reg
	skopeo copy -q --dest-tls-verify=false "oci-archive:$(image_archive)" "docker://$REG/x:latest"
}

teardown() {
	engine_teardown
}

# The image's config digest, as the registry has it: docker's image ID.
registry_image_id() {
	skopeo inspect --tls-verify=false --raw "docker://$REG/x:latest" | jq -r .config.digest
}

@test "docker CLI: version and info" {
	run dockercli version
	assert_status 0
	# 1.41 as such (Debian's docker.io 20.10) or negotiated down from a newer client.
	assert_output_contains "API version:       1.41"
	assert_output_contains "Server: berth"
	run dockercli info
	assert_status 0
	assert_output_contains "Storage Driver: overlay2"
	assert_output_contains "Containers: 0"
	assert_output_contains "Images: 0"
	assert_output_contains "Swarm: inactive"
}

@test "docker CLI: pull from a loopback registry, then images, inspect and history" {
	local id
	id=$(registry_image_id)
	run dockercli pull "$REG/x"
	assert_status 0
	assert_output_contains "latest: Pulling from x"
	assert_output_contains "Pull complete"
	assert_output_contains "Digest: sha256:"
	assert_output_contains "Status: Downloaded newer image for $REG/x:latest"
	# Again: nothing to fetch.
	run dockercli pull "$REG/x:latest"
	assert_status 0
	assert_output_contains "Status: Image is up to date for $REG/x:latest"

	run dockercli images --format '{{.Repository}} {{.Tag}} {{.ID}}'
	assert_status 0
	[ "$output" = "$REG/x latest ${id:7:12}" ]
	run dockercli image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{index .RepoTags 0}} {{len .RootFS.Layers}}' "$REG/x"
	assert_status 0
	[ "$output" = "$id linux/amd64 $REG/x:latest 1" ]
	# By short ID, and through `docker inspect`, which asks for a container first.
	run dockercli inspect --format '{{.Id}}' "${id:7:12}"
	assert_status 0
	[ "$output" = "$id" ]
	run dockercli history "$REG/x"
	assert_status 0
	assert_output_contains "${id:7:12}"
	run dockercli info --format '{{.Images}}'
	[ "$output" = 1 ]
}

@test "docker CLI: a pull that fails says why" {
	run dockercli pull "$REG/nothere:latest"
	assert_failure
	assert_output_contains "nothere"
	run dockercli pull "upper/CASE"
	assert_failure
	assert_output_contains "must be lowercase"
	run dockercli images -q
	[ -z "$output" ]
}

@test "docker CLI: tag, filters and rmi" {
	local id
	id=$(registry_image_id)
	dockercli pull -q "$REG/x"
	run dockercli tag "$REG/x" "$REG/y:v1"
	assert_status 0
	run dockercli images --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "$REG/x:latest
$REG/y:v1" ]
	run dockercli images --filter "reference=$REG/y" --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "$REG/y:v1" ]
	run dockercli images --filter dangling=true -q
	[ -z "$output" ]
	# Two names: the ID alone is ambiguous without -f.
	run dockercli rmi "${id:7:12}"
	assert_failure
	assert_output_contains "must be forced"
	run dockercli rmi "$REG/y:v1"
	assert_status 0
	[ "$output" = "Untagged: $REG/y:v1" ]
	run dockercli rmi "$REG/x"
	assert_status 0
	assert_output_contains "Untagged: $REG/x:latest"
	assert_output_contains "Deleted: $id"
	run dockercli images -q
	[ -z "$output" ]
	run dockercli rmi "$REG/x"
	assert_failure
	assert_output_contains "No such image: $REG/x"
}

@test "docker CLI: save | load round trip" {
	local id
	id=$(registry_image_id)
	dockercli pull -q "$REG/x"
	dockercli save -o "$TMP/x.tar" "$REG/x"
	tar -tf "$TMP/x.tar" | grep -qx manifest.json
	run dockercli rmi "$REG/x"
	assert_status 0
	run dockercli load -i "$TMP/x.tar"
	assert_status 0
	[ "$output" = "Loaded image: $REG/x:latest" ]
	run dockercli image inspect --format '{{.Id}}' "$REG/x"
	[ "$output" = "$id" ]
	# Through a pipe, by ID.
	run bash -c "DOCKER_HOST=unix://$ESOCK docker save ${id:7:12} | DOCKER_HOST=unix://$ESOCK docker load"
	assert_status 0
	assert_output_contains "Loaded image: $REG/x:latest"
	# Nothing is left of the uploads.
	[ -z "$(ls -A "$ESTATE" | grep upload || true)" ]
}

@test "docker CLI: load an OCI archive, and pull by digest" {
	run dockercli load -i "$(image_archive)"
	assert_status 0
	[ "$output" = "Loaded image: berth.test/busybox:latest" ]
	local digest
	digest=$(skopeo inspect --tls-verify=false --raw "docker://$REG/x:latest" | sha256sum | cut -d' ' -f1)
	run dockercli pull "$REG/x@sha256:$digest"
	assert_status 0
	assert_output_contains "Digest: sha256:$digest"
	run dockercli images --digests --format '{{.Repository}} {{.Digest}}'
	assert_output_contains "$REG/x sha256:$digest"
	run dockercli image inspect --format '{{index .RepoDigests 0}}' "$REG/x@sha256:$digest"
	assert_status 0
	[ "$output" = "$REG/x@sha256:$digest" ]
	# Both are one image (make-image's), known by two names.
	run dockercli images -q
	[ "$(echo "$output" | sort -u | wc -l)" = 1 ]
}

@test "docker CLI: push to the loopback registry" {
	dockercli pull -q "$REG/x"
	dockercli tag "$REG/x" "$REG/pushed:v2"
	run dockercli push "$REG/pushed:v2"
	assert_status 0
	assert_output_contains "The push refers to repository [$REG/pushed]"
	assert_output_contains "v2: digest: sha256:"
	run skopeo inspect --tls-verify=false --raw "docker://$REG/pushed:v2"
	assert_status 0
	[ "$(echo "$output" | jq -r .config.digest)" = "$(registry_image_id)" ]
	run dockercli push "$REG/nothere:v2"
	assert_failure
	assert_output_contains "An image does not exist locally with the tag: $REG/nothere"
}

@test "docker CLI: image prune -a removes every image" {
	dockercli pull -q "$REG/x"
	run dockercli image prune -f
	assert_status 0
	run dockercli images -q
	[ -n "$output" ]
	run dockercli image prune -a -f
	assert_status 0
	assert_output_contains "Deleted: sha256:"
	run dockercli images -q
	[ -z "$output" ]
}

@test "docker CLI: pull and push with the credentials of docker's config (X-Registry-Auth)" {
	htpasswd_line alice 's3cret' >"$TMP/htpasswd"
	start_registry sec "auth:
  htpasswd:
    realm: berth-test
    path: $TMP/htpasswd"
	skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret \
		"oci-archive:$(image_archive)" "docker://$REG/p/x:latest"
	run dockercli pull "$REG/p/x"
	assert_failure
	mkdir -p "$DOCKER_CONFIG"
	auth_file "$DOCKER_CONFIG/config.json" "$REG" alice s3cret
	run dockercli pull "$REG/p/x"
	assert_status 0
	assert_output_contains "Status: Downloaded newer image for $REG/p/x:latest"
	dockercli tag "$REG/p/x" "$REG/p/y:1"
	run dockercli push "$REG/p/y:1"
	assert_status 0
	assert_output_contains "1: digest: sha256:"
	auth_file "$DOCKER_CONFIG/config.json" "$REG" alice wrong
	run dockercli push "$REG/p/y:1"
	assert_failure
}
