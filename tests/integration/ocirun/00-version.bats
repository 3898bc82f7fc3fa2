#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The command line itself: --version, --help, unknown commands.

load ../helpers

@test "--version prints '<name> version X' and the spec version" {
	run "$OCIRUN" --version
	assert_status 0
	[[ "${lines[0]}" =~ ^[a-z]+\ version\ [0-9]+\.[0-9]+ ]] || fail "first line: ${lines[0]}"
	grep -Eq '^spec: 1\.[0-9]+' <<<"$output" || fail "no 'spec: 1.x' line in: $output"
}

@test "-v is --version" {
	run "$OCIRUN" -v
	assert_status 0
	[[ "${lines[0]}" =~ ^[a-z]+\ version\ [0-9] ]] || fail "first line: ${lines[0]}"
}

@test "--help lists the commands and global options" {
	run "$OCIRUN" --help
	assert_status 0
	local c
	for c in create start run state kill delete list spec; do
		grep -qw -- "$c" <<<"$output" || fail "--help does not mention '$c': $output"
	done
	assert_output_contains --root --log --debug
}

@test "help for one command" {
	run "$OCIRUN" kill --help
	assert_status 0
	assert_output_contains kill
}

@test "unknown command fails and names it" {
	run ocirun no-such-command
	assert_failure
	assert_output_contains no-such-command
	[ ! -e "$ROOT/no-such-command" ]
}

@test "unknown global flag fails and names it" {
	run ocirun --no-such-flag list
	assert_failure
	assert_output_contains no-such-flag
}

@test "unknown command flag fails and names it" {
	run ocirun list --no-such-flag
	assert_failure
	assert_output_contains no-such-flag
}

@test "a command without its container id fails" {
	local c
	for c in start state kill delete; do
		run ocirun "$c"
		assert_failure
		[ -n "$output" ] || fail "$c: no message"
	done
}
