/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/cli/flags.c and runopts.c: docker's flag grammar (long and short
 * forms, values attached or apart, grouped booleans, lists, `--`, stopping at the first
 * operand for run and exec), its messages for bad flags, sizes, and the ContainerCreate
 * body that run's flags make.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/cli/flags.h"
#include "engine/cli/runopts.h"
#include "engine/cli/units.h"

struct opts {
    bool all, quiet, detach;
    const char *name;
    struct cli_strv env;
    long long n;
    bool n_set;
};

static int
parse(struct opts *o, bool stop, struct cli_args *args, struct berth_err *err, int argc,
      char **argv)
{
    const struct cli_flag flags[] = {
        {"all", 'a', CLI_FLAG_BOOL, &o->all, NULL},
        {"quiet", 'q', CLI_FLAG_BOOL, &o->quiet, NULL},
        {"detach", 'd', CLI_FLAG_BOOL, &o->detach, NULL},
        {"name", 0, CLI_FLAG_STRING, &o->name, NULL},
        {"env", 'e', CLI_FLAG_LIST, &o->env, NULL},
        {"last", 'n', CLI_FLAG_INT, &o->n, &o->n_set},
    };
    memset(o, 0, sizeof(*o));
    return cli_flags_parse("ps", flags, ARRAY_SIZE(flags), argc, argv, stop, args, err);
}

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))

static void
test_cli_flags_parse_forms(void **state)
{
    struct opts o;
    struct cli_args args;
    struct berth_err err = BERTH_ERR_INIT;
    char **v = ARGV("ps", "-aq", "--name=web", "-e", "A=1", "-eB=2", "--env", "C=3", "op1", "-n",
                    "5", "op2");
    assert_int_equal(parse(&o, false, &args, &err, 12, v), 0);
    assert_true(o.all);
    assert_true(o.quiet);
    assert_string_equal(o.name, "web");
    assert_int_equal(o.env.n, 3);
    assert_string_equal(o.env.items[0], "A=1");
    assert_string_equal(o.env.items[1], "B=2");
    assert_string_equal(o.env.items[2], "C=3");
    assert_true(o.n_set);
    assert_int_equal(o.n, 5);
    assert_int_equal(args.n, 2);
    assert_string_equal(args.v[0], "op1");
    assert_string_equal(args.v[1], "op2");
    cli_strv_free(&o.env);
}

static void
test_cli_flags_parse_stop_at_operand(void **state)
{
    struct opts o;
    struct cli_args args;
    struct berth_err err = BERTH_ERR_INIT;
    char **v = ARGV("run", "-d", "busybox", "ls", "-a", "--name", "x");
    assert_int_equal(parse(&o, true, &args, &err, 7, v), 0);
    assert_true(o.detach);
    assert_false(o.all);
    assert_null(o.name);
    assert_int_equal(args.n, 5);
    assert_string_equal(args.v[0], "busybox");
    assert_string_equal(args.v[2], "-a");
    /* `--` ends the flags too. */
    char **w = ARGV("ps", "--", "-a");
    assert_int_equal(parse(&o, false, &args, &err, 3, w), 0);
    assert_false(o.all);
    assert_int_equal(args.n, 1);
    assert_string_equal(args.v[0], "-a");
}

static void
test_cli_flags_parse_bools_and_help(void **state)
{
    struct opts o;
    struct cli_args args;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(parse(&o, false, &args, &err, 3, ARGV("ps", "--all=false", "--help")), 0);
    assert_false(o.all);
    assert_true(args.help);
    assert_int_equal(parse(&o, false, &args, &err, 2, ARGV("ps", "-h")), 0);
    assert_true(args.help);
    assert_int_equal(parse(&o, false, &args, &err, 2, ARGV("ps", "-a=true")), 0);
    assert_true(o.all);
}

static void
check_parse_error(int argc, char **argv, const char *want)
{
    struct opts o;
    struct cli_args args;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(parse(&o, false, &args, &err, argc, argv), -1);
    if (strcmp(err.msg, want) != 0)
        fail_msg("got `%s`, want `%s`", err.msg, want);
    berth_err_clear(&err);
    cli_strv_free(&o.env);
}

static void
test_cli_flags_parse_errors(void **state)
{
    check_parse_error(2, ARGV("ps", "--bogus"), "unknown flag: --bogus\nSee 'berth ps --help'.");
    check_parse_error(2, ARGV("ps", "-x"),
                      "unknown shorthand flag: 'x' in -x\nSee 'berth ps --help'.");
    check_parse_error(2, ARGV("ps", "-ax"),
                      "unknown shorthand flag: 'x' in -ax\nSee 'berth ps --help'.");
    check_parse_error(2, ARGV("ps", "--name"),
                      "flag needs an argument: --name\nSee 'berth ps --help'.");
    check_parse_error(2, ARGV("ps", "-e"),
                      "flag needs an argument: 'e' in -e\nSee 'berth ps --help'.");
    check_parse_error(3, ARGV("ps", "-n", "x"),
                      "invalid argument \"x\" for \"-n, --last\" flag: not an integer\n"
                      "See 'berth ps --help'.");
    check_parse_error(2, ARGV("ps", "--all=maybe"),
                      "invalid argument \"maybe\" for \"-a, --all\" flag: not a boolean\n"
                      "See 'berth ps --help'.");
}

static void
test_cli_args_count(void **state)
{
    struct cli_args a = {.n = 0};
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(cli_args_count("rm", &a, 1, -1, &err), -1);
    assert_string_equal(err.msg, "\"berth rm\" requires at least 1 argument.\n"
                                 "See 'berth rm --help'.");
    berth_err_clear(&err);
    a.n = 3;
    assert_int_equal(cli_args_count("rename", &a, 2, 2, &err), -1);
    assert_string_equal(err.msg, "\"berth rename\" requires exactly 2 arguments.\n"
                                 "See 'berth rename --help'.");
    berth_err_clear(&err);
    assert_int_equal(cli_args_count("rm", &a, 1, -1, &err), 0);
}

static void
test_cli_parse_size(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(cli_parse_size("1024", "memory", &err), 1024);
    assert_int_equal(cli_parse_size("512m", "memory", &err), 512LL << 20);
    assert_int_equal(cli_parse_size("1g", "memory", &err), 1LL << 30);
    assert_int_equal(cli_parse_size("64MB", "memory", &err), 64LL << 20);
    assert_int_equal(cli_parse_size("1.5k", "memory", &err), 1536);
    assert_int_equal(cli_parse_size("12x", "memory", &err), -1);
    assert_string_equal(err.msg, "invalid memory: `12x`");
    berth_err_clear(&err);
    assert_int_equal(cli_parse_size("", "memory", &err), -1);
    berth_err_clear(&err);
    assert_int_equal(cli_parse_duration_ns("1m30s", "--x", &err), 90000000000LL);
    assert_int_equal(cli_parse_duration_ns("500ms", "--x", &err), 500000000LL);
    assert_int_equal(cli_parse_duration_ns("soon", "--x", &err), -1);
    berth_err_clear(&err);
}

/* The body of `run` for argv, or NULL with err. */
static struct json_object *
body_of(int argc, char **argv, struct berth_err *err)
{
    struct cli_runopts o;
    int r = cli_runopts_parse("run", argc, argv, &o, err);
    struct json_object *b = r == 0 ? cli_runopts_body(&o, err) : NULL;
    cli_runopts_free(&o);
    return b;
}

static const char *
at(struct json_object *o, const char *path)
{
    /* "HostConfig.Memory" → its JSON text. */
    char key[64];
    while (*path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
            return "<absent>";
        o = v;
        path += n + (path[n] == '.');
    }
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void
test_cli_runopts_body(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    setenv("BERTH_TEST_FROM_ENV", "yes", 1);
    char **v =
        ARGV("run", "-d", "--rm", "--name", "web", "-e", "A=1", "-e", "BERTH_TEST_FROM_ENV", "-v",
             "/host:/data:ro", "-v", "/anon", "-m", "64m", "--cpus", "1.5", "--restart", "no",
             "--ulimit", "nofile=100:200", "--device", "/dev/null:/dev/xnull:r", "--tmpfs",
             "/run:size=1m", "--sysctl", "net.core.somaxconn=1024", "--network", "none", "-l",
             "k=v", "--read-only", "--health-cmd", "true", "--health-interval", "5s", "-w", "/srv",
             "busybox", "sh", "-c", "echo hi");
    int argc = 0;
    while (v[argc])
        argc++;
    struct json_object *b = body_of(argc, v, &err);
    if (!b)
        fail_msg("%s", err.msg);
    assert_string_equal(at(b, "Image"), "\"busybox\"");
    assert_string_equal(at(b, "Cmd"), "[\"sh\",\"-c\",\"echo hi\"]");
    assert_string_equal(at(b, "Env"), "[\"A=1\",\"BERTH_TEST_FROM_ENV=yes\"]");
    assert_string_equal(at(b, "AttachStdout"), "false");
    assert_string_equal(at(b, "WorkingDir"), "\"/srv\"");
    assert_string_equal(at(b, "Labels"), "{\"k\":\"v\"}");
    assert_string_equal(at(b, "Volumes"), "{\"/anon\":{}}");
    assert_string_equal(at(b, "Healthcheck.Test"), "[\"CMD-SHELL\",\"true\"]");
    assert_string_equal(at(b, "Healthcheck.Interval"), "5000000000");
    assert_string_equal(at(b, "HostConfig.AutoRemove"), "true");
    assert_string_equal(at(b, "HostConfig.Binds"), "[\"/host:/data:ro\"]");
    assert_string_equal(at(b, "HostConfig.Memory"), "67108864");
    assert_string_equal(at(b, "HostConfig.NanoCpus"), "1500000000");
    assert_string_equal(at(b, "HostConfig.RestartPolicy.Name"), "\"\"");
    assert_string_equal(at(b, "HostConfig.Ulimits"),
                        "[{\"Name\":\"nofile\",\"Soft\":100,\"Hard\":200}]");
    assert_string_equal(at(b, "HostConfig.Devices"),
                        "[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/xnull\","
                        "\"CgroupPermissions\":\"r\"}]");
    assert_string_equal(at(b, "HostConfig.Tmpfs"), "{\"/run\":\"size=1m\"}");
    assert_string_equal(at(b, "HostConfig.Sysctls"), "{\"net.core.somaxconn\":\"1024\"}");
    assert_string_equal(at(b, "HostConfig.NetworkMode"), "\"none\"");
    assert_string_equal(at(b, "HostConfig.ReadonlyRootfs"), "true");
    assert_string_equal(at(b, "NetworkDisabled"), "true");
    json_object_put(b);
}

static void
test_cli_runopts_network(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    char **v = ARGV("create", "-p", "127.0.0.1:8080:80", "-p", "8081:80", "-p",
                    "9000-9001:90-91/udp", "-p", "7000-7010:70", "-p", "[::1]::60", "-p", "50",
                    "--expose", "40-41", "-P", "--network", "net1", "--network-alias", "a1",
                    "--network-alias", "a2", "--ip", "10.1.0.5", "--dns", "192.0.2.53",
                    "--dns-search", "ex.test", "--dns-option", "ndots:2", "--add-host",
                    "db:192.0.2.7", "--mac-address", "02:42:ac:11:00:99", "busybox");
    int argc = 0;
    while (v[argc])
        argc++;
    struct json_object *b = body_of(argc, v, &err);
    if (!b)
        fail_msg("%s", err.msg);
    assert_string_equal(at(b, "ExposedPorts"),
                        "{\"40/tcp\":{},\"41/tcp\":{},\"80/tcp\":{},\"90/udp\":{},\"91/udp\":{},"
                        "\"70/tcp\":{},\"60/tcp\":{},\"50/tcp\":{}}");
    assert_string_equal(at(b, "HostConfig.PortBindings"),
                        "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"},"
                        "{\"HostIp\":\"\",\"HostPort\":\"8081\"}],"
                        "\"90/udp\":[{\"HostIp\":\"\",\"HostPort\":\"9000\"}],"
                        "\"91/udp\":[{\"HostIp\":\"\",\"HostPort\":\"9001\"}],"
                        "\"70/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7000-7010\"}],"
                        "\"60/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"\"}],"
                        "\"50/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
    assert_string_equal(at(b, "HostConfig.PublishAllPorts"), "true");
    assert_string_equal(at(b, "HostConfig.NetworkMode"), "\"net1\"");
    assert_string_equal(at(b, "NetworkingConfig.EndpointsConfig"),
                        "{\"net1\":{\"IPAMConfig\":{\"IPv4Address\":\"10.1.0.5\"},"
                        "\"Aliases\":[\"a1\",\"a2\"]}}");
    assert_string_equal(at(b, "HostConfig.Dns"), "[\"192.0.2.53\"]");
    assert_string_equal(at(b, "HostConfig.DnsSearch"), "[\"ex.test\"]");
    assert_string_equal(at(b, "HostConfig.DnsOptions"), "[\"ndots:2\"]");
    assert_string_equal(at(b, "HostConfig.ExtraHosts"), "[\"db:192.0.2.7\"]");
    assert_string_equal(at(b, "MacAddress"), "\"02:42:ac:11:00:99\"");
    assert_string_equal(at(b, "NetworkDisabled"), "<absent>");
    json_object_put(b);
}

static void
check_body_error(int argc, char **argv, const char *want_part)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct json_object *b = body_of(argc, argv, &err);
    assert_null(b);
    if (!err.msg || !strstr(err.msg, want_part))
        fail_msg("got `%s`, want `%s` in it", err.msg ? err.msg : "(none)", want_part);
    berth_err_clear(&err);
}

static void
test_cli_runopts_errors(void **state)
{
    check_body_error(4, ARGV("run", "--restart", "sometimes", "img"), "invalid restart policy");
    check_body_error(4, ARGV("run", "--restart", "always:3", "img"), "invalid restart policy");
    check_body_error(4, ARGV("run", "-m", "lots", "img"), "invalid --memory: `lots`");
    check_body_error(4, ARGV("run", "-v", "rel/dir:/x", "img"), "a host path must be absolute");
    check_body_error(4, ARGV("run", "-v", "data", "img"), "must be absolute");
    check_body_error(4, ARGV("run", "--ulimit", "nofile=9:1", "img"), "soft limit above hard");
    check_body_error(4, ARGV("run", "--mount", "type=bind,source=/a", "img"), "target is required");
    check_body_error(4, ARGV("run", "--mount", "type=nfs,target=/a", "img"), "unknown type");
    check_body_error(4, ARGV("run", "-p", "abc", "img"),
                     "invalid argument \"abc\" for \"-p, --publish\" flag: invalid containerPort: "
                     "abc");
    check_body_error(4, ARGV("run", "-p", "70000:80", "img"), "invalid hostPort: 70000");
    check_body_error(4, ARGV("run", "-p", "80/icmp", "img"), "invalid proto: icmp");
    check_body_error(4, ARGV("run", "-p", "1.2.3:80:80", "img"), "invalid IP address: 1.2.3");
    check_body_error(4, ARGV("run", "-p", "8080-8082:80-81", "img"), "invalid ranges");
    check_body_error(4, ARGV("run", "-p", "8080:", "img"), "no port specified");
    check_body_error(4, ARGV("run", "--expose", "1:2", "img"), "invalid port format for --expose");
    check_body_error(6, ARGV("run", "--network", "n1", "--ip", "1.2.3", "img"),
                     "invalid argument \"1.2.3\" for \"--ip\" flag");
    check_body_error(4, ARGV("run", "--ip", "10.0.0.9", "img"), "user defined networks only");
    check_body_error(6, ARGV("run", "--network", "host", "--network-alias", "a", "img"),
                     "--network-alias");
    check_body_error(6, ARGV("run", "--network", "a", "--network", "b", "img"),
                     "only one --network");
    check_body_error(6, ARGV("run", "--network", "container:x", "-p", "80", "img"),
                     "port publishing and the container type network mode");
    check_body_error(4, ARGV("run", "--dns", "dns.example", "img"), "\"--dns\" flag");
    check_body_error(4, ARGV("run", "--add-host", "db", "img"), "expected host:ip");
    check_body_error(4, ARGV("run", "--add-host", "db:1.2.3.999", "img"), "\"--add-host\" flag");
    check_body_error(4, ARGV("run", "--mac-address", "02:42", "img"), "\"--mac-address\" flag");
    check_body_error(5, ARGV("run", "--rm", "--restart", "always", "img"),
                     "Conflicting options: --restart and --rm");
    check_body_error(4, ARGV("run", "--health-interval", "often", "img"), "not a duration");
    check_body_error(2, ARGV("run", "--rm"), "requires at least 1 argument");
    check_body_error(3, ARGV("run", "--bogus", "img"), "unknown flag: --bogus");
    check_body_error(4, ARGV("run", "-w", "rel", "img"), "needs to be an absolute path");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_flags_parse_forms),
        cmocka_unit_test(test_cli_flags_parse_stop_at_operand),
        cmocka_unit_test(test_cli_flags_parse_bools_and_help),
        cmocka_unit_test(test_cli_flags_parse_errors),
        cmocka_unit_test(test_cli_args_count),
        cmocka_unit_test(test_cli_parse_size),
        cmocka_unit_test(test_cli_runopts_body),
        cmocka_unit_test(test_cli_runopts_network),
        cmocka_unit_test(test_cli_runopts_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
