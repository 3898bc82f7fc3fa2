#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Wire compatibility: Python's grpcio, with modules protoc generates from the .proto files,
# drives Version, Containers and Tasks on the C server (grpc-client.py says what it checks).

load ../helpers
load supervisor-helpers

@test "grpcio: Version, Containers and Tasks from an independent client" {
	# Debian's python3, where python3-grpcio installs (a python3 earlier in PATH may lack it).
	local py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	"$py" -c 'import grpc, google.protobuf' 2>/dev/null || skip "python3-grpcio not installed"
	command -v protoc >/dev/null || skip "protoc not installed"
	mkdir -p "$TMP/gen"
	protoc --proto_path="$BERTH_SOURCE_DIR/proto" --python_out="$TMP/gen" \
		"$BERTH_SOURCE_DIR"/proto/berth/supervisor/v1/*.proto
	make_rootfs "$TMP/rootfs"
	"$OCIRUN" spec --bundle "$TMP"
	start_supervisor
	ROOT=$SSTATE/runtime/pyns
	run "$py" "$BERTH_SOURCE_DIR/tests/integration/supervisor/grpc-client.py" \
		--address "$SOCK" --gen "$TMP/gen" --spec "$TMP/config.json" --rootfs "$TMP/rootfs" --id "$ID"
	echo "$output"
	assert_status 0
	assert_output_contains "ok all"
}
