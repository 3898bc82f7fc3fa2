/* SPDX-License-Identifier: Apache-2.0
 *
 * The client half of common/rpc.h on the gRPC C core, and the functions both halves share
 * (rpc-internal.h). A client is one channel; each call gets a completion queue of its own,
 * of the pluck kind, and waits on it in the calling thread. Sharing nothing per call but the
 * channel (which core makes thread-safe) is what lets threads share a client.
 *
 * A unary call is one batch of six ops. A server stream is one batch that sends the request
 * and receives the initial metadata, a RECV_STATUS batch started up front (so that core
 * reports the end, a cancel or a deadline whenever it comes) and one RECV_MESSAGE batch per
 * berth_rpc_stream_next.
 *
 * A non-OK status becomes a berth error: berth_err_from_grpc(status) as the code and the
 * server's details (berth_err_string of its error) as the message, printed without strerror.
 */
#include "common/rpc.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc-internal.h"

/* ---------------------------------------------------------------- shared with rpc-server.c */

int
berth_rpc_address_path(const char *address, char **path, struct berth_err *err)
{
    const char *p = address;

    if (strncmp(p, "unix://", 7) == 0)
        p += 7;
    else if (strncmp(p, "unix:", 5) == 0)
        p += 5;
    if (p[0] != '/')
        return berth_err_fail(err, EINVAL,
                              "rpc address `%s`: want unix:///path, unix:/path or an absolute path",
                              address);
    if (strlen(p) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
        return berth_err_fail(err, ENAMETOOLONG,
                              "rpc address `%s`: a socket path is at most %zu bytes", address,
                              sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
    *path = xstrdup(p);
    return 0;
}

/* Core's log lines go through berth's logger at debug level: what core reports as an error
 * (a failed bind, a refused connection) reaches the caller as a status or a berth error, and
 * printing it a second time on stderr would only be noise. */
static void
core_log(gpr_log_func_args *args)
{
    enum berth_log_level level =
        args->severity == GPR_LOG_SEVERITY_ERROR ? BERTH_LOG_DEBUG : BERTH_LOG_TRACE;

    berth_log(level, "grpc: %s (%s:%d)", args->message, args->file, args->line);
}

static void
core_log_init(void)
{
    gpr_set_log_function(core_log);
}

void
berth_rpc_core_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    grpc_init();
    pthread_once(&once, core_log_init);
}

void
berth_rpc_channel_args(grpc_channel_args *args, grpc_arg a[2])
{
    a[0] = (grpc_arg){
        .type = GRPC_ARG_INTEGER,
        .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
        .value.integer = BERTH_RPC_MAX_MESSAGE,
    };
    a[1] = (grpc_arg){
        .type = GRPC_ARG_INTEGER,
        .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
        .value.integer = BERTH_RPC_MAX_MESSAGE,
    };
    args->num_args = 2;
    args->args = a;
}

const ProtobufCMethodDescriptor *
berth_rpc_find_method(const ProtobufCServiceDescriptor *svc, const char *name)
{
    for (unsigned i = 0; i < svc->n_methods; i++)
        if (strcmp(svc->methods[i].name, name) == 0)
            return &svc->methods[i];
    return NULL;
}

grpc_byte_buffer *
berth_rpc_pack(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(len);

    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice); /* the buffer holds its own ref */
    return bb;
}

ProtobufCMessage *
berth_rpc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader reader;

    /* readall flattens the slices and undoes any compression the peer applied. */
    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return NULL;
    grpc_slice slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(slice),
                                                      GRPC_SLICE_START_PTR(slice));
    grpc_slice_unref(slice);
    return msg;
}

const char *
berth_rpc_status_name(grpc_status_code status)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };

    if ((unsigned)status < ARRAY_SIZE(names))
        return names[status];
    return "UNKNOWN";
}

/* ---------------------------------------------------------------- client */

struct berth_rpc_client {
    char *path;
    grpc_channel *channel;
};

/* Everything one call holds from its start to its end, unary or stream. */
struct exchange {
    char *path; /* "/pkg.Service/Method" */
    const ProtobufCMessageDescriptor *output;
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata *md; /* request metadata, slices owned here */
    size_t n_md;
    uint32_t md_flags;
    grpc_byte_buffer *send;
    grpc_byte_buffer *recv;
    grpc_metadata_array initial, trailing;
    grpc_status_code status;
    grpc_slice details;
};

struct berth_rpc_stream {
    struct exchange x;
    int head_tag, msg_tag, status_tag; /* their addresses are the pluck tags */
    bool head_done;                    /* the send batch was plucked */
    bool status_done;                  /* the status batch was plucked */
    atomic_bool cancelled;
};

struct berth_rpc_client *
berth_rpc_client_new(const char *address, struct berth_err *err)
{
    cleanup_free char *path = NULL;
    grpc_channel_args args;
    grpc_arg a[4];

    if (berth_rpc_address_path(address, &path, err) < 0)
        return NULL;
    berth_rpc_core_init();

    /* Core backs off up to 2 minutes between connection attempts; a local daemon that
     * restarts is back in well under a second, and a fail-fast call made meanwhile would be
     * refused for the whole back-off. Retrying a unix socket every second costs nothing. */
    berth_rpc_channel_args(&args, a);
    a[2] = (grpc_arg){
        .type = GRPC_ARG_INTEGER,
        .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
        .value.integer = 100,
    };
    a[3] = (grpc_arg){
        .type = GRPC_ARG_INTEGER,
        .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
        .value.integer = 1000,
    };
    args.num_args = 4;

    cleanup_free char *target = xasprintf("unix:%s", path);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    struct berth_rpc_client *c = xzalloc(sizeof(*c));
    c->channel = grpc_channel_create(target, creds, &args);
    grpc_channel_credentials_release(creds);
    c->path = steal_ptr(&path);
    return c;
}

void
berth_rpc_client_free(struct berth_rpc_client *c)
{
    if (c == NULL)
        return;
    grpc_channel_destroy(c->channel);
    free(c->path);
    free(c);
}

/* Copy opts' metadata pairs into x, refusing what core would reject later with a less
 * helpful status. */
static int
set_metadata(struct exchange *x, const struct berth_rpc_opts *opts, struct berth_err *err)
{
    const char *const *kv = opts ? opts->metadata : NULL;
    size_t n = 0;

    while (kv && kv[2 * n])
        n++;
    x->md = xzalloc(n * sizeof(*x->md));
    for (size_t i = 0; i < n; i++) {
        const char *key = kv[2 * i], *value = kv[2 * i + 1];
        if (value == NULL)
            return berth_err_fail(err, EINVAL, "rpc %s: metadata `%s` has no value", x->path, key);
        x->md[i].key = grpc_slice_from_copied_string(key);
        x->md[i].value = grpc_slice_from_copied_string(value);
        x->n_md = i + 1;
        if (!grpc_header_key_is_legal(x->md[i].key) || grpc_is_binary_header(x->md[i].key))
            return berth_err_fail(err, EINVAL, "rpc %s: metadata key `%s` is not allowed", x->path,
                                  key);
        if (!grpc_header_nonbin_value_is_legal(x->md[i].value))
            return berth_err_fail(err, EINVAL, "rpc %s: metadata `%s` has a value not allowed",
                                  x->path, key);
    }
    /* Explicit either way, so that no service config can turn fail-fast into waiting. */
    x->md_flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
    if (opts && opts->wait_for_ready)
        x->md_flags |= GRPC_INITIAL_METADATA_WAIT_FOR_READY;
    return 0;
}

/* Release everything x holds; x may be half set up. */
static void
exchange_close(struct exchange *x)
{
    if (x->call)
        grpc_call_unref(x->call);
    if (x->cq) {
        grpc_completion_queue_shutdown(x->cq);
        while (grpc_completion_queue_pluck(x->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
                   .type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(x->cq);
    }
    for (size_t i = 0; i < x->n_md; i++) {
        grpc_slice_unref(x->md[i].key);
        grpc_slice_unref(x->md[i].value);
    }
    free(x->md);
    if (x->send)
        grpc_byte_buffer_destroy(x->send);
    if (x->recv)
        grpc_byte_buffer_destroy(x->recv);
    grpc_metadata_array_destroy(&x->initial);
    grpc_metadata_array_destroy(&x->trailing);
    grpc_slice_unref(x->details);
    free(x->path);
}

/* Set x up for a call of method on svc: path, metadata, packed request, queue and call. */
static int
exchange_open(struct exchange *x, struct berth_rpc_client *c, const ProtobufCServiceDescriptor *svc,
              const char *method, const ProtobufCMessage *req, const struct berth_rpc_opts *opts,
              struct berth_err *err)
{
    const ProtobufCMethodDescriptor *m = berth_rpc_find_method(svc, method);
    gpr_timespec deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC);

    memset(x, 0, sizeof(*x));
    grpc_metadata_array_init(&x->initial);
    grpc_metadata_array_init(&x->trailing);
    x->details = grpc_empty_slice();
    if (m == NULL)
        return berth_err_fail(err, EINVAL, "rpc: service %s has no method `%s`", svc->name, method);
    x->path = xasprintf("/%s/%s", svc->name, m->name);
    x->output = m->output;
    if (req->descriptor != m->input)
        return berth_err_fail(err, EINVAL, "rpc %s: the request is a %s, not a %s", x->path,
                              req->descriptor->name, m->input->name);
    if (set_metadata(x, opts, err) < 0)
        return -1;
    x->send = berth_rpc_pack(req);

    if (opts && opts->timeout_ms > 0)
        deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                gpr_time_from_millis(opts->timeout_ms, GPR_TIMESPAN));
    x->cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice slice = grpc_slice_from_copied_string(x->path);
    x->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, x->cq, slice,
                                       NULL, deadline, NULL);
    grpc_slice_unref(slice); /* needed only through create_call */
    if (x->call == NULL)
        return berth_err_fail(err, EIO, "rpc %s: cannot create the call", x->path);
    return 0;
}

/* The ops that send the request: initial metadata, the message, the half-close. */
static size_t
send_ops(struct exchange *x, grpc_op *ops)
{
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].flags = x->md_flags;
    ops[0].data.send_initial_metadata.count = x->n_md;
    ops[0].data.send_initial_metadata.metadata = x->md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = x->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &x->initial;
    return 4;
}

static void
status_op(struct exchange *x, grpc_op *op)
{
    op->op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op->data.recv_status_on_client.trailing_metadata = &x->trailing;
    op->data.recv_status_on_client.status = &x->status;
    op->data.recv_status_on_client.status_details = &x->details;
}

static int
start_batch(struct exchange *x, grpc_op *ops, size_t n, void *tag, struct berth_err *err)
{
    grpc_call_error rc = grpc_call_start_batch(x->call, ops, n, tag, NULL);

    if (rc != GRPC_CALL_OK)
        return berth_err_fail(err, EIO, "rpc %s: start a batch: error %d", x->path, (int)rc);
    return 0;
}

static void
pluck(struct exchange *x, void *tag)
{
    grpc_completion_queue_pluck(x->cq, tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
}

/* The status in x as a berth error. */
static int
status_error(struct exchange *x, struct berth_err *err)
{
    int code = berth_err_from_grpc(x->status);
    size_t len = GRPC_SLICE_LENGTH(x->details);

    if (len == 0)
        return berth_err_fail(err, code, "rpc %s: %s", x->path, berth_rpc_status_name(x->status));
    return berth_err_fail(err, code, "%.*s", (int)len,
                          (const char *)GRPC_SLICE_START_PTR(x->details));
}

/* The message received in x, unpacked. */
static int
take_reply(struct exchange *x, ProtobufCMessage **msg, struct berth_err *err)
{
    if (x->recv == NULL)
        return berth_err_fail(err, EPROTO, "rpc %s: no reply message", x->path);
    *msg = berth_rpc_unpack(x->output, x->recv);
    grpc_byte_buffer_destroy(x->recv);
    x->recv = NULL;
    if (*msg == NULL)
        return berth_err_fail(err, EPROTO, "rpc %s: cannot decode the reply as %s", x->path,
                              x->output->name);
    return 0;
}

int
berth_rpc_client_call(struct berth_rpc_client *c, const ProtobufCServiceDescriptor *svc,
                      const char *method, const ProtobufCMessage *req,
                      const struct berth_rpc_opts *opts, ProtobufCMessage **resp,
                      struct berth_err *err)
{
    struct exchange x;
    grpc_op ops[6];
    int r = -1;

    *resp = NULL;
    if (exchange_open(&x, c, svc, method, req, opts, err) < 0)
        goto out;
    memset(ops, 0, sizeof(ops));
    size_t n = send_ops(&x, ops);
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n++].data.recv_message.recv_message = &x.recv;
    status_op(&x, &ops[n++]);
    if (start_batch(&x, ops, n, &x, err) < 0)
        goto out;
    pluck(&x, &x); /* the status always comes: OK, an error, a deadline, UNAVAILABLE */

    if (x.status != GRPC_STATUS_OK)
        r = status_error(&x, err);
    else
        r = take_reply(&x, resp, err);
out:
    exchange_close(&x);
    return r;
}

struct berth_rpc_stream *
berth_rpc_client_stream(struct berth_rpc_client *c, const ProtobufCServiceDescriptor *svc,
                        const char *method, const ProtobufCMessage *req,
                        const struct berth_rpc_opts *opts, struct berth_err *err)
{
    struct berth_rpc_stream *s = xzalloc(sizeof(*s));
    grpc_op ops[4];

    atomic_init(&s->cancelled, false);
    if (exchange_open(&s->x, c, svc, method, req, opts, err) < 0)
        goto fail;
    memset(ops, 0, sizeof(ops));
    size_t n = send_ops(&s->x, ops);
    if (start_batch(&s->x, ops, n, &s->head_tag, err) < 0)
        goto fail;
    memset(ops, 0, sizeof(ops));
    status_op(&s->x, &ops[0]);
    if (start_batch(&s->x, ops, 1, &s->status_tag, err) < 0) {
        grpc_call_cancel(s->x.call, NULL);
        pluck(&s->x, &s->head_tag);
        goto fail;
    }
    return s;
fail:
    exchange_close(&s->x);
    free(s);
    return NULL;
}

/* The end of the stream: wait for the status and turn it into 0 or -1. */
static int
stream_end(struct berth_rpc_stream *s, struct berth_err *err)
{
    if (!s->status_done) {
        pluck(&s->x, &s->status_tag);
        s->status_done = true;
    }
    if (atomic_load(&s->cancelled))
        return berth_err_fail(err, ECANCELED, "rpc %s: cancelled", s->x.path);
    if (s->x.status != GRPC_STATUS_OK)
        return status_error(&s->x, err);
    return 0;
}

int
berth_rpc_stream_next(struct berth_rpc_stream *s, ProtobufCMessage **msg, struct berth_err *err)
{
    grpc_op op;

    *msg = NULL;
    if (s->status_done)
        return stream_end(s, err);
    if (!s->head_done) {
        pluck(&s->x, &s->head_tag);
        s->head_done = true;
    }
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &s->x.recv;
    if (start_batch(&s->x, &op, 1, &s->msg_tag, err) < 0)
        return -1;
    pluck(&s->x, &s->msg_tag);
    if (s->x.recv == NULL) /* no message: the status came instead */
        return stream_end(s, err);
    if (take_reply(&s->x, msg, err) < 0) {
        /* A message this end cannot read: the stream is of no further use. */
        grpc_call_cancel(s->x.call, NULL);
        return -1;
    }
    return 1;
}

void
berth_rpc_stream_cancel(struct berth_rpc_stream *s)
{
    atomic_store(&s->cancelled, true);
    grpc_call_cancel(s->x.call, NULL);
}

void
berth_rpc_stream_free(struct berth_rpc_stream *s)
{
    if (s == NULL)
        return;
    if (!s->status_done)
        grpc_call_cancel(s->x.call, NULL);
    if (!s->head_done)
        pluck(&s->x, &s->head_tag);
    if (!s->status_done)
        pluck(&s->x, &s->status_tag);
    exchange_close(&s->x);
    free(s);
}
