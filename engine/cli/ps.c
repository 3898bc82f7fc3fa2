/* SPDX-License-Identifier: Apache-2.0
 *
 * ps: the container list, with docker's columns and fields (.ID, .Image, .Command,
 * .CreatedAt, .RunningFor, .Ports, .State, .Status, .Size, .Names, .Labels, .Mounts,
 * .Networks).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/units.h"

static const struct cli_column ps_columns[] = {
    {"ID", "CONTAINER ID"},    {"Image", "IMAGE"},
    {"Command", "COMMAND"},    {"CreatedAt", "CREATED AT"},
    {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
    {"State", "STATE"},        {"Status", "STATUS"},
    {"Size", "SIZE"},          {"Names", "NAMES"},
    {"Labels", "LABELS"},      {"Mounts", "MOUNTS"},
    {"Networks", "NETWORKS"},  {"LocalVolumes", "LOCAL VOLUMES"},
};

/* docker's Ellipsis: at most max code points, the last one "…" when cut. */
static char *
ellipsis(const char *s, size_t max)
{
    size_t n = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == max - 1) {
                size_t rest = 0;
                for (size_t j = i; s[j]; j++)
                    if (((unsigned char)s[j] & 0xC0) != 0x80)
                        rest++;
                if (rest > 1)
                    return xasprintf("%.*s…", (int)i, s);
                break;
            }
            n++;
        }
    }
    return xstrdup(s);
}

/* Go's strconv.Quote for what commands hold: quotes and backslashes escaped. */
static char *
quote(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(2 * n + 3), *d = out;
    *d++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *d++ = '\\';
        *d++ = *s;
    }
    *d++ = '"';
    *d = '\0';
    return out;
}

static void
add(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

/* "a,b" from an array of strings, each through fn when not NULL. */
static char *
join(struct json_object *arr, const char *(*fn)(struct json_object *))
{
    char *s = xstrdup("");
    for (size_t i = 0;
         arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr);
         i++) {
        struct json_object *it = json_object_array_get_idx(arr, i);
        const char *v = fn ? fn(it) : json_object_get_string(it);
        if (v && *v == '/')
            v++;
        char *more = xasprintf("%s%s%s", s, *s ? "," : "", v ? v : "");
        free(s);
        s = more;
    }
    return s;
}

static const char *
mount_name(struct json_object *m)
{
    const char *n = cli_json_str(m, "Name");
    return *n ? n : cli_json_str(m, "Source");
}

static struct json_object *
ps_row(struct json_object *c, bool no_trunc)
{
    struct json_object *row = json_object_new_object();
    cleanup_free char *id = cli_short_id(cli_json_str(c, "Id"), no_trunc);
    const char *image = cli_json_str(c, "Image");
    cleanup_free char *img =
        strncmp(image, "sha256:", 7) == 0 ? cli_short_id(image, no_trunc) : xstrdup(image);
    cleanup_free char *cmd_cut =
        no_trunc ? xstrdup(cli_json_str(c, "Command")) : ellipsis(cli_json_str(c, "Command"), 20);
    cleanup_free char *cmd = quote(cmd_cut);
    int64_t created = cli_json_int(c, "Created");
    time_t ct = (time_t)created;
    struct tm tm;
    localtime_r(&ct, &tm);
    char at[80];
    strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
    cleanup_free char *since = cli_human_since(created);
    struct json_object *names = NULL, *mounts = NULL, *ports = NULL, *labels = NULL, *ns = NULL;
    json_object_object_get_ex(c, "Names", &names);
    json_object_object_get_ex(c, "Mounts", &mounts);
    json_object_object_get_ex(c, "Ports", &ports);
    json_object_object_get_ex(c, "Labels", &labels);
    cleanup_free char *names_s = join(names, NULL);
    cleanup_free char *mounts_s = join(mounts, mount_name);
    cleanup_free char *labels_s = xstrdup("");
    if (json_object_is_type(labels, json_type_object)) {
        json_object_object_foreach(labels, k, v)
        {
            char *more = xasprintf("%s%s%s=%s", labels_s, *labels_s ? "," : "", k,
                                   json_object_get_string(v));
            free(labels_s);
            labels_s = more;
        }
    }
    cleanup_free char *ports_s = xstrdup("");
    for (size_t i = 0; ports && json_object_is_type(ports, json_type_array) &&
                       i < json_object_array_length(ports);
         i++) {
        struct json_object *p = json_object_array_get_idx(ports, i);
        char *one =
            cli_json_int(p, "PublicPort")
                ? xasprintf("%s:%lld->%lld/%s", cli_json_str(p, "IP"),
                            (long long)cli_json_int(p, "PublicPort"),
                            (long long)cli_json_int(p, "PrivatePort"), cli_json_str(p, "Type"))
                : xasprintf("%lld/%s", (long long)cli_json_int(p, "PrivatePort"),
                            cli_json_str(p, "Type"));
        char *more = xasprintf("%s%s%s", ports_s, *ports_s ? ", " : "", one);
        free(one);
        free(ports_s);
        ports_s = more;
    }
    cleanup_free char *networks_s = xstrdup("");
    struct json_object *nets = NULL;
    if (json_object_object_get_ex(c, "NetworkSettings", &ns) &&
        json_object_object_get_ex(ns, "Networks", &nets) &&
        json_object_is_type(nets, json_type_object)) {
        json_object_object_foreach(nets, k, v)
        {
            (void)v;
            char *more = xasprintf("%s%s%s", networks_s, *networks_s ? "," : "", k);
            free(networks_s);
            networks_s = more;
        }
    }
    cleanup_free char *rw = cli_human_size((double)cli_json_int(c, "SizeRw"));
    cleanup_free char *virt = cli_human_size((double)cli_json_int(c, "SizeRootFs"));
    cleanup_free char *size = xasprintf("%s (virtual %s)", rw, virt);
    size_t n_local = 0;
    for (size_t i = 0; mounts && json_object_is_type(mounts, json_type_array) &&
                       i < json_object_array_length(mounts);
         i++)
        if (strcmp(cli_json_str(json_object_array_get_idx(mounts, i), "Driver"), "local") == 0)
            n_local++;
    cleanup_free char *local = xasprintf("%zu", n_local);
    add(row, "ID", id);
    add(row, "Image", img);
    add(row, "Command", cmd);
    add(row, "CreatedAt", at);
    add(row, "RunningFor", since);
    add(row, "Ports", ports_s);
    add(row, "State", cli_json_str(c, "State"));
    add(row, "Status", cli_json_str(c, "Status"));
    add(row, "Size", size);
    add(row, "Names", names_s);
    add(row, "Labels", labels_s);
    add(row, "Mounts", mounts_s);
    add(row, "Networks", networks_s);
    add(row, "LocalVolumes", local);
    return row;
}

int
cli_cmd_ps(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool all = false, quiet = false, latest = false, size = false, no_trunc = false;
    long long last = -1;
    const char *format = NULL;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {
        {"all", 'a', CLI_FLAG_BOOL, &all, NULL},
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"latest", 'l', CLI_FLAG_BOOL, &latest, NULL},
        {"last", 'n', CLI_FLAG_INT, &last, NULL},
        {"size", 's', CLI_FLAG_BOOL, &size, NULL},
        {"no-trunc", 0, CLI_FLAG_BOOL, &no_trunc, NULL},
        {"format", 0, CLI_FLAG_STRING, &format, NULL},
        {"filter", 'f', CLI_FLAG_LIST, &filters, NULL},
    };
    struct cli_args args;
    struct cli_fmt fmt = {0};
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *path = NULL, *limit = NULL;
    cleanup_json struct json_object *list = NULL;
    if (cli_flags_parse("ps", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        goto out;
    if (args.help) {
        printf("Usage:  berth ps [OPTIONS]\n\nList containers\n\nOptions:\n"
               "  -a, --all             Show all containers (default shows just running)\n"
               "  -f, --filter filter   Filter output based on conditions provided\n"
               "      --format string   Pretty-print containers using a Go template\n"
               "  -n, --last int        Show n last created containers (includes all states)\n"
               "  -l, --latest          Show the latest created container (includes all states)\n"
               "      --no-trunc        Don't truncate output\n"
               "  -q, --quiet           Only display container IDs\n"
               "  -s, --size            Display total file sizes\n");
        status = 0;
        goto out;
    }
    if (cli_args_count("ps", &args, 0, 0, err) < 0)
        goto out;
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    if (latest)
        last = 1;
    if (quiet)
        format = "{{.ID}}";
    /* A format that shows .Size asks the daemon for sizes, as docker does. */
    if (format && strstr(format, ".Size"))
        size = true;
    const char *def = size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                             "{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                           : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                             "{{.Status}}\t{{.Ports}}\t{{.Names}}";
    if (cli_fmt_init(&fmt, format, def, ps_columns, ARRAY_SIZE(ps_columns), err) < 0)
        goto out;
    status = CLI_EXIT_FAIL;
    limit = last > 0 ? xasprintf("&limit=%lld", last) : xstrdup("");
    path = xasprintf("/containers/json?all=%d&size=%d%s%s", all || last > 0 ? 1 : 0, size ? 1 : 0,
                     limit, fq);
    if (cli_api(g, "GET", path, NULL, &list, err) < 0)
        goto out;
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        cleanup_json struct json_object *row = ps_row(json_object_array_get_idx(list, i), no_trunc);
        if (cli_fmt_row(&fmt, row, err) < 0)
            goto out;
    }
    cli_fmt_flush(&fmt, stdout);
    status = 0;
out:
    cli_fmt_free(&fmt);
    cli_strv_free(&filters);
    return status;
}
