/* SPDX-License-Identifier: Apache-2.0
 *
 * export and diff: a container's whole root filesystem as a tar (GET
 * /containers/{id}/export) and what its writable layer changed (GET
 * /containers/{id}/changes), printed as docker does ("A /path", "C /path", "D /path").
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"

static int
write_out(void *opaque, const char *data, size_t len, struct berth_err *err)
{
    if (fwrite(data, 1, len, opaque) != len)
        return berth_err_set(err, errno, "write the archive");
    return 0;
}

int
cli_cmd_export(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *output = NULL;
    const struct cli_flag flags[] = {{"output", 'o', CLI_FLAG_STRING, &output, NULL}};
    struct cli_args args;
    if (cli_flags_parse("export", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth export [OPTIONS] CONTAINER\n\nExport a container's filesystem as "
               "a tar archive\n\nOptions:\n"
               "  -o, --output string   Write to a file, instead of STDOUT\n");
        return 0;
    }
    if (cli_args_count("export", &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    if (!output && isatty(STDOUT_FILENO)) {
        berth_err_fail(err, EINVAL,
                       "cowardly refusing to save to a terminal. Use the -o flag or redirect");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *id = cli_escape(args.v[0]);
    cleanup_free char *path = xasprintf("/containers/%s/export", id);
    /* The file is written beside its name and renamed once whole: a failed export leaves
     * nothing half-written under the name asked for. */
    cleanup_free char *tmp = output ? xasprintf("%s.tmp-%d", output, (int)getpid()) : NULL;
    FILE *f = stdout;
    if (output && !(f = fopen(tmp, "wb"))) {
        berth_err_set(err, errno, "create `%s`", output);
        return CLI_EXIT_FAIL;
    }
    struct cli_request req = {.method = "GET", .path = path, .on_data = write_out, .opaque = f};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    cli_response_free(&resp);
    if (output) {
        if (fclose(f) != 0 && rc == 0)
            rc = berth_err_set(err, errno, "write `%s`", output);
        if (rc == 0 && rename(tmp, output) < 0)
            rc = berth_err_set(err, errno, "rename to `%s`", output);
        if (rc < 0)
            unlink(tmp);
    } else if (fflush(stdout) != 0 && rc == 0) {
        rc = berth_err_set(err, errno, "write the archive");
    }
    return rc < 0 ? CLI_EXIT_FAIL : 0;
}

int
cli_cmd_diff(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse("diff", NULL, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth diff CONTAINER\n\nInspect changes to files or directories on a "
               "container's filesystem\n");
        return 0;
    }
    if (cli_args_count("diff", &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *id = cli_escape(args.v[0]);
    cleanup_free char *path = xasprintf("/containers/%s/changes", id);
    cleanup_json struct json_object *changes = NULL;
    if (cli_api(g, "GET", path, NULL, &changes, err) < 0)
        return CLI_EXIT_FAIL;
    /* docker's Kind: 0 modified, 1 added, 2 deleted. */
    static const char kinds[] = {'C', 'A', 'D'};
    size_t n =
        json_object_is_type(changes, json_type_array) ? json_object_array_length(changes) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(changes, i), *p = NULL, *k = NULL;
        if (!json_object_object_get_ex(c, "Path", &p) || !json_object_object_get_ex(c, "Kind", &k))
            continue;
        int kind = json_object_get_int(k);
        printf("%c %s\n", kind >= 0 && kind <= 2 ? kinds[kind] : '?', json_object_get_string(p));
    }
    return fflush(stdout) == 0 ? 0 : CLI_EXIT_FAIL;
}
