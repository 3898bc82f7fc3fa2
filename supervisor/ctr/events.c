/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr events`: Events.Subscribe, one line an event (`TIME NAMESPACE TOPIC EVENT`,
 * the event as one line of JSON), until interrupted. A thread waits for SIGINT or SIGTERM on
 * the signal pipe and cancels the stream, which ends the main loop; that is a normal end
 * (exit 0).
 */
#include "supervisor/ctr/ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "berth/supervisor/v1/events.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/rpc.h"
#include "supervisor/ctr/client.h"
#include "supervisor/ctr/io.h"
#include "supervisor/ctr/output.h"
#include "supervisor/ctr/pbjson.h"

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

struct canceller {
    struct berth_rpc_stream *stream;
    int sig_fd;
    int quit_fd; /* readable when the main loop is done and the thread should go */
    atomic_bool interrupted;
};

static void *
cancel_thread(void *arg)
{
    struct canceller *c = arg;
    struct pollfd p[2] = {{.fd = c->sig_fd, .events = POLLIN},
                          {.fd = c->quit_fd, .events = POLLIN}};
    while (poll(p, 2, -1) < 0 && errno == EINTR)
        ;
    if (p[0].revents && ctr_signals_next(c->sig_fd) > 0) {
        atomic_store(&c->interrupted, true);
        berth_rpc_stream_cancel(c->stream);
    }
    return NULL;
}

static void
print_event(const Berth__Supervisor__V1__Envelope *e)
{
    cleanup_free char *time = ctr_time_format(e->timestamp);
    cleanup_json struct json_object *ev =
        ctr_pbjson_event(e->type, e->event.data, e->event.len, CTR_PBJSON_OMIT_EMPTY);
    if (!ev)
        ev = ctr_pbjson(&e->base, CTR_PBJSON_OMIT_EMPTY); /* an unknown type: the envelope */
    printf("%s %s %s %s\n", time, e->namespace_, e->topic,
           json_object_to_json_string_ext(ev,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
}

static int
follow(struct berth_rpc_stream *s, struct berth_err *err)
{
    for (;;) {
        cleanup_pb Berth__Supervisor__V1__Envelope *e = NULL;
        int r = berth_rpc_stream_next(s, (ProtobufCMessage **)&e, err);
        if (r <= 0)
            return r;
        print_event(e);
    }
}

int
ctr_cmd_events(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__SubscribeRequest req = BERTH__SUPERVISOR__V1__SUBSCRIBE_REQUEST__INIT;
    int r = ctr_parse_no_options(
        "events", "[FILTER...]",
        "Print the supervisor's events as they happen, one a line:\n"
        "TIME NAMESPACE TOPIC EVENT, until interrupted (exit 0). TIME is RFC 3339 in UTC\n"
        "with nanoseconds, EVENT the event as one line of JSON.\n"
        "A filter is a comma-separated list of conditions (field==value, field!=value,\n"
        "field~=regexp, or field alone) over namespace, topic, type and event.FIELD; an\n"
        "event matching any filter is printed.\n",
        argc, argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    req.filters = argv + optind;
    req.n_filters = (size_t)(argc - optind);

    int quit[2];
    if (pipe2(quit, O_CLOEXEC) < 0)
        return berth_err_set(err, errno, "pipe");
    struct canceller c = {.sig_fd = -1, .quit_fd = quit[0]};
    atomic_init(&c.interrupted, false);
    c.sig_fd = ctr_signals_open(stop_signals, ARRAY_SIZE(stop_signals), err);
    if (c.sig_fd < 0) {
        close(quit[0]);
        close(quit[1]);
        return -1;
    }
    int rc = -1;
    pthread_t thread;
    c.stream =
        ctr_stream(g, &berth__supervisor__v1__events__descriptor, "Subscribe", &req.base, err);
    if (c.stream) {
        int e = pthread_create(&thread, NULL, cancel_thread, &c);
        if (e != 0) {
            berth_err_set(err, e, "start a thread");
        } else {
            rc = follow(c.stream, err);
            ssize_t w = write(quit[1], "x", 1);
            (void)w;
            pthread_join(thread, NULL);
            if (rc < 0 && atomic_load(&c.interrupted)) {
                berth_err_clear(err);
                rc = 0;
            } else if (rc < 0 && err->code == ECONNREFUSED) {
                berth_err_wrap(err, "connect to the supervisor at `%s`", g->address);
            }
        }
        berth_rpc_stream_free(c.stream);
    }
    ctr_signals_close(c.sig_fd, stop_signals, ARRAY_SIZE(stop_signals));
    close(quit[0]);
    close(quit[1]);
    return rc < 0 ? -1 : 0;
}
