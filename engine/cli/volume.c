/* SPDX-License-Identifier: Apache-2.0
 *
 * The volume group: create, ls, inspect, rm, prune.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/units.h"

/* "k=v" items into an object ({"k": "v"}; "k" alone maps to ""). */
static struct json_object *
kv_object(const struct cli_strv *items)
{
    struct json_object *o = json_object_new_object();
    for (size_t i = 0; i < items->n; i++) {
        const char *eq = strchr(items->items[i], '=');
        cleanup_free char *k = eq ? xstrndup(items->items[i], (size_t)(eq - items->items[i]))
                                  : xstrdup(items->items[i]);
        json_object_object_add(o, k, json_object_new_string(eq ? eq + 1 : ""));
    }
    return o;
}

static int
volume_create(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *driver = "local", *name = NULL;
    struct cli_strv labels = {0}, opts = {0};
    const struct cli_flag flags[] = {
        {"driver", 'd', CLI_FLAG_STRING, &driver, NULL},
        {"label", 0, CLI_FLAG_LIST, &labels, NULL},
        {"opt", 'o', CLI_FLAG_LIST, &opts, NULL},
        {"name", 0, CLI_FLAG_STRING, &name, NULL},
    };
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    if (cli_flags_parse("volume create", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) <
        0)
        goto out;
    if (cli_args_count("volume create", &args, 0, 1, err) < 0)
        goto out;
    if (args.n && name) {
        berth_err_fail(err, EINVAL,
                       "conflicting options: either specify --name or provide "
                       "positional arg, not both");
        goto out;
    }
    if (args.n)
        name = args.v[0];
    status = CLI_EXIT_FAIL;
    {
        cleanup_json struct json_object *body = json_object_new_object();
        json_object_object_add(body, "Name", json_object_new_string(name ? name : ""));
        json_object_object_add(body, "Driver", json_object_new_string(driver));
        json_object_object_add(body, "DriverOpts", kv_object(&opts));
        json_object_object_add(body, "Labels", kv_object(&labels));
        cleanup_json struct json_object *v = NULL;
        if (cli_api(g, "POST", "/volumes/create", body, &v, err) < 0)
            goto out;
        struct json_object *n = NULL;
        json_object_object_get_ex(v, "Name", &n);
        printf("%s\n", n ? json_object_get_string(n) : "");
        status = 0;
    }
out:
    cli_strv_free(&labels);
    cli_strv_free(&opts);
    return status;
}

static int
volume_ls(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool quiet = false;
    const char *format = NULL;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"format", 0, CLI_FLAG_STRING, &format, NULL},
        {"filter", 'f', CLI_FLAG_LIST, &filters, NULL},
    };
    static const struct cli_column cols[] = {
        {"Driver", "DRIVER"}, {"Name", "VOLUME NAME"}, {"Mountpoint", "MOUNTPOINT"},
        {"Scope", "SCOPE"},   {"Labels", "LABELS"},    {"CreatedAt", "CREATED AT"}};
    struct cli_args args;
    struct cli_fmt fmt = {0};
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *path = NULL;
    cleanup_json struct json_object *r = NULL;
    if (cli_flags_parse("volume ls", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        goto out;
    if (cli_args_count("volume ls", &args, 0, 0, err) < 0)
        goto out;
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    if (quiet)
        format = "{{.Name}}";
    if (cli_fmt_init(&fmt, format, "table {{.Driver}}\t{{.Name}}", cols, ARRAY_SIZE(cols), err) < 0)
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/volumes?%s", fq[0] ? fq + 1 : "");
    if (cli_api(g, "GET", path, NULL, &r, err) < 0)
        goto out;
    struct json_object *list = NULL;
    json_object_object_get_ex(r, "Volumes", &list);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        cleanup_json struct json_object *row = json_object_new_object();
        static const char *const keys[] = {"Driver", "Name", "Mountpoint", "Scope", "CreatedAt"};
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            struct json_object *x = NULL;
            json_object_object_get_ex(v, keys[k], &x);
            json_object_object_add(row, keys[k],
                                   json_object_new_string(x ? json_object_get_string(x) : ""));
        }
        /* Labels as docker lists them: "k=v,k2=v2". */
        struct json_object *labels = NULL;
        cleanup_free char *ls = xstrdup("");
        if (json_object_object_get_ex(v, "Labels", &labels) &&
            json_object_is_type(labels, json_type_object)) {
            json_object_object_foreach(labels, k, lv)
            {
                char *more =
                    xasprintf("%s%s%s=%s", ls, *ls ? "," : "", k, json_object_get_string(lv));
                free(ls);
                ls = more;
            }
        }
        json_object_object_add(row, "Labels", json_object_new_string(ls));
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

static int
volume_rm(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false;
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL}};
    struct cli_args args;
    if (cli_flags_parse("volume rm", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (cli_args_count("volume rm", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    int status = 0;
    for (int i = 0; i < args.n; i++) {
        cleanup_free char *e = cli_escape(args.v[i]);
        cleanup_free char *path = xasprintf("/volumes/%s?force=%d", e, force ? 1 : 0);
        if (cli_api(g, "DELETE", path, NULL, NULL, err) < 0) {
            cli_report_error(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        printf("%s\n", args.v[i]);
    }
    return status;
}

static int
volume_prune(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false, all = false;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL},
                                     {"all", 'a', CLI_FLAG_BOOL, &all, NULL},
                                     {"filter", 0, CLI_FLAG_LIST, &filters, NULL}};
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *path = NULL;
    cleanup_json struct json_object *r = NULL;
    if (cli_flags_parse("volume prune", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) <
        0)
        goto out;
    if (all)
        cli_strv_add(&filters, "all=true");
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    status = 0;
    if (!force && !cli_confirm("WARNING! This will remove anonymous local volumes not used by at "
                               "least one container.\nAre you sure you want to continue?"))
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/volumes/prune?%s", fq[0] ? fq + 1 : "");
    if (cli_api(g, "POST", path, NULL, &r, err) < 0)
        goto out;
    {
        struct json_object *del = NULL, *space = NULL;
        if (json_object_object_get_ex(r, "VolumesDeleted", &del) &&
            json_object_is_type(del, json_type_array) && json_object_array_length(del)) {
            printf("Deleted Volumes:\n");
            for (size_t i = 0; i < json_object_array_length(del); i++)
                printf("%s\n", json_object_get_string(json_object_array_get_idx(del, i)));
            printf("\n");
        }
        json_object_object_get_ex(r, "SpaceReclaimed", &space);
        cleanup_free char *s = cli_human_size((double)(space ? json_object_get_int64(space) : 0));
        printf("Total reclaimed space: %s\n", s);
        status = 0;
    }
out:
    cli_strv_free(&filters);
    return status;
}

int
cli_cmd_volume(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("Usage:  berth volume COMMAND\n\nManage volumes\n\nCommands:\n"
               "  create      Create a volume\n  inspect     Display detailed information on "
               "one or more volumes\n  ls          List volumes\n  prune       Remove unused "
               "local volumes\n  rm          Remove one or more volumes\n");
        return argc < 2 ? CLI_EXIT_FAIL : 0;
    }
    const char *s = argv[1];
    argc--;
    argv++;
    if (strcmp(s, "create") == 0)
        return volume_create(g, argc, argv, err);
    if (strcmp(s, "ls") == 0 || strcmp(s, "list") == 0)
        return volume_ls(g, argc, argv, err);
    if (strcmp(s, "rm") == 0 || strcmp(s, "remove") == 0)
        return volume_rm(g, argc, argv, err);
    if (strcmp(s, "prune") == 0)
        return volume_prune(g, argc, argv, err);
    if (strcmp(s, "inspect") == 0) {
        char **v = xmalloc(((size_t)argc + 3) * sizeof(*v));
        v[0] = "inspect";
        v[1] = "--type=volume";
        for (int i = 1; i < argc; i++)
            v[i + 1] = argv[i];
        v[argc + 1] = NULL;
        int rc = cli_cmd_inspect(g, argc + 1, v, err);
        free(v);
        return rc;
    }
    berth_err_fail(err, EINVAL, "berth volume: unknown command `%s`\nSee 'berth volume --help'.",
                   s);
    return CLI_EXIT_USAGE;
}
