#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# hooks: all six kinds (prestart, createRuntime, createContainer, startContainer, poststart,
# poststop) fire in the lifecycle's order with the state JSON on stdin, in the right mount
# namespace, with their args and env exactly; a timeout kills a slow hook; a failing or
# missing create-time hook fails create and leaves nothing; poststart and poststop failures
# only warn; with separate commands poststart runs at start and poststop at delete.
#
# The logging hook is $BUNDLE/rootfs/hook.sh (see write_hook_script). Every kind logs to the
# same file in the rootfs: host-side hooks (and createContainer, which runs before
# pivot_root, where host paths still resolve) by its host path $BUNDLE/rootfs/hooks.log,
# startContainer (inside the container, after pivot_root) as /hooks.log.

load ../helpers
load security-helpers

KINDS="prestart createRuntime createContainer startContainer poststart poststop"

# hooks_bundle: a bundle with a writable rootfs and the logging hook script; sets LOG.
hooks_bundle() {
	make_bundle
	config_set '.root.readonly = false'
	write_hook_script "$BUNDLE/rootfs/hook.sh"
	LOG=$BUNDLE/rootfs/hooks.log
}

# add_hook KIND PATH [ARG...] [-- JQ-EXTRA]: append {path, args} to hooks.KIND.
add_hook() {
	local kind=$1 path=$2
	shift 2
	config_set --arg k "$kind" --arg p "$path" --argjson a "$(json_array "$@")" \
		'.hooks[$k] += [{path: $p, args: $a}]'
}

# add_log_hook KIND: the logging hook for KIND, with the log path KIND can reach.
add_log_hook() {
	if [ "$1" = startContainer ]; then
		add_hook "$1" /hook.sh hook.sh "$1" /hooks.log
	else
		add_hook "$1" "$BUNDLE/rootfs/hook.sh" hook.sh "$1" "$LOG"
	fi
}

# add_sh_hook KIND SCRIPT [ARG...]: a hook running SCRIPT with the rootfs's busybox sh,
# args[0] "sh" (busybox picks its applet from argv[0], so this also checks that args[0] is
# passed as given); $0 is KIND. It reads all of its stdin first: what a runtime does with a
# hook that does not is the business of one test only (see "does not read its stdin").
add_sh_hook() {
	local kind=$1 script=$2 path=$BUNDLE/rootfs/bin/busybox
	shift 2
	[ "$kind" = startContainer ] && path=/bin/busybox
	add_hook "$kind" "$path" sh -c "cat >/dev/null; $script" "$kind" "$@"
}

# add_raw_hook KIND APPLET [ARG...]: a hook that is the rootfs's busybox APPLET itself,
# which never reads its stdin (true, false).
add_raw_hook() {
	local kind=$1
	shift
	add_hook "$kind" "$BUNDLE/rootfs/bin/busybox" "$@"
}

# big_annotation: an annotation of 200 KB, which makes the state JSON on a hook's stdin
# larger than a pipe holds: a hook that exits without reading it leaves the runtime
# writing to a pipe without a reader (EPIPE, and SIGPIPE unless it guards against it).
big_annotation() {
	head -c 200000 /dev/zero | tr '\0' a >"$TMP/big"
	config_set --rawfile big "$TMP/big" '.annotations["org.berth.test.big"] = $big'
}

# hook_log: the hook names logged so far, space-separated.
hook_log() {
	[ -f "$LOG" ] && tr '\n' ' ' <"$LOG" | sed 's/ $//'
}

# state_of KIND FIELD: FIELD of the state JSON hook KIND got.
state_of() {
	jq -r ".$2 // empty" "$LOG.$1.state"
}

@test "hooks: all six kinds fire once, in the lifecycle's order" {
	hooks_bundle
	local k
	for k in $KINDS; do
		add_log_hook "$k"
	done
	config_args true
	run_file run_fg
	assert_status 0
	# runc 1.1 runs poststart before startContainer (see the next test): only the order
	# both agree on is required of it.
	if is_runc; then
		[[ "$(hook_log)" =~ ^"prestart createRuntime createContainer "(startContainer poststart|poststart startContainer)" poststop"$ ]] ||
			fail "order: $(hook_log); output: $output"
	else
		[ "$(hook_log)" = "$KINDS" ] || fail "order: $(hook_log); output: $output"
	fi
	assert_gone
}

# runc 1.1 runs poststart as soon as the init has read exec.fifo, before the
# startContainer hooks have run.
@test "hooks: poststart runs only once the startContainer hooks are done" {
	skip_if_runc "1.1 runs poststart before startContainer"
	hooks_bundle
	local k
	for k in $KINDS; do
		if [ "$k" = startContainer ]; then
			# Slow on purpose: a runtime that does not wait for startContainer (and the
			# exec of the process after it) before poststart shows it at once.
			add_sh_hook startContainer 'sleep 0.5; exec /hook.sh startContainer /hooks.log'
		else
			add_log_hook "$k"
		fi
	done
	config_args true
	run_file run_fg
	assert_status 0
	[ "$(hook_log)" = "$KINDS" ] || fail "order: $(hook_log)"
}

@test "hooks: each gets the state JSON on stdin: id, pid, status, bundle" {
	hooks_bundle
	local k pid
	for k in $KINDS; do
		add_log_hook "$k"
	done
	config_args sleep 100
	create_container
	assert_status 0
	pid=$(container_pid)
	ocirun start "$ID"
	retry 50 0.1 file_has "$LOG" poststart
	ocirun delete --force "$ID"
	for k in $KINDS; do
		[ "$(state_of "$k" id)" = "$ID" ] || fail "$k: $(cat "$LOG.$k.state")"
		[ "$(state_of "$k" bundle)" = "$BUNDLE" ] || fail "$k: $(cat "$LOG.$k.state")"
	done
	for k in prestart createRuntime createContainer; do
		[ "$(state_of "$k" status)" = creating ] || fail "$k: $(cat "$LOG.$k.state")"
	done
	# runc 1.1 says "created" to poststart.
	is_runc || [ "$(state_of poststart status)" = running ] || fail "poststart: $(cat "$LOG.poststart.state")"
	[ "$(state_of poststop status)" = stopped ] || fail "poststop: $(cat "$LOG.poststop.state")"
	# The pid is the container's init as the host sees it (runc 1.1 gives createContainer
	# and startContainer the pid inside the container, 1).
	for k in prestart createRuntime poststart; do
		[ "$(state_of "$k" pid)" = "$pid" ] || fail "$k: pid $(state_of "$k" pid), want $pid"
	done
	if ! is_runc; then
		[ "$(state_of createContainer pid)" = "$pid" ] || fail "createContainer: $(cat "$LOG.createContainer.state")"
		[ "$(state_of startContainer pid)" = "$pid" ] || fail "startContainer: $(cat "$LOG.startContainer.state")"
	fi
	# A stopped container has no process: pid absent or 0.
	[[ "$(state_of poststop pid)" =~ ^0?$ ]] || fail "poststop: $(cat "$LOG.poststop.state")"
	assert_gone
}

@test "hooks: createRuntime, prestart (and poststart, poststop) run in the host's mount namespace, createContainer and startContainer in the container's" {
	hooks_bundle
	local k pid host_mnt ctr_mnt
	for k in $KINDS; do
		add_log_hook "$k"
	done
	config_args sleep 100
	create_container
	assert_status 0
	pid=$(container_pid)
	ocirun start "$ID"
	retry 50 0.1 file_has "$LOG" poststart
	host_mnt=$(readlink /proc/self/ns/mnt)
	ctr_mnt=$(readlink "/proc/$pid/ns/mnt")
	[ "$host_mnt" != "$ctr_mnt" ]
	ocirun delete --force "$ID"
	for k in prestart createRuntime poststart poststop; do
		[ "$(cat "$LOG.$k.mnt")" = "$host_mnt" ] || fail "$k ran in $(cat "$LOG.$k.mnt"), host $host_mnt"
	done
	for k in createContainer startContainer; do
		[ "$(cat "$LOG.$k.mnt")" = "$ctr_mnt" ] || fail "$k ran in $(cat "$LOG.$k.mnt"), container $ctr_mnt"
	done
}

@test "hooks: args are passed exactly, args[0] included" {
	hooks_bundle
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		# printf the hook's $0 and its arguments, then log its kind.
		if [ "$k" = startContainer ]; then
			add_sh_hook "$k" 'printf "%s|" "$0" "$@" >/hooks.args.$0' "two words" "--flag" "" "*"
		else
			add_sh_hook "$k" "printf \"%s|\" \"\$0\" \"\$@\" >$BUNDLE/rootfs/hooks.args.\$0" \
				"two words" "--flag" "" "*"
		fi
	done
	config_args true
	run_file run_fg
	assert_status 0
	for k in $KINDS; do
		[ "$(cat "$BUNDLE/rootfs/hooks.args.$k")" = "$k|two words|--flag||*|" ] ||
			fail "$k: $(cat "$BUNDLE/rootfs/hooks.args.$k" 2>&1)"
	done
}

@test "hooks: env is exactly the hook's env, nothing from the runtime's environment" {
	hooks_bundle
	local k
	export BERTH_HOST_ONLY=leak
	for k in prestart createRuntime createContainer poststart poststop; do
		add_sh_hook "$k" "env >$BUNDLE/rootfs/hooks.env.\$0"
		config_set --arg k "$k" '.hooks[$k][-1].env = ["HOOKVAR=two words", "PATH=/bin:/usr/bin"]'
	done
	add_sh_hook startContainer 'env >/hooks.env.$0'
	config_set '.hooks.startContainer[-1].env = ["HOOKVAR=two words", "PATH=/bin:/usr/bin"]'
	config_args true
	run_file run_fg
	assert_status 0
	for k in $KINDS; do
		# The shell adds PWD (and busybox SHLVL) itself.
		[ "$(grep -Ev '^(PWD|SHLVL|_)=' "$BUNDLE/rootfs/hooks.env.$k" | sort | tr '\n' ' ')" = \
			"HOOKVAR=two words PATH=/bin:/usr/bin " ] ||
			fail "$k: $(cat "$BUNDLE/rootfs/hooks.env.$k")"
	done
}

# ocirun-only: runc 1.1 gives a hook without env the runtime's own environment.
@test "hooks: a hook without env gets an empty environment" {
	skip_if_runc "1.1 passes its own environment to a hook without env"
	hooks_bundle
	export BERTH_HOST_ONLY=leak
	local k
	for k in prestart createRuntime createContainer poststart poststop; do
		add_sh_hook "$k" "env >$BUNDLE/rootfs/hooks.env.\$0"
	done
	config_args true
	run_file run_fg
	assert_status 0
	for k in prestart createRuntime createContainer poststart poststop; do
		# The shell adds PWD, SHLVL and its own default PATH, not the runtime's.
		! grep -Evq '^(PWD|SHLVL|_)=|^PATH=/sbin:/usr/sbin:/bin:/usr/bin$' "$BUNDLE/rootfs/hooks.env.$k" ||
			fail "$k: $(cat "$BUNDLE/rootfs/hooks.env.$k")"
	done
}

@test "hooks: a hook past its timeout is killed and create fails, saying so; nothing left" {
	hooks_bundle
	add_hook prestart "$BUNDLE/rootfs/bin/busybox" sh -c "echo \$\$ >$TMP/hook.pid; exec sleep 30"
	config_set '.hooks.prestart[0].timeout = 1'
	config_args true
	local t0=$SECONDS
	create_container
	assert_failure
	[ $((SECONDS - t0)) -lt 10 ] || fail "create took $((SECONDS - t0)) s"
	assert_output_contains_any "timeout" "timed out"
	# runc: "error running hook #0: hook ran past specified timeout of 1.0s"
	is_runc || assert_output_contains prestart
	retry 50 0.1 pid_gone "$(cat "$TMP/hook.pid")"
	assert_gone
}

@test "hooks: a failing prestart, createRuntime or createContainer hook fails create with its stderr; nothing left" {
	local k
	for k in prestart createRuntime createContainer; do
		hooks_bundle
		add_sh_hook "$k" 'echo "refused-by-$0" >&2; exit 3'
		config_args true
		create_container
		assert_failure
		assert_output_contains "refused-by-$k"
		assert_gone
		run_file run_fg
		assert_failure
		assert_output_contains "refused-by-$k"
		assert_gone
		rm -rf "$BUNDLE"
	done
}

@test "hooks: after a failing createRuntime hook no later create or start hook runs; nothing left" {
	hooks_bundle
	add_log_hook prestart
	add_sh_hook createRuntime 'echo "refused-by-$0" >&2; exit 3'
	add_log_hook createContainer
	add_log_hook startContainer
	add_log_hook poststart
	config_args true
	create_container
	assert_failure
	[ "$(hook_log)" = prestart ] || fail "hooks run: $(hook_log)"
	assert_gone
}

# ocirun-only: runc 1.1 treats a failing poststart hook as fatal and kills the container.
@test "hooks: a failing poststart hook only warns; the container runs" {
	skip_if_runc "1.1 kills the container when poststart fails"
	hooks_bundle
	add_sh_hook poststart 'echo "poststart-complains" >&2; exit 3'
	config_args sh -c 'echo container-ran'
	run_file run_fg
	assert_status 0
	grep -qx container-ran <<<"$output" || fail "$output"
	assert_output_contains poststart-complains
	grep -qi warn <<<"$output" || fail "no warning: $output"
	assert_gone
}

@test "hooks: a failing poststop hook only warns; everything is removed" {
	hooks_bundle
	add_sh_hook poststop 'echo "poststop-complains" >&2; exit 3'
	config_args sh -c 'exit 5'
	run_file run_fg
	assert_status 5
	assert_output_contains poststop-complains
	assert_gone

	# The same with delete: it succeeds, with the warning.
	config_args sleep 100
	create_container
	assert_status 0
	run_file ocirun delete --force "$ID"
	assert_status 0
	assert_output_contains poststop-complains
	assert_gone
}

@test "hooks: a hook path that does not exist fails create, naming it; nothing left" {
	local k
	for k in prestart createRuntime createContainer; do
		hooks_bundle
		add_hook "$k" "$TMP/no-such-hook-$k"
		config_args true
		create_container
		assert_failure
		assert_output_contains "no-such-hook-$k"
		assert_gone
		rm -rf "$BUNDLE"
	done
}

# runc 1.1 runs poststart at the end of create.
@test "hooks: create, start and delete as separate commands: poststart at start, poststop at delete" {
	skip_if_runc "1.1 runs poststart at create"
	hooks_bundle
	local k
	for k in $KINDS; do
		add_log_hook "$k"
	done
	config_args sleep 100
	create_container
	assert_status 0
	[ "$(hook_log)" = "prestart createRuntime createContainer" ] || fail "after create: $(hook_log)"

	ocirun start "$ID"
	retry 50 0.1 file_has "$LOG" poststart
	retry 50 0.1 file_has "$LOG" startContainer
	[[ "$(hook_log)" == "prestart createRuntime createContainer "* ]] || fail "after start: $(hook_log)"
	! file_has "$LOG" poststop || fail "poststop before delete: $(hook_log)"

	ocirun kill "$ID" KILL
	retry 50 0.1 status_is stopped
	sleep 0.2
	! file_has "$LOG" poststop || fail "poststop before delete: $(hook_log)"
	ocirun delete "$ID"
	[ "$(tail -1 "$LOG")" = poststop ] || fail "after delete: $(hook_log)"
	[ "$(grep -c . "$LOG")" = 6 ] || fail "$(hook_log)"
	assert_gone
}

@test "hooks: a container deleted while only created runs poststop but not poststart" {
	skip_if_runc "1.1 runs poststart at create"
	hooks_bundle
	local k
	for k in $KINDS; do
		add_log_hook "$k"
	done
	config_args sleep 100
	create_container
	assert_status 0
	ocirun delete --force "$ID"
	[ "$(hook_log)" = "prestart createRuntime createContainer poststop" ] || fail "$(hook_log)"
	assert_gone
}

@test "hooks: a hook that does not read its stdin does not kill run: poststop" {
	hooks_bundle
	big_annotation
	add_raw_hook poststop true
	config_args sh -c 'exit 5'
	run_file run_fg
	# The container's status, not 141 (128 + SIGPIPE).
	assert_status 5
	assert_gone
}

@test "hooks: a hook that does not read its stdin does not kill run: failing prestart" {
	hooks_bundle
	big_annotation
	add_raw_hook prestart false
	config_args true
	run_file run_fg
	assert_failure
	[ "$status" != 141 ] || fail "run died of SIGPIPE, output: $output"
	# The error is reported (runc: "error running hook #0: ... exit status 1").
	assert_output_contains_any prestart "error running hook"
	assert_gone
}

@test "hooks: a hook that does not read its stdin does not kill run: poststart" {
	hooks_bundle
	big_annotation
	add_raw_hook poststart true
	config_args sh -c 'sleep 0.3; exit 7'
	run_file run_fg
	assert_status 7
	assert_gone
}

@test "hooks: a hook that does not read its stdin does not fail create" {
	hooks_bundle
	big_annotation
	add_raw_hook prestart true
	add_raw_hook createRuntime true
	add_raw_hook createContainer true
	config_args true
	create_container
	assert_status 0
	ocirun delete --force "$ID"
	assert_gone
}
