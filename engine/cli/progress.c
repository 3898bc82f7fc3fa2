/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's JSON message streams on the terminal (see progress.h).
 */
#include "engine/cli/progress.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/http.h"

static const char *
field(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The line of one message: "id: status progress". */
static void
print_message(struct cli_progress *p, const char *id, const char *status, const char *bar)
{
    if (id)
        fprintf(p->out, "%s: ", id);
    fprintf(p->out, "%s", status ? status : "");
    if (bar && *bar && p->tty)
        fprintf(p->out, " %s", bar);
}

/* On a terminal each id keeps its line: go up to it, rewrite it, and come back down. */
static void
show_tty(struct cli_progress *p, const char *id, const char *status, const char *bar)
{
    if (!id) {
        print_message(p, NULL, status, bar);
        fprintf(p->out, "\n");
        /* Lines above this one are no longer the ids' lines. */
        for (size_t i = 0; i < p->n_ids; i++)
            free(p->ids[i]);
        p->n_ids = 0;
        return;
    }
    size_t i;
    for (i = 0; i < p->n_ids && strcmp(p->ids[i], id) != 0; i++)
        ;
    if (i == p->n_ids) {
        p->ids = xrealloc(p->ids, (p->n_ids + 1) * sizeof(*p->ids));
        p->ids[p->n_ids++] = xstrdup(id);
        print_message(p, id, status, bar);
        fprintf(p->out, "\n");
        return;
    }
    size_t up = p->n_ids - i;
    fprintf(p->out, "\033[%zuA\r\033[2K", up);
    print_message(p, id, status, bar);
    fprintf(p->out, "\r\033[%zuB", up);
}

static void
show_plain(struct cli_progress *p, const char *id, const char *status, bool is_progress)
{
    /* A progress update adds nothing to a log: only the changes of status are printed. */
    cleanup_free char *key = xasprintf("%s\x1f%s", id ? id : "", status ? status : "");
    if (is_progress && p->last_status && strcmp(p->last_status, key) == 0)
        return;
    free(p->last_status);
    p->last_status = steal_ptr(&key);
    print_message(p, id, status, NULL);
    fprintf(p->out, "\n");
}

static int
on_line(void *opaque, char *line, struct berth_err *err)
{
    struct cli_progress *p = opaque;
    cleanup_json struct json_object *m = berth_json_parse(line, strlen(line), err);
    if (!m)
        return berth_err_wrap(err, "a progress message from the daemon");
    const char *e = field(m, "error");
    if (e)
        return berth_err_fail(err, EIO, "%s", e);
    if (p->quiet)
        return 0;
    const char *stream = field(m, "stream");
    if (stream) {
        fputs(stream, p->out);
        fflush(p->out);
        return 0;
    }
    const char *status = field(m, "status");
    if (!status)
        return 0;
    const char *id = field(m, "id");
    const char *bar = field(m, "progress");
    struct json_object *detail = NULL;
    bool is_progress = (bar && *bar) || (json_object_object_get_ex(m, "progressDetail", &detail) &&
                                         json_object_object_length(detail) > 0);
    if (p->tty)
        show_tty(p, id, status, bar);
    else
        show_plain(p, id, status, is_progress);
    fflush(p->out);
    return 0;
}

int
cli_progress_run(const struct cli_global *g, struct cli_request *req, FILE *out, bool quiet,
                 struct berth_err *err)
{
    struct cli_progress p = {.out = out, .tty = isatty(fileno(out)), .quiet = quiet};
    struct cli_lines lines = {.on_line = on_line, .opaque = &p};
    req->on_data = cli_lines_on_data;
    req->opaque = &lines;
    struct cli_response resp;
    int rc = cli_http_do(g, req, &resp, err);
    cli_response_free(&resp);
    if (rc == 0)
        rc = cli_lines_finish(&lines, err);
    else
        free(lines.buf);
    for (size_t i = 0; i < p.n_ids; i++)
        free(p.ids[i]);
    free(p.ids);
    free(p.last_status);
    return rc;
}
