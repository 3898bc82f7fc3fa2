/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's networks: the predefined bridge (the default network: bridge `berth0` on daemon.json's
 * bip), host and none, and user-defined bridge networks (each with a bridge br-<id12>, a
 * subnet given or taken from a pool, never overlapping another network's or a route of the
 * host's). Rows live in engine.db (networks, container_networks); addresses are handed out by
 * the host-local IPAM plugin, whose data dir is <root>/network/ipam. A network turns into the
 * CNI configuration list its containers are attached with (eng_network_conflist).
 *
 *   create (eng_network_create) -> in engine.db -- a container joins (container_networks) -->
 *   in use -- its last container leaves --> unused -- eng_network_remove --> gone (its bridge
 *   deleted, its IPAM data removed). Predefined networks cannot be removed.
 */
#ifndef BERTH_ENGINE_NETWORK_NETWORKS_H
#define BERTH_ENGINE_NETWORK_NETWORKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;
struct eng_daemon;
struct json_object;

struct eng_network {
    char *id;                             /* 64 hex */
    char *name;                           /* unique */
    char *driver;                         /* bridge, host, null */
    char *subnet;                         /* CIDR; NULL for host and none */
    char *gateway;                        /* NULL for host and none */
    char *ip_range;                       /* NULL: the whole subnet */
    char *bridge;                         /* the bridge device; NULL for host and none */
    bool internal;                        /* no NAT out, no default route */
    bool predefined;                      /* bridge, host, none */
    struct json_object *labels, *options; /* objects of strings */
    int64_t created_ns;
};

void eng_network_free(struct eng_network *n);
#define cleanup_network __attribute__((cleanup(eng_network_freep)))
void eng_network_freep(struct eng_network **n);
void eng_network_list_free(struct eng_network **v, size_t n);

/* At berthd's start: the predefined networks' rows (made on the first start), the netns
 * directory. */
int eng_networks_init(struct eng_daemon *d, struct berth_err *err);

/* The network docker would mean by ref: a full id, a name, or a unique id prefix. ENOENT
 * "network REF not found"; EINVAL for an ambiguous prefix. */
struct eng_network *eng_network_find(struct eng_daemon *d, const char *ref, struct berth_err *err);
/* Every network, oldest first. */
int eng_network_list(struct eng_daemon *d, struct eng_network ***v, size_t *n,
                     struct berth_err *err);

/* What POST /networks/create gives (borrowed). */
struct eng_network_spec {
    const char *name;
    const char *driver;   /* NULL or "": bridge */
    const char *subnet;   /* NULL: from the pool */
    const char *gateway;  /* NULL: the subnet's first address */
    const char *ip_range; /* NULL: the whole subnet */
    bool internal;
    struct json_object *labels, *options;
};

/* A new user network; *id (heap). EINVAL naming a bad field (a gateway or range outside the
 * subnet), EEXIST for a name in use (409), EBUSY for a subnet overlapping another network's
 * (dockerd answers 403 with "Pool overlaps with other one on this address space"). */
int eng_network_create(struct eng_daemon *d, const struct eng_network_spec *s, char **id,
                       struct berth_err *err);
/* Remove a user network: EBUSY while containers are on it, EPERM for a predefined one. Its
 * bridge is deleted and its IPAM data removed. */
int eng_network_remove(struct eng_daemon *d, const struct eng_network *n, struct berth_err *err);

/* The CNI configuration list of a bridge network (a new object). */
struct json_object *eng_network_conflist(struct eng_daemon *d, const struct eng_network *n);
/* The loopback network every container namespace gets. */
struct json_object *eng_network_loopback_conflist(void);

/* The dirs under the engine's root and state: results cache, netns bind mounts. (heap) */
char *eng_network_cache_dir(struct eng_daemon *d);
char *eng_network_netns_path(struct eng_daemon *d, const char *container_id);

/* docker's network inspect document, without Containers (the caller adds them). */
struct json_object *eng_network_json(const struct eng_network *n);

#endif
