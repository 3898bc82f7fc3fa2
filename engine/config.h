/* SPDX-License-Identifier: Apache-2.0
 *
 * daemon.json, berthd's configuration file: the keys dockerd's has that berthd honours
 * (debug, data-root, log-level, log-driver, log-opts, default-ulimits, insecure-registries,
 * live-restore, hosts, bip, bridge). A missing file means defaults; an unknown key is an error
 * naming it, as dockerd refuses one, and so is a known key with a value berthd cannot honour.
 */
#ifndef BERTH_ENGINE_CONFIG_H
#define BERTH_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;

/* One of default-ulimits: {"nofile": {"Name": "nofile", "Hard": 1024, "Soft": 1024}}. */
struct eng_config_ulimit {
    char *name; /* heap: "nofile", as in a container's HostConfig.Ulimits */
    int64_t soft, hard;
};

struct eng_config {
    bool debug;
    char *data_root; /* heap, NULL when unset */
    int log_level;   /* -1 when unset */

    /* The log driver of containers whose HostConfig.LogConfig names none: "json-file"
     * (default) or "none". Always set after eng_config_load (heap). */
    char *log_driver;
    /* log-opts of json-file: the size a container's log grows to before it is rotated
     * (max-size, bytes; -1: never rotated, the default), and how many files are kept,
     * the current one included (max-file; 1 by default). */
    int64_t log_max_size;
    int log_max_file;

    /* default-ulimits: the rlimits every container gets unless its HostConfig.Ulimits
     * names the same one. Sorted by name. */
    struct eng_config_ulimit *ulimits;
    size_t n_ulimits;

    /* insecure-registries: registries pulled from and pushed to over plain HTTP (or TLS
     * without verification, as dockerd): "host", "host:port" or a CIDR ("10.0.0.0/8") that a
     * registry's address falls in. NULL-terminated (heap), never NULL after load. */
    char **insecure_registries;
    size_t n_insecure_registries;

    /* live-restore: berthd always leaves containers running across its own restarts; the key
     * is accepted and reported in /info as LiveRestoreEnabled. */
    bool live_restore;

    /* hosts: the socket to serve ("unix:///path"), used when -H is not given; NULL when
     * unset. dockerd takes a list; berthd serves one socket, so a list of more is refused. */
    char *host;

    /* bip: the default network's bridge address and subnet ("172.30.0.1/16" by default,
     * always set after load); bridge: its bridge's name (NULL when unset: "berth0"; "none":
     * no default network). Both heap. */
    char *bip;
    char *bridge;
};

/* Read path into *c (zeroed and given the defaults first). A missing file leaves defaults
 * and returns 0. On failure err names the file and the key; *c holds defaults. */
int eng_config_load(const char *path, struct eng_config *c, struct berth_err *err);
/* Parse a daemon.json document from memory (what eng_config_load does after reading). */
int eng_config_parse(const char *text, struct eng_config *c, struct berth_err *err);
void eng_config_release(struct eng_config *c);

/* docker's sizes ("10m", "1.5g", "512k", "100", "64MiB"; units k m g t p, powers of 1024,
 * any case, an optional "i" and "b"): bytes, or EINVAL naming text. */
int eng_config_parse_size(const char *text, int64_t *out, struct berth_err *err);

/* Whether a registry host ("host", "host:port", "[v6]:port") is one of insecure-registries:
 * by name, exactly as written (port included), or by an address in a CIDR entry (a name is
 * resolved), as dockerd matches them. Loopback registries are not asked about here: callers
 * treat them as insecure anyway (eng_image_host_is_loopback). */
bool eng_config_registry_is_insecure(const struct eng_config *c, const char *host);

#endif
