/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/network/cni.c with stand-in plugins (shell scripts in a temp plugin
 * dir) that record what they were given: the order of a chain and of its DEL, prevResult
 * passed along, runtimeConfig filtered by capabilities, the environment, the cache (DEL uses
 * the cached config when the caller has none), a failing plugin's error message and the undo
 * of the plugins before it, and the timeout.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/network/cni.h"

struct fixture {
    char *dir, *plugins, *cache;
    struct eng_cni cni;
};

/* Each stand-in appends "<name> <command> <ifname> <netns>" to log and keeps its stdin in
 * <name>.<command>.in; "good" answers the result of the last one with its own IP. */
static void
write_plugin(const char *dir, const char *name, const char *body)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    cleanup_free char *text =
        xasprintf("#!/bin/sh\ncat > \"$(dirname \"$0\")/../%s.$CNI_COMMAND.in\"\n"
                  "echo \"%s $CNI_COMMAND $CNI_IFNAME $CNI_NETNS $CNI_CONTAINERID\" >> "
                  "\"$(dirname \"$0\")/../log\"\n%s\n",
                  name, name, body);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(berth_fs_write_atomic(path, text, strlen(text), 0755, &err), 0);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    f->dir = xstrdup("/tmp/berth-cni.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->plugins = xasprintf("%s/plugins", f->dir);
    f->cache = xasprintf("%s/cache", f->dir);
    assert_int_equal(mkdir(f->plugins, 0755), 0);
    const char *add_result = "[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\","
                             "\"ips\":[{\"address\":\"10.9.0.%d/24\"}]}'\nexit 0";
    cleanup_free char *one = xasprintf(add_result, 2);
    cleanup_free char *two = xasprintf(add_result, 3);
    write_plugin(f->plugins, "one", one);
    write_plugin(f->plugins, "two", two);
    write_plugin(f->plugins, "fail",
                 "[ \"$CNI_COMMAND\" = DEL ] && exit 0\n"
                 "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no luck\","
                 "\"details\":\"port 80 taken\"}'\nexit 1");
    write_plugin(f->plugins, "slow", "[ \"$CNI_COMMAND\" = DEL ] && exit 0\nsleep 5");
    f->cni.plugin_dir = f->plugins;
    f->cni.cache_dir = f->cache;
    f->cni.timeout_ms = 3000;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    berth_fs_rm_rf(f->dir, &err);
    free(f->dir);
    free(f->plugins);
    free(f->cache);
    free(f);
    return 0;
}

static char *
read_text(struct fixture *f, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s", f->dir, name);
    char *text = NULL;
    size_t len;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_read_file(path, &text, &len, &err) < 0)
        return xstrdup("");
    return text;
}

static struct json_object *
read_json(struct fixture *f, const char *name)
{
    cleanup_free char *text = read_text(f, name);
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = berth_json_parse(text, strlen(text), &err);
    assert_non_null(o);
    return o;
}

static struct json_object *
list_of(const char *a, const char *b)
{
    cleanup_free char *text = xasprintf(
        "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"plugins\":[{\"type\":\"%s\",\"x\":1},"
        "{\"type\":\"%s\",\"capabilities\":{\"portMappings\":true}}]}",
        a, b);
    return json_tokener_parse(text);
}

static void
test_eng_cni_add_chain_and_del(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *list = list_of("one", "two");
    cleanup_json struct json_object *rt =
        json_tokener_parse("{\"portMappings\":[{\"hostPort\":8080}],\"mac\":\"x\"}");
    struct eng_cni_attachment a = {
        .container_id = "c1", .netns = "/ns/c1", .ifname = "eth0", .runtime_config = rt};
    cleanup_json struct json_object *result = NULL;
    assert_int_equal(eng_cni_add(&f->cni, list, &a, &result, &err), 0);
    /* The last plugin's result. */
    assert_string_equal(
        json_object_get_string(berth_json_member(
            json_object_array_get_idx(berth_json_member(result, "ips"), 0), "address")),
        "10.9.0.3/24");
    /* one: its own keys, the list's name and version, no runtimeConfig (no capabilities),
     * no prevResult. */
    cleanup_json struct json_object *in1 = read_json(f, "one.ADD.in");
    assert_string_equal(berth_json_member_string(in1, "name"), "net1");
    assert_string_equal(berth_json_member_string(in1, "cniVersion"), "1.0.0");
    assert_int_equal(json_object_get_int(berth_json_member(in1, "x")), 1);
    assert_null(berth_json_member(in1, "runtimeConfig"));
    assert_null(berth_json_member(in1, "prevResult"));
    /* two: one's result as prevResult, only the portMappings it asked for. */
    cleanup_json struct json_object *in2 = read_json(f, "two.ADD.in");
    struct json_object *prev = berth_json_member(in2, "prevResult");
    assert_non_null(prev);
    assert_string_equal(
        json_object_get_string(berth_json_member(
            json_object_array_get_idx(berth_json_member(prev, "ips"), 0), "address")),
        "10.9.0.2/24");
    struct json_object *rc = berth_json_member(in2, "runtimeConfig");
    assert_non_null(berth_json_member(rc, "portMappings"));
    assert_null(berth_json_member(rc, "mac"));
    assert_null(berth_json_member(in2, "capabilities"));
    assert_true(eng_cni_has_cached(&f->cni, "c1"));
    cleanup_json struct json_object *cached = eng_cni_cached_result(&f->cni, "c1", "net1", "eth0");
    assert_non_null(cached);

    /* DEL with no list given: the cached one, in reverse, with the cached result. */
    assert_int_equal(eng_cni_del(&f->cni, "net1", NULL, &a, &err), 0);
    cleanup_free char *log = read_text(f, "log");
    assert_string_equal(log, "one ADD eth0 /ns/c1 c1\ntwo ADD eth0 /ns/c1 c1\n"
                             "two DEL eth0 /ns/c1 c1\none DEL eth0 /ns/c1 c1\n");
    cleanup_json struct json_object *del1 = read_json(f, "one.DEL.in");
    assert_non_null(berth_json_member(del1, "prevResult"));
    assert_false(eng_cni_has_cached(&f->cni, "c1"));
    /* A second DEL has nothing to do. */
    assert_int_equal(eng_cni_del(&f->cni, "net1", NULL, &a, &err), 0);
}

static void
test_eng_cni_add_failure_undone(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *list = list_of("one", "fail");
    struct eng_cni_attachment a = {.container_id = "c2", .netns = "/ns/c2", .ifname = "eth0"};
    assert_int_equal(eng_cni_add(&f->cni, list, &a, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cni plugin fail ADD: no luck: port 80 taken"));
    assert_non_null(strstr(err.msg, "network net1"));
    cleanup_free char *log = read_text(f, "log");
    assert_string_equal(log, "one ADD eth0 /ns/c2 c2\nfail ADD eth0 /ns/c2 c2\n"
                             "fail DEL eth0 /ns/c2 c2\none DEL eth0 /ns/c2 c2\n");
    assert_false(eng_cni_has_cached(&f->cni, "c2"));
}

static void
test_eng_cni_add_timeout_and_missing(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    f->cni.timeout_ms = 300;
    cleanup_json struct json_object *list = list_of("one", "slow");
    struct eng_cni_attachment a = {.container_id = "c3", .netns = "/ns/c3", .ifname = "eth1"};
    assert_int_equal(eng_cni_add(&f->cni, list, &a, NULL, &err), -1);
    assert_int_equal(err.code, ETIMEDOUT);
    assert_non_null(strstr(err.msg, "cni plugin slow ADD: no answer"));
    berth_err_clear(&err);
    cleanup_json struct json_object *missing = list_of("one", "nothere");
    assert_int_equal(eng_cni_add(&f->cni, missing, &a, NULL, &err), -1);
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.msg, "cni plugin nothere"));
    berth_err_clear(&err);
    cleanup_json struct json_object *bad = list_of("one", "../one");
    assert_int_equal(eng_cni_add(&f->cni, bad, &a, NULL, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_false(eng_cni_has_cached(&f->cni, "c3"));
}

static void
test_eng_cni_del_all(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *list = list_of("one", "two");
    struct eng_cni_attachment a = {.container_id = "c4", .netns = "/ns/c4", .ifname = "eth0"};
    assert_int_equal(eng_cni_add(&f->cni, list, &a, NULL, &err), 0);
    a.ifname = "eth1";
    assert_int_equal(eng_cni_add(&f->cni, list, &a, NULL, &err), 0);
    assert_int_equal(eng_cni_check(&f->cni, "net1", &a, &err), 0);
    assert_int_equal(eng_cni_del_all(&f->cni, "c4", "/ns/gone"), 0);
    assert_false(eng_cni_has_cached(&f->cni, "c4"));
    cleanup_free char *log = read_text(f, "log");
    /* Both attachments deleted, with the namespace path given. */
    assert_non_null(strstr(log, "two DEL eth0 /ns/gone c4\none DEL eth0 /ns/gone c4\n"));
    assert_non_null(strstr(log, "two DEL eth1 /ns/gone c4\none DEL eth1 /ns/gone c4\n"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eng_cni_add_chain_and_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_cni_add_failure_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_cni_add_timeout_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eng_cni_del_all, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
