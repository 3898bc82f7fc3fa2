/* SPDX-License-Identifier: Apache-2.0
 *
 * The supervisor client of berthd (client.h).
 */
#include "engine/supervisor/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "engine/daemon.h"

/* Unary calls answer quickly or not at all; an import of a large tarball is the slowest. */
#define CALL_TIMEOUT_MS (10 * 60 * 1000)

struct eng_sup {
    struct berth_rpc_client *client;
    char *address;
    pthread_mutex_t lock; /* guards open and stopping */
    struct berth_rpc_stream **open;
    size_t n_open;
    bool stopping;
};

static const char *const metadata[] = {"berth-namespace", ENG_NAMESPACE, NULL};

struct eng_sup *
eng_sup_new(const char *address, struct berth_err *err)
{
    struct berth_rpc_client *c = berth_rpc_client_new(address, err);
    if (!c) {
        berth_err_wrap(err, "supervisor address `%s`", address);
        return NULL;
    }
    struct eng_sup *s = xzalloc(sizeof(*s));
    s->client = c;
    s->address = xstrdup(address);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void
eng_sup_free(struct eng_sup *s)
{
    if (!s)
        return;
    berth_rpc_client_free(s->client);
    pthread_mutex_destroy(&s->lock);
    free(s->open);
    free(s->address);
    free(s);
}

int
eng_sup_explain(struct eng_sup *s, struct berth_err *err)
{
    if (err->code == ECONNREFUSED)
        berth_err_wrap(err, "connect to berth-supervisor at `%s`", s->address);
    return -1;
}

int
eng_sup_call(struct eng_sup *s, const ProtobufCServiceDescriptor *svc, const char *method,
             const ProtobufCMessage *req, void *resp, struct berth_err *err)
{
    struct berth_rpc_opts o = {.metadata = metadata, .timeout_ms = CALL_TIMEOUT_MS};
    berth_trace("supervisor call /%s/%s", svc->name, method);
    if (berth_rpc_client_call(s->client, svc, method, req, &o, (ProtobufCMessage **)resp, err) < 0)
        return eng_sup_explain(s, err);
    return 0;
}

struct berth_rpc_stream *
eng_sup_stream(struct eng_sup *s, const ProtobufCServiceDescriptor *svc, const char *method,
               const ProtobufCMessage *req, struct berth_err *err)
{
    struct berth_rpc_opts o = {.metadata = metadata};
    berth_trace("supervisor stream /%s/%s", svc->name, method);
    struct berth_rpc_stream *st = berth_rpc_client_stream(s->client, svc, method, req, &o, err);
    if (!st) {
        eng_sup_explain(s, err);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    s->open = xrealloc(s->open, (s->n_open + 1) * sizeof(*s->open));
    s->open[s->n_open++] = st;
    if (s->stopping)
        berth_rpc_stream_cancel(st);
    pthread_mutex_unlock(&s->lock);
    return st;
}

void
eng_sup_stream_close(struct eng_sup *s, struct berth_rpc_stream *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_open; i++)
        if (s->open[i] == st) {
            s->open[i] = s->open[--s->n_open];
            break;
        }
    pthread_mutex_unlock(&s->lock);
    berth_rpc_stream_cancel(st);
    berth_rpc_stream_free(st);
}

void
eng_sup_cancel_all(struct eng_sup *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    for (size_t i = 0; i < s->n_open; i++)
        berth_rpc_stream_cancel(s->open[i]);
    pthread_mutex_unlock(&s->lock);
}
