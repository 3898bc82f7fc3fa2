/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for ocirun/linux/resources.c: every field of linux.resources parsed into struct
 * ocirun_resources (values, has_* flags, defaults of device rules), ocirun_resources_any for
 * each kind of field, and every error, with its message naming the JSON path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "ocirun/linux/resources.h"

/* ---- Helpers ------------------------------------------------------------------------------ */

/* JSON written with single quotes, for readability: every ' becomes ". */
static struct json_object *
json(const char *text)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *s = xstrdup(text);

    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct json_object *o = berth_json_parse(s, strlen(s), &err);
    if (!o)
        fail_msg("bad test JSON `%s`: %s", s, err.msg);
    return o;
}

static void
parse_ok(const char *text, struct ocirun_resources *r)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = json(text);

    if (ocirun_resources_parse(o, r, &err) < 0)
        fail_msg("parse `%s`: %s", text, err.msg);
    assert_null(err.msg);
}

/* Parse text, expect EINVAL with no system cause and exactly the message want; out must come
 * back zeroed (nothing half-parsed for the caller to free). */
static void
assert_parse_error(const char *text, const char *want)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = json(text);
    struct ocirun_resources r, zero;

    memset(&r, 0x5a, sizeof(r));
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(ocirun_resources_parse(o, &r, &err), -1);
    assert_non_null(err.msg);
    if (strcmp(err.msg, want) != 0)
        fail_msg("parse `%s`:\n got `%s`\nwant `%s`", text, err.msg, want);
    assert_int_equal(err.code, EINVAL);
    assert_true(err.no_cause);
    assert_memory_equal(&r, &zero, sizeof(r));
    berth_err_clear(&err);
}

/* ---- Good input --------------------------------------------------------------------------- */

static void
test_ocirun_resources_parse_null(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct ocirun_resources r;

    memset(&r, 0x5a, sizeof(r));
    assert_int_equal(ocirun_resources_parse(NULL, &r, &err), 0);
    assert_null(err.msg);
    assert_false(ocirun_resources_any(&r));
    assert_null(r.cpus);
    assert_null(r.unified);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_empty(void **state)
{
    struct ocirun_resources r;

    parse_ok("{}", &r);
    assert_false(ocirun_resources_any(&r));
    ocirun_resources_free(&r);
    /* Nulls are absent fields, as everywhere in the spec. */
    parse_ok("{'memory': null, 'cpu': {'shares': null}, 'devices': null, 'unified': null}", &r);
    assert_false(ocirun_resources_any(&r));
    assert_false(r.has_cpu_shares);
    assert_false(r.has_devices);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_memory(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824,"
             " 'kernel': -1, 'kernelTCP': 1048576, 'swappiness': 100, 'disableOOMKiller': true,"
             " 'useHierarchy': false, 'checkBeforeUpdate': true}}",
             &r);
    assert_true(r.has_mem_limit);
    assert_int_equal(r.mem_limit, 536870912);
    assert_true(r.has_mem_reservation);
    assert_int_equal(r.mem_reservation, 268435456);
    assert_true(r.has_mem_swap);
    assert_int_equal(r.mem_swap, 1073741824);
    assert_true(r.has_mem_kernel);
    assert_int_equal(r.mem_kernel, -1);
    assert_true(r.has_mem_kernel_tcp);
    assert_int_equal(r.mem_kernel_tcp, 1048576);
    assert_true(r.has_mem_swappiness);
    assert_int_equal(r.mem_swappiness, 100);
    assert_true(r.has_disable_oom_killer);
    assert_true(r.disable_oom_killer);
    assert_true(r.has_use_hierarchy);
    assert_false(r.use_hierarchy);
    assert_true(r.has_check_before_update);
    assert_true(r.check_before_update);
    assert_true(ocirun_resources_any(&r));
    ocirun_resources_free(&r);

    /* -1 (unlimited) and 0 are values too; fields not given stay unset. */
    parse_ok("{'memory': {'limit': -1, 'swappiness': 0}}", &r);
    assert_true(r.has_mem_limit);
    assert_int_equal(r.mem_limit, -1);
    assert_true(r.has_mem_swappiness);
    assert_int_equal(r.mem_swappiness, 0);
    assert_false(r.has_mem_swap);
    assert_false(r.has_mem_reservation);
    assert_false(r.has_disable_oom_killer);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_cpu(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'cpu': {'shares': 1024, 'quota': 1000000, 'burst': 500000, 'period': 500000,"
             " 'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '2-3',"
             " 'mems': '0-7', 'idle': 1}}",
             &r);
    assert_true(r.has_cpu_shares);
    assert_int_equal(r.cpu_shares, 1024);
    assert_true(r.has_cpu_quota);
    assert_int_equal(r.cpu_quota, 1000000);
    assert_true(r.has_cpu_burst);
    assert_int_equal(r.cpu_burst, 500000);
    assert_true(r.has_cpu_period);
    assert_int_equal(r.cpu_period, 500000);
    assert_true(r.has_cpu_rt_runtime);
    assert_int_equal(r.cpu_rt_runtime, 950000);
    assert_true(r.has_cpu_rt_period);
    assert_int_equal(r.cpu_rt_period, 1000000);
    assert_string_equal(r.cpus, "2-3");
    assert_string_equal(r.mems, "0-7");
    assert_true(r.has_cpu_idle);
    assert_int_equal(r.cpu_idle, 1);
    ocirun_resources_free(&r);

    /* A negative quota or runtime is "unlimited"; a burst with no positive quota is fine. */
    parse_ok("{'cpu': {'quota': -1, 'realtimeRuntime': -1, 'burst': 7, 'cpus': ''}}", &r);
    assert_int_equal(r.cpu_quota, -1);
    assert_int_equal(r.cpu_rt_runtime, -1);
    assert_int_equal(r.cpu_burst, 7);
    assert_string_equal(r.cpus, "");
    assert_null(r.mems);
    assert_false(r.has_cpu_shares);
    assert_false(r.has_cpu_idle);
    ocirun_resources_free(&r);

    /* burst == quota is allowed. */
    parse_ok("{'cpu': {'quota': 5000, 'burst': 5000}}", &r);
    assert_int_equal(r.cpu_burst, 5000);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_pids(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'pids': {'limit': 32771}}", &r);
    assert_true(r.has_pids_limit);
    assert_int_equal(r.pids_limit, 32771);
    ocirun_resources_free(&r);
    parse_ok("{'pids': {'limit': -1}}", &r);
    assert_true(r.has_pids_limit);
    assert_int_equal(r.pids_limit, -1);
    ocirun_resources_free(&r);
    parse_ok("{'pids': {'limit': 0}}", &r);
    assert_true(r.has_pids_limit);
    assert_int_equal(r.pids_limit, 0);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_block_io(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'blockIO': {'weight': 10, 'leafWeight': 1000,"
             " 'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500, 'leafWeight': 300},"
             "                  {'major': 8, 'minor': 16, 'weight': 500},"
             "                  {'major': 8, 'minor': 32, 'leafWeight': 20}],"
             " 'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 600}],"
             " 'throttleWriteBpsDevice': [{'major': 8, 'minor': 1, 'rate': 700},"
             "                            {'major': 8, 'minor': 2, 'rate': 0}],"
             " 'throttleReadIOPSDevice': [{'major': 9, 'minor': 0, 'rate': 100}],"
             " 'throttleWriteIOPSDevice': [{'major': 8, 'minor': 16, 'rate': 300}]}}",
             &r);
    assert_true(r.has_blkio_weight);
    assert_int_equal(r.blkio_weight, 10);
    assert_true(r.has_blkio_leaf_weight);
    assert_int_equal(r.blkio_leaf_weight, 1000);
    assert_int_equal(r.n_weight_devices, 3);
    assert_int_equal(r.weight_devices[0].major, 8);
    assert_int_equal(r.weight_devices[0].minor, 0);
    assert_true(r.weight_devices[0].has_weight);
    assert_int_equal(r.weight_devices[0].weight, 500);
    assert_true(r.weight_devices[0].has_leaf_weight);
    assert_int_equal(r.weight_devices[0].leaf_weight, 300);
    assert_int_equal(r.weight_devices[1].minor, 16);
    assert_true(r.weight_devices[1].has_weight);
    assert_false(r.weight_devices[1].has_leaf_weight);
    assert_false(r.weight_devices[2].has_weight);
    assert_true(r.weight_devices[2].has_leaf_weight);
    assert_int_equal(r.weight_devices[2].leaf_weight, 20);
    assert_int_equal(r.n_throttle_read_bps, 1);
    assert_int_equal(r.throttle_read_bps[0].major, 8);
    assert_int_equal(r.throttle_read_bps[0].rate, 600);
    assert_int_equal(r.n_throttle_write_bps, 2);
    assert_int_equal(r.throttle_write_bps[1].minor, 2);
    assert_int_equal(r.throttle_write_bps[1].rate, 0);
    assert_int_equal(r.n_throttle_read_iops, 1);
    assert_int_equal(r.throttle_read_iops[0].major, 9);
    assert_int_equal(r.n_throttle_write_iops, 1);
    assert_int_equal(r.throttle_write_iops[0].rate, 300);
    ocirun_resources_free(&r);

    /* weight 0 is runc's "not set"; empty arrays are nothing. */
    parse_ok("{'blockIO': {'weight': 0, 'weightDevice': [], 'throttleReadBpsDevice': []}}", &r);
    assert_true(r.has_blkio_weight);
    assert_int_equal(r.blkio_weight, 0);
    assert_int_equal(r.n_weight_devices, 0);
    assert_null(r.weight_devices);
    assert_null(r.throttle_read_bps);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_hugepages_network(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200},"
             "                    {'pageSize': '64KB', 'limit': 1000000},"
             "                    {'pageSize': '1GB', 'limit': 0}],"
             " 'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500},"
             "                                               {'name': 'lo', 'priority': 0}]}}",
             &r);
    assert_int_equal(r.n_hugepage_limits, 3);
    assert_string_equal(r.hugepage_limits[0].page_size, "2MB");
    assert_int_equal(r.hugepage_limits[0].limit, 209715200);
    assert_string_equal(r.hugepage_limits[1].page_size, "64KB");
    assert_string_equal(r.hugepage_limits[2].page_size, "1GB");
    assert_int_equal(r.hugepage_limits[2].limit, 0);
    assert_true(r.has_net_class_id);
    assert_int_equal(r.net_class_id, 1048577);
    assert_int_equal(r.n_net_priorities, 2);
    assert_string_equal(r.net_priorities[0].name, "eth0");
    assert_int_equal(r.net_priorities[0].priority, 500);
    assert_string_equal(r.net_priorities[1].name, "lo");
    assert_int_equal(r.net_priorities[1].priority, 0);
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_devices(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'devices': [{'allow': false, 'access': 'rwm'},"
             "             {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'},"
             "             {'allow': true, 'type': 'b', 'major': 8, 'minor': 0, 'access': 'r'},"
             "             {'allow': true, 'type': 'c', 'major': -1, 'access': 'mwr'},"
             "             {'allow': false, 'type': 'a', 'minor': 3, 'access': 'm'},"
             "             {'allow': true, 'type': 'c', 'major': 4294967295, 'minor': 0}]}",
             &r);
    assert_true(r.has_devices);
    assert_int_equal(r.n_devices, 6);
    /* Absent type, numbers and access mean all. */
    assert_false(r.devices[0].allow);
    assert_int_equal(r.devices[0].type, 'a');
    assert_int_equal(r.devices[0].major, -1);
    assert_int_equal(r.devices[0].minor, -1);
    assert_string_equal(r.devices[0].access, "rwm");
    assert_true(r.devices[1].allow);
    assert_int_equal(r.devices[1].type, 'c');
    assert_int_equal(r.devices[1].major, 10);
    assert_int_equal(r.devices[1].minor, 229);
    assert_string_equal(r.devices[1].access, "rw");
    assert_int_equal(r.devices[2].type, 'b');
    assert_string_equal(r.devices[2].access, "r");
    /* Access is kept in the kernel's order. */
    assert_int_equal(r.devices[3].major, -1);
    assert_int_equal(r.devices[3].minor, -1);
    assert_string_equal(r.devices[3].access, "rwm");
    assert_int_equal(r.devices[4].type, 'a');
    assert_int_equal(r.devices[4].major, -1);
    assert_int_equal(r.devices[4].minor, 3);
    assert_string_equal(r.devices[4].access, "m");
    assert_int_equal(r.devices[5].major, 4294967295LL);
    assert_string_equal(r.devices[5].access, "rwm");
    ocirun_resources_free(&r);

    /* An empty list is given (v1 writes nothing; v2 attaches an allow-all program). */
    parse_ok("{'devices': []}", &r);
    assert_true(r.has_devices);
    assert_int_equal(r.n_devices, 0);
    assert_true(ocirun_resources_any(&r));
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_parse_unified(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'unified': {'io.max': '259:0 rbps=2097152 wiops=120\\n253:0 rbps=2097152',"
             " 'hugetlb.1GB.max': '1073741824', 'cgroup.freeze': ''}}",
             &r);
    assert_non_null(r.unified);
    assert_string_equal(r.unified[0], "io.max");
    assert_string_equal(r.unified[1], "259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152");
    assert_string_equal(r.unified[2], "hugetlb.1GB.max");
    assert_string_equal(r.unified[3], "1073741824");
    assert_string_equal(r.unified[4], "cgroup.freeze");
    assert_string_equal(r.unified[5], "");
    assert_null(r.unified[6]);
    assert_true(ocirun_resources_any(&r));
    ocirun_resources_free(&r);

    parse_ok("{'unified': {}}", &r);
    assert_non_null(r.unified);
    assert_null(r.unified[0]);
    assert_false(ocirun_resources_any(&r));
    ocirun_resources_free(&r);
}

/* Fields not in the struct (rdma) and unknown ones are ignored, as the spec asks. */
static void
test_ocirun_resources_parse_unknown_fields(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'rdma': {'mlx5_1': {'hcaHandles': 3}}, 'future': [1, 2],"
             " 'memory': {'someday': true}}",
             &r);
    assert_false(ocirun_resources_any(&r));
    ocirun_resources_free(&r);
}

static void
test_ocirun_resources_any(void **state)
{
    static const char *const each[] = {
        "{'memory': {'limit': 1}}",
        "{'memory': {'reservation': 1}}",
        "{'memory': {'swap': 1}}",
        "{'memory': {'kernel': 1}}",
        "{'memory': {'kernelTCP': 1}}",
        "{'memory': {'swappiness': 1}}",
        "{'memory': {'disableOOMKiller': false}}",
        "{'memory': {'useHierarchy': true}}",
        "{'cpu': {'shares': 2}}",
        "{'cpu': {'quota': 1}}",
        "{'cpu': {'burst': 1}}",
        "{'cpu': {'period': 1}}",
        "{'cpu': {'realtimeRuntime': 1}}",
        "{'cpu': {'realtimePeriod': 1}}",
        "{'cpu': {'idle': 0}}",
        "{'cpu': {'cpus': '0'}}",
        "{'cpu': {'mems': '0'}}",
        "{'pids': {'limit': 1}}",
        "{'blockIO': {'weight': 10}}",
        "{'blockIO': {'leafWeight': 10}}",
        "{'blockIO': {'weightDevice': [{'major': 1, 'minor': 2, 'weight': 10}]}}",
        "{'blockIO': {'throttleReadBpsDevice': [{'major': 1, 'minor': 2, 'rate': 1}]}}",
        "{'blockIO': {'throttleWriteBpsDevice': [{'major': 1, 'minor': 2, 'rate': 1}]}}",
        "{'blockIO': {'throttleReadIOPSDevice': [{'major': 1, 'minor': 2, 'rate': 1}]}}",
        "{'blockIO': {'throttleWriteIOPSDevice': [{'major': 1, 'minor': 2, 'rate': 1}]}}",
        "{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}]}",
        "{'network': {'classID': 1}}",
        "{'network': {'priorities': [{'name': 'eth0', 'priority': 1}]}}",
        "{'devices': [{'allow': true}]}",
        "{'unified': {'pids.max': '10'}}",
    };
    static const char *const none[] = {
        "{'memory': {}}",
        "{'memory': {'checkBeforeUpdate': true}}",
        "{'cpu': {}}",
        "{'blockIO': {'weightDevice': []}}",
        "{'hugepageLimits': []}",
        "{'network': {'priorities': []}}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(each); i++) {
        struct ocirun_resources r;
        parse_ok(each[i], &r);
        if (!ocirun_resources_any(&r))
            fail_msg("`%s`: any() is false", each[i]);
        ocirun_resources_free(&r);
    }
    for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
        struct ocirun_resources r;
        parse_ok(none[i], &r);
        if (ocirun_resources_any(&r))
            fail_msg("`%s`: any() is true", none[i]);
        ocirun_resources_free(&r);
    }
}

/* free is idempotent and takes NULL. */
static void
test_ocirun_resources_free_twice(void **state)
{
    struct ocirun_resources r;

    parse_ok("{'cpu': {'cpus': '0-1'}, 'unified': {'a.b': 'c'},"
             " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}]}",
             &r);
    ocirun_resources_free(&r);
    ocirun_resources_free(&r);
    ocirun_resources_free(NULL);
}

/* ---- Bad input ---------------------------------------------------------------------------- */

static void
test_ocirun_resources_parse_bad_top_level(void **state)
{
    assert_parse_error("[]", "resources: expected object, not array");
    assert_parse_error("{'memory': 1}", "resources.memory: expected object");
    assert_parse_error("{'cpu': []}", "resources.cpu: expected object");
    assert_parse_error("{'pids': 'x'}", "resources.pids: expected object");
    assert_parse_error("{'blockIO': true}", "resources.blockIO: expected object");
    assert_parse_error("{'hugepageLimits': {}}", "resources.hugepageLimits: expected array");
    assert_parse_error("{'network': []}", "resources.network: expected object");
    assert_parse_error("{'devices': {}}", "resources.devices: expected array");
    assert_parse_error("{'unified': []}", "resources.unified: expected object");
}

static void
test_ocirun_resources_parse_bad_memory(void **state)
{
    assert_parse_error("{'memory': {'limit': 'x'}}", "resources.memory.limit: expected integer");
    assert_parse_error("{'memory': {'limit': 1.5}}", "resources.memory.limit: expected integer");
    assert_parse_error("{'memory': {'limit': -2}}",
                       "resources.memory.limit: -2 out of range (-1 for unlimited, or bytes)");
    assert_parse_error("{'memory': {'reservation': -5}}",
                       "resources.memory.reservation: -5 out of range (-1 for unlimited, or "
                       "bytes)");
    assert_parse_error("{'memory': {'swap': true}}", "resources.memory.swap: expected integer");
    assert_parse_error("{'memory': {'kernel': -3}}",
                       "resources.memory.kernel: -3 out of range (-1 for unlimited, or bytes)");
    assert_parse_error("{'memory': {'kernelTCP': []}}",
                       "resources.memory.kernelTCP: expected integer");
    assert_parse_error("{'memory': {'swappiness': 101}}",
                       "resources.memory.swappiness: 101 out of range (0-100)");
    assert_parse_error("{'memory': {'swappiness': -1}}",
                       "resources.memory.swappiness: -1 out of range for uint64");
    assert_parse_error("{'memory': {'disableOOMKiller': 1}}",
                       "resources.memory.disableOOMKiller: expected boolean");
    assert_parse_error("{'memory': {'useHierarchy': 'yes'}}",
                       "resources.memory.useHierarchy: expected boolean");
    assert_parse_error("{'memory': {'checkBeforeUpdate': 0}}",
                       "resources.memory.checkBeforeUpdate: expected boolean");
}

static void
test_ocirun_resources_parse_bad_cpu(void **state)
{
    assert_parse_error("{'cpu': {'shares': -1}}",
                       "resources.cpu.shares: -1 out of range for uint64");
    assert_parse_error("{'cpu': {'quota': 'max'}}", "resources.cpu.quota: expected integer");
    assert_parse_error("{'cpu': {'burst': -1}}", "resources.cpu.burst: -1 out of range for uint64");
    assert_parse_error("{'cpu': {'period': 0.5}}", "resources.cpu.period: expected integer");
    assert_parse_error("{'cpu': {'realtimeRuntime': '1'}}",
                       "resources.cpu.realtimeRuntime: expected integer");
    assert_parse_error("{'cpu': {'realtimePeriod': -1}}",
                       "resources.cpu.realtimePeriod: -1 out of range for uint64");
    assert_parse_error("{'cpu': {'cpus': 3}}", "resources.cpu.cpus: expected string");
    assert_parse_error("{'cpu': {'mems': false}}", "resources.cpu.mems: expected string");
    assert_parse_error("{'cpu': {'idle': 2}}", "resources.cpu.idle: 2 out of range (0 or 1)");
    assert_parse_error("{'cpu': {'idle': -1}}", "resources.cpu.idle: -1 out of range (0 or 1)");
    assert_parse_error("{'cpu': {'quota': 1000, 'burst': 1001}}",
                       "resources.cpu.burst: 1001 is larger than quota 1000");
}

static void
test_ocirun_resources_parse_bad_pids(void **state)
{
    assert_parse_error("{'pids': {}}", "resources.pids.limit is required");
    assert_parse_error("{'pids': {'limit': '10'}}", "resources.pids.limit: expected integer");
}

static void
test_ocirun_resources_parse_bad_block_io(void **state)
{
    assert_parse_error("{'blockIO': {'weight': 5}}",
                       "resources.blockIO.weight: 5 out of range (10-1000)");
    assert_parse_error("{'blockIO': {'weight': 1001}}",
                       "resources.blockIO.weight: 1001 out of range (10-1000)");
    assert_parse_error("{'blockIO': {'weight': 65536}}",
                       "resources.blockIO.weight: 65536 out of range for uint16");
    assert_parse_error("{'blockIO': {'weight': -1}}",
                       "resources.blockIO.weight: -1 out of range for uint32");
    assert_parse_error("{'blockIO': {'leafWeight': 9}}",
                       "resources.blockIO.leafWeight: 9 out of range (10-1000)");
    assert_parse_error("{'blockIO': {'weightDevice': [3]}}",
                       "resources.blockIO.weightDevice[0]: expected object");
    assert_parse_error("{'blockIO': {'weightDevice': [{'minor': 0, 'weight': 10}]}}",
                       "resources.blockIO.weightDevice[0].major is required");
    assert_parse_error("{'blockIO': {'weightDevice': [{'major': 8, 'weight': 10}]}}",
                       "resources.blockIO.weightDevice[0].minor is required");
    assert_parse_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}]}}",
                       "resources.blockIO.weightDevice[0]: needs weight or leafWeight");
    assert_parse_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0, 'weight': 10},"
                       " {'major': -1, 'minor': 0, 'weight': 10}]}}",
                       "resources.blockIO.weightDevice[1].major: -1 out of range");
    assert_parse_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 4294967296,"
                       " 'weight': 10}]}}",
                       "resources.blockIO.weightDevice[0].minor: 4294967296 out of range");
    assert_parse_error("{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0, 'weight': 2}]}}",
                       "resources.blockIO.weightDevice[0].weight: 2 out of range (10-1000)");
    assert_parse_error(
        "{'blockIO': {'weightDevice': [{'major': 8, 'minor': 0, 'leafWeight': 'x'}]}}",
        "resources.blockIO.weightDevice[0].leafWeight: expected integer");
    assert_parse_error("{'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}}",
                       "resources.blockIO.throttleReadBpsDevice[0].rate is required");
    assert_parse_error(
        "{'blockIO': {'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': -1}]}}",
        "resources.blockIO.throttleWriteBpsDevice[0].rate: -1 out of range for uint64");
    assert_parse_error("{'blockIO': {'throttleReadIOPSDevice': [{'major': 'a', 'minor': 0,"
                       " 'rate': 1}]}}",
                       "resources.blockIO.throttleReadIOPSDevice[0].major: expected integer");
    assert_parse_error("{'blockIO': {'throttleWriteIOPSDevice': {}}}",
                       "resources.blockIO.throttleWriteIOPSDevice: expected array");
}

static void
test_ocirun_resources_parse_bad_hugepages_network(void **state)
{
    assert_parse_error("{'hugepageLimits': [{'limit': 1}]}",
                       "resources.hugepageLimits[0].pageSize is required");
    assert_parse_error("{'hugepageLimits': [{'pageSize': '2MB'}]}",
                       "resources.hugepageLimits[0].limit is required");
    static const char *const bad_sizes[] = {"2M", "2mb", "MB", "02MB", "2XB", "2MBB", "../2MB", ""};
    for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        cleanup_free char *text = xasprintf(
            "{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}, {'pageSize': '%s', 'limit': 1}]}",
            bad_sizes[i]);
        cleanup_free char *want = xasprintf("resources.hugepageLimits[1].pageSize: `%s` is not a "
                                            "page size like 64KB, 2MB or 1GB",
                                            bad_sizes[i]);
        assert_parse_error(text, want);
    }
    assert_parse_error("{'hugepageLimits': [{'pageSize': '2MB', 'limit': -1}]}",
                       "resources.hugepageLimits[0].limit: -1 out of range for uint64");
    assert_parse_error("{'network': {'classID': 4294967296}}",
                       "resources.network.classID: 4294967296 out of range for uint32");
    assert_parse_error("{'network': {'priorities': [{'priority': 1}]}}",
                       "resources.network.priorities[0].name is required");
    assert_parse_error("{'network': {'priorities': [{'name': 'eth0'}]}}",
                       "resources.network.priorities[0].priority is required");
    assert_parse_error("{'network': {'priorities': [{'name': 'eth 0', 'priority': 1}]}}",
                       "resources.network.priorities[0].name: `eth 0` is not an interface name");
    assert_parse_error("{'network': {'priorities': [{'name': '', 'priority': 1}]}}",
                       "resources.network.priorities[0].name: `` is not an interface name");
    assert_parse_error("{'network': {'priorities': [{'name': 'eth0', 'priority': -1}]}}",
                       "resources.network.priorities[0].priority: -1 out of range for uint32");
}

static void
test_ocirun_resources_parse_bad_devices(void **state)
{
    assert_parse_error("{'devices': ['a']}", "resources.devices[0]: expected object");
    assert_parse_error("{'devices': [{'access': 'rwm'}]}",
                       "resources.devices[0].allow is required");
    assert_parse_error("{'devices': [{'allow': 'yes'}]}",
                       "resources.devices[0].allow: expected boolean");
    assert_parse_error("{'devices': [{'allow': true}, {'allow': true, 'type': 'u'}]}",
                       "resources.devices[1].type: `u` is not a, c or b");
    assert_parse_error("{'devices': [{'allow': true, 'type': 'cc'}]}",
                       "resources.devices[0].type: `cc` is not a, c or b");
    assert_parse_error("{'devices': [{'allow': true, 'type': 99}]}",
                       "resources.devices[0].type: expected string");
    assert_parse_error("{'devices': [{'allow': true, 'major': -2}]}",
                       "resources.devices[0].major: -2 out of range");
    assert_parse_error("{'devices': [{'allow': true, 'minor': 4294967296}]}",
                       "resources.devices[0].minor: 4294967296 out of range");
    assert_parse_error("{'devices': [{'allow': true, 'minor': '1'}]}",
                       "resources.devices[0].minor: expected integer");
    assert_parse_error("{'devices': [{'allow': true, 'access': 'rwx'}]}",
                       "resources.devices[0].access: `rwx` is not a subset of `rwm`");
    assert_parse_error("{'devices': [{'allow': true, 'access': 'rr'}]}",
                       "resources.devices[0].access: `rr` is not a subset of `rwm`");
    assert_parse_error("{'devices': [{'allow': true, 'access': 'RWM'}]}",
                       "resources.devices[0].access: `RWM` is not a subset of `rwm`");
    assert_parse_error("{'devices': [{'allow': true, 'access': ''}]}",
                       "resources.devices[0].access: empty (give a subset of `rwm`)");
    assert_parse_error("{'devices': [{'allow': true, 'access': 7}]}",
                       "resources.devices[0].access: expected string");
}

static void
test_ocirun_resources_parse_bad_unified(void **state)
{
    assert_parse_error("{'unified': {'../memory.max': '1'}}",
                       "resources.unified: `../memory.max` is not a cgroup file name");
    assert_parse_error("{'unified': {'sub/memory.max': '1'}}",
                       "resources.unified: `sub/memory.max` is not a cgroup file name");
    assert_parse_error("{'unified': {'memory..max': '1'}}",
                       "resources.unified: `memory..max` is not a cgroup file name");
    assert_parse_error("{'unified': {'..': '1'}}",
                       "resources.unified: `..` is not a cgroup file name");
    assert_parse_error("{'unified': {'': '1'}}", "resources.unified: `` is not a cgroup file name");
    assert_parse_error("{'unified': {'pids.max': 10}}",
                       "resources.unified.pids.max: expected string, not integer");
    assert_parse_error("{'unified': {'pids.max': '10', 'memory.max': null}}",
                       "resources.unified.memory.max: expected string, not null");
}

/* A failure after some fields were parsed leaves nothing allocated (checked by ASan's leak
 * detector) and out zeroed (assert_parse_error). */
static void
test_ocirun_resources_parse_error_frees(void **state)
{
    assert_parse_error("{'cpu': {'cpus': '0-3', 'mems': '0'},"
                       " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}],"
                       " 'network': {'priorities': [{'name': 'eth0', 'priority': 1}]},"
                       " 'devices': [{'allow': true}],"
                       " 'unified': {'pids.max': '10', 'x/y': '1'}}",
                       "resources.unified: `x/y` is not a cgroup file name");
    assert_parse_error("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1},"
                       " {'pageSize': '1GB', 'limit': 'x'}]}",
                       "resources.hugepageLimits[1].limit: expected integer");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ocirun_resources_parse_null),
        cmocka_unit_test(test_ocirun_resources_parse_empty),
        cmocka_unit_test(test_ocirun_resources_parse_memory),
        cmocka_unit_test(test_ocirun_resources_parse_cpu),
        cmocka_unit_test(test_ocirun_resources_parse_pids),
        cmocka_unit_test(test_ocirun_resources_parse_block_io),
        cmocka_unit_test(test_ocirun_resources_parse_hugepages_network),
        cmocka_unit_test(test_ocirun_resources_parse_devices),
        cmocka_unit_test(test_ocirun_resources_parse_unified),
        cmocka_unit_test(test_ocirun_resources_parse_unknown_fields),
        cmocka_unit_test(test_ocirun_resources_any),
        cmocka_unit_test(test_ocirun_resources_free_twice),
        cmocka_unit_test(test_ocirun_resources_parse_bad_top_level),
        cmocka_unit_test(test_ocirun_resources_parse_bad_memory),
        cmocka_unit_test(test_ocirun_resources_parse_bad_cpu),
        cmocka_unit_test(test_ocirun_resources_parse_bad_pids),
        cmocka_unit_test(test_ocirun_resources_parse_bad_block_io),
        cmocka_unit_test(test_ocirun_resources_parse_bad_hugepages_network),
        cmocka_unit_test(test_ocirun_resources_parse_bad_devices),
        cmocka_unit_test(test_ocirun_resources_parse_bad_unified),
        cmocka_unit_test(test_ocirun_resources_parse_error_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
