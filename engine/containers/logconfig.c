/* SPDX-License-Identifier: Apache-2.0
 *
 * The json-file log options of a container (internal.h): HostConfig.LogConfig.Config's
 * "max-size" and "max-file", else the daemon's log-opts, as dockerd merges them.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
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

const char *
eng_ctr_default_log_driver(struct eng_daemon *d)
{
    return d->config && d->config->log_driver ? d->config->log_driver : "json-file";
}

int64_t
eng_ctr_log_max_size(struct eng_daemon *d, struct json_object *opts)
{
    const char *s = opt(opts, "max-size");
    if (!s)
        return d->config && d->config->log_max_size > 0 ? d->config->log_max_size : 0;
    if (strcmp(s, "-1") == 0)
        return 0; /* no rotation */
    int64_t size;
    struct berth_err err = BERTH_ERR_INIT;
    if (eng_config_parse_size(s, &size, &err) < 0) {
        berth_err_clear(&err);
        return -1;
    }
    return size;
}

int
eng_ctr_log_max_files(struct eng_daemon *d, struct json_object *opts)
{
    const char *s = opt(opts, "max-file");
    if (!s)
        return d->config && d->config->log_max_file > 0 ? d->config->log_max_file : 1;
    char *end = NULL;
    long n = strtol(s, &end, 10);
    return *s && !*end && n >= 1 && n < 100000 ? (int)n : 0;
}
