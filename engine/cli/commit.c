/* SPDX-License-Identifier: Apache-2.0
 *
 * berth commit: a new image from a container's changes (POST /commit), its ID printed as
 * docker prints it.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"

int cli_cmd_commit(struct cli_global *g, int argc, char **argv, struct berth_err *err);

/* Append "&key=value" (value escaped) to *q. */
static void
add_query(char **q, const char *key, const char *value)
{
    cleanup_free char *e = cli_escape(value);
    char *n = xasprintf("%s&%s=%s", *q, key, e);
    free(*q);
    *q = n;
}

int
cli_cmd_commit(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *author = NULL, *message = NULL;
    bool pause = true;
    struct cli_strv changes = {0};
    const struct cli_flag flags[] = {
        {"author", 'a', CLI_FLAG_STRING, &author, NULL},
        {"message", 'm', CLI_FLAG_STRING, &message, NULL},
        {"change", 'c', CLI_FLAG_LIST, &changes, NULL},
        {"pause", 'p', CLI_FLAG_BOOL, &pause, NULL},
    };
    struct cli_args args;
    int rc = cli_flags_parse("commit", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err);
    if (rc < 0) {
        cli_strv_free(&changes);
        return CLI_EXIT_USAGE;
    }
    if (args.help) {
        cli_strv_free(&changes);
        printf("Usage:  berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
               "Create a new image from a container's changes\n\n"
               "Options:\n"
               "  -a, --author string    Author (e.g., \"John Hannibal Smith "
               "<hannibal@a-team.com>\")\n"
               "  -c, --change list      Apply Dockerfile instruction to the created image\n"
               "  -m, --message string   Commit message\n"
               "  -p, --pause            Pause container during commit (default true)\n");
        return 0;
    }
    if (cli_args_count("commit", &args, 1, 2, err) < 0) {
        cli_strv_free(&changes);
        return CLI_EXIT_USAGE;
    }

    char *q = xstrdup("");
    add_query(&q, "container", args.v[0]);
    if (args.n > 1) {
        /* REPOSITORY[:TAG]: a colon after the last slash starts the tag (host:port/x is a
         * repository). */
        cleanup_free char *ref = xstrdup(args.v[1]);
        char *slash = strrchr(ref, '/');
        char *colon = strrchr(slash ? slash : ref, ':');
        if (colon) {
            *colon = '\0';
            add_query(&q, "tag", colon + 1);
        }
        add_query(&q, "repo", ref);
    }
    if (author)
        add_query(&q, "author", author);
    if (message)
        add_query(&q, "comment", message);
    add_query(&q, "pause", pause ? "1" : "0");
    for (size_t i = 0; i < changes.n; i++)
        add_query(&q, "changes", changes.items[i]);
    cli_strv_free(&changes);

    cleanup_free char *path = xasprintf("/commit?%s", q + 1);
    free(q);
    cleanup_json struct json_object *r = NULL;
    if (cli_api(g, "POST", path, NULL, &r, err) < 0)
        return CLI_EXIT_FAIL;
    const char *id = NULL;
    cleanup_err struct berth_err jerr = BERTH_ERR_INIT;
    if (!r || berth_json_get_string(r, "Id", &id, &jerr) <= 0 || !id) {
        berth_err_fail(err, EIO, "the daemon's answer has no image ID");
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", id);
    return 0;
}
