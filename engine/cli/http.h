/* SPDX-License-Identifier: Apache-2.0
 *
 * berth's HTTP client for berthd: libcurl over the unix socket for ordinary requests and for
 * streamed bodies (progress lines of pulls, events, logs -f). Paths are given without the
 * version prefix; every request goes to /v1.41. A daemon that answers an error status
 * becomes err "Error response from daemon: <its message>" with an errno that classifies it
 * (404 ENOENT, 409 EEXIST, 400 EINVAL, 501 ENOTSUP, else EIO), which callers may test.
 * Connection failures say that berthd is not reachable at the host.
 */
#ifndef BERTH_ENGINE_CLI_HTTP_H
#define BERTH_ENGINE_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct json_object;
struct cli_global;

#define CLI_API_PREFIX "/v1.41"

struct cli_request {
    const char *method;
    const char *path;           /* "/containers/json?all=1", query already escaped */
    struct json_object *json;   /* a JSON body, or NULL */
    const char *body_file;      /* a file to upload as the body (load), or NULL */
    const char *const *headers; /* extra "Name: value" headers, NULL-terminated, or NULL */
    /* Streamed responses: each chunk of a 2xx body goes to on_data as it arrives (the body is
     * not kept). Returning -1 stops the transfer with that err. */
    int (*on_data)(void *opaque, const char *data, size_t len, struct berth_err *err);
    void *opaque;
    /* When not NULL, called once the status line has arrived (before any body). */
    void (*on_status)(void *opaque, long status);
    void *status_opaque;
    /* When not NULL, the transfer is abandoned (within a second) once *cancel is true. */
    const volatile bool *cancel;
};

struct cli_response {
    long status;
    char *body; /* the whole body (when not streamed), NUL-terminated */
    size_t body_len;
    char *path_stat; /* X-Docker-Container-Path-Stat (archive endpoints), or NULL */
};

/* Send req. Returns 0 with resp filled when the daemon answered 2xx/3xx; -1 with err on a
 * transport failure or an error status (resp->status still says which). Free resp with
 * cli_response_free. */
int cli_http_do(const struct cli_global *g, const struct cli_request *req,
                struct cli_response *resp, struct berth_err *err);
void cli_response_free(struct cli_response *resp);

/* The common case: method on path with an optional JSON body; the JSON answer (when there is
 * one and out is not NULL) goes to *out. Returns 0 or -1 with err. */
int cli_api(const struct cli_global *g, const char *method, const char *path,
            struct json_object *body, struct json_object **out, struct berth_err *err);

/* Query-escape s (curl_easy_escape). Returns a heap string. */
char *cli_escape(const char *s);

/* The errno an HTTP error status maps to (see above). */
int cli_status_errno(long status);

/* Stream lines: feed chunks, get one callback per complete line (without the newline). */
struct cli_lines {
    char *buf;
    size_t len;
    int (*on_line)(void *opaque, char *line, struct berth_err *err);
    void *opaque;
};
int cli_lines_feed(struct cli_lines *l, const char *data, size_t len, struct berth_err *err);
/* The last line when it had no newline; frees the buffer. */
int cli_lines_finish(struct cli_lines *l, struct berth_err *err);
/* An on_data that feeds the struct cli_lines passed as opaque. */
int cli_lines_on_data(void *opaque, const char *data, size_t len, struct berth_err *err);

#endif
