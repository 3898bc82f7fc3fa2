/* SPDX-License-Identifier: Apache-2.0
 *
 * The registry client's lifetime (remote.h): options, credentials, the curl share that lets
 * serial requests reuse connections and TLS sessions across threads, and the caches of hosts
 * and tokens (guarded by one mutex), plus the clock and backoff every retry loop uses.
 */
#include "supervisor/remote/remote.h"
#include "supervisor/remote/remote-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"

#define DEFAULT_ATTEMPTS 5
#define DEFAULT_DELAY_MS 200
#define DEFAULT_PARALLEL 4
#define MAX_BACKOFF_MS   10000

/* curl_global_init is not thread-safe in older libcurl; run it once. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code;

static void
init_curl(void)
{
    curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr)
{
    struct sup_remote *r = userptr;

    if (data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&r->share_locks[data]);
}

static void
share_unlock(CURL *handle, curl_lock_data data, void *userptr)
{
    struct sup_remote *r = userptr;

    if (data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&r->share_locks[data]);
}

int
sup_remote_curl_ready(struct sup_remote *r, struct berth_err *err)
{
    pthread_once(&curl_once, init_curl);
    if (curl_init_code != CURLE_OK)
        return berth_err_fail(err, EIO, "initialize libcurl: %s",
                              curl_easy_strerror(curl_init_code));

    int rc = 0;
    pthread_mutex_lock(&r->lock);
    if (r->share == NULL) {
        r->share = curl_share_init();
        if (r->share == NULL) {
            rc = berth_err_fail(err, ENOMEM, "create curl share");
        } else {
            curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
            curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
            curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
            curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
            curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
            curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int
sup_remote_new(const struct sup_remote_options *opts, struct sup_remote **out,
               struct berth_err *err)
{
    static const struct sup_remote_options none = {0};

    if (opts == NULL)
        opts = &none;
    struct sup_remote *r = xzalloc(sizeof(*r));
    r->ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
    r->insecure = xzalloc((opts->n_insecure_registries + 1) * sizeof(*r->insecure));
    for (size_t i = 0; i < opts->n_insecure_registries; i++)
        r->insecure[i] = xstrdup(opts->insecure_registries[i]);
    r->n_insecure = opts->n_insecure_registries;
    r->plain_http = opts->plain_http;
    r->max_attempts = opts->max_attempts ? opts->max_attempts : DEFAULT_ATTEMPTS;
    r->retry_delay_ms = opts->retry_delay_ms ? opts->retry_delay_ms : DEFAULT_DELAY_MS;
    r->max_parallel = opts->max_parallel ? opts->max_parallel : DEFAULT_PARALLEL;
    r->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "berth/" BERTH_VERSION);
    pthread_mutex_init(&r->lock, NULL);
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&r->share_locks[i], NULL);

    if (opts->username) {
        r->creds = xzalloc(sizeof(*r->creds));
        r->creds[0].host = xstrdup(opts->auth_host ? opts->auth_host : "");
        r->creds[0].username = xstrdup(opts->username);
        r->creds[0].password = xstrdup(opts->password ? opts->password : "");
        r->n_creds = 1;
        r->auth_file = xstrdup("the request");
    } else if (sup_remote_auth_load(r, opts->auth_file, err) < 0) {
        sup_remote_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void
sup_remote_free(struct sup_remote *r)
{
    if (r == NULL)
        return;
    if (r->share)
        curl_share_cleanup(r->share);
    for (struct remote_host *h = r->hosts, *next = NULL; h; h = next) {
        next = h->next;
        free(h->name);
        free(h->api_host);
        free(h->realm);
        free(h->service);
        free(h);
    }
    for (size_t i = 0; i < r->n_tokens; i++) {
        free(r->tokens[i].key);
        /* Tokens are credentials: do not leave them in freed memory. */
        explicit_bzero(r->tokens[i].value, strlen(r->tokens[i].value));
        free(r->tokens[i].value);
    }
    free(r->tokens);
    sup_remote_creds_free(r->creds, r->n_creds);
    for (size_t i = 0; i < r->n_insecure; i++)
        free(r->insecure[i]);
    free(r->insecure);
    free(r->auth_file);
    free(r->ca_file);
    free(r->user_agent);
    pthread_mutex_destroy(&r->lock);
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&r->share_locks[i]);
    free(r);
}

uint64_t
sup_remote_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned
sup_remote_backoff_ms(struct sup_remote *r, unsigned attempt, unsigned min_ms)
{
    uint64_t delay = r->retry_delay_ms;

    for (unsigned i = 1; i < attempt && delay < MAX_BACKOFF_MS; i++)
        delay *= 2;
    if (delay > MAX_BACKOFF_MS)
        delay = MAX_BACKOFF_MS;
    /* Jitter keeps many clients that failed together from coming back together. */
    delay += arc4random_uniform((uint32_t)delay / 4 + 1);
    if (delay < min_ms)
        delay = min_ms;
    return (unsigned)delay;
}

void
sup_remote_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
