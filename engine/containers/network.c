/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's networking (internal.h): what its NetworkMode and NetworkingConfig mean at
 * create (the networks it is on, recorded in container_networks; the network namespace its
 * spec names), and, for a container on CNI networks, at each start: a network namespace
 * bind-mounted at <state>/netns/<id>, the loopback network and then each of its networks
 * attached (CNI ADD; eth0, eth1... in the order it joined them; published ports on the first),
 * its /etc/hosts written; at each exit, removal and after a crash of berthd: every attachment
 * cached by the CNI runtime deleted (CNI DEL) and the namespace removed. The /etc/hosts of
 * the containers on a user network list each other by name and alias, rewritten whenever one
 * of them comes or goes.
 *
 *   NetworkMode  ""/default/bridge -> the bridge network   none -> a namespace of its own
 *                <network name/id> -> that network         host -> the host's
 *                container:<ref>   -> ref's namespace
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/config.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/network/cni.h"
#include "engine/network/ipnet.h"
#include "engine/network/netns.h"
#include "engine/network/networks.h"
#include "engine/store/store.h"

#define CNI_PLUGIN_DIR "/usr/lib/cni"
#define LOOPBACK_NAME  "berth-loopback"

struct cni_ctx {
    struct eng_cni cni;
    char *cache;
};

static void
cni_open(struct eng_daemon *d, struct cni_ctx *x)
{
    x->cache = eng_network_cache_dir(d);
    x->cni = (struct eng_cni){.plugin_dir = CNI_PLUGIN_DIR, .cache_dir = x->cache};
}

static void
cni_close(struct cni_ctx *x)
{
    free(x->cache);
}
#define cleanup_cni __attribute__((cleanup(cni_close)))

/* ---------------------------------------------------------------- modes */

enum ctr_net_kind
ctr_net_kind(struct eng_daemon *d, struct json_object *host, const char **network)
{
    const char *m = berth_json_member_string(host, "NetworkMode");
    if (!m || !*m || strcmp(m, "default") == 0) {
        bool none = d->config && d->config->bridge && strcmp(d->config->bridge, "none") == 0;
        *network = none ? "none" : "bridge";
        return none ? CTR_NET_NONE : CTR_NET_CNI;
    }
    *network = m;
    if (strcmp(m, "none") == 0)
        return CTR_NET_NONE;
    if (strcmp(m, "host") == 0)
        return CTR_NET_HOST;
    if (strncmp(m, "container:", 10) == 0) {
        *network = m + 10;
        return CTR_NET_CONTAINER;
    }
    return CTR_NET_CNI;
}

/* ---------------------------------------------------------------- create */

/* A static address on n: inside its subnet, not its network, broadcast or gateway address. */
static int
check_static_ip(const struct eng_network *n, const char *ip, struct berth_err *err)
{
    uint32_t a, gw = 0;
    struct eng_ipnet s;
    if (eng_ip_parse(ip, "IPAMConfig.IPv4Address", &a, err) < 0)
        return -1;
    if (n->predefined)
        return berth_err_fail(err, EINVAL,
                              "user specified IP address is supported on user defined networks "
                              "only");
    if (eng_ipnet_parse(n->subnet, "subnet", &s, err) < 0)
        return -1;
    if (n->gateway && eng_ip_parse(n->gateway, "gateway", &gw, err) < 0)
        return -1;
    uint32_t broadcast = eng_ipnet_base(&s) | ~eng_ipnet_mask(&s);
    if (!eng_ipnet_contains(&s, a))
        return berth_err_fail(err, EINVAL,
                              "Invalid address %s: It does not belong to any of this network's "
                              "subnets (%s)",
                              ip, n->subnet);
    if (a == eng_ipnet_base(&s) || a == broadcast || a == gw)
        return berth_err_fail(err, EINVAL, "Invalid address %s: it is the %s of subnet %s", ip,
                              a == gw ? "gateway" : "network or broadcast address", n->subnet);
    return 0;
}

/* One endpoint document: {NetworkID, Name, Aliases, IPv4Address, MacAddress}. */
static int
endpoint_of(struct eng_daemon *d, const char *ref, struct json_object *cfg, const char *mac,
            struct json_object *eps, struct berth_err *err)
{
    cleanup_network struct eng_network *n = eng_network_find(d, ref, err);
    if (!n)
        return -1;
    /* --bridge none: the default network is not there, as with dockerd. */
    if (n->predefined && strcmp(n->bridge ? n->bridge : "", "none") == 0)
        return berth_err_fail(err, ENOENT, "network %s not found", n->name);
    if (strcmp(n->driver, "bridge") != 0)
        return berth_err_fail(err, EINVAL,
                              "container cannot be connected to network %s (driver %s) with "
                              "other networks",
                              n->name, n->driver);
    for (size_t i = 0; i < json_object_array_length(eps); i++)
        if (strcmp(berth_json_member_string(json_object_array_get_idx(eps, i), "NetworkID"),
                   n->id) == 0)
            return 0;
    struct json_object *ep = json_object_new_object();
    json_object_object_add(ep, "NetworkID", json_object_new_string(n->id));
    json_object_object_add(ep, "Name", json_object_new_string(n->name));
    struct json_object *aliases = berth_json_member(cfg, "Aliases");
    if (aliases && json_object_is_type(aliases, json_type_array) && !n->predefined)
        json_object_object_add(ep, "Aliases", json_object_get(aliases));
    const char *ip = berth_json_member_string(berth_json_member(cfg, "IPAMConfig"), "IPv4Address");
    if (ip && *ip) {
        if (check_static_ip(n, ip, err) < 0) {
            json_object_put(ep);
            return -1;
        }
        json_object_object_add(ep, "IPv4Address", json_object_new_string(ip));
    }
    const char *m = berth_json_member_string(cfg, "MacAddress");
    if (!m || !*m)
        m = mac;
    if (m && *m)
        json_object_object_add(ep, "MacAddress", json_object_new_string(m));
    json_object_array_add(eps, ep);
    return 0;
}

int
ctr_net_plan(struct eng_daemon *d, const char *id, struct json_object *config,
             struct json_object *host, struct json_object *networking, struct json_object **eps,
             char **netns_path, struct berth_err *err)
{
    const char *network;
    enum ctr_net_kind kind = ctr_net_kind(d, host, &network);
    *eps = NULL;
    *netns_path = NULL;
    if (kind == CTR_NET_CONTAINER) {
        cleanup_ctr struct eng_ctr *other = eng_ctr_find(d, network, err);
        if (!other)
            return berth_err_wrap(err, "HostConfig.NetworkMode");
        const char *onet;
        /* A container on CNI networks has its namespace at a fixed path, there whenever it
         * runs: join that, so that it need not run yet. Any other must run now. */
        if (ctr_net_kind(d, other->host_config, &onet) == CTR_NET_CNI) {
            *netns_path = eng_network_netns_path(d, other->id);
            return 0;
        }
        pthread_mutex_lock(&other->lock);
        int pid =
            other->status == ENG_CTR_RUNNING || other->status == ENG_CTR_PAUSED ? other->pid : 0;
        pthread_mutex_unlock(&other->lock);
        if (pid <= 0)
            return berth_err_fail(
                err, EBUSY, "cannot join the network of container %s: it is not running", network);
        *netns_path = xasprintf("/proc/%d/ns/net", pid);
        return 0;
    }
    if (kind != CTR_NET_CNI)
        return 0;
    if (ctr_ports_check(host, err) < 0)
        return -1;
    /* A network named host or none given by name is that mode. */
    cleanup_network struct eng_network *primary = eng_network_find(d, network, err);
    if (!primary)
        return -1;
    if (strcmp(primary->driver, "bridge") != 0)
        return 0;
    const char *mac = berth_json_member_string(config, "MacAddress");
    struct json_object *cfgs = berth_json_member(networking, "EndpointsConfig");
    cleanup_json struct json_object *list = json_object_new_array();
    struct json_object *pcfg = berth_json_member(cfgs, network);
    if (!pcfg)
        pcfg = berth_json_member(cfgs, "default");
    if (endpoint_of(d, primary->id, pcfg, mac, list, err) < 0)
        return -1;
    if (cfgs && json_object_is_type(cfgs, json_type_object)) {
        json_object_object_foreach(cfgs, name, cfg)
        {
            /* The docker CLI names the primary network's entry after NetworkMode, "default"
             * included. */
            if (strcmp(name, network) == 0 || strcmp(name, "default") == 0)
                continue;
            if (endpoint_of(d, name, cfg, NULL, list, err) < 0)
                return -1;
        }
    }
    *eps = steal_ptr(&list);
    *netns_path = eng_network_netns_path(d, id);
    return 0;
}

int
ctr_net_record(struct eng_daemon *d, const char *id, struct json_object *eps, struct berth_err *err)
{
    for (size_t i = 0; eps && i < json_object_array_length(eps); i++) {
        struct json_object *ep = json_object_array_get_idx(eps, i);
        struct eng_store_endpoint row = {
            .container = id,
            .network = berth_json_member_string(ep, "NetworkID"),
            .endpoint = json_object_to_json_string_ext(ep, JSON_C_TO_STRING_PLAIN),
        };
        if (eng_store_endpoint_insert(d->store, &row, err) < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- endpoints and results */

struct ep_list {
    struct json_object *v; /* array of endpoint documents, each with its row's "Container" */
};

static int
collect_ep(void *data, const struct eng_store_endpoint *e, struct berth_err *err)
{
    struct ep_list *l = data;
    struct json_object *doc = berth_json_parse(e->endpoint, strlen(e->endpoint), err);
    if (!doc)
        return -1;
    json_object_object_add(doc, "Container", json_object_new_string(e->container));
    json_object_object_add(doc, "NetworkID", json_object_new_string(e->network));
    json_object_array_add(l->v, doc);
    return 0;
}

/* The endpoints of container id (or, id NULL, of network net), in joining order. */
static struct json_object *
endpoints(struct eng_daemon *d, const char *id, const char *net)
{
    struct ep_list l = {.v = json_object_new_array()};
    struct berth_err err = BERTH_ERR_INIT;
    if (eng_store_endpoint_each(d->store, id, id ? NULL : net, collect_ep, &l, &err) < 0)
        berth_err_warn(&err);
    return l.v;
}

struct find_cached {
    const char *name;
    struct json_object *doc;
};

static int
match_cached(void *data, struct json_object *doc)
{
    struct find_cached *f = data;
    if (strcmp(berth_json_member_string(berth_json_member(doc, "config"), "name") ?: "", f->name) !=
        0)
        return 0;
    f->doc = json_object_get(doc);
    return 1;
}

/* The cache entry of id's attachment to network name (a reference), or NULL. */
static struct json_object *
cached_on(struct cni_ctx *x, const char *id, const char *name)
{
    struct find_cached f = {.name = name};
    eng_cni_each_cached(&x->cni, id, match_cached, &f);
    return f.doc;
}

/* The address ("a.b.c.d/len"), gateway and MAC of a cached result. */
static void
result_addr(struct json_object *result, const char **cidr, const char **gw, const char **mac)
{
    struct json_object *ips = berth_json_member(result, "ips");
    struct json_object *ip = ips ? json_object_array_get_idx(ips, 0) : NULL;
    *cidr = berth_json_member_string(ip, "address");
    *gw = berth_json_member_string(ip, "gateway");
    *mac = NULL;
    struct json_object *ifi = berth_json_member(ip, "interface");
    struct json_object *ifs = berth_json_member(result, "interfaces");
    if (ifi && ifs) {
        int i = json_object_get_int(ifi);
        if (i >= 0 && (size_t)i < json_object_array_length(ifs))
            *mac = berth_json_member_string(json_object_array_get_idx(ifs, (size_t)i), "mac");
    }
}

/* ---------------------------------------------------------------- /etc/hosts */

static char *
hostname_of(struct eng_ctr *c)
{
    const char *h = berth_json_member_string(c->config, "Hostname");
    return h && *h ? xstrdup(h) : xstrndup(c->id, 12);
}

static void
append(char **text, const char *fmt, const char *a, const char *b)
{
    char *next = xasprintf(fmt, *text, a, b);
    free(*text);
    *text = next;
}

/* The names a container answers to on a network: its name and the endpoint's aliases. */
static char *
names_on(const char *name, struct json_object *ep)
{
    char *out = xstrdup(name);
    struct json_object *aliases = berth_json_member(ep, "Aliases");
    for (size_t i = 0; aliases && i < json_object_array_length(aliases); i++) {
        const char *a = json_object_get_string(json_object_array_get_idx(aliases, i));
        if (a && *a)
            append(&out, "%s %s%s", a, "");
    }
    return out;
}

/* The other running containers on user network ep names, as hosts lines. */
static void
peers(struct eng_daemon *d, struct cni_ctx *x, struct eng_ctr *c, struct json_object *ep,
      char **text)
{
    const char *net_id = berth_json_member_string(ep, "NetworkID");
    const char *net_name = berth_json_member_string(ep, "Name");
    cleanup_json struct json_object *others = endpoints(d, NULL, net_id);
    for (size_t i = 0; i < json_object_array_length(others); i++) {
        struct json_object *o = json_object_array_get_idx(others, i);
        const char *oid = berth_json_member_string(o, "Container");
        if (strcmp(oid, c->id) == 0)
            continue;
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_ctr struct eng_ctr *oc = eng_ctr_find(d, oid, &err);
        berth_err_clear(&err);
        cleanup_json struct json_object *doc = oc ? cached_on(x, oid, net_name) : NULL;
        if (!doc)
            continue;
        const char *cidr, *gw, *mac;
        result_addr(berth_json_member(doc, "result"), &cidr, &gw, &mac);
        if (!cidr)
            continue;
        cleanup_free char *ip = xstrndup(cidr, strcspn(cidr, "/"));
        cleanup_free char *names = names_on(oc->name, o);
        append(text, "%s%s\t%s\n", ip, names);
    }
}

static int write_hosts(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err);

int
ctr_net_write_hosts(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    const char *network;
    if (ctr_net_kind(d, c->host_config, &network) == CTR_NET_HOST)
        return 0;
    pthread_mutex_lock(&d->containers->hosts_lock);
    int rc = write_hosts(d, c, err);
    pthread_mutex_unlock(&d->containers->hosts_lock);
    return rc;
}

static int
write_hosts(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    cleanup_cni struct cni_ctx x;
    cni_open(d, &x);
    cleanup_free char *hostname = hostname_of(c);
    char *text = xstrdup("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                         "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n"
                         "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
    cleanup_json struct json_object *eps = endpoints(d, c->id, NULL);
    bool own = false;
    for (size_t i = 0; i < json_object_array_length(eps); i++) {
        struct json_object *ep = json_object_array_get_idx(eps, i);
        cleanup_json struct json_object *doc =
            cached_on(&x, c->id, berth_json_member_string(ep, "Name"));
        const char *cidr, *gw, *mac;
        result_addr(berth_json_member(doc, "result"), &cidr, &gw, &mac);
        if (!cidr)
            continue;
        cleanup_free char *ip = xstrndup(cidr, strcspn(cidr, "/"));
        cleanup_free char *names = xstrdup(hostname);
        struct berth_err e2 = BERTH_ERR_INIT;
        cleanup_network struct eng_network *n =
            eng_network_find(d, berth_json_member_string(ep, "NetworkID"), &e2);
        berth_err_clear(&e2);
        if (n && !n->predefined) {
            cleanup_free char *more = names_on(c->name, ep);
            append(&names, "%s %s%s", more, "");
            peers(d, &x, c, ep, &text);
        }
        append(&text, "%s%s\t%s\n", ip, names);
        own = true;
    }
    if (!own)
        append(&text, "%s127.0.1.1\t%s%s\n", hostname, "");
    struct json_object *extra = berth_json_member(c->host_config, "ExtraHosts");
    for (size_t i = 0; extra && json_object_is_type(extra, json_type_array) &&
                       i < json_object_array_length(extra);
         i++) {
        const char *h = json_object_get_string(json_object_array_get_idx(extra, i));
        const char *colon = h ? strchr(h, ':') : NULL;
        if (!colon)
            continue;
        cleanup_free char *name = xstrndup(h, (size_t)(colon - h));
        append(&text, "%s%s\t%s\n", colon + 1, name);
    }
    /* In place: the file is bind-mounted into the running container, and a rename would
     * leave it the old inode. */
    cleanup_free char *path = xasprintf("%s/hosts", c->dir);
    cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        rc = berth_err_set(err, errno, "write `%s`", path);
    free(text);
    return rc;
}

/* Rewrite the hosts files of the running containers on c's user networks (but c). */
static void
refresh_peers(struct eng_daemon *d, struct eng_ctr *c)
{
    cleanup_json struct json_object *eps = endpoints(d, c->id, NULL);
    for (size_t i = 0; i < json_object_array_length(eps); i++) {
        cleanup_json struct json_object *others = endpoints(
            d, NULL, berth_json_member_string(json_object_array_get_idx(eps, i), "NetworkID"));
        for (size_t j = 0; j < json_object_array_length(others); j++) {
            const char *oid =
                berth_json_member_string(json_object_array_get_idx(others, j), "Container");
            struct berth_err err = BERTH_ERR_INIT;
            cleanup_ctr struct eng_ctr *oc =
                strcmp(oid, c->id) == 0 ? NULL : eng_ctr_find(d, oid, &err);
            berth_err_clear(&err);
            if (!oc)
                continue;
            pthread_mutex_lock(&oc->lock);
            bool running = oc->status == ENG_CTR_RUNNING || oc->status == ENG_CTR_PAUSED;
            pthread_mutex_unlock(&oc->lock);
            if (running && ctr_net_write_hosts(d, oc, &err) < 0)
                berth_err_warn(&err);
        }
    }
}

/* ---------------------------------------------------------------- start and stop */

/* docker's network connect / disconnect events, one for each of c's networks. */
static void
publish(struct eng_daemon *d, struct eng_ctr *c, struct json_object *eps, const char *action)
{
    for (size_t i = 0; d->events && i < json_object_array_length(eps); i++) {
        struct json_object *ep = json_object_array_get_idx(eps, i);
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "container", json_object_new_string(c->id));
        json_object_object_add(a, "name",
                               json_object_new_string(berth_json_member_string(ep, "Name")));
        json_object_object_add(a, "type", json_object_new_string("bridge"));
        eng_events_publish(d->events, "network", action, berth_json_member_string(ep, "NetworkID"),
                           a);
    }
}

static void
teardown(struct eng_daemon *d, struct cni_ctx *x, struct eng_ctr *c)
{
    cleanup_free char *ns = eng_network_netns_path(d, c->id);
    struct berth_err err = BERTH_ERR_INIT;
    /* A bare file where the namespace was mounted: the plugins would refuse it as no
     * namespace at all, but take a missing path as one already gone. */
    if (berth_fs_exists(ns) && !eng_netns_is_mounted(ns) && eng_netns_remove(ns, &err) < 0)
        berth_err_warn(&err);
    int failed = eng_cni_del_all(&x->cni, c->id, ns);
    if (failed)
        berth_warn("container %.12s: %d network attachments could not be removed", c->id, failed);
    if (eng_netns_remove(ns, &err) < 0)
        berth_err_warn(&err);
}

/* Attach c (its namespace at ns) to the network of endpoint ep as ifname. */
static int
attach(struct eng_daemon *d, struct cni_ctx *x, struct eng_ctr *c, const char *ns,
       struct json_object *ep, const char *ifname, bool ports, struct berth_err *err)
{
    cleanup_network struct eng_network *n =
        eng_network_find(d, berth_json_member_string(ep, "NetworkID"), err);
    if (!n)
        return -1;
    cleanup_json struct json_object *conf = eng_network_conflist(d, n);
    cleanup_json struct json_object *rt = json_object_new_object();
    const char *ip = berth_json_member_string(ep, "IPv4Address");
    if (ip && *ip) {
        struct eng_ipnet s;
        if (eng_ipnet_parse(n->subnet, "subnet", &s, err) < 0)
            return -1;
        struct json_object *ips = json_object_new_array();
        cleanup_free char *cidr = xasprintf("%s/%d", ip, s.len);
        json_object_array_add(ips, json_object_new_string(cidr));
        json_object_object_add(rt, "ips", ips);
    }
    const char *mac = berth_json_member_string(ep, "MacAddress");
    if (mac && *mac)
        json_object_object_add(rt, "mac", json_object_new_string(mac));
    if (ports) {
        struct json_object *pm = NULL;
        if (ctr_ports_mappings(&x->cni, c, &pm, err) < 0)
            return -1;
        json_object_object_add(rt, "portMappings", pm);
    }
    struct eng_cni_attachment a = {
        .container_id = c->id, .netns = ns, .ifname = ifname, .runtime_config = rt};
    return eng_cni_add(&x->cni, conf, &a, NULL, err);
}

int
ctr_net_setup(struct eng_daemon *d, struct eng_ctr *c, struct berth_err *err)
{
    const char *network;
    if (ctr_net_kind(d, c->host_config, &network) != CTR_NET_CNI)
        return 0;
    cleanup_json struct json_object *eps = endpoints(d, c->id, NULL);
    if (json_object_array_length(eps) == 0)
        return 0; /* NetworkMode named the host or none network */
    cleanup_cni struct cni_ctx x;
    cni_open(d, &x);
    cleanup_free char *ns = eng_network_netns_path(d, c->id);
    pthread_mutex_lock(&d->containers->net_lock);
    /* What a previous run left (berthd died before its exit was seen). */
    teardown(d, &x, c);
    int rc = eng_netns_create(ns, err);
    if (rc == 0) {
        cleanup_json struct json_object *lo = eng_network_loopback_conflist();
        struct eng_cni_attachment a = {.container_id = c->id, .netns = ns, .ifname = "lo"};
        rc = eng_cni_add(&x.cni, lo, &a, NULL, err);
    }
    for (size_t i = 0; rc == 0 && i < json_object_array_length(eps); i++) {
        char ifname[32];
        snprintf(ifname, sizeof(ifname), "eth%u", (unsigned)i);
        rc = attach(d, &x, c, ns, json_object_array_get_idx(eps, i), ifname, i == 0, err);
    }
    if (rc < 0)
        teardown(d, &x, c);
    pthread_mutex_unlock(&d->containers->net_lock);
    if (rc < 0)
        return berth_err_wrap(err, "network of container %s", c->name);
    if (ctr_net_write_hosts(d, c, err) < 0) {
        ctr_net_teardown(d, c);
        return -1;
    }
    refresh_peers(d, c);
    publish(d, c, eps, "connect");
    return 0;
}

bool
ctr_net_release(struct eng_daemon *d, struct eng_ctr *c)
{
    const char *network;
    if (ctr_net_kind(d, c->host_config, &network) != CTR_NET_CNI)
        return false;
    cleanup_cni struct cni_ctx x;
    cni_open(d, &x);
    cleanup_free char *ns = eng_network_netns_path(d, c->id);
    if (!eng_cni_has_cached(&x.cni, c->id) && !berth_fs_exists(ns))
        return false;
    pthread_mutex_lock(&d->containers->net_lock);
    teardown(d, &x, c);
    pthread_mutex_unlock(&d->containers->net_lock);
    refresh_peers(d, c);
    return true;
}

void
ctr_net_publish_disconnect(struct eng_daemon *d, struct eng_ctr *c)
{
    cleanup_json struct json_object *eps = endpoints(d, c->id, NULL);
    publish(d, c, eps, "disconnect");
}

void
ctr_net_teardown(struct eng_daemon *d, struct eng_ctr *c)
{
    if (ctr_net_release(d, c))
        ctr_net_publish_disconnect(d, c);
}

/* ---------------------------------------------------------------- connect, disconnect */

int
eng_ctr_net_connect(struct eng_daemon *d, struct eng_ctr *c, const char *ref,
                    struct json_object *cfg, struct berth_err *err)
{
    const char *network;
    if (ctr_net_kind(d, c->host_config, &network) != CTR_NET_CNI)
        return berth_err_fail(err, EPERM,
                              "container %s is not on a bridge network (NetworkMode %s): it "
                              "cannot be connected to another",
                              c->name, network);
    cleanup_json struct json_object *eps = json_object_new_array();
    if (endpoint_of(d, ref, cfg, NULL, eps, err) < 0)
        return -1;
    struct json_object *ep = json_object_array_get_idx(eps, 0);
    cleanup_json struct json_object *have = endpoints(d, c->id, NULL);
    for (size_t i = 0; i < json_object_array_length(have); i++)
        if (strcmp(berth_json_member_string(json_object_array_get_idx(have, i), "NetworkID"),
                   berth_json_member_string(ep, "NetworkID")) == 0)
            return berth_err_fail(err, EPERM, "endpoint with name %s already exists in network %s",
                                  c->name, berth_json_member_string(ep, "Name"));
    pthread_mutex_lock(&c->op);
    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
    pthread_mutex_unlock(&c->lock);
    int rc = ctr_net_record(d, c->id, eps, err);
    if (rc == 0 && running) {
        cleanup_cni struct cni_ctx x;
        cni_open(d, &x);
        cleanup_free char *ns = eng_network_netns_path(d, c->id);
        /* The first interface name no attachment has. */
        char ifname[32];
        for (unsigned i = 0;; i++) {
            snprintf(ifname, sizeof(ifname), "eth%u", i);
            bool taken = false;
            cleanup_json struct json_object *all = endpoints(d, c->id, NULL);
            for (size_t j = 0; j < json_object_array_length(all) && !taken; j++) {
                cleanup_json struct json_object *doc = cached_on(
                    &x, c->id, berth_json_member_string(json_object_array_get_idx(all, j), "Name"));
                taken = doc && strcmp(berth_json_member_string(doc, "ifName") ?: "", ifname) == 0;
            }
            if (!taken)
                break;
        }
        pthread_mutex_lock(&d->containers->net_lock);
        rc = attach(d, &x, c, ns, ep, ifname, false, err);
        pthread_mutex_unlock(&d->containers->net_lock);
        if (rc < 0) {
            struct berth_err e2 = BERTH_ERR_INIT;
            if (eng_store_endpoint_delete(d->store, c->id,
                                          berth_json_member_string(ep, "NetworkID"), &e2) < 0)
                berth_err_warn(&e2);
        }
    }
    pthread_mutex_unlock(&c->op);
    if (rc < 0)
        return -1;
    if (running) {
        struct berth_err e2 = BERTH_ERR_INIT;
        if (ctr_net_write_hosts(d, c, &e2) < 0)
            berth_err_warn(&e2);
        refresh_peers(d, c);
    }
    return 0;
}

int
eng_ctr_net_disconnect(struct eng_daemon *d, struct eng_ctr *c, const char *ref, bool force,
                       struct berth_err *err)
{
    (void)force;
    cleanup_network struct eng_network *n = eng_network_find(d, ref, err);
    if (!n)
        return -1;
    pthread_mutex_lock(&c->op);
    cleanup_cni struct cni_ctx x;
    cni_open(d, &x);
    /* Its peers first, while c is still listed on the network. */
    cleanup_json struct json_object *doc = cached_on(&x, c->id, n->name);
    int rc = 0;
    if (doc) {
        cleanup_free char *ns = eng_network_netns_path(d, c->id);
        struct eng_cni_attachment a = {
            .container_id = c->id, .netns = ns, .ifname = berth_json_member_string(doc, "ifName")};
        pthread_mutex_lock(&d->containers->net_lock);
        rc = eng_cni_del(&x.cni, n->name, NULL, &a, err);
        pthread_mutex_unlock(&d->containers->net_lock);
    }
    if (rc == 0 && eng_store_endpoint_delete(d->store, c->id, n->id, err) < 0) {
        if (err->code == ENOENT) {
            berth_err_clear(err);
            berth_err_fail(err, ENOENT, "container %s is not connected to network %s", c->name,
                           n->name);
        }
        rc = -1;
    }
    pthread_mutex_unlock(&c->op);
    if (rc < 0)
        return -1;
    struct berth_err e2 = BERTH_ERR_INIT;
    if (doc && ctr_net_write_hosts(d, c, &e2) < 0)
        berth_err_warn(&e2);
    /* The peers of the network c left: c is no longer listed on it. */
    cleanup_json struct json_object *others = endpoints(d, NULL, n->id);
    for (size_t j = 0; j < json_object_array_length(others); j++) {
        cleanup_ctr struct eng_ctr *oc = eng_ctr_find(
            d, berth_json_member_string(json_object_array_get_idx(others, j), "Container"), &e2);
        berth_err_clear(&e2);
        if (oc && ctr_net_write_hosts(d, oc, &e2) < 0)
            berth_err_warn(&e2);
    }
    return 0;
}

/* ---------------------------------------------------------------- inspect */

static void
add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static struct json_object *
endpoint_doc(struct json_object *ep, struct json_object *doc, const char *container_id)
{
    struct json_object *o = json_object_new_object();
    const char *cidr = NULL, *gw = NULL, *mac = NULL;
    result_addr(berth_json_member(doc, "result"), &cidr, &gw, &mac);
    const char *ip4 = berth_json_member_string(ep, "IPv4Address");
    if (ip4 && *ip4) {
        struct json_object *ipam = json_object_new_object();
        add_str(ipam, "IPv4Address", ip4);
        json_object_object_add(o, "IPAMConfig", ipam);
    } else {
        json_object_object_add(o, "IPAMConfig", NULL);
    }
    json_object_object_add(o, "Links", NULL);
    struct json_object *aliases = berth_json_member(ep, "Aliases");
    json_object_object_add(o, "Aliases", aliases ? json_object_get(aliases) : NULL);
    const char *nid = berth_json_member_string(ep, "NetworkID");
    add_str(o, "NetworkID", nid);
    cleanup_free char *eid =
        doc ? xasprintf("%.32s%.32s", container_id, nid ? nid : "") : xstrdup("");
    add_str(o, "EndpointID", eid);
    add_str(o, "Gateway", gw);
    cleanup_free char *ip = cidr ? xstrndup(cidr, strcspn(cidr, "/")) : NULL;
    add_str(o, "IPAddress", ip);
    json_object_object_add(
        o, "IPPrefixLen",
        json_object_new_int(cidr && strchr(cidr, '/') ? atoi(strchr(cidr, '/') + 1) : 0));
    add_str(o, "IPv6Gateway", "");
    add_str(o, "GlobalIPv6Address", "");
    json_object_object_add(o, "GlobalIPv6PrefixLen", json_object_new_int(0));
    add_str(o, "MacAddress", mac);
    json_object_object_add(o, "DriverOpts", NULL);
    return o;
}

struct json_object *
ctr_net_settings(struct eng_daemon *d, struct eng_ctr *c)
{
    struct json_object *ns = json_object_new_object(), *nets = json_object_new_object();
    const char *network;
    enum ctr_net_kind kind = ctr_net_kind(d, c->host_config, &network);
    cleanup_cni struct cni_ctx x;
    cni_open(d, &x);
    cleanup_json struct json_object *eps = endpoints(d, c->id, NULL);
    struct json_object *mappings = NULL, *top = NULL;
    cleanup_json struct json_object *first = NULL;
    for (size_t i = 0; i < json_object_array_length(eps); i++) {
        struct json_object *ep = json_object_array_get_idx(eps, i);
        const char *name = berth_json_member_string(ep, "Name");
        cleanup_json struct json_object *doc = cached_on(&x, c->id, name);
        struct json_object *e = endpoint_doc(ep, doc, c->id);
        json_object_object_add(nets, name, e);
        if (i == 0 && doc) {
            first = json_object_get(doc);
            mappings = berth_json_member(berth_json_member(doc, "runtimeConfig"), "portMappings");
        }
        if (strcmp(name, "bridge") == 0)
            top = e;
    }
    if (kind != CTR_NET_CNI || json_object_array_length(eps) == 0) {
        struct json_object *e = json_object_new_object();
        cleanup_network struct eng_network *n =
            kind == CTR_NET_CONTAINER ? NULL : eng_network_find(d, network, NULL);
        add_str(e, "NetworkID", n ? n->id : "");
        static const char *const empty[] = {"EndpointID",  "Gateway",           "IPAddress",
                                            "IPv6Gateway", "GlobalIPv6Address", "MacAddress"};
        for (size_t i = 0; i < ARRAY_SIZE(empty); i++)
            add_str(e, empty[i], "");
        json_object_object_add(e, "IPPrefixLen", json_object_new_int(0));
        if (kind != CTR_NET_CONTAINER)
            json_object_object_add(nets, network, e);
        else
            json_object_put(e);
    }
    add_str(ns, "Bridge", "");
    add_str(ns, "SandboxID", first ? c->id : "");
    json_object_object_add(ns, "HairpinMode", json_object_new_boolean(false));
    add_str(ns, "LinkLocalIPv6Address", "");
    json_object_object_add(ns, "LinkLocalIPv6PrefixLen", json_object_new_int(0));
    json_object_object_add(ns, "Ports", ctr_ports_doc(c, mappings));
    cleanup_free char *key = first ? eng_network_netns_path(d, c->id) : NULL;
    add_str(ns, "SandboxKey", key);
    static const char *const copied[] = {"EndpointID", "Gateway", "IPAddress", "MacAddress"};
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
        add_str(ns, copied[i], top ? berth_json_member_string(top, copied[i]) : "");
    json_object_object_add(
        ns, "IPPrefixLen",
        json_object_new_int(top ? json_object_get_int(berth_json_member(top, "IPPrefixLen")) : 0));
    add_str(ns, "IPv6Gateway", "");
    add_str(ns, "GlobalIPv6Address", "");
    json_object_object_add(ns, "GlobalIPv6PrefixLen", json_object_new_int(0));
    json_object_object_add(ns, "Networks", nets);
    return ns;
}

/* The containers on network n, for its inspect document: {id: {Name, EndpointID, MacAddress,
 * IPv4Address, IPv6Address}} of those attached now. */
struct json_object *
eng_network_containers(struct eng_daemon *d, const char *network_id, const char *network_name)
{
    struct json_object *out = json_object_new_object();
    cleanup_cni struct cni_ctx x;
    cni_open(d, &x);
    cleanup_json struct json_object *eps = endpoints(d, NULL, network_id);
    for (size_t i = 0; i < json_object_array_length(eps); i++) {
        struct json_object *ep = json_object_array_get_idx(eps, i);
        const char *id = berth_json_member_string(ep, "Container");
        cleanup_json struct json_object *doc = cached_on(&x, id, network_name);
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_ctr struct eng_ctr *c = eng_ctr_find(d, id, &err);
        berth_err_clear(&err);
        if (!doc || !c)
            continue;
        const char *cidr, *gw, *mac;
        result_addr(berth_json_member(doc, "result"), &cidr, &gw, &mac);
        struct json_object *o = json_object_new_object();
        cleanup_free char *eid = xasprintf("%.32s%.32s", id, network_id);
        add_str(o, "Name", c->name);
        add_str(o, "EndpointID", eid);
        add_str(o, "MacAddress", mac);
        add_str(o, "IPv4Address", cidr);
        add_str(o, "IPv6Address", "");
        json_object_object_add(out, id, o);
    }
    return out;
}
