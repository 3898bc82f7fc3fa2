/* SPDX-License-Identifier: Apache-2.0
 *
 * Published ports (internal.h): HostConfig.PortBindings ("[ip:]host:container[/proto]", a
 * host port range meaning any free one of it) and PublishAllPorts (an ephemeral host port for
 * each ExposedPorts entry) turned into the portmap plugin's portMappings, each host port
 * checked free first: in no other container's mappings (read from the CNI result cache, which
 * holds each attachment's runtime config) and bindable on the host. Callers hold the
 * containers' net_lock, so two starts cannot pick the same port. And back: docker's
 * NetworkSettings.Ports and the Ports of a list entry from the mappings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/containers/internal.h"
#include "engine/network/cni.h"
#include "engine/network/ipnet.h"

static void
add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

struct used_port {
    const char *exclude; /* the container asking */
    const char *proto;
    int port;
    bool used;
};

static int
port_in_cache(void *data, struct json_object *doc)
{
    struct used_port *u = data;
    const char *id = berth_json_member_string(doc, "containerId");
    if (id && strcmp(id, u->exclude) == 0)
        return 0;
    struct json_object *pm =
        berth_json_member(berth_json_member(doc, "runtimeConfig"), "portMappings");
    for (size_t i = 0; pm && i < json_object_array_length(pm); i++) {
        struct json_object *m = json_object_array_get_idx(pm, i);
        if (json_object_get_int(berth_json_member(m, "hostPort")) == u->port &&
            strcmp(berth_json_member_string(m, "protocol") ?: "tcp", u->proto) == 0) {
            u->used = true;
            return 1;
        }
    }
    return 0;
}

/* Bind ip:port (port 0: any) for proto: whether it is free; *got the port bound. */
static bool
port_free(const char *ip, const char *proto, int port, int *got)
{
    bool udp = strcmp(proto, "udp") == 0;
    cleanup_close int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (!ip || !*ip || inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return false;
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *got = ntohs(sa.sin_port);
    return true;
}

static int
parse_port(const char *s, int *lo, int *hi)
{
    char *end = NULL;
    long a = strtol(s, &end, 10), b = a;
    if (end == s)
        return -1;
    if (*end == '-') {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p)
            return -1;
    }
    if (*end || a < 0 || a > 65535 || b < a || b > 65535)
        return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

/* One host port for container port cport/proto on ip from spec ("", "8080", "8000-8010"):
 * free on the host and in no other container's mappings. */
static int
pick_port(const struct eng_cni *cni, struct eng_ctr *c, const char *ip, const char *proto,
          const char *spec, int *out, struct berth_err *err)
{
    int lo = 0, hi = 0;
    if (spec && *spec && parse_port(spec, &lo, &hi) < 0)
        return berth_err_fail(err, EINVAL, "invalid host port `%s`", spec);
    for (int attempt = 0; attempt < 64; attempt++) {
        int want = lo, got = 0;
        if (lo == 0 && !port_free(ip, proto, 0, &want)) /* ephemeral: the kernel's pick */
            break;
        if (lo != 0 && attempt > hi - lo)
            break;
        if (lo != 0)
            want = lo + attempt;
        struct used_port u = {.exclude = c->id, .proto = proto, .port = want};
        eng_cni_each_cached(cni, NULL, port_in_cache, &u);
        if (!u.used && port_free(ip, proto, want, &got)) {
            *out = want;
            return 0;
        }
    }
    return berth_err_fail(err, EADDRINUSE,
                          "driver failed programming external connectivity on endpoint %s: "
                          "Bind for %s:%s failed: port is already allocated",
                          c->name, ip && *ip ? ip : "0.0.0.0", spec && *spec ? spec : "0");
}

static void
add_mapping(struct json_object *list, int host, int cport, const char *proto, const char *ip)
{
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "hostPort", json_object_new_int(host));
    json_object_object_add(m, "containerPort", json_object_new_int(cport));
    json_object_object_add(m, "protocol", json_object_new_string(proto));
    if (ip && *ip && strcmp(ip, "0.0.0.0") != 0)
        json_object_object_add(m, "hostIP", json_object_new_string(ip));
    json_object_array_add(list, m);
}

/* "80/tcp" -> 80, "tcp". */
static int
port_key(const char *key, int *port, char *proto, size_t n, struct berth_err *err)
{
    const char *slash = strchr(key, '/');
    cleanup_free char *num = slash ? xstrndup(key, (size_t)(slash - key)) : xstrdup(key);
    int lo, hi;
    if (parse_port(num, &lo, &hi) < 0 || lo != hi || lo == 0)
        return berth_err_fail(err, EINVAL, "invalid port `%s`", key);
    snprintf(proto, n, "%s", slash ? slash + 1 : "tcp");
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
        return berth_err_fail(err, EINVAL, "invalid proto `%s` in `%s`", proto, key);
    *port = lo;
    return 0;
}

/* HostConfig.PortBindings as docker checks them at create: "port[/proto]" keys, host ports
 * that are numbers or ranges. */
int
ctr_ports_check(struct json_object *host, struct berth_err *err)
{
    struct json_object *pb = berth_json_member(host, "PortBindings");
    if (!pb || json_object_is_type(pb, json_type_null))
        return 0;
    if (!json_object_is_type(pb, json_type_object))
        return berth_err_fail(err, EINVAL, "HostConfig.PortBindings: expected an object");
    json_object_object_foreach(pb, key, binds)
    {
        int cport, lo, hi;
        char proto[8];
        if (port_key(key, &cport, proto, sizeof(proto), err) < 0)
            return berth_err_wrap(err, "HostConfig.PortBindings");
        for (size_t i = 0; binds && json_object_is_type(binds, json_type_array) &&
                           i < json_object_array_length(binds);
             i++) {
            struct json_object *b = json_object_array_get_idx(binds, i);
            const char *hp = berth_json_member_string(b, "HostPort");
            const char *ip = berth_json_member_string(b, "HostIp");
            uint32_t a;
            if (hp && *hp && parse_port(hp, &lo, &hi) < 0)
                return berth_err_fail(err, EINVAL, "invalid hostPort: %s", hp);
            if (ip && *ip && eng_ip_parse(ip, "HostConfig.PortBindings: HostIp", &a, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* HostConfig.PortBindings and, with PublishAllPorts, every ExposedPorts entry left: the
 * portmap plugin's portMappings, each host port chosen and checked. */
int
ctr_ports_mappings(const struct eng_cni *cni, struct eng_ctr *c, struct json_object **out,
                   struct berth_err *err)
{
    cleanup_json struct json_object *list = json_object_new_array();
    struct json_object *pb = berth_json_member(c->host_config, "PortBindings");
    if (pb && json_object_is_type(pb, json_type_object)) {
        json_object_object_foreach(pb, key, binds)
        {
            int cport;
            char proto[8];
            if (port_key(key, &cport, proto, sizeof(proto), err) < 0)
                return berth_err_wrap(err, "HostConfig.PortBindings");
            size_t nb = binds && json_object_is_type(binds, json_type_array)
                            ? json_object_array_length(binds)
                            : 0;
            for (size_t i = 0; i < (nb ? nb : 1); i++) {
                struct json_object *b = nb ? json_object_array_get_idx(binds, i) : NULL;
                const char *ip = berth_json_member_string(b, "HostIp");
                int host;
                if (pick_port(cni, c, ip, proto, berth_json_member_string(b, "HostPort"), &host,
                              err) < 0)
                    return -1;
                add_mapping(list, host, cport, proto, ip);
            }
        }
    }
    struct json_object *exposed = berth_json_member(c->config, "ExposedPorts");
    if (berth_json_member_bool(c->host_config, "PublishAllPorts") && exposed &&
        json_object_is_type(exposed, json_type_object)) {
        json_object_object_foreach(exposed, key, v)
        {
            (void)v;
            if (berth_json_member(pb, key))
                continue;
            int cport, host;
            char proto[8];
            if (port_key(key, &cport, proto, sizeof(proto), err) < 0)
                return berth_err_wrap(err, "Config.ExposedPorts");
            if (pick_port(cni, c, NULL, proto, NULL, &host, err) < 0)
                return -1;
            add_mapping(list, host, cport, proto, NULL);
        }
    }
    *out = steal_ptr(&list);
    return 0;
}

/* docker's NetworkSettings.Ports: each published mapping, and the exposed ports not
 * published as null. */
struct json_object *
ctr_ports_doc(struct eng_ctr *c, struct json_object *mappings)
{
    struct json_object *ports = json_object_new_object();
    for (size_t i = 0; mappings && i < json_object_array_length(mappings); i++) {
        struct json_object *m = json_object_array_get_idx(mappings, i);
        cleanup_free char *key =
            xasprintf("%d/%s", json_object_get_int(berth_json_member(m, "containerPort")),
                      berth_json_member_string(m, "protocol") ?: "tcp");
        struct json_object *list = berth_json_member(ports, key);
        if (!list) {
            list = json_object_new_array();
            json_object_object_add(ports, key, list);
        }
        struct json_object *b = json_object_new_object();
        cleanup_free char *hp =
            xasprintf("%d", json_object_get_int(berth_json_member(m, "hostPort")));
        add_str(b, "HostIp", berth_json_member_string(m, "hostIP") ?: "0.0.0.0");
        add_str(b, "HostPort", hp);
        json_object_array_add(list, b);
    }
    struct json_object *exposed = berth_json_member(c->config, "ExposedPorts");
    if (exposed && json_object_is_type(exposed, json_type_object)) {
        json_object_object_foreach(exposed, key, v)
        {
            (void)v;
            if (!berth_json_member(ports, key))
                json_object_object_add(ports, key, NULL);
        }
    }
    return ports;
}

struct json_object *
ctr_ports_summary(struct json_object *ports)
{
    struct json_object *out = json_object_new_array();
    if (!ports || !json_object_is_type(ports, json_type_object))
        return out;
    json_object_object_foreach(ports, key, binds)
    {
        int port = atoi(key);
        const char *slash = strchr(key, '/');
        const char *type = slash ? slash + 1 : "tcp";
        size_t n = binds && json_object_is_type(binds, json_type_array)
                       ? json_object_array_length(binds)
                       : 0;
        for (size_t i = 0; i < (n ? n : 1); i++) {
            struct json_object *b = n ? json_object_array_get_idx(binds, i) : NULL;
            struct json_object *o = json_object_new_object();
            if (b)
                add_str(o, "IP", berth_json_member_string(b, "HostIp"));
            json_object_object_add(o, "PrivatePort", json_object_new_int(port));
            if (b)
                json_object_object_add(
                    o, "PublicPort",
                    json_object_new_int(atoi(berth_json_member_string(b, "HostPort") ?: "0")));
            add_str(o, "Type", type);
            json_object_array_add(out, o);
        }
    }
    return out;
}
