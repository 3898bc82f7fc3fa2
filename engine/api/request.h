/* SPDX-License-Identifier: Apache-2.0
 *
 * One HTTP request as a handler sees it, and the ways to answer it: a JSON document, an
 * error in docker's shape ({"message": "..."}), or a stream produced as the client reads.
 * Every response carries dockerd's headers (Api-Version, Docker-Experimental, OSType,
 * Server). A handler answers exactly once, or returns -1 with err, which the server turns
 * into the error response (status from common/error's table).
 */
#ifndef BERTH_ENGINE_API_REQUEST_H
#define BERTH_ENGINE_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "engine/api/router.h"

struct berth_err;
struct eng_daemon;
struct json_object;
struct MHD_Connection;
struct MHD_Response;

struct eng_api_req {
    struct eng_daemon *d;
    struct MHD_Connection *conn;
    const char *method;
    const char *path; /* after the version prefix */
    int version;      /* 141 for /v1.41/..., 0 without a prefix */
    const struct eng_api_route *route;
    struct eng_api_params params;
    /* The body: in memory, or in body_path (ENG_API_BODY_FILE routes). */
    char *body;
    size_t body_len;
    char *body_path;
    int body_fd;
    /* The answer, set by the eng_api_reply_* functions. */
    struct MHD_Response *resp;
    unsigned status;
    struct upgrade *upgrade; /* eng_api_reply_upgrade's session, until the request ends */
};

/* A query argument (the first when repeated), or NULL. */
const char *eng_api_query(struct eng_api_req *req, const char *key);

/* Every value of a repeated query argument ("names=a&names=b") as a new NULL-terminated
 * vector (free with cleanup_strv); *n gets the count. */
char **eng_api_query_all(struct eng_api_req *req, const char *key, size_t *n);

/* A boolean query argument as dockerd reads it: absent, "", "0", "false" are false; "1",
 * "true" are true; anything else is EINVAL naming the argument. */
int eng_api_query_bool(struct eng_api_req *req, const char *key, bool *out, struct berth_err *err);

/* A request header, or NULL. */
const char *eng_api_header(struct eng_api_req *req, const char *key);

/* The body as a JSON object (*out NULL for an empty body). EINVAL for anything but one JSON
 * object, naming where it went wrong. */
int eng_api_body_json(struct eng_api_req *req, struct json_object **out, struct berth_err *err);

/* Answer with obj serialized (takes obj). Returns 0. */
int eng_api_reply_json(struct eng_api_req *req, unsigned status, struct json_object *obj);

/* Answer with bytes (copied) of content type ctype (NULL: none). Returns 0. */
int eng_api_reply_data(struct eng_api_req *req, unsigned status, const char *ctype,
                       const void *data, size_t len);

/* Answer with docker's error document for err (status from its code). err is left as is. */
void eng_api_reply_error(struct eng_api_req *req, const struct berth_err *err);

/* A streamed body. next() is called on the connection's thread each time the client has
 * read everything before: it appends to *buf / *len (heap, xrealloc'd) and returns 1, or
 * returns 0 at the end. It may block. done(ctx) runs once, when the response is freed
 * (completed or the client gone). */
struct eng_api_stream_ops {
    int (*next)(void *ctx, char **buf, size_t *len);
    void (*done)(void *ctx);
};
/* Answer with a stream (chunked). On return ctx belongs to the response. Returns 0. */
int eng_api_reply_stream(struct eng_api_req *req, unsigned status, const char *ctype,
                         const struct eng_api_stream_ops *ops, void *ctx);

/* A hijacked connection (attach, exec start): the answer is 101 Switching Protocols with
 * `Upgrade: tcp`, then session() gets the socket on the connection's thread and may block
 * until it is done (it never closes fd; extra is what the client sent after its headers).
 * done(ctx) runs once, after the session or when the connection ends without one. A request
 * that did not ask for the upgrade (Connection: Upgrade, Upgrade: tcp) is EINVAL and ctx is
 * released at once. */
struct eng_api_upgrade_ops {
    void (*session)(void *ctx, int fd, const char *extra, size_t n);
    void (*done)(void *ctx);
};
int eng_api_reply_upgrade(struct eng_api_req *req, const char *ctype,
                          const struct eng_api_upgrade_ops *ops, void *ctx, struct berth_err *err);
/* Drop the request's hold on its upgrade session (server.c, when the request ends). */
void eng_api_req_release_upgrade(struct eng_api_req *req);

/* Append one JSON document and a newline to *buf (the line shape of docker's streams);
 * takes obj. */
void eng_api_append_json(char **buf, size_t *len, struct json_object *obj);

/* Add dockerd's headers to a response (server.c does it for every response). */
void eng_api_add_headers(struct MHD_Response *resp);

#endif
