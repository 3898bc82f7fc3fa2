/* SPDX-License-Identifier: Apache-2.0
 *
 * The network group: create, ls, inspect, rm, connect, disconnect, prune, over berthd's
 * /networks endpoints. Values berth can check itself (addresses, a gateway without a subnet)
 * are refused before a request is sent; the rest is the daemon's answer, passed on.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"
#include "engine/cli/netopts.h"
#include "engine/cli/output.h"

/* Each subcommand's usage line, summary and options, for the group's usage and --help. */
struct net_sub {
    const char *name, *args, *summary, *options;
};

/* clang-format off */
static const struct net_sub subs[] = {
    {"connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network",
     "      --alias strings   Add network-scoped alias for the container\n"
     "      --ip string       IPv4 address (e.g., \"172.30.100.104\")\n"},
    {"create", "[OPTIONS] NETWORK", "Create a network",
     "  -d, --driver string       Driver to manage the Network (default \"bridge\")\n"
     "      --gateway strings     IPv4 Gateway for the master subnet\n"
     "      --internal            Restrict external access to the network\n"
     "      --ip-range strings    Allocate container ip from a sub-range\n"
     "      --ipam-driver string  IP Address Management Driver (default \"default\")\n"
     "      --ipv6                Enable IPv6 networking (refused: berthd's networks are IPv4)\n"
     "      --label list          Set metadata on a network\n"
     "  -o, --opt map             Set driver specific options\n"
     "      --subnet strings      Subnet in CIDR format that represents a network segment\n"},
    {"disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
     "  -f, --force   Force the container to disconnect from a network\n"},
    {"inspect", "[OPTIONS] NETWORK [NETWORK...]",
     "Display detailed information on one or more networks",
     "  -f, --format string   Format the output using the given Go template\n"},
    {"ls", "[OPTIONS]", "List networks",
     "  -f, --filter filter   Provide filter values (e.g. 'driver=bridge')\n"
     "      --format string   Pretty-print networks using a Go template\n"
     "      --no-trunc        Do not truncate the output\n"
     "  -q, --quiet           Only display network IDs\n"},
    {"prune", "[OPTIONS]", "Remove all unused networks",
     "      --filter filter   Provide filter values (e.g. 'label=<key>=<value>')\n"
     "  -f, --force           Do not prompt for confirmation\n"},
    {"rm", "NETWORK [NETWORK...]", "Remove one or more networks",
     "  -f, --force   Do not error if the network does not exist\n"},
};
/* clang-format on */

static int
sub_help(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (strcmp(subs[i].name, name) == 0)
            printf("Usage:  berth network %s %s\n\n%s\n\nOptions:\n%s", subs[i].name, subs[i].args,
                   subs[i].summary, subs[i].options);
    return 0;
}

/* Parse a subcommand's flags and check its operand count; 1 when --help was printed. */
static int
parse(const char *sub, const struct cli_flag *flags, size_t n_flags, int argc, char **argv, int min,
      int max, struct cli_args *args, struct berth_err *err)
{
    cleanup_free char *cmd = xasprintf("network %s", sub);
    if (cli_flags_parse(cmd, flags, n_flags, argc, argv, false, args, err) < 0)
        return -1;
    if (args->help)
        return sub_help(sub) + 1;
    return cli_args_count(cmd, args, min, max, err);
}

/* "k=v" items into an object ("k" alone maps to ""). */
static struct json_object *
kv_object(const struct cli_strv *items)
{
    struct json_object *o = json_object_new_object();
    for (size_t i = 0; i < items->n; i++) {
        const char *eq = strchr(items->items[i], '=');
        cleanup_free char *k = eq ? xstrndup(items->items[i], (size_t)(eq - items->items[i]))
                                  : xstrdup(items->items[i]);
        json_object_object_add(o, k, json_object_new_string(eq ? eq + 1 : ""));
    }
    return o;
}

/* ---- create -------------------------------------------------------------------------------- */

struct create_opts {
    const char *driver, *ipam_driver;
    struct cli_strv subnets, gateways, ranges, labels, opts;
    bool internal, ipv6, attachable;
};

static void
create_opts_free(struct create_opts *o)
{
    cli_strv_free(&o->subnets);
    cli_strv_free(&o->gateways);
    cli_strv_free(&o->ranges);
    cli_strv_free(&o->labels);
    cli_strv_free(&o->opts);
}

/* The create body in *out; -1 with err for what berth can tell is wrong. berthd has one
 * subnet a network, so a gateway or a range can only belong to that one. */
static int
create_body(const struct create_opts *o, const char *name, struct json_object **out,
            struct berth_err *err)
{
    if ((o->gateways.n || o->ranges.n) && !o->subnets.n)
        return berth_err_fail(err, EINVAL,
                              "every ip-range or gateway must have a corresponding subnet");
    if (o->subnets.n > 1 || o->gateways.n > 1 || o->ranges.n > 1)
        return berth_err_fail(err, ENOTSUP,
                              "one --subnet (with at most one --gateway and --ip-range) a "
                              "network is supported");
    if (o->gateways.n && !cli_is_ipv4(o->gateways.items[0]))
        return berth_err_fail(err, EINVAL,
                              "invalid argument \"%s\" for \"--gateway\" flag: not an IPv4 "
                              "address",
                              o->gateways.items[0]);
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "Name", json_object_new_string(name));
    json_object_object_add(body, "CheckDuplicate", json_object_new_boolean(1));
    json_object_object_add(body, "Driver", json_object_new_string(o->driver));
    json_object_object_add(body, "Internal", json_object_new_boolean(o->internal));
    json_object_object_add(body, "Attachable", json_object_new_boolean(o->attachable));
    json_object_object_add(body, "EnableIPv6", json_object_new_boolean(o->ipv6));
    struct json_object *ipam = json_object_new_object(), *configs = json_object_new_array();
    json_object_object_add(ipam, "Driver", json_object_new_string(o->ipam_driver));
    json_object_object_add(ipam, "Config", configs);
    json_object_object_add(body, "IPAM", ipam);
    if (o->subnets.n) {
        struct json_object *c = json_object_new_object();
        json_object_object_add(c, "Subnet", json_object_new_string(o->subnets.items[0]));
        if (o->gateways.n)
            json_object_object_add(c, "Gateway", json_object_new_string(o->gateways.items[0]));
        if (o->ranges.n)
            json_object_object_add(c, "IPRange", json_object_new_string(o->ranges.items[0]));
        json_object_array_add(configs, c);
    }
    json_object_object_add(body, "Options", kv_object(&o->opts));
    json_object_object_add(body, "Labels", kv_object(&o->labels));
    *out = body;
    return 0;
}

static int
network_create(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    struct create_opts o = {.driver = "bridge", .ipam_driver = "default"};
    const struct cli_flag flags[] = {
        {"driver", 'd', CLI_FLAG_STRING, &o.driver, NULL},
        {"ipam-driver", 0, CLI_FLAG_STRING, &o.ipam_driver, NULL},
        {"subnet", 0, CLI_FLAG_LIST, &o.subnets, NULL},
        {"gateway", 0, CLI_FLAG_LIST, &o.gateways, NULL},
        {"ip-range", 0, CLI_FLAG_LIST, &o.ranges, NULL},
        {"label", 0, CLI_FLAG_LIST, &o.labels, NULL},
        {"opt", 'o', CLI_FLAG_LIST, &o.opts, NULL},
        {"internal", 0, CLI_FLAG_BOOL, &o.internal, NULL},
        {"ipv6", 0, CLI_FLAG_BOOL, &o.ipv6, NULL},
        {"attachable", 0, CLI_FLAG_BOOL, &o.attachable, NULL},
    };
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    int r = parse("create", flags, ARRAY_SIZE(flags), argc, argv, 1, 1, &args, err);
    if (r != 0) {
        status = r > 0 ? 0 : CLI_EXIT_USAGE;
        goto out;
    }
    status = CLI_EXIT_FAIL;
    {
        cleanup_json struct json_object *body = NULL, *resp = NULL;
        if (create_body(&o, args.v[0], &body, err) < 0 ||
            cli_api(g, "POST", "/networks/create", body, &resp, err) < 0)
            goto out;
        const char *warning = cli_json_str(resp, "Warning");
        if (*warning)
            fprintf(stderr, "WARNING: %s\n", warning);
        printf("%s\n", cli_json_str(resp, "Id"));
        status = 0;
    }
out:
    create_opts_free(&o);
    return status;
}

/* ---- ls ------------------------------------------------------------------------------------ */

static int
by_name(const void *a, const void *b)
{
    struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
    return strcmp(cli_json_str(x, "Name"), cli_json_str(y, "Name"));
}

/* The row docker's network ls formats: ID (short unless no_trunc), Name, Driver, Scope,
 * IPv6, Internal, Labels ("k=v,..."), CreatedAt. */
static struct json_object *
ls_row(struct json_object *n, bool no_trunc)
{
    struct json_object *row = json_object_new_object();
    const char *id = cli_json_str(n, "Id");
    cleanup_free char *short_id = no_trunc ? xstrdup(id) : xstrndup(id, 12);
    json_object_object_add(row, "ID", json_object_new_string(short_id));
    static const char *const keys[] = {"Name", "Driver", "Scope"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
        json_object_object_add(row, keys[k], json_object_new_string(cli_json_str(n, keys[k])));
    json_object_object_add(
        row, "IPv6",
        json_object_new_string(berth_json_member_bool(n, "EnableIPv6") ? "true" : "false"));
    json_object_object_add(
        row, "Internal",
        json_object_new_string(berth_json_member_bool(n, "Internal") ? "true" : "false"));
    json_object_object_add(row, "CreatedAt", json_object_new_string(cli_json_str(n, "Created")));
    cleanup_free char *ls = xstrdup("");
    struct json_object *labels = berth_json_member(n, "Labels");
    if (labels && json_object_is_type(labels, json_type_object)) {
        json_object_object_foreach(labels, k, lv)
        {
            char *more = xasprintf("%s%s%s=%s", ls, *ls ? "," : "", k, json_object_get_string(lv));
            free(ls);
            ls = more;
        }
    }
    json_object_object_add(row, "Labels", json_object_new_string(ls));
    return row;
}

static int
network_ls(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool quiet = false, no_trunc = false;
    const char *format = NULL;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"no-trunc", 0, CLI_FLAG_BOOL, &no_trunc, NULL},
        {"format", 0, CLI_FLAG_STRING, &format, NULL},
        {"filter", 'f', CLI_FLAG_LIST, &filters, NULL},
    };
    static const struct cli_column cols[] = {
        {"ID", "NETWORK ID"}, {"Name", "NAME"},         {"Driver", "DRIVER"},
        {"Scope", "SCOPE"},   {"IPv6", "IPV6"},         {"Internal", "INTERNAL"},
        {"Labels", "LABELS"}, {"CreatedAt", "CREATED"},
    };
    struct cli_args args;
    struct cli_fmt fmt = {0};
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *path = NULL;
    cleanup_json struct json_object *r = NULL;
    int pr = parse("ls", flags, ARRAY_SIZE(flags), argc, argv, 0, 0, &args, err);
    if (pr != 0) {
        status = pr > 0 ? 0 : CLI_EXIT_USAGE;
        goto out;
    }
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    if (quiet)
        format = "{{.ID}}";
    if (cli_fmt_init(&fmt, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", cols,
                     ARRAY_SIZE(cols), err) < 0)
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/networks?%s", fq[0] ? fq + 1 : "");
    if (cli_api(g, "GET", path, NULL, &r, err) < 0)
        goto out;
    if (!json_object_is_type(r, json_type_array)) {
        berth_err_fail(err, EPROTO, "network ls: the daemon's answer is not a list");
        goto out;
    }
    /* Sorted by name, as docker lists them. */
    size_t n = json_object_array_length(r);
    struct json_object **v = xmalloc((n ? n : 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_object_array_get_idx(r, i);
    qsort(v, n, sizeof(*v), by_name);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        cleanup_json struct json_object *row = ls_row(v[i], no_trunc);
        rc = cli_fmt_row(&fmt, row, err);
    }
    free(v);
    if (rc < 0)
        goto out;
    cli_fmt_flush(&fmt, stdout);
    status = 0;
out:
    cli_fmt_free(&fmt);
    cli_strv_free(&filters);
    return status;
}

/* ---- rm ------------------------------------------------------------------------------------ */

static int
network_rm(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false;
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL}};
    struct cli_args args;
    int r = parse("rm", flags, ARRAY_SIZE(flags), argc, argv, 1, -1, &args, err);
    if (r != 0)
        return r > 0 ? 0 : CLI_EXIT_USAGE;
    int status = 0;
    for (int i = 0; i < args.n; i++) {
        cleanup_free char *e = cli_escape(args.v[i]);
        cleanup_free char *path = xasprintf("/networks/%s", e);
        if (cli_api(g, "DELETE", path, NULL, NULL, err) < 0) {
            if (force && err->code == ENOENT) {
                berth_err_clear(err);
                continue;
            }
            cli_report_error(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        printf("%s\n", args.v[i]);
    }
    return status;
}

/* ---- connect, disconnect ------------------------------------------------------------------- */

static int
network_connect(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *ip = NULL;
    struct cli_strv aliases = {0};
    const struct cli_flag flags[] = {
        {"ip", 0, CLI_FLAG_STRING, &ip, NULL},
        {"alias", 0, CLI_FLAG_LIST, &aliases, NULL},
    };
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    int r = parse("connect", flags, ARRAY_SIZE(flags), argc, argv, 2, 2, &args, err);
    if (r != 0) {
        status = r > 0 ? 0 : CLI_EXIT_USAGE;
        goto out;
    }
    if (ip && !cli_is_ipv4(ip)) {
        berth_err_fail(err, EINVAL,
                       "invalid argument \"%s\" for \"--ip\" flag: not an IPv4 address", ip);
        goto out;
    }
    status = CLI_EXIT_FAIL;
    {
        cleanup_json struct json_object *body = json_object_new_object();
        struct json_object *ep = json_object_new_object();
        json_object_object_add(body, "Container", json_object_new_string(args.v[1]));
        json_object_object_add(body, "EndpointConfig", ep);
        if (ip) {
            struct json_object *ipam = json_object_new_object();
            json_object_object_add(ipam, "IPv4Address", json_object_new_string(ip));
            json_object_object_add(ep, "IPAMConfig", ipam);
        }
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < aliases.n; i++)
            json_object_array_add(a, json_object_new_string(aliases.items[i]));
        json_object_object_add(ep, "Aliases", a);
        cleanup_free char *e = cli_escape(args.v[0]);
        cleanup_free char *path = xasprintf("/networks/%s/connect", e);
        if (cli_api(g, "POST", path, body, NULL, err) < 0)
            goto out;
        status = 0;
    }
out:
    cli_strv_free(&aliases);
    return status;
}

static int
network_disconnect(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false;
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL}};
    struct cli_args args;
    int r = parse("disconnect", flags, ARRAY_SIZE(flags), argc, argv, 2, 2, &args, err);
    if (r != 0)
        return r > 0 ? 0 : CLI_EXIT_USAGE;
    cleanup_json struct json_object *body = json_object_new_object();
    json_object_object_add(body, "Container", json_object_new_string(args.v[1]));
    json_object_object_add(body, "Force", json_object_new_boolean(force));
    cleanup_free char *e = cli_escape(args.v[0]);
    cleanup_free char *path = xasprintf("/networks/%s/disconnect", e);
    return cli_api(g, "POST", path, body, NULL, err) < 0 ? CLI_EXIT_FAIL : 0;
}

/* ---- prune --------------------------------------------------------------------------------- */

static int
network_prune(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool force = false;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {{"force", 'f', CLI_FLAG_BOOL, &force, NULL},
                                     {"filter", 0, CLI_FLAG_LIST, &filters, NULL}};
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *path = NULL;
    cleanup_json struct json_object *r = NULL;
    int pr = parse("prune", flags, ARRAY_SIZE(flags), argc, argv, 0, 0, &args, err);
    if (pr != 0) {
        status = pr > 0 ? 0 : CLI_EXIT_USAGE;
        goto out;
    }
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    status = 0;
    if (!force && !cli_confirm("WARNING! This will remove all custom networks not used by at "
                               "least one container.\nAre you sure you want to continue?"))
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/networks/prune?%s", fq[0] ? fq + 1 : "");
    if (cli_api(g, "POST", path, NULL, &r, err) < 0)
        goto out;
    struct json_object *del = berth_json_member(r, "NetworksDeleted");
    if (del && json_object_is_type(del, json_type_array) && json_object_array_length(del)) {
        printf("Deleted Networks:\n");
        for (size_t i = 0; i < json_object_array_length(del); i++)
            printf("%s\n", json_object_get_string(json_object_array_get_idx(del, i)));
    }
    status = 0;
out:
    cli_strv_free(&filters);
    return status;
}

/* ---- the group ----------------------------------------------------------------------------- */

static int
network_inspect(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    /* inspect --type=network, with this group's own --help. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return sub_help("inspect");
    if (argc < 2) {
        berth_err_fail(err, EINVAL,
                       "\"berth network inspect\" requires at least 1 argument.\nSee 'berth "
                       "network inspect --help'.");
        return CLI_EXIT_USAGE;
    }
    char **v = xmalloc(((size_t)argc + 2) * sizeof(*v));
    v[0] = "inspect";
    v[1] = "--type=network";
    for (int i = 1; i < argc; i++)
        v[i + 1] = argv[i];
    v[argc + 1] = NULL;
    int rc = cli_cmd_inspect(g, argc + 1, v, err);
    free(v);
    return rc;
}

int
cli_cmd_network(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct {
        const char *name, *alias;
        cli_cmd_fn fn;
    } table[] = {
        {"connect", NULL, network_connect},
        {"create", NULL, network_create},
        {"disconnect", NULL, network_disconnect},
        {"inspect", NULL, network_inspect},
        {"ls", "list", network_ls},
        {"prune", NULL, network_prune},
        {"rm", "remove", network_rm},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("Usage:  berth network COMMAND\n\nManage networks\n\nCommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
            printf("  %-11s %s\n", subs[i].name, subs[i].summary);
        printf("\nRun 'berth network COMMAND --help' for more information on a command.\n");
        return argc < 2 ? CLI_EXIT_FAIL : 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (strcmp(argv[1], table[i].name) == 0 ||
            (table[i].alias && strcmp(argv[1], table[i].alias) == 0))
            return table[i].fn(g, argc - 1, argv + 1, err);
    berth_err_fail(err, EINVAL, "berth network: unknown command `%s`\nSee 'berth network --help'.",
                   argv[1]);
    return CLI_EXIT_USAGE;
}
