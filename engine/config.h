/* SPDX-License-Identifier: Apache-2.0
 *
 * daemon.json, berthd's configuration file: the keys dockerd's has that berthd honours so far
 * (debug, data-root, log-level). A missing file means defaults; an unknown key is an error
 * naming it, as dockerd refuses one.
 */
#ifndef BERTH_ENGINE_CONFIG_H
#define BERTH_ENGINE_CONFIG_H

#include <stdbool.h>

struct berth_err;

struct eng_config {
    bool debug;
    char *data_root; /* heap, NULL when unset */
    int log_level;   /* -1 when unset */
};

/* Read path into *c (zeroed first). A missing file leaves defaults and returns 0. */
int eng_config_load(const char *path, struct eng_config *c, struct berth_err *err);
void eng_config_release(struct eng_config *c);

#endif
