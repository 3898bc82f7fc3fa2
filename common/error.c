/* SPDX-License-Identifier: Apache-2.0
 *
 * The berth error type (error.h) and the one table that maps an errno to a gRPC status and an
 * HTTP status and back. The table is the only place where these mappings live: the supervisor's
 * RPC replies, berth-ctr, berthd's Docker API and the berth CLI all go through it, so that a
 * missing container is ENOENT in the library, NOT_FOUND on the wire and 404 to a Docker client.
 */
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"

/* gRPC status codes (grpc/status.h), spelled out so that common/ does not need gRPC headers. */
enum {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_OUT_OF_RANGE = 11,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
};

/* errno <-> gRPC <-> HTTP. Going from gRPC back to errno takes the first row with that status,
 * so the row order matters where several errnos share a status (EACCES before EPERM).
 * Anything not listed is INTERNAL / 500 one way and EIO the other.
 *
 * Choices not forced by the names: EBUSY is FAILED_PRECONDITION / 409 (the Docker API answers
 * 409 for "container is running" and friends); ETIMEDOUT is 504, a deadline that passed while
 * waiting on a layer below; ECANCELED is 499, the "client closed request" code that
 * grpc-gateway also uses, since the client that cancelled will never read the reply anyway. */
/* clang-format off */
static const struct {
    int code;
    int grpc;
    int http;
} status_table[] = {
    {ENOENT, GRPC_NOT_FOUND, 404},
    {EEXIST, GRPC_ALREADY_EXISTS, 409},
    {EINVAL, GRPC_INVALID_ARGUMENT, 400},
    {EBUSY, GRPC_FAILED_PRECONDITION, 409},
    {ENOTSUP, GRPC_UNIMPLEMENTED, 501}, /* == EOPNOTSUPP on Linux */
    {ENOSYS, GRPC_UNIMPLEMENTED, 501},
    {EACCES, GRPC_PERMISSION_DENIED, 403},
    {EPERM, GRPC_PERMISSION_DENIED, 403},
    {ETIMEDOUT, GRPC_DEADLINE_EXCEEDED, 504},
    {ECANCELED, GRPC_CANCELLED, 499},
    {ERANGE, GRPC_OUT_OF_RANGE, 400},
    {ECONNREFUSED, GRPC_UNAVAILABLE, 503},
};
/* clang-format on */

int
berth_err_setv(struct berth_err *err, int code, const char *fmt, va_list ap)
{
    char *msg = NULL;

    if (err == NULL)
        return -1;
    /* Format before freeing: the arguments may point into the message being replaced. */
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = xstrdup("out of memory formatting an error");
    free(err->msg);
    err->code = code;
    err->msg = msg;
    err->no_cause = false;
    return -1;
}

int
berth_err_fail(struct berth_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_err_setv(err, code, fmt, ap);
    va_end(ap);
    if (err)
        err->no_cause = true;
    return -1;
}

int
berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    berth_err_setv(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int
berth_err_wrap(struct berth_err *err, const char *fmt, ...)
{
    cleanup_free char *prefix = NULL;
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    if (err->msg == NULL) {
        berth_err_setv(err, 0, fmt, ap);
        va_end(ap);
        return -1;
    }
    if (vasprintf(&prefix, fmt, ap) < 0)
        prefix = NULL;
    va_end(ap);
    if (prefix == NULL)
        return -1; /* keep the inner message rather than lose it */

    char *msg = xasprintf("%s: %s", prefix, err->msg);
    free(err->msg);
    err->msg = msg;
    return -1;
}

void
berth_err_clear(struct berth_err *err)
{
    if (err == NULL)
        return;
    free(err->msg);
    err->msg = NULL;
    err->code = 0;
    err->no_cause = false;
}

char *
berth_err_string(const struct berth_err *err)
{
    /* strerrordesc_np, unlike strerror, is thread-safe and never localised. */
    const char *desc = NULL;
    int code = err ? err->code : 0;

    if (code != 0 && !err->no_cause) {
        desc = strerrordesc_np(code);
        if (desc == NULL)
            return err->msg ? xasprintf("%s: unknown error %d", err->msg, code)
                            : xasprintf("unknown error %d", code);
    }
    if (err == NULL || err->msg == NULL)
        return xstrdup(desc ? desc : "no error");
    if (desc == NULL)
        return xstrdup(err->msg);
    return xasprintf("%s: %s", err->msg, desc);
}

void
berth_err_warn(struct berth_err *err)
{
    if (err == NULL || (err->msg == NULL && err->code == 0))
        return;

    cleanup_free char *s = berth_err_string(err);
    berth_warn("%s", s);
    berth_err_clear(err);
}

int
berth_err_to_grpc(int code)
{
    for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
        if (status_table[i].code == code)
            return status_table[i].grpc;
    return GRPC_INTERNAL;
}

int
berth_err_to_http(int code)
{
    for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
        if (status_table[i].code == code)
            return status_table[i].http;
    return 500;
}

int
berth_err_from_grpc(int grpc_status)
{
    if (grpc_status == GRPC_OK)
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
        if (status_table[i].grpc == grpc_status)
            return status_table[i].code;
    return EIO;
}
