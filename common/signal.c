/* SPDX-License-Identifier: Apache-2.0
 *
 * Signal names and numbers (signal.h): the names of signal(7) with or without "SIG", in any
 * case, numbers, and the real-time signals relative to RTMIN and RTMAX.
 */
#include "common/signal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/error.h"

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

static int
parse_num(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (int)v;
    return 0;
}

int
berth_signal_parse(const char *s, struct berth_err *err)
{
    const char *name = s;
    int sig;
    if (!s || !*s)
        return berth_err_fail(err, EINVAL, "empty signal");
    if (parse_num(s, &sig) == 0) {
        if (sig <= 0 || sig > SIGRTMAX)
            return berth_err_fail(err, EINVAL, "invalid signal `%s`", s);
        return sig;
    }
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
        if (strcasecmp(signals[i].name, name) == 0)
            return signals[i].sig;
    /* RTMIN, RTMIN+n, RTMAX, RTMAX-n */
    int base = 0, off = 0;
    if (strncasecmp(name, "RTMIN", 5) == 0)
        base = SIGRTMIN, name += 5;
    else if (strncasecmp(name, "RTMAX", 5) == 0)
        base = SIGRTMAX, name += 5;
    if (base) {
        if (*name == '\0')
            return base;
        if ((*name == '+' || *name == '-') && parse_num(name + 1, &off) == 0) {
            sig = *name == '+' ? base + off : base - off;
            if (sig >= SIGRTMIN && sig <= SIGRTMAX)
                return sig;
        }
    }
    return berth_err_fail(err, EINVAL, "unknown signal `%s`", s);
}
