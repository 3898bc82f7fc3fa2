/* SPDX-License-Identifier: Apache-2.0
 *
 * Supervisor calls for berth-ctr (client.h): the lazily opened channel, the namespace header
 * and the deadline, and a debug line per call.
 */
#include "supervisor/ctr/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/supervisor/v1/namespaces.pb-c.h"
#include "berth/supervisor/v1/version.pb-c.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "supervisor/ctr/ctr.h"

static struct berth_rpc_client *
client(struct ctr_global *g, struct berth_err *err)
{
    if (!g->client) {
        g->client = berth_rpc_client_new(g->address, err);
        if (!g->client)
            berth_err_wrap(err, "supervisor address `%s`", g->address);
    }
    return g->client;
}

/* Namespaces and Version act on no namespace; every other service acts in --namespace. */
static bool
is_namespaced(const ProtobufCServiceDescriptor *svc)
{
    return svc != &berth__supervisor__v1__namespaces__descriptor &&
           svc != &berth__supervisor__v1__version__descriptor;
}

static void
fill_opts(struct ctr_global *g, const ProtobufCServiceDescriptor *svc, bool timed, const char **md,
          struct berth_rpc_opts *o)
{
    md[0] = NULL;
    if (is_namespaced(svc)) {
        md[0] = "berth-namespace";
        md[1] = g->ns;
        md[2] = NULL;
    }
    o->metadata = md;
    o->timeout_ms = timed ? g->timeout_ms : 0;
    o->wait_for_ready = false;
}

/* Nothing listens (UNAVAILABLE): say where we looked. */
static int
unreachable(struct ctr_global *g, struct berth_err *err)
{
    if (err->code == ECONNREFUSED)
        berth_err_wrap(err, "connect to the supervisor at `%s`", g->address);
    return -1;
}

static int
call(struct ctr_global *g, const ProtobufCServiceDescriptor *svc, const char *method,
     const ProtobufCMessage *req, bool timed, void *resp, struct berth_err *err)
{
    const char *md[3];
    struct berth_rpc_opts o;
    struct berth_rpc_client *c = client(g, err);
    if (!c)
        return -1;
    fill_opts(g, svc, timed, md, &o);
    berth_debug("call /%s/%s ns=%s", svc->name, method, is_namespaced(svc) ? g->ns : "-");
    if (berth_rpc_client_call(c, svc, method, req, &o, (ProtobufCMessage **)resp, err) < 0)
        return unreachable(g, err);
    return 0;
}

int
ctr_call(struct ctr_global *g, const ProtobufCServiceDescriptor *svc, const char *method,
         const ProtobufCMessage *req, void *resp, struct berth_err *err)
{
    return call(g, svc, method, req, true, resp, err);
}

int
ctr_call_untimed(struct ctr_global *g, const ProtobufCServiceDescriptor *svc, const char *method,
                 const ProtobufCMessage *req, void *resp, struct berth_err *err)
{
    return call(g, svc, method, req, false, resp, err);
}

struct berth_rpc_stream *
ctr_stream(struct ctr_global *g, const ProtobufCServiceDescriptor *svc, const char *method,
           const ProtobufCMessage *req, struct berth_err *err)
{
    const char *md[3];
    struct berth_rpc_opts o;
    struct berth_rpc_client *c = client(g, err);
    if (!c)
        return NULL;
    fill_opts(g, svc, false, md, &o);
    berth_debug("stream /%s/%s ns=%s", svc->name, method, is_namespaced(svc) ? g->ns : "-");
    return berth_rpc_client_stream(c, svc, method, req, &o, err);
}

void
ctr_client_close(struct ctr_global *g)
{
    if (g->client)
        berth_rpc_client_free(g->client);
    g->client = NULL;
}
