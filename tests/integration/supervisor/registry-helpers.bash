# SPDX-License-Identifier: Apache-2.0
# registry-helpers.bash: real registries for the registry client's tests, in $TMP.
#
# Load after ../helpers. Needs Debian's docker-registry (distribution 2.8), openssl and
# python3; skopeo for the tests that check interoperability (contrib/install-deps installs
# them as REGISTRY, best effort: the tests skip without them). Gives:
#   REMOTE_CLIENT              tests/tools/remote-client (from BERTH_BUILD_DIR, else PATH)
#   rc ARGS...                 remote-client, bounded in time
#   start_registry NAME [YAML] a registry on 127.0.0.1 and a free port, storage in $TMP/NAME;
#                              YAML (optional) is appended to its config (auth:, tls under
#                              http: via REGISTRY_TLS=1). Sets REG (127.0.0.1:PORT) and REG_DIR
#                              (its storage root); stopped at teardown
#   make_ca, make_server_cert  a test CA ($TMP/ca.crt) and a cert for 127.0.0.1 signed by it
#   htpasswd_line USER PASS    a bcrypt htpasswd line (htpasswd -B, else python3's crypt)
#   auth_file FILE HOST USER PASS   a docker config.json with one "auths" entry
#   image_layout DIR [NAME:TAG]     make-image's OCI layout, extracted (built once per file)
#   index_layout DIR           an OCI layout whose index.json names an image index of two
#                              images, linux/amd64 and linux/arm64/v8 (make-image's, with the
#                              config rewritten); sets AMD64_MANIFEST, ARM64_MANIFEST,
#                              INDEX_DIGEST
#   blob_file DIR DIGEST       the path of a blob in a layout
#   registry_blob DIGEST       the path of a blob in $REG_DIR's storage

bin_of() {
	local rel=$1 name=${1##*/}
	if [ -n "${BERTH_BUILD_DIR:-}" ] && [ -x "$BERTH_BUILD_DIR/$rel" ]; then
		echo "$BERTH_BUILD_DIR/$rel"
	else
		command -v "$name" || echo "$name"
	fi
}
REMOTE_CLIENT=$(bin_of tests/tools/remote-client/remote-client)
MAKE_IMAGE=$BERTH_SOURCE_DIR/tests/fixtures/make-image
TOKEN_SERVER=$BERTH_SOURCE_DIR/tests/integration/supervisor/token-server.py

registry_setup() {
	berth_setup
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	command -v openssl >/dev/null || skip "openssl is not installed"
	command -v python3 >/dev/null || skip "python3 is not installed"
	[ -x "$REMOTE_CLIENT" ] || fail "remote-client not found (BERTH_BUILD_DIR=${BERTH_BUILD_DIR:-})"
	# The client's default credentials file must not be the caller's.
	export DOCKER_CONFIG=$TMP/docker-config
}

require_skopeo() {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
}

rc() {
	timeout -k 5 120 "$REMOTE_CLIENT" "$@"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# start_registry NAME [YAML]
start_registry() {
	local name=$1 extra=${2:-} port dir tls=
	port=$(free_port)
	dir=$TMP/$name
	mkdir -p "$dir/storage"
	if [ -n "${REGISTRY_TLS:-}" ]; then
		tls="  tls:
    certificate: $TMP/server.crt
    key: $TMP/server.key"
	fi
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: ${REGISTRY_ADDR:-127.0.0.1}:$port
$tls
$extra
EOF
	docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 3>&- &
	local pid=$!
	on_teardown kill "$pid"
	REG=${REGISTRY_ADDR:-127.0.0.1}:$port
	REG_DIR=$dir/storage
	retry 100 0.1 port_open "${REG%:*}" "$port" || {
		cat "$dir/registry.log" >&2
		fail "registry $name did not start"
	}
}

make_ca() {
	[ -f "$TMP/ca.crt" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ca.key" -out "$TMP/ca.crt" \
		-days 2 -subj "/CN=berth test CA" 2>/dev/null
}

make_server_cert() {
	make_ca
	openssl req -newkey rsa:2048 -nodes -keyout "$TMP/server.key" -out "$TMP/server.csr" \
		-subj "/CN=127.0.0.1" 2>/dev/null
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
		"keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$TMP/server.ext"
	openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" \
		-CAcreateserial -out "$TMP/server.crt" -days 2 -extfile "$TMP/server.ext" 2>/dev/null
}

# The registry only takes bcrypt. htpasswd (apache2-utils) makes one; without it, python3's
# crypt module does, through glibc's libxcrypt ("$2b$"). Cost 4 keeps each request fast.
htpasswd_line() {
	local user=$1 pass=$2
	if command -v htpasswd >/dev/null; then
		htpasswd -nbB -C 4 "$user" "$pass" | head -1
	else
		python3 -W ignore -c 'import crypt, sys
print("%s:%s" % (sys.argv[1], crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))))' \
			"$user" "$pass"
	fi
}

auth_file() {
	local file=$1 host=$2 user=$3 pass=$4
	jq -n --arg h "$host" --arg a "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" \
		'{auths: {($h): {auth: $a}}}' >"$file"
}

# image_layout DIR [NAME:TAG]
image_layout() {
	local dir=$1 name=${2:-berth.test/busybox:latest}
	local cache=${BATS_FILE_TMPDIR:-$TMP}/image-${name//[\/:]/_}.tar
	if [ ! -f "$cache" ]; then
		"$MAKE_IMAGE" oci "$cache.tmp" "$name" >&2 && mv "$cache.tmp" "$cache" || return 1
	fi
	mkdir -p "$dir"
	tar -xf "$cache" -C "$dir"
}

image_archive() {
	local name=${1:-berth.test/busybox:latest}
	image_layout "$TMP/.unused" "$name" >/dev/null
	rm -rf "$TMP/.unused"
	echo "${BATS_FILE_TMPDIR:-$TMP}/image-${name//[\/:]/_}.tar"
}

blob_file() {
	echo "$1/blobs/sha256/${2#sha256:}"
}

registry_blob() {
	local hex=${1#sha256:}
	echo "$REG_DIR/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# put_blob DIR FILE: move FILE into DIR's blobs; prints "DIGEST SIZE".
put_blob() {
	local dir=$1 file=$2 hex size
	hex=$(sha256sum "$file" | cut -d' ' -f1)
	size=$(stat -c %s "$file")
	mv "$file" "$dir/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}

# platform_manifest DIR MANIFEST ARCH [VARIANT]: a copy of image MANIFEST of layout DIR whose
# config says ARCH (and VARIANT); prints "DIGEST SIZE" of the new manifest.
platform_manifest() {
	local dir=$1 m=$2 arch=$3 variant=${4:-} config d s
	config=$(jq -r '.config.digest' "$(blob_file "$dir" "$m")")
	jq -c --arg a "$arch" --arg v "$variant" \
		'.architecture = $a | if $v == "" then del(.variant) else .variant = $v end' \
		"$(blob_file "$dir" "$config")" >"$TMP/cfg"
	read -r d s < <(put_blob "$dir" "$TMP/cfg")
	jq -c --arg d "$d" --argjson s "$s" '.config.digest = $d | .config.size = $s' \
		"$(blob_file "$dir" "$m")" >"$TMP/man"
	put_blob "$dir" "$TMP/man"
}

index_layout() {
	local dir=$1 m d s asz bsz
	image_layout "$dir"
	m=$(jq -r '.manifests[0].digest' "$dir/index.json")
	# The same image twice, told apart by their configs only.
	read -r AMD64_MANIFEST asz < <(platform_manifest "$dir" "$m" amd64)
	read -r ARM64_MANIFEST bsz < <(platform_manifest "$dir" "$m" arm64 v8)
	jq -n -c --arg a "$AMD64_MANIFEST" --argjson asz "$asz" --arg b "$ARM64_MANIFEST" \
		--argjson bsz "$bsz" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [
			{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $asz,
			 platform: {os: "linux", architecture: "amd64"}},
			{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $bsz,
			 platform: {os: "linux", architecture: "arm64", variant: "v8"}}]}' >"$TMP/idx"
	read -r d s < <(put_blob "$dir" "$TMP/idx")
	INDEX_DIGEST=$d
	jq -n -c --arg d "$d" --argjson s "$s" '{schemaVersion: 2, manifests: [
		{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s}]}' \
		>"$dir/index.json"
}

# assert_same_blobs A B: every blob of layout A is in layout B, byte for byte.
assert_same_blobs() {
	local a=$1 b=$2 f
	for f in "$a"/blobs/sha256/*; do
		cmp -s "$f" "$b/blobs/sha256/${f##*/}" || fail "blob ${f##*/} differs or is missing in $b"
	done
}

# assert_no_partials DIR: nothing half-downloaded left in DIR.
assert_no_partials() {
	local left
	left=$(find "$1" -name '*.partial' 2>/dev/null)
	[ -z "$left" ] || fail "left behind: $left"
}
