#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# linux.resources on a hybrid host (v1 controllers, cgroup2 with hugetlb only): each field
# lands in its cgroup file, and the limits are enforced: a memory limit OOM-kills, a pids
# limit stops fork, a cpu quota throttles. Devices: deny-all plus allow rules, the default
# devices still usable, a device outside the rules refused. Unified keys only where the
# cgroup2 hierarchy has the file.

load ../helpers
load resource-helpers

MiB=1048576

# resources_container JSON [ARGS...]: $ID running ARGS (default `sleep 100`) detached, with
# linux.resources set to JSON; sets INIT.
resources_container() {
	local res=$1
	shift
	make_bundle
	config_set --argjson r "$res" '.linux.resources = ((.linux.resources // {}) + $r)'
	if [ $# -gt 0 ]; then
		config_args "$@"
	else
		config_args sleep 100
	fi
	run_detached
	assert_status 0
	INIT=$(container_pid)
}

# ---------------------------------------------------------------------------------------
# Values written
# ---------------------------------------------------------------------------------------

@test "memory: limit, reservation, swap, swappiness, disableOOMKiller written" {
	require_v1 memory
	local swap=true
	[ -f "$(cg_mount memory)/memory.memsw.limit_in_bytes" ] || swap=false
	resources_container "{\"memory\": {\"limit\": $((64 * MiB)), \"reservation\": $((32 * MiB)),
		$($swap && echo "\"swap\": $((128 * MiB)),") \"swappiness\": 10, \"disableOOMKiller\": true}}"
	[ "$(ctr_file memory memory.limit_in_bytes)" = $((64 * MiB)) ]
	[ "$(ctr_file memory memory.soft_limit_in_bytes)" = $((32 * MiB)) ]
	if $swap; then
		[ "$(ctr_file memory memory.memsw.limit_in_bytes)" = $((128 * MiB)) ]
	fi
	[ "$(ctr_file memory memory.swappiness)" = 10 ]
	grep -qx "oom_kill_disable 1" <(ctr_file memory memory.oom_control) ||
		fail "$(ctr_file memory memory.oom_control)"
}

@test "memory: without resources nothing is limited (unlimited defaults)" {
	require_v1 memory
	resources_container '{}'
	# 9223372036854771712 = PAGE_COUNTER_MAX pages, the kernel's "unlimited"
	[ "$(ctr_file memory memory.limit_in_bytes)" -gt $((1 << 50)) ]
	grep -qx "oom_kill_disable 0" <(ctr_file memory memory.oom_control)
}

@test "cpu: shares, quota and period, cpus and mems written" {
	require_v1 cpu cpuset
	resources_container '{"cpu": {"shares": 512, "quota": 50000, "period": 200000, "cpus": "0", "mems": "0"}}'
	[ "$(ctr_file cpu cpu.shares)" = 512 ]
	[ "$(ctr_file cpu cpu.cfs_quota_us)" = 50000 ]
	[ "$(ctr_file cpu cpu.cfs_period_us)" = 200000 ]
	[ "$(ctr_file cpuset cpuset.cpus)" = 0 ]
	[ "$(ctr_file cpuset cpuset.mems)" = 0 ]
	# and the process is bound to cpu 0
	[ "$(awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$INIT/status")" = 0 ]
}

# ocirun-only: runc 1.1 ignores cpu.idle on cgroup v1.
@test "cpu: idle written" {
	skip_if_runc "ignores cpu.idle on cgroup v1"
	require_v1 cpu
	[ -f "$(cg_mount cpu)/cpu.idle" ] || skip "no cpu.idle"
	resources_container '{"cpu": {"idle": 1}}'
	[ "$(ctr_file cpu cpu.idle)" = 1 ]
}

@test "cpu: realtime runtime and period written (where the kernel takes them)" {
	require_v1 cpu
	local parent probe
	parent=$(cg_dir self cpu)
	[ -f "$parent/cpu.rt_runtime_us" ] || skip "no cpu.rt_runtime_us (no RT_GROUP_SCHED)"
	probe=$parent/probe-$ID
	mkdir "$probe"
	if ! echo 10000 >"$probe/cpu.rt_runtime_us" 2>/dev/null; then
		rmdir "$probe"
		skip "cpu.rt_runtime_us does not accept 10000 here"
	fi
	rmdir "$probe"
	resources_container '{"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 10000}}'
	[ "$(ctr_file cpu cpu.rt_period_us)" = 1000000 ]
	[ "$(ctr_file cpu cpu.rt_runtime_us)" = 10000 ]
}

@test "pids: limit written" {
	require_v1 pids
	resources_container '{"pids": {"limit": 10}}'
	[ "$(ctr_file pids pids.max)" = 10 ]
}

@test "blockIO: weight written to blkio.bfq.weight (BFQ)" {
	require_v1 blkio
	# Is there a blkio.bfq.weight in a container's directory here? Ask a plain container.
	resources_container '{}'
	local d
	d=$(ctr_dir blkio)
	[ -f "$d/blkio.bfq.weight" ] || [ -f "$d/blkio.weight" ] || skip "no blkio weight file"
	ocirun delete --force "$ID"
	rm -rf "$BUNDLE"
	resources_container '{"blockIO": {"weight": 500}}'
	d=$(ctr_dir blkio)
	if [ -f "$d/blkio.bfq.weight" ]; then
		grep -qw 500 "$d/blkio.bfq.weight" || fail "blkio.bfq.weight: $(cat "$d/blkio.bfq.weight")"
	else
		grep -qw 500 "$d/blkio.weight" || fail "blkio.weight: $(cat "$d/blkio.weight")"
	fi
}

# ---------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------

@test "devices: deny-all plus allow rules; devices.list shows them and the defaults" {
	require_v1 devices
	resources_container '{"devices": [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
		{"allow": true, "type": "b", "major": 7, "minor": 0, "access": "r"}]}'
	local list
	list=$(ctr_file devices devices.list)
	grep -qx "c 10:229 rw" <<<"$list" || fail "no c 10:229 rw in: $list"
	grep -qx "b 7:0 r" <<<"$list" || fail "no b 7:0 r in: $list"
	# the runtime's default devices: /dev/null, /dev/zero, /dev/urandom, /dev/tty, ptys
	local d
	for d in "c 1:3 rwm" "c 1:5 rwm" "c 1:9 rwm" "c 5:0 rwm" "c 136:\* rwm"; do
		grep -qx "$d" <<<"$list" || fail "no '$d' in: $list"
	done
	# not everything
	! grep -q '^a ' <<<"$list" || fail "still allows all: $list"
}

@test "devices: the default devices work under deny-all" {
	make_bundle
	config_set '.linux.resources.devices = [{allow: false, access: "rwm"}]'
	config_args sh -c 'echo hi >/dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c; echo x >/dev/full || echo full-refused'
	run_file run_fg
	assert_status 0
	[ "${lines[0]}" = null-ok ] || fail "$output"
	[ "$(echo "${lines[1]}" | tr -d ' ')" = 4 ] || fail "$output"
	[ "$(echo "${lines[2]}" | tr -d ' ')" = 4 ] || fail "$output"
	assert_output_contains "No space left on device" full-refused
}

# A node made in the rootfs beforehand (not listed in linux.devices, which the runtime allows
# like its defaults). Not /dev/zero-like: the default rules (c 1:5 among them) come after the
# config's, as runc puts them, so a config rule cannot take them away. The fuse device
# (c 10:229) is no default; opening it is harmless.
fuse_node_in_rootfs() {
	[ -c /dev/fuse ] || skip "no /dev/fuse on the host"
	mknod -m 0666 "$BUNDLE/rootfs/xfuse" c 10 229
}

# (exec 3<...) in a subshell: a failed redirection of `exec` would end the shell itself.
OPEN_XFUSE='(exec 3</xfuse) && echo opened || echo open-failed; echo hi >/dev/null && echo null-ok'

@test "devices: a device outside the allow rules cannot be opened (Operation not permitted)" {
	make_bundle
	fuse_node_in_rootfs
	config_set '.linux.resources.devices = [{allow: false, access: "rwm"}]'
	config_args sh -c "$OPEN_XFUSE"
	run_file run_fg
	assert_status 0
	assert_output_contains "Operation not permitted" open-failed null-ok
	! grep -qx opened <<<"$output" || fail "$output"
	# the same node with an allow rule opens
	config_set '.linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 229, access: "rw"}]'
	run_file run_fg
	assert_status 0
	grep -qx opened <<<"$output" || fail "$output"
	assert_output_contains null-ok
}

@test "devices: a deny rule for one device after an allow-all" {
	make_bundle
	fuse_node_in_rootfs
	config_set '.linux.resources.devices = [{allow: true, access: "rwm"},
		{allow: false, type: "c", major: 10, minor: 229, access: "rwm"}]'
	config_args sh -c "$OPEN_XFUSE"
	run_file run_fg
	assert_status 0
	assert_output_contains "Operation not permitted" open-failed null-ok
	! grep -qx opened <<<"$output" || fail "$output"
}

@test "devices: a read-only rule allows reading and refuses writing" {
	make_bundle
	fuse_node_in_rootfs
	config_set '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 10, minor: 229, access: "r"}]'
	config_args sh -c '(exec 3</xfuse) && echo read-opened; (exec 3>/xfuse) && echo write-opened || echo write-failed'
	run_file run_fg
	assert_status 0
	assert_output_contains read-opened write-failed "Operation not permitted"
	! grep -q write-opened <<<"$output" || fail "$output"
}

# ocirun-only: runc 1.1 adds no cgroup rule for linux.devices; ocirun allows them after the
# config's rules ("devices MUST be available in the container").
@test "devices: the nodes of linux.devices stay usable under deny-all" {
	skip_if_runc "linux.devices get no cgroup allow rule"
	[ -c /dev/fuse ] || skip "no /dev/fuse on the host"
	make_bundle
	config_set '.linux.devices = [{path: "/dev/xfuse", type: "c", major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0}]'
	config_set '.linux.resources.devices = [{allow: false, access: "rwm"}]'
	config_args sh -c '(exec 3</dev/xfuse) && echo opened'
	run_file run_fg
	assert_status 0
	grep -qx opened <<<"$output" || fail "$output"
}

# ---------------------------------------------------------------------------------------
# Unified (cgroup2) keys on a hybrid host
# ---------------------------------------------------------------------------------------

@test "unified: an unknown key is refused clearly, nothing left" {
	make_bundle
	config_set '.linux.resources.unified = {"memory.bogus": "1"}'
	config_args true
	run_file run_fg
	assert_failure
	# runc 1.1 refuses any unified key on a v1 host; ocirun names the key
	is_runc || assert_output_contains "memory.bogus"
	assert_nothing_left
	config_set '.linux.resources.unified = {"hugetlb.7MB.max": "max"}'
	run_file run_fg
	assert_failure
	is_runc || assert_output_contains "hugetlb.7MB.max"
	assert_nothing_left
}

# ocirun-only: runc 1.1 takes no unified key on a host that is not pure cgroup2.
@test "unified: a hugetlb key that the cgroup2 hierarchy has is written" {
	skip_if_runc "refuses linux.resources.unified unless the host is pure cgroup2"
	grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null ||
		skip "no hugetlb in the unified hierarchy"
	resources_container '{}'
	local d key f
	d=$(cg_dir "$INIT" "")
	key=
	for f in "$d"/hugetlb.*.max; do
		[[ "$f" == *.rsvd.max ]] || [ ! -f "$f" ] || key=${f##*/}
	done
	[ -n "$key" ] || skip "no hugetlb.*.max file"
	ocirun delete --force "$ID"
	rm -rf "$BUNDLE"
	resources_container "{\"unified\": {\"$key\": \"$((4 * 2 * MiB))\"}}"
	d=$(cg_dir "$INIT" "")
	[ "$(cat "$d/$key")" = $((4 * 2 * MiB)) ] || fail "$key: $(cat "$d/$key")"
}

# ---------------------------------------------------------------------------------------
# Refused values
# ---------------------------------------------------------------------------------------

@test "a value the kernel refuses fails create and run clearly, nothing left (no cgroup dir)" {
	require_v1 cpuset
	make_bundle
	config_set '.linux.resources.cpu = {cpus: "9999"}'
	config_args true
	run_file run_fg
	assert_failure
	assert_output_contains cpuset 9999
	assert_nothing_left
	create_container
	assert_failure
	assert_output_contains cpuset 9999
	assert_nothing_left
}

# ---------------------------------------------------------------------------------------
# Enforcement
# ---------------------------------------------------------------------------------------

# `tail /dev/zero` keeps the whole endless "line" in memory.
oom_resources() {
	local r="\"limit\": $((32 * MiB))"
	[ -f "$(cg_mount memory)/memory.memsw.limit_in_bytes" ] && r+=", \"swap\": $((32 * MiB))"
	echo "{\"memory\": {$r}}"
}

@test "enforced: a memory limit OOM-kills the process that goes over it (run exits 137)" {
	require_v1 memory
	make_bundle
	config_set --argjson r "$(oom_resources)" '.linux.resources += $r'
	config_args tail /dev/zero
	run_file run_fg
	assert_status 137
	assert_nothing_left
}

@test "enforced: after an OOM kill the cgroup counts it (oom_control, max usage, events --stats)" {
	require_v1 memory
	resources_container "$(oom_resources)" sh -c 'tail /dev/zero; echo "tail=$?"; sleep 100'
	wait_for "$TMP/$ID.out" "tail="
	grep -qx "tail=137" "$TMP/$ID.out" || fail "$(cat "$TMP/$ID.out")"
	# the init survived: only the offender was killed
	[ "$(container_status)" = running ]
	local oc
	oc=$(ctr_file memory memory.oom_control)
	grep -q "^oom_kill [1-9]" <<<"$oc" || fail "oom_control: $oc"
	# Usage reached the limit. (failcnt is no evidence on every kernel: 6.18 here leaves
	# memory.failcnt and memory.memsw.failcnt at 0 through an OOM kill.)
	[ "$(ctr_file memory memory.max_usage_in_bytes)" = $((32 * MiB)) ]
	run_file ocirun events --stats "$ID"
	assert_status 0
	[ "$(jq -r .data.memory.usage.max <<<"$output")" = $((32 * MiB)) ] || fail "$output"
	[ "$(jq -r .data.memory.usage.failcnt <<<"$output")" = "$(ctr_file memory memory.failcnt)" ] ||
		fail "$output"
	[ "$(jq -r .data.memory.usage.limit <<<"$output")" = $((32 * MiB)) ] || fail "$output"
}

@test "enforced: a pids limit stops fork; the count never goes over it" {
	require_v1 pids
	# The init (outer sh) survives the inner shell's fork failure and keeps the count.
	resources_container '{"pids": {"limit": 5}}' sh -c \
		'sh -c "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; wait"; echo "inner=$?"; exec sleep 100'
	wait_for "$TMP/$ID.out" "inner="
	local out
	out=$(cat "$TMP/$ID.out")
	grep -qiE "can't fork|Resource temporarily unavailable" <<<"$out" || fail "$out"
	[ "$(ctr_file pids pids.max)" = 5 ]
	local cur n
	cur=$(ctr_file pids pids.current)
	[ "$cur" -le 5 ] || fail "pids.current $cur"
	n=$(wc -l <"$(ctr_dir pids)/cgroup.procs")
	[ "$n" -le 5 ] || fail "$n processes"
	[ "$n" -ge 4 ] || fail "only $n processes: the limit was not reached"
	# the kernel counted the refusals
	local d
	d=$(ctr_dir pids)
	if [ -f "$d/pids.events" ]; then
		grep -q "^max [1-9]" "$d/pids.events" || fail "pids.events: $(cat "$d/pids.events")"
	fi
}

@test "enforced: a pids limit refuses fork in run, the runtime reports the shell's failure" {
	make_bundle
	config_set '.linux.resources.pids = {limit: 5}'
	config_args sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait'
	run_file run_fg
	assert_failure
	assert_output_contains_any "can't fork" "Resource temporarily unavailable"
	assert_nothing_left
}

@test "enforced: a cpu quota throttles a busy loop (cpu.stat, events --stats)" {
	require_v1 cpu
	resources_container '{"cpu": {"quota": 10000, "period": 100000}}' \
		sh -c 'timeout 1 sh -c "while :; do :; done"; echo busy-done; exec sleep 100'
	wait_for "$TMP/$ID.out" busy-done
	local stat
	stat=$(ctr_file cpu cpu.stat)
	[ "$(awk '$1 == "nr_throttled" {print $2}' <<<"$stat")" -gt 0 ] || fail "cpu.stat: $stat"
	run_file ocirun events --stats "$ID"
	assert_status 0
	[ "$(jq -r '.data.cpu.throttling.throttledPeriods // 0' <<<"$output")" -gt 0 ] || fail "$output"
	# 1s at 10%: about 0.1s of cpu, certainly well under 0.5s
	local usage
	usage=$(jq -r .data.cpu.usage.total <<<"$output")
	[ "$usage" -lt 500000000 ] || fail "used ${usage}ns of cpu in 1s at a 10% quota"
}
