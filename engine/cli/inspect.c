/* SPDX-License-Identifier: Apache-2.0
 *
 * inspect: containers, images, volumes and networks by name or id. Without --type each name
 * is tried as a container, then an image, a volume, a network, as docker does. The objects
 * print as one indented JSON array, or each through -f/--format.
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

static const char *const types[] = {"container", "image", "volume", "network"};

static char *
inspect_path(const char *type, const char *name, bool size)
{
    if (strcmp(type, "container") == 0)
        return xasprintf("/containers/%s/json%s", name, size ? "?size=1" : "");
    if (strcmp(type, "image") == 0)
        return xasprintf("/images/%s/json", name);
    cleanup_free char *e = cli_escape(name);
    if (strcmp(type, "network") == 0)
        return xasprintf("/networks/%s", e);
    return xasprintf("/volumes/%s", e);
}

/* The object called name, of type (or of the first type that has it). NULL with err:
 * docker's "No such object: x" when nothing has it. */
static struct json_object *
find(struct cli_global *g, const char *type, const char *name, bool size, struct berth_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        if (type && strcmp(type, types[i]) != 0)
            continue;
        cleanup_free char *path = inspect_path(types[i], name, size);
        struct json_object *o = NULL;
        if (cli_api(g, "GET", path, NULL, &o, err) == 0)
            return o;
        if (err->code != ENOENT)
            return NULL;
        berth_err_clear(err);
    }
    if (type && strcmp(type, "image") == 0)
        berth_err_fail(err, ENOENT, "Error: No such image: %s", name);
    else if (type && strcmp(type, "volume") == 0)
        berth_err_fail(err, ENOENT, "Error: No such volume: %s", name);
    else if (type && strcmp(type, "network") == 0)
        berth_err_fail(err, ENOENT, "Error: No such network: %s", name);
    else if (type)
        berth_err_fail(err, ENOENT, "Error: No such container: %s", name);
    else
        berth_err_fail(err, ENOENT, "Error: No such object: %s", name);
    return NULL;
}

int
cli_cmd_inspect(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *format = NULL, *type = NULL;
    bool size = false;
    const struct cli_flag flags[] = {
        {"format", 'f', CLI_FLAG_STRING, &format, NULL},
        {"type", 0, CLI_FLAG_STRING, &type, NULL},
        {"size", 's', CLI_FLAG_BOOL, &size, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse("inspect", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth inspect [OPTIONS] NAME|ID [NAME|ID...]\n\nReturn low-level "
               "information on berth objects\n\nOptions:\n"
               "  -f, --format string   Format the output using the given Go template\n"
               "  -s, --size            Display total file sizes if the type is container\n"
               "      --type string     Return JSON for specified type\n");
        return 0;
    }
    if (cli_args_count("inspect", &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    if (type && strcmp(type, "container") != 0 && strcmp(type, "image") != 0 &&
        strcmp(type, "volume") != 0 && strcmp(type, "network") != 0) {
        berth_err_fail(err, EINVAL, "\"%s\" is not a valid value for --type", type);
        return CLI_EXIT_USAGE;
    }
    struct cli_tmpl *t = NULL;
    if (format && strcmp(format, "json") != 0 && !(t = cli_tmpl_parse(format, err)))
        return CLI_EXIT_USAGE;
    cleanup_json struct json_object *all = json_object_new_array();
    cleanup_free char *errors = xstrdup("");
    int status = 0;
    for (int i = 0; i < args.n; i++) {
        struct json_object *o = find(g, type, args.v[i], size, err);
        if (!o) {
            /* docker prints what it found first, then what it did not. */
            cleanup_free char *m = berth_err_string(err);
            char *more = xasprintf("%s%s\n", errors, m);
            free(errors);
            errors = more;
            berth_err_clear(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        if (t) {
            char *s = cli_tmpl_exec(t, o, err);
            json_object_put(o);
            if (!s) {
                status = CLI_EXIT_FAIL;
                break;
            }
            puts(s);
            free(s);
            continue;
        }
        json_object_array_add(all, o);
    }
    if (!t)
        cli_print_json_indented(stdout, all);
    cli_tmpl_free(t);
    fflush(stdout);
    fputs(errors, stderr);
    return status;
}
