# SPDX-License-Identifier: Apache-2.0
# engine-helpers.bash: a berthd over a berth-supervisor per test, in $TMP.
#
# Load after ../helpers, ../supervisor/supervisor-helpers and (for registries)
# ../supervisor/registry-helpers. Gives:
#   BERTHD                  the built berthd (from BERTH_BUILD_DIR, else PATH)
#   EROOT, ESTATE, ESOCK    its --root, --state and socket
#   start_berthd [ARGS...]  start it (in the background, logging to $TMP/berthd.log) and wait
#                           for its socket; ARGS go on its command line. Its default network
#                           is --bridge $BERTHD_BRIDGE, none unless a test sets it: the
#                           container tests were written to dockerd --bridge=none, and a
#                           container on no CNI network leaves nothing on the host when a
#                           test ends with it running (14-network.bats sets its own)
#   kill_berthd [SIGNAL]    stop it (default TERM) and wait for it to go
#   api [CURL ARGS...] PATH curl on the socket: prints the body, then a last line with the
#                           status; PATH is appended to http://berthd
#   dockercli ARGS...       the docker CLI against berthd, bounded in time
#   engine_setup_network P O  engine_setup for the network tests: a supervisor and a berthd
#                           whose default network is a bridge of the test's own (P, a short
#                           prefix, the test's number and the shell's pid: $BR) on
#                           10.O.N.0/24 (N the test's number); C names the test's container
#   net_cleanup             at teardown, through berthd while it runs: every container, the
#                           test's user networks, its bridge ($NET_CLI: the CLI that does it,
#                           dockercli by default)
#   load_busybox            load busybox:latest (contrib/busybox-image, berth's default
#                           image; built once per file) into berthd with docker load
# and stops both daemons at teardown; in a sanitizer build the test fails when berthd
# reported an error (its log is checked with the supervisor's).

BERTHD=$(bin_of engine/berthd)

engine_setup() {
	supervisor_setup
	EROOT=$TMP/eroot
	ESTATE=$TMP/estate
	ESOCK=$TMP/berthd.sock
	BERTHD_PID=
	# The CLI's own configuration (credentials, contexts) must not be the caller's.
	export DOCKER_CONFIG=$TMP/docker-config
	on_teardown kill_berthd TERM
}

# engine_setup_containers: engine_setup, then a supervisor and berthd of the test's own with
# busybox:latest loaded, for the tests of containers through the docker CLI; C and V name the
# test's containers and volumes. Whatever containers a test leaves, and the volume V, are
# removed at teardown, through berthd while it still runs.
engine_setup_containers() {
	engine_setup
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	start_supervisor
	start_berthd
	load_busybox
	C=$ID-c
	V=$ID-v
	on_teardown remove_all_containers
}

engine_setup_network() {
	local prefix=$1 octet=$2
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -x /usr/lib/cni/bridge ] || skip "the CNI plugins are not installed"
	engine_setup
	N=$((BATS_TEST_NUMBER % 250))
	BR=$prefix${N}n$$
	BR=${BR:0:15}
	BERTHD_BRIDGE=$BR
	printf '{"bip": "10.%d.%d.1/24"}\n' "$octet" "$N" >"$TMP/daemon.json"
	start_supervisor
	start_berthd
	C=$ID-c
}

net_cleanup() {
	local c n cli=${NET_CLI:-dockercli}
	if [ -n "${BERTHD_PID:-}" ]; then
		for c in $($cli ps -aq 2>/dev/null); do
			$cli rm -f "$c" >/dev/null 2>&1 || true
		done
		for n in $($cli network ls -q --filter type=custom 2>/dev/null); do
			$cli network rm "$n" >/dev/null 2>&1 || true
		done
	fi
	ip link delete "$BR" 2>/dev/null || true
}

remove_all_containers() {
	local c
	[ -n "${BERTHD_PID:-}" ] || return 0
	for c in $(dockercli ps -aq 2>/dev/null); do
		dockercli rm -f "$c" >/dev/null 2>&1 || true
	done
	dockercli volume rm -f "$V" >/dev/null 2>&1 || true
}

engine_teardown() {
	local rc=0
	kill_berthd TERM
	if [ -f "$TMP/berthd.log" ] && grep -qE 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/berthd.log"; then
		echo "sanitizer report in berthd.log:" >&2
		grep -E -A40 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/berthd.log" | head -80 >&2
		rc=1
	fi
	# supervisor-helpers' teardown, which the test file's own teardown replaces.
	if [[ "${TMP:-}" == */berth-it.* ]] && [ -n "${SSTATE:-}" ]; then
		supervisor_cleanup
		sanitizer_reports || rc=1
	fi
	berth_teardown || rc=1
	return $rc
}

start_berthd() {
	rm -f "$ESOCK"
	"$BERTHD" --root "$EROOT" --state "$ESTATE" -H "unix://$ESOCK" --supervisor "$SOCK" \
		--config "$TMP/daemon.json" --bridge "${BERTHD_BRIDGE:-none}" --debug "$@" \
		2>>"$TMP/berthd.log" 3>&- &
	BERTHD_PID=$!
	retry 100 0.1 test -S "$ESOCK" || {
		cat "$TMP/berthd.log" >&2
		fail "berthd did not start"
	}
}

kill_berthd() {
	local sig=${1:-TERM}
	[ -n "${BERTHD_PID:-}" ] || return 0
	kill "-$sig" "$BERTHD_PID" 2>/dev/null || true
	wait "$BERTHD_PID" 2>/dev/null || true
	BERTHD_PID=
}

api() {
	local path=${*: -1}
	timeout -k 5 60 curl -sS --unix-socket "$ESOCK" -w '\n%{http_code}' "${@:1:$#-1}" "http://berthd$path"
}

dockercli() {
	DOCKER_HOST="unix://$ESOCK" timeout -k 5 120 docker "$@"
}

# load_busybox: berth's default image, busybox:latest, as contrib/busybox-image builds it,
# loaded through the docker CLI (POST /images/load).
load_busybox() {
	local tar=${BATS_FILE_TMPDIR:?}/busybox.tar
	if [ ! -s "$tar" ]; then
		"$BERTH_SOURCE_DIR/contrib/busybox-image" "$tar" >&2 || fail "contrib/busybox-image failed"
	fi
	run dockercli load -i "$tar"
	assert_status 0
	assert_output_contains "Loaded image: busybox:latest"
}

# The status (last line) and the body (the rest) of `run api ...`.
api_status() {
	echo "${lines[-1]}"
}
api_body() {
	printf '%s\n' "${lines[@]:0:${#lines[@]}-1}"
}
