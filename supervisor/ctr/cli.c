/* SPDX-License-Identifier: Apache-2.0
 *
 * What every berth-ctr command file uses (ctr.h): command tables and group dispatch, usage
 * text, argument checks, and KEY=VALUE arguments as protobuf maps.
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

static bool
alias_matches(const char *aliases, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = aliases; p && *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n;
        p += strspn(p, " ");
    }
    return false;
}

const struct ctr_cmd *
ctr_cmd_find(const struct ctr_cmd *cmds, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cmds[i].name, name) == 0 || alias_matches(cmds[i].aliases, name))
            return &cmds[i];
    return NULL;
}

/* "ls" with aliases "list" as "ls, list"; a heap string. */
static char *
names_of(const struct ctr_cmd *cmd)
{
    char *names = xstrdup(cmd->name);
    for (const char *p = cmd->aliases; p && *p;) {
        size_t len = strcspn(p, " ");
        char *more = xasprintf("%s, %.*s", names, (int)len, p);
        free(names);
        names = more;
        p += len;
        p += strspn(p, " ");
    }
    return names;
}

void
ctr_cmd_list(FILE *out, const struct ctr_cmd *cmds, size_t n)
{
    int width = 0;
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *names = names_of(&cmds[i]);
        if ((int)strlen(names) > width)
            width = (int)strlen(names);
    }
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *names = names_of(&cmds[i]);
        fprintf(out, "   %-*s    %s\n", width, names, cmds[i].summary);
    }
}

static void
group_usage(FILE *out, const char *group, const char *summary, const struct ctr_cmd *cmds, size_t n)
{
    fprintf(out, "Usage: berth-ctr %s COMMAND [options] [arguments...]\n\n%s\n\nCommands:\n", group,
            summary);
    ctr_cmd_list(out, cmds, n);
    fprintf(out, "\nRun 'berth-ctr %s COMMAND --help' for a command's options.\n", group);
}

int
ctr_dispatch(const char *group, const char *summary, const struct ctr_cmd *cmds, size_t n,
             struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c != 'h')
            return ctr_bad_option(group, err);
        group_usage(stdout, group, summary, cmds, n);
        return 0;
    }
    if (optind >= argc || strcmp(argv[optind], "help") == 0) {
        group_usage(stdout, group, summary, cmds, n);
        return 0;
    }
    const char *name = argv[optind];
    const struct ctr_cmd *cmd = ctr_cmd_find(cmds, n, name);
    if (!cmd)
        return berth_err_fail(err, EINVAL, "unknown command `%s %s` (see `berth-ctr %s --help`)",
                              group, name, group);
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0;
    return cmd->fn(g, sub_argc, sub_argv, err);
}

void
ctr_usage(const char *cmd, const char *usage, const char *description, const char *options)
{
    printf("Usage: berth-ctr %s%s%s\n", cmd, *usage ? " " : "", usage);
    if (description && *description)
        printf("\n%s", description);
    if (options && *options)
        printf("\nOptions:\n%s", options);
}

int
ctr_bad_option(const char *cmd, struct berth_err *err)
{
    return berth_err_fail(err, EINVAL, "invalid option for `%s` (see --help)", cmd);
}

int
ctr_parse_no_options(const char *cmd, const char *usage, const char *description, int argc,
                     char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c != 'h')
            return ctr_bad_option(cmd, err);
        ctr_usage(cmd, usage, description, "   --help, -h    show help\n");
        return 1;
    }
    return 0;
}

const char *
ctr_one_arg(const char *cmd, const char *what, int argc, char **argv, struct berth_err *err)
{
    if (argc - optind != 1) {
        berth_err_fail(err, EINVAL, "`%s` requires exactly one %s", cmd, what);
        return NULL;
    }
    return argv[optind];
}

void
ctr_report(struct berth_err *err)
{
    cleanup_free char *msg = berth_err_string(err);
    fflush(stdout); /* what was printed before the error stays before it */
    fprintf(stderr, "berth-ctr: %s\n", msg);
    berth_err_clear(err);
}

/* The key and value fields of a map entry descriptor (both strings here). */
static int
entry_fields(const ProtobufCMessageDescriptor *entry, const ProtobufCFieldDescriptor **key,
             const ProtobufCFieldDescriptor **value)
{
    *key = protobuf_c_message_descriptor_get_field_by_name(entry, "key");
    *value = protobuf_c_message_descriptor_get_field_by_name(entry, "value");
    if (!*key || !*value || (*key)->type != PROTOBUF_C_TYPE_STRING ||
        (*value)->type != PROTOBUF_C_TYPE_STRING)
        return -1;
    return 0;
}

static char **
field_str(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (char **)((char *)m + f->offset);
}

int
ctr_map_from_args(const ProtobufCMessageDescriptor *entry, char *const *kv, size_t n,
                  bool skip_empty, ProtobufCMessage ***out, size_t *n_out, struct berth_err *err)
{
    const ProtobufCFieldDescriptor *kf, *vf;
    if (entry_fields(entry, &kf, &vf) < 0)
        return berth_err_fail(err, EINVAL, "`%s` is not a map<string, string> entry", entry->name);
    ProtobufCMessage **entries = xzalloc((n + 1) * sizeof(*entries));
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        size_t klen = eq ? (size_t)(eq - kv[i]) : strlen(kv[i]);
        if (klen == 0) {
            ctr_map_free(entries, used);
            return berth_err_fail(err, EINVAL, "invalid label `%s`: empty key", kv[i]);
        }
        const char *value = eq ? eq + 1 : "";
        if (skip_empty && !*value)
            continue;
        ProtobufCMessage *m = xzalloc(entry->sizeof_message);
        protobuf_c_message_init(entry, m);
        *field_str(m, kf) = xstrndup(kv[i], klen);
        *field_str(m, vf) = xstrdup(value);
        entries[used++] = m;
    }
    *out = entries;
    *n_out = used;
    return 0;
}

void
ctr_map_free(ProtobufCMessage **entries, size_t n)
{
    if (!entries)
        return;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCFieldDescriptor *kf, *vf;
        if (entry_fields(entries[i]->descriptor, &kf, &vf) == 0) {
            free(*field_str(entries[i], kf));
            free(*field_str(entries[i], vf));
        }
        free(entries[i]);
    }
    free(entries);
}

struct kv_ref {
    const char *key;
    const char *value;
};

static int
kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct kv_ref *)a)->key, ((const struct kv_ref *)b)->key);
}

char *
ctr_map_join(ProtobufCMessage *const *entries, size_t n)
{
    if (n == 0)
        return xstrdup("");
    cleanup_free struct kv_ref *refs = xzalloc(n * sizeof(*refs));
    size_t used = 0, len = 1;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCFieldDescriptor *kf, *vf;
        if (entry_fields(entries[i]->descriptor, &kf, &vf) < 0)
            continue;
        refs[used].key = *field_str(entries[i], kf);
        refs[used].value = *field_str(entries[i], vf);
        if (!refs[used].key)
            refs[used].key = "";
        if (!refs[used].value)
            refs[used].value = "";
        len += strlen(refs[used].key) + strlen(refs[used].value) + 2;
        used++;
    }
    qsort(refs, used, sizeof(*refs), kv_cmp);
    char *s = xzalloc(len), *w = s;
    for (size_t i = 0; i < used; i++)
        w += sprintf(w, "%s%s=%s", i ? "," : "", refs[i].key, refs[i].value);
    return s;
}

void
ctr_strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}
