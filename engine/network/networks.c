/* SPDX-License-Identifier: Apache-2.0
 *
 * Networks (networks.h): their rows, the checks at create (names, subnets, gateways, ranges,
 * overlaps), the subnet pool, removal, and the CNI configuration list each one gives.
 */
#include "engine/network/networks.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/config.h"
#include "engine/daemon.h"
#include "engine/network/ipnet.h"
#include "engine/network/netns.h"
#include "engine/store/store.h"

/* User networks' subnets, when none is given: a /24 at a time from 172.31.0.0/16, skipping
 * those that overlap another network or a route of the host's. */
#define POOL_BASE 0xac1f0000u /* 172.31.0.0 */
#define POOL_LEN  16
#define POOL_STEP 24

static const char *const predefined[] = {"bridge", "host", "none"};

void
eng_network_free(struct eng_network *n)
{
    if (!n)
        return;
    free(n->id);
    free(n->name);
    free(n->driver);
    free(n->subnet);
    free(n->gateway);
    free(n->ip_range);
    free(n->bridge);
    json_object_put(n->labels);
    json_object_put(n->options);
    free(n);
}

void
eng_network_freep(struct eng_network **n)
{
    eng_network_free(*n);
}

void
eng_network_list_free(struct eng_network **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eng_network_free(v[i]);
    free(v);
}

char *
eng_network_cache_dir(struct eng_daemon *d)
{
    return xasprintf("%s/network/cni", d->state);
}

char *
eng_network_netns_path(struct eng_daemon *d, const char *container_id)
{
    return xasprintf("%s/netns/%s", d->state, container_id);
}

static char *
ipam_dir(struct eng_daemon *d)
{
    return xasprintf("%s/network/ipam", d->root);
}

static char *
opt_string(struct json_object *o, const char *key)
{
    const char *v = berth_json_member_string(o, key);
    return v && *v ? xstrdup(v) : NULL;
}

/* A row as a network; the predefined bridge takes its subnet and bridge from daemon.json. */
static struct eng_network *
from_row(struct eng_daemon *d, const struct eng_store_network *row)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    cleanup_json struct json_object *doc = berth_json_parse(row->doc, strlen(row->doc), &ignored);
    berth_err_clear(&ignored);
    struct eng_network *n = xzalloc(sizeof(*n));
    n->id = xstrdup(row->id);
    n->name = xstrdup(row->name);
    n->created_ns = row->created_ns;
    n->driver = opt_string(doc, "Driver");
    if (!n->driver)
        n->driver = xstrdup("bridge");
    n->subnet = opt_string(doc, "Subnet");
    n->gateway = opt_string(doc, "Gateway");
    n->ip_range = opt_string(doc, "IPRange");
    n->bridge = opt_string(doc, "Bridge");
    n->internal = berth_json_member_bool(doc, "Internal");
    n->predefined = berth_json_member_bool(doc, "Predefined");
    struct json_object *l = berth_json_member(doc, "Labels"),
                       *o = berth_json_member(doc, "Options");
    n->labels = l ? json_object_get(l) : json_object_new_object();
    n->options = o ? json_object_get(o) : json_object_new_object();
    if (n->predefined && strcmp(n->name, "bridge") == 0) {
        const char *bip = d->config && d->config->bip ? d->config->bip : "172.30.0.1/16";
        const char *br = d->config && d->config->bridge ? d->config->bridge : "berth0";
        struct eng_ipnet net = {0};
        if (eng_ipnet_parse(bip, "bip", &net, &ignored) < 0)
            berth_err_clear(&ignored);
        free(n->subnet);
        free(n->gateway);
        free(n->bridge);
        n->subnet = eng_ipnet_string(eng_ipnet_base(&net), net.len);
        n->gateway = eng_ip_string(net.addr);
        n->bridge = xstrdup(br);
    }
    return n;
}

struct collect {
    struct eng_daemon *d;
    struct eng_network **v;
    size_t n;
};

static int
collect_row(void *data, const struct eng_store_network *row, struct berth_err *err)
{
    (void)err;
    struct collect *c = data;
    c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    c->v[c->n++] = from_row(c->d, row);
    return 0;
}

int
eng_network_list(struct eng_daemon *d, struct eng_network ***v, size_t *n, struct berth_err *err)
{
    struct collect c = {.d = d};
    if (eng_store_network_each(d->store, collect_row, &c, err) < 0) {
        eng_network_list_free(c.v, c.n);
        return -1;
    }
    *v = c.v;
    *n = c.n;
    return 0;
}

struct eng_network *
eng_network_find(struct eng_daemon *d, const char *ref, struct berth_err *err)
{
    struct eng_network **v = NULL;
    size_t n = 0;
    if (!ref || !*ref) {
        berth_err_fail(err, EINVAL, "no network named");
        return NULL;
    }
    if (eng_network_list(d, &v, &n, err) < 0)
        return NULL;
    struct eng_network *found = NULL;
    size_t prefix_hits = 0, hit = 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (strcmp(v[i]->id, ref) == 0 || strcmp(v[i]->name, ref) == 0)
            found = v[i];
        else if (strncmp(v[i]->id, ref, strlen(ref)) == 0) {
            prefix_hits++;
            hit = i;
        }
    }
    if (!found && prefix_hits == 1)
        found = v[hit];
    if (found) {
        for (size_t i = 0; i < n; i++)
            if (v[i] == found)
                v[i] = NULL;
    } else if (prefix_hits > 1) {
        berth_err_fail(err, EINVAL,
                       "network %s is ambiguous (%zu matches found based on ID prefix)", ref,
                       prefix_hits);
    } else {
        berth_err_fail(err, ENOENT, "network %s not found", ref);
    }
    eng_network_list_free(v, n);
    return found;
}

static char *
new_id(void)
{
    unsigned char b[32];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    char *id = xzalloc(65);
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    return id;
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
insert(struct eng_daemon *d, const char *id, const char *name, struct json_object *doc,
       struct berth_err *err)
{
    struct eng_store_network row = {
        .id = id,
        .name = name,
        .doc = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN),
        .created_ns = now_ns(),
    };
    return eng_store_network_insert(d->store, &row, err);
}

int
eng_networks_init(struct eng_daemon *d, struct berth_err *err)
{
    cleanup_free char *netns = xasprintf("%s/netns", d->state);
    cleanup_free char *cache = eng_network_cache_dir(d);
    cleanup_free char *ipam = ipam_dir(d);
    if (eng_netns_prepare_dir(netns, err) < 0 || berth_fs_mkdir_p(cache, 0700, err) < 0 ||
        berth_fs_mkdir_p(ipam, 0700, err) < 0)
        return berth_err_wrap(err, "networks");
    for (size_t i = 0; i < ARRAY_SIZE(predefined); i++) {
        struct berth_err e = BERTH_ERR_INIT;
        cleanup_network struct eng_network *n = eng_network_find(d, predefined[i], &e);
        if (n) {
            continue;
        }
        if (e.code != ENOENT) {
            *err = e;
            return berth_err_wrap(err, "networks");
        }
        berth_err_clear(&e);
        cleanup_json struct json_object *doc = json_object_new_object();
        json_object_object_add(doc, "Driver",
                               json_object_new_string(i == 0   ? "bridge"
                                                      : i == 1 ? "host"
                                                               : "null"));
        json_object_object_add(doc, "Predefined", json_object_new_boolean(true));
        cleanup_free char *id = new_id();
        if (insert(d, id, predefined[i], doc, err) < 0)
            return berth_err_wrap(err, "networks");
    }
    return 0;
}

/* ---------------------------------------------------------------- create */

/* Whether subnet overlaps a route of the host's (/proc/net/route; the default route aside). */
static bool
overlaps_host_route(const struct eng_ipnet *subnet)
{
    cleanup_fclose FILE *f = fopen("/proc/net/route", "re");
    char line[512];
    if (!f || !fgets(line, sizeof(line), f))
        return false;
    while (fgets(line, sizeof(line), f)) {
        char ifname[64];
        unsigned dest, gw, flags, refcnt, use, metric, mask;
        if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt, &use,
                   &metric, &mask) != 8 ||
            mask == 0)
            continue;
        /* The kernel prints them in network byte order, as read on a little-endian host. */
        struct eng_ipnet r = {.addr = __builtin_bswap32(dest), .len = __builtin_popcount(mask)};
        if (eng_ipnet_overlaps(&r, subnet))
            return true;
    }
    return false;
}

/* The name of a network whose subnet overlaps s, or NULL. */
static const char *
overlapping(struct eng_network **v, size_t n, const struct eng_ipnet *s)
{
    for (size_t i = 0; i < n; i++) {
        struct eng_ipnet o;
        struct berth_err ignored = BERTH_ERR_INIT;
        if (!v[i]->subnet || eng_ipnet_parse(v[i]->subnet, "subnet", &o, &ignored) < 0) {
            berth_err_clear(&ignored);
            continue;
        }
        if (eng_ipnet_overlaps(&o, s))
            return v[i]->name;
    }
    return NULL;
}

static int
pool_subnet(struct eng_network **v, size_t n, struct eng_ipnet *out, struct berth_err *err)
{
    for (uint32_t i = 0; i < (1u << (POOL_STEP - POOL_LEN)); i++) {
        struct eng_ipnet s = {.addr = POOL_BASE + (i << (32 - POOL_STEP)), .len = POOL_STEP};
        if (!overlapping(v, n, &s) && !overlaps_host_route(&s)) {
            *out = s;
            return 0;
        }
    }
    return berth_err_fail(err, EPERM,
                          "could not find an available, non-overlapping IPv4 address pool among "
                          "the defaults to assign to the network");
}

static bool
name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              (p > name && (*p == '_' || *p == '.' || *p == '-'))))
            return false;
    return true;
}

/* The addresses of s, checked: subnet (network address), gateway and ip range inside it. */
static int
check_addresses(const struct eng_network_spec *s, struct eng_network **v, size_t n,
                struct eng_ipnet *subnet, uint32_t *gateway, struct eng_ipnet *range,
                bool *has_range, struct berth_err *err)
{
    if (s->subnet && *s->subnet) {
        if (eng_ipnet_parse(s->subnet, "IPAM.Config.Subnet", subnet, err) < 0)
            return -1;
        if (subnet->len > 30)
            return berth_err_fail(err, EINVAL,
                                  "IPAM.Config.Subnet: `%s` is too small (/30 at most)", s->subnet);
        subnet->addr = eng_ipnet_base(subnet);
        const char *other = overlapping(v, n, subnet);
        if (other)
            return berth_err_fail(err, EPERM,
                                  "invalid pool request: Pool overlaps with other one on this "
                                  "address space (subnet %s overlaps network %s)",
                                  s->subnet, other);
    } else {
        if (s->gateway && *s->gateway)
            return berth_err_fail(err, EINVAL, "IPAM.Config.Gateway: a gateway needs a subnet");
        if (s->ip_range && *s->ip_range)
            return berth_err_fail(err, EINVAL, "IPAM.Config.IPRange: an IP range needs a subnet");
        if (pool_subnet(v, n, subnet, err) < 0)
            return -1;
    }
    uint32_t broadcast = eng_ipnet_base(subnet) | ~eng_ipnet_mask(subnet);
    *gateway = eng_ipnet_base(subnet) + 1;
    if (s->gateway && *s->gateway) {
        if (eng_ip_parse(s->gateway, "IPAM.Config.Gateway", gateway, err) < 0)
            return -1;
        if (!eng_ipnet_contains(subnet, *gateway) || *gateway == eng_ipnet_base(subnet) ||
            *gateway == broadcast)
            return berth_err_fail(err, EINVAL,
                                  "IPAM.Config.Gateway: %s is not a host address in subnet %s",
                                  s->gateway, s->subnet);
    }
    *has_range = s->ip_range && *s->ip_range;
    if (*has_range) {
        if (eng_ipnet_parse(s->ip_range, "IPAM.Config.IPRange", range, err) < 0)
            return -1;
        if (range->len < subnet->len || !eng_ipnet_contains(subnet, range->addr))
            return berth_err_fail(err, EINVAL, "IPAM.Config.IPRange: %s is not inside subnet %s",
                                  s->ip_range, s->subnet);
        range->addr = eng_ipnet_base(range);
    }
    return 0;
}

/* The row of a new network, its addresses checked. *id_out (heap). */
static int
insert_network(struct eng_daemon *d, const struct eng_network_spec *s,
               const struct eng_ipnet *subnet, uint32_t gateway, const struct eng_ipnet *range,
               char **id_out, struct berth_err *err)
{
    cleanup_free char *id = new_id();
    cleanup_free char *sub = eng_ipnet_string(subnet->addr, subnet->len);
    cleanup_free char *gw = eng_ip_string(gateway);
    cleanup_free char *br = xasprintf("br-%.12s", id);
    cleanup_json struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "Driver", json_object_new_string("bridge"));
    json_object_object_add(doc, "Subnet", json_object_new_string(sub));
    json_object_object_add(doc, "Gateway", json_object_new_string(gw));
    if (range) {
        cleanup_free char *r = eng_ipnet_string(range->addr, range->len);
        json_object_object_add(doc, "IPRange", json_object_new_string(r));
    }
    json_object_object_add(doc, "Bridge", json_object_new_string(br));
    json_object_object_add(doc, "Internal", json_object_new_boolean(s->internal));
    json_object_object_add(doc, "Labels",
                           s->labels ? json_object_get(s->labels) : json_object_new_object());
    json_object_object_add(doc, "Options",
                           s->options ? json_object_get(s->options) : json_object_new_object());
    if (insert(d, id, s->name, doc, err) < 0) {
        if (err->code == EEXIST) {
            berth_err_clear(err);
            berth_err_fail(err, EEXIST, "network with name %s already exists", s->name);
        }
        return -1;
    }
    *id_out = steal_ptr(&id);
    return 0;
}

int
eng_network_create(struct eng_daemon *d, const struct eng_network_spec *s, char **id_out,
                   struct berth_err *err)
{
    if (!name_valid(s->name))
        return berth_err_fail(err, EINVAL,
                              "invalid network name `%s`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                              "allowed",
                              s->name ? s->name : "");
    const char *driver = s->driver && *s->driver ? s->driver : "bridge";
    if (strcmp(driver, "bridge") != 0)
        return berth_err_fail(
            err, strcmp(driver, "host") == 0 || strcmp(driver, "null") == 0 ? EPERM : ENOENT,
            strcmp(driver, "host") == 0 || strcmp(driver, "null") == 0
                ? "only one instance of \"%s\" network is allowed"
                : "plugin \"%s\" not found",
            driver);
    struct eng_network **v = NULL;
    size_t n = 0;
    if (eng_network_list(d, &v, &n, err) < 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->name, s->name) == 0) {
            berth_err_fail(err, EEXIST, "network with name %s already exists", s->name);
            goto out;
        }
    struct eng_ipnet subnet, range = {0};
    uint32_t gateway = 0;
    bool has_range = false;
    if (check_addresses(s, v, n, &subnet, &gateway, &range, &has_range, err) < 0)
        goto out;

    if (insert_network(d, s, &subnet, gateway, has_range ? &range : NULL, id_out, err) < 0)
        goto out;
    rc = 0;
out:
    eng_network_list_free(v, n);
    return rc;
}

/* ---------------------------------------------------------------- remove */

/* Delete the bridge device with iproute2 (the bridge plugin makes bridges, never deletes
 * them). A missing one is fine. */
static void
delete_bridge(const char *name)
{
    char *argv[] = {"ip", "link", "delete", (char *)name, "type", "bridge", NULL};
    char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawnp(&pid, "ip", &fa, NULL, argv, envp) == 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    posix_spawn_file_actions_destroy(&fa);
}

int
eng_network_remove(struct eng_daemon *d, const struct eng_network *n, struct berth_err *err)
{
    if (n->predefined)
        return berth_err_fail(err, EPERM, "%s is a pre-defined network and cannot be removed",
                              n->name);
    if (eng_store_network_delete(d->store, n->id, err) < 0) {
        if (err->code == EBUSY) {
            berth_err_clear(err);
            return berth_err_fail(err, EBUSY,
                                  "error while removing network: network %s id %s has active "
                                  "endpoints",
                                  n->name, n->id);
        }
        return -1;
    }
    if (n->bridge)
        delete_bridge(n->bridge);
    cleanup_free char *data = xasprintf("%s/network/ipam/%s", d->root, n->name);
    struct berth_err e2 = BERTH_ERR_INIT;
    if (berth_fs_rm_rf(data, &e2) < 0)
        berth_err_warn(&e2);
    return 0;
}

/* ---------------------------------------------------------------- CNI and documents */

struct json_object *
eng_network_conflist(struct eng_daemon *d, const struct eng_network *n)
{
    struct json_object *list = json_object_new_object(), *plugins = json_object_new_array();
    json_object_object_add(list, "cniVersion", json_object_new_string("1.0.0"));
    json_object_object_add(list, "name", json_object_new_string(n->name));
    json_object_object_add(list, "plugins", plugins);

    struct json_object *bridge = json_object_new_object();
    json_object_object_add(bridge, "type", json_object_new_string("bridge"));
    json_object_object_add(bridge, "bridge", json_object_new_string(n->bridge));
    json_object_object_add(bridge, "isGateway", json_object_new_boolean(!n->internal));
    json_object_object_add(bridge, "ipMasq", json_object_new_boolean(!n->internal));
    json_object_object_add(bridge, "hairpinMode", json_object_new_boolean(true));
    struct json_object *caps = json_object_new_object();
    json_object_object_add(caps, "ips", json_object_new_boolean(true));
    json_object_object_add(caps, "mac", json_object_new_boolean(true));
    json_object_object_add(bridge, "capabilities", caps);

    struct json_object *ipam = json_object_new_object(), *range = json_object_new_object();
    json_object_object_add(ipam, "type", json_object_new_string("host-local"));
    json_object_object_add(range, "subnet", json_object_new_string(n->subnet));
    json_object_object_add(range, "gateway", json_object_new_string(n->gateway));
    struct eng_ipnet r;
    struct berth_err ignored = BERTH_ERR_INIT;
    if (n->ip_range && eng_ipnet_parse(n->ip_range, "IPRange", &r, &ignored) == 0) {
        uint32_t first = eng_ipnet_base(&r), last = first | ~eng_ipnet_mask(&r);
        cleanup_free char *a = eng_ip_string(r.len < 31 ? first + 1 : first);
        cleanup_free char *b = eng_ip_string(r.len < 31 ? last - 1 : last);
        json_object_object_add(range, "rangeStart", json_object_new_string(a));
        json_object_object_add(range, "rangeEnd", json_object_new_string(b));
    }
    berth_err_clear(&ignored);
    struct json_object *ranges = json_object_new_array(), *set = json_object_new_array();
    json_object_array_add(set, range);
    json_object_array_add(ranges, set);
    json_object_object_add(ipam, "ranges", ranges);
    struct json_object *routes = json_object_new_array();
    if (!n->internal) {
        struct json_object *def = json_object_new_object();
        json_object_object_add(def, "dst", json_object_new_string("0.0.0.0/0"));
        json_object_array_add(routes, def);
    }
    json_object_object_add(ipam, "routes", routes);
    cleanup_free char *data = ipam_dir(d);
    json_object_object_add(ipam, "dataDir", json_object_new_string(data));
    json_object_object_add(bridge, "ipam", ipam);
    json_object_array_add(plugins, bridge);

    struct json_object *portmap = json_object_new_object(), *pcaps = json_object_new_object();
    json_object_object_add(portmap, "type", json_object_new_string("portmap"));
    json_object_object_add(pcaps, "portMappings", json_object_new_boolean(true));
    json_object_object_add(portmap, "capabilities", pcaps);
    json_object_object_add(portmap, "snat", json_object_new_boolean(true));
    json_object_array_add(plugins, portmap);

    struct json_object *fw = json_object_new_object();
    json_object_object_add(fw, "type", json_object_new_string("firewall"));
    json_object_object_add(fw, "backend", json_object_new_string("iptables"));
    json_object_array_add(plugins, fw);
    return list;
}

struct json_object *
eng_network_loopback_conflist(void)
{
    return json_tokener_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"berth-loopback\","
                              "\"plugins\":[{\"type\":\"loopback\"}]}");
}

static char *
rfc3339(int64_t ns)
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09lldZ", buf, (long long)(ns % 1000000000));
}

struct json_object *
eng_network_json(const struct eng_network *n)
{
    struct json_object *o = json_object_new_object();
    cleanup_free char *created = rfc3339(n->created_ns);
    json_object_object_add(o, "Name", json_object_new_string(n->name));
    json_object_object_add(o, "Id", json_object_new_string(n->id));
    json_object_object_add(o, "Created", json_object_new_string(created));
    json_object_object_add(o, "Scope", json_object_new_string("local"));
    json_object_object_add(o, "Driver", json_object_new_string(n->driver));
    json_object_object_add(o, "EnableIPv6", json_object_new_boolean(false));
    struct json_object *ipam = json_object_new_object(), *configs = json_object_new_array();
    json_object_object_add(ipam, "Driver", json_object_new_string("default"));
    json_object_object_add(ipam, "Options", NULL);
    if (n->subnet) {
        struct json_object *c = json_object_new_object();
        json_object_object_add(c, "Subnet", json_object_new_string(n->subnet));
        json_object_object_add(c, "Gateway", json_object_new_string(n->gateway));
        if (n->ip_range)
            json_object_object_add(c, "IPRange", json_object_new_string(n->ip_range));
        json_object_array_add(configs, c);
    }
    json_object_object_add(ipam, "Config", configs);
    json_object_object_add(o, "IPAM", ipam);
    json_object_object_add(o, "Internal", json_object_new_boolean(n->internal));
    json_object_object_add(o, "Attachable", json_object_new_boolean(false));
    json_object_object_add(o, "Ingress", json_object_new_boolean(false));
    struct json_object *from = json_object_new_object();
    json_object_object_add(from, "Network", json_object_new_string(""));
    json_object_object_add(o, "ConfigFrom", from);
    json_object_object_add(o, "ConfigOnly", json_object_new_boolean(false));
    json_object_object_add(o, "Containers", json_object_new_object());
    struct json_object *opts = json_object_get(n->options);
    if (n->bridge && n->predefined) {
        json_object_put(opts);
        opts = json_object_new_object();
        json_object_object_add(opts, "com.docker.network.bridge.name",
                               json_object_new_string(n->bridge));
    }
    json_object_object_add(o, "Options", opts);
    json_object_object_add(o, "Labels", json_object_get(n->labels));
    return o;
}
