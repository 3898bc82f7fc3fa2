/* SPDX-License-Identifier: Apache-2.0
 *
 * The flag parser of every berth command (see flags.h for the grammar it accepts).
 */
#include "engine/cli/flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/error.h"

void
cli_strv_add(struct cli_strv *v, const char *s)
{
    v->items = xrealloc(v->items, (v->n + 2) * sizeof(*v->items));
    v->items[v->n++] = s;
    v->items[v->n] = NULL;
}

void
cli_strv_free(struct cli_strv *v)
{
    free(v->items);
    v->items = NULL;
    v->n = 0;
}

static int
usage_fail(struct berth_err *err, const char *cmd, const char *what)
{
    return berth_err_fail(err, EINVAL, "%s\nSee 'berth %s --help'.", what, cmd);
}

static const struct cli_flag *
find_long(const struct cli_flag *flags, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

static const struct cli_flag *
find_short(const struct cli_flag *flags, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (flags[i].short_name && flags[i].short_name == c)
            return &flags[i];
    return NULL;
}

/* The flag's name as docker's messages show it: "-n, --last" or "--name". */
static char *
display_name(const struct cli_flag *f)
{
    if (f->short_name)
        return xasprintf("-%c, --%s", f->short_name, f->name);
    return xasprintf("--%s", f->name);
}

/* Store value into f. value is NULL for a boolean given bare. */
static int
assign(const char *cmd, const struct cli_flag *f, const char *value, struct berth_err *err)
{
    if (f->set)
        *f->set = true;
    switch (f->type) {
    case CLI_FLAG_BOOL:
        if (!value || strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0) {
            *(bool *)f->dest = true;
            return 0;
        }
        if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0) {
            *(bool *)f->dest = false;
            return 0;
        }
        break;
    case CLI_FLAG_STRING: *(const char **)f->dest = value; return 0;
    case CLI_FLAG_LIST: cli_strv_add(f->dest, value); return 0;
    case CLI_FLAG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (*value && !*end && errno == 0) {
            *(long long *)f->dest = v;
            return 0;
        }
        break;
    }
    }
    cleanup_free char *dn = display_name(f);
    cleanup_free char *what =
        xasprintf("invalid argument \"%s\" for \"%s\" flag: %s", value, dn,
                  f->type == CLI_FLAG_BOOL ? "not a boolean" : "not an integer");
    return usage_fail(err, cmd, what);
}

static int
parse_long(const char *cmd, const struct cli_flag *flags, size_t n_flags, char *arg, int argc,
           char **argv, int *i, struct cli_args *args, struct berth_err *err)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    if (len == 4 && strncmp(name, "help", 4) == 0) {
        args->help = true;
        return 0;
    }
    const struct cli_flag *f = find_long(flags, n_flags, name, len);
    if (!f) {
        cleanup_free char *what = xasprintf("unknown flag: --%.*s", (int)len, name);
        return usage_fail(err, cmd, what);
    }
    if (eq)
        return assign(cmd, f, eq + 1, err);
    if (f->type == CLI_FLAG_BOOL)
        return assign(cmd, f, NULL, err);
    if (*i + 1 >= argc) {
        cleanup_free char *what = xasprintf("flag needs an argument: --%s", f->name);
        return usage_fail(err, cmd, what);
    }
    return assign(cmd, f, argv[++*i], err);
}

/* A group of short flags: booleans may be grouped; a flag that takes a value takes the rest
 * of the group ("-eA=1") or the next argument. */
static int
parse_short(const char *cmd, const struct cli_flag *flags, size_t n_flags, char *arg, int argc,
            char **argv, int *i, struct cli_args *args, struct berth_err *err)
{
    for (char *c = arg + 1; *c; c++) {
        if (*c == 'h' && !find_short(flags, n_flags, 'h')) {
            args->help = true;
            continue;
        }
        const struct cli_flag *f = find_short(flags, n_flags, *c);
        if (!f) {
            cleanup_free char *what = xasprintf("unknown shorthand flag: '%c' in %s", *c, arg);
            return usage_fail(err, cmd, what);
        }
        if (f->type == CLI_FLAG_BOOL) {
            if (c[1] == '=')
                return assign(cmd, f, c + 2, err);
            if (assign(cmd, f, NULL, err) < 0)
                return -1;
            continue;
        }
        if (c[1])
            return assign(cmd, f, c[1] == '=' ? c + 2 : c + 1, err);
        if (*i + 1 >= argc) {
            cleanup_free char *what = xasprintf("flag needs an argument: '%c' in %s", *c, arg);
            return usage_fail(err, cmd, what);
        }
        return assign(cmd, f, argv[++*i], err);
    }
    return 0;
}

int
cli_flags_parse(const char *cmd, const struct cli_flag *flags, size_t n_flags, int argc,
                char **argv, bool stop_at_operand, struct cli_args *args, struct berth_err *err)
{
    /* Operands are gathered at the front of a copy of argv's tail, in order; argv itself is
     * reordered in place so that args->v can point into it. */
    int n_ops = 0;
    char **ops = argv + 1;
    args->help = false;
    int i;
    for (i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            ops[n_ops++] = a;
            if (stop_at_operand) {
                i++;
                break;
            }
            continue;
        }
        int r = a[1] == '-' ? parse_long(cmd, flags, n_flags, a, argc, argv, &i, args, err)
                            : parse_short(cmd, flags, n_flags, a, argc, argv, &i, args, err);
        if (r < 0)
            return -1;
    }
    for (; i < argc; i++)
        ops[n_ops++] = argv[i];
    args->n = n_ops;
    args->v = ops;
    return 0;
}

int
cli_args_count(const char *cmd, const struct cli_args *args, int min, int max,
               struct berth_err *err)
{
    cleanup_free char *what = NULL;
    if (min == max && args->n != min)
        what = xasprintf("\"berth %s\" requires exactly %d argument%s.", cmd, min,
                         min == 1 ? "" : "s");
    else if (args->n < min)
        what = xasprintf("\"berth %s\" requires at least %d argument%s.", cmd, min,
                         min == 1 ? "" : "s");
    else if (max >= 0 && args->n > max)
        what =
            xasprintf("\"berth %s\" accepts at most %d argument%s.", cmd, max, max == 1 ? "" : "s");
    if (!what)
        return 0;
    return usage_fail(err, cmd, what);
}

long long
cli_parse_size(const char *s, const char *what, struct berth_err *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return berth_err_fail(err, EINVAL, "invalid %s: `%s`", what, s);
    long long mult = 1;
    switch (*end) {
    case 'b':
    case 'B':
        mult = 1;
        end++;
        break;
    case 'k':
    case 'K':
        mult = 1LL << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1LL << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1LL << 30;
        end++;
        break;
    case 't':
    case 'T':
        mult = 1LL << 40;
        end++;
        break;
    case '\0': break;
    default: return berth_err_fail(err, EINVAL, "invalid %s: `%s`", what, s);
    }
    if (mult > 1 && (*end == 'b' || *end == 'B'))
        end++;
    if (*end)
        return berth_err_fail(err, EINVAL, "invalid %s: `%s`", what, s);
    return (long long)(v * (double)mult);
}
