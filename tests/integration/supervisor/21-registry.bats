#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The supervisor's registry client (supervisor/remote), through tests/tools/remote-client,
# against a real registry: Debian's docker-registry (distribution 2.8), anonymous over http,
# with htpasswd basic auth behind TLS (a CA made here), and with token auth (token-server.py
# signs the JWTs the registry checks). Images come from tests/fixtures/make-image; skopeo
# pushes some of them, as an independent client.

load ../helpers
load registry-helpers

setup() {
	registry_setup
}

# ---------------------------------------------------------------------------------------
# Anonymous, plain http on loopback
# ---------------------------------------------------------------------------------------

@test "anonymous pull: resolve, then pull-all verifies and lays out every blob" {
	require_skopeo
	start_registry reg
	skopeo copy -q --dest-tls-verify=false "oci-archive:$(image_archive)" \
		"docker://$REG/test/busybox:v1"
	image_layout "$TMP/orig"
	local want arch
	want=$(jq -r '.manifests[0].digest' "$TMP/orig/index.json")
	# make-image builds for this machine.
	arch=$(jq -r .architecture "$(blob_file "$TMP/orig" "$(jq -r .config.digest \
		"$(blob_file "$TMP/orig" "$want")")")")

	run rc resolve "$REG/test/busybox:v1"
	assert_status 0
	[ "$(jq -r .digest <<<"$output")" = "$want" ]
	[ "$(jq -r .mediaType <<<"$output")" = application/vnd.oci.image.manifest.v1+json ]
	[ "$(jq -r .size <<<"$output")" = "$(stat -c %s "$(blob_file "$TMP/orig" "$want")")" ]

	run rc pull-all "$REG/test/busybox:v1" "$TMP/out"
	assert_status 0
	[ "$(jq -r .manifest <<<"${lines[-1]}")" = "$want" ]
	[ "$(jq -r .platform <<<"${lines[-1]}")" = "linux/$arch" ]
	assert_same_blobs "$TMP/orig" "$TMP/out"
	assert_no_partials "$TMP/out"
	[ "$(jq -r '.manifests[0].digest' "$TMP/out/index.json")" = "$want" ]
	[ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' \
		"$TMP/out/index.json")" = v1 ]
	# Progress went to stderr as it came.
	assert_output_contains "100% ("

	# A single-platform image is checked by its config.
	run rc --platform linux/s390x pull-all "$REG/test/busybox:v1" "$TMP/s390x"
	assert_status 1
	assert_output_contains "the image is for linux/$arch, not linux/s390x"
}

@test "resolve by digest; unknown tags, repositories and digests are clear errors" {
	start_registry reg
	image_layout "$TMP/img"
	run rc push "$TMP/img" "$REG/x/y:t1"
	assert_status 0
	local want
	want=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")

	run rc resolve "$REG/x/y@$want"
	assert_status 0
	[ "$(jq -r .digest <<<"$output")" = "$want" ]

	run rc resolve "$REG/x/y:nope"
	assert_status 1
	assert_output_contains "manifest \`nope\` not found in $REG/x/y"
	run rc resolve "$REG/x/other:t1"
	assert_status 1
	assert_output_contains "not found"
	run rc resolve "$REG/x/y@sha256:$(printf '0%.0s' {1..64})"
	assert_status 1
	assert_output_contains "not found"
	run rc resolve "$REG/x/Y:t1"
	assert_status 1
	assert_output_contains "invalid reference" "lowercase"
}

@test "fetch resumes a partial download with a Range request" {
	start_registry reg
	image_layout "$TMP/img"
	run rc push "$TMP/img" "$REG/r/img:1"
	assert_status 0
	local m layer size
	m=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")
	layer=$(jq -r '.layers[0].digest' "$(blob_file "$TMP/img" "$m")")
	size=$(stat -c %s "$(blob_file "$TMP/img" "$layer")")

	head -c $((size / 2)) "$(blob_file "$TMP/img" "$layer")" >"$TMP/layer.partial"
	run rc fetch "$REG/r/img" "$layer" "$TMP/layer"
	assert_status 0
	assert_output_contains "resuming $layer at $((size / 2)) of $size bytes"
	cmp "$TMP/layer" "$(blob_file "$TMP/img" "$layer")"
	[ ! -e "$TMP/layer.partial" ]
	# The registry served a range (206), not the whole blob.
	grep -q "\"GET /v2/r/img/blobs/$layer HTTP/1.1\" 206" "$TMP/reg/registry.log"

	# A partial that is already the whole blob is only checked.
	cp "$(blob_file "$TMP/img" "$layer")" "$TMP/again.partial"
	run rc fetch "$REG/r/img" "$layer" "$TMP/again"
	assert_status 0
	cmp "$TMP/again" "$(blob_file "$TMP/img" "$layer")"
}

@test "a tampered blob is refused and nothing is left as complete" {
	require_skopeo
	start_registry reg
	skopeo copy -q --dest-tls-verify=false "oci-archive:$(image_archive)" \
		"docker://$REG/test/busybox:v1"
	image_layout "$TMP/orig"
	local m layer data
	m=$(jq -r '.manifests[0].digest' "$TMP/orig/index.json")
	layer=$(jq -r '.layers[0].digest' "$(blob_file "$TMP/orig" "$m")")
	data=$(registry_blob "$layer")
	[ -f "$data" ]
	# Same size, different bytes: only the digest can tell.
	printf 'XXXXXXXX' | dd of="$data" bs=1 seek=1000 conv=notrunc status=none

	run rc fetch "$REG/test/busybox" "$layer" "$TMP/layer"
	assert_status 1
	assert_output_contains "blob $layer from $REG: digest mismatch, got sha256:"
	[ ! -e "$TMP/layer" ]
	[ ! -e "$TMP/layer.partial" ]

	run rc pull-all "$REG/test/busybox:v1" "$TMP/out"
	assert_status 1
	assert_output_contains "digest mismatch"
	[ ! -e "$(blob_file "$TMP/out" "$layer")" ]
	[ ! -e "$TMP/out/index.json" ]
	assert_no_partials "$TMP/out"
}

@test "a tampered manifest is refused" {
	start_registry reg
	image_layout "$TMP/img"
	run rc push "$TMP/img" "$REG/t/img:1"
	assert_status 0
	local m
	m=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")
	# Rewrite the stored manifest as another valid document of the same size (the registry
	# refuses to serve one it cannot parse).
	local config_size
	config_size=$(jq -r .config.size "$(registry_blob "$m")")
	sed -i "s/\"size\":$config_size}/\"size\":$((config_size + 1))}/" "$(registry_blob "$m")"
	! cmp -s "$(registry_blob "$m")" "$(blob_file "$TMP/img" "$m")" || false
	run rc pull-all "$REG/t/img@$m" "$TMP/out"
	assert_status 1
	assert_output_contains "manifest $m from $REG: digest mismatch"
	[ ! -e "$TMP/out/index.json" ]
	assert_no_partials "$TMP/out"
}

# ---------------------------------------------------------------------------------------
# Plain http only for loopback and insecure registries
# ---------------------------------------------------------------------------------------

@test "plain http: refused for a non-loopback host unless it is an insecure registry" {
	# Refused before any connection: nothing listens there, and the name need not resolve.
	run rc --plain-http resolve registry.example.com:5000/x:1
	assert_status 1
	assert_output_contains "plain http to \`registry.example.com:5000\` refused"
	run rc --plain-http resolve 192.0.2.77:5000/x:1
	assert_status 1
	assert_output_contains "plain http to \`192.0.2.77:5000\` refused"

	# Loopback is fine with or without --plain-http (https is tried first, then http).
	start_registry reg
	image_layout "$TMP/img"
	run rc --plain-http push "$TMP/img" "$REG/p/img:1"
	assert_status 0
	run rc resolve "$REG/p/img:1"
	assert_status 0
	run rc resolve "localhost:${REG#*:}/p/img:1"
	assert_status 0

	# A registry on this machine's own non-loopback address: http only when listed.
	local addr
	addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
	[ -n "$addr" ] || skip "no non-loopback IPv4 address"
	REGISTRY_ADDR=$addr start_registry ext
	run rc --plain-http resolve "$REG/p/img:1"
	assert_status 1
	assert_output_contains "plain http to \`$REG\` refused"
	run rc resolve "$REG/p/img:1"
	assert_status 1 # https only: the registry speaks http
	run rc --insecure-registry "$REG" --plain-http push "$TMP/img" "$REG/p/img:1"
	assert_status 0
	run rc --insecure-registry "$addr" resolve "$REG/p/img:1"
	assert_status 0
	run rc --insecure-registry "${addr%.*}.0/24" resolve "$REG/p/img:1"
	assert_status 0
}

# ---------------------------------------------------------------------------------------
# Push
# ---------------------------------------------------------------------------------------

@test "push an image and pull it back equal; another repository mounts its blobs" {
	require_skopeo
	start_registry reg
	image_layout "$TMP/img"
	local want
	want=$(jq -r '.manifests[0].digest' "$TMP/img/index.json")

	run rc push "$TMP/img" "$REG/pushed/img:v1"
	assert_status 0
	assert_output_contains "uploaded" "pushed $want"
	run rc pull-all "$REG/pushed/img:v1" "$TMP/back"
	assert_status 0
	assert_same_blobs "$TMP/img" "$TMP/back"
	assert_same_blobs "$TMP/back" "$TMP/img"

	# Another client reads what was pushed.
	run skopeo inspect --tls-verify=false --raw "docker://$REG/pushed/img:v1"
	assert_status 0
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$want" ]

	# Again: everything is there already.
	run rc push "$TMP/img" "$REG/pushed/img:v1"
	assert_status 0
	assert_output_contains "exists"
	# Into another repository of the same registry: mounted, not uploaded.
	run rc --mount-from pushed/img push "$TMP/img" "$REG/other/img:v2"
	assert_status 0
	assert_output_contains "mounted" "pushed $want"
	[[ "$output" != *uploaded* ]]
	run rc pull-all "$REG/other/img:v2" "$TMP/other"
	assert_status 0
	assert_same_blobs "$TMP/img" "$TMP/other"
}

# ---------------------------------------------------------------------------------------
# Indexes and platforms
# ---------------------------------------------------------------------------------------

@test "multi-platform index: linux/amd64 by default, another platform on request" {
	start_registry reg
	index_layout "$TMP/multi"

	run rc push "$TMP/multi" "$REG/multi/img:latest"
	assert_status 0
	assert_output_contains "pushed $INDEX_DIGEST"

	run rc resolve "$REG/multi/img"
	assert_status 0
	[ "$(jq -r .mediaType <<<"$output")" = application/vnd.oci.image.index.v1+json ]
	[ "$(jq -r .digest <<<"$output")" = "$INDEX_DIGEST" ]
	if [ "$(uname -m)" = x86_64 ]; then
		[ "$(jq -r .manifest.digest <<<"$output")" = "$AMD64_MANIFEST" ]
		[ "$(jq -r .manifest.platform <<<"$output")" = linux/amd64 ]
	fi

	run rc --platform linux/amd64 pull-all "$REG/multi/img" "$TMP/amd64"
	assert_status 0
	[ "$(jq -r .manifest <<<"${lines[-1]}")" = "$AMD64_MANIFEST" ]
	[ "$(jq -r .platform <<<"${lines[-1]}")" = linux/amd64 ]

	run rc --platform linux/arm64 pull-all "$REG/multi/img" "$TMP/arm64"
	assert_status 0
	[ "$(jq -r .manifest <<<"${lines[-1]}")" = "$ARM64_MANIFEST" ]
	[ "$(jq -r .platform <<<"${lines[-1]}")" = linux/arm64/v8 ]
	# The index and the chosen manifest are kept with the blobs.
	[ -f "$(blob_file "$TMP/arm64" "$INDEX_DIGEST")" ]
	[ -f "$(blob_file "$TMP/arm64" "$ARM64_MANIFEST")" ]

	run rc --platform linux/aarch64 resolve "$REG/multi/img"
	assert_status 0
	[ "$(jq -r .manifest.digest <<<"$output")" = "$ARM64_MANIFEST" ]

	run rc --platform linux/s390x pull-all "$REG/multi/img" "$TMP/s390x"
	assert_status 1
	assert_output_contains "no manifest for linux/s390x in the index; it has linux/amd64, linux/arm64/v8"
	run rc --platform linux/arm/v7 resolve "$REG/multi/img"
	assert_status 1
	assert_output_contains "no manifest for linux/arm/v7"
	run rc --platform nonsense resolve "$REG/multi/img"
	assert_status 1
	assert_output_contains "os/arch[/variant]"
}

@test "skopeo reads the index the client pushed" {
	require_skopeo
	start_registry reg
	index_layout "$TMP/multi"
	run rc push "$TMP/multi" "$REG/multi/img:v1"
	assert_status 0
	run skopeo inspect --tls-verify=false --raw "docker://$REG/multi/img:v1"
	assert_status 0
	[ "$(jq -r '.manifests | length' <<<"$output")" = 2 ]
	run skopeo --override-arch arm64 inspect --tls-verify=false "docker://$REG/multi/img:v1"
	assert_status 0
	[ "$(jq -r .Architecture <<<"$output")" = arm64 ]
}

# ---------------------------------------------------------------------------------------
# Basic auth over TLS
# ---------------------------------------------------------------------------------------

@test "basic auth over TLS with a test CA; wrong password and unknown CA are clear errors" {
	make_server_cert
	htpasswd_line alice 's3cret:x' >"$TMP/htpasswd"
	REGISTRY_TLS=1 start_registry tls "auth:
  htpasswd:
    realm: berth-test
    path: $TMP/htpasswd"
	auth_file "$TMP/auth.json" "$REG" alice 's3cret:x'
	auth_file "$TMP/wrong.json" "$REG" alice wrong
	image_layout "$TMP/img"

	run rc --auth-file "$TMP/auth.json" --ca-file "$TMP/ca.crt" push "$TMP/img" "$REG/sec/img:1"
	assert_status 0
	run rc --auth-file "$TMP/auth.json" --ca-file "$TMP/ca.crt" pull-all "$REG/sec/img:1" "$TMP/out"
	assert_status 0
	assert_same_blobs "$TMP/img" "$TMP/out"
	# It went over TLS, as HTTP/2 (the registry offers it by ALPN).
	grep -q '"GET /v2/sec/img/blobs/sha256:[0-9a-f]* HTTP/2.0"' "$TMP/tls/registry.log"

	run rc --auth-file "$TMP/wrong.json" --ca-file "$TMP/ca.crt" resolve "$REG/sec/img:1"
	assert_status 1
	assert_output_contains "401" "the registry refused the credentials of \`alice\` from $TMP/wrong.json"

	run rc --ca-file "$TMP/ca.crt" resolve "$REG/sec/img:1"
	assert_status 1
	assert_output_contains "401" "needs credentials"

	# Without the CA the certificate is unknown, and a loopback host does not fall back to
	# http on a certificate error.
	run rc --auth-file "$TMP/auth.json" resolve "$REG/sec/img:1"
	assert_status 1
	assert_output_contains_any "certificate" "SSL"

	# An insecure registry skips the check.
	run rc --insecure-registry "$REG" --auth-file "$TMP/auth.json" resolve "$REG/sec/img:1"
	assert_status 0
}

# ---------------------------------------------------------------------------------------
# Token auth
# ---------------------------------------------------------------------------------------

# start_token_registry: token-server.py on a free port, and a registry that trusts it.
start_token_registry() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/token.key" -out "$TMP/token.crt" \
		-days 2 -subj "/CN=berth token issuer" 2>/dev/null
	python3 "$TOKEN_SERVER" --key "$TMP/token.key" --cert "$TMP/token.crt" \
		--issuer berth-issuer --service berth-registry --user "alice:pw" \
		--log "$TMP/tokens.log" --port-file "$TMP/token.port" 2>"$TMP/token-server.err" 3>&- &
	local pid=$!
	on_teardown kill "$pid"
	retry 100 0.1 test -s "$TMP/token.port" || {
		cat "$TMP/token-server.err" >&2
		fail "token server did not start"
	}
	TOKEN_REALM=http://127.0.0.1:$(cat "$TMP/token.port")/token
	start_registry tok "auth:
  token:
    realm: $TOKEN_REALM
    service: berth-registry
    issuer: berth-issuer
    rootcertbundle: $TMP/token.crt"
}

@test "bearer token auth: a token for the scope from the realm, cached, refused without credentials" {
	start_token_registry
	auth_file "$TMP/auth.json" "$REG" alice pw
	auth_file "$TMP/wrong.json" "$REG" alice nope
	image_layout "$TMP/img"

	run rc --auth-file "$TMP/auth.json" push "$TMP/img" "$REG/priv/img:1"
	assert_status 0
	grep -qx "user=alice scope=repository:priv/img:pull,push" "$TMP/tokens.log"

	: >"$TMP/tokens.log"
	run rc --auth-file "$TMP/auth.json" pull-all "$REG/priv/img:1" "$TMP/out"
	assert_status 0
	assert_same_blobs "$TMP/img" "$TMP/out"
	# resolve, manifest and two blobs: one token for the one scope.
	[ "$(cat "$TMP/tokens.log")" = "user=alice scope=repository:priv/img:pull" ]

	# Anonymous: the token service grants nothing on priv/.
	run rc pull-all "$REG/priv/img:1" "$TMP/anon"
	assert_status 1
	assert_output_contains "401" "authentication to \`$REG\` failed"

	run rc --auth-file "$TMP/wrong.json" resolve "$REG/priv/img:1"
	assert_status 1
	assert_output_contains "the token service refused the credentials of \`alice\`"

	# Anonymous pulls of public/ work with an anonymous token.
	run rc --auth-file "$TMP/auth.json" push "$TMP/img" "$REG/public/img:1"
	assert_status 0
	run rc pull-all "$REG/public/img:1" "$TMP/pub"
	assert_status 0
	grep -qx "user=- scope=repository:public/img:pull" "$TMP/tokens.log"
}

@test "bearer token auth: cross-repository mount asks for both scopes" {
	start_token_registry
	auth_file "$TMP/auth.json" "$REG" alice pw
	image_layout "$TMP/img"
	run rc --auth-file "$TMP/auth.json" push "$TMP/img" "$REG/a/img:1"
	assert_status 0
	run rc --auth-file "$TMP/auth.json" --mount-from a/img push "$TMP/img" "$REG/b/img:1"
	assert_status 0
	assert_output_contains "mounted"
	grep -qx "user=alice scope=repository:b/img:pull,push scope=repository:a/img:pull" \
		"$TMP/tokens.log"
}

# ---------------------------------------------------------------------------------------
# Retries and resumption (a stub registry that fails on purpose)
# ---------------------------------------------------------------------------------------

# start_flaky PLAN: flaky-registry.py serving a 1 MiB blob ($BLOB, $BLOB_DIGEST) with PLAN.
start_flaky() {
	BLOB=$TMP/blob
	head -c 1048576 /dev/urandom >"$BLOB"
	BLOB_DIGEST=sha256:$(sha256sum "$BLOB" | cut -d' ' -f1)
	rm -f "$TMP/flaky.port"
	python3 "$BERTH_SOURCE_DIR/tests/integration/supervisor/flaky-registry.py" --blob "$BLOB" \
		--plan "$1" --log "$TMP/flaky.log" --port-file "$TMP/flaky.port" 2>"$TMP/flaky.err" 3>&- &
	local pid=$!
	on_teardown kill "$pid"
	retry 100 0.1 test -s "$TMP/flaky.port" || {
		cat "$TMP/flaky.err" >&2
		fail "stub registry did not start"
	}
	REG=127.0.0.1:$(cat "$TMP/flaky.port")
	: >"$TMP/flaky.log"
}

@test "transient failures are retried, and a broken download resumes where it stopped" {
	start_flaky 503,cut,ok
	run rc fetch "$REG/f/blob" "$BLOB_DIGEST" "$TMP/out"
	assert_status 0
	cmp "$TMP/out" "$BLOB"
	assert_output_contains "status 503; attempt 2 of 5"
	# 503, then half the body before the connection dropped, then the rest by Range.
	[ "$(sed -n 1p "$TMP/flaky.log")" = "GET range=- step=503" ]
	[ "$(sed -n 2p "$TMP/flaky.log")" = "GET range=- step=cut" ]
	[ "$(sed -n 3p "$TMP/flaky.log")" = "GET range=bytes=524288- step=ok" ]
}

@test "a server that ignores Range gets the held part skipped, not written twice" {
	start_flaky 429,cut,norange
	run rc fetch "$REG/f/blob" "$BLOB_DIGEST" "$TMP/out"
	assert_status 0
	cmp "$TMP/out" "$BLOB"
	[ "$(sed -n 3p "$TMP/flaky.log")" = "GET range=bytes=524288- step=norange" ]
}

@test "retries stop after the last attempt with the registry's error" {
	start_flaky 500,500,500,500,500,500
	run rc fetch "$REG/f/blob" "$BLOB_DIGEST" "$TMP/out"
	assert_status 1
	assert_output_contains "500 Internal Server Error: UNAVAILABLE: try again"
	[ "$(wc -l <"$TMP/flaky.log")" = 5 ]
	[ ! -e "$TMP/out" ] && [ ! -e "$TMP/out.partial" ]
}
