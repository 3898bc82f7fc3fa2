// SPDX-License-Identifier: Apache-2.0
//
// `ocirun list`: every container under --root, as a table, as JSON, or ids only.

#include "ocirun/ocirun.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "ocirun/state.h"

struct row {
    struct ocirun_state *st;
    enum ocirun_status status;
    char owner[64];
};

static void
owner_of(const struct ocirun_state *st, char *buf, size_t len)
{
    struct stat sb;
    struct passwd *pw;
    if (stat(st->dir, &sb) < 0)
        snprintf(buf, len, "?");
    else if ((pw = getpwuid(sb.st_uid)))
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "#%u", (unsigned)sb.st_uid);
}

static void
print_table(struct row *rows, size_t n)
{
    /* Columns padded like a tab writer: widest cell plus three spaces, minimum 12. */
    const char *head[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
    size_t w[6];
    char pid[16];
    for (int c = 0; c < 6; c++)
        w[c] = strlen(head[c]);
    for (size_t i = 0; i < n; i++) {
        const char *cells[] = {rows[i].st->id,
                               "",
                               ocirun_status_name(rows[i].status),
                               rows[i].st->bundle,
                               rows[i].st->created,
                               rows[i].owner};
        snprintf(pid, sizeof(pid), "%d", rows[i].status == OCIRUN_STOPPED ? 0 : rows[i].st->pid);
        cells[1] = pid;
        for (int c = 0; c < 6; c++)
            if (strlen(cells[c]) > w[c])
                w[c] = strlen(cells[c]);
    }
    for (int c = 0; c < 6; c++)
        w[c] = (w[c] + 3 < 12 ? 12 : w[c] + 3);
    printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2], head[2],
           (int)w[3], head[3], (int)w[4], head[4], head[5]);
    for (size_t i = 0; i < n; i++) {
        snprintf(pid, sizeof(pid), "%d", rows[i].status == OCIRUN_STOPPED ? 0 : rows[i].st->pid);
        printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], rows[i].st->id, (int)w[1], pid, (int)w[2],
               ocirun_status_name(rows[i].status), (int)w[3], rows[i].st->bundle, (int)w[4],
               rows[i].st->created, rows[i].owner);
    }
}

static void
print_json(struct row *rows, size_t n)
{
    if (n == 0) {
        puts("null"); /* runc's shape for no containers */
        return;
    }
    cleanup_json struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = ocirun_state_to_json(rows[i].st, rows[i].status);
        json_object_object_add(o, "owner", json_object_new_string(rows[i].owner));
        json_object_array_add(arr, o);
    }
    puts(json_object_to_json_string_ext(arr, OCIRUN_JSON_PLAIN));
}

int
ocirun_cmd_list(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "table";
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            ocirun_cmd_usage("list", "[command options]",
                             "   --format value, -f value  select one of: table or json "
                             "(default: \"table\")\n"
                             "   --quiet, -q               display only container IDs\n");
            return 0;
        default: return berth_err_fail(err, EINVAL, "invalid option for `list`");
        }
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return berth_err_fail(err, EINVAL, "invalid format `%s` (want table or json)", format);
    if (optind != argc)
        return berth_err_fail(err, EINVAL, "`list` takes no arguments");

    cleanup_strv char **ids = ocirun_state_list(g->root, err);
    if (!ids)
        return -1;
    size_t n = 0;
    for (; ids[n]; n++)
        ;
    cleanup_free struct row *rows = xzalloc((n + 1) * sizeof(*rows));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct berth_err e = BERTH_ERR_INIT;
        /* A container deleted meanwhile, or unreadable, is skipped, not fatal. */
        rows[m].st = ocirun_state_load(g->root, ids[i], &e);
        if (!rows[m].st) {
            berth_err_clear(&e);
            continue;
        }
        rows[m].status = ocirun_state_status(rows[m].st);
        owner_of(rows[m].st, rows[m].owner, sizeof(rows[m].owner));
        m++;
    }
    if (quiet) {
        for (size_t i = 0; i < m; i++)
            puts(rows[i].st->id);
    } else if (strcmp(format, "json") == 0) {
        print_json(rows, m);
    } else {
        print_table(rows, m);
    }
    for (size_t i = 0; i < m; i++)
        ocirun_state_free(rows[i].st);
    return 0;
}
