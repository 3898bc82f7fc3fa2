// SPDX-License-Identifier: Apache-2.0
//
// linux.seccomp (see seccomp.h): one table each for actions, operators, architectures and
// flags, used both to parse a profile and to list names for `ocirun features`; the parser,
// which resolves syscall names once, in the runtime, so the init only adds rules; the filter
// builder over libseccomp; and the hand-off of the notify fd to a seccomp agent.

#include "ocirun/linux/seccomp.h"

#include <errno.h>
#include <json-c/json.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "ocirun/linux/seccomp-internal.h"
#include "ocirun/ocirun.h"

/* Syscall arguments seccomp can inspect (struct seccomp_data.args). */
#define N_SYSCALL_ARGS 6

/* ---- Tables ------------------------------------------------------------------------------- */

/* SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry 16 bits of data (errnoRet); stored here with 0. */
static const struct {
    const char *name;
    uint32_t action;
    bool takes_errno;
} action_table[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

static const struct {
    const char *name;
    enum scmp_compare op;
} op_table[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* A CPU runs the arches of its own family only (an x86_64 kernel: x86_64, i386 and x32), so
 * seccomp_data.arch is never one of another family's, and their rules would be dead code. */
enum arch_family {
    FAMILY_X86,
    FAMILY_ARM,
    FAMILY_MIPS,
    FAMILY_PPC,
    FAMILY_S390,
    FAMILY_PARISC,
    FAMILY_RISCV,
    FAMILY_LOONGARCH,
    FAMILY_M68K,
    FAMILY_SH,
};

/* Every arch this libseccomp knows (the newer ones only when its header defines them). */
static const struct {
    const char *name;
    uint32_t arch;
    enum arch_family family;
} arch_table[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86, FAMILY_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64, FAMILY_X86},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32, FAMILY_X86},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM, FAMILY_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64, FAMILY_ARM},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS, FAMILY_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64, FAMILY_MIPS},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32, FAMILY_MIPS},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL, FAMILY_MIPS},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64, FAMILY_MIPS},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32, FAMILY_MIPS},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC, FAMILY_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64, FAMILY_PPC},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE, FAMILY_PPC},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390, FAMILY_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X, FAMILY_S390},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC, FAMILY_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64, FAMILY_PARISC},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64, FAMILY_RISCV},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64, FAMILY_LOONGARCH},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K, FAMILY_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH, FAMILY_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB, FAMILY_SH},
#endif
};

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define HAVE_SCMP_WAITKILL 1
#endif

/* seccomp(2) flags and the filter attribute that makes libseccomp pass each; -1 when this
 * libseccomp has none (the name is still known, so the error can say what is missing). */
static const struct {
    const char *name;
    int attr;
} flag_table[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
#ifdef HAVE_SCMP_WAITKILL
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL},
#else
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", -1},
#endif
};

const char *
ocirun_seccomp_action_name(size_t i)
{
    return i < ARRAY_SIZE(action_table) ? action_table[i].name : NULL;
}

const char *
ocirun_seccomp_op_name(size_t i)
{
    return i < ARRAY_SIZE(op_table) ? op_table[i].name : NULL;
}

const char *
ocirun_seccomp_arch_name(size_t i)
{
    return i < ARRAY_SIZE(arch_table) ? arch_table[i].name : NULL;
}

static const char *
arch_name_of(uint32_t arch)
{
    for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++)
        if (arch_table[i].arch == arch)
            return arch_table[i].name;
    return "unknown";
}

static int
arch_family_of(uint32_t arch)
{
    for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++)
        if (arch_table[i].arch == arch)
            return (int)arch_table[i].family;
    return -1;
}

/* ---- The parsed profile ------------------------------------------------------------------- */

/* One syscalls[] entry, with its names already resolved. */
struct rule_set {
    char **names; /* names libseccomp knows, NULL-terminated; for messages */
    int *nrs;     /* their numbers: negative ones are libseccomp's pseudo numbers
                   * for calls that exist on other arches only (`_llseek`) */
    size_t n_names;
    uint32_t action;           /* with errnoRet folded in */
    struct scmp_arg_cmp *args; /* all must match ... */
    size_t n_args;
    bool split_args; /* ... unless an index repeats: then one rule per arg */
};

struct ocirun_seccomp {
    uint32_t default_action;
    uint32_t *arches; /* as listed, host family or not */
    size_t n_arches;
    unsigned flags; /* bit i: flag_table[i] */
    char *listener_path, *listener_metadata;
    struct rule_set *sets;
    size_t n_sets;
    bool uses_notify;
};

static void
rule_set_clear(struct rule_set *set)
{
    berth_cleanup_strvp(&set->names);
    free(set->nrs);
    free(set->args);
}

void
ocirun_seccomp_free(struct ocirun_seccomp *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_sets; i++)
        rule_set_clear(&s->sets[i]);
    free(s->sets);
    free(s->arches);
    free(s->listener_path);
    free(s->listener_metadata);
    free(s);
}

bool
ocirun_seccomp_uses_notify(const struct ocirun_seccomp *s)
{
    return s && s->uses_notify;
}

/* ---- Parsing ------------------------------------------------------------------------------ */

/* The json getters report a wrong type with code 0 (a content error); in a profile every bad
 * field is EINVAL, like the errors below. */
static int
invalid(struct berth_err *err)
{
    return berth_err_fail(err, EINVAL, "%s", err && err->msg ? err->msg : "invalid value");
}

/* The action `key` of obj with its errno `errno_key` folded in (EPERM when absent). */
static int
parse_action(struct json_object *obj, const char *key, const char *errno_key, uint32_t *out,
             struct berth_err *err)
{
    const char *name = NULL;
    uint32_t errno_ret = EPERM;
    size_t i;

    int r = berth_json_get_string(obj, key, &name, err);
    if (r < 0)
        return invalid(err);
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`%s` is required", key);
    for (i = 0; i < ARRAY_SIZE(action_table); i++)
        if (strcmp(action_table[i].name, name) == 0)
            break;
    if (i == ARRAY_SIZE(action_table)) {
        if (strcmp(key, "action") == 0)
            return berth_err_fail(err, EINVAL, "unknown action `%s`", name);
        return berth_err_fail(err, EINVAL, "`%s`: unknown action `%s`", key, name);
    }
    r = berth_json_get_uint32(obj, errno_key, &errno_ret, err);
    if (r < 0)
        return invalid(err);
    /* The spec: "When the action doesn't support an errno, the runtime MUST print and error
     * and fail." */
    if (r == 1 && !action_table[i].takes_errno)
        return berth_err_fail(err, EINVAL, "`%s` is not valid with %s", errno_key, name);
    if (errno_ret > 0xffff)
        return berth_err_fail(err, EINVAL, "`%s`: %u out of range (0-65535)", errno_key, errno_ret);
    *out = action_table[i].action | (action_table[i].takes_errno ? errno_ret : 0);
    return 0;
}

static int
parse_arches(struct json_object *obj, struct ocirun_seccomp *s, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, "architectures", &arr, err);
    if (r <= 0)
        return r < 0 ? invalid(err) : 0;
    size_t n = json_object_array_length(arr);
    s->arches = xzalloc((n ? n : 1) * sizeof(*s->arches));
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "architectures[%zu]: expected string", i);
        const char *name = json_object_get_string(v);
        size_t k = 0;
        while (k < ARRAY_SIZE(arch_table) && strcmp(arch_table[k].name, name) != 0)
            k++;
        if (k == ARRAY_SIZE(arch_table))
            return berth_err_fail(err, EINVAL, "architectures[%zu]: unknown architecture `%s`", i,
                                  name);
        s->arches[s->n_arches++] = arch_table[k].arch;
    }
    return 0;
}

static int
parse_flags(struct json_object *obj, struct ocirun_seccomp *s, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, "flags", &arr, err);
    if (r <= 0)
        return r < 0 ? invalid(err) : 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "flags[%zu]: expected string", i);
        const char *name = json_object_get_string(v);
        size_t k = 0;
        while (k < ARRAY_SIZE(flag_table) && strcmp(flag_table[k].name, name) != 0)
            k++;
        if (k == ARRAY_SIZE(flag_table))
            return berth_err_fail(err, EINVAL, "flags[%zu]: unknown flag `%s`", i, name);
        if (flag_table[k].attr < 0)
            return berth_err_fail(err, ENOTSUP, "flags[%zu]: `%s` needs libseccomp 2.6 or later", i,
                                  name);
        s->flags |= 1U << k;
    }
    return 0;
}

static int
parse_listener(struct json_object *obj, struct ocirun_seccomp *s, struct berth_err *err)
{
    const char *path = NULL, *metadata = NULL;

    if (berth_json_get_string(obj, "listenerPath", &path, err) < 0 ||
        berth_json_get_string(obj, "listenerMetadata", &metadata, err) < 0)
        return invalid(err);
    if (metadata && !path)
        return berth_err_fail(err, EINVAL, "`listenerMetadata` is set without `listenerPath`");
    if (path) {
        if (!*path)
            return berth_err_fail(err, EINVAL, "`listenerPath` is empty");
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
            return berth_err_fail(err, EINVAL, "`listenerPath` `%s` is too long for a socket",
                                  path);
        s->listener_path = xstrdup(path);
    }
    if (metadata)
        s->listener_metadata = xstrdup(metadata);
    return 0;
}

/* One args[] item into *cmp; *seen collects the indices met so far. */
static int
parse_arg(struct json_object *item, struct scmp_arg_cmp *cmp, unsigned *seen, bool *repeats,
          struct berth_err *err)
{
    uint32_t index = 0;
    uint64_t value = 0, value_two = 0;
    const char *op = NULL;
    size_t k = 0;

    if (!json_object_is_type(item, json_type_object))
        return berth_err_fail(err, EINVAL, "expected object");
    int r_index = berth_json_get_uint32(item, "index", &index, err);
    if (r_index < 0)
        return invalid(err);
    int r_value = berth_json_get_uint64(item, "value", &value, err);
    if (r_value < 0 || berth_json_get_uint64(item, "valueTwo", &value_two, err) < 0)
        return invalid(err);
    int r_op = berth_json_get_string(item, "op", &op, err);
    if (r_op < 0)
        return invalid(err);
    if (r_index == 0)
        return berth_err_fail(err, EINVAL, "`index` is required");
    if (r_value == 0)
        return berth_err_fail(err, EINVAL, "`value` is required");
    if (r_op == 0)
        return berth_err_fail(err, EINVAL, "`op` is required");
    if (index >= N_SYSCALL_ARGS)
        return berth_err_fail(err, EINVAL, "index %u out of range (0-%d)", index,
                              N_SYSCALL_ARGS - 1);
    while (k < ARRAY_SIZE(op_table) && strcmp(op_table[k].name, op) != 0)
        k++;
    if (k == ARRAY_SIZE(op_table))
        return berth_err_fail(err, EINVAL, "unknown operator `%s`", op);
    if (*seen & (1U << index))
        *repeats = true;
    *seen |= 1U << index;
    /* For SCMP_CMP_MASKED_EQ, datum_a is the mask and datum_b the value, as in runc. */
    *cmp = (struct scmp_arg_cmp){
        .arg = index, .op = op_table[k].op, .datum_a = value, .datum_b = value_two};
    return 0;
}

static int
parse_args(struct json_object *entry, struct rule_set *set, struct berth_err *err)
{
    struct json_object *arr = NULL;
    unsigned seen = 0;
    int r = berth_json_get_array(entry, "args", &arr, err);
    if (r <= 0)
        return r < 0 ? invalid(err) : 0;
    size_t n = json_object_array_length(arr);
    set->args = xzalloc((n ? n : 1) * sizeof(*set->args));
    for (size_t i = 0; i < n; i++) {
        if (parse_arg(json_object_array_get_idx(arr, i), &set->args[i], &seen, &set->split_args,
                      err) < 0)
            return berth_err_wrap(err, "args[%zu]", i);
        set->n_args = i + 1;
    }
    return 0;
}

/* Keep the names of *set that libseccomp knows, with their numbers. */
static void
resolve_names(struct rule_set *set, char *const *names, size_t n)
{
    set->names = xzalloc((n + 1) * sizeof(*set->names));
    set->nrs = xzalloc((n ? n : 1) * sizeof(*set->nrs));
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR) {
            berth_debug("seccomp: syscall `%s` is unknown to libseccomp, skipped", names[i]);
            continue;
        }
        set->nrs[set->n_names] = nr;
        set->names[set->n_names++] = xstrdup(names[i]);
    }
}

static int
parse_syscall(struct json_object *entry, struct ocirun_seccomp *s, struct rule_set *set,
              struct berth_err *err)
{
    cleanup_strv char **names = NULL;
    size_t n = 0;

    if (!json_object_is_type(entry, json_type_object))
        return berth_err_fail(err, EINVAL, "expected object");
    int r = berth_json_get_strv(entry, "names", &names, &n, err);
    if (r < 0)
        return invalid(err);
    if (r == 0)
        return berth_err_fail(err, EINVAL, "`names` is required");
    if (n == 0)
        return berth_err_fail(err, EINVAL, "`names` is empty");
    if (parse_action(entry, "action", "errnoRet", &set->action, err) < 0)
        return -1;
    if (parse_args(entry, set, err) < 0)
        return -1;
    if (set->action == SCMP_ACT_NOTIFY) {
        if (!s->listener_path)
            return berth_err_fail(err, EINVAL, "SCMP_ACT_NOTIFY needs `listenerPath`");
        /* The init hands the notify fd on with sendmsg after loading; a notified sendmsg
         * would wait for the agent that is waiting for that very fd. */
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], "sendmsg") == 0)
                return berth_err_fail(err, EINVAL, "SCMP_ACT_NOTIFY cannot apply to `sendmsg`");
    }
    if (set->action == s->default_action) {
        berth_debug("seccomp: a rule for `%s` has the default action, skipped", names[0]);
        return 0;
    }
    resolve_names(set, names, n);
    if (set->action == SCMP_ACT_NOTIFY && set->n_names > 0)
        s->uses_notify = true;
    return 0;
}

static int
parse_syscalls(struct json_object *obj, struct ocirun_seccomp *s, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, "syscalls", &arr, err);
    if (r <= 0)
        return r < 0 ? invalid(err) : 0;
    size_t n = json_object_array_length(arr);
    s->sets = xzalloc((n ? n : 1) * sizeof(*s->sets));
    for (size_t i = 0; i < n; i++) {
        /* Counted before parsing, so that ocirun_seccomp_free releases a half-parsed set. */
        s->n_sets = i + 1;
        if (parse_syscall(json_object_array_get_idx(arr, i), s, &s->sets[i], err) < 0)
            return berth_err_wrap(err, "syscalls[%zu]", i);
    }
    return 0;
}

int
ocirun_seccomp_parse(struct json_object *obj, struct ocirun_seccomp **out, struct berth_err *err)
{
    *out = NULL;
    if (!obj)
        return 0;
    if (!json_object_is_type(obj, json_type_object))
        return berth_err_fail(err, EINVAL, "seccomp: expected object, got %s",
                              berth_json_type_name(obj));
    cleanup_seccomp struct ocirun_seccomp *s = xzalloc(sizeof(*s));
    if (parse_action(obj, "defaultAction", "defaultErrnoRet", &s->default_action, err) < 0)
        return berth_err_wrap(err, "seccomp");
    if (s->default_action == SCMP_ACT_NOTIFY)
        return berth_err_fail(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY cannot be `defaultAction`");
    if (parse_listener(obj, s, err) < 0 || parse_arches(obj, s, err) < 0 ||
        parse_flags(obj, s, err) < 0 || parse_syscalls(obj, s, err) < 0)
        return berth_err_wrap(err, "seccomp");
    *out = steal_ptr(&s);
    return 0;
}

/* ---- Building and loading ----------------------------------------------------------------- */

unsigned int
ocirun_seccomp_kernel_flags(const struct ocirun_seccomp *s)
{
    /* Indexed like flag_table. */
    static const unsigned int kernel_flag[] = {
        SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW,
        1UL << 5, /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV */
    };
    unsigned int f = 0;
    for (size_t i = 0; i < ARRAY_SIZE(kernel_flag) && i < ARRAY_SIZE(flag_table); i++)
        if (s->flags & (1u << i))
            f |= kernel_flag[i];
    if (s->uses_notify)
        f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    return f;
}

static int
add_arches(scmp_filter_ctx ctx, const struct ocirun_seccomp *s, struct berth_err *err)
{
    int native = arch_family_of(seccomp_arch_native());

    /* The native arch is always in a new filter; the listed ones are added to it. */
    for (size_t i = 0; i < s->n_arches; i++) {
        if (arch_family_of(s->arches[i]) != native) {
            berth_debug("seccomp: %s is not an arch of this CPU, left out of the filter",
                        arch_name_of(s->arches[i]));
            continue;
        }
        int r = seccomp_arch_add(ctx, s->arches[i]);
        if (r < 0 && r != -EEXIST)
            return berth_err_set(err, -r, "seccomp: add architecture %s",
                                 arch_name_of(s->arches[i]));
    }
    return 0;
}

static int
add_rules(scmp_filter_ctx ctx, const struct rule_set *set, struct berth_err *err)
{
    for (size_t k = 0; k < set->n_names; k++) {
        int r = 0;
        if (!set->split_args) {
            r = seccomp_rule_add_array(ctx, set->action, set->nrs[k], (unsigned)set->n_args,
                                       set->args);
        } else {
            /* libseccomp refuses two comparisons of one argument in a rule; runc makes each
             * its own rule, so they match as alternatives. */
            for (size_t j = 0; j < set->n_args && r == 0; j++)
                r = seccomp_rule_add_array(ctx, set->action, set->nrs[k], 1, &set->args[j]);
        }
        if (r < 0)
            return berth_err_set(err, -r, "seccomp: add rule for `%s`", set->names[k]);
    }
    return 0;
}

int
ocirun_seccomp_build(const struct ocirun_seccomp *s, scmp_filter_ctx *out, struct berth_err *err)
{
    cleanup_scmp scmp_filter_ctx ctx = seccomp_init(s->default_action);
    int r;

    if (!ctx)
        return berth_err_fail(err, EINVAL, "seccomp: libseccomp refused the default action");
    /* Errors as the kernel's errno rather than libseccomp's catch-all ECANCELED. */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
        return berth_err_set(err, -r, "seccomp: set filter attribute");
    /* no_new_privs is process.noNewPrivileges' business, not a side effect of seccomp. */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
        return berth_err_set(err, -r, "seccomp: set filter attribute");
    if (add_arches(ctx, s, err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++) {
        if (!(s->flags & (1U << i)))
            continue;
        if ((r = seccomp_attr_set(ctx, (enum scmp_filter_attr)flag_table[i].attr, 1)) < 0)
            return berth_err_set(err, -r, "seccomp: set %s", flag_table[i].name);
    }
    for (size_t i = 0; i < s->n_sets; i++)
        if (add_rules(ctx, &s->sets[i], err) < 0)
            return -1;
    *out = steal_ptr(&ctx);
    return 0;
}

int
ocirun_seccomp_load_filter(const struct ocirun_seccomp *s, int *notify_fd, struct berth_err *err)
{
    cleanup_scmp scmp_filter_ctx ctx = NULL;

    *notify_fd = -1;
    if (ocirun_seccomp_build(s, &ctx, err) < 0)
        return -1;
    int r = seccomp_load(ctx);
    if (r < 0)
        return berth_err_set(err, -r, "seccomp: load filter");
    if (s->uses_notify) {
        /* libseccomp asked the kernel for a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) because
         * of the NOTIFY rules; the fd is close-on-exec and now ours. */
        int fd = seccomp_notify_fd(ctx);
        if (fd < 0)
            return berth_err_set(err, -fd, "seccomp: get the notify fd");
        *notify_fd = fd;
    }
    return 0;
}

/* ---- The seccomp agent -------------------------------------------------------------------- */

/* The runtime spec's container process state (config-linux.md#containerprocessstate) as JSON
 * text (heap), or NULL with err set. */
static char *
process_state(const struct ocirun_seccomp *s, const char *state_json, int pid,
              struct berth_err *err)
{
    if (!state_json) {
        berth_err_fail(err, EINVAL, "seccomp: no container state for the listener");
        return NULL;
    }
    cleanup_json struct json_object *state = berth_json_parse(state_json, strlen(state_json), err);
    if (!state) {
        berth_err_wrap(err, "seccomp: container state");
        return NULL;
    }
    if (!json_object_is_type(state, json_type_object)) {
        berth_err_fail(err, EINVAL, "seccomp: container state: expected object, got %s",
                       berth_json_type_name(state));
        return NULL;
    }
    cleanup_json struct json_object *o = json_object_new_object();
    struct json_object *fds = json_object_new_array();
    json_object_array_add(fds, json_object_new_string("seccompFd"));
    json_object_object_add(o, "ociVersion", json_object_new_string(OCIRUN_SPEC_VERSION));
    json_object_object_add(o, "fds", fds);
    json_object_object_add(o, "pid", json_object_new_int(pid));
    if (s->listener_metadata)
        json_object_object_add(o, "metadata", json_object_new_string(s->listener_metadata));
    json_object_object_add(o, "state", steal_ptr(&state));
    return xstrdup(json_object_to_json_string_ext(o, OCIRUN_JSON_PLAIN));
}

static int
connect_listener(const char *path, struct berth_err *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int r;

    /* parse_listener checked the length. */
    memcpy(addr.sun_path, path, strlen(path) + 1);
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_err_set(err, errno, "seccomp: socket for listener `%s`", path);
    do
        r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return berth_err_set(err, errno, "seccomp: connect to listener `%s`", path);
    return steal_fd(&fd);
}

/* Send all of buf on sock with fd attached to the first sendmsg (the spec allows several, with
 * the fds in the first). */
static int
send_with_fd(int sock, const char *buf, size_t len, int fd, const char *path, struct berth_err *err)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    memset(&control, 0, sizeof(control));
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

    size_t off = 0;
    while (off < len) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "seccomp: send to listener `%s`", path);
        off += (size_t)n;
        iov.iov_base = (char *)buf + off;
        iov.iov_len = len - off;
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
    }
    return 0;
}

int
ocirun_seccomp_send_notify_fd(const struct ocirun_seccomp *s, int notify_fd, const char *state_json,
                              int pid, struct berth_err *err)
{
    if (!s->listener_path)
        return berth_err_fail(err, EINVAL, "seccomp: no `listenerPath` to send the notify fd to");
    cleanup_free char *msg = process_state(s, state_json, pid, err);
    if (!msg)
        return -1;
    cleanup_close int sock = connect_listener(s->listener_path, err);
    if (sock < 0)
        return -1;
    return send_with_fd(sock, msg, strlen(msg), notify_fd, s->listener_path, err);
}

int
ocirun_seccomp_load(const struct ocirun_seccomp *s, const char *state_json, int host_pid,
                    struct berth_err *err)
{
    cleanup_close int notify_fd = -1;

    if (!s->uses_notify)
        return ocirun_seccomp_load_filter(s, &notify_fd, err);
    /* Everything that may fail, or that the profile may forbid (socket, connect, the
     * allocations of json-c), happens before the filter is in place. */
    cleanup_free char *msg = process_state(s, state_json, host_pid, err);
    if (!msg)
        return -1;
    cleanup_close int sock = connect_listener(s->listener_path, err);
    if (sock < 0)
        return -1;
    if (ocirun_seccomp_load_filter(s, &notify_fd, err) < 0)
        return -1;
    return send_with_fd(sock, msg, strlen(msg), notify_fd, s->listener_path, err);
}

/* ---- The default profile ------------------------------------------------------------------ */

struct json_object *
ocirun_seccomp_default_profile(void)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o =
        berth_json_parse(ocirun_seccomp_default_json, ocirun_seccomp_default_json_len, &err);

    if (!o) {
        /* The build and the unit tests check the file: this is a broken build. */
        berth_error("seccomp: the built-in default profile does not parse: %s", err.msg);
        abort();
    }
    return o;
}
