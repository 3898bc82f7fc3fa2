/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/ctr/pbjson.c: protobuf-c messages of the supervisor API as JSON by
 * reflection: scalars, strings, enums by name, maps as objects, repeated fields, nested
 * messages, bytes holding JSON shown as JSON (others as base64), times as numbers or RFC 3339,
 * the omit-empty mode, and events decoded by their type inside an Envelope.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "supervisor/ctr/pbjson.h"

typedef Berth__Supervisor__V1__Container Container;
typedef Berth__Supervisor__V1__Container__LabelsEntry LabelsEntry;
typedef Berth__Supervisor__V1__Process Process;

/* obj[key], which must be there. */
static struct json_object *
get(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(obj, key, &v));
    return v;
}

static const char *
get_str(struct json_object *obj, const char *key)
{
    struct json_object *v = get(obj, key);
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static int64_t
get_int(struct json_object *obj, const char *key)
{
    struct json_object *v = get(obj, key);
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

static bool
has(struct json_object *obj, const char *key)
{
    return json_object_object_get_ex(obj, key, NULL);
}

/* A container: id web, labels {b: 2, a: 1}, runtime with options, a JSON spec, times. */
struct sample {
    Container c;
    Berth__Supervisor__V1__Runtime rt;
    Berth__Supervisor__V1__RuntimeOptions opts;
    LabelsEntry l[2];
    LabelsEntry *lp[2];
};

static const char sample_spec[] = " {\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"]}}";

static void
sample_init(struct sample *s)
{
    static const char *const kv[][2] = {{"b", "2"}, {"a", "1"}};
    berth__supervisor__v1__container__init(&s->c);
    berth__supervisor__v1__runtime__init(&s->rt);
    berth__supervisor__v1__runtime_options__init(&s->opts);
    s->c.id = "web";
    s->rt.name = "io.berth.ocirun.v1";
    s->opts.binary = "/usr/bin/ocirun";
    s->opts.systemd_cgroup = 1;
    s->rt.options = &s->opts;
    s->c.runtime = &s->rt;
    for (size_t i = 0; i < ARRAY_SIZE(s->l); i++) {
        berth__supervisor__v1__container__labels_entry__init(&s->l[i]);
        s->l[i].key = (char *)kv[i][0];
        s->l[i].value = (char *)kv[i][1];
        s->lp[i] = &s->l[i];
    }
    s->c.labels = s->lp;
    s->c.n_labels = ARRAY_SIZE(s->lp);
    s->c.spec.data = (uint8_t *)sample_spec;
    s->c.spec.len = strlen(sample_spec);
    s->c.rootfs = "/srv/rootfs";
    s->c.created_at = 1700000000123456789;
}

static void
test_ctr_pbjson_container(void **state)
{
    struct sample s;
    sample_init(&s);
    cleanup_json struct json_object *j = ctr_pbjson(&s.c.base, 0);

    assert_string_equal(get_str(j, "id"), "web");
    assert_string_equal(get_str(j, "rootfs"), "/srv/rootfs");
    /* Every field is there without OMIT_EMPTY, defaults included. */
    assert_string_equal(get_str(j, "image"), "");
    assert_string_equal(get_str(j, "snapshotter"), "");
    assert_int_equal(get_int(j, "updated_at"), 0);

    struct json_object *labels = get(j, "labels");
    assert_true(json_object_is_type(labels, json_type_object));
    assert_int_equal(json_object_object_length(labels), 2);
    assert_string_equal(get_str(labels, "a"), "1");
    assert_string_equal(get_str(labels, "b"), "2");
    struct json_object *ext = get(j, "extensions");
    assert_true(json_object_is_type(ext, json_type_object));
    assert_int_equal(json_object_object_length(ext), 0);

    struct json_object *rt = get(j, "runtime");
    assert_string_equal(get_str(rt, "name"), "io.berth.ocirun.v1");
    struct json_object *opts = get(rt, "options");
    assert_string_equal(get_str(opts, "binary"), "/usr/bin/ocirun");
    assert_true(json_object_get_boolean(get(opts, "systemd_cgroup")));

    /* The spec bytes hold JSON: shown as that JSON. */
    struct json_object *spec = get(j, "spec");
    assert_true(json_object_is_type(spec, json_type_object));
    assert_string_equal(get_str(spec, "ociVersion"), "1.2.0");
    struct json_object *args = get(get(spec, "process"), "args");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)), "sh");

    /* Times stay numbers (unix nanoseconds) by default. */
    assert_int_equal(get_int(j, "created_at"), 1700000000123456789);
}

static void
test_ctr_pbjson_times(void **state)
{
    struct sample s;
    sample_init(&s);
    cleanup_json struct json_object *j = ctr_pbjson(&s.c.base, CTR_PBJSON_TIMES);
    assert_string_equal(get_str(j, "created_at"), "2023-11-14T22:13:20.123456789Z");
    /* 0 is "never": null. */
    assert_true(has(j, "updated_at"));
    assert_null(get(j, "updated_at"));
}

static void
test_ctr_pbjson_bytes_not_json(void **state)
{
    struct sample s;
    sample_init(&s);
    s.c.spec.data = (uint8_t *)"hello";
    s.c.spec.len = 5;
    cleanup_json struct json_object *j = ctr_pbjson(&s.c.base, 0);
    assert_string_equal(get_str(j, "spec"), "aGVsbG8=");

    /* Looks like JSON but is not: base64 too, no error. */
    s.c.spec.data = (uint8_t *)"{\"a\":";
    s.c.spec.len = 5;
    cleanup_json struct json_object *k = ctr_pbjson(&s.c.base, 0);
    assert_string_equal(get_str(k, "spec"), "eyJhIjo=");

    /* Every padding length. */
    s.c.spec.data = (uint8_t *)"hi!x";
    s.c.spec.len = 4;
    cleanup_json struct json_object *l = ctr_pbjson(&s.c.base, 0);
    assert_string_equal(get_str(l, "spec"), "aGkheA==");
    s.c.spec.len = 3;
    cleanup_json struct json_object *m = ctr_pbjson(&s.c.base, 0);
    assert_string_equal(get_str(m, "spec"), "aGkh");
}

static void
test_ctr_pbjson_omit_empty(void **state)
{
    Process p = BERTH__SUPERVISOR__V1__PROCESS__INIT;
    p.container_id = "web";
    p.status = BERTH__SUPERVISOR__V1__STATUS__STOPPED;
    p.exit_status = 137;
    cleanup_json struct json_object *j = ctr_pbjson(&p.base, CTR_PBJSON_OMIT_EMPTY);
    assert_int_equal(json_object_object_length(j), 3);
    assert_string_equal(get_str(j, "container_id"), "web");
    assert_string_equal(get_str(j, "status"), "STOPPED");
    assert_int_equal(get_int(j, "exit_status"), 137);
    assert_false(has(j, "io"));
    assert_false(has(j, "exec_id"));

    /* Without the flag, an absent message is null and zeros are shown. */
    cleanup_json struct json_object *k = ctr_pbjson(&p.base, 0);
    assert_true(has(k, "io"));
    assert_null(get(k, "io"));
    assert_int_equal(get_int(k, "pid"), 0);
    assert_false(json_object_get_boolean(get(k, "terminal")));
}

static void
test_ctr_pbjson_enum(void **state)
{
    Process p = BERTH__SUPERVISOR__V1__PROCESS__INIT;
    p.status = BERTH__SUPERVISOR__V1__STATUS__RUNNING;
    cleanup_json struct json_object *j = ctr_pbjson(&p.base, 0);
    assert_string_equal(get_str(j, "status"), "RUNNING");
    /* A value the descriptor does not know is shown as its number. */
    p.status = (Berth__Supervisor__V1__Status)42;
    cleanup_json struct json_object *k = ctr_pbjson(&p.base, 0);
    assert_int_equal(get_int(k, "status"), 42);
}

static void
test_ctr_pbjson_repeated(void **state)
{
    Process a = BERTH__SUPERVISOR__V1__PROCESS__INIT, b = BERTH__SUPERVISOR__V1__PROCESS__INIT;
    Process *ps[] = {&a, &b};
    Berth__Supervisor__V1__ListTasksResponse resp =
        BERTH__SUPERVISOR__V1__LIST_TASKS_RESPONSE__INIT;
    a.container_id = "a";
    a.pid = 4000000000u; /* a uint32 beyond INT32_MAX stays positive */
    b.container_id = "b";
    resp.tasks = ps;
    resp.n_tasks = 2;
    cleanup_json struct json_object *j = ctr_pbjson(&resp.base, 0);
    struct json_object *tasks = get(j, "tasks");
    assert_true(json_object_is_type(tasks, json_type_array));
    assert_int_equal(json_object_array_length(tasks), 2);
    assert_string_equal(get_str(json_object_array_get_idx(tasks, 0), "container_id"), "a");
    assert_int_equal(get_int(json_object_array_get_idx(tasks, 0), "pid"), 4000000000);
    assert_string_equal(get_str(json_object_array_get_idx(tasks, 1), "container_id"), "b");

    /* Repeated strings. */
    char *filters[] = {"id==a", "labels.x"};
    Berth__Supervisor__V1__ListContainersRequest req =
        BERTH__SUPERVISOR__V1__LIST_CONTAINERS_REQUEST__INIT;
    req.filters = filters;
    req.n_filters = 2;
    cleanup_json struct json_object *k = ctr_pbjson(&req.base, 0);
    struct json_object *f = get(k, "filters");
    assert_int_equal(json_object_array_length(f), 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(f, 1)), "labels.x");

    /* An empty list is [] without OMIT_EMPTY, left out with it. */
    req.n_filters = 0;
    cleanup_json struct json_object *l = ctr_pbjson(&req.base, 0);
    assert_int_equal(json_object_array_length(get(l, "filters")), 0);
    cleanup_json struct json_object *m = ctr_pbjson(&req.base, CTR_PBJSON_OMIT_EMPTY);
    assert_false(has(m, "filters"));
}

static void
test_ctr_pbjson_metric(void **state)
{
    static const char data[] = "{\"type\":\"stats\",\"data\":{\"pids\":{\"current\":3}}}";
    Berth__Supervisor__V1__Metric m = BERTH__SUPERVISOR__V1__METRIC__INIT;
    m.id = "web";
    m.timestamp = 5;
    m.data.data = (uint8_t *)data;
    m.data.len = strlen(data);
    cleanup_json struct json_object *j = ctr_pbjson(&m.base, 0);
    assert_int_equal(get_int(j, "timestamp"), 5);
    assert_int_equal(get_int(get(get(get(j, "data"), "data"), "pids"), "current"), 3);
}

/* An Envelope holding a packed TaskExit. */
static void
pack_exit(Berth__Supervisor__V1__Envelope *env, uint8_t **buf)
{
    Berth__Supervisor__V1__TaskExit ev = BERTH__SUPERVISOR__V1__TASK_EXIT__INIT;
    ev.container_id = "web";
    ev.id = "web";
    ev.pid = 42;
    ev.exit_status = 3;
    ev.exited_at = 1000;
    size_t len = berth__supervisor__v1__task_exit__get_packed_size(&ev);
    *buf = xmalloc(len);
    berth__supervisor__v1__task_exit__pack(&ev, *buf);
    env->timestamp = 1001;
    env->namespace_ = "default";
    env->topic = "/tasks/exit";
    env->type = "berth.supervisor.v1.TaskExit";
    env->event.data = *buf;
    env->event.len = len;
}

static void
test_ctr_pbjson_envelope(void **state)
{
    Berth__Supervisor__V1__Envelope env = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    cleanup_free uint8_t *buf = NULL;
    pack_exit(&env, &buf);
    cleanup_json struct json_object *j = ctr_pbjson(&env.base, 0);
    assert_string_equal(get_str(j, "topic"), "/tasks/exit");
    struct json_object *ev = get(j, "event");
    assert_true(json_object_is_type(ev, json_type_object));
    assert_string_equal(get_str(ev, "container_id"), "web");
    assert_int_equal(get_int(ev, "pid"), 42);
    assert_int_equal(get_int(ev, "exit_status"), 3);
    assert_int_equal(get_int(ev, "exited_at"), 1000);

    /* An unknown type: the payload stays bytes (base64). */
    env.type = "berth.supervisor.v1.NoSuchEvent";
    cleanup_json struct json_object *k = ctr_pbjson(&env.base, 0);
    assert_true(json_object_is_type(get(k, "event"), json_type_string));
}

static void
test_ctr_pbjson_event(void **state)
{
    Berth__Supervisor__V1__Envelope env = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    cleanup_free uint8_t *buf = NULL;
    pack_exit(&env, &buf);
    cleanup_json struct json_object *j =
        ctr_pbjson_event(env.type, env.event.data, env.event.len, CTR_PBJSON_OMIT_EMPTY);
    assert_non_null(j);
    assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
                        "{\"container_id\":\"web\",\"id\":\"web\",\"pid\":42,\"exit_status\":3,"
                        "\"exited_at\":1000}");

    assert_null(ctr_pbjson_event("berth.supervisor.v1.Nope", env.event.data, env.event.len, 0));
    assert_null(ctr_pbjson_event(NULL, env.event.data, env.event.len, 0));
    /* A payload that does not unpack (a truncated length-delimited field). */
    static const uint8_t bad[] = {0x0a, 0x10, 'w'};
    assert_null(ctr_pbjson_event(env.type, bad, sizeof(bad), 0));
}

static void
test_ctr_pbjson_event_type(void **state)
{
    assert_ptr_equal(ctr_pbjson_event_type("berth.supervisor.v1.TaskExit"),
                     &berth__supervisor__v1__task_exit__descriptor);
    assert_ptr_equal(ctr_pbjson_event_type("berth.supervisor.v1.NamespaceCreate"),
                     &berth__supervisor__v1__namespace_create__descriptor);
    assert_ptr_equal(ctr_pbjson_event_type("berth.supervisor.v1.TaskOOM"),
                     &berth__supervisor__v1__task_oom__descriptor);
    /* Only events: other messages of the API are not event types. */
    assert_null(ctr_pbjson_event_type("berth.supervisor.v1.Container"));
    assert_null(ctr_pbjson_event_type("TaskExit"));
    assert_null(ctr_pbjson_event_type(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctr_pbjson_container),
        cmocka_unit_test(test_ctr_pbjson_times),
        cmocka_unit_test(test_ctr_pbjson_bytes_not_json),
        cmocka_unit_test(test_ctr_pbjson_omit_empty),
        cmocka_unit_test(test_ctr_pbjson_enum),
        cmocka_unit_test(test_ctr_pbjson_repeated),
        cmocka_unit_test(test_ctr_pbjson_metric),
        cmocka_unit_test(test_ctr_pbjson_envelope),
        cmocka_unit_test(test_ctr_pbjson_event),
        cmocka_unit_test(test_ctr_pbjson_event_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
