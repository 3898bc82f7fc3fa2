/* SPDX-License-Identifier: Apache-2.0
 *
 * libcurl, loaded on first use. Linking it brings in a dozen libraries (GnuTLS and Kerberos
 * through LDAP, libssh2, nghttp2, libidn2...) whose loading and constructors cost about 3 MiB
 * of resident memory in every process, while a supervisor that never pulls never needs them.
 * So sup-remote does not link libcurl: this file defines the curl_* functions it calls, and the
 * first call dlopen()s the real library and forwards to it.
 *
 * The definitions are not exported (the executables are not linked with -rdynamic), so
 * libcurl's calls between its own functions never land here.
 *
 * When the library cannot be loaded every call fails the way libcurl reports failure (NULL,
 * CURLE_FAILED_INIT...) and curl_easy_strerror names the dlopen error, which is what a
 * caller's message shows.
 */
#define CURL_DISABLE_TYPECHECK 1

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define LIBCURL_SONAME "libcurl.so.4"

/* Each function: return type, name, parameters, arguments, what it returns unloaded. */
#define CURL_FUNCTIONS(X, V)                                                                       \
    X(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                        \
    X(CURL *, curl_easy_init, (void), (), NULL)                                                    \
    V(curl_easy_cleanup, (CURL * curl), (curl))                                                    \
    X(CURLcode, curl_easy_perform, (CURL * curl), (curl), CURLE_FAILED_INIT)                       \
    X(char *, curl_easy_escape, (CURL * h, const char *s, int len), (h, s, len), NULL)             \
    V(curl_free, (void *p), (p))                                                                   \
    X(CURLM *, curl_multi_init, (void), (), NULL)                                                  \
    X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m), CURLM_BAD_HANDLE)                           \
    X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * e), (m, e), CURLM_BAD_HANDLE)           \
    X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * e), (m, e), CURLM_BAD_HANDLE)        \
    X(CURLMcode, curl_multi_perform, (CURLM * m, int *running), (m, running), CURLM_BAD_HANDLE)    \
    X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *queued), (m, queued), NULL)                \
    X(CURLMcode, curl_multi_poll,                                                                  \
      (CURLM * m, struct curl_waitfd fds[], unsigned int nfds, int timeout_ms, int *ret),          \
      (m, fds, nfds, timeout_ms, ret), CURLM_BAD_HANDLE)                                           \
    X(CURLSH *, curl_share_init, (void), (), NULL)                                                 \
    X(CURLSHcode, curl_share_cleanup, (CURLSH * sh), (sh), CURLSHE_INVALID)                        \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s),      \
      NULL)                                                                                        \
    V(curl_slist_free_all, (struct curl_slist * l), (l))                                           \
    X(CURLU *, curl_url, (void), (), NULL)                                                         \
    V(curl_url_cleanup, (CURLU * u), (u))                                                          \
    X(CURLUcode, curl_url_get, (CURLU * u, CURLUPart what, char **part, unsigned int flags),       \
      (u, what, part, flags), CURLUE_OUT_OF_MEMORY)                                                \
    X(CURLUcode, curl_url_set, (CURLU * u, CURLUPart what, const char *part, unsigned int flags),  \
      (u, what, part, flags), CURLUE_OUT_OF_MEMORY)

#define POINTER(ret, name, params, args, fail) ret(*name) params;
#define POINTER_VOID(name, params, args)       void(*name) params;

static struct {
    CURL_FUNCTIONS(POINTER, POINTER_VOID)
    CURLcode (*curl_easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*curl_easy_getinfo)(CURL *, CURLINFO, ...);
    CURLMcode (*curl_multi_setopt)(CURLM *, CURLMoption, ...);
    CURLSHcode (*curl_share_setopt)(CURLSH *, CURLSHoption, ...);
    const char *(*curl_easy_strerror)(CURLcode);
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

#define RESOLVE(ret, name, params, args, fail) *(void **)&lib.name = dlsym(handle, #name);
#define RESOLVE_VOID(name, params, args)       *(void **)&lib.name = dlsym(handle, #name);
#define CHECK(ret, name, params, args, fail)   ok = ok && lib.name != NULL;
#define CHECK_VOID(name, params, args)         ok = ok && lib.name != NULL;

static void
load(void)
{
    void *handle = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(load_error, sizeof(load_error), "cannot load libcurl: %s", dlerror());
        return;
    }
    CURL_FUNCTIONS(RESOLVE, RESOLVE_VOID)
    *(void **)&lib.curl_easy_setopt = dlsym(handle, "curl_easy_setopt");
    *(void **)&lib.curl_easy_getinfo = dlsym(handle, "curl_easy_getinfo");
    *(void **)&lib.curl_multi_setopt = dlsym(handle, "curl_multi_setopt");
    *(void **)&lib.curl_share_setopt = dlsym(handle, "curl_share_setopt");
    *(void **)&lib.curl_easy_strerror = dlsym(handle, "curl_easy_strerror");

    bool ok = lib.curl_easy_setopt && lib.curl_easy_getinfo && lib.curl_multi_setopt &&
              lib.curl_share_setopt && lib.curl_easy_strerror;
    CURL_FUNCTIONS(CHECK, CHECK_VOID)
    if (!ok) {
        snprintf(load_error, sizeof(load_error), "%s lacks a function berth uses", LIBCURL_SONAME);
        /* Keep the handle: some pointers may be set, but none is used (loaded() is false). */
        lib.curl_global_init = NULL;
    }
}

static bool
loaded(void)
{
    pthread_once(&load_once, load);
    return lib.curl_global_init != NULL;
}

#define FORWARD(ret, name, params, args, fail)                                                     \
    ret name params                                                                                \
    {                                                                                              \
        return loaded() ? lib.name args : fail;                                                    \
    }
#define FORWARD_VOID(name, params, args)                                                           \
    void name params                                                                               \
    {                                                                                              \
        if (loaded())                                                                              \
            lib.name args;                                                                         \
    }

CURL_FUNCTIONS(FORWARD, FORWARD_VOID)

const char *
curl_easy_strerror(CURLcode code)
{
    return loaded() ? lib.curl_easy_strerror(code) : load_error;
}

/* The type of the one value after an option numbered n, by curl.h's ranges. */
enum value_type { VALUE_LONG, VALUE_POINTER, VALUE_FUNCTION, VALUE_OFF_T };

static enum value_type
option_type(long n)
{
    if (n >= CURLOPTTYPE_BLOB)
        return VALUE_POINTER;
    if (n >= CURLOPTTYPE_OFF_T)
        return VALUE_OFF_T;
    if (n >= CURLOPTTYPE_FUNCTIONPOINT)
        return VALUE_FUNCTION;
    if (n >= CURLOPTTYPE_OBJECTPOINT)
        return VALUE_POINTER;
    return VALUE_LONG;
}

/* Call fn(handle, option, value) with value read from ap as the type t. */
#define CALL_TYPED(fn, handle, option, t, ap)                                                      \
    ((t) == VALUE_LONG       ? fn(handle, option, va_arg(ap, long))                                \
     : (t) == VALUE_OFF_T    ? fn(handle, option, va_arg(ap, curl_off_t))                          \
     : (t) == VALUE_FUNCTION ? fn(handle, option, va_arg(ap, void (*)(void)))                      \
                             : fn(handle, option, va_arg(ap, void *)))

CURLcode
curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    if (!loaded())
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, option);
    CURLcode rc = CALL_TYPED(lib.curl_easy_setopt, curl, option, option_type(option), ap);
    va_end(ap);
    return rc;
}

CURLMcode
curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
    if (!loaded())
        return CURLM_BAD_HANDLE;
    va_list ap;
    va_start(ap, option);
    CURLMcode rc = CALL_TYPED(lib.curl_multi_setopt, multi, option, option_type(option), ap);
    va_end(ap);
    return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    if (!loaded())
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    CURLcode rc = lib.curl_easy_getinfo(curl, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* Share options are not numbered by type: the lock callbacks are functions, the user data a
 * pointer, and (UN)SHARE an int (a curl_lock_data). */
CURLSHcode
curl_share_setopt(CURLSH *share, CURLSHoption option, ...)
{
    if (!loaded())
        return CURLSHE_NOT_BUILT_IN;
    va_list ap;
    va_start(ap, option);
    CURLSHcode rc;
    switch (option) {
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC:
        rc = lib.curl_share_setopt(share, option, va_arg(ap, void (*)(void)));
        break;
    case CURLSHOPT_USERDATA: rc = lib.curl_share_setopt(share, option, va_arg(ap, void *)); break;
    default: rc = lib.curl_share_setopt(share, option, va_arg(ap, int)); break;
    }
    va_end(ap);
    return rc;
}
