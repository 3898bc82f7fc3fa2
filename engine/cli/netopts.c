/* SPDX-License-Identifier: Apache-2.0
 *
 * run/create's networking flags to the ContainerCreate body (see netopts.h).
 */
#include "engine/cli/netopts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

void
cli_netopts_free(struct cli_netopts *n)
{
    struct cli_strv *lists[] = {&n->networks, &n->aliases,  &n->publish,    &n->expose,
                                &n->dns,      &n->add_host, &n->dns_search, &n->dns_options};
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
        cli_strv_free(lists[i]);
}

const char *
cli_netopts_mode(const struct cli_netopts *n)
{
    return n->networks.n ? n->networks.items[n->networks.n - 1] : NULL;
}

bool
cli_is_ipv4(const char *s)
{
    struct in_addr a;
    return s && inet_pton(AF_INET, s, &a) == 1;
}

bool
cli_is_ip(const char *s)
{
    struct in6_addr a;
    return cli_is_ipv4(s) || (s && inet_pton(AF_INET6, s, &a) == 1);
}

/* ---- port specs ---------------------------------------------------------------------------- */

/* "80" or "8000-8010", each a port number (0..65535), docker's ParsePortRange. */
static int
port_range(const char *s, size_t len, unsigned *lo, unsigned *hi)
{
    unsigned v[2] = {0, 0};
    int n = 0;
    size_t digits = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && isdigit((unsigned char)s[i])) {
            v[n] = v[n] * 10 + (unsigned)(s[i] - '0');
            if (v[n] > 65535)
                return -1;
            digits++;
            continue;
        }
        if (digits == 0 || (i < len && (s[i] != '-' || n == 1)))
            return -1;
        digits = 0;
        if (i < len)
            n++;
    }
    *lo = v[0];
    *hi = n ? v[1] : v[0];
    return *hi < *lo ? -1 : 0;
}

static bool
valid_proto(const char *p)
{
    return strcmp(p, "tcp") == 0 || strcmp(p, "udp") == 0 || strcmp(p, "sctp") == 0;
}

/* The binding list of key in bindings, made when missing. */
static struct json_object *
binding_list(struct json_object *bindings, const char *key)
{
    struct json_object *l = NULL;
    if (!json_object_object_get_ex(bindings, key, &l)) {
        l = json_object_new_array();
        json_object_object_add(bindings, key, l);
    }
    return l;
}

int
cli_port_spec_parse(const char *spec, struct json_object *exposed, struct json_object *bindings,
                    struct berth_err *err)
{
    /* The container port is after the last ':', the host port before it, and the address is
     * whatever comes first (it may hold colons: "[::1]:80:80"). */
    const char *last = strrchr(spec, ':');
    const char *cport = last ? last + 1 : spec;
    cleanup_free char *ip = NULL, *hport = NULL;
    if (last) {
        const char *prev = last;
        while (prev > spec && prev[-1] != ':')
            prev--;
        hport = xstrndup(prev, (size_t)(last - prev));
        if (prev > spec)
            ip = xstrndup(spec, (size_t)(prev - 1 - spec));
    }
    const char *slash = strchr(cport, '/');
    size_t cport_len = slash ? (size_t)(slash - cport) : strlen(cport);
    cleanup_free char *proto = xstrdup(slash && slash[1] ? slash + 1 : "tcp");
    for (char *p = proto; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (ip && ip[0] == '[') {
        size_t n = strlen(ip);
        if (n < 3 || ip[n - 1] != ']')
            return berth_err_fail(err, EINVAL, "invalid IP address: %s", ip);
        memmove(ip, ip + 1, n - 2);
        ip[n - 2] = '\0';
    }
    if (ip && *ip && !cli_is_ip(ip))
        return berth_err_fail(err, EINVAL, "invalid IP address: %s", ip);
    if (cport_len == 0)
        return berth_err_fail(err, EINVAL, "no port specified: %s<empty>", spec);
    unsigned clo, chi, hlo = 0, hhi = 0;
    if (port_range(cport, cport_len, &clo, &chi) < 0 || clo == 0)
        return berth_err_fail(err, EINVAL, "invalid containerPort: %.*s", (int)cport_len, cport);
    bool has_host = hport && *hport;
    if (has_host && port_range(hport, strlen(hport), &hlo, &hhi) < 0)
        return berth_err_fail(err, EINVAL, "invalid hostPort: %s", hport);
    /* A host range for a single container port is the range to pick a free one from. */
    if (has_host && chi - clo != hhi - hlo && chi != clo)
        return berth_err_fail(err, EINVAL,
                              "invalid ranges specified for container and host Ports: %.*s and %s",
                              (int)cport_len, cport, hport);
    if (!valid_proto(proto))
        return berth_err_fail(err, EINVAL, "invalid proto: %s", proto);
    for (unsigned i = 0; i <= chi - clo; i++) {
        cleanup_free char *key = xasprintf("%u/%s", clo + i, proto);
        cleanup_free char *host = NULL;
        if (!has_host)
            host = xstrdup("");
        else if (clo == chi && hlo != hhi)
            host = xasprintf("%u-%u", hlo, hhi);
        else
            host = xasprintf("%u", hlo + i);
        if (!json_object_object_get_ex(exposed, key, NULL))
            json_object_object_add(exposed, key, json_object_new_object());
        struct json_object *b = json_object_new_object();
        json_object_object_add(b, "HostIp", json_object_new_string(ip ? ip : ""));
        json_object_object_add(b, "HostPort", json_object_new_string(host));
        json_object_array_add(binding_list(bindings, key), b);
    }
    return 0;
}

/* --expose PORT[-END][/proto]: every port of the range into exposed. */
static int
expose(const char *e, struct json_object *exposed, struct berth_err *err)
{
    if (strchr(e, ':'))
        return berth_err_fail(err, EINVAL, "invalid port format for --expose: %s", e);
    const char *slash = strchr(e, '/');
    size_t len = slash ? (size_t)(slash - e) : strlen(e);
    const char *proto = slash && slash[1] ? slash + 1 : "tcp";
    unsigned lo, hi;
    if (port_range(e, len, &lo, &hi) < 0 || lo == 0)
        return berth_err_fail(err, EINVAL, "invalid range format for --expose: %s", e);
    if (!valid_proto(proto))
        return berth_err_fail(err, EINVAL, "invalid proto in --expose %s: %s", e, proto);
    for (unsigned p = lo; p <= hi; p++) {
        cleanup_free char *key = xasprintf("%u/%s", p, proto);
        if (!json_object_object_get_ex(exposed, key, NULL))
            json_object_object_add(exposed, key, json_object_new_object());
    }
    return 0;
}

/* ---- the body ------------------------------------------------------------------------------ */

static int
bad_flag(struct berth_err *err, const char *flag, const char *value, const char *why)
{
    return berth_err_fail(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag,
                          why);
}

/* "02:42:ac:11:00:02" (or with '-'): six hex octets. */
static bool
is_mac(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? (s[i] != ':' && s[i] != '-') || s[i] != s[2]
                       : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static struct json_object *
strv_array(const struct cli_strv *v)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < v->n; i++)
        json_object_array_add(a, json_object_new_string(v->items[i]));
    return a;
}

/* The values of each flag that must be addresses, and --add-host's host:ip. */
static int
check_addresses(const struct cli_netopts *n, struct berth_err *err)
{
    for (size_t i = 0; i < n->dns.n; i++)
        if (!cli_is_ip(n->dns.items[i]))
            return bad_flag(err, "--dns", n->dns.items[i], "not an IP address");
    for (size_t i = 0; i < n->add_host.n; i++) {
        const char *h = n->add_host.items[i];
        const char *colon = strchr(h, ':');
        if (!colon || colon == h)
            return bad_flag(err, "--add-host", h, "expected host:ip");
        if (!cli_is_ip(colon + 1))
            return bad_flag(err, "--add-host", h,
                            strcmp(colon + 1, "host-gateway") == 0
                                ? "host-gateway is not supported by berthd; give an address"
                                : "not an IP address after the ':'");
    }
    if (n->ip && !cli_is_ipv4(n->ip))
        return bad_flag(err, "--ip", n->ip, "not an IPv4 address");
    if (n->mac && !is_mac(n->mac))
        return bad_flag(err, "--mac-address", n->mac, "not a MAC address (xx:xx:xx:xx:xx:xx)");
    return 0;
}

/* What the network mode allows: one network; --ip and aliases on user networks only; no
 * published ports in another container's namespace (they would be that container's). */
static int
check_mode(const struct cli_netopts *n, struct berth_err *err)
{
    const char *mode = cli_netopts_mode(n);
    if (n->networks.n > 1)
        return berth_err_fail(err, EINVAL,
                              "only one --network can be given at create (API 1.41); connect "
                              "the container to the others with `berth network connect`");
    if (mode && !*mode)
        return bad_flag(err, "--network", mode, "empty network name");
    bool container = mode && strncmp(mode, "container:", 10) == 0;
    bool predefined = !mode || strcmp(mode, "default") == 0 || strcmp(mode, "bridge") == 0 ||
                      strcmp(mode, "host") == 0 || strcmp(mode, "none") == 0 || container;
    if (container && !mode[10])
        return bad_flag(err, "--network", mode, "expected container:<name|id>");
    if (n->ip && predefined)
        return berth_err_fail(err, EINVAL,
                              "--ip: a user specified IP address is supported on user defined "
                              "networks only (--network %s)",
                              mode ? mode : "default");
    if (n->aliases.n && predefined)
        return berth_err_fail(err, EINVAL,
                              "--network-alias: network-scoped aliases are supported only for "
                              "containers on user defined networks (--network %s)",
                              mode ? mode : "default");
    if (container && (n->publish.n || n->publish_all))
        return berth_err_fail(err, EINVAL,
                              "conflicting options: port publishing and the container type "
                              "network mode (--network %s)",
                              mode);
    return 0;
}

int
cli_netopts_body(const struct cli_netopts *n, struct json_object *body, struct json_object *hc,
                 struct berth_err *err)
{
    if (check_mode(n, err) < 0 || check_addresses(n, err) < 0)
        return -1;
    const char *mode = cli_netopts_mode(n);
    struct json_object *exposed = json_object_new_object();
    json_object_object_add(body, "ExposedPorts", exposed);
    struct json_object *bindings = json_object_new_object();
    json_object_object_add(hc, "PortBindings", bindings);
    for (size_t i = 0; i < n->expose.n; i++)
        if (expose(n->expose.items[i], exposed, err) < 0)
            return -1;
    for (size_t i = 0; i < n->publish.n; i++) {
        if (cli_port_spec_parse(n->publish.items[i], exposed, bindings, err) < 0) {
            cleanup_free char *why = xstrdup(err->msg);
            berth_err_clear(err);
            return bad_flag(err, "-p, --publish", n->publish.items[i], why);
        }
    }
    json_object_object_add(hc, "PublishAllPorts", json_object_new_boolean(n->publish_all));
    json_object_object_add(hc, "NetworkMode", json_object_new_string(mode ? mode : "default"));
    if (mode && strcmp(mode, "none") == 0)
        json_object_object_add(body, "NetworkDisabled", json_object_new_boolean(1));
    json_object_object_add(hc, "Dns", strv_array(&n->dns));
    json_object_object_add(hc, "DnsSearch", strv_array(&n->dns_search));
    json_object_object_add(hc, "DnsOptions", strv_array(&n->dns_options));
    json_object_object_add(hc, "ExtraHosts", strv_array(&n->add_host));
    if (n->mac)
        json_object_object_add(body, "MacAddress", json_object_new_string(n->mac));
    /* The endpoint of the network the container is created on, named as NetworkMode is. */
    struct json_object *eps = json_object_new_object();
    struct json_object *nc = json_object_new_object();
    json_object_object_add(nc, "EndpointsConfig", eps);
    json_object_object_add(body, "NetworkingConfig", nc);
    if (n->ip || n->aliases.n) {
        struct json_object *ep = json_object_new_object();
        json_object_object_add(eps, mode, ep);
        if (n->ip) {
            struct json_object *ipam = json_object_new_object();
            json_object_object_add(ipam, "IPv4Address", json_object_new_string(n->ip));
            json_object_object_add(ep, "IPAMConfig", ipam);
        }
        json_object_object_add(ep, "Aliases", strv_array(&n->aliases));
    }
    return 0;
}
