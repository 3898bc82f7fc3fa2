/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for ocirun/linux/seccomp.c: parsing of good profiles and of every kind of bad
 * input, unknown syscall names, the name tables, the built-in default profile (parsed, built,
 * small enough for the kernel), and filters loaded for real in forked children: an errno rule,
 * a kill rule, the need for no_new_privs or CAP_SYS_ADMIN, and a NOTIFY rule whose fd reaches a
 * listener in the parent with the container process state.
 *
 * A child cannot use cmocka's asserts: it reports the first failed check as its exit status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "ocirun/linux/seccomp-internal.h"
#include "ocirun/linux/seccomp.h"

/* ---- Helpers ------------------------------------------------------------------------------ */

/* JSON written with single quotes, for readability: every ' becomes ". */
static struct json_object *
json(const char *text)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *s = xstrdup(text);

    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct json_object *o = berth_json_parse(s, strlen(s), &err);
    if (!o)
        fail_msg("bad test JSON `%s`: %s", s, err.msg);
    return o;
}

static struct ocirun_seccomp *
parse_ok(const char *text)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = json(text);
    struct ocirun_seccomp *s = NULL;

    if (ocirun_seccomp_parse(o, &s, &err) < 0)
        fail_msg("parse `%s`: %s", text, err.msg);
    assert_non_null(s);
    assert_null(err.msg);
    return s;
}

/* Parse text, expect failure with code (and no system cause) and exactly the message want. */
static void
assert_parse_error(const char *text, int code, const char *want)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = json(text);
    struct ocirun_seccomp *s = (struct ocirun_seccomp *)&err; /* must be reset to NULL */

    assert_int_equal(ocirun_seccomp_parse(o, &s, &err), -1);
    assert_null(s);
    assert_non_null(err.msg);
    if (strcmp(err.msg, want) != 0)
        fail_msg("parse `%s`:\n got `%s`\nwant `%s`", text, err.msg, want);
    assert_int_equal(err.code, code);
    assert_true(err.no_cause);
    berth_err_clear(&err);
}

static void
assert_builds(const struct ocirun_seccomp *s)
{
    struct berth_err err = BERTH_ERR_INIT;
    scmp_filter_ctx ctx = NULL;

    if (ocirun_seccomp_build(s, &ctx, &err) < 0)
        fail_msg("build: %s", err.msg);
    assert_non_null(ctx);
    seccomp_release(ctx);
}

/* Fork; the child runs fn(arg) and exits with its result. Returns the raw wait status. */
static int
in_child(int (*fn)(void *), void *arg)
{
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a stuck child dies rather than hang the suite */
        _exit(fn(arg));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void
assert_child_ok(int status)
{
    if (WIFSIGNALED(status))
        fail_msg("child killed by signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("child failed check %d", WEXITSTATUS(status));
}

/* ---- Parsing good profiles ---------------------------------------------------------------- */

static void
test_ocirun_seccomp_parse_null(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct ocirun_seccomp *s = (struct ocirun_seccomp *)&err;

    assert_int_equal(ocirun_seccomp_parse(NULL, &s, &err), 0);
    assert_null(s);
    assert_null(err.msg);
    assert_false(ocirun_seccomp_uses_notify(NULL));
    ocirun_seccomp_free(NULL);
}

static void
test_ocirun_seccomp_parse_every_field(void **state)
{
    cleanup_seccomp struct ocirun_seccomp *s =
        parse_ok("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
                 " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32',"
                 "                   'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],"
                 " 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG',"
                 "           'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],"
                 " 'listenerPath': '/run/agent.sock', 'listenerMetadata': 'hello',"
                 " 'syscalls': ["
                 "  {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
                 "  {'names': ['getppid'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
                 "  {'names': ['gettid'], 'action': 'SCMP_ACT_KILL_THREAD'},"
                 "  {'names': ['sync'], 'action': 'SCMP_ACT_KILL'},"
                 "  {'names': ['getpgrp'], 'action': 'SCMP_ACT_TRAP'},"
                 "  {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
                 "  {'names': ['rmdir'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 7},"
                 "  {'names': ['getcwd'], 'action': 'SCMP_ACT_TRACE'},"
                 "  {'names': ['uname'], 'action': 'SCMP_ACT_LOG'},"
                 "  {'names': ['fchmod'], 'action': 'SCMP_ACT_NOTIFY'},"
                 "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
                 "   'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
                 "            {'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'}]},"
                 "  {'names': ['clone'], 'action': 'SCMP_ACT_ALLOW',"
                 "   'args': [{'index': 0, 'value': 2114060288, 'valueTwo': 0, 'op': "
                 "'SCMP_CMP_MASKED_EQ'}]},"
                 "  {'names': ['mmap'], 'action': 'SCMP_ACT_ALLOW',"
                 "   'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_NE'},"
                 "            {'index': 1, 'value': 1, 'op': 'SCMP_CMP_LT'},"
                 "            {'index': 2, 'value': 2, 'op': 'SCMP_CMP_LE'},"
                 "            {'index': 3, 'value': 3, 'op': 'SCMP_CMP_GE'},"
                 "            {'index': 4, 'value': 4, 'op': 'SCMP_CMP_GT'},"
                 "            {'index': 5, 'value': 18446744073709551615, 'op': 'SCMP_CMP_EQ'}]}"
                 "]}");

    assert_true(ocirun_seccomp_uses_notify(s));
    assert_builds(s);
}

static void
test_ocirun_seccomp_parse_minimal(void **state)
{
    cleanup_seccomp struct ocirun_seccomp *s = parse_ok("{'defaultAction': 'SCMP_ACT_ALLOW'}");

    assert_false(ocirun_seccomp_uses_notify(s));
    assert_builds(s);
}

/* Null counts as absent, as everywhere in config.json. */
static void
test_ocirun_seccomp_parse_nulls(void **state)
{
    cleanup_seccomp struct ocirun_seccomp *s =
        parse_ok("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': null,"
                 " 'architectures': null, 'flags': null, 'listenerPath': null,"
                 " 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW', 'args': null,"
                 "               'errnoRet': null}]}");
    assert_builds(s);
}

/* Names libseccomp does not know are skipped, not refused; an entry left with none adds no
 * rule, and a NOTIFY entry left with none does not make the profile a notifying one. */
static void
test_ocirun_seccomp_parse_unknown_syscall_skipped(void **state)
{
    cleanup_seccomp struct ocirun_seccomp *s = parse_ok(
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x',"
        " 'syscalls': [{'names': ['mkdir', 'no_such_syscall'], 'action': 'SCMP_ACT_ERRNO'},"
        "              {'names': ['frobnicate'], 'action': 'SCMP_ACT_KILL'},"
        "              {'names': ['also_not_a_syscall'], 'action': 'SCMP_ACT_NOTIFY'}]}");

    assert_false(ocirun_seccomp_uses_notify(s));
    assert_builds(s);
}

/* A rule with the default action is dropped (libseccomp would refuse it with EACCES). */
static void
test_ocirun_seccomp_parse_default_action_rule_dropped(void **state)
{
    cleanup_seccomp struct ocirun_seccomp *s =
        parse_ok("{'defaultAction': 'SCMP_ACT_ERRNO',"
                 " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO'},"
                 "              {'names': ['rmdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
                 "              {'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 2}]}");
    assert_builds(s);
}

/* Syscalls of other arches only (`_llseek` is i386/arm) resolve to pseudo numbers. */
static void
test_ocirun_seccomp_parse_other_arch_syscall(void **state)
{
    cleanup_seccomp struct ocirun_seccomp *s =
        parse_ok("{'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86'],"
                 " 'syscalls': [{'names': ['_llseek', 'socketcall', 'arm_fadvise64_64'],"
                 "               'action': 'SCMP_ACT_ALLOW'}]}");
    assert_builds(s);
}

/* ---- Parsing bad profiles ----------------------------------------------------------------- */

static void
test_ocirun_seccomp_parse_bad_top_level(void **state)
{
    assert_parse_error("[]", EINVAL, "seccomp: expected object, got array");
    assert_parse_error("{}", EINVAL, "seccomp: `defaultAction` is required");
    assert_parse_error("{'defaultAction': 1}", EINVAL, "seccomp: `defaultAction`: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_NOPE'}", EINVAL,
                       "seccomp: `defaultAction`: unknown action `SCMP_ACT_NOPE`");
    assert_parse_error("{'defaultAction': 'scmp_act_allow'}", EINVAL,
                       "seccomp: `defaultAction`: unknown action `scmp_act_allow`");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/x'}", EINVAL,
                       "seccomp: SCMP_ACT_NOTIFY cannot be `defaultAction`");
}

static void
test_ocirun_seccomp_parse_bad_errno(void **state)
{
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}", EINVAL,
                       "seccomp: `defaultErrnoRet` is not valid with SCMP_ACT_ALLOW");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_KILL', 'defaultErrnoRet': 1}", EINVAL,
                       "seccomp: `defaultErrnoRet` is not valid with SCMP_ACT_KILL");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 'EPERM'}", EINVAL,
                       "seccomp: `defaultErrnoRet`: expected integer");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': -1}", EINVAL,
                       "seccomp: `defaultErrnoRet`: -1 out of range for uint32");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 65536}", EINVAL,
                       "seccomp: `defaultErrnoRet`: 65536 out of range (0-65535)");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'],"
                       " 'action': 'SCMP_ACT_LOG', 'errnoRet': 1}]}",
                       EINVAL, "seccomp: syscalls[0]: `errnoRet` is not valid with SCMP_ACT_LOG");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'],"
                       " 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1.5}]}",
                       EINVAL, "seccomp: syscalls[0]: `errnoRet`: expected integer");
}

static void
test_ocirun_seccomp_parse_bad_architectures(void **state)
{
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': 'SCMP_ARCH_X86'}",
                       EINVAL, "seccomp: `architectures`: expected array");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': [1]}", EINVAL,
                       "seccomp: architectures[0]: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW',"
                       " 'architectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_Z80']}",
                       EINVAL, "seccomp: architectures[1]: unknown architecture `SCMP_ARCH_Z80`");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['x86_64']}", EINVAL,
                       "seccomp: architectures[0]: unknown architecture `x86_64`");
}

static void
test_ocirun_seccomp_parse_bad_flags(void **state)
{
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': {}}", EINVAL,
                       "seccomp: `flags`: expected array");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': [true]}", EINVAL,
                       "seccomp: flags[0]: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW',"
                       " 'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_FAST']}",
                       EINVAL, "seccomp: flags[1]: unknown flag `SECCOMP_FILTER_FLAG_FAST`");
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
    assert_parse_error(
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}",
        ENOTSUP,
        "seccomp: flags[0]: `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` needs libseccomp 2.6 or "
        "later");
#endif
}

static void
test_ocirun_seccomp_parse_bad_listener(void **state)
{
    char long_path[200];

    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerMetadata': 'm'}", EINVAL,
                       "seccomp: `listenerMetadata` is set without `listenerPath`");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': 5}", EINVAL,
                       "seccomp: `listenerPath`: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x',"
                       " 'listenerMetadata': []}",
                       EINVAL, "seccomp: `listenerMetadata`: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': ''}", EINVAL,
                       "seccomp: `listenerPath` is empty");

    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    cleanup_free char *text =
        xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s'}", long_path);
    cleanup_free char *want =
        xasprintf("seccomp: `listenerPath` `%s` is too long for a socket", long_path);
    assert_parse_error(text, EINVAL, want);

    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': ['read'], 'action': 'SCMP_ACT_ALLOW'},"
                       " {'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                       EINVAL, "seccomp: syscalls[1]: SCMP_ACT_NOTIFY needs `listenerPath`");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', 'syscalls': ["
                       " {'names': ['recvmsg', 'sendmsg'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                       EINVAL, "seccomp: syscalls[0]: SCMP_ACT_NOTIFY cannot apply to `sendmsg`");
}

static void
test_ocirun_seccomp_parse_bad_syscalls(void **state)
{
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': {}}", EINVAL,
                       "seccomp: `syscalls`: expected array");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ['mkdir']}", EINVAL,
                       "seccomp: syscalls[0]: expected object");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'action': 'SCMP_ACT_ERRNO'}]}",
                       EINVAL, "seccomp: syscalls[0]: `names` is required");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': [], 'action': 'SCMP_ACT_ERRNO'}]}",
                       EINVAL, "seccomp: syscalls[0]: `names` is empty");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': 'mkdir', 'action': 'SCMP_ACT_ERRNO'}]}",
                       EINVAL, "seccomp: syscalls[0]: `names`: expected array");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': ['mkdir', 7], 'action': 'SCMP_ACT_ERRNO'}]}",
                       EINVAL, "seccomp: syscalls[0]: `names`: item 1: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': ['mkdir']}]}",
                       EINVAL, "seccomp: syscalls[0]: `action` is required");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': ['mkdir'], 'action': ['SCMP_ACT_ERRNO']}]}",
                       EINVAL, "seccomp: syscalls[0]: `action`: expected string");
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                       " {'names': ['read'], 'action': 'SCMP_ACT_ERRNO'},"
                       " {'names': ['write'], 'action': 'SCMP_ACT_ERRNO'},"
                       " {'names': ['open'], 'action': 'SCMP_ACT_ERRNO'},"
                       " {'names': ['mkdir'], 'action': 'SCMP_ACT_X'}]}",
                       EINVAL, "seccomp: syscalls[3]: unknown action `SCMP_ACT_X`");
}

/* A bad arg in an entry with several: the message names the entry and the arg. */
static void
assert_bad_arg(const char *arg, const char *want)
{
    cleanup_free char *text =
        xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'],"
                  " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'op': "
                  "'SCMP_CMP_EQ'}, %s]}]}",
                  arg);
    cleanup_free char *full = xasprintf("seccomp: syscalls[0]: args[1]: %s", want);
    assert_parse_error(text, EINVAL, full);
}

static void
test_ocirun_seccomp_parse_bad_args(void **state)
{
    assert_parse_error("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'],"
                       " 'action': 'SCMP_ACT_ERRNO', 'args': {}}]}",
                       EINVAL, "seccomp: syscalls[0]: `args`: expected array");
    assert_bad_arg("3", "expected object");
    assert_bad_arg("{'value': 1, 'op': 'SCMP_CMP_EQ'}", "`index` is required");
    assert_bad_arg("{'index': 1, 'op': 'SCMP_CMP_EQ'}", "`value` is required");
    assert_bad_arg("{'index': 1, 'value': 1}", "`op` is required");
    assert_bad_arg("{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}", "index 6 out of range (0-5)");
    assert_bad_arg("{'index': 4294967295, 'value': 1, 'op': 'SCMP_CMP_EQ'}",
                   "index 4294967295 out of range (0-5)");
    assert_bad_arg("{'index': -1, 'value': 1, 'op': 'SCMP_CMP_EQ'}",
                   "`index`: -1 out of range for uint32");
    assert_bad_arg("{'index': '0', 'value': 1, 'op': 'SCMP_CMP_EQ'}", "`index`: expected integer");
    assert_bad_arg("{'index': 0, 'value': '1', 'op': 'SCMP_CMP_EQ'}", "`value`: expected integer");
    assert_bad_arg("{'index': 0, 'value': -2, 'op': 'SCMP_CMP_EQ'}",
                   "`value`: -2 out of range for uint64");
    assert_bad_arg("{'index': 0, 'value': 1, 'valueTwo': false, 'op': 'SCMP_CMP_EQ'}",
                   "`valueTwo`: expected integer");
    assert_bad_arg("{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQUAL'}",
                   "unknown operator `SCMP_CMP_EQUAL`");
    assert_bad_arg("{'index': 0, 'value': 1, 'op': 1}", "`op`: expected string");
}

/* ---- Name tables -------------------------------------------------------------------------- */

/* Every name listed for `features` is accepted by the parser, and the lists are the spec's. */
static void
test_ocirun_seccomp_names(void **state)
{
    const char *name;
    size_t n;

    assert_string_equal(ocirun_seccomp_action_name(0), "SCMP_ACT_KILL");
    for (n = 0; (name = ocirun_seccomp_action_name(n)); n++) {
        cleanup_free char *text =
            xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x',"
                      " 'syscalls': [{'names': ['mkdir'], 'action': '%s'}]}",
                      name);
        cleanup_seccomp struct ocirun_seccomp *s = parse_ok(text);
        assert_builds(s);
    }
    assert_int_equal(n, 9);
    assert_null(ocirun_seccomp_action_name(n + 100));

    for (n = 0; (name = ocirun_seccomp_op_name(n)); n++) {
        cleanup_free char *text = xasprintf(
            "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'],"
            " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 1, 'value': 1, 'op': '%s'}]}]}",
            name);
        cleanup_seccomp struct ocirun_seccomp *s = parse_ok(text);
        assert_builds(s);
    }
    assert_int_equal(n, 7);

    bool have_x86_64 = false, have_aarch64 = false, have_riscv64 = false;
    for (n = 0; (name = ocirun_seccomp_arch_name(n)); n++) {
        cleanup_free char *text =
            xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['%s']}", name);
        cleanup_seccomp struct ocirun_seccomp *s = parse_ok(text);
        assert_builds(s);
        have_x86_64 |= strcmp(name, "SCMP_ARCH_X86_64") == 0;
        have_aarch64 |= strcmp(name, "SCMP_ARCH_AARCH64") == 0;
        have_riscv64 |= strcmp(name, "SCMP_ARCH_RISCV64") == 0;
    }
    assert_true(n >= 19); /* the spec's list as of libseccomp 2.5 */
    assert_true(have_x86_64 && have_aarch64 && have_riscv64);
}

/* ---- The default profile ------------------------------------------------------------------ */

/* The embedded text is the file, byte for byte. */
static void
test_ocirun_seccomp_default_profile_embedded(void **state)
{
    /* The compiler got this file's absolute path from CMake: the tree is above it. */
    const char *self = __FILE__, *suffix = "tests/unit/ocirun/test_seccomp.c";
    size_t n_self = strlen(self), n_suffix = strlen(suffix);
    if (self[0] != '/' || n_self < n_suffix || strcmp(self + n_self - n_suffix, suffix) != 0)
        skip();
    cleanup_free char *path =
        xasprintf("%.*scontrib/seccomp/default.json", (int)(n_self - n_suffix), self);
    cleanup_fclose FILE *f = fopen(path, "rb");
    char buf[65536];

    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf), f);
    assert_int_equal(n, ocirun_seccomp_default_json_len);
    assert_memory_equal(buf, ocirun_seccomp_default_json, n);
    assert_int_equal(ocirun_seccomp_default_json[n], '\0');
}

static bool
has_allowed(struct json_object *profile, const char *name)
{
    struct json_object *syscalls = json_object_object_get(profile, "syscalls");
    for (size_t i = 0; i < json_object_array_length(syscalls); i++) {
        struct json_object *e = json_object_array_get_idx(syscalls, i);
        if (strcmp(json_object_get_string(json_object_object_get(e, "action")), "SCMP_ACT_ALLOW") !=
            0)
            continue;
        struct json_object *names = json_object_object_get(e, "names");
        for (size_t k = 0; k < json_object_array_length(names); k++)
            if (strcmp(json_object_get_string(json_object_array_get_idx(names, k)), name) == 0)
                return true;
    }
    return false;
}

/* It parses, builds, fits in a BPF program (4096 instructions), and says what the README says. */
static void
test_ocirun_seccomp_default_profile(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = ocirun_seccomp_default_profile();
    cleanup_seccomp struct ocirun_seccomp *s = NULL;
    scmp_filter_ctx ctx = NULL;

    assert_non_null(o);
    assert_string_equal(json_object_get_string(json_object_object_get(o, "defaultAction")),
                        "SCMP_ACT_ERRNO");
    assert_int_equal(json_object_get_int(json_object_object_get(o, "defaultErrnoRet")), EPERM);
    if (ocirun_seccomp_parse(o, &s, &err) < 0)
        fail_msg("parse: %s", err.msg);
    assert_false(ocirun_seccomp_uses_notify(s));
    if (ocirun_seccomp_build(s, &ctx, &err) < 0)
        fail_msg("build: %s", err.msg);

    int fd = memfd_create("bpf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    seccomp_release(ctx);
    assert_true(st.st_size > 0);
    assert_true(st.st_size / 8 <= 4096); /* sizeof(struct sock_filter), BPF_MAXINSNS */

    const char *allowed[] = {"read",   "execve",  "openat",      "clone",  "wait4",
                             "socket", "mkdirat", "personality", "chroot", "ptrace"};
    const char *denied[] = {"mount",          "umount2",     "unshare",     "setns",
                            "kexec_load",     "init_module", "bpf",         "perf_event_open",
                            "keyctl",         "add_key",     "request_key", "open_by_handle_at",
                            "reboot",         "swapon",      "pivot_root",  "userfaultfd",
                            "io_uring_setup", "clone3"};
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
        if (!has_allowed(o, allowed[i]))
            fail_msg("`%s` is not allowed", allowed[i]);
    for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
        if (has_allowed(o, denied[i]))
            fail_msg("`%s` is allowed", denied[i]);
}

/* Each call gives a new object. */
static void
test_ocirun_seccomp_default_profile_is_new(void **state)
{
    cleanup_json struct json_object *a = ocirun_seccomp_default_profile();
    cleanup_json struct json_object *b = ocirun_seccomp_default_profile();

    assert_ptr_not_equal(a, b);
    json_object_object_add(a, "defaultAction", json_object_new_string("SCMP_ACT_ALLOW"));
    assert_string_equal(json_object_get_string(json_object_object_get(b, "defaultAction")),
                        "SCMP_ACT_ERRNO");
}

/* ---- Loading, in children ----------------------------------------------------------------- */

static struct ocirun_seccomp *
parse_or_exit(const char *text, int code)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = NULL;
    struct ocirun_seccomp *s = NULL;
    cleanup_free char *t = xstrdup(text);

    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    o = berth_json_parse(t, strlen(t), &err);
    if (!o || ocirun_seccomp_parse(o, &s, &err) < 0)
        _exit(code);
    return s;
}

static const char deny_mkdir[] =
    "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86',"
    " 'SCMP_ARCH_AARCH64'], 'syscalls': [{'names': ['mkdir', 'mkdirat'],"
    " 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38}]}";

static int
child_deny_mkdir(void *dir)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct ocirun_seccomp *s = parse_or_exit(deny_mkdir, 1);
    cleanup_free char *path = xasprintf("%s/made", (char *)dir);

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 2;
    if (ocirun_seccomp_load(s, NULL, 0, &err) < 0)
        return 3;
    if (mkdir(path, 0755) == 0 || errno != ENOSYS)
        return 4;
    if (syscall(SYS_mkdirat, AT_FDCWD, path, 0755) == 0 || errno != ENOSYS)
        return 5;
    if (getpid() <= 0 || access(dir, F_OK) < 0)
        return 6;
    ocirun_seccomp_free(s);
    return 0;
}

static void
test_ocirun_seccomp_load_errno(void **state)
{
    char dir[] = "/tmp/berth-seccomp-XXXXXX";
    struct stat st;

    assert_non_null(mkdtemp(dir));
    assert_child_ok(in_child(child_deny_mkdir, dir));
    cleanup_free char *path = xasprintf("%s/made", dir);
    assert_int_equal(stat(path, &st), -1);
    /* The filter stayed in the child. */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static int
child_kill(void *arg)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct ocirun_seccomp *s =
        parse_or_exit("{'defaultAction': 'SCMP_ACT_ALLOW',"
                      " 'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_KILL_PROCESS'}]}",
                      1);

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 2;
    if (ocirun_seccomp_load(s, NULL, 0, &err) < 0)
        return 3;
    syscall(SYS_getppid);
    return 4;
}

static void
test_ocirun_seccomp_load_kill(void **state)
{
    int status = in_child(child_kill, NULL);

    if (WIFEXITED(status))
        fail_msg("child exited with %d", WEXITSTATUS(status));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses the filter: libseccomp
 * must not set no_new_privs behind the caller's back. */
static int
child_no_privs(void *arg)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct ocirun_seccomp *s = parse_or_exit(deny_mkdir, 1);
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) < 0)
        return 2;
    if (ocirun_seccomp_load(s, NULL, 0, &err) != -1)
        return 3;
    if (err.code != EACCES || strcmp(err.msg, "seccomp: load filter") != 0)
        return 4;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
        return 5;
    berth_err_clear(&err);
    /* With no_new_privs it works. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ocirun_seccomp_load(s, NULL, 0, &err) < 0)
        return 6;
    return 0;
}

static void
test_ocirun_seccomp_load_needs_privilege(void **state)
{
    assert_child_ok(in_child(child_no_privs, NULL));
}

/* Without no_new_privs, CAP_SYS_ADMIN is enough (the init loads before dropping capabilities
 * when process.noNewPrivileges is false). */
static int
child_cap_sys_admin(void *arg)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct ocirun_seccomp *s = parse_or_exit(deny_mkdir, 1);

    if (ocirun_seccomp_load(s, NULL, 0, &err) < 0)
        return 2;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
        return 3;
    if (mkdir("/nonexistent-dir/x", 0755) == 0 || errno != ENOSYS)
        return 4;
    return 0;
}

static void
test_ocirun_seccomp_load_with_cap_sys_admin(void **state)
{
    if (geteuid() != 0)
        skip();
    assert_child_ok(in_child(child_cap_sys_admin, NULL));
}

/* ---- The seccomp agent -------------------------------------------------------------------- */

struct listener {
    char dir[64];
    char path[96];
    int fd;
};

static int
listener_setup(void **state)
{
    struct listener *l = xzalloc(sizeof(*l));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    strcpy(l->dir, "/tmp/berth-seccomp-XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    snprintf(l->path, sizeof(l->path), "%s/agent.sock", l->dir);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", l->path);
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(l->fd, 4), 0);
    *state = l;
    return 0;
}

static int
listener_teardown(void **state)
{
    struct listener *l = *state;

    close(l->fd);
    unlink(l->path);
    rmdir(l->dir);
    free(l);
    return 0;
}

/* Accept one connection and read it to EOF: the fd it carried (-1 if none) and its JSON. */
static struct json_object *
receive_state(struct listener *l, int *fd)
{
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    char buf[8192], *text = NULL;
    size_t len = 0;

    *fd = -1;
    assert_int_equal(poll(&p, 1, 10000), 1);
    cleanup_close int conn = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(conn >= 0);
    for (;;) {
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf)};
        p.fd = conn;
        assert_int_equal(poll(&p, 1, 10000), 1);
        ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        assert_true(n >= 0);
        if (n == 0)
            break;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                assert_int_equal(*fd, -1); /* fds come once, with the first bytes */
                assert_int_equal(len, 0);
                memcpy(fd, CMSG_DATA(c), sizeof(int));
            }
        }
        text = xrealloc(text, len + (size_t)n + 1);
        memcpy(text + len, buf, (size_t)n);
        len += (size_t)n;
        text[len] = '\0';
    }
    assert_non_null(text);
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(text, len, &err);
    if (!o)
        fail_msg("listener got `%s`: %s", text, err.msg);
    free(text);
    return o;
}

static const char *
get_str(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        fail_msg("`%s` missing or not a string in %s", key, json_object_to_json_string(o));
    return json_object_get_string(v);
}

static void
assert_process_state(struct json_object *o, int pid, const char *metadata)
{
    struct json_object *fds = NULL, *v = NULL, *st = NULL;

    assert_string_equal(get_str(o, "ociVersion"), "1.2.0");
    assert_true(json_object_object_get_ex(o, "fds", &fds));
    assert_int_equal(json_object_array_length(fds), 1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(fds, 0)), "seccompFd");
    assert_true(json_object_object_get_ex(o, "pid", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int(v), pid);
    if (metadata)
        assert_string_equal(get_str(o, "metadata"), metadata);
    else
        assert_false(json_object_object_get_ex(o, "metadata", NULL));
    assert_true(json_object_object_get_ex(o, "state", &st));
    assert_string_equal(get_str(st, "id"), "c1");
    assert_string_equal(get_str(st, "status"), "creating");
    assert_string_equal(get_str(st, "bundle"), "/bundles/c1");
}

static const char state_json[] =
    "{\"ociVersion\": \"1.2.0\", \"id\": \"c1\", \"status\": \"creating\", \"pid\": 4242,"
    " \"bundle\": \"/bundles/c1\", \"annotations\": {\"a\": \"b\"}}";

/* The second half alone, in-process: the listen backlog takes the connection. */
static void
test_ocirun_seccomp_send_notify_fd(void **state)
{
    struct listener *l = *state;
    struct berth_err err = BERTH_ERR_INIT;
    int pipe_fds[2], got = -1;

    cleanup_free char *text = xasprintf(
        "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s', 'listenerMetadata': 'm=1',"
        " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}",
        l->path);
    cleanup_seccomp struct ocirun_seccomp *s = parse_ok(text);
    assert_true(ocirun_seccomp_uses_notify(s));
    assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
    if (ocirun_seccomp_send_notify_fd(s, pipe_fds[1], state_json, 4242, &err) < 0)
        fail_msg("send: %s", err.msg);
    /* The fd is still ours. */
    assert_true(fcntl(pipe_fds[1], F_GETFD) >= 0);

    cleanup_json struct json_object *o = receive_state(l, &got);
    assert_process_state(o, 4242, "m=1");
    assert_true(got >= 0);
    assert_int_equal(write(got, "x", 1), 1);
    char c = 0;
    assert_int_equal(read(pipe_fds[0], &c, 1), 1);
    assert_int_equal(c, 'x');
    close(got);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static void
test_ocirun_seccomp_send_notify_fd_errors(void **state)
{
    struct listener *l = *state;
    struct berth_err err = BERTH_ERR_INIT;

    cleanup_free char *gone =
        xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s/missing.sock'}", l->dir);
    cleanup_seccomp struct ocirun_seccomp *s = parse_ok(gone);
    assert_int_equal(ocirun_seccomp_send_notify_fd(s, 0, state_json, 1, &err), -1);
    assert_int_equal(err.code, ENOENT);
    cleanup_free char *want = xasprintf("seccomp: connect to listener `%s/missing.sock`", l->dir);
    assert_string_equal(err.msg, want);
    berth_err_clear(&err);

    cleanup_free char *text =
        xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s'}", l->path);
    cleanup_seccomp struct ocirun_seccomp *t = parse_ok(text);
    assert_int_equal(ocirun_seccomp_send_notify_fd(t, 0, NULL, 1, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_int_equal(ocirun_seccomp_send_notify_fd(t, 0, "[1]", 1, &err), -1);
    assert_string_equal(err.msg, "seccomp: container state: expected object, got array");
    berth_err_clear(&err);
    assert_int_equal(ocirun_seccomp_send_notify_fd(t, 0, "{", 1, &err), -1);
    assert_non_null(strstr(err.msg, "seccomp: container state: line 1"));
    berth_err_clear(&err);

    cleanup_seccomp struct ocirun_seccomp *u = parse_ok("{'defaultAction': 'SCMP_ACT_ALLOW'}");
    assert_int_equal(ocirun_seccomp_send_notify_fd(u, 0, state_json, 1, &err), -1);
    assert_string_equal(err.msg, "seccomp: no `listenerPath` to send the notify fd to");
    berth_err_clear(&err);
    /* Nothing reached the listener. */
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);
}

/* The child loads a NOTIFY profile: ocirun_seccomp_load connects to the parent's listener and
 * sends the fd; then the child's mkdir waits for the parent's answer. */
static int
child_notify(void *arg)
{
    struct listener *l = arg;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *text =
        xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s',"
                  " 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                  l->path);
    struct ocirun_seccomp *s = parse_or_exit(text, 1);
    cleanup_free char *path = xasprintf("%s/made", l->dir);

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 2;
    if (ocirun_seccomp_load(s, state_json, 4242, &err) < 0)
        return 3;
    /* The parent answers EXDEV. */
    if (mkdir(path, 0755) == 0 || errno != EXDEV)
        return 4;
    if (getpid() <= 0)
        return 5;
    return 0;
}

static void
test_ocirun_seccomp_load_notify(void **state)
{
    struct listener *l = *state;
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    int status = 0, fd = -1;

    if (seccomp_api_get() < 5) /* SCMP_ACT_NOTIFY needs kernel 5.0 and API level 5 */
        skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        _exit(child_notify(l));
    }

    cleanup_json struct json_object *o = receive_state(l, &fd);
    assert_process_state(o, 4242, NULL);
    assert_true(fd >= 0);

    /* Answer the child's mkdir. */
    assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
    assert_int_equal(seccomp_notify_receive(fd, req), 0);
    assert_int_equal(req->pid, pid);
    assert_true(req->data.nr == SCMP_SYS(mkdir) || req->data.nr == SCMP_SYS(mkdirat));
    resp->id = req->id;
    resp->error = -EXDEV;
    resp->val = 0;
    resp->flags = 0;
    assert_int_equal(seccomp_notify_respond(fd, resp), 0);
    seccomp_notify_free(req, resp);
    close(fd);

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_child_ok(status);
}

/* The listener is gone: load fails before the filter is in place, naming the socket. */
static int
child_notify_no_listener(void *arg)
{
    struct listener *l = arg;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *text =
        xasprintf("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s/nobody.sock',"
                  " 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                  l->dir);
    struct ocirun_seccomp *s = parse_or_exit(text, 1);

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 2;
    if (ocirun_seccomp_load(s, state_json, 1, &err) != -1 || err.code != ENOENT)
        return 3;
    if (!strstr(err.msg, "nobody.sock"))
        return 4;
    /* No filter: mkdir goes through (and fails only because the parent dir is missing). */
    if (mkdir("/nonexistent-dir/x", 0755) == 0 || errno != ENOENT)
        return 5;
    return 0;
}

static void
test_ocirun_seccomp_load_notify_no_listener(void **state)
{
    assert_child_ok(in_child(child_notify_no_listener, *state));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ocirun_seccomp_parse_null),
        cmocka_unit_test(test_ocirun_seccomp_parse_every_field),
        cmocka_unit_test(test_ocirun_seccomp_parse_minimal),
        cmocka_unit_test(test_ocirun_seccomp_parse_nulls),
        cmocka_unit_test(test_ocirun_seccomp_parse_unknown_syscall_skipped),
        cmocka_unit_test(test_ocirun_seccomp_parse_default_action_rule_dropped),
        cmocka_unit_test(test_ocirun_seccomp_parse_other_arch_syscall),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_top_level),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_errno),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_architectures),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_flags),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_listener),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_syscalls),
        cmocka_unit_test(test_ocirun_seccomp_parse_bad_args),
        cmocka_unit_test(test_ocirun_seccomp_names),
        cmocka_unit_test(test_ocirun_seccomp_default_profile_embedded),
        cmocka_unit_test(test_ocirun_seccomp_default_profile),
        cmocka_unit_test(test_ocirun_seccomp_default_profile_is_new),
        cmocka_unit_test(test_ocirun_seccomp_load_errno),
        cmocka_unit_test(test_ocirun_seccomp_load_kill),
        cmocka_unit_test(test_ocirun_seccomp_load_needs_privilege),
        cmocka_unit_test(test_ocirun_seccomp_load_with_cap_sys_admin),
        cmocka_unit_test_setup_teardown(test_ocirun_seccomp_send_notify_fd, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_ocirun_seccomp_send_notify_fd_errors, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_ocirun_seccomp_load_notify, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_ocirun_seccomp_load_notify_no_listener, listener_setup,
                                        listener_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
