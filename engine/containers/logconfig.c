/* SPDX-License-Identifier: Apache-2.0
 *
 * The json-file log options of a container (internal.h): HostConfig.LogConfig.Config's
 * "max-size" and "max-file", else the daemon's log-opts, as dockerd merges them.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"

static const char *
opt(struct json_object *opts, const char *key)
{
    struct json_object *v = NULL;
    if (opts && json_object_object_get_ex(opts, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

int64_t
eng_size_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    int64_t unit = 1;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        unit = 1LL << 10;
        end++;
        break;
    case 'm':
        unit = 1LL << 20;
        end++;
        break;
    case 'g':
        unit = 1LL << 30;
        end++;
        break;
    case 't':
        unit = 1LL << 40;
        end++;
        break;
    case 'p':
        unit = 1LL << 50;
        end++;
        break;
    default: break;
    }
    if (tolower((unsigned char)*end) == 'b')
        end++;
    if (tolower((unsigned char)*end) == 'i' && unit > 1)
        end++;
    if (*end)
        return -1;
    return (int64_t)(v * (double)unit);
}

const char *
eng_ctr_default_log_driver(struct eng_daemon *d)
{
    (void)d;
    return "json-file";
}

int64_t
eng_ctr_log_max_size(struct eng_daemon *d, struct json_object *opts)
{
    (void)d;
    const char *s = opt(opts, "max-size");
    if (!s || strcmp(s, "-1") == 0)
        return 0; /* no rotation */
    return eng_size_parse(s);
}

int
eng_ctr_log_max_files(struct eng_daemon *d, struct json_object *opts)
{
    (void)d;
    const char *s = opt(opts, "max-file");
    if (!s)
        return 1;
    char *end = NULL;
    long n = strtol(s, &end, 10);
    return *s && !*end && n >= 1 && n < 100000 ? (int)n : 0;
}
