/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr content`: ls, get, rm and active over the Content service. Content is shared by
 * every namespace, so --namespace changes nothing here.
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/rpc.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/output.h"

#define SVC (&berth__supervisor__v1__content__descriptor)

/* get reads a blob in windows this large, so the supervisor never queues more for us. */
#define GET_WINDOW (16 * 1024 * 1024)

typedef Berth__Supervisor__V1__Info info_t;

/* ---- Human-readable sizes and ages -------------------------------------------------------- */

/* 1234567 as "1.235MB": decimal units, four significant digits. A heap string. */
static char *
human_size(int64_t bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    size_t u = 0;

    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000.0;
        u++;
    }
    return xasprintf("%.4g%s", v, units[u]);
}

/* How long ago unix_ns was, in words: "3 minutes", "About an hour". A heap string. */
static char *
human_age(int64_t unix_ns)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t s = ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec - unix_ns) / 1000000000;
    int64_t minutes = (s + 30) / 60, hours = (s + 1800) / 3600;

    if (s < 1)
        return xstrdup("Less than a second");
    if (s < 60)
        return s == 1 ? xstrdup("1 second") : xasprintf("%lld seconds", (long long)s);
    if (minutes < 60)
        return minutes == 1 ? xstrdup("About a minute")
                            : xasprintf("%lld minutes", (long long)minutes);
    if (hours == 1)
        return xstrdup("About an hour");
    if (hours < 48)
        return xasprintf("%lld hours", (long long)hours);
    if (hours < 24 * 7 * 2)
        return xasprintf("%lld days", (long long)(hours / 24));
    if (hours < 24 * 30 * 2)
        return xasprintf("%lld weeks", (long long)(hours / 24 / 7));
    if (hours < 24 * 365 * 2)
        return xasprintf("%lld months", (long long)(hours / 24 / 30));
    return xasprintf("%lld years", (long long)(hours / 24 / 365));
}

/* A stream that failed because nothing listens says where it looked. */
static int
stream_error(struct ctr_global *g, struct berth_err *err)
{
    if (err->code == ECONNREFUSED)
        return berth_err_wrap(err, "connect to the supervisor at `%s`", g->address);
    return -1;
}

/* ---- ls ----------------------------------------------------------------------------------- */

static int
cmd_ls(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Berth__Supervisor__V1__ListContentRequest req =
        BERTH__SUPERVISOR__V1__LIST_CONTENT_REQUEST__INIT;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'h':
            ctr_usage("content ls", "[options] [FILTER...]",
                      "List the blobs of the content store: DIGEST SIZE AGE LABELS. A filter is\n"
                      "a comma-separated list of conditions (field==value, field!=value,\n"
                      "field~=regexp, or field alone) over digest, size and labels.KEY; a blob\n"
                      "matching any filter is listed.\n",
                      "   --quiet, -q    print only the digests\n");
            return 0;
        default: return ctr_bad_option("content ls", err);
        }
    }
    req.n_filters = (size_t)(argc - optind);
    req.filters = argv + optind;

    struct berth_rpc_stream *s = ctr_stream(g, SVC, "List", &req.base, err);
    if (!s)
        return -1;
    cleanup_table struct ctr_table *t = ctr_table_new(4, "DIGEST", "SIZE", "AGE", "LABELS");
    int r;
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__ListContentResponse *batch = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&batch, err);
        if (r <= 0)
            break;
        for (size_t i = 0; i < batch->n_info; i++) {
            const info_t *info = batch->info[i];
            if (quiet) {
                puts(info->digest);
                continue;
            }
            cleanup_free char *size = human_size(info->size);
            cleanup_free char *age = human_age(info->created_at);
            cleanup_free char *labels =
                ctr_map_join((ProtobufCMessage *const *)info->labels, info->n_labels);
            ctr_table_add(t, info->digest, size, age, *labels ? labels : "-");
        }
    }
    berth_rpc_stream_free(s);
    if (r < 0)
        return stream_error(g, err);
    if (!quiet)
        ctr_table_print(t, stdout);
    return 0;
}

/* ---- get ---------------------------------------------------------------------------------- */

static int
write_all(const uint8_t *p, size_t len, struct berth_err *err)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "write to stdout");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copy [offset, offset + size) of digest to stdout; *got is how many bytes came. */
static int
get_window(struct ctr_global *g, char *digest, int64_t offset, int64_t size, int64_t *got,
           struct berth_err *err)
{
    Berth__Supervisor__V1__ReadContentRequest req =
        BERTH__SUPERVISOR__V1__READ_CONTENT_REQUEST__INIT;
    req.digest = digest;
    req.offset = offset;
    req.size = size;
    struct berth_rpc_stream *s = ctr_stream(g, SVC, "Read", &req.base, err);
    if (!s)
        return -1;
    int r;
    *got = 0;
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__ReadContentResponse *chunk = NULL;
        r = berth_rpc_stream_next(s, (ProtobufCMessage **)&chunk, err);
        if (r <= 0)
            break;
        if (chunk->offset != offset + *got) {
            r = berth_err_fail(err, EPROTO, "read `%s`: got offset %lld, expected %lld", digest,
                               (long long)chunk->offset, (long long)(offset + *got));
            break;
        }
        if ((r = write_all(chunk->data.data, chunk->data.len, err)) < 0)
            break;
        *got += (int64_t)chunk->data.len;
    }
    berth_rpc_stream_free(s);
    return r < 0 ? stream_error(g, err) : 0;
}

static int
cmd_get(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("content get", "DIGEST", "Write the bytes of a blob to stdout.\n",
                                 argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    char *digest = (char *)ctr_one_arg("content get", "digest", argc, argv, err);
    if (!digest)
        return -1;

    Berth__Supervisor__V1__InfoRequest req = BERTH__SUPERVISOR__V1__INFO_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__InfoResponse *resp = NULL;
    req.digest = digest;
    if (ctr_call(g, SVC, "Info", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->info)
        return berth_err_fail(err, EPROTO, "the supervisor returned no info");
    for (int64_t at = 0; at < resp->info->size;) {
        int64_t got = 0;
        if (get_window(g, digest, at, GET_WINDOW, &got, err) < 0)
            return -1;
        if (got == 0)
            return berth_err_fail(err, EIO, "`%s` ended at %lld of %lld bytes", digest,
                                  (long long)at, (long long)resp->info->size);
        at += got;
    }
    return 0;
}

/* ---- rm ----------------------------------------------------------------------------------- */

static int
cmd_rm(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    int r = ctr_parse_no_options("content rm", "DIGEST...",
                                 "Delete blobs from the content store.\n", argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (optind >= argc)
        return berth_err_fail(err, EINVAL, "`content rm` requires at least one digest");
    /* Go on after a failure: each is printed, and the exit status says one happened. */
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        Berth__Supervisor__V1__DeleteContentRequest req =
            BERTH__SUPERVISOR__V1__DELETE_CONTENT_REQUEST__INIT;
        cleanup_pb Berth__Supervisor__V1__DeleteContentResponse *resp = NULL;
        req.digest = argv[i];
        if (ctr_call(g, SVC, "Delete", &req.base, &resp, err) < 0) {
            ctr_report(err);
            failed = true;
            continue;
        }
        puts(argv[i]);
    }
    return failed ? 1 : 0;
}

/* ---- active ------------------------------------------------------------------------------- */

static int
cmd_active(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__ListStatusesRequest req =
        BERTH__SUPERVISOR__V1__LIST_STATUSES_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__ListStatusesResponse *resp = NULL;
    int r = ctr_parse_no_options(
        "content active", "[FILTER...]",
        "List the ingests in progress or left behind: REF SIZE (written / expected) AGE.\n"
        "Filters are over ref, offset, total and expected.\n",
        argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    req.n_filters = (size_t)(argc - optind);
    req.filters = argv + optind;
    if (ctr_call(g, SVC, "ListStatuses", &req.base, &resp, err) < 0)
        return -1;
    cleanup_table struct ctr_table *t = ctr_table_new(3, "REF", "SIZE", "AGE");
    for (size_t i = 0; i < resp->n_statuses; i++) {
        const Berth__Supervisor__V1__IngestStatus *s = resp->statuses[i];
        cleanup_free char *offset = human_size(s->offset);
        cleanup_free char *total = s->total > 0 ? human_size(s->total) : xstrdup("?");
        cleanup_free char *size = xasprintf("%s/%s", offset, total);
        cleanup_free char *age = human_age(s->started_at);
        ctr_table_add(t, s->ref, size, age);
    }
    ctr_table_print(t, stdout);
    return 0;
}

static const struct ctr_cmd commands[] = {
    {"ls", "list", cmd_ls, "list blobs"},
    {"get", NULL, cmd_get, "write a blob to stdout"},
    {"rm", "remove delete del", cmd_rm, "delete blobs"},
    {"active", NULL, cmd_active, "list ingests in progress"},
};

int
ctr_cmd_content(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    return ctr_dispatch("content", "Manage the content store (shared by every namespace).",
                        commands, ARRAY_SIZE(commands), g, argc, argv, err);
}
