/* SPDX-License-Identifier: Apache-2.0
 *
 * daemon.json (config.h).
 */
#include "engine/config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"

static const char *const known[] = {"debug", "data-root", "log-level"};

static int
check_keys(struct json_object *o, struct berth_err *err)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            return berth_err_fail(err, EINVAL,
                                  "the following directives don't match any configuration "
                                  "option: %s",
                                  key);
    }
    return 0;
}

static int
parse(struct json_object *o, struct eng_config *c, struct berth_err *err)
{
    const char *root = NULL, *level = NULL;
    if (!json_object_is_type(o, json_type_object))
        return berth_err_fail(err, EINVAL, "expected an object, got %s", berth_json_type_name(o));
    if (check_keys(o, err) < 0 || berth_json_get_bool(o, "debug", &c->debug, err) < 0 ||
        berth_json_get_string(o, "data-root", &root, err) < 0 ||
        berth_json_get_string(o, "log-level", &level, err) < 0)
        return -1;
    if (root) {
        if (root[0] != '/')
            return berth_err_fail(err, EINVAL, "`data-root`: `%s` is not an absolute path", root);
        c->data_root = xstrdup(root);
    }
    if (level && (c->log_level = berth_log_level_parse(level)) < 0)
        return berth_err_fail(err, EINVAL, "`log-level`: unknown level `%s`", level);
    return 0;
}

int
eng_config_load(const char *path, struct eng_config *c, struct berth_err *err)
{
    memset(c, 0, sizeof(*c));
    c->log_level = -1;
    if (!berth_fs_exists(path))
        return 0;
    cleanup_json struct json_object *o = berth_json_parse_file(path, err);
    if (!o || parse(o, c, err) < 0) {
        eng_config_release(c);
        c->log_level = -1;
        return berth_err_wrap(err, "config `%s`", path);
    }
    return 0;
}

void
eng_config_release(struct eng_config *c)
{
    free(c->data_root);
    c->data_root = NULL;
}
