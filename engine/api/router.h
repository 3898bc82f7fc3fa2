/* SPDX-License-Identifier: Apache-2.0
 *
 * The Docker API's routes: a table of {method, path pattern, handler} (routes.c) and the
 * matching of a request path against it, after the optional /v1.NN version prefix. Patterns
 * are literal segments and parameters: `{name}` takes one segment, `{name*}` one or more
 * (image names such as "127.0.0.1:5000/team/app" hold slashes, as dockerd allows).
 */
#ifndef BERTH_ENGINE_API_ROUTER_H
#define BERTH_ENGINE_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct eng_api_req;

/* The API versions served: the newest is what _ping and /version announce. */
#define ENG_API_VERSION     "1.41"
#define ENG_API_VERSION_MIN "1.12"

typedef int (*eng_api_handler_fn)(struct eng_api_req *req, struct berth_err *err);

/* The body is written to a temporary file as it arrives instead of held in memory. */
#define ENG_API_BODY_FILE 1u

struct eng_api_route {
    const char *method; /* "GET"; GET routes answer HEAD too */
    const char *pattern;
    eng_api_handler_fn fn;
    unsigned flags;
};

#define ENG_API_MAX_PARAMS 4
struct eng_api_params {
    size_t n;
    const char *names[ENG_API_MAX_PARAMS]; /* point into the pattern, not terminated: see len */
    size_t name_len[ENG_API_MAX_PARAMS];
    char *values[ENG_API_MAX_PARAMS]; /* heap */
};

void eng_api_params_clear(struct eng_api_params *p);

/* The value of parameter name, or NULL. */
const char *eng_api_param(const struct eng_api_params *p, const char *name);

/* Split "/v1.40/images/json" into the version (140 as major * 100 + minor; 0 when the path
 * has no prefix) and the rest ("/images/json", pointing into path). A version outside
 * 1.12 ..= 1.41 is EINVAL with dockerd's words ("client version 1.42 is too new. Maximum
 * supported API version is 1.41"). */
int eng_api_version_split(const char *path, int *version, const char **rest, struct berth_err *err);

/* Whether path matches pattern; on a match p holds the parameters (cleared first). */
bool eng_api_pattern_match(const char *pattern, const char *path, struct eng_api_params *p);

enum eng_api_match {
    ENG_API_MATCHED = 0,
    ENG_API_NO_ROUTE,  /* 404 */
    ENG_API_NO_METHOD, /* the path is known, the method is not: 405 */
};

/* The route for method and path (the path after the version prefix). */
enum eng_api_match eng_api_route_find(const struct eng_api_route *routes, size_t n_routes,
                                      const char *method, const char *path,
                                      const struct eng_api_route **out, struct eng_api_params *p);

/* The engine's route table (routes.c). */
extern const struct eng_api_route eng_api_routes[];
extern const size_t eng_api_n_routes;

#endif
