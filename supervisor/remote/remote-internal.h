/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of supervisor/remote share: the client's state (client.c), one HTTP exchange
 * on libcurl with its retry loop (http.c), hosts and their scheme (host.c), and
 * authentication (auth.c). The pure parsers (challenges, credentials, host rules) are here
 * too, for the unit tests.
 */
#ifndef BERTH_SUPERVISOR_REMOTE_REMOTE_INTERNAL_H
#define BERTH_SUPERVISOR_REMOTE_REMOTE_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "supervisor/remote/remote.h"

/* ---- Credentials and challenges (auth.c) ------------------------------------------------- */

/* One entry of a docker config.json "auths" map. */
struct sup_remote_cred {
    char *host; /* normalized key: no scheme, no path ("registry.example.com:5000") */
    char *username;
    char *password;
};

/* One challenge of a WWW-Authenticate header: a scheme and its parameters. */
struct sup_remote_challenge {
    char *scheme;  /* lowercase: "bearer", "basic" */
    char **names;  /* lowercase parameter names */
    char **values; /* unquoted values */
    size_t n_params;
};

/* Parse a WWW-Authenticate value (several challenges may be comma-separated, RFC 7235) into a
 * new array of *n_out challenges (sup_remote_challenges_free). EINVAL on a malformed value. */
int sup_remote_parse_challenges(const char *header, struct sup_remote_challenge **out,
                                size_t *n_out, struct berth_err *err);
void sup_remote_challenges_free(struct sup_remote_challenge *c, size_t n);
/* The value of parameter name (lowercase) of c, or NULL. */
const char *sup_remote_challenge_param(const struct sup_remote_challenge *c, const char *name);

/* Parse a docker config.json into a new array of *n_out credentials (sup_remote_creds_free):
 * "auths" entries with "auth" (base64 of user:password) or "username" and "password". Keys
 * lose their scheme and path ("https://index.docker.io/v1/" is "index.docker.io"). Entries
 * with neither are skipped (an "identitytoken" alone, a credential helper's empty entry).
 * EINVAL with the key named on a bad entry. */
int sup_remote_parse_auth_config(const char *buf, size_t len, struct sup_remote_cred **out,
                                 size_t *n_out, struct berth_err *err);
void sup_remote_creds_free(struct sup_remote_cred *c, size_t n);
/* The credentials for registry host, or NULL. Docker Hub's names (docker.io,
 * registry-1.docker.io, index.docker.io) all find its entry. */
const struct sup_remote_cred *sup_remote_find_cred(const struct sup_remote_cred *c, size_t n,
                                                   const char *host);

/* ---- Host rules (host.c) ----------------------------------------------------------------- */

/* host ("name", "name:port", "1.2.3.4:5", "[::1]:5") is localhost, in 127.0.0.0/8 or ::1. By
 * name only, never by resolving it. */
bool sup_remote_is_loopback(const char *host);
/* host matches an insecure-registries entry: the same host[:port], the same name when the
 * entry has no port, or an address inside the entry's range ("10.0.0.0/8", "fd00::/8"). */
bool sup_remote_host_matches(const char *host, const char *entry);

/* ---- Client state (client.c) ------------------------------------------------------------- */

enum remote_auth_kind {
    REMOTE_AUTH_UNKNOWN = 0, /* not pinged yet */
    REMOTE_AUTH_NONE,
    REMOTE_AUTH_BASIC,
    REMOTE_AUTH_BEARER,
};

/* A registry as the client knows it: created on first use and kept until sup_remote_free, so
 * pointers to it stay valid. Fields after `name` change only under the client's lock. */
struct remote_host {
    char *name;         /* as in references: "host:port", "docker.io" */
    char *api_host;     /* where the API lives: "registry-1.docker.io" for docker.io */
    bool http_allowed;  /* loopback or listed insecure */
    bool insecure;      /* listed insecure: TLS is not verified */
    const char *scheme; /* "https" / "http" once pinged, else NULL */
    enum remote_auth_kind auth;
    char *realm;   /* bearer */
    char *service; /* bearer, may be NULL */
    struct remote_host *next;
};

struct remote_token {
    char *key;           /* "host scope..." */
    char *value;         /* the Authorization header value: "Bearer ..." */
    uint64_t expires_ms; /* on the monotonic clock */
};

struct sup_remote {
    char *auth_file; /* the file credentials came from, for messages; NULL when none */
    char *ca_file;
    char **insecure;
    size_t n_insecure;
    bool plain_http;
    unsigned max_attempts;
    unsigned retry_delay_ms;
    unsigned max_parallel;
    char *user_agent;
    struct sup_remote_cred *creds;
    size_t n_creds;

    /* Connections, TLS sessions and DNS answers shared by serial requests. */
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

    pthread_mutex_t lock; /* hosts, tokens */
    struct remote_host *hosts;
    struct remote_token *tokens;
    size_t n_tokens;
};

/* Milliseconds on the monotonic clock. */
uint64_t sup_remote_now_ms(void);
/* Sleep for the backoff before attempt `attempt` (1 for the first retry): retry_delay_ms
 * doubled each time, at most 10 s, with up to a quarter of random jitter, and at least
 * min_ms (a Retry-After). */
unsigned sup_remote_backoff_ms(struct sup_remote *r, unsigned attempt, unsigned min_ms);
/* Sleep ms milliseconds, through signals. */
void sup_remote_sleep_ms(unsigned ms);

/* ---- HTTP exchanges (http.c) ------------------------------------------------------------- */

struct remote_xfer;

/* Receives the body of a 2xx response. */
typedef int (*remote_sink_fn)(void *data, struct remote_xfer *x, const void *buf, size_t len,
                              struct berth_err *err);

struct remote_req {
    struct remote_host *host;
    const char *method; /* GET, HEAD, POST, PUT */
    char *url;          /* borrowed */
    const char *accept;
    const char *content_type;
    const char *authorization; /* a whole header value, or NULL */
    int64_t range_from;        /* > 0: "Range: bytes=N-" */
    /* Request body: body_len bytes at body, or read_size bytes through read. */
    const void *body;
    size_t body_len;
    sup_remote_read_fn read;
    void *read_data;
    int64_t read_size;
    sup_remote_progress_fn progress; /* upload progress */
    void *progress_data;
    /* Response body of a 2xx answer; others are kept in resp.body (up to 64 KiB). */
    remote_sink_fn sink;
    void *sink_data;
    unsigned max_attempts; /* 0: the client's */
    bool in_multi;         /* not on the client's share: curl multi handles share their own way */
    bool follow_redirects;
};

struct remote_resp {
    long status;
    char *reason; /* "Not Found" (HTTP/1.1) or NULL */
    char *content_type;
    char *digest; /* Docker-Content-Digest */
    char *location;
    char *www_authenticate; /* every challenge header, joined by ", " */
    char *content_range;
    char *retry_after;
    int64_t content_length; /* -1 when absent */
    char *body;             /* non-2xx bodies, NUL-terminated */
    size_t body_len;
};

struct remote_xfer {
    CURL *curl;
    struct curl_slist *headers;
    const struct remote_req *req;
    struct remote_resp resp;
    int64_t up_off;
    struct berth_err cb_err; /* a failure inside a callback (sink, read) */
    bool cb_failed;
    CURLcode code;
    char errbuf[CURL_ERROR_SIZE];
};

/* libcurl's global state and the client's share, made on first use rather than at start:
 * initializing OpenSSL through libcurl costs a daemon that never pulls about 2 MiB. */
int sup_remote_curl_ready(struct sup_remote *r, struct berth_err *err);

/* Prepare x for req (borrowed until sup_remote_xfer_cleanup). */
int sup_remote_xfer_init(struct sup_remote *r, struct remote_xfer *x, const struct remote_req *req,
                         struct berth_err *err);
void sup_remote_xfer_cleanup(struct remote_xfer *x);

enum remote_outcome {
    REMOTE_DONE = 0, /* a final answer: look at resp.status */
    REMOTE_RETRY,    /* transient: try again after *delay_ms */
    REMOTE_REAUTH,   /* 401: authenticate again, then retry */
    REMOTE_FAILED,   /* err is set */
};

/* Judge a finished exchange: attempt counts from 1; can_reauth says whether a 401 may still
 * be answered with new credentials. */
enum remote_outcome sup_remote_xfer_outcome(struct sup_remote *r, struct remote_xfer *x,
                                            unsigned attempt, bool can_reauth, unsigned *delay_ms,
                                            struct berth_err *err);

/* The error for an unexpected answer: "GET URL: 404 Not Found: MANIFEST_UNKNOWN: manifest
 * unknown", the registry's error document summarized. errno from the status: 401 EACCES, 403
 * EPERM, 404 ENOENT, 429 and 5xx EAGAIN/EIO, other 4xx EINVAL. Returns -1. */
int sup_remote_status_error(const struct remote_xfer *x, struct berth_err *err);
int sup_remote_status_errno(long status);

/* A failure that may pass: a connection error or timeout, 408, 429, a 5xx but 501 and 505. */
bool sup_remote_is_transient(CURLcode code, long status);

/* One request with retries and authentication (serial, on the client's share): makes the
 * exchange, retries transient failures with backoff, and answers one 401 by authenticating
 * again for scope (NULL: req->authorization is sent as it is, and a 401 is an answer like any
 * other). Returns 0 with x holding the final answer (any
 * status but 401; the caller calls sup_remote_xfer_cleanup), or -1 with x cleaned up. A body
 * sink must cope with a retry: before_attempt (may be NULL) is called before each attempt to
 * adjust req (a Range after bytes already delivered). */
int sup_remote_call(struct sup_remote *r, struct remote_req *req, const char *scope,
                    void (*before_attempt)(void *data, struct remote_req *req), void *data,
                    struct remote_xfer *x, struct berth_err *err);

/* ---- Hosts (host.c) ---------------------------------------------------------------------- */

/* The host entry for name, pinged: its scheme is known (https, or http where allowed and the
 * server does not speak TLS) and so is how it authenticates. The plain-http rule is applied
 * here, before any connection. */
int sup_remote_host_get(struct sup_remote *r, const char *name, struct remote_host **out,
                        struct berth_err *err);

/* "scheme://api_host/v2/<path>", heap. */
char *sup_remote_url(const struct remote_host *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- Authentication (auth.c) ------------------------------------------------------------- */

/* Load credentials from path (or the default location) into r. */
int sup_remote_auth_load(struct sup_remote *r, const char *path, struct berth_err *err);

/* The Authorization header value for a request to h in scope (heap, or NULL for none): basic
 * credentials, or a bearer token from the cache or the realm. */
int sup_remote_auth_header(struct sup_remote *r, struct remote_host *h, const char *scope,
                           char **out, struct berth_err *err);

/* After a 401 with challenge www_auth (may be NULL): learn the challenge, forget the cached
 * token, and return 0 when trying again with sup_remote_auth_header can help; otherwise -1
 * with EACCES saying why (no credentials, credentials refused). sent says whether the refused
 * request carried credentials. */
int sup_remote_auth_challenged(struct sup_remote *r, struct remote_host *h, const char *scope,
                               const char *www_auth, bool sent, struct berth_err *err);

/* Who the client is to h, for messages: "the credentials of `alice` from FILE", "no
 * credentials (none for `h` in FILE)". Heap. */
char *sup_remote_auth_describe(struct sup_remote *r, const struct remote_host *h);

/* "repository:NAME:pull" or "repository:NAME:pull,push", heap. */
char *sup_remote_scope(const char *repository, bool push);

#endif
