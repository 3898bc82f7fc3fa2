// SPDX-License-Identifier: Apache-2.0
//
// Running OCI hooks (see hooks.h for who runs which, where and when).

#include "ocirun/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"

static const char *const kind_names[OCIRUN_HOOK_COUNT] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *
ocirun_hook_kind_name(enum ocirun_hook_kind kind)
{
    return kind_names[kind];
}

static int
check_one(struct json_object *h, struct berth_err *err)
{
    const char *path = NULL;
    char **v = NULL;
    int timeout = 0, r;
    if (!json_object_is_type(h, json_type_object))
        return berth_err_fail(err, EINVAL, "expected object");
    if (berth_json_get_string(h, "path", &path, err) < 0)
        return -1;
    if (!path || path[0] != '/')
        return berth_err_fail(err, EINVAL, "`path` must be an absolute path");
    if (berth_json_get_strv(h, "args", &v, NULL, err) < 0)
        return -1;
    berth_cleanup_strvp(&v);
    v = NULL;
    if (berth_json_get_strv(h, "env", &v, NULL, err) < 0)
        return -1;
    berth_cleanup_strvp(&v);
    if ((r = berth_json_get_int(h, "timeout", &timeout, err)) < 0)
        return -1;
    if (r && timeout <= 0)
        return berth_err_fail(err, EINVAL, "`timeout` must be positive");
    return 0;
}

int
ocirun_hooks_check(struct json_object *hooks, struct berth_err *err)
{
    if (!hooks)
        return 0;
    if (!json_object_is_type(hooks, json_type_object))
        return berth_err_fail(err, EINVAL, "hooks: expected object");
    for (int k = 0; k < OCIRUN_HOOK_COUNT; k++) {
        struct json_object *arr = NULL;
        if (berth_json_get_array(hooks, kind_names[k], &arr, err) < 0)
            return berth_err_wrap(err, "hooks");
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
            if (check_one(json_object_array_get_idx(arr, i), err) < 0)
                return berth_err_wrap(err, "hooks.%s[%zu]", kind_names[k], i);
    }
    return 0;
}

/* Feed stdin, collect output, enforce the timeout; returns the wait status or -1. */
static int
supervise(pid_t pid, int in, int out, const char *input, int timeout_s, char *buf, size_t cap,
          struct berth_err *err)
{
    size_t len = 0, off = 0, inlen = strlen(input);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (out >= 0 || in >= 0) {
        struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
        int left = -1;
        if (timeout_s > 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = timeout_s * 1000L - ((now.tv_sec - start.tv_sec) * 1000L +
                                           (now.tv_nsec - start.tv_nsec) / 1000000L);
            if (ms <= 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                if (in >= 0)
                    close(in);
                if (out >= 0)
                    close(out);
                return berth_err_fail(err, ETIMEDOUT, "timed out after %d s", timeout_s);
            }
            left = (int)ms;
        }
        if (poll(p, 2, left) < 0 && errno != EINTR)
            return berth_err_set(err, errno, "poll");
        if (in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(in, input + off, inlen - off);
            if (n > 0)
                off += n;
            if (n < 0 || off == inlen) {
                close(in); /* a hook that doesn't read stdin is fine */
                in = -1;
            }
        }
        if (out >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            char tmp[512];
            ssize_t n = read(out, tmp, sizeof(tmp));
            if (n <= 0) {
                close(out);
                out = -1;
            } else if (len + 1 < cap) {
                size_t take = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
                memcpy(buf + len, tmp, take);
                len += take;
            }
        }
    }
    buf[len] = '\0';
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return berth_err_set(err, errno, "wait");
    return status;
}

static int
run_one(struct json_object *h, const char *state, struct berth_err *err)
{
    const char *path = NULL;
    cleanup_strv char **args = NULL, **env = NULL;
    int timeout = 0;
    int inp[2], outp[2];
    berth_json_get_string(h, "path", &path, NULL);
    berth_json_get_strv(h, "args", &args, NULL, NULL);
    berth_json_get_strv(h, "env", &env, NULL, NULL);
    berth_json_get_int(h, "timeout", &timeout, NULL);
    char *argv_default[] = {(char *)path, NULL};
    char *env_empty[] = {NULL};

    if (pipe2(inp, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "pipe");
    if (pipe2(outp, O_CLOEXEC) < 0) {
        close(inp[0]);
        close(inp[1]);
        return berth_err_set(err, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(inp[0]), close(inp[1]), close(outp[0]), close(outp[1]);
        return berth_err_set(err, errno, "fork");
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(inp[0], 0);
        dup2(outp[1], 1);
        dup2(outp[1], 2);
        execve(path, args && args[0] ? args : argv_default, env ? env : env_empty);
        dprintf(2, "exec: %s", strerror(errno));
        _exit(127);
    }
    close(inp[0]);
    close(outp[1]);
    /* A hook that exits without reading stdin must not kill us with SIGPIPE. */
    fcntl(inp[1], F_SETFL, O_NONBLOCK);
    char out[2048];
    /* A hook that exits without reading stdin must not kill us. Ignoring SIGPIPE is not
     * enough when it is blocked (run and exec block everything to forward signals): the
     * kernel keeps it pending, so a SIGPIPE of ours is taken back before returning. */
    sigset_t pending, pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    int status = supervise(pid, inp[1], outp[0], state, timeout, out, sizeof(out), err);
    sigpending(&pending);
    if (!was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    signal(SIGPIPE, old);
    if (status < 0)
        return berth_err_wrap(err, "hook `%s`", path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        return berth_err_fail(err, ECANCELED, "hook `%s`: killed by signal %d%s%s", path,
                              WTERMSIG(status), out[0] ? ": " : "", out);
    return berth_err_fail(err, ECANCELED, "hook `%s`: exit status %d%s%s", path,
                          WEXITSTATUS(status), out[0] ? ": " : "", out);
}

int
ocirun_hooks_run(struct json_object *hooks, enum ocirun_hook_kind kind, const char *state_json,
                 struct berth_err *err)
{
    struct json_object *arr = NULL;
    if (!hooks || berth_json_get_array(hooks, kind_names[kind], &arr, NULL) <= 0)
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (run_one(json_object_array_get_idx(arr, i), state_json, err) < 0)
            return berth_err_wrap(err, "%s", kind_names[kind]);
    return 0;
}

void
ocirun_hooks_run_warn(struct json_object *hooks, enum ocirun_hook_kind kind, const char *state_json)
{
    struct json_object *arr = NULL;
    if (!hooks || berth_json_get_array(hooks, kind_names[kind], &arr, NULL) <= 0)
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        if (run_one(json_object_array_get_idx(arr, i), state_json, &err) < 0) {
            berth_err_wrap(&err, "%s", kind_names[kind]);
            berth_err_warn(&err);
        }
    }
}
