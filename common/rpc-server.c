/* SPDX-License-Identifier: Apache-2.0
 *
 * The server half of common/rpc.h on the gRPC C core. It owns one completion queue and the
 * one thread that drains it; every method of a registered service has one request armed at a
 * time, plus a catch-all request that answers methods the server does not have with
 * UNIMPLEMENTED (without it such a call hangs until its deadline). Handlers run on a detached
 * thread each and may finish their call from any thread.
 *
 * A call's life, and the function behind each step:
 *
 *   arm() ── request armed ──(cq: new call)── call_begin() ── RECV_CLOSE started,
 *     request unpacked, handler thread started ── handler: _send()* then _reply / _fail /
 *     _finish ── status queued behind the messages ── pump() ── last batch done,
 *     close done ── call_unref() to 0 ── call_free()
 *
 * A call is refcounted: one ref for its handler (dropped when it finishes the call), one for
 * the RECV_CLOSE_ON_SERVER batch and one for each batch in flight. Core allows one
 * SEND_MESSAGE in flight per call, so messages wait in a per-call queue that the completion
 * of each send pumps. The close batch is how cancellation is learnt (client cancel,
 * disconnect, deadline, server shutdown all end it with cancelled=1).
 *
 * The server counts armed requests and unfreed calls (n_live); berth_rpc_server_free waits
 * for that count to reach 0 before it destroys the server and shuts the queue down, since no
 * batch may start on a queue that has been shut down.
 */
#include "common/rpc.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc-internal.h"

/* What a completion means; the tag core hands back points at one of these inside a call or
 * the server. */
enum tag_kind {
    TAG_NEW,      /* an armed request matched a call (or failed at shutdown) */
    TAG_CLOSE,    /* RECV_CLOSE_ON_SERVER: the call is over */
    TAG_SEND,     /* a batch of sends finished */
    TAG_SHUTDOWN, /* grpc_server_shutdown_and_notify finished */
};

struct tag {
    enum tag_kind kind;
    void *obj;
};

/* One registered method. */
struct method_reg {
    struct berth_rpc_server *srv;
    char *path; /* "/pkg.Service/Method" */
    void *handle;
    const ProtobufCMethodDescriptor *desc;
    enum berth_rpc_kind kind;
    berth_rpc_handler_fn fn;
    void *data;
    struct method_reg *next;
};

struct out_msg {
    grpc_byte_buffer *bb;
    struct out_msg *next;
};

struct berth_rpc_call {
    struct berth_rpc_server *srv;
    struct method_reg *reg; /* NULL for the catch-all */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_call_details details; /* filled by the catch-all only */
    grpc_byte_buffer *payload;
    ProtobufCMessage *req;
    char *path;
    char **md_kv; /* NUL-terminated copies: key, value, key, value */
    size_t n_md;
    struct tag new_tag, close_tag, send_tag;
    int close_cancelled;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* a cancel callback returned, a send completed, the call closed */
    int refs;
    bool finished;  /* the handler gave the call up */
    bool cancelled; /* the close batch said so */
    bool dead;      /* nothing more goes out: closed, cancelled or a send failed */
    void (*cancel_cb)(void *data);
    void *cancel_data;
    bool cb_running;
    pthread_t cb_thread;

    struct out_msg *head, *tail; /* queued, not yet handed to core */
    size_t n_queued;
    grpc_byte_buffer *in_flight;
    bool sending;     /* a send batch is in flight */
    bool sent_imd;    /* initial metadata went out with an earlier batch */
    bool status_due;  /* finished: the status goes out once the queue is empty */
    bool status_sent; /* ... and has been handed to core */
    grpc_status_code status;
    char *status_details;
};

struct berth_rpc_server {
    char *path;   /* socket path */
    char *target; /* "unix:" + path, for core */
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t cq_thread;
    struct method_reg *regs;
    struct tag shutdown_tag;
    bool started;
    bool bound; /* the socket file is ours to remove */

    pthread_mutex_t lock; /* the fields below */
    pthread_cond_t cond;  /* n_live dropped or the shutdown finished */
    size_t n_live;        /* armed requests + calls not freed */
    bool stopping;
    bool shutdown_done;
};

static void arm(struct berth_rpc_server *srv, struct method_reg *reg);

/* ---------------------------------------------------------------- threads */

/* Start a detached or joinable thread with every signal blocked, so that signals reach only
 * the threads the program chose (a daemon reads them from a signalfd on its main thread).
 * Threads started from one of these inherit the mask. Returns 0 or an errno. */
static int
start_thread(pthread_t *tid, bool detached, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t unused;
    int r;

    sigfillset(&all);
    pthread_attr_init(&attr);
    if (detached)
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(tid ? tid : &unused, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return r;
}

static void
cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* ---------------------------------------------------------------- calls */

static struct berth_rpc_call *
call_new(struct berth_rpc_server *srv, struct method_reg *reg)
{
    struct berth_rpc_call *call = xzalloc(sizeof(*call));

    call->srv = srv;
    call->reg = reg;
    call->refs = 1; /* the request's, which becomes the handler's */
    call->new_tag = (struct tag){TAG_NEW, call};
    call->close_tag = (struct tag){TAG_CLOSE, call};
    call->send_tag = (struct tag){TAG_SEND, call};
    grpc_metadata_array_init(&call->md);
    grpc_call_details_init(&call->details);
    pthread_mutex_init(&call->lock, NULL);
    pthread_cond_init(&call->cond, NULL);
    return call;
}

/* Drop what waits in the queue (lock held). The batch in flight keeps its buffer until it
 * completes. */
static void
drop_queue(struct berth_rpc_call *call)
{
    struct out_msg *m;

    while ((m = call->head) != NULL) {
        call->head = m->next;
        grpc_byte_buffer_destroy(m->bb);
        free(m);
    }
    call->tail = NULL;
    call->n_queued = 0;
}

static void
call_free(struct berth_rpc_call *call)
{
    struct berth_rpc_server *srv = call->srv;

    drop_queue(call);
    if (call->req)
        protobuf_c_message_free_unpacked(call->req, NULL);
    if (call->payload)
        grpc_byte_buffer_destroy(call->payload);
    for (size_t i = 0; i < 2 * call->n_md; i++)
        free(call->md_kv[i]);
    free(call->md_kv);
    grpc_metadata_array_destroy(&call->md);
    grpc_call_details_destroy(&call->details);
    if (call->call)
        grpc_call_unref(call->call);
    free(call->status_details);
    free(call->path);
    pthread_cond_destroy(&call->cond);
    pthread_mutex_destroy(&call->lock);
    free(call);

    /* Last: once n_live reaches 0, berth_rpc_server_free may free srv. */
    pthread_mutex_lock(&srv->lock);
    srv->n_live--;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
}

static void
call_unref(struct berth_rpc_call *call)
{
    pthread_mutex_lock(&call->lock);
    bool last = --call->refs == 0;
    pthread_mutex_unlock(&call->lock);
    if (last)
        call_free(call);
}

/* Hand the next batch to core (lock held): initial metadata with the first batch, the head
 * of the queue, and the status once nothing else waits. One batch at a time, since core
 * refuses a second SEND_MESSAGE while one is in flight. The caller holds a ref, so the ref
 * taken and dropped here never frees the call. */
static void
pump(struct berth_rpc_call *call)
{
    grpc_op ops[3];
    size_t n = 0;
    grpc_slice details = grpc_empty_slice();

    if (call->dead)
        drop_queue(call);
    if (call->dead || call->sending || call->status_sent)
        return;
    if (call->head == NULL && !call->status_due)
        return;

    memset(ops, 0, sizeof(ops));
    if (!call->sent_imd) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        call->sent_imd = true;
    }
    if (call->head) {
        struct out_msg *m = call->head;
        call->head = m->next;
        if (call->head == NULL)
            call->tail = NULL;
        call->n_queued--;
        call->in_flight = m->bb;
        free(m);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = call->in_flight;
    }
    if (call->head == NULL && call->status_due) {
        if (call->status_details)
            details = grpc_slice_from_copied_string(call->status_details);
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = call->status;
        ops[n++].data.send_status_from_server.status_details = &details;
        call->status_sent = true;
    }

    call->sending = true;
    call->refs++;
    grpc_call_error rc = grpc_call_start_batch(call->call, ops, n, &call->send_tag, NULL);
    grpc_slice_unref(details); /* core copied it: it is not retained past start_batch */
    if (rc != GRPC_CALL_OK) {
        berth_warn("rpc %s: start send batch: error %d", call->path, (int)rc);
        call->sending = false;
        call->refs--;
        call->dead = true;
        if (call->in_flight)
            grpc_byte_buffer_destroy(call->in_flight);
        call->in_flight = NULL;
        drop_queue(call);
    }
}

static void
on_sent(struct berth_rpc_call *call, bool ok)
{
    pthread_mutex_lock(&call->lock);
    if (call->in_flight)
        grpc_byte_buffer_destroy(call->in_flight);
    call->in_flight = NULL;
    call->sending = false;
    if (!ok)
        call->dead = true; /* the stream broke; the close batch reports why */
    pump(call);
    pthread_cond_broadcast(&call->cond); /* berth_rpc_call_send_wait */
    pthread_mutex_unlock(&call->lock);
    call_unref(call);
}

/* Run the cancel callback if there is one to run: the call is cancelled, a callback is set
 * and the handler still owns the call (after _finish, the data behind the callback may be
 * gone). The callback runs unlocked so it may use the call; cb_running lets
 * berth_rpc_call_finish wait for it. */
static void
fire_cancel(struct berth_rpc_call *call)
{
    void (*cb)(void *data);
    void *data;

    pthread_mutex_lock(&call->lock);
    cb = call->cancel_cb;
    data = call->cancel_data;
    if (cb == NULL || !call->cancelled || call->finished) {
        pthread_mutex_unlock(&call->lock);
        return;
    }
    call->cancel_cb = NULL;
    call->cb_running = true;
    call->cb_thread = pthread_self();
    pthread_mutex_unlock(&call->lock);

    cb(data);

    pthread_mutex_lock(&call->lock);
    call->cb_running = false;
    pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->lock);
}

static void
on_close(struct berth_rpc_call *call, bool ok)
{
    pthread_mutex_lock(&call->lock);
    call->cancelled = call->close_cancelled != 0 || !ok;
    call->dead = true;
    drop_queue(call);
    pthread_cond_broadcast(&call->cond); /* berth_rpc_call_send_wait */
    pthread_mutex_unlock(&call->lock);
    if (call->cancelled)
        berth_debug("rpc %s: cancelled", call->path);
    fire_cancel(call);
    call_unref(call);
}

/* Start the RECV_CLOSE_ON_SERVER batch, at once, so that a cancel is seen even while a
 * handler blocks before sending anything. */
static void
start_close(struct berth_rpc_call *call)
{
    grpc_op op;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &call->close_cancelled;
    pthread_mutex_lock(&call->lock);
    call->refs++;
    pthread_mutex_unlock(&call->lock);
    grpc_call_error rc = grpc_call_start_batch(call->call, &op, 1, &call->close_tag, NULL);
    if (rc != GRPC_CALL_OK) {
        berth_warn("rpc %s: start close batch: error %d", call->path, (int)rc);
        pthread_mutex_lock(&call->lock);
        call->refs--;
        call->dead = true;
        pthread_mutex_unlock(&call->lock);
    }
}

/* Copy the request metadata into NUL-terminated strings (core's slices are not), so that
 * berth_rpc_call_metadata can hand out plain strings that live as long as the call. */
static void
copy_metadata(struct berth_rpc_call *call)
{
    call->n_md = call->md.count;
    call->md_kv = xzalloc(2 * call->n_md * sizeof(char *));
    for (size_t i = 0; i < call->n_md; i++) {
        grpc_metadata *m = &call->md.metadata[i];
        call->md_kv[2 * i] =
            xstrndup((const char *)GRPC_SLICE_START_PTR(m->key), GRPC_SLICE_LENGTH(m->key));
        call->md_kv[2 * i + 1] =
            xstrndup((const char *)GRPC_SLICE_START_PTR(m->value), GRPC_SLICE_LENGTH(m->value));
    }
}

static void *
run_handler(void *arg)
{
    struct berth_rpc_call *call = arg;
    struct method_reg *reg = call->reg;

    /* Not a field of call after this: the handler may finish it and it may be freed. */
    reg->fn(call, call->req, reg->data);
    return NULL;
}

/* Unpack the request and hand the call to its handler's thread; answer the call here when
 * there is no handler to give it to. Runs on the cq thread. */
static void
dispatch(struct berth_rpc_call *call)
{
    struct method_reg *reg = call->reg;
    size_t len = 0;

    if (reg == NULL) {
        cleanup_free char *msg = xasprintf("unknown method %s", call->path);
        berth_rpc_call_finish(call, GRPC_STATUS_UNIMPLEMENTED, msg);
        return;
    }
    if (call->payload == NULL) {
        cleanup_free char *msg = xasprintf("rpc %s: no request message", call->path);
        berth_rpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, msg);
        return;
    }
    len = grpc_byte_buffer_length(call->payload);
    call->req = berth_rpc_unpack(reg->desc->input, call->payload);
    grpc_byte_buffer_destroy(call->payload);
    call->payload = NULL;
    if (call->req == NULL) {
        cleanup_free char *msg = xasprintf("rpc %s: cannot decode the request (%zu bytes) as %s",
                                           call->path, len, reg->desc->input->name);
        berth_rpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, msg);
        return;
    }
    int r = start_thread(NULL, true, run_handler, call);
    if (r != 0) {
        cleanup_free char *msg =
            xasprintf("rpc %s: start a handler thread: %s", call->path, strerrordesc_np(r));
        berth_warn("%s", msg);
        berth_rpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, msg);
    }
}

/* An armed request completed. ok is false when the server shut down before a call came:
 * the request is simply released. */
static void
on_new(struct berth_rpc_call *call, bool ok)
{
    if (!ok) {
        call_unref(call);
        return;
    }
    arm(call->srv, call->reg); /* keep one request armed for this method */
    if (call->reg) {
        call->path = xstrdup(call->reg->path);
    } else {
        call->path = xstrndup((const char *)GRPC_SLICE_START_PTR(call->details.method),
                              GRPC_SLICE_LENGTH(call->details.method));
        call->deadline = call->details.deadline;
    }
    copy_metadata(call);
    berth_trace("rpc %s: new call", call->path);
    start_close(call);
    dispatch(call);
}

/* ---------------------------------------------------------------- server loop */

/* Arm one request for reg (NULL: the catch-all). Runs at start and on the cq thread. */
static void
arm(struct berth_rpc_server *srv, struct method_reg *reg)
{
    grpc_call_error rc;

    pthread_mutex_lock(&srv->lock);
    if (srv->stopping) {
        pthread_mutex_unlock(&srv->lock);
        return;
    }
    srv->n_live++;
    pthread_mutex_unlock(&srv->lock);

    struct berth_rpc_call *call = call_new(srv, reg);
    if (reg)
        rc = grpc_server_request_registered_call(srv->server, reg->handle, &call->call,
                                                 &call->deadline, &call->md, &call->payload,
                                                 srv->cq, srv->cq, &call->new_tag);
    else
        rc = grpc_server_request_call(srv->server, &call->call, &call->details, &call->md, srv->cq,
                                      srv->cq, &call->new_tag);
    if (rc != GRPC_CALL_OK) {
        berth_warn("rpc %s: request a call: error %d", reg ? reg->path : "*", (int)rc);
        call_unref(call);
    }
}

static void *
cq_loop(void *arg)
{
    struct berth_rpc_server *srv = arg;

    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct tag *tag = ev.tag;
        switch (tag->kind) {
        case TAG_NEW: on_new(tag->obj, ev.success); break;
        case TAG_CLOSE: on_close(tag->obj, ev.success); break;
        case TAG_SEND: on_sent(tag->obj, ev.success); break;
        case TAG_SHUTDOWN:
            pthread_mutex_lock(&srv->lock);
            srv->shutdown_done = true;
            pthread_cond_broadcast(&srv->cond);
            pthread_mutex_unlock(&srv->lock);
            break;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- server API */

struct berth_rpc_server *
berth_rpc_server_new(const char *address, struct berth_err *err)
{
    cleanup_free char *path = NULL;
    grpc_channel_args args;
    grpc_arg a[2];

    if (berth_rpc_address_path(address, &path, err) < 0)
        return NULL;
    berth_rpc_core_init();

    struct berth_rpc_server *srv = xzalloc(sizeof(*srv));
    srv->target = xasprintf("unix:%s", path);
    srv->path = steal_ptr(&path);
    srv->shutdown_tag = (struct tag){TAG_SHUTDOWN, srv};
    pthread_mutex_init(&srv->lock, NULL);
    cond_init_monotonic(&srv->cond);
    berth_rpc_channel_args(&args, a);
    srv->server = grpc_server_create(&args, NULL);
    srv->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(srv->server, srv->cq, NULL);

    int r = start_thread(&srv->cq_thread, false, cq_loop, srv);
    if (r != 0) {
        berth_err_set(err, r, "rpc server `%s`: start the completion queue thread", srv->path);
        grpc_server_destroy(srv->server);
        srv->server = NULL;
        grpc_completion_queue_shutdown(srv->cq);
        cq_loop(srv); /* drains it up to the shutdown event */
        grpc_completion_queue_destroy(srv->cq);
        srv->cq = NULL;
        berth_rpc_server_free(srv, 0);
        return NULL;
    }
    return srv;
}

static int
check_methods(const ProtobufCServiceDescriptor *svc, const struct berth_rpc_method *methods,
              size_t n_methods, struct berth_err *err)
{
    for (size_t i = 0; i < n_methods; i++) {
        if (methods[i].name == NULL || methods[i].fn == NULL)
            return berth_err_fail(err, EINVAL, "rpc service %s: method entry %zu has no %s",
                                  svc->name, i, methods[i].name ? "handler" : "name");
        if (berth_rpc_find_method(svc, methods[i].name) == NULL)
            return berth_err_fail(err, EINVAL, "rpc service %s: no method `%s`", svc->name,
                                  methods[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(methods[i].name, methods[j].name) == 0)
                return berth_err_fail(err, EINVAL, "rpc service %s: method `%s` listed twice",
                                      svc->name, methods[i].name);
    }
    /* Every entry names a distinct method of svc, so equal counts mean all are covered. */
    for (unsigned i = 0; n_methods != svc->n_methods && i < svc->n_methods; i++) {
        bool found = false;
        for (size_t j = 0; j < n_methods && !found; j++)
            found = strcmp(methods[j].name, svc->methods[i].name) == 0;
        if (!found)
            return berth_err_fail(err, EINVAL, "rpc service %s: method `%s` has no handler",
                                  svc->name, svc->methods[i].name);
    }
    return 0;
}

int
berth_rpc_server_add_service(struct berth_rpc_server *srv, const ProtobufCServiceDescriptor *svc,
                             const struct berth_rpc_method *methods, size_t n_methods, void *data,
                             struct berth_err *err)
{
    if (srv->started)
        return berth_err_fail(err, EINVAL, "rpc service %s: added after the server started",
                              svc->name);
    if (check_methods(svc, methods, n_methods, err) < 0)
        return -1;

    for (size_t i = 0; i < n_methods; i++) {
        struct method_reg *reg = xzalloc(sizeof(*reg));
        reg->srv = srv;
        reg->desc = berth_rpc_find_method(svc, methods[i].name);
        reg->path = xasprintf("/%s/%s", svc->name, reg->desc->name);
        reg->kind = methods[i].kind;
        reg->fn = methods[i].fn;
        reg->data = data;
        reg->handle = grpc_server_register_method(srv->server, reg->path, NULL,
                                                  GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        /* Listed before the check so that free releases it either way. */
        reg->next = srv->regs;
        srv->regs = reg;
        if (reg->handle == NULL)
            return berth_err_fail(err, EEXIST, "rpc method %s: already registered", reg->path);
    }
    return 0;
}

/* Make room for the socket: nothing there is fine, a socket nobody answers on is a leftover
 * of a server that died and is removed, anything else is refused (a live server keeps its
 * socket; a regular file is not ours to delete). */
static int
remove_stale_socket(const char *path, struct berth_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : berth_err_set(err, errno, "stat `%s`", path);
    if (!S_ISSOCK(st.st_mode))
        return berth_err_fail(err, EEXIST, "listen on `%s`: a file that is not a socket is there",
                              path);

    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    strcpy(sa.sun_path, path); /* length checked by berth_rpc_address_path */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return berth_err_fail(err, EADDRINUSE, "listen on `%s`: another server is listening", path);
    if (errno != ECONNREFUSED)
        return berth_err_set(err, errno, "listen on `%s`: probe the socket there", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "remove stale socket `%s`", path);
    berth_debug("rpc: removed stale socket %s", path);
    return 0;
}

/* Core says only "failed"; find a cause worth printing (a missing or read-only directory). */
static int
listen_error(const char *path, struct berth_err *err)
{
    cleanup_free char *dir = xstrdup(path);

    if (access(dirname(dir), W_OK | X_OK) < 0)
        return berth_err_set(err, errno, "listen on `%s`", path);
    return berth_err_fail(err, EADDRNOTAVAIL, "listen on `%s`: gRPC cannot bind it", path);
}

int
berth_rpc_server_start(struct berth_rpc_server *srv, struct berth_err *err)
{
    if (srv->started)
        return berth_err_fail(err, EINVAL, "rpc server `%s`: already started", srv->path);
    if (remove_stale_socket(srv->path, err) < 0)
        return -1;

    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(srv->server, srv->target, creds);
    grpc_server_credentials_release(creds);
    if (port == 0)
        return listen_error(srv->path, err);
    srv->bound = true;

    grpc_server_start(srv->server);
    srv->started = true;
    for (struct method_reg *reg = srv->regs; reg; reg = reg->next)
        arm(srv, reg);
    arm(srv, NULL);

    /* Core binds with the process umask; no call is served before start returns, and callers
     * who need the window closed keep the socket in a 0700 directory. */
    if (chmod(srv->path, 0600) < 0)
        return berth_err_set(err, errno, "chmod `%s`", srv->path);
    berth_debug("rpc: listening on %s", srv->path);
    return 0;
}

/* Wait on srv->cond until *flag or, with deadline non-NULL, until then. Lock held. */
static bool
wait_flag(struct berth_rpc_server *srv, const bool *flag, const struct timespec *deadline)
{
    while (!*flag) {
        if (deadline == NULL)
            pthread_cond_wait(&srv->cond, &srv->lock);
        else if (pthread_cond_timedwait(&srv->cond, &srv->lock, deadline) == ETIMEDOUT)
            return *flag;
    }
    return true;
}

/* Stop a started server: refuse new calls, give running ones grace_ms, cancel the rest and
 * wait for every call to be released, so that no batch can start after the queue shuts
 * down. Running handlers learn of the cancel through on_cancel and must then finish. */
static void
stop(struct berth_rpc_server *srv, int grace_ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += grace_ms / 1000;
    deadline.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_mutex_unlock(&srv->lock);
    grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->shutdown_tag);

    pthread_mutex_lock(&srv->lock);
    if (grace_ms <= 0 || !wait_flag(srv, &srv->shutdown_done, &deadline)) {
        pthread_mutex_unlock(&srv->lock);
        berth_debug("rpc: %s: cancelling the calls still running", srv->path);
        grpc_server_cancel_all_calls(srv->server);
        pthread_mutex_lock(&srv->lock);
        wait_flag(srv, &srv->shutdown_done, NULL);
    }
    while (srv->n_live > 0)
        pthread_cond_wait(&srv->cond, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
}

void
berth_rpc_server_free(struct berth_rpc_server *srv, int grace_ms)
{
    struct method_reg *reg;

    if (srv == NULL)
        return;
    if (srv->started)
        stop(srv, grace_ms);
    if (srv->server)
        grpc_server_destroy(srv->server);
    if (srv->cq) {
        grpc_completion_queue_shutdown(srv->cq);
        pthread_join(srv->cq_thread, NULL);
        grpc_completion_queue_destroy(srv->cq);
    }
    if (srv->bound && unlink(srv->path) < 0 && errno != ENOENT)
        berth_warn("rpc: remove socket %s: %s", srv->path, strerrordesc_np(errno));
    while ((reg = srv->regs) != NULL) {
        srv->regs = reg->next;
        free(reg->path);
        free(reg);
    }
    pthread_cond_destroy(&srv->cond);
    pthread_mutex_destroy(&srv->lock);
    free(srv->target);
    free(srv->path);
    free(srv);
}

/* ---------------------------------------------------------------- call API */

const char *
berth_rpc_call_metadata(struct berth_rpc_call *call, const char *key)
{
    for (size_t i = 0; i < call->n_md; i++)
        if (strcmp(call->md_kv[2 * i], key) == 0)
            return call->md_kv[2 * i + 1];
    return NULL;
}

const char *
berth_rpc_call_method(struct berth_rpc_call *call)
{
    return call->path;
}

/* Queue bb (taken) behind the messages already waiting. Lock held. */
static void
enqueue(struct berth_rpc_call *call, grpc_byte_buffer *bb)
{
    struct out_msg *m = xmalloc(sizeof(*m));

    m->bb = bb;
    m->next = NULL;
    if (call->tail)
        call->tail->next = m;
    else
        call->head = m;
    call->tail = m;
    call->n_queued++;
}

static int
send_msg(struct berth_rpc_call *call, const ProtobufCMessage *msg, size_t window)
{
    grpc_byte_buffer *bb = berth_rpc_pack(msg); /* unlocked: it may be big */
    int r = -1;

    pthread_mutex_lock(&call->lock);
    /* on_sent and on_close broadcast: each sent message lets one more in. */
    while (window > 0 && !call->dead && !call->finished && call->n_queued >= window)
        pthread_cond_wait(&call->cond, &call->lock);
    if (call->finished || call->reg->kind != BERTH_RPC_SERVER_STREAM)
        berth_warn("rpc %s: send on a %s call", call->path, call->finished ? "finished" : "unary");
    else if (!call->dead && call->n_queued < BERTH_RPC_MAX_QUEUED) {
        enqueue(call, steal_ptr(&bb));
        pump(call);
        r = 0;
    }
    pthread_mutex_unlock(&call->lock);
    if (bb)
        grpc_byte_buffer_destroy(bb);
    return r;
}

int
berth_rpc_call_send(struct berth_rpc_call *call, const ProtobufCMessage *msg)
{
    return send_msg(call, msg, 0);
}

int
berth_rpc_call_send_wait(struct berth_rpc_call *call, const ProtobufCMessage *msg, size_t window)
{
    return send_msg(call, msg, window > 0 ? window : 1);
}

void
berth_rpc_call_finish(struct berth_rpc_call *call, int grpc_status, const char *details)
{
    pthread_t self = pthread_self();

    pthread_mutex_lock(&call->lock);
    if (call->finished) {
        pthread_mutex_unlock(&call->lock);
        berth_warn("rpc %s: finished twice", call->path);
        return;
    }
    /* After this returns the handler may free what its cancel callback uses, so a callback
     * running on another thread is waited for, and none starts later. */
    while (call->cb_running && !pthread_equal(call->cb_thread, self))
        pthread_cond_wait(&call->cond, &call->lock);
    call->finished = true;
    call->status = (grpc_status_code)grpc_status;
    call->status_details = details ? xstrdup(details) : NULL;
    call->status_due = true;
    pump(call);
    pthread_mutex_unlock(&call->lock);
    if (grpc_status != GRPC_STATUS_OK)
        berth_debug("rpc %s: %s: %s", call->path,
                    berth_rpc_status_name((grpc_status_code)grpc_status), details ? details : "");
    call_unref(call);
}

void
berth_rpc_call_reply(struct berth_rpc_call *call, const ProtobufCMessage *resp)
{
    grpc_byte_buffer *bb = berth_rpc_pack(resp);

    /* Past the queue limit on purpose: a reply is the one message a unary call has. */
    pthread_mutex_lock(&call->lock);
    if (!call->dead && !call->finished)
        enqueue(call, steal_ptr(&bb));
    pthread_mutex_unlock(&call->lock);
    if (bb)
        grpc_byte_buffer_destroy(bb);
    berth_rpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

void
berth_rpc_call_fail(struct berth_rpc_call *call, const struct berth_err *err)
{
    cleanup_free char *details = berth_err_string(err);

    berth_rpc_call_finish(call, berth_err_to_grpc(err->code), details);
}

bool
berth_rpc_call_is_cancelled(struct berth_rpc_call *call)
{
    pthread_mutex_lock(&call->lock);
    bool cancelled = call->cancelled;
    pthread_mutex_unlock(&call->lock);
    return cancelled;
}

void
berth_rpc_call_on_cancel(struct berth_rpc_call *call, void (*cb)(void *data), void *data)
{
    pthread_mutex_lock(&call->lock);
    call->cancel_cb = cb;
    call->cancel_data = data;
    pthread_mutex_unlock(&call->lock);
    fire_cancel(call); /* at once when the cancel came first */
}

int64_t
berth_rpc_call_deadline_ms(struct berth_rpc_call *call)
{
    gpr_timespec deadline = gpr_convert_clock_type(call->deadline, GPR_CLOCK_MONOTONIC);

    if (gpr_time_cmp(deadline, gpr_inf_future(GPR_CLOCK_MONOTONIC)) >= 0)
        return -1;
    gpr_timespec left = gpr_time_sub(deadline, gpr_now(GPR_CLOCK_MONOTONIC));
    if (left.tv_sec < 0)
        return 0;
    return left.tv_sec * 1000 + left.tv_nsec / 1000000;
}
