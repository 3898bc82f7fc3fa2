/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/stats: docker's stats document from real `ocirun events --stats` lines
 * of a cgroup v1 host and a v2-shaped one (tests/fixtures/engine), field by field and in
 * docker's order; precpu_stats from the previous document; the host's figures from /proc; bad
 * runtime documents; network counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/stats/networks.h"
#include "engine/stats/stats.h"

#define NS       1000000000LL
#define T0       1795449600LL /* 2026-11-23T16:00:00Z */
#define GIB      (1ULL << 30)
#define FIXTURES BERTH_SOURCE_DIR "/tests/fixtures/engine/"

static const struct eng_stats_host host = {
    .system_cpu_usage = 123450000000000ULL,
    .online_cpus = 2,
    .mem_total = 8 * GIB,
};

static char *
fixture(const char *name, size_t *len)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf(FIXTURES "%s", name);
    char *buf = NULL;
    assert_int_equal(berth_fs_read_file(path, &buf, len, &err), 0);
    return buf;
}

/* The value at a dotted path ("cpu_stats.cpu_usage.total_usage"; numbers index arrays), or
 * NULL when absent. */
static struct json_object *
at(struct json_object *o, const char *path)
{
    cleanup_free char *copy = xstrdup(path);
    char *save = NULL;
    for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)atoi(k));
        else if (!json_object_object_get_ex(o, k, &o))
            return NULL;
    }
    return o;
}

static uint64_t
u64(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    if (!v)
        fail_msg("`%s` is absent", path);
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_uint64(v);
}

static const char *
str(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    if (!v)
        fail_msg("`%s` is absent", path);
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static bool
has(struct json_object *o, const char *path)
{
    cleanup_free char *copy = xstrdup(path);
    char *dot = strrchr(copy, '.');
    struct json_object *parent = o;
    if (dot) {
        *dot = '\0';
        parent = at(o, copy);
    }
    return parent && json_object_object_get_ex(parent, dot ? dot + 1 : copy, NULL);
}

static struct json_object *
doc_from(const char *name, const char *id, const char *cname, int64_t now_ns,
         struct json_object *prev)
{
    struct berth_err err = BERTH_ERR_INIT;
    size_t len;
    cleanup_free char *data = fixture(name, &len);
    struct json_object *d = eng_stats_docker_host(data, len, id, cname, now_ns, prev, &host, &err);
    if (!d)
        fail_msg("%s: %s", name, err.msg);
    return d;
}

static void
test_eng_stats_docker_v1(void **state)
{
    (void)state;
    cleanup_json struct json_object *d =
        doc_from("stats-v1.json", "c0ffee", "web", T0 * NS + 500000000, NULL);

    /* docker's field order (types.StatsJSON) */
    static const char *const order[] = {
        "read",      "preread",      "pids_stats",   "blkio_stats", "num_procs", "storage_stats",
        "cpu_stats", "precpu_stats", "memory_stats", "name",        "id",
    };
    size_t i = 0;
    json_object_object_foreach(d, key, val)
    {
        (void)val;
        assert_true(i < ARRAY_SIZE(order));
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, ARRAY_SIZE(order));

    assert_string_equal(str(d, "read"), "2026-11-23T16:00:00.5Z");
    assert_string_equal(str(d, "preread"), "0001-01-01T00:00:00Z");
    assert_string_equal(str(d, "name"), "/web");
    assert_string_equal(str(d, "id"), "c0ffee");
    assert_false(has(d, "networks"));

    assert_int_equal(u64(d, "pids_stats.current"), 1);
    assert_int_equal(u64(d, "pids_stats.limit"), 100);
    assert_int_equal(u64(d, "num_procs"), 0);
    assert_int_equal(json_object_object_length(at(d, "storage_stats")), 0);

    assert_true(
        json_object_is_type(at(d, "blkio_stats.io_service_bytes_recursive"), json_type_array));
    assert_true(has(d, "blkio_stats.io_queue_recursive"));
    assert_null(at(d, "blkio_stats.io_queue_recursive")); /* docker's nil list */

    assert_int_equal(u64(d, "cpu_stats.cpu_usage.total_usage"), 52225445);
    assert_int_equal(json_object_array_length(at(d, "cpu_stats.cpu_usage.percpu_usage")), 2);
    assert_int_equal(u64(d, "cpu_stats.cpu_usage.percpu_usage.1"), 52225445);
    assert_int_equal(u64(d, "cpu_stats.cpu_usage.usage_in_kernelmode"), 10000000);
    assert_int_equal(u64(d, "cpu_stats.cpu_usage.usage_in_usermode"), 30000000);
    assert_int_equal(u64(d, "cpu_stats.system_cpu_usage"), host.system_cpu_usage);
    assert_int_equal(u64(d, "cpu_stats.online_cpus"), 2);
    assert_int_equal(u64(d, "cpu_stats.throttling_data.periods"), 0);
    assert_int_equal(u64(d, "cpu_stats.throttling_data.throttled_periods"), 0);
    assert_int_equal(u64(d, "cpu_stats.throttling_data.throttled_time"), 0);

    /* no previous read: zeros, as docker sends */
    assert_int_equal(u64(d, "precpu_stats.cpu_usage.total_usage"), 0);
    assert_int_equal(u64(d, "precpu_stats.throttling_data.periods"), 0);
    assert_false(has(d, "precpu_stats.system_cpu_usage"));

    assert_int_equal(u64(d, "memory_stats.usage"), 180224);
    assert_int_equal(u64(d, "memory_stats.max_usage"), 786432);
    assert_int_equal(u64(d, "memory_stats.limit"), 64 << 20);
    assert_int_equal(u64(d, "memory_stats.stats.rss"), 49152);
    assert_int_equal(u64(d, "memory_stats.stats.total_inactive_file"), 0);
    assert_int_equal(u64(d, "memory_stats.stats.hierarchical_memsw_limit"), 9223372036854771712ULL);
    assert_false(has(d, "memory_stats.failcnt")); /* 0: omitempty */
}

static void
test_eng_stats_docker_prev(void **state)
{
    (void)state;
    cleanup_json struct json_object *first =
        doc_from("stats-v1.json", "c0ffee", "web", T0 * NS, NULL);
    cleanup_json struct json_object *second =
        doc_from("stats-v1-later.json", "c0ffee", "web", (T0 + 1) * NS, first);

    assert_string_equal(str(second, "read"), "2026-11-23T16:00:01Z");
    assert_string_equal(str(second, "preread"), "2026-11-23T16:00:00Z");
    assert_true(json_object_equal(at(second, "precpu_stats"), at(first, "cpu_stats")));
    assert_true(u64(second, "cpu_stats.cpu_usage.total_usage") >
                u64(second, "precpu_stats.cpu_usage.total_usage"));
    /* the previous document is left as it was */
    assert_int_equal(u64(first, "precpu_stats.cpu_usage.total_usage"), 0);
}

static void
test_eng_stats_docker_v2(void **state)
{
    (void)state;
    cleanup_json struct json_object *d =
        doc_from("stats-v2.json", "v2", "/already-slashed", T0 * NS, NULL);

    assert_string_equal(str(d, "name"), "/already-slashed");
    assert_int_equal(u64(d, "cpu_stats.cpu_usage.total_usage"), 48213000);
    assert_false(has(d, "cpu_stats.cpu_usage.percpu_usage"));
    assert_int_equal(u64(d, "cpu_stats.throttling_data.periods"), 20);
    assert_int_equal(u64(d, "cpu_stats.throttling_data.throttled_periods"), 3);
    assert_int_equal(u64(d, "cpu_stats.throttling_data.throttled_time"), 4500000);
    assert_int_equal(u64(d, "pids_stats.current"), 3);
    assert_false(has(d, "pids_stats.limit"));
    assert_int_equal(u64(d, "memory_stats.usage"), 1757184);
    assert_false(has(d, "memory_stats.max_usage"));
    /* "max" (UINT64_MAX): the host's memory */
    assert_int_equal(u64(d, "memory_stats.limit"), 8 * GIB);
    assert_int_equal(u64(d, "memory_stats.stats.inactive_file"), 4096);
    assert_int_equal(u64(d, "memory_stats.stats.anon"), 618496);
}

static void
test_eng_stats_docker_bad(void **state)
{
    (void)state;
    struct berth_err err = BERTH_ERR_INIT;

    assert_null(eng_stats_docker_host("{\"cpu\":", 7, "x", "n", 0, NULL, &host, &err));
    assert_non_null(strstr(err.msg, "the runtime's stats"));
    assert_int_equal(berth_err_to_http(err.code), 500);
    berth_err_clear(&err);
    assert_null(eng_stats_docker_host("[1]", 3, "x", "n", 0, NULL, &host, &err));
    assert_non_null(strstr(err.msg, "expected an object"));
    berth_err_clear(&err);

    /* an empty document (a runtime that knows no cgroup): a document of zeros, no crash */
    cleanup_json struct json_object *d =
        eng_stats_docker_host("{}", 2, "x", "n", 0, NULL, &host, &err);
    assert_non_null(d);
    assert_int_equal(u64(d, "cpu_stats.cpu_usage.total_usage"), 0);
    assert_int_equal(json_object_object_length(at(d, "memory_stats")), 0);
    assert_int_equal(json_object_object_length(at(d, "pids_stats")), 0);

    /* figures of the wrong type are absent figures */
    const char *odd = "{\"cpu\":{\"usage\":{\"total\":\"lots\",\"percpu\":7}},"
                      "\"memory\":{\"usage\":{\"usage\":-5}},\"pids\":[]}";
    cleanup_json struct json_object *o =
        eng_stats_docker_host(odd, strlen(odd), "x", "n", 0, NULL, &host, &err);
    assert_non_null(o);
    assert_int_equal(u64(o, "cpu_stats.cpu_usage.total_usage"), 0);
    assert_false(has(o, "cpu_stats.cpu_usage.percpu_usage"));
    assert_false(has(o, "memory_stats.usage"));
}

static void
test_eng_stats_host_parse(void **state)
{
    (void)state;
    struct berth_err err = BERTH_ERR_INIT;
    struct eng_stats_host h;
    long hz = sysconf(_SC_CLK_TCK);
    const char *stat = "cpu  100 2 30 4000 5 6 7 8 0 0\n"
                       "cpu0 50 1 15 2000 2 3 3 4 0 0\n"
                       "cpu1 50 1 15 2000 3 3 4 4 0 0\n"
                       "intr 12345\nctxt 999\ncpufreq 3\n";

    assert_int_equal(
        eng_stats_host_parse(stat, "MemTotal:       16314520 kB\nMemFree: 1 kB\n", &h, &err), 0);
    /* user..softirq: 4150 ticks; steal is not counted */
    assert_int_equal(h.system_cpu_usage, 4150ULL * (1000000000ULL / (uint64_t)hz));
    assert_int_equal(h.online_cpus, 2);
    assert_int_equal(h.mem_total, 16314520ULL * 1024);

    assert_int_equal(eng_stats_host_parse("intr 1\n", NULL, &h, &err), -1);
    assert_non_null(strstr(err.msg, "cpu"));
    berth_err_clear(&err);

    /* the real host */
    assert_int_equal(eng_stats_host_read(&h, &err), 0);
    assert_true(h.system_cpu_usage > 0);
    assert_true(h.mem_total > 0);
    assert_int_equal(h.online_cpus, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));

    size_t len;
    cleanup_free char *data = fixture("stats-v1.json", &len);
    cleanup_json struct json_object *d =
        eng_stats_docker(data, len, "id", "name", T0 * NS, NULL, &err);
    assert_non_null(d);
    assert_true(u64(d, "cpu_stats.system_cpu_usage") >= h.system_cpu_usage);
    assert_int_equal(u64(d, "cpu_stats.online_cpus"), h.online_cpus);
    assert_int_equal(u64(d, "memory_stats.limit"), 64 << 20);
}

static void
test_eng_stats_networks(void **state)
{
    (void)state;
    struct berth_err err = BERTH_ERR_INIT;
    const char *dev =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n"
        "    lo:     100       2    0    0    0     0          0         0      100       2    "
        "0    0    0     0       0          0\n"
        "  eth0:    5000      40    1    2    0     0          0         0     3000      30    "
        "3    4    0     0       0          0\n"
        "  bad: 1 2\n";
    cleanup_json struct json_object *n = eng_stats_networks_parse(dev);

    assert_int_equal(json_object_object_length(n), 1);
    assert_int_equal(u64(n, "eth0.rx_bytes"), 5000);
    assert_int_equal(u64(n, "eth0.rx_packets"), 40);
    assert_int_equal(u64(n, "eth0.rx_errors"), 1);
    assert_int_equal(u64(n, "eth0.rx_dropped"), 2);
    assert_int_equal(u64(n, "eth0.tx_bytes"), 3000);
    assert_int_equal(u64(n, "eth0.tx_packets"), 30);
    assert_int_equal(u64(n, "eth0.tx_errors"), 3);
    assert_int_equal(u64(n, "eth0.tx_dropped"), 4);

    cleanup_json struct json_object *self = eng_stats_networks(getpid(), &err);
    assert_non_null(self);
    assert_null(eng_stats_networks(-1, &err));
    assert_int_equal(err.code, ENOENT);
    berth_err_clear(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_stats_docker_v1),  cmocka_unit_test(test_eng_stats_docker_prev),
        cmocka_unit_test(test_eng_stats_docker_v2),  cmocka_unit_test(test_eng_stats_docker_bad),
        cmocka_unit_test(test_eng_stats_host_parse), cmocka_unit_test(test_eng_stats_networks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
