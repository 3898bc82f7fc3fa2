/* SPDX-License-Identifier: Apache-2.0
 *
 * The networking flags of run and create and the parts of the ContainerCreate body they make:
 * --network (HostConfig.NetworkMode), --network-alias and --ip (NetworkingConfig
 * .EndpointsConfig of that network), -p/--publish (ExposedPorts and HostConfig.PortBindings),
 * -P/--publish-all, --expose, --dns, --dns-search, --dns-option, --add-host (ExtraHosts) and
 * --mac-address (Config.MacAddress). Every value is checked here, the way docker's CLI checks
 * it, so that a bad one is refused before anything reaches berthd; messages name the flag.
 */
#ifndef BERTH_ENGINE_CLI_NETOPTS_H
#define BERTH_ENGINE_CLI_NETOPTS_H

#include <stdbool.h>

#include "engine/cli/flags.h"

struct berth_err;
struct json_object;

struct cli_netopts {
    struct cli_strv networks; /* --network / --net: at most one (API 1.41) */
    struct cli_strv aliases, publish, expose, dns, dns_search, dns_options, add_host;
    const char *ip, *mac;
    bool publish_all;
};

void cli_netopts_free(struct cli_netopts *n);

/* The network mode asked for: the --network given, else NULL (the daemon's default). */
const char *cli_netopts_mode(const struct cli_netopts *n);

/* Add n's parts to the create body (body is Config, hc its HostConfig; both are kept on
 * failure, for the caller to drop). Returns 0, or -1 with err naming the flag and the value:
 * `invalid argument "70000:80" for "-p, --publish" flag: invalid hostPort: 70000`. */
int cli_netopts_body(const struct cli_netopts *n, struct json_object *body, struct json_object *hc,
                     struct berth_err *err);

/* One docker port spec, "[ip:][hostPort:]containerPort[/proto]" (ports may be ranges of the
 * same length, or a host range for one container port, meaning any free one of it), into
 * exposed ({"80/tcp": {}}) and bindings ({"80/tcp": [{"HostIp", "HostPort"}]}). Returns 0 or
 * -1 with err holding docker's reason ("invalid containerPort: abc"), without the flag. */
int cli_port_spec_parse(const char *spec, struct json_object *exposed, struct json_object *bindings,
                        struct berth_err *err);

/* Whether s is an IPv4 address (dotted quad), or any IP address (v4 or v6). */
bool cli_is_ipv4(const char *s);
bool cli_is_ip(const char *s);

#endif
