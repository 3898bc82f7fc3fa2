// SPDX-License-Identifier: Apache-2.0
//
// cgroup v2 device rules as an eBPF program (see bpf-devices.h): the instructions are
// generated here from the rules, then loaded and attached with the bpf(2) syscall.
//
// Program layout (registers after the prologue: r2 device type, r3 requested access, r4 major,
// r5 minor; r1 is free once they are loaded):
//
//     prologue       r2 = ctx->access_type & 0xffff; r3 = ctx->access_type >> 16;
//                    r4 = ctx->major; r5 = ctx->minor
//     rule n-1       if r2 != type goto next; [access test]; if r4 != major goto next;
//                    if r5 != minor goto next; r0 = allow; exit
//     ...            (one block a rule, last rule first, down to the last full reset)
//     epilogue       r0 = allow of the last full reset (1 if there is none); exit
//
// A block leaves out the tests its rule does not need (type 'a', wildcard numbers, access
// "rwm"). A full reset ('a', wildcard, "rwm") tests nothing, so it is the epilogue: rules
// before it could never be reached, and the verifier refuses unreachable instructions.

#include "ocirun/linux/bpf-devices.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "ocirun/linux/resources.h"

/* The longest block: type test, three access instructions, two numbers each needing a
 * register load and a test, the result and exit. */
#define MAX_BLOCK 10

static struct bpf_insn
insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn i;
    memset(&i, 0, sizeof(i));
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

/* Jumps to the end of the block are emitted with off 0 and patched once its length is known;
 * a jump's off counts the instructions after it. */
#define NEXT_BLOCK 0

static int
access_bits(const char *access, struct berth_err *err)
{
    int bits = 0;
    for (const char *a = access; *a; a++) {
        switch (*a) {
        case 'r': bits |= BPF_DEVCG_ACC_READ; break;
        case 'w': bits |= BPF_DEVCG_ACC_WRITE; break;
        case 'm': bits |= BPF_DEVCG_ACC_MKNOD; break;
        default: return berth_err_fail(err, EINVAL, "device rule: unknown access `%c`", *a);
        }
    }
    return bits;
}

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

static bool
is_full_reset(const struct ocirun_device_rule *r)
{
    return r->type == 'a' && r->major < 0 && r->minor < 0 && strcmp(r->access, "rwm") == 0;
}

/* "if (reg != value) goto next", for a u32 value held zero-extended in reg. An immediate is
 * sign-extended to 64 bits, so values above INT32_MAX go through r1 (a 32-bit mov
 * zero-extends). */
static size_t
emit_number_test(struct bpf_insn *b, size_t k, uint8_t reg, uint32_t value)
{
    if (value <= INT32_MAX) {
        b[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, NEXT_BLOCK, (int32_t)value);
    } else {
        b[k++] = insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, (int32_t)value);
        b[k++] = insn(BPF_JMP | BPF_JNE | BPF_X, reg, BPF_REG_1, NEXT_BLOCK, 0);
    }
    return k;
}

/* One rule's block into b (room for MAX_BLOCK); returns its length or -1. */
static int
emit_rule(const struct ocirun_device_rule *r, struct bpf_insn *b, struct berth_err *err)
{
    size_t k = 0;
    int acc = access_bits(r->access, err);
    if (acc < 0)
        return -1;
    if (r->major < -1 || r->major > UINT32_MAX || r->minor < -1 || r->minor > UINT32_MAX)
        return berth_err_fail(err, EINVAL, "device rule: %lld:%lld out of range",
                              (long long)r->major, (long long)r->minor);
    switch (r->type) {
    case 'a': break;
    case 'c':
        b[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, NEXT_BLOCK, BPF_DEVCG_DEV_CHAR);
        break;
    case 'b':
        b[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, NEXT_BLOCK, BPF_DEVCG_DEV_BLOCK);
        break;
    default: return berth_err_fail(err, EINVAL, "device rule: unknown type `%c`", r->type);
    }
    if (acc != ACC_ALL) {
        /* r1 = request & rule. An allow rule needs all of the request (r1 == r3); a deny
         * rule needs any of it (r1 != 0). */
        b[k++] = insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
        b[k++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, acc);
        if (r->allow)
            b[k++] = insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, NEXT_BLOCK, 0);
        else
            b[k++] = insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, NEXT_BLOCK, 0);
    }
    if (r->major >= 0)
        k = emit_number_test(b, k, BPF_REG_4, (uint32_t)r->major);
    if (r->minor >= 0)
        k = emit_number_test(b, k, BPF_REG_5, (uint32_t)r->minor);
    b[k++] = insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
    b[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    /* Every conditional jump leaves the block. */
    for (size_t j = 0; j < k; j++) {
        uint8_t op = BPF_OP(b[j].code);
        if (BPF_CLASS(b[j].code) == BPF_JMP && op != BPF_EXIT)
            b[j].off = (int16_t)(k - j - 1);
    }
    return (int)k;
}

int
ocirun_bpf_devices_program(const struct ocirun_device_rule *rules, size_t n,
                           struct bpf_insn **insns, size_t *n_insns, struct berth_err *err)
{
    /* The last full reset decides the default; nothing before it matters. */
    size_t first = 0;
    int fallback = 1;
    for (size_t i = n; i-- > 0;) {
        if (is_full_reset(&rules[i])) {
            first = i + 1;
            fallback = rules[i].allow ? 1 : 0;
            break;
        }
    }
    size_t cap = 8 + (n - first) * MAX_BLOCK, k = 0;
    cleanup_free struct bpf_insn *p = xzalloc(cap * sizeof(*p));
    p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
    p[k++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
    p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
    p[k++] = insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
    p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
    p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
    for (size_t i = n; i-- > first;) {
        int len = emit_rule(&rules[i], p + k, err);
        if (len < 0)
            return berth_err_wrap(err, "devices[%zu]", i);
        k += (size_t)len;
    }
    p[k++] = insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, fallback);
    p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    *insns = steal_ptr(&p);
    *n_insns = k;
    return 0;
}

/* ---- Loading and attaching ---------------------------------------------------------------- */

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* BPF_PROG_LOAD; on a refusal, load again with the verifier's log to say why. */
static int
load(const struct bpf_insn *insns, size_t n, struct berth_err *err)
{
    static const char license[] = "Apache-2.0"; /* no GPL-only helper is used */
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t)license;
    int fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0)
        return fd;
    int saved = errno;
    if (saved != EINVAL && saved != EACCES)
        return berth_err_set(err, saved, "load device program (%zu instructions)", n);
    size_t log_len = 64 * 1024;
    cleanup_free char *log = xzalloc(log_len);
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = (uint32_t)log_len;
    fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0)
        return fd; /* a transient refusal: take it */
    /* The verifier's last non-empty line says what it refused. */
    size_t end = strnlen(log, log_len);
    while (end > 0 && log[end - 1] == '\n')
        log[--end] = '\0';
    char *last = strrchr(log, '\n');
    return berth_err_set(err, saved, "load device program (%zu instructions): verifier: %s", n,
                         last ? last + 1 : (log[0] ? log : "no log"));
}

/* The ids of the device programs attached to the directory itself, and its attach flags. */
static int
query(int cgroup_fd, uint32_t **ids, uint32_t *n_ids, uint32_t *flags, struct berth_err *err)
{
    union bpf_attr attr;
    for (int round = 0; round < 4; round++) {
        uint32_t cap = *n_ids;
        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)cgroup_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)*ids;
        attr.query.prog_cnt = cap;
        if (sys_bpf(BPF_PROG_QUERY, &attr) == 0 && attr.query.prog_cnt <= cap) {
            *n_ids = attr.query.prog_cnt;
            *flags = attr.query.attach_flags;
            return 0;
        }
        if (errno != ENOSPC && attr.query.prog_cnt <= cap)
            return berth_err_set(err, errno, "query device programs of the cgroup");
        /* More programs than room (ENOSPC, or a count-only first round): grow and ask again. */
        *n_ids = attr.query.prog_cnt;
        free(*ids);
        *ids = xzalloc((*n_ids + 1) * sizeof(uint32_t));
    }
    return berth_err_set(err, EAGAIN, "query device programs of the cgroup");
}

static int
detach_id(int cgroup_fd, uint32_t id, struct berth_err *err)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    cleanup_close int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "device program %u", id);
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "detach old device program %u", id);
    return 0;
}

int
ocirun_bpf_devices_attach(int cgroup_dir_fd, const struct bpf_insn *insns, size_t n,
                          struct berth_err *err)
{
    cleanup_free uint32_t *old = NULL;
    uint32_t n_old = 0, old_flags = 0;
    if (query(cgroup_dir_fd, &old, &n_old, &old_flags, err) < 0)
        return -1;
    cleanup_close int prog = load(insns, n, err);
    if (prog < 0)
        return -1;
    /* A program attached in the exclusive mode (flags without ALLOW_MULTI) cannot have others
     * beside it: attaching in the same mode replaces it in one step. */
    bool replace = n_old > 0 && !(old_flags & BPF_F_ALLOW_MULTI);
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_dir_fd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = replace ? old_flags : BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
        return berth_err_set(err, errno, "attach device program to the cgroup");
    if (replace)
        return 0;
    /* The new rules are in force; the old programs now only restrict further, so a failure
     * here leaves the cgroup no more open than either set of rules. */
    for (uint32_t i = 0; i < n_old; i++)
        if (detach_id(cgroup_dir_fd, old[i], err) < 0)
            return -1;
    return 0;
}
