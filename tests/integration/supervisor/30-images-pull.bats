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

# layered_image SRC DST KB [bad]: a copy of layout SRC whose image has one more layer on top:
# a gzip'd tar holding one file of KB kilobytes of random bytes (0: a line of text). Sets
# TOP_MANIFEST, TOP_LAYER (the new layer's blob) and TOP_DIFF (its diff id). With "bad", the
# config gives the layer a diff id that is not its own.
layered_image() {
	local src=$1 dst=$2 kb=$3 bad=${4:-} m cfg dir ls cd cs ms diff
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
	diff=$TOP_DIFF
	[ -z "$bad" ] || diff=sha256:$(printf '%s' "$TOP_DIFF" | sha256sum | cut -d' ' -f1)
	jq -c --arg d "$diff" '.rootfs.diff_ids += [$d]' "$(blob_file "$dst" "$cfg")" >"$TMP/cfg"
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

# start_supervisor_with ARGS...: the supervisor with extra flags (through a wrapper, since
# start_supervisor takes a binary).
start_supervisor_with() {
	local args
	printf -v args '%q ' "$@"
	printf '#!/bin/sh\nexec %q "$@" %s\n' "$SUPERVISOR" "$args" >"$TMP/supervisor-with"
	chmod +x "$TMP/supervisor-with"
	start_supervisor "$TMP/supervisor-with"
}

@test "pull with basic auth over TLS: credentials from --registry-config or the request" {
	make_server_cert
	htpasswd_line alice 's3cret:x' >"$TMP/htpasswd"
	REGISTRY_TLS=1 start_registry tls "auth:
  htpasswd:
    realm: berth-test
    path: $TMP/htpasswd"
	auth_file "$TMP/auth.json" "$REG" alice 's3cret:x'
	image_layout "$TMP/img"
	run rc --auth-file "$TMP/auth.json" --ca-file "$TMP/ca.crt" push "$TMP/img" "$REG/sec/img:1"
	assert_status 0

	start_supervisor_with --registry-ca "$TMP/ca.crt" --registry-config "$TMP/auth.json"
	run ctr images pull "$REG/sec/img:1"
	echo "$output"
	assert_status 0
	grep -q '"GET /v2/sec/img/blobs/sha256:[0-9a-f]* HTTP/2.0"' "$TMP/tls/registry.log"
	run ctr images check "$REG/sec/img:1"
	assert_output_contains "complete"

	# Credentials in the request win over the file's.
	run ctr images pull -u alice:wrong "$REG/sec/img:1"
	assert_failure
	assert_output_contains "401"
	kill_supervisor

	# No credentials: refused; no CA: the certificate is unknown.
	echo '{}' >"$TMP/empty.json"
	start_supervisor_with --registry-ca "$TMP/ca.crt" --registry-config "$TMP/empty.json"
	run ctr images pull "$REG/sec/img:1"
	assert_failure
	assert_output_contains "401"
	kill_supervisor
	start_supervisor_with --registry-config "$TMP/empty.json"
	run ctr images pull -u 'alice:s3cret:x' "$REG/sec/img:1"
	assert_failure
	assert_output_contains_any "certificate" "SSL"
	kill_supervisor
	start_supervisor_with --registry-ca "$TMP/ca.crt" --registry-config "$TMP/empty.json"
	run ctr images pull -u 'alice:s3cret:x' "$REG/sec/img:2"
	assert_failure
	assert_output_contains "not found"
	run ctr images pull -u 'alice:s3cret:x' "$REG/sec/img:1"
	assert_status 0
}

@test "pull of a multi-platform index: the requested platform, or all of them" {
	start_registry reg
	index_layout "$TMP/multi"
	run rc push "$TMP/multi" "$REG/multi/img:latest"
	assert_status 0
	start_supervisor

	run ctr images pull --plain-http --platform linux/arm64 "$REG/multi/img"
	echo "$output"
	assert_status 0
	assert_output_contains "$REG/multi/img:latest@$INDEX_DIGEST"
	run ctr content ls -q
	has_line "$INDEX_DIGEST" "$output"
	has_line "$ARM64_MANIFEST" "$output"
	! has_line "$AMD64_MANIFEST" "$output" || false
	run ctr images check --platform linux/arm64 "$REG/multi/img"
	assert_output_contains "unpacked"

	run ctr images pull --plain-http --platform linux/arm64 --all-platforms "$REG/multi/img"
	assert_status 0
	run ctr content ls -q
	has_line "$AMD64_MANIFEST" "$output"
	run ctr images pull --plain-http --platform linux/s390x "$REG/multi/img"
	assert_failure
	assert_output_contains "no manifest for linux/s390x"
}

@test "two images sharing a base layer: stored and unpacked once; gc keeps what the other needs" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	layered_image "$TMP/a" "$TMP/b" 0
	run rc push "$TMP/a" "$REG/share/a:1"
	assert_status 0
	run rc push "$TMP/b" "$REG/share/b:1"
	assert_status 0
	local top_chain
	top_chain=$(chain2 "$BASE_DIFF" "$TOP_DIFF")
	start_supervisor

	run ctr images pull --plain-http "$REG/share/a:1"
	assert_status 0
	run ctr images pull --plain-http "$REG/share/b:1"
	echo "$output"
	assert_status 0
	# The base came from the first pull.
	assert_output_contains "Already exists"
	[ "$(grep -c "GET /v2/share/[ab]/blobs/$BASE_LAYER" "$TMP/reg/registry.log")" = 1 ]
	run ctr snapshots ls -q
	[ "$(grep -cxF "$BASE_DIFF" <<<"$output")" = 1 ]
	has_line "$top_chain" "$output"
	[ "$(wc -l <<<"$output")" = 2 ]

	# Removing the first leaves the shared layer and snapshot to the second.
	run ctr images rm --sync "$REG/share/a:1"
	assert_status 0
	run ctr content ls -q
	has_line "$BASE_LAYER" "$output"
	has_line "$TOP_LAYER" "$output"
	run ctr snapshots ls -q
	has_line "$BASE_DIFF" "$output"
	has_line "$top_chain" "$output"
	run ctr images check "$REG/share/b:1"
	assert_output_contains "unpacked"

	# A container's snapshot keeps its parents after its image goes.
	ctr snapshots prepare work "$top_chain" >/dev/null
	run ctr images rm --sync "$REG/share/b:1"
	assert_status 0
	run ctr snapshots ls -q
	has_line "$top_chain" "$output"
	has_line "$BASE_DIFF" "$output"
	run ctr content ls -q
	[ -z "$output" ]
	ctr snapshots rm work
	run ctr images prune
	assert_status 0
	run ctr snapshots ls -q
	[ -z "$output" ]
}

@test "a tampered layer is refused: no image, no layer, no snapshot, no ingest to resume" {
	start_registry reg
	image_layout "$TMP/img"
	base_layer "$TMP/img"
	run rc push "$TMP/img" "$REG/bad/img:1"
	assert_status 0
	local data
	data=$(registry_blob "$BASE_LAYER")
	[ -f "$data" ]
	# Same size, different bytes: only the digest can tell.
	printf 'XXXXXXXX' | dd of="$data" bs=1 seek=1000 conv=notrunc status=none
	start_supervisor

	run ctr images pull --plain-http "$REG/bad/img:1"
	echo "$output"
	assert_failure
	assert_output_contains "digest mismatch"
	run ctr images ls -q
	[ -z "$output" ]
	run ctr content ls -q
	! has_line "$BASE_LAYER" "$output" || false
	run ctr content active
	! grep -q "$BASE_LAYER" <<<"$output" || false
	run ctr snapshots ls -q
	[ -z "$output" ]
	# What the pull stored before the layer failed is garbage.
	run ctr images prune
	assert_status 0
	run ctr content ls -q
	[ -z "$output" ]
}

# slow_proxy UPSTREAM: a TCP proxy on a free port that passes the upstream's answers at
# about 1 MB/s; sets PROXY (127.0.0.1:PORT).
slow_proxy() {
	local up=$1
	/usr/bin/python3 - "${up##*:}" "$TMP/proxy.port" <<'PY' 3>&- &
import socket, sys, threading, time
up_port, port_file = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)

def pipe(a, b, slow):
    try:
        while True:
            d = a.recv(8192)
            if not d:
                break
            b.sendall(d)
            if slow:
                time.sleep(len(d) / 1e6)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", up_port))
    threading.Thread(target=pipe, args=(c, u, False), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, True), daemon=True).start()
PY
	on_teardown kill $!
	retry 50 0.1 test -s "$TMP/proxy.port"
	PROXY=127.0.0.1:$(cat "$TMP/proxy.port")
}

# An ingest of the supervisor's content store holds at least $1 bytes.
ingest_has() {
	local f size
	for f in "$SROOT"/content/ingest/*/data; do
		size=$(stat -c %s "$f" 2>/dev/null) || continue
		[ "$size" -ge "$1" ] && return 0
	done
	return 1
}

@test "kill -9 of the supervisor mid-pull: the next pull resumes the partial layer" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	layered_image "$TMP/a" "$TMP/big" 6144
	run rc push "$TMP/big" "$REG/big/img:1"
	assert_status 0
	slow_proxy "$REG"
	start_supervisor

	ctr images pull --plain-http "$PROXY/big/img:1" >"$TMP/pull1.log" 2>&1 3>&- &
	local pull=$!
	retry 200 0.05 ingest_has 1048576
	kill_supervisor KILL
	wait "$pull" 2>/dev/null || true
	run ingest_has 1048576
	assert_status 0
	start_supervisor

	run ctr images pull --plain-http "$REG/big/img:1"
	echo "$output"
	assert_status 0
	# The layer was asked for from where the first pull stopped.
	grep -q "\"GET /v2/big/img/blobs/$TOP_LAYER HTTP/1.1\" 206" "$TMP/reg/registry.log"
	run ctr content active
	! grep -q "$TOP_LAYER" <<<"$output" || false
	run ctr images check "$REG/big/img:1"
	assert_output_contains "unpacked"
	run ctr snapshots ls -q
	has_line "$(chain2 "$BASE_DIFF" "$TOP_DIFF")" "$output"

	# A delete without --sync collects in the background.
	run ctr images rm "$REG/big/img:1"
	assert_status 0
	retry 100 0.1 eval '[ -z "$(ctr content ls -q)" ]'
	retry 100 0.1 eval '[ -z "$(ctr snapshots ls -q)" ]'
}

@test "push: blobs mounted from the repository they came from, then the manifest; the index needs every platform" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	run rc push "$TMP/a" "$REG/src/a:1"
	assert_status 0
	index_layout "$TMP/multi"
	run rc push "$TMP/multi" "$REG/multi/img:1"
	assert_status 0
	local m
	m=$(jq -r '.manifests[0].digest' "$TMP/a/index.json")
	start_supervisor
	run ctr images pull --plain-http "$REG/src/a:1"
	assert_status 0

	run ctr images push --plain-http "$REG/src/a:1" "$REG/dst/a:2"
	echo "$output"
	assert_status 0
	assert_output_contains "$REG/dst/a:2@$m"
	assert_output_contains "Mounted"
	# Mounted, not uploaded.
	grep -q "POST /v2/dst/a/blobs/uploads/?[^ ]*mount=" "$TMP/reg/registry.log"
	! grep -q "PUT /v2/dst/a/blobs/uploads" "$TMP/reg/registry.log" || false
	run rc resolve "$REG/dst/a:2"
	assert_status 0
	[ "$(jq -r .digest <<<"$output")" = "$m" ]
	# Again: the registry has it all.
	run ctr images push --plain-http "$REG/src/a:1" "$REG/dst/a:2"
	assert_status 0
	assert_output_contains "exists"

	# An index pulled for one platform cannot be pushed whole; one platform can.
	run ctr images pull --plain-http --platform linux/arm64 "$REG/multi/img:1"
	assert_status 0
	run ctr images push --plain-http "$REG/multi/img:1" "$REG/multi/copy:1"
	assert_failure
	assert_output_contains "is not stored"
	run ctr images push --plain-http --platform linux/arm64 "$REG/multi/img:1" "$REG/multi/copy:1"
	assert_status 0
	assert_output_contains "$ARM64_MANIFEST"
	# With every platform pulled, the index goes whole, its manifests first.
	run ctr images pull --plain-http --all-platforms "$REG/multi/img:1"
	assert_status 0
	run ctr images push --plain-http "$REG/multi/img:1" "$REG/multi/whole:1"
	assert_status 0
	assert_output_contains "$REG/multi/whole:1@$INDEX_DIGEST"
	run rc resolve "$REG/multi/whole:1"
	[ "$(jq -r .digest <<<"$output")" = "$INDEX_DIGEST" ]

	run ctr images push --plain-http "nothing/here:1" "$REG/dst/a:3"
	assert_failure
	assert_output_contains "not found"
	run ctr images usage "$REG/src/a:1"
	assert_status 0
	assert_output_contains "CONTENT"
}

@test "a cancelled pull stops, keeps its download for the next pull, and holds nothing back" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	layered_image "$TMP/a" "$TMP/big" 6144
	run rc push "$TMP/big" "$REG/big/img:1"
	assert_status 0
	slow_proxy "$REG"
	start_supervisor

	"$CTR" --address "$SOCK" images pull --plain-http "$PROXY/big/img:1" >"$TMP/pull1.log" 2>&1 3>&- &
	local pull=$!
	retry 200 0.05 ingest_has 524288
	kill -KILL "$pull"
	wait "$pull" 2>/dev/null || true
	# The supervisor saw the call go and stopped writing.
	retry 100 0.1 grep -q "Images/Pull: cancelled" "$TMP/supervisor.log"
	run ctr images ls -q
	[ -z "$output" ]
	run ctr content active
	assert_output_contains "layer-$TOP_LAYER"
	# A fresh ingest is no garbage, and the pull's lease is gone (gc does not wait on it).
	run timeout 20 "$CTR" --address "$SOCK" images prune
	assert_status 0
	run ctr content active
	assert_output_contains "layer-$TOP_LAYER"

	run ctr images pull --plain-http "$REG/big/img:1"
	assert_status 0
	grep -q "\"GET /v2/big/img/blobs/$TOP_LAYER HTTP/1.1\" 206" "$TMP/reg/registry.log"
}

@test "records: tag, labels kept across pulls, filters, and clear errors for bad input" {
	start_registry reg
	image_layout "$TMP/img"
	run rc push "$TMP/img" "$REG/rec/img:1"
	assert_status 0
	start_supervisor
	run ctr images pull --plain-http --label team=a "$REG/rec/img:1"
	assert_status 0
	run ctr images tag "$REG/rec/img:1" "$REG/rec/img:copy"
	assert_status 0
	run ctr images tag "$REG/rec/img:1" "$REG/rec/img:copy"
	assert_failure
	assert_output_contains "already exists"
	# A pull without labels keeps the record's.
	run ctr images pull --plain-http "$REG/rec/img:1"
	assert_status 0
	run ctr images ls --format json
	echo "$output"
	assert_output_contains '"team"'
	run ctr images ls -q "labels.team==a"
	[ "$output" = "$REG/rec/img:1" ]
	run ctr images ls -q "name~=copy"
	[ "$output" = "$REG/rec/img:copy" ]
	run ctr images ls -q "name=="
	assert_failure
	assert_output_contains "filter"

	run ctr images rm "$REG/rec/img:nope"
	assert_failure
	assert_output_contains "not found"
	run ctr images check "$REG/rec/img:nope"
	assert_failure
	assert_output_contains "not found"
	run ctr images pull --plain-http ""
	assert_failure
	run ctr images pull --plain-http --platform "a/b/c/d" "$REG/rec/img:1"
	assert_failure
	assert_output_contains "platform"
	run ctr images pull --plain-http --label "=x" "$REG/rec/img:1"
	assert_failure
	assert_output_contains "label"
	run ctr images rm "$REG/rec/img:copy"
	assert_status 0
	run ctr images ls -q
	[ "$output" = "$REG/rec/img:1" ]
}

@test "grpcio: status codes of bad input; Check, Usage, a sync Delete and GarbageCollect add up" {
	local py=/usr/bin/python3
	"$py" -c 'import grpc, google.protobuf' 2>/dev/null || skip "python3-grpcio not installed"
	command -v protoc >/dev/null || skip "protoc not installed"
	mkdir -p "$TMP/gen"
	protoc --proto_path="$BERTH_SOURCE_DIR/proto" --python_out="$TMP/gen" \
		"$BERTH_SOURCE_DIR"/proto/berth/supervisor/v1/*.proto
	start_registry reg
	image_layout "$TMP/img"
	run rc push "$TMP/img" "$REG/st/img:1"
	assert_status 0
	start_supervisor
	run ctr images pull --plain-http "$REG/st/img:1"
	assert_status 0
	run "$py" - "$SOCK" "$TMP/gen" "$REG/st/img:1" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import grpc
from berth.supervisor.v1 import images_pb2 as pb

ch = grpc.insecure_channel("unix:" + sys.argv[1])
md = (("berth-namespace", "default"),)
name = sys.argv[3]

def unary(method, req, resp):
    return ch.unary_unary("/berth.supervisor.v1.Images/" + method,
                          request_serializer=req.SerializeToString,
                          response_deserializer=resp.FromString)(req, metadata=md)

def code(method, req, resp):
    try:
        unary(method, req, resp)
        return "OK"
    except grpc.RpcError as e:
        return e.code().name

img = unary("Get", pb.GetImageRequest(name=name), pb.GetImageResponse).image
print("get", img.target.digest)
print("get-missing", code("Get", pb.GetImageRequest(name="x/none:1"), pb.GetImageResponse))
print("create-dup", code("Create", pb.CreateImageRequest(image=img), pb.CreateImageResponse))
bad = pb.Image(name="x/new:1", target=pb.Descriptor(media_type=img.target.media_type,
               digest="sha256:" + "0" * 64, size=1))
print("create-unstored", code("Create", pb.CreateImageRequest(image=bad), pb.CreateImageResponse))
print("create-empty", code("Create", pb.CreateImageRequest(image=pb.Image(name="")),
                           pb.CreateImageResponse))
print("update-missing", code("Update", pb.UpdateImageRequest(
    image=pb.Image(name="x/none:1", target=img.target)), pb.UpdateImageResponse))
print("update-no-target", code("Update", pb.UpdateImageRequest(image=pb.Image(name=name)),
                               pb.UpdateImageResponse))
print("update-mask", code("Update", pb.UpdateImageRequest(image=img, update_mask=["name"]),
                          pb.UpdateImageResponse))
print("delete-missing", code("Delete", pb.DeleteImageRequest(name="x/none:1"),
                             pb.DeleteImageResponse))
print("list-filter", code("List", pb.ListImagesRequest(filters=["name=="]), pb.ListImagesResponse))
pull = ch.unary_stream("/berth.supervisor.v1.Images/Pull",
                       request_serializer=pb.PullImageRequest.SerializeToString,
                       response_deserializer=pb.PullImageResponse.FromString)
try:
    list(pull(pb.PullImageRequest(ref="Bad Ref"), metadata=md))
    print("pull-bad OK")
except grpc.RpcError as e:
    print("pull-bad", e.code().name)
msgs = list(pull(pb.PullImageRequest(ref=name, plain_http=True), metadata=md))
last = msgs[-1]
print("pull-last", last.image.name, last.image.target.digest)
print("pull-progress", sorted({p.status for m in msgs for p in m.progress}))
chk = unary("Check", pb.CheckImageRequest(name=name), pb.CheckImageResponse)
print("check", chk.complete, chk.unpacked, chk.chain_id, len(chk.missing), chk.size)
open(sys.argv[2] + "/config.json", "wb").write(chk.config)
use = unary("Usage", pb.ImageUsageRequest(name=name), pb.ImageUsageResponse)
print("usage", use.content_size, use.snapshot_size > 0)
print("check-platform", code("Check", pb.CheckImageRequest(name=name, platform="linux/s390x/x/y"),
                             pb.CheckImageResponse))
unary("Delete", pb.DeleteImageRequest(name=name, sync=True), pb.DeleteImageResponse)
gc = unary("GarbageCollect", pb.GarbageCollectRequest(), pb.GarbageCollectResponse)
print("gc-again", gc.blobs_removed, gc.snapshots_removed)
PY
	echo "$output"
	assert_status 0
	local m
	m=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")
	assert_output_contains "get $m" "get-missing NOT_FOUND" "create-dup ALREADY_EXISTS" \
		"create-unstored FAILED_PRECONDITION" "create-empty INVALID_ARGUMENT" \
		"update-missing NOT_FOUND" "update-no-target INVALID_ARGUMENT" "update-mask INVALID_ARGUMENT" "delete-missing NOT_FOUND" \
		"list-filter INVALID_ARGUMENT" "pull-bad INVALID_ARGUMENT" "pull-last $REG/st/img:1 $m" \
		"'exists'" "check-platform INVALID_ARGUMENT" "gc-again 0 0"
	# Check and Usage add up what is stored.
	base_layer "$TMP/img"
	local cfg size
	cfg=$(jq -r .config.digest "$(blob_file "$TMP/img" "$m")")
	size=$(($(stat -c %s "$(blob_file "$TMP/img" "$m")") + $(stat -c %s "$(blob_file "$TMP/img" "$cfg")") +
		$(stat -c %s "$(blob_file "$TMP/img" "$BASE_LAYER")")))
	assert_output_contains "check True True $BASE_DIFF 0 $size" "usage $size True"
	cmp "$TMP/gen/config.json" "$(blob_file "$TMP/img" "$cfg")"
	# The sync delete collected everything.
	run ctr content ls -q
	[ -z "$output" ]
	run ctr snapshots ls -q
	[ -z "$output" ]
}

@test "a collection while a pull runs spares what the pull made; the pull completes" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	layered_image "$TMP/a" "$TMP/big" 3072
	run rc push "$TMP/big" "$REG/big/img:1"
	assert_status 0
	slow_proxy "$REG"
	start_supervisor

	"$CTR" --address "$SOCK" images pull --plain-http "$PROXY/big/img:1" >"$TMP/pull.log" 2>&1 3>&- &
	local pull=$!
	retry 200 0.05 ingest_has 262144
	# The manifest and config are stored by now, named by no image yet.
	run ctr content ls -q
	has_line "$TOP_MANIFEST" "$output"
	run ctr images prune
	assert_status 0
	run ctr content ls -q
	has_line "$TOP_MANIFEST" "$output"
	wait "$pull"
	run ctr images check "$PROXY/big/img:1"
	echo "$output"
	assert_output_contains "complete" "unpacked"
}

@test "a layer that does not match its config's diff id: no snapshot, nothing half-made" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	layered_image "$TMP/a" "$TMP/bad" 0 bad
	run rc push "$TMP/bad" "$REG/bad/img:1"
	assert_status 0
	start_supervisor

	run ctr images pull --plain-http "$REG/bad/img:1"
	echo "$output"
	assert_failure
	assert_output_contains "$TOP_DIFF"
	run ctr images ls -q
	[ -z "$output" ]
	# The base went in; the bad layer left no snapshot, temporary or committed.
	run ctr snapshots ls -q
	[ "$output" = "$BASE_DIFF" ]
	run ctr images prune
	assert_status 0
	run ctr snapshots ls -q
	[ -z "$output" ]
	run ctr content ls -q
	[ -z "$output" ]
}

# left_ingest DIGEST FILE: an ingest of the supervisor's content store as a pull that died
# before its commit leaves it, holding FILE's bytes (supervisor stopped).
left_ingest() {
	local ref=layer-$1 dir
	dir=$SROOT/content/ingest/$(printf '%s' "$ref" | sha256sum | cut -d' ' -f1)
	mkdir -p "$dir"
	cp "$2" "$dir/data"
	date +%s%N >"$dir/startedat"
	stat -c %s "$2" >"$dir/total"
	echo "$1" >"$dir/expected"
	echo "$ref" >"$dir/ref"
}

@test "an ingest left complete is committed without a download; a wrong one is fetched again" {
	start_registry reg
	image_layout "$TMP/a"
	base_layer "$TMP/a"
	layered_image "$TMP/a" "$TMP/b" 64
	run rc push "$TMP/b" "$REG/left/b:1"
	assert_status 0
	start_supervisor
	kill_supervisor
	left_ingest "$BASE_LAYER" "$(blob_file "$TMP/a" "$BASE_LAYER")"
	# The right size, the wrong bytes.
	head -c "$(stat -c %s "$(blob_file "$TMP/b" "$TOP_LAYER")")" /dev/zero >"$TMP/zeros"
	left_ingest "$TOP_LAYER" "$TMP/zeros"
	start_supervisor

	run ctr images pull --plain-http "$REG/left/b:1"
	echo "$output"
	assert_status 0
	! grep -q "GET /v2/left/b/blobs/$BASE_LAYER" "$TMP/reg/registry.log" || false
	[ "$(grep -c "\"GET /v2/left/b/blobs/$TOP_LAYER HTTP/1.1\" 200" "$TMP/reg/registry.log")" = 1 ]
	run ctr content active
	[ -z "$output" ] || ! grep -q layer- <<<"$output"
	run ctr images check "$REG/left/b:1"
	assert_output_contains "complete" "unpacked"
}
