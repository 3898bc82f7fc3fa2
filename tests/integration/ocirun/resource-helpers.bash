# SPDX-License-Identifier: Apache-2.0
# resource-helpers.bash: finding a container's cgroup directories from the host, for the
# resource-control tests (40-49). Load after ../helpers.
#
# A container's place is read from the host's /proc/<init>/cgroup, never guessed: on a
# hybrid host the caller itself may sit in a non-root cgroup of some hierarchies (memory
# here), and a default or relative cgroupsPath lands under it.

# cg_mount CONTROLLERS: the mount point of the v1 hierarchy whose mount options carry every
# controller of CONTROLLERS ("cpu", "name=systemd", "cpu,cpuacct"); "" for the cgroup2 one.
cg_mount() {
	awk -v want="$1" '
	{
		for (i = 1; i <= NF; i++) if ($i == "-") break
		fstype = $(i + 1); opts = "," $(i + 3) ","
		if (want == "") { if (fstype == "cgroup2") { print $5; exit } ; next }
		if (fstype != "cgroup") next
		n = split(want, w, ",")
		ok = 1
		for (j = 1; j <= n; j++) if (index(opts, "," w[j] ",") == 0) ok = 0
		if (ok) { print $5; exit }
	}' /proc/self/mountinfo
}

# cg_path PID CONTROLLER: PID's cgroup path in the hierarchy holding CONTROLLER (one of its
# controllers, "name=systemd", or "" for the cgroup2 line).
cg_path() {
	awk -F: -v c="$2" 'c == "" && $1 == "0" && $2 == "" { print $3; exit }
		c != "" && index("," $2 ",", "," c ",") { print $3; exit }' "/proc/$1/cgroup"
}

# cg_dir PID CONTROLLER: the host directory of PID's cgroup in CONTROLLER's hierarchy.
cg_dir() {
	local m p
	m=$(cg_mount "$2")
	p=$(cg_path "$1" "$2")
	[ -n "$m" ] && [ -n "$p" ] || return 1
	[ "$p" = / ] && p=
	echo "$m$p"
}

# ctr_dir CONTROLLER [ID]: the host directory of container ID's cgroup (from its init).
ctr_dir() {
	local pid
	pid=$(container_pid "${2:-$ID}") || return 1
	cg_dir "$pid" "$1"
}

# ctr_file CONTROLLER FILE [ID]: the content of FILE in container ID's CONTROLLER dir.
ctr_file() {
	local d
	d=$(ctr_dir "$1" "${3:-$ID}") || return 1
	cat "$d/$2"
}

# has_v1 CONTROLLER: a v1 hierarchy with CONTROLLER is mounted and we are in it.
has_v1() {
	[ -n "$(cg_mount "$1")" ] && [ -n "$(cg_path self "$1")" ]
}

require_v1() {
	local c
	for c in "$@"; do
		has_v1 "$c" || skip "no v1 $c hierarchy"
	done
}

# cg_hierarchies PID: PID's /proc/PID/cgroup lines ("ID:CONTROLLERS:PATH") whose hierarchy
# is mounted here.
cg_hierarchies() {
	local line c
	while IFS= read -r line; do
		c=${line#*:}
		c=${c%%:*}
		[ -n "$(cg_mount "$c")" ] && echo "$line"
	done <"/proc/$1/cgroup"
}

# pids_in_cgroup DIR: the pids listed in DIR/cgroup.procs, sorted.
pids_in_cgroup() {
	sort -n "$1/cgroup.procs"
}

# wait_for FILE STR [SECONDS]: wait for FILE to contain STR (default 10s).
wait_for() {
	retry $((${3:-10} * 10)) 0.1 file_has "$1" "$2"
}

# thaw PID: thaw the v1 freezer cgroup of PID (and its cgroup2 one), if frozen; for
# on_teardown, so that a container left frozen by a failed test can still be killed.
thaw() {
	local d
	d=$(cg_dir "$1" freezer 2>/dev/null) && [ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
	d=$(cg_dir "$1" "" 2>/dev/null) && [ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze"
	return 0
}
