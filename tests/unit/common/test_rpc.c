/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/rpc (rpc-server.c, rpc-client.c): a real server on a unix socket in a
 * temporary directory serving berth.test.v1.Echo (rpc_test.proto), and a client calling it.
 * Unary calls, metadata, deadlines, error statuses both ways through common/error's table,
 * server streams run to their end, cancelled by the client and cut by the server going away,
 * unknown methods, undecodable and missing requests, a server that is down or comes back,
 * and the per-call send queue limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/rpc.h"
#include "rpc_test.pb-c.h"

#define SAY_PATH "/berth.test.v1.Echo/Say"

struct fixture {
    char dir[64];
    char *sock;
    struct berth_rpc_server *srv;
    struct berth_rpc_client *client;

    pthread_mutex_t lock; /* the counters below, which handlers bump */
    pthread_cond_t cond;
    int n_cancelled; /* on_cancel callbacks run */
    int n_ended;     /* endless handlers returned after their cancel */
    int flood_sent;  /* messages the flooding handler got queued, -1 until it stops */
    int paced_sent;  /* messages the paced handler got queued so far */
};

/* ---------------------------------------------------------------- waiting and timing */

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
bump(struct fixture *f, int *counter)
{
    pthread_mutex_lock(&f->lock);
    (*counter)++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* Wait up to 10 s for *counter to reach want; its value then. */
static int
wait_for(struct fixture *f, int *counter, int want)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&f->lock);
    while (*counter < want && pthread_cond_timedwait(&f->cond, &f->lock, &deadline) == 0)
        ;
    int v = *counter;
    pthread_mutex_unlock(&f->lock);
    return v;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* A handler's wait for its call to be cancelled, fed by on_cancel. */
struct cancel_wait {
    struct fixture *f;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool cancelled;
};

static void
cancel_wait_init(struct cancel_wait *w, struct fixture *f)
{
    w->f = f;
    w->cancelled = false;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

static void
cancel_wait_destroy(struct cancel_wait *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

static void
on_cancel(void *data)
{
    struct cancel_wait *w = data;

    pthread_mutex_lock(&w->lock);
    w->cancelled = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    bump(w->f, &w->f->n_cancelled);
}

/* Wait up to ms for the cancel; true when it came. */
static bool
cancel_wait_for(struct cancel_wait *w, int ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->cancelled && pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == 0)
        ;
    bool cancelled = w->cancelled;
    pthread_mutex_unlock(&w->lock);
    return cancelled;
}

/* ---------------------------------------------------------------- the Echo service */

static void
handle_say(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    const Berth__Test__V1__SayRequest *req = (const void *)msg;
    Berth__Test__V1__SayReply reply = BERTH__TEST__V1__SAY_REPLY__INIT;
    const char *ns = berth_rpc_call_metadata(call, "berth-namespace");

    reply.text = req->text;
    reply.namespace_ = (char *)(ns ? ns : "");
    reply.method = (char *)berth_rpc_call_method(call);
    reply.deadline_ms = berth_rpc_call_deadline_ms(call);
    berth_rpc_call_reply(call, &reply.base);
}

static void
watch_flood(struct fixture *f, struct berth_rpc_call *call, size_t pad_len)
{
    Berth__Test__V1__WatchEvent ev = BERTH__TEST__V1__WATCH_EVENT__INIT;
    cleanup_free uint8_t *pad = xzalloc(pad_len);
    int sent = 0;

    ev.pad.data = pad;
    ev.pad.len = pad_len;
    while (sent < 4 * BERTH_RPC_MAX_QUEUED) {
        ev.seq = sent;
        if (berth_rpc_call_send(call, &ev.base) < 0)
            break;
        sent++;
    }
    berth_rpc_call_finish(call, 0, NULL);
    pthread_mutex_lock(&f->lock);
    f->flood_sent = sent;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* count events of pad_len bytes through berth_rpc_call_send_wait with a window of 2. */
static void
watch_paced(struct fixture *f, struct berth_rpc_call *call, uint32_t count, size_t pad_len)
{
    Berth__Test__V1__WatchEvent ev = BERTH__TEST__V1__WATCH_EVENT__INIT;
    cleanup_free uint8_t *pad = xzalloc(pad_len);

    ev.pad.data = pad;
    ev.pad.len = pad_len;
    for (uint32_t i = 0; i < count; i++) {
        ev.seq = i;
        if (berth_rpc_call_send_wait(call, &ev.base, 2) < 0)
            break;
        bump(f, &f->paced_sent);
    }
    berth_rpc_call_finish(call, 0, NULL);
    bump(f, &f->n_ended);
}

/* An event every 10 ms until the call is cancelled. */
static void
watch_endless(struct fixture *f, struct berth_rpc_call *call)
{
    Berth__Test__V1__WatchEvent ev = BERTH__TEST__V1__WATCH_EVENT__INIT;
    struct cancel_wait w;

    cancel_wait_init(&w, f);
    berth_rpc_call_on_cancel(call, on_cancel, &w);
    do {
        if (berth_rpc_call_send(call, &ev.base) < 0)
            break;
        ev.seq++;
    } while (!cancel_wait_for(&w, 10));
    cancel_wait_for(&w, 10000);
    berth_rpc_call_finish(call, GRPC_STATUS_CANCELLED, "cancelled");
    cancel_wait_destroy(&w); /* safe: finish waited for a callback still running */
    bump(f, &f->n_ended);
}

static void
handle_watch(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    const Berth__Test__V1__WatchRequest *req = (const void *)msg;
    Berth__Test__V1__WatchEvent ev = BERTH__TEST__V1__WATCH_EVENT__INIT;

    if (req->pad > 0 && req->count > 0)
        return watch_paced(data, call, req->count, req->pad);
    if (req->pad > 0)
        return watch_flood(data, call, req->pad);
    if (req->count == 0)
        return watch_endless(data, call);
    /* No cmocka asserts here: they must not run off the test's thread. A short stream
     * shows up in the test that reads it. */
    for (uint32_t i = 0; i < req->count; i++) {
        ev.seq = i;
        if (berth_rpc_call_send(call, &ev.base) < 0)
            break;
    }
    berth_rpc_call_finish(call, 0, NULL);
}

static void
handle_fail(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    const Berth__Test__V1__FailRequest *req = (const void *)msg;
    struct berth_err err = BERTH_ERR_INIT;

    if (req->cause)
        berth_err_set(&err, req->code, "%s", req->message);
    else
        berth_err_fail(&err, req->code, "%s", req->message);
    berth_rpc_call_fail(call, &err);
    berth_err_clear(&err);
}

static void
handle_slow(struct berth_rpc_call *call, const ProtobufCMessage *msg, void *data)
{
    const Berth__Test__V1__SlowRequest *req = (const void *)msg;
    Berth__Test__V1__Empty reply = BERTH__TEST__V1__EMPTY__INIT;
    struct cancel_wait w;

    cancel_wait_init(&w, data);
    berth_rpc_call_on_cancel(call, on_cancel, &w);
    cancel_wait_for(&w, req->ms);
    berth_rpc_call_reply(call, &reply.base); /* dropped when cancelled */
    cancel_wait_destroy(&w);
}

static const struct berth_rpc_method echo_methods[] = {
    {"Say", BERTH_RPC_UNARY, handle_say},
    {"Watch", BERTH_RPC_SERVER_STREAM, handle_watch},
    {"Fail", BERTH_RPC_UNARY, handle_fail},
    {"Slow", BERTH_RPC_UNARY, handle_slow},
};

static struct berth_rpc_server *
serve(struct fixture *f, const char *address)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_server *srv = berth_rpc_server_new(address, &err);

    if (srv == NULL)
        fail_msg("%s", err.msg);
    if (berth_rpc_server_add_service(srv, &berth__test__v1__echo__descriptor, echo_methods,
                                     ARRAY_SIZE(echo_methods), f, &err) < 0 ||
        berth_rpc_server_start(srv, &err) < 0)
        fail_msg("%s", err.msg);
    return srv;
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    struct berth_err err = BERTH_ERR_INIT;

    strcpy(f->dir, "/tmp/berth-test-rpc-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->sock = xasprintf("%s/echo.sock", f->dir);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->flood_sent = -1;
    cleanup_free char *address = xasprintf("unix://%s", f->sock);
    f->srv = serve(f, address);
    f->client = berth_rpc_client_new(address, &err);
    *state = f;
    return f->client ? 0 : -1;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    berth_rpc_client_free(f->client);
    berth_rpc_server_free(f->srv, 1000);
    int r = berth_fs_rm_rf(f->dir, &err);
    berth_err_clear(&err);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f->sock);
    free(f);
    return r;
}

/* Say text with opts; the reply, or NULL with err filled. */
static Berth__Test__V1__SayReply *
say(struct berth_rpc_client *c, const char *text, const struct berth_rpc_opts *opts,
    struct berth_err *err)
{
    Berth__Test__V1__SayRequest req = BERTH__TEST__V1__SAY_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;

    req.text = (char *)text;
    if (berth_rpc_client_call(c, &berth__test__v1__echo__descriptor, "Say", &req.base, opts, &resp,
                              err) < 0) {
        assert_null(resp);
        return NULL;
    }
    return (Berth__Test__V1__SayReply *)resp;
}

static void
reply_free(Berth__Test__V1__SayReply *r)
{
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static struct berth_rpc_stream *
watch(struct fixture *f, uint32_t count, uint32_t pad)
{
    Berth__Test__V1__WatchRequest req = BERTH__TEST__V1__WATCH_REQUEST__INIT;
    struct berth_err err = BERTH_ERR_INIT;

    req.count = count;
    req.pad = pad;
    struct berth_rpc_stream *s = berth_rpc_client_stream(
        f->client, &berth__test__v1__echo__descriptor, "Watch", &req.base, NULL, &err);
    if (s == NULL)
        fail_msg("%s", err.msg);
    return s;
}

/* Read events until the stream ends; the last next() result, err filled on -1. */
static int
drain(struct berth_rpc_stream *s, int *n, struct berth_err *err)
{
    ProtobufCMessage *msg;
    int r;

    while ((r = berth_rpc_stream_next(s, &msg, err)) == 1) {
        protobuf_c_message_free_unpacked(msg, NULL);
        (*n)++;
    }
    return r;
}

/* ---------------------------------------------------------------- unary */

static void
test_berth_rpc_client_call_unary(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Berth__Test__V1__SayReply *r = say(f->client, "hello", NULL, &err);

    if (r == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(r->text, "hello");
    assert_string_equal(r->namespace_, "");
    assert_string_equal(r->method, SAY_PATH);
    assert_int_equal(r->deadline_ms, -1);
    reply_free(r);

    /* An empty message packs to 0 bytes, which is still a message. */
    r = say(f->client, "", NULL, &err);
    assert_non_null(r);
    assert_string_equal(r->text, "");
    reply_free(r);
}

static void
test_berth_rpc_client_call_metadata(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    const char *const md[] = {"x-other", "1", "berth-namespace", "ns1", NULL};
    struct berth_rpc_opts opts = {.metadata = md};
    Berth__Test__V1__SayReply *r = say(f->client, "hi", &opts, &err);

    if (r == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(r->namespace_, "ns1");
    reply_free(r);

    /* Refused before anything goes out. */
    const char *const bad_key[] = {"Bad Key", "v", NULL};
    opts.metadata = bad_key;
    assert_null(say(f->client, "hi", &opts, &err));
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, "Bad Key"));
    berth_err_clear(&err);

    const char *const bad_value[] = {"berth-namespace", "a\nb", NULL};
    opts.metadata = bad_value;
    assert_null(say(f->client, "hi", &opts, &err));
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
}

static void
test_berth_rpc_call_deadline_ms(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_opts opts = {.timeout_ms = 5000};
    Berth__Test__V1__SayReply *r = say(f->client, "hi", &opts, &err);

    if (r == NULL)
        fail_msg("%s", err.msg);
    /* The server counts from when the call reached it, with the timeout header rounded up:
     * it may see a little more than the client asked for. */
    assert_in_range(r->deadline_ms, 1, 5200);
    reply_free(r);
}

/* Fail with code and message (cause: strerror appended); the client's error. */
static void
call_fail(struct fixture *f, int code, const char *message, bool cause, struct berth_err *err)
{
    Berth__Test__V1__FailRequest req = BERTH__TEST__V1__FAIL_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;

    req.code = code;
    req.message = (char *)message;
    req.cause = cause;
    assert_int_equal(berth_rpc_client_call(f->client, &berth__test__v1__echo__descriptor, "Fail",
                                           &req.base, NULL, &resp, err),
                     -1);
    assert_null(resp);
    assert_non_null(err->msg);
}

static void
test_berth_rpc_call_fail_status(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    /* ENOENT -> NOT_FOUND -> ENOENT, the message as the server had it. */
    call_fail(f, ENOENT, "container `x` not found", false, &err);
    assert_int_equal(err.code, ENOENT);
    assert_string_equal(err.msg, "container `x` not found");
    assert_true(err.no_cause);
    cleanup_free char *s = berth_err_string(&err);
    assert_string_equal(s, "container `x` not found");
    berth_err_clear(&err);

    /* A system error arrives with its strerror already in the message, and once only. */
    call_fail(f, EEXIST, "mkdir `/a`", true, &err);
    assert_int_equal(err.code, EEXIST);
    assert_string_equal(err.msg, "mkdir `/a`: File exists");
    berth_err_clear(&err);

    call_fail(f, EBUSY, "container `x` is running", false, &err);
    assert_int_equal(err.code, EBUSY);
    berth_err_clear(&err);

    /* Not in the table: INTERNAL on the wire, EIO back. */
    call_fail(f, 0, "parse error", false, &err);
    assert_int_equal(err.code, EIO);
    assert_string_equal(err.msg, "parse error");
    berth_err_clear(&err);
}

static void
test_berth_rpc_client_call_deadline_exceeded(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Berth__Test__V1__SlowRequest req = BERTH__TEST__V1__SLOW_REQUEST__INIT;
    struct berth_rpc_opts opts = {.timeout_ms = 100};
    ProtobufCMessage *resp = NULL;

    req.ms = 10000;
    int64_t t0 = now_ms();
    assert_int_equal(berth_rpc_client_call(f->client, &berth__test__v1__echo__descriptor, "Slow",
                                           &req.base, &opts, &resp, &err),
                     -1);
    assert_int_equal(err.code, ETIMEDOUT);
    assert_in_range(now_ms() - t0, 90, 5000);
    berth_err_clear(&err);
    /* Core enforces the deadline on the server too: the handler hears of it. */
    assert_int_equal(wait_for(f, &f->n_cancelled, 1), 1);
}

static void
test_berth_rpc_client_call_unknown_method(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Berth__Test__V1__SayRequest req = BERTH__TEST__V1__SAY_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;

    /* The server has no Absent service: its catch-all answers, with no deadline needed. */
    assert_int_equal(berth_rpc_client_call(f->client, &berth__test__v1__absent__descriptor, "Say",
                                           &req.base, NULL, &resp, &err),
                     -1);
    assert_int_equal(err.code, ENOTSUP);
    assert_string_equal(err.msg, "unknown method /berth.test.v1.Absent/Say");
    berth_err_clear(&err);

    /* A method the descriptor lacks, or a request of the wrong type, never leaves. */
    assert_int_equal(berth_rpc_client_call(f->client, &berth__test__v1__echo__descriptor, "Nope",
                                           &req.base, NULL, &resp, &err),
                     -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
    assert_int_equal(berth_rpc_client_call(f->client, &berth__test__v1__echo__descriptor, "Fail",
                                           &req.base, NULL, &resp, &err),
                     -1);
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, "berth.test.v1.FailRequest"));
    berth_err_clear(&err);
}

static void
test_berth_rpc_server_undecodable_request(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Berth__Test__V1__NotSayRequest req = BERTH__TEST__V1__NOT_SAY_REQUEST__INIT;
    ProtobufCMethodDescriptor methods[4];
    ProtobufCServiceDescriptor svc = berth__test__v1__echo__descriptor;
    ProtobufCMessage *resp = NULL;

    /* Echo as the client sees it, with Say taking a message the server cannot decode. */
    memcpy(methods, svc.methods, sizeof(methods));
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
        if (strcmp(methods[i].name, "Say") == 0)
            methods[i].input = &berth__test__v1__not_say_request__descriptor;
    svc.methods = methods;
    req.text = 42;
    assert_int_equal(berth_rpc_client_call(f->client, &svc, "Say", &req.base, NULL, &resp, &err),
                     -1);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.msg, "rpc " SAY_PATH ": cannot decode the request (9 bytes) as "
                                 "berth.test.v1.SayRequest");
    berth_err_clear(&err);
}

/* A call made with core directly, sending no message at all; its status and details. */
static grpc_status_code
call_without_message(struct fixture *f, char **details)
{
    cleanup_free char *target = xasprintf("unix:%s", f->sock);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, creds, NULL);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice method = grpc_slice_from_static_string(SAY_PATH);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(10, GPR_TIMESPAN));
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL,
                                               deadline, NULL);
    grpc_metadata_array initial, trailing;
    grpc_status_code status;
    grpc_slice detail_slice;
    grpc_op ops[4];

    grpc_channel_credentials_release(creds);
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[2].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[2].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[3].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[3].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[3].data.recv_status_on_client.status = &status;
    ops[3].data.recv_status_on_client.status_details = &detail_slice;
    assert_int_equal(grpc_call_start_batch(call, ops, 4, ops, NULL), GRPC_CALL_OK);
    grpc_completion_queue_pluck(cq, ops, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

    *details =
        xstrndup((const char *)GRPC_SLICE_START_PTR(detail_slice), GRPC_SLICE_LENGTH(detail_slice));
    grpc_slice_unref(detail_slice);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(ch);
    return status;
}

static void
test_berth_rpc_server_missing_request(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *details = NULL;

    assert_int_equal(call_without_message(f, &details), GRPC_STATUS_INVALID_ARGUMENT);
    assert_string_equal(details, "rpc " SAY_PATH ": no request message");
}

static void
test_berth_rpc_client_call_large_message(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    size_t len = 10 * 1024 * 1024; /* past core's 4 MiB default, within the 16 MiB set */
    cleanup_free char *text = xmalloc(len + 1);

    memset(text, 'x', len);
    text[len] = '\0';
    Berth__Test__V1__SayReply *r = say(f->client, text, NULL, &err);
    if (r == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(strlen(r->text), len);
    reply_free(r);

    /* Past the limit: refused, with a status rather than a hang or a crash. */
    cleanup_free char *big = xmalloc(17 * 1024 * 1024 + 1);
    memset(big, 'y', 17 * 1024 * 1024);
    big[17 * 1024 * 1024] = '\0';
    assert_null(say(f->client, big, NULL, &err));
    berth_err_clear(&err);
}

struct say_thread {
    struct berth_rpc_client *client;
    int id;
    int n_ok;
};

static void *
say_many(void *arg)
{
    struct say_thread *t = arg;
    struct berth_err err = BERTH_ERR_INIT;

    for (int i = 0; i < 50; i++) {
        cleanup_free char *text = xasprintf("%d-%d", t->id, i);
        Berth__Test__V1__SayReply *r = say(t->client, text, NULL, &err);
        if (r == NULL) {
            berth_err_clear(&err);
            continue;
        }
        t->n_ok += strcmp(r->text, text) == 0;
        reply_free(r);
    }
    return NULL;
}

static void
test_berth_rpc_client_threads_share_a_client(void **state)
{
    struct fixture *f = *state;
    struct say_thread t[4];
    pthread_t tid[4];

    for (int i = 0; i < 4; i++) {
        t[i] = (struct say_thread){f->client, i, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, say_many, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(t[i].n_ok, 50);
    }
}

/* ---------------------------------------------------------------- streams */

static void
test_berth_rpc_stream_to_the_end(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_stream *s = watch(f, 100, 0);
    ProtobufCMessage *msg;

    for (uint32_t i = 0; i < 100; i++) {
        int r = berth_rpc_stream_next(s, &msg, &err);
        if (r != 1)
            fail_msg("event %u: %d %s", i, r, err.msg);
        assert_int_equal(((Berth__Test__V1__WatchEvent *)msg)->seq, i);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 0);
    assert_null(msg);
    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 0); /* and stays ended */
    berth_rpc_stream_free(s);
}

static void
test_berth_rpc_stream_cancel_runs_on_cancel(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_stream *s = watch(f, 0, 0);
    ProtobufCMessage *msg;
    int n = 0;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 1);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
    berth_rpc_stream_cancel(s);
    assert_int_equal(drain(s, &n, &err), -1);
    assert_int_equal(err.code, ECANCELED);
    berth_err_clear(&err);
    assert_int_equal(wait_for(f, &f->n_cancelled, 1), 1);
    assert_int_equal(wait_for(f, &f->n_ended, 1), 1);
    berth_rpc_stream_free(s);
}

struct canceller {
    struct berth_rpc_stream *s;
    int delay_ms;
};

static void *
cancel_later(void *arg)
{
    struct canceller *c = arg;

    sleep_ms(c->delay_ms);
    berth_rpc_stream_cancel(c->s);
    return NULL;
}

static void
test_berth_rpc_stream_cancel_from_another_thread(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_stream *s = watch(f, 0, 0);
    struct canceller c = {s, 200};
    pthread_t tid;
    int n = 0;

    /* next() blocks in one thread while another cancels. */
    assert_int_equal(pthread_create(&tid, NULL, cancel_later, &c), 0);
    assert_int_equal(drain(s, &n, &err), -1);
    pthread_join(tid, NULL);
    assert_int_equal(err.code, ECANCELED);
    assert_true(n > 0);
    berth_err_clear(&err);
    assert_int_equal(wait_for(f, &f->n_ended, 1), 1);
    berth_rpc_stream_free(s);
}

static void
test_berth_rpc_stream_free_unread(void **state)
{
    struct fixture *f = *state;

    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_stream *s = watch(f, 0, 0);
    ProtobufCMessage *msg;

    /* Freed with events unread: the stream is cancelled and the server hears of it. */
    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 1);
    protobuf_c_message_free_unpacked(msg, NULL);
    sleep_ms(50);
    berth_rpc_stream_free(s);
    assert_int_equal(wait_for(f, &f->n_ended, 1), 1);

    /* Freed before anything was read, or even sent: nothing to wait for, nothing leaks. */
    berth_rpc_stream_free(watch(f, 0, 0));
    berth_rpc_stream_free(watch(f, 5, 0));
}

static void
test_berth_rpc_call_send_queue_limit(void **state)
{
    struct fixture *f = *state;
    struct berth_rpc_stream *s = watch(f, 0, 1024);

    /* The client reads nothing, so flow control stops the writes and the queue fills. */
    int sent = wait_for(f, &f->flood_sent, 0);
    assert_in_range(sent, BERTH_RPC_MAX_QUEUED, 2 * BERTH_RPC_MAX_QUEUED);
    berth_rpc_stream_free(s);
}

static void
test_berth_rpc_call_send_wait_paces(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_stream *s = watch(f, 64, 1024 * 1024);
    ProtobufCMessage *msg;

    /* Nothing read: the handler stops after the window plus what the transport buffers
     * (HTTP/2 flow control: a few MiB), far from the 64 MiB it has to send. */
    sleep_ms(500);
    pthread_mutex_lock(&f->lock);
    int early = f->paced_sent;
    pthread_mutex_unlock(&f->lock);
    assert_in_range(early, 1, 24);

    /* Read, and everything comes, in order. */
    for (uint32_t i = 0; i < 64; i++) {
        int r = berth_rpc_stream_next(s, &msg, &err);
        if (r != 1)
            fail_msg("event %u: %d %s", i, r, err.msg);
        assert_int_equal(((Berth__Test__V1__WatchEvent *)msg)->seq, i);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 0);
    assert_int_equal(wait_for(f, &f->n_ended, 1), 1);
    berth_rpc_stream_free(s);

    /* A client that leaves while the handler waits frees it. */
    s = watch(f, 64, 1024 * 1024);
    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 1);
    protobuf_c_message_free_unpacked(msg, NULL);
    berth_rpc_stream_free(s);
    assert_int_equal(wait_for(f, &f->n_ended, 2), 2);
    assert_in_range(f->paced_sent, 64 + 1, 64 + 24);
}

static void
test_berth_rpc_server_free_with_live_stream(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_rpc_stream *s = watch(f, 0, 0);
    ProtobufCMessage *msg;
    int n = 0;

    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), 1);
    protobuf_c_message_free_unpacked(msg, NULL);

    /* The grace passes, the call is cancelled, its handler finishes, free returns. */
    int64_t t0 = now_ms();
    berth_rpc_server_free(f->srv, 100);
    f->srv = NULL;
    assert_in_range(now_ms() - t0, 90, 5000);
    assert_int_equal(f->n_cancelled, 1);
    assert_int_equal(f->n_ended, 1);
    assert_false(berth_fs_exists(f->sock));

    assert_int_equal(drain(s, &n, &err), -1);
    assert_true(err.code == ECONNREFUSED || err.code == ECANCELED);
    berth_err_clear(&err);
    berth_rpc_stream_free(s);
}

/* ---------------------------------------------------------------- server life */

static void
test_berth_rpc_client_server_down(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *address = xasprintf("unix://%s", f->sock);

    berth_rpc_server_free(f->srv, 0);
    f->srv = NULL;

    /* Fail fast: UNAVAILABLE, mapped to ECONNREFUSED, well before any timeout. */
    int64_t t0 = now_ms();
    assert_null(say(f->client, "hi", NULL, &err));
    assert_int_equal(err.code, ECONNREFUSED);
    assert_in_range(now_ms() - t0, 0, 2000);
    berth_err_clear(&err);

    /* A stream opens, and the first read tells. */
    struct berth_rpc_stream *s = watch(f, 3, 0);
    ProtobufCMessage *msg;
    assert_int_equal(berth_rpc_stream_next(s, &msg, &err), -1);
    assert_int_equal(err.code, ECONNREFUSED);
    berth_err_clear(&err);
    berth_rpc_stream_free(s);

    /* Waiting for ready ends at the deadline instead. */
    struct berth_rpc_opts opts = {.timeout_ms = 300, .wait_for_ready = true};
    t0 = now_ms();
    assert_null(say(f->client, "hi", &opts, &err));
    assert_int_equal(err.code, ETIMEDOUT);
    assert_in_range(now_ms() - t0, 250, 5000);
    berth_err_clear(&err);

    /* The server comes back at the same address; the same client reaches it. */
    f->srv = serve(f, address);
    opts.timeout_ms = 10000;
    Berth__Test__V1__SayReply *r = say(f->client, "again", &opts, &err);
    if (r == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(r->text, "again");
    reply_free(r);
}

static void
test_berth_rpc_client_no_socket_dir(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *address = xasprintf("%s/missing/x.sock", f->dir);
    struct berth_rpc_client *c = berth_rpc_client_new(address, &err);

    assert_non_null(c);
    assert_null(say(c, "hi", NULL, &err));
    assert_int_equal(err.code, ECONNREFUSED);
    berth_err_clear(&err);
    berth_rpc_client_free(c);
}

static void
test_berth_rpc_server_start_socket(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;

    assert_int_equal(stat(f->sock, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    /* A live server keeps its socket. */
    struct berth_rpc_server *srv = berth_rpc_server_new(f->sock, &err);
    assert_non_null(srv);
    assert_int_equal(berth_rpc_server_start(srv, &err), -1);
    assert_int_equal(err.code, EADDRINUSE);
    berth_err_clear(&err);
    berth_rpc_server_free(srv, 0);
    Berth__Test__V1__SayReply *r = say(f->client, "still", NULL, &err);
    assert_non_null(r);
    reply_free(r);

    /* A socket nobody listens on is a leftover: removed. */
    cleanup_free char *stale = xasprintf("%s/stale.sock", f->dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sa.sun_path, stale);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    srv = serve(f, stale);
    berth_rpc_server_free(srv, 0);
    assert_false(berth_fs_exists(stale));

    /* Anything else at the path is not ours to remove. */
    cleanup_free char *file = xasprintf("%s/file", f->dir);
    assert_int_equal(berth_fs_write_atomic(file, "x", 1, 0644, &err), 0);
    srv = berth_rpc_server_new(file, &err);
    assert_int_equal(berth_rpc_server_start(srv, &err), -1);
    assert_int_equal(err.code, EEXIST);
    berth_err_clear(&err);
    berth_rpc_server_free(srv, 0);
    assert_true(berth_fs_exists(file));

    /* No directory to bind in. */
    cleanup_free char *nodir = xasprintf("unix:%s/missing/x.sock", f->dir);
    srv = berth_rpc_server_new(nodir, &err);
    assert_int_equal(berth_rpc_server_start(srv, &err), -1);
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);
    berth_rpc_server_free(srv, 0);
}

static void
test_berth_rpc_server_new_bad_address(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    const char *bad[] = {"tcp://127.0.0.1:80", "relative.sock", "unix://relative.sock", "unix:rel",
                         ""};
    char longpath[200];

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_null(berth_rpc_server_new(bad[i], &err));
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, bad[i]));
        berth_err_clear(&err);
        assert_null(berth_rpc_client_new(bad[i], &err));
        assert_int_equal(err.code, EINVAL);
        berth_err_clear(&err);
    }
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    assert_null(berth_rpc_server_new(longpath, &err));
    assert_int_equal(err.code, ENAMETOOLONG);
    berth_err_clear(&err);
}

static void
test_berth_rpc_server_add_service_checks(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *address = xasprintf("%s/other.sock", f->dir);
    struct berth_rpc_server *srv = berth_rpc_server_new(address, &err);
    const struct berth_rpc_method missing[] = {
        {"Say", BERTH_RPC_UNARY, handle_say},
        {"Watch", BERTH_RPC_SERVER_STREAM, handle_watch},
        {"Fail", BERTH_RPC_UNARY, handle_fail},
    };
    const struct berth_rpc_method unknown[] = {
        {"Say", BERTH_RPC_UNARY, handle_say},   {"Watch", BERTH_RPC_SERVER_STREAM, handle_watch},
        {"Fail", BERTH_RPC_UNARY, handle_fail}, {"Slow", BERTH_RPC_UNARY, handle_slow},
        {"Nope", BERTH_RPC_UNARY, handle_say},
    };
    const struct berth_rpc_method twice[] = {
        {"Say", BERTH_RPC_UNARY, handle_say},
        {"Watch", BERTH_RPC_SERVER_STREAM, handle_watch},
        {"Fail", BERTH_RPC_UNARY, handle_fail},
        {"Say", BERTH_RPC_UNARY, handle_say},
    };
    const struct berth_rpc_method no_fn[] = {
        {"Say", BERTH_RPC_UNARY, NULL},
        {"Watch", BERTH_RPC_SERVER_STREAM, handle_watch},
        {"Fail", BERTH_RPC_UNARY, handle_fail},
        {"Slow", BERTH_RPC_UNARY, handle_slow},
    };
    const struct {
        const struct berth_rpc_method *m;
        size_t n;
        const char *msg;
    } cases[] = {
        {missing, ARRAY_SIZE(missing), "method `Slow` has no handler"},
        {unknown, ARRAY_SIZE(unknown), "no method `Nope`"},
        {twice, ARRAY_SIZE(twice), "method `Say` listed twice"},
        {no_fn, ARRAY_SIZE(no_fn), "method entry 0 has no handler"},
    };

    assert_non_null(srv);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(berth_rpc_server_add_service(srv, &berth__test__v1__echo__descriptor,
                                                      cases[i].m, cases[i].n, f, &err),
                         -1);
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, cases[i].msg));
        berth_err_clear(&err);
    }
    /* Never started: freed all the same. */
    berth_rpc_server_free(srv, 0);

    /* Once started, no more services. */
    assert_int_equal(berth_rpc_server_add_service(f->srv, &berth__test__v1__echo__descriptor,
                                                  echo_methods, ARRAY_SIZE(echo_methods), f, &err),
                     -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_berth_rpc_client_call_unary),
        T(test_berth_rpc_client_call_metadata),
        T(test_berth_rpc_call_deadline_ms),
        T(test_berth_rpc_call_fail_status),
        T(test_berth_rpc_client_call_deadline_exceeded),
        T(test_berth_rpc_client_call_unknown_method),
        T(test_berth_rpc_server_undecodable_request),
        T(test_berth_rpc_server_missing_request),
        T(test_berth_rpc_client_call_large_message),
        T(test_berth_rpc_client_threads_share_a_client),
        T(test_berth_rpc_stream_to_the_end),
        T(test_berth_rpc_stream_cancel_runs_on_cancel),
        T(test_berth_rpc_stream_cancel_from_another_thread),
        T(test_berth_rpc_stream_free_unread),
        T(test_berth_rpc_call_send_queue_limit),
        T(test_berth_rpc_call_send_wait_paces),
        T(test_berth_rpc_server_free_with_live_stream),
        T(test_berth_rpc_client_server_down),
        T(test_berth_rpc_client_no_socket_dir),
        T(test_berth_rpc_server_start_socket),
        T(test_berth_rpc_server_new_bad_address),
        T(test_berth_rpc_server_add_service_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
