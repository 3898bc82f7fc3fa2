/* SPDX-License-Identifier: Apache-2.0
 *
 * A CNI runtime (CNI specification 1.0): run a network configuration list's plugins against a
 * container's network namespace. ADD runs the plugins in order, each given the previous one's
 * result as prevResult; DEL runs them in reverse with the cached result; CHECK in order with
 * it. Each plugin is an executable found under the plugin dir, given its configuration on
 * stdin and CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH (and CNI_ARGS) in its
 * environment; it answers with a result or an error document on stdout.
 *
 * The result of each ADD is cached (with the configuration and the runtime config it was made
 * with) in <cache dir>/<container id>/<network>-<ifname>.json, written atomically, so that a
 * DEL after a crash of berthd, or after the network is gone, undoes exactly what was made.
 */
#ifndef BERTH_ENGINE_NETWORK_CNI_H
#define BERTH_ENGINE_NETWORK_CNI_H

#include <stdbool.h>

struct berth_err;
struct json_object;

struct eng_cni {
    const char *plugin_dir; /* CNI_PATH: where the plugins are (/usr/lib/cni) */
    const char *cache_dir;  /* where results are cached */
    int timeout_ms;         /* per plugin call; <= 0: 30 s */
};

/* One attachment of a container to a network. Borrowed strings. */
struct eng_cni_attachment {
    const char *container_id;
    const char *netns;                  /* the namespace's path */
    const char *ifname;                 /* eth0, eth1, ... */
    struct json_object *runtime_config; /* {portMappings, ips, mac}; NULL: none */
};

/* ADD: attach per conflist (a network configuration list: name, cniVersion, plugins). *result
 * (may be NULL) gets the last plugin's result (a new reference). On failure the plugins that
 * ran are deleted again (DEL in reverse) and nothing is cached; err names the plugin and its
 * message. */
int eng_cni_add(const struct eng_cni *cni, struct json_object *conflist,
                const struct eng_cni_attachment *a, struct json_object **result,
                struct berth_err *err);

/* DEL: detach from network name, with the configuration cached at ADD (conflist when none is
 * cached; NULL then means nothing to do). Every plugin is called even when one fails; the
 * cache entry goes when all succeeded. */
int eng_cni_del(const struct eng_cni *cni, const char *name, struct json_object *conflist,
                const struct eng_cni_attachment *a, struct berth_err *err);

/* CHECK: ask each plugin whether the attachment is still as ADD made it. */
int eng_cni_check(const struct eng_cni *cni, const char *name, const struct eng_cni_attachment *a,
                  struct berth_err *err);

/* The cached result of container_id's attachment to network name on ifname (a new reference),
 * or NULL when there is none. */
struct json_object *eng_cni_cached_result(const struct eng_cni *cni, const char *container_id,
                                          const char *name, const char *ifname);

/* DEL every attachment of container_id that has a cache entry (after a crash: the networks
 * it was on need not be known), with netns as CNI_NETNS. Errors are logged; the number of
 * attachments that could not be removed is returned. */
int eng_cni_del_all(const struct eng_cni *cni, const char *container_id, const char *netns);

/* Call fn with each cache entry (a document: containerId, ifName, netns, config,
 * runtimeConfig, result) of container_id, or of every container when it is NULL. fn
 * returning nonzero stops the walk. */
void eng_cni_each_cached(const struct eng_cni *cni, const char *container_id,
                         int (*fn)(void *data, struct json_object *doc), void *data);

/* Whether container_id has any cached attachment left. */
bool eng_cni_has_cached(const struct eng_cni *cni, const char *container_id);

#endif
