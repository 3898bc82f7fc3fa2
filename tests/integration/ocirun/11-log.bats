#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Global flags: --log, --log-format, --debug, --systemd-cgroup.

load ../helpers

# A bundle whose create fails: its rootfs is missing.
failing_bundle() {
	make_bundle
	config_set '.root.path = "no-such-rootfs"'
}

@test "--log FILE --log-format json: a failing create writes JSON lines" {
	failing_bundle
	run_file ocirun --log "$TMP/log.json" --log-format json create --bundle "$BUNDLE" "$ID"
	assert_failure
	[ -s "$TMP/log.json" ]
	local line n=0
	while IFS= read -r line; do
		n=$((n + 1))
		jq -e 'type == "object" and has("level") and has("msg") and has("time")' <<<"$line" >/dev/null ||
			fail "not a JSON log line: $line"
	done <"$TMP/log.json"
	[ "$n" -ge 1 ]
	jq -se 'any(.[]; .level == "error" and (.msg | contains("no-such-rootfs")))' "$TMP/log.json" >/dev/null ||
		fail "no error line naming the rootfs: $(cat "$TMP/log.json")"
	# the time is RFC 3339
	jq -se 'all(.[]; .time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' "$TMP/log.json" >/dev/null
	# the error still reaches stderr (runc prints the bare message there too)
	assert_output_contains no-such-rootfs
	assert_nothing_left
}

@test "--log FILE: text format by default" {
	failing_bundle
	run_file ocirun --log "$TMP/log.txt" create --bundle "$BUNDLE" "$ID"
	assert_failure
	[ -s "$TMP/log.txt" ]
	grep -q no-such-rootfs "$TMP/log.txt"
	grep -q 'level=error' "$TMP/log.txt"
	! jq -e . "$TMP/log.txt" >/dev/null 2>&1
}

@test "--log-format text is accepted" {
	failing_bundle
	run_file ocirun --log "$TMP/log.txt" --log-format text create --bundle "$BUNDLE" "$ID"
	assert_failure
	grep -q 'level=error' "$TMP/log.txt"
}

@test "--log appends to an existing file" {
	failing_bundle
	echo "earlier line" >"$TMP/log.txt"
	run_file ocirun --log "$TMP/log.txt" create --bundle "$BUNDLE" "$ID"
	assert_failure
	[ "$(head -1 "$TMP/log.txt")" = "earlier line" ]
	grep -q no-such-rootfs "$TMP/log.txt"
}

@test "--log-format of an unknown format fails and names it" {
	mkdir -p "$ROOT"
	run ocirun --log-format yaml list
	assert_failure
	assert_output_contains yaml
}

@test "--log in a missing directory fails and names it" {
	mkdir -p "$ROOT"
	run ocirun --log "$TMP/no-such-dir/log" list
	assert_failure
	assert_output_contains no-such-dir
}

@test "a successful run with --log --log-format json" {
	make_bundle
	config_args echo fine
	run_file ocirun --log "$TMP/log.json" --log-format json run --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ "$output" = fine ]
	if [ -s "$TMP/log.json" ]; then
		jq -se 'all(.[]; has("level") and has("msg"))' "$TMP/log.json" >/dev/null
	fi
}

@test "--debug is accepted and logs at debug level" {
	make_bundle
	config_args echo fine
	run_file ocirun --debug --log "$TMP/log.json" --log-format json run --bundle "$BUNDLE" "$ID"
	assert_status 0
	[ "$output" = fine ]
	jq -se 'any(.[]; .level == "debug")' "$TMP/log.json" >/dev/null ||
		fail "no debug line: $(cat "$TMP/log.json")"
}

@test "--debug with list" {
	mkdir -p "$ROOT"
	run ocirun --debug list -q
	assert_status 0
}

@test "--systemd-cgroup is accepted as a global flag" {
	make_bundle
	config_args echo fine
	run_file ocirun --systemd-cgroup run --bundle "$BUNDLE" "$ID"
	# Without systemd, runc says "systemd not running on this host, cannot use systemd
	# cgroups manager"; falling back to cgroupfs is fine too. No crash either way.
	if [ "$status" = 0 ]; then
		grep -qx fine <<<"$output"
	else
		[ "$status" -lt 128 ] || fail "crashed: status $status"
		assert_output_contains systemd
	fi
	assert_nothing_left
}

@test "--systemd-cgroup with list" {
	mkdir -p "$ROOT"
	run ocirun --systemd-cgroup list -q
	assert_status 0
}
