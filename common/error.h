/* SPDX-License-Identifier: Apache-2.0
 *
 * One error type for all of berth. A fallible function returns a negative int (or NULL) and
 * fills the `struct berth_err *err` it takes as its last argument, exactly once; on success it
 * leaves err alone. `code` is an errno value; `msg` is a heap string in lowercase naming the
 * operation and its object ("mount `/proc`"). strerror(code) is appended only when the error is
 * printed, at the top (main, an RPC reply, an HTTP response), never on the way up.
 */
#ifndef BERTH_COMMON_ERROR_H
#define BERTH_COMMON_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

struct berth_err {
    int code;      /* errno value; 0 means "no system cause", e.g. a parse error */
    char *msg;     /* heap, owned by the struct; NULL when no error is held */
    bool no_cause; /* code only classifies (EINVAL, EBUSY ...): print msg alone */
};

#define BERTH_ERR_INIT                                                                             \
    {                                                                                              \
        0, NULL, false                                                                             \
    }

/* Fill err with code and a formatted message. Always returns -1, so failure branches read
 * `return berth_err_set(err, errno, "open `%s`", path);`. If err already holds an error, the
 * old one is dropped (programmer error, but never a leak). err may be NULL. */
int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int berth_err_setv(struct berth_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Like berth_err_set for a failure with no system call behind it (bad input, wrong state):
 * code classifies it for the status tables, but berth_err_string prints msg without strerror,
 * so "container `x` already exists" doesn't end in ": File exists". Returns -1. */
int berth_err_fail(struct berth_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix context to an error as it rises: "create container `web`: " + old message.
 * Returns -1. If err holds nothing, it behaves as berth_err_set with code 0. */
int berth_err_wrap(struct berth_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Mark the error handled: free the message, zero the struct. */
void berth_err_clear(struct berth_err *err);

/* Log the error at warn level (with strerror) and clear it. */
void berth_err_warn(struct berth_err *err);

/* The whole message as a user sees it: "msg: strerror(code)" (or just msg when code is 0).
 * Returns a heap string the caller frees. */
char *berth_err_string(const struct berth_err *err);

/* Status mapping, one table (error.c): errno <-> gRPC status code <-> HTTP status.
 * These map a held error. Success is OK / 200 and never goes through the table, so a held error
 * with code 0 (no system cause) maps to INTERNAL / 500, as does any errno not in the table.
 * berth_err_from_grpc returns 0 for OK and EIO for a status not in the table. */
int berth_err_to_grpc(int code);
int berth_err_to_http(int code);
int berth_err_from_grpc(int grpc_status);

static inline void
berth_err_cleanup(struct berth_err *err)
{
    berth_err_clear(err);
}
#define cleanup_err __attribute__((cleanup(berth_err_cleanup)))

#endif
