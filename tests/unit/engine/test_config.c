/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/config: daemon.json's defaults and keys (log-driver, log-opts with
 * docker's sizes, default-ulimits, insecure-registries, live-restore, hosts), values of the
 * wrong type, and unknown keys, each refused with a message naming it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/config.h"

/* Parse text, expecting success; the caller releases c. */
static void
parse_ok(const char *text, struct eng_config *c)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int rc = eng_config_parse(text, c, &err);
    if (rc < 0)
        fail_msg("%s: %s", text, err.msg);
}

/* Parse text, expecting EINVAL with a message holding want; c holds defaults after. */
static void
parse_bad(const char *text, const char *want)
{
    struct eng_config c;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_config_parse(text, &c, &err), -1);
    assert_non_null(err.msg);
    if (!strstr(err.msg, want))
        fail_msg("%s: message `%s` lacks `%s`", text, err.msg, want);
    assert_string_equal(c.log_driver, "json-file");
    assert_int_equal(c.n_ulimits, 0);
    eng_config_release(&c);
}

static void
test_eng_config_parse_defaults(void **state)
{
    (void)state;
    struct eng_config c;
    parse_ok("{}", &c);
    assert_false(c.debug);
    assert_null(c.data_root);
    assert_int_equal(c.log_level, -1);
    assert_string_equal(c.log_driver, "json-file");
    assert_int_equal(c.log_max_size, -1);
    assert_int_equal(c.log_max_file, 1);
    assert_int_equal(c.n_ulimits, 0);
    assert_int_equal(c.n_insecure_registries, 0);
    assert_non_null(c.insecure_registries);
    assert_null(c.insecure_registries[0]);
    assert_false(c.live_restore);
    assert_null(c.host);
    eng_config_release(&c);
}

static void
test_eng_config_load_missing_file(void **state)
{
    (void)state;
    struct eng_config c;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_config_load("/nonexistent/daemon.json", &c, &err), 0);
    assert_string_equal(c.log_driver, "json-file");
    eng_config_release(&c);
}

static void
test_eng_config_load_names_file(void **state)
{
    (void)state;
    char path[] = "/tmp/berth-config.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char doc[] = "{\"log-driver\": \"syslog\"}";
    assert_int_equal(write(fd, doc, sizeof(doc) - 1), (ssize_t)sizeof(doc) - 1);
    close(fd);
    struct eng_config c;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_config_load(path, &c, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "`log-driver`"));
    assert_non_null(strstr(err.msg, "syslog"));
    eng_config_release(&c);
    unlink(path);
}

static void
test_eng_config_parse_size_units(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t bytes;
    } ok[] = {
        {"0", 0},
        {"100", 100},
        {"100b", 100},
        {"1k", 1024},
        {"1K", 1024},
        {"1kb", 1024},
        {"10m", 10485760},
        {"10M", 10485760},
        {"64MiB", 67108864},
        {"1 g", 1073741824},
        {"1.5g", 1610612736},
        {"2t", 2199023255552LL},
        {"1p", 1125899906842624LL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int64_t v = -7;
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        if (eng_config_parse_size(ok[i].text, &v, &err) < 0)
            fail_msg("%s: %s", ok[i].text, err.msg);
        assert_int_equal(v, ok[i].bytes);
    }
    static const char *const bad[] = {"",     "m",    "-1m",  "10x",   "10mm",        "1e3",
                                      "0x10", "10m ", " 10m", "1..5m", "99999999999p"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int64_t v = -7;
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        if (eng_config_parse_size(bad[i], &v, &err) == 0)
            fail_msg("`%s` was taken as %lld", bad[i], (long long)v);
        assert_int_equal(err.code, EINVAL);
        assert_int_equal(v, -7);
    }
}

static void
test_eng_config_parse_log(void **state)
{
    (void)state;
    struct eng_config c;
    parse_ok("{\"log-driver\": \"json-file\", \"log-opts\": {\"max-size\": \"10m\", "
             "\"max-file\": \"3\"}}",
             &c);
    assert_string_equal(c.log_driver, "json-file");
    assert_int_equal(c.log_max_size, 10485760);
    assert_int_equal(c.log_max_file, 3);
    eng_config_release(&c);
    parse_ok("{\"log-driver\": \"none\"}", &c);
    assert_string_equal(c.log_driver, "none");
    eng_config_release(&c);

    parse_bad("{\"log-driver\": \"syslog\"}", "`log-driver`: `syslog`");
    parse_bad("{\"log-driver\": 1}", "log-driver");
    parse_bad("{\"log-opts\": {\"max-size\": \"lots\"}}", "max-size");
    parse_bad("{\"log-opts\": {\"max-size\": \"0\"}}", "max-size");
    parse_bad("{\"log-opts\": {\"max-size\": 10}}", "max-size");
    parse_bad("{\"log-opts\": {\"max-size\": \"1m\", \"max-file\": \"0\"}}", "max-file");
    parse_bad("{\"log-opts\": {\"max-size\": \"1m\", \"max-file\": \"x\"}}", "max-file");
    parse_bad("{\"log-opts\": {\"max-file\": \"3\"}}", "max-file cannot be set without max-size");
    parse_bad("{\"log-opts\": {\"tag\": \"x\"}}", "unknown log opt 'tag'");
    parse_bad("{\"log-opts\": []}", "log-opts");
    parse_bad("{\"log-driver\": \"none\", \"log-opts\": {\"max-size\": \"1m\"}}", "none");
}

static void
test_eng_config_parse_ulimits(void **state)
{
    (void)state;
    struct eng_config c;
    parse_ok("{\"default-ulimits\": {\"nproc\": {\"Hard\": 200, \"Soft\": 100}, "
             "\"nofile\": {\"Name\": \"nofile\", \"Hard\": 1024, \"Soft\": 1024}}}",
             &c);
    assert_int_equal(c.n_ulimits, 2);
    assert_string_equal(c.ulimits[0].name, "nofile");
    assert_int_equal(c.ulimits[0].soft, 1024);
    assert_int_equal(c.ulimits[0].hard, 1024);
    assert_string_equal(c.ulimits[1].name, "nproc");
    assert_int_equal(c.ulimits[1].soft, 100);
    assert_int_equal(c.ulimits[1].hard, 200);
    eng_config_release(&c);

    parse_bad("{\"default-ulimits\": {\"files\": {\"Hard\": 1, \"Soft\": 1}}}",
              "invalid ulimit type: files");
    parse_bad("{\"default-ulimits\": {\"nofile\": {\"Name\": \"nproc\", \"Hard\": 1, "
              "\"Soft\": 1}}}",
              "`default-ulimits`: `nofile`: `Name` is `nproc`");
    parse_bad("{\"default-ulimits\": {\"nofile\": {\"Hard\": 1, \"Soft\": 2}}}",
              "soft limit must be less than or equal to hard limit");
    parse_bad("{\"default-ulimits\": {\"nofile\": {\"Hard\": \"1\", \"Soft\": 1}}}", "Hard");
    parse_bad("{\"default-ulimits\": {\"nofile\": {\"Soft\": 1}}}", "both needed");
    parse_bad("{\"default-ulimits\": {\"nofile\": {\"Hard\": 1, \"Soft\": 1, \"Max\": 2}}}",
              "unknown field `Max`");
    parse_bad("{\"default-ulimits\": {\"nofile\": 5}}", "nofile");
    parse_bad("{\"default-ulimits\": [1]}", "default-ulimits");
}

static void
test_eng_config_parse_insecure_registries(void **state)
{
    (void)state;
    struct eng_config c;
    parse_ok("{\"insecure-registries\": [\"myreg:5000\", \"10.1.0.0/16\", "
             "\"http://other.example\", \"fd00::/8\"]}",
             &c);
    assert_int_equal(c.n_insecure_registries, 4);
    assert_string_equal(c.insecure_registries[0], "myreg:5000");
    assert_string_equal(c.insecure_registries[2], "other.example");
    assert_null(c.insecure_registries[4]);
    eng_config_release(&c);

    /* By name, without CIDRs (so nothing is resolved). */
    parse_ok("{\"insecure-registries\": [\"myreg:5000\", \"https://other.example\"]}", &c);
    assert_true(eng_config_registry_is_insecure(&c, "myreg:5000"));
    assert_false(eng_config_registry_is_insecure(&c, "myreg:5001"));
    assert_false(eng_config_registry_is_insecure(&c, "myreg"));
    assert_true(eng_config_registry_is_insecure(&c, "other.example"));
    assert_false(eng_config_registry_is_insecure(&c, "docker.io"));
    eng_config_release(&c);

    /* By address, with numeric hosts only (no lookups in a unit test). */
    parse_ok("{\"insecure-registries\": [\"10.1.0.0/16\", \"fd00::/8\", \"192.168.1.128/25\"]}",
             &c);
    assert_true(eng_config_registry_is_insecure(&c, "10.1.2.3:5000"));
    assert_true(eng_config_registry_is_insecure(&c, "10.1.255.255"));
    assert_false(eng_config_registry_is_insecure(&c, "10.2.0.1:5000"));
    assert_true(eng_config_registry_is_insecure(&c, "192.168.1.200"));
    assert_false(eng_config_registry_is_insecure(&c, "192.168.1.127"));
    assert_true(eng_config_registry_is_insecure(&c, "[fd12::1]:5000"));
    assert_true(eng_config_registry_is_insecure(&c, "fd12::1"));
    assert_false(eng_config_registry_is_insecure(&c, "[fe80::1]:5000"));
    assert_false(eng_config_registry_is_insecure(&c, "127.0.0.1:5000"));
    eng_config_release(&c);

    parse_bad("{\"insecure-registries\": \"myreg\"}", "insecure-registries");
    parse_bad("{\"insecure-registries\": [5]}", "insecure-registries");
    parse_bad("{\"insecure-registries\": [\"ftp://x\"]}", "only http:// and https://");
    parse_bad("{\"insecure-registries\": [\"10.0.0.0/33\"]}", "10.0.0.0/33");
    parse_bad("{\"insecure-registries\": [\"host/path\"]}", "host/path");
    parse_bad("{\"insecure-registries\": [\"\"]}", "insecure-registries");
}

static void
test_eng_config_parse_live_restore_hosts(void **state)
{
    (void)state;
    struct eng_config c;
    parse_ok("{\"live-restore\": true, \"hosts\": [\"unix:///run/x.sock\"]}", &c);
    assert_true(c.live_restore);
    assert_string_equal(c.host, "unix:///run/x.sock");
    eng_config_release(&c);
    parse_bad("{\"live-restore\": \"yes\"}", "live-restore");
    parse_bad("{\"hosts\": [\"tcp://0.0.0.0:2375\"]}", "only unix://");
    parse_bad("{\"hosts\": [\"unix:///a\", \"unix:///b\"]}", "one socket");
}

static void
test_eng_config_parse_unknown_and_bad_documents(void **state)
{
    (void)state;
    parse_bad("{\"colour\": \"red\"}", "don't match any configuration option: colour");
    parse_bad("{\"debug\": true, \"storage-driver\": \"overlay2\"}", "storage-driver");
    parse_bad("[]", "expected an object");
    parse_bad("{\"debug\": ", "line 1");
    parse_bad("{\"data-root\": \"relative\"}", "not an absolute path");
    parse_bad("{\"log-level\": \"loud\"}", "loud");
}

static void
test_eng_config_parse_bip_bridge(void **state)
{
    (void)state;
    struct eng_config c;
    parse_ok("{}", &c);
    assert_string_equal(c.bip, "172.30.0.1/16");
    assert_null(c.bridge);
    eng_config_release(&c);
    parse_ok("{\"bip\": \"10.9.0.1/24\", \"bridge\": \"none\"}", &c);
    assert_string_equal(c.bip, "10.9.0.1/24");
    assert_string_equal(c.bridge, "none");
    eng_config_release(&c);
    parse_bad("{\"bip\": \"10.9.0.0/24\"}", "must be the bridge's address");
    parse_bad("{\"bip\": \"10.9.0.1\"}", "invalid CIDR address");
    parse_bad("{\"bip\": \"10.9.0.1/31\"}", "must be the bridge's address");
    parse_bad("{\"bridge\": \"a-name-far-too-long\"}", "not an interface name");
    parse_bad("{\"bridge\": 1}", "bridge");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_config_parse_defaults),
        cmocka_unit_test(test_eng_config_load_missing_file),
        cmocka_unit_test(test_eng_config_load_names_file),
        cmocka_unit_test(test_eng_config_parse_size_units),
        cmocka_unit_test(test_eng_config_parse_log),
        cmocka_unit_test(test_eng_config_parse_ulimits),
        cmocka_unit_test(test_eng_config_parse_insecure_registries),
        cmocka_unit_test(test_eng_config_parse_live_restore_hosts),
        cmocka_unit_test(test_eng_config_parse_unknown_and_bad_documents),
        cmocka_unit_test(test_eng_config_parse_bip_bridge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
