#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# process.terminal: with --console-socket the pty master goes to the socket (a small python
# receiver, see console_receiver), the container's stdio is the pty slave, consoleSize is its
# window size, and input typed into the master reaches the process; create with a terminal
# and no socket is refused; `run` from a terminal without a socket relays the pty itself and
# passes its window size on.

load ../helpers
load security-helpers

# term_bundle: a bundle with process.terminal true.
term_bundle() {
	make_bundle
	config_set '.process.terminal = true'
}

# run_in_script CMD: CMD (a string for sh) run by script(1), which gives it a terminal on
# stdin and stdout, through run_file; the transcript has its \r and the "^@" script(1) may
# echo for stdin at EOF removed.
run_in_script() {
	run_file script -qec "$1" /dev/null
	output=$(tr -d '\r' <<<"$output" | sed 's/\^@//g')
	lines=()
	IFS=$'\n' read -d '' -r -a lines <<<"$output" || true
}

# ocirun_cmd ARGS...: the runtime under test with this test's root, as a string for sh.
ocirun_cmd() {
	printf '%q ' "$OCIRUN" --root "$ROOT" "$@"
}

@test "terminal: --console-socket receives the pty master; the process's stdio is the pty" {
	term_bundle
	config_args sh -c 'tty; for fd in 0 1 2; do [ -t $fd ] && echo "fd$fd-tty"; done; echo "done"'
	run_on_console
	grep -qx '/dev/pts/0' <<<"$CONSOLE_OUT" || fail "tty: $CONSOLE_OUT"
	grep -qx fd0-tty <<<"$CONSOLE_OUT" || fail "$CONSOLE_OUT"
	grep -qx fd1-tty <<<"$CONSOLE_OUT" || fail "$CONSOLE_OUT"
	grep -qx fd2-tty <<<"$CONSOLE_OUT" || fail "$CONSOLE_OUT"
	grep -qx "done" <<<"$CONSOLE_OUT" || fail "$CONSOLE_OUT"
	# Nothing went to the runtime's own stdout.
	[ -z "$(cat "$TMP/$ID.out")" ] || fail "create printed: $(cat "$TMP/$ID.out")"
	assert_gone
}

@test "terminal: consoleSize is the pty's window size" {
	term_bundle
	config_set '.process.consoleSize = {height: 30, width: 100}'
	config_args stty size
	run_on_console
	[ "$CONSOLE_OUT" = "30 100" ] || fail "stty size: $CONSOLE_OUT"
}

@test "terminal: what is typed into the master reaches the process" {
	term_bundle
	printf 'typed-line\n' >"$TMP/console.in"
	# The pty echoes the input too; the process's answer is prefixed to tell them apart.
	config_args sh -c 'read -r line; echo "got:$line"'
	run_on_console
	grep -qx 'got:typed-line' <<<"$CONSOLE_OUT" || fail "$CONSOLE_OUT"
}

@test "terminal: /dev/console in the container is the pty" {
	term_bundle
	config_args sh -c 'stat -c "%t:%T" /dev/console "$(tty)"'
	run_on_console
	local a b
	a=$(sed -n 1p <<<"$CONSOLE_OUT")
	b=$(sed -n 2p <<<"$CONSOLE_OUT")
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "/dev/console $a, tty $b"
}

@test "terminal: the process is the session leader with the pty as controlling terminal" {
	term_bundle
	# Field 6 of stat is the session id, field 7 the controlling terminal (0: none).
	config_args sh -c 'set -- $(cat /proc/self/stat); echo "pid=$1 sid=$6 tty_nr=$7"; echo "self=$$"'
	run_on_console
	local sid tty_nr self
	self=$(sed -n 's/^self=//p' <<<"$CONSOLE_OUT")
	sid=$(sed -n 's/.* sid=\([0-9]*\).*/\1/p' <<<"$CONSOLE_OUT")
	tty_nr=$(sed -n 's/.* tty_nr=\([0-9]*\).*/\1/p' <<<"$CONSOLE_OUT")
	[ "$sid" = "$self" ] || fail "$CONSOLE_OUT"
	[ -n "$tty_nr" ] && [ "$tty_nr" != 0 ] || fail "no controlling terminal: $CONSOLE_OUT"
}

@test "terminal: create without --console-socket is refused, naming it; nothing left" {
	term_bundle
	config_args true
	create_container
	assert_failure
	assert_output_contains_any "console-socket" "console socket"
	assert_gone
	# Detached run too.
	run_detached
	assert_failure
	assert_output_contains_any "console-socket" "console socket"
	assert_gone
}

@test "terminal: --console-socket without process.terminal is refused; nothing left" {
	make_bundle
	config_args true
	console_receiver "$TMP/console.sock" "$TMP/console.out"
	create_container "$ID" --console-socket "$TMP/console.sock"
	assert_failure
	assert_output_contains_any "console-socket" "console socket"
	assert_gone
}

@test "terminal: a console socket nobody listens on fails create, naming it; nothing left" {
	term_bundle
	config_args true
	create_container "$ID" --console-socket "$TMP/no-such.sock"
	assert_failure
	assert_output_contains no-such.sock
	assert_gone
}

@test "terminal: run without a socket from a terminal relays the container's output" {
	term_bundle
	config_args sh -c 'tty; echo from-container; exit 3'
	run_in_script "$(ocirun_cmd run --bundle "$BUNDLE" "$ID")"
	# script -e: the status of the command, which is the container's.
	assert_status 3
	grep -qx '/dev/pts/[0-9]*' <<<"$output" || fail "$output"
	grep -qx from-container <<<"$output" || fail "$output"
	assert_gone
}

@test "terminal: run without a socket passes input from the terminal to the container" {
	term_bundle
	config_args sh -c 'read -r line; echo "got:$line"'
	# The terminal gets a line once the container runs: script's stdin is a pipe that is
	# written after a short while.
	run_file sh -c "{ sleep 0.5; echo typed-line; sleep 0.5; } | script -qec '$(ocirun_cmd run --bundle "$BUNDLE" "$ID")' /dev/null"
	output=$(tr -d '\r' <<<"$output")
	grep -qx 'got:typed-line' <<<"$output" || fail "$output"
	assert_gone
}

@test "terminal: run from a terminal: its window size is the container's" {
	term_bundle
	# The pause leaves the runtime time to pass the size on; the next test checks that it
	# does so before the process starts.
	config_args sh -c 'sleep 0.3; stty size'
	run_in_script "stty rows 30 cols 100; $(ocirun_cmd run --bundle "$BUNDLE" "$ID")"
	assert_status 0
	[ "$output" = "30 100" ] || fail "stty size: $output"
}

# runc 1.1 has the same race (it resizes after start), though a slow poststart hook does not
# widen it there.
@test "terminal: run from a terminal: the window size is set before the process starts" {
	skip_if_runc "1.1 resizes the pty after start too"
	term_bundle
	# A poststart hook that takes a while must not leave the process with a 0x0 terminal:
	# the size has to be on the pty before the process runs.
	config_set --arg b "$BUNDLE/rootfs/bin/busybox" \
		'.hooks.poststart = [{path: $b, args: ["sh", "-c", "cat >/dev/null; sleep 0.5"]}]'
	config_args stty size
	run_in_script "stty rows 30 cols 100; $(ocirun_cmd run --bundle "$BUNDLE" "$ID")"
	assert_status 0
	[ "$output" = "30 100" ] || fail "stty size: $output"
}
