/* SPDX-License-Identifier: Apache-2.0
 *
 * GET /events: docker's event stream over engine/events. The response is one JSON object a
 * line, chunked, written as events come. Without `until` it follows until the client goes or
 * the daemon stops; with `until` it ends when the clock passes it (at once, after the replay,
 * when it is in the past). A connection thread waits in the bus with a short timeout, so that
 * it notices a client that hung up even when nothing happens, and eng_events_close (at stop)
 * ends every stream at once.
 */
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/events/filter.h"
#include "engine/events/timestamp.h"

/* How often a quiet stream looks whether its client is still there. */
#define CLIENT_CHECK_MS 500
/* At most this many events go in one chunk. */
#define BATCH 64

struct events_stream {
    struct eng_events_sub *sub;
    int fd; /* the client's socket, to see it hang up; -1 when unknown */
};

/* The client closed its end (docker events ^C, curl killed). */
static bool
client_gone(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static void
append_line(char **buf, size_t *len, char *line, size_t n)
{
    *buf = xrealloc(*buf, *len + n + 2);
    memcpy(*buf + *len, line, n);
    (*buf)[*len + n] = '\n';
    *len += n + 1;
    (*buf)[*len] = '\0';
    free(line);
}

static int
events_next(void *ctx, char **buf, size_t *len)
{
    struct events_stream *s = ctx;
    char *line = NULL;
    size_t n = 0;
    for (;;) {
        int r = eng_events_next(s->sub, CLIENT_CHECK_MS, &line, &n);
        if (r == 0)
            return 0;
        if (r == 1)
            break;
        if (client_gone(s->fd))
            return 0;
    }
    append_line(buf, len, line, n);
    /* Whatever else is there already goes in the same chunk. */
    for (int i = 1; i < BATCH && eng_events_next(s->sub, 0, &line, &n) == 1; i++)
        append_line(buf, len, line, n);
    return 1;
}

static void
events_done(void *ctx)
{
    struct events_stream *s = ctx;
    eng_events_unsubscribe(s->sub);
    free(s);
}

static const struct eng_api_stream_ops events_ops = {events_next, events_done};

static int
query_time(struct eng_api_req *req, const char *key, int64_t now, int64_t *out,
           struct berth_err *err)
{
    *out = 0;
    const char *v = eng_api_query(req, key);
    if (!v || !*v)
        return 0;
    if (eng_events_parse_time(v, now, out, err) < 0)
        return berth_err_wrap(err, "invalid value for `%s`", key);
    return 0;
}

ENG_API_HANDLER(eng_api_events)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    int64_t since = 0, until = 0;
    if (query_time(req, "since", now, &since, err) < 0 ||
        query_time(req, "until", now, &until, err) < 0)
        return -1;
    if (since > 0 && until > 0 && until < since)
        return berth_err_fail(err, EINVAL, "`since` time (%s) cannot be after `until` time (%s)",
                              eng_api_query(req, "since"), eng_api_query(req, "until"));
    struct eng_events_filter *f = NULL;
    if (eng_events_filter_parse(eng_api_query(req, "filters"), &f, err) < 0)
        return -1;
    if (!req->d->events) {
        eng_events_filter_free(f);
        return berth_err_fail(err, ENOTSUP, "events are not available");
    }
    struct events_stream *s = xzalloc(sizeof(*s));
    s->sub = eng_events_subscribe(req->d->events, since, until, f);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    return eng_api_reply_stream(req, 200, "application/json", &events_ops, s);
}
