/* SPDX-License-Identifier: Apache-2.0
 *
 * The device allow-list on cgroup v2: there is no devices controller, so the rules of
 * linux.resources.devices become an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE that the
 * kernel runs on every open and mknod of a device node by a task of the cgroup (returning 1
 * allows, 0 denies with EPERM). The program is built here by hand from the rules, with no
 * libbpf, and attached to the container's cgroup directory with bpf(2).
 *
 * Semantics follow cgroup v1's devices controller, so that a config means the same on both:
 *   - the rules are applied in order and a later rule overrides an earlier one (the program
 *     tests them last to first and returns at the first match);
 *   - a rule of type 'a' with wildcard major, minor and access "rwm" resets everything before
 *     it (v1's "a" written to devices.allow or devices.deny); with nothing matched the program
 *     allows, as a fresh v1 cgroup under an unrestricted parent does;
 *   - an allow rule matches a request whose access is a subset of the rule's ("rw" open of a
 *     device allowed "r" is not allowed by it); a deny rule matches a request that asks for any
 *     of the rule's access ("rw" open of a device denied "w" is denied), as in v1's
 *     match_exception / match_exception_partial.
 * A type 'a' rule that is not a full reset matches both char and block devices.
 */
#ifndef BERTH_OCIRUN_LINUX_BPF_DEVICES_H
#define BERTH_OCIRUN_LINUX_BPF_DEVICES_H

#include <stddef.h>

struct berth_err;
struct bpf_insn;
struct ocirun_device_rule;

/* Build the program for rules[0..n) (n may be 0: allow everything). Pure: no system call.
 * On success *insns is a new array of *n_insns instructions (caller frees). Fails with EINVAL
 * on a rule with an unknown type or access letter, or a major/minor out of the u32 range. */
int ocirun_bpf_devices_program(const struct ocirun_device_rule *rules, size_t n,
                               struct bpf_insn **insns, size_t *n_insns, struct berth_err *err);

/* Load insns as a cgroup device program and attach it to the cgroup2 directory open at
 * cgroup_dir_fd (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI), then detach the device programs that
 * were attached to that same directory before, so that an update replaces the rules instead
 * of adding to them (programs of ancestors are not touched: they keep applying). If the
 * directory holds a program attached without BPF_F_ALLOW_MULTI (by another manager), the new
 * one replaces it in that mode instead. Needs CAP_SYS_ADMIN (or CAP_BPF with
 * CAP_NET_ADMIN). On failure err holds the system error; for a program the verifier refuses,
 * the verifier's last line of log. The program's fd is closed: the attachment keeps it alive
 * for as long as the cgroup exists. */
int ocirun_bpf_devices_attach(int cgroup_dir_fd, const struct bpf_insn *insns, size_t n,
                              struct berth_err *err);

#endif
