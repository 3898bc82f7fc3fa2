#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Containers that run from images, end to end: an image made by tests/fixtures/make-image
# (some with their config rewritten) goes into a real docker-registry with skopeo, `berth-ctr
# images pull` brings it in and unpacks it, and `berth-ctr run IMAGE` runs it on its own
# overlay snapshot, which the supervisor mounts as the task's root. The supervisor side is
# also driven without images, through the gRPC API (snapshot-task.py): a container made on a
# snapshot prepared from a directory, missing and committed snapshots, a snapshot removal
# refused while its task runs, and a supervisor killed with -9 that still unmounts the root
# when the task is deleted after its restart.

load ../helpers
load supervisor-helpers
load registry-helpers

PY=/usr/bin/python3

setup() {
	supervisor_setup
	export DOCKER_CONFIG=$TMP/docker-config
}

# bundle_rootfs ID: where the supervisor mounts the root of task ID.
bundle_rootfs() {
	echo "$SSTATE/tasks/default/$1/rootfs"
}

is_mounted() {
	grep -q " $1 " /proc/self/mountinfo
}

# ---------------------------------------------------------------------------------------
# Without images: snapshots from a directory, through the gRPC API
# ---------------------------------------------------------------------------------------

require_grpcio() {
	"$PY" -c 'import grpc, google.protobuf' 2>/dev/null || skip "python3-grpcio not installed"
	command -v protoc >/dev/null || skip "protoc not installed"
	mkdir -p "$TMP/gen"
	protoc --proto_path="$BERTH_SOURCE_DIR/proto" --python_out="$TMP/gen" \
		"$BERTH_SOURCE_DIR"/proto/berth/supervisor/v1/*.proto
}

api() {
	"$PY" "$BERTH_SOURCE_DIR/tests/integration/supervisor/snapshot-task.py" --address "$SOCK" \
		--gen "$TMP/gen" "$@"
}

# base_snapshot: the committed snapshot `base` holding a busybox rootfs, made the way an
# unpacker would (prepare, write into the mount's directory, commit).
base_snapshot() {
	make_rootfs "$TMP/rootfs"
	ctr snapshots prepare base-work
	local dir
	dir=$(ctr snapshots mounts /unused base-work | awk '{print $4}')
	[ -d "$dir" ]
	cp -a "$TMP/rootfs/." "$dir/"
	ctr snapshots commit base base-work
}

# spec_file ARGS...: a spec running ARGS, for containers made through the API.
spec_file() {
	"$OCIRUN" spec --bundle "$TMP"
	jq --argjson a "$(json_array "$@")" '.process.args = $a | .process.terminal = false | .root.readonly = false' \
		"$TMP/config.json" >"$TMP/spec.json"
}

@test "snapshot root: the task runs on its snapshot, mounted in the bundle; delete unmounts it" {
	require_grpcio
	start_supervisor
	base_snapshot
	ctr snapshots prepare "$ID" base
	spec_file sh -c 'echo written >/from-task; sleep 100'
	run api container "$ID" "$ID" "$TMP/spec.json"
	assert_status 0
	ctr tasks start -d "$ID"
	retry 50 0.1 task_status_is "$ID" RUNNING
	is_mounted "$(bundle_rootfs "$ID")"
	[ "$(jq -r .root.path "$SSTATE/tasks/default/$ID/config.json")" = "$(bundle_rootfs "$ID")" ]
	[ "$(jq -r .snapshot "$SSTATE/tasks/default/$ID/task.json")" = "default/$ID" ]
	# What the task writes lands in its own snapshot, not in the committed base.
	local upper
	upper=$(ctr snapshots mounts /unused "$ID" | tr ',' '\n' | sed -n 's/^upperdir=//p')
	retry 50 0.1 test -f "$upper/from-task"
	[ "$(cat "$upper/from-task")" = written ]
	run ctr tasks exec --exec-id e1 "$ID" cat /from-task
	assert_status 0
	[ "$output" = written ]

	ctr tasks kill -s KILL "$ID"
	retry 50 0.1 task_status_is "$ID" STOPPED
	ctr tasks rm "$ID"
	! is_mounted "$(bundle_rootfs "$ID")" || false
	[ ! -e "$SSTATE/tasks/default/$ID" ]
	# The snapshot keeps what was written (the unmount removed nothing through the mount).
	[ "$(cat "$upper/from-task")" = written ]
	# containers rm takes the snapshot with the container.
	ctr containers rm "$ID"
	run ctr snapshots info "$ID"
	assert_failure
	[ -z "$(mounts_under "$SSTATE")" ]
}

@test "snapshot root: a missing snapshot is NOT_FOUND, a committed one FAILED_PRECONDITION; nothing is left" {
	require_grpcio
	start_supervisor
	base_snapshot
	spec_file true
	api container "$ID" nope "$TMP/spec.json"
	run api task "$ID"
	assert_status 1
	[ "$output" = "NOT_FOUND container \`$ID\`: snapshot \`nope\` not found" ]
	[ ! -e "$SSTATE/tasks/default/$ID" ]

	local id2
	id2=$(new_id)
	api container "$id2" base "$TMP/spec.json"
	run api task "$id2"
	assert_status 1
	assert_output_contains "FAILED_PRECONDITION" "snapshot \`base\` is committed"
	[ ! -e "$SSTATE/tasks/default/$id2" ]
	[ -z "$(mounts_under "$SSTATE")" ]
	[ -z "$(ctr tasks ls -q 2>/dev/null)" ]
}

@test "snapshot root: removing a live task's snapshot is refused; after kill -9 and a restart, delete still unmounts" {
	require_grpcio
	start_supervisor
	base_snapshot
	ctr snapshots prepare "$ID" base
	spec_file sleep 1000
	api container "$ID" "$ID" "$TMP/spec.json"
	ctr tasks start -d "$ID"
	retry 50 0.1 task_status_is "$ID" RUNNING

	run api remove-snapshot "$ID"
	assert_status 1
	[ "$output" = "FAILED_PRECONDITION snapshot \`$ID\` is the root filesystem of task \`$ID\` (delete the task first)" ]
	run ctr snapshots rm "$ID"
	assert_failure
	assert_output_contains "is the root filesystem of task"

	kill_supervisor KILL
	is_mounted "$(bundle_rootfs "$ID")"
	start_supervisor
	[ "$(task_status "$ID")" = RUNNING ]
	# The restarted supervisor knows whose root it is from the bundle.
	run ctr snapshots rm "$ID"
	assert_failure
	assert_output_contains "is the root filesystem of task"

	ctr tasks kill -s KILL "$ID"
	retry 50 0.1 task_status_is "$ID" STOPPED
	ctr tasks rm "$ID"
	! is_mounted "$(bundle_rootfs "$ID")" || false
	ctr containers rm "$ID"
	[ -z "$(ctr snapshots ls | awk -v k="$ID" '$1 == k')" ]
	[ -z "$(mounts_under "$SSTATE")" ]
}

# ---------------------------------------------------------------------------------------
# From images: pulled from a real registry
# ---------------------------------------------------------------------------------------

require_registry() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	require_skopeo
	start_registry reg
}

# custom_layout DIR: make-image's layout with its config rewritten by the jq filter $2
# (manifest and index.json follow the new config).
custom_layout() {
	local dir=$1 filter=$2 m config d s md ms
	image_layout "$dir"
	m=$(jq -r '.manifests[0].digest' "$dir/index.json")
	config=$(jq -r '.config.digest' "$(blob_file "$dir" "$m")")
	jq -c "$filter" "$(blob_file "$dir" "$config")" >"$TMP/cfg"
	read -r d s < <(put_blob "$dir" "$TMP/cfg")
	jq -c --arg d "$d" --argjson s "$s" '.config.digest = $d | .config.size = $s' \
		"$(blob_file "$dir" "$m")" >"$TMP/man"
	read -r md ms < <(put_blob "$dir" "$TMP/man")
	jq -c --arg d "$md" --argjson s "$ms" '.manifests[0].digest = $d | .manifests[0].size = $s' \
		"$dir/index.json" >"$TMP/idx"
	mv "$TMP/idx" "$dir/index.json"
}

# push_layout DIR REPO:TAG: into the test registry, with skopeo (an independent client).
push_layout() {
	skopeo copy -q --dest-tls-verify=false "oci:$1" "docker://$REG/$2"
}

pull() {
	ctr images pull --plain-http "$@"
}

@test "images pull from a registry: progress lines, the name and digest; run --rm IMAGE prints hi and leaves nothing" {
	require_registry
	image_layout "$TMP/img"
	push_layout "$TMP/img" test/busybox:v1
	local digest
	digest=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")
	start_supervisor

	run pull "$REG/test/busybox:v1"
	echo "$output"
	assert_status 0
	# Not a terminal: a plain line per status change, the layer's short digest first.
	local layer
	layer=$(jq -r '.layers[0].digest' "$(blob_file "$TMP/img" "$digest")")
	assert_output_contains "${layer:7:12}: "
	[ "${lines[-1]}" = "$REG/test/busybox:v1@$digest" ]

	run ctr images check "$REG/test/busybox:v1"
	assert_status 0
	assert_output_contains "complete (3/3)" "true"

	run ctr run --rm "$REG/test/busybox:v1" "$ID" echo hi
	assert_status 0
	[ "$output" = hi ]
	[ -z "$(ctr containers ls -q)" ]
	[ -z "$(ctr snapshots ls | awk -v k="$ID" '$1 == k')" ]
	[ -z "$(mounts_under "$SSTATE")" ]

	# The image's default command (make-image: Cmd ["sh"]) reads stdin.
	run ctr run --rm "$REG/test/busybox:v1" "$ID" <<<'echo from-cmd'
	assert_status 0
	[ "$output" = from-cmd ]
}

@test "run IMAGE: the config's Env, Entrypoint and Cmd, WorkingDir and User apply; the command line overrides them" {
	require_registry
	custom_layout "$TMP/img" '.config.Env += ["GREETING=hello", "PATH=/bin:/usr/bin"]
		| .config.Entrypoint = ["/bin/sh", "-c"]
		| .config.Cmd = ["echo \"$GREETING|$(pwd)|$(id -u):$(id -g)|$0\""]
		| .config.WorkingDir = "/etc" | .config.User = "nobody"'
	push_layout "$TMP/img" test/custom:v1
	start_supervisor
	pull "$REG/test/custom:v1" >/dev/null

	run ctr run --rm "$REG/test/custom:v1" "$ID"
	assert_status 0
	# User "nobody" came from the image's /etc/passwd (65534, its group too).
	[ "$output" = "hello|/etc|65534:65534|/bin/sh" ]

	run ctr run --rm -e GREETING=bye --cwd /tmp -u 1000:1001 "$REG/test/custom:v1" "$ID" \
		'echo "$GREETING|$(pwd)|$(id -u):$(id -g)|$PATH"'
	assert_status 0
	[ "$output" = "bye|/tmp|1000:1001|/bin:/usr/bin" ]

	run ctr run --rm -u root "$REG/test/custom:v1" "$ID" 'id -u'
	assert_status 0
	[ "$output" = 0 ]
	run ctr run --rm -u nosuchuser "$REG/test/custom:v1" "$ID" true
	assert_failure
	assert_output_contains "user \`nosuchuser\` not found"
	# Nothing is left by the failures: no container, snapshot or temporary mount.
	[ -z "$(ctr containers ls -q)" ]
	[ -z "$(ctr snapshots ls | awk -v k="$ID" '$1 == k')" ]
	[ -z "$(mounts_under /tmp | grep berth-ctr-rootfs || true)" ]
}

@test "run -d IMAGE, then exec, kill and rm: the snapshot goes with the container" {
	require_registry
	image_layout "$TMP/img"
	push_layout "$TMP/img" test/busybox:v1
	start_supervisor
	pull "$REG/test/busybox:v1" >/dev/null

	ctr run -d "$REG/test/busybox:v1" "$ID" sleep 1000
	retry 50 0.1 task_status_is "$ID" RUNNING
	is_mounted "$(bundle_rootfs "$ID")"
	run ctr containers ls
	assert_output_contains "$ID" "$REG/test/busybox:v1"
	[ "$(ctr containers info "$ID" | jq -r '.snapshot_key + " " + .snapshotter')" = "$ID overlayfs" ]
	run ctr tasks exec --exec-id e1 "$ID" sh -c 'echo exec-ok; ls /bin/busybox'
	assert_status 0
	[ "${lines[0]}" = exec-ok ]
	# A user name for an exec is looked up in the running container's root.
	run ctr tasks exec --exec-id e2 -u nobody "$ID" id -u
	assert_status 0
	[ "$output" = 65534 ]

	# A snapshot in use by a container is refused by containers create of the same id.
	run ctr run "$REG/test/busybox:v1" "$ID" true
	assert_failure
	assert_output_contains "container \`$ID\` already exists"

	ctr tasks kill -s KILL "$ID"
	retry 50 0.1 task_status_is "$ID" STOPPED
	ctr containers rm "$ID"
	! is_mounted "$(bundle_rootfs "$ID")" || false
	[ -z "$(ctr snapshots ls | awk -v k="$ID" '$1 == k')" ]
	[ -z "$(ctr containers ls -q)" ]

	# containers create IMAGE makes the same container; tasks start runs it.
	local id2
	id2=$(new_id)
	ctr containers create "$REG/test/busybox:v1" "$id2" sh -c 'echo created-from-image'
	[ "$(ctr snapshots ls | awk -v k="$id2" '$1 == k {print $NF}')" = Active ]
	run ctr tasks start "$id2"
	assert_status 0
	[ "$output" = created-from-image ]
	ctr containers rm "$id2"
	[ -z "$(ctr snapshots ls | awk -v k="$id2" '$1 == k')" ]

	run ctr images usage "$REG/test/busybox:v1"
	assert_status 0
	[ "$(awk 'NR == 1' <<<"$output")" = "CONTENT    SNAPSHOTS    TOTAL" ]
	assert_output_contains "MB"
}

@test "images ls, tag, check and rm; not pulled and not unpacked are clear errors" {
	require_registry
	image_layout "$TMP/img"
	push_layout "$TMP/img" test/busybox:v1
	local digest
	digest=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")
	start_supervisor

	run ctr run --rm "$REG/test/busybox:v1" "$ID" true
	assert_failure
	assert_output_contains "image \`$REG/test/busybox:v1\` not found: pull it first"

	pull --skip-unpack "$REG/test/busybox:v1" >/dev/null
	run ctr run --rm "$REG/test/busybox:v1" "$ID" true
	assert_failure
	assert_output_contains "image \`$REG/test/busybox:v1\` is not unpacked"
	run ctr images check "$REG/test/busybox:v1"
	assert_status 1
	assert_output_contains "complete (3/3)" "false"
	[ -z "$(ctr containers ls -q)" ]

	pull "$REG/test/busybox:v1" >/dev/null
	# A task the runtime refuses after the snapshot was mounted: unmounted, and run removes
	# the container and its snapshot.
	run ctr run --rm --mount "type=bind,src=$TMP/nonexistent,dst=/x" "$REG/test/busybox:v1" "$ID" true
	assert_failure
	[ -z "$(mounts_under "$SSTATE")" ]
	[ ! -e "$SSTATE/tasks/default/$ID" ]
	[ -z "$(ctr containers ls -q)" ]
	[ -z "$(ctr snapshots ls | awk -v k="$ID" '$1 == k')" ]

	run ctr images tag "$REG/test/busybox:v1" "$REG/test/busybox:v2" other/name
	assert_status 0
	[ "${lines[1]}" = docker.io/other/name:latest ]
	run ctr images ls
	assert_status 0
	echo "$output"
	[ "$(awk 'NR == 1 {print $1, $2, $3, $4, $5, $6}' <<<"$output")" = "REF TYPE DIGEST SIZE PLATFORMS LABELS" ]
	[ "$(grep -c "$digest" <<<"$output")" = 3 ]
	assert_output_contains "application/vnd.oci.image.manifest.v1+json" "linux/"
	run ctr images ls -q
	[ "$output" = "$(printf '%s\n' "$REG/test/busybox:v1" "$REG/test/busybox:v2" docker.io/other/name:latest | LC_ALL=C sort)" ]
	[ "$(ctr images ls --format json | jq -r '.[0].target.digest')" = "$digest" ]

	# A tag that exists needs --force.
	run ctr images tag "$REG/test/busybox:v1" other/name
	assert_failure
	ctr images tag --force "$REG/test/busybox:v1" other/name

	run ctr images rm other/name "$REG/test/busybox:v2" nope:latest
	assert_status 1
	assert_output_contains "not found"
	[ "$(ctr images ls -q)" = "$REG/test/busybox:v1" ]
	# Still runs: the content and snapshots of v1 are kept.
	run ctr run --rm "$REG/test/busybox:v1" "$ID" echo still
	[ "$output" = still ]
	ctr images rm --sync "$REG/test/busybox:v1"
	[ -z "$(ctr images ls -q)" ]
	run ctr images check "$REG/test/busybox:v1"
	assert_status 1
}

@test "kill -9 of the supervisor under a running image container: after the restart, delete unmounts its root" {
	require_registry
	image_layout "$TMP/img"
	push_layout "$TMP/img" test/busybox:v1
	start_supervisor
	pull "$REG/test/busybox:v1" >/dev/null
	ctr run -d "$REG/test/busybox:v1" "$ID" sleep 1000
	retry 50 0.1 task_status_is "$ID" RUNNING

	kill_supervisor KILL
	is_mounted "$(bundle_rootfs "$ID")"
	start_supervisor
	[ "$(task_status "$ID")" = RUNNING ]
	run ctr tasks exec --exec-id e1 "$ID" echo alive
	[ "$output" = alive ]
	# The collector keeps a live container's snapshot and the image's layers.
	ctr images prune
	run ctr tasks exec --exec-id e2 "$ID" ls /bin/busybox
	assert_status 0

	ctr tasks kill -s KILL "$ID"
	retry 50 0.1 task_status_is "$ID" STOPPED
	ctr tasks rm "$ID"
	! is_mounted "$(bundle_rootfs "$ID")" || false
	ctr containers rm "$ID"
	[ -z "$(mounts_under "$SSTATE")" ]
}

@test "images push: to another repository with progress, then pulled back and run" {
	require_registry
	image_layout "$TMP/img"
	push_layout "$TMP/img" test/busybox:v1
	start_supervisor
	pull "$REG/test/busybox:v1" >/dev/null
	local digest
	digest=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")

	run ctr images push --plain-http "$REG/test/busybox:v1" "$REG/copy/busybox:v9"
	echo "$output"
	assert_status 0
	[ "${lines[-1]}" = "$REG/copy/busybox:v9@$digest" ]
	run skopeo inspect --raw --tls-verify=false "docker://$REG/copy/busybox:v9"
	assert_status 0
	[ "$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "${digest#sha256:}" ]

	ctr images rm --sync "$REG/test/busybox:v1"
	pull "$REG/copy/busybox:v9" >/dev/null
	run ctr run --rm "$REG/copy/busybox:v9" "$ID" echo pushed-and-back
	[ "$output" = pushed-and-back ]
}

@test "images export and import through stdin and stdout" {
	start_supervisor
	local archive
	archive=$(image_archive berth.test/busybox:v3)
	run ctr images import - <"$archive"
	echo "$output"
	assert_status 0
	assert_output_contains "berth.test/busybox:v3@sha256:"
	ctr images export - berth.test/busybox:v3 >"$TMP/out.tar"
	tar -tf "$TMP/out.tar" | grep -qx index.json
	ctr images rm --sync berth.test/busybox:v3
	ctr images import "$TMP/out.tar"
	run ctr run --rm berth.test/busybox:v3 "$ID" echo imported
	[ "$output" = imported ]
	# No temporary file of the stdin import is left.
	[ -z "$(ls "${TMPDIR:-/var/tmp}" | grep berth-ctr-import || true)" ]
}
