/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/events: docker's event lines, the ring (wrap, since, until), waits
 * (timeouts, live events, close), docker's /events filters, the times `since` and `until`
 * take, and publishers and subscribers on many threads at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/events/events.h"
#include "engine/events/filter.h"
#include "engine/events/timestamp.h"

#define S 1000000000LL

static struct json_object *
attrs1(const char *k, const char *v)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, k, json_object_new_string(v));
    return o;
}

/* The next event's JSON (the test fails when there is none). */
static struct json_object *
next_doc(struct eng_events_sub *s, int timeout_ms)
{
    char *line = NULL;
    size_t len = 0;
    assert_int_equal(eng_events_next(s, timeout_ms, &line, &len), 1);
    assert_int_equal(strlen(line), len);
    struct json_object *o = json_tokener_parse(line);
    assert_non_null(o);
    free(line);
    return o;
}

static const char *
str_at(struct json_object *o, const char *path)
{
    /* "Actor.Attributes.name" */
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    struct json_object *v = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(v, k, &v))
            return NULL;
    return json_object_get_string(v);
}

static int64_t
time_of(struct json_object *o)
{
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, "timeNano", &v));
    return json_object_get_int64(v);
}

static void
test_eng_events_publish_lines(void **state)
{
    (void)state;
    struct eng_events *ev = eng_events_new();
    eng_events_publish_at(ev, 5 * S + 7, "image", "pull", "busybox:latest",
                          attrs1("name", "busybox"));
    struct json_object *a = attrs1("image", "busybox");
    json_object_object_add(a, "name", json_object_new_string("web"));
    eng_events_publish_at(ev, 6 * S, "container", "start", "abc123", a);
    eng_events_publish_at(ev, 7 * S, "volume", "create", "v1", NULL);

    struct eng_events_sub *s = eng_events_subscribe(ev, 1, 0, NULL);
    struct json_object *o = next_doc(s, 0);
    assert_string_equal(str_at(o, "status"), "pull");
    assert_string_equal(str_at(o, "id"), "busybox:latest");
    assert_null(str_at(o, "from"));
    assert_string_equal(str_at(o, "Type"), "image");
    assert_string_equal(str_at(o, "Action"), "pull");
    assert_string_equal(str_at(o, "Actor.ID"), "busybox:latest");
    assert_string_equal(str_at(o, "Actor.Attributes.name"), "busybox");
    assert_string_equal(str_at(o, "scope"), "local");
    assert_string_equal(str_at(o, "time"), "5");
    assert_int_equal(time_of(o), 5 * S + 7);
    json_object_put(o);

    o = next_doc(s, 0);
    assert_string_equal(str_at(o, "status"), "start");
    assert_string_equal(str_at(o, "from"), "busybox");
    assert_string_equal(str_at(o, "Actor.Attributes.name"), "web");
    json_object_put(o);

    /* No legacy fields for other types; no attributes is {}. */
    o = next_doc(s, 0);
    assert_null(str_at(o, "status"));
    assert_null(str_at(o, "id"));
    assert_string_equal(str_at(o, "Actor.ID"), "v1");
    struct json_object *actor = json_object_object_get(o, "Actor");
    assert_int_equal(json_object_object_length(json_object_object_get(actor, "Attributes")), 0);
    json_object_put(o);

    char *line = NULL;
    size_t len = 0;
    assert_int_equal(eng_events_next(s, 0, &line, &len), ENG_EVENTS_TIMEOUT);
    assert_int_equal(eng_events_n_subscribers(ev), 1);
    eng_events_unsubscribe(s);
    assert_int_equal(eng_events_n_subscribers(ev), 0);
    eng_events_free(ev);
    /* No bus: a no-op that still releases the attributes (ASan would see a leak). */
    eng_events_publish(NULL, "image", "tag", "x", attrs1("name", "x"));
}

static void
test_eng_events_ring_wrap(void **state)
{
    (void)state;
    struct eng_events *ev = eng_events_new();
    for (int i = 0; i < ENG_EVENTS_RING + 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%d", i);
        eng_events_publish_at(ev, (int64_t)(i + 1) * S, "image", "tag", id, NULL);
    }
    /* The ten oldest are gone: a replay from the start begins at the eleventh. */
    struct eng_events_sub *s = eng_events_subscribe(ev, 1, 0, NULL);
    struct json_object *o = next_doc(s, 0);
    assert_string_equal(str_at(o, "id"), "10");
    json_object_put(o);
    int n = 1;
    char *line = NULL;
    size_t len = 0;
    while (eng_events_next(s, 0, &line, &len) == 1) {
        free(line);
        n++;
    }
    assert_int_equal(n, ENG_EVENTS_RING);
    eng_events_unsubscribe(s);

    /* A subscriber that falls behind goes on from the oldest event kept. */
    s = eng_events_subscribe(ev, 1, 0, NULL);
    for (int i = 0; i < ENG_EVENTS_RING; i++)
        eng_events_publish_at(ev, (int64_t)(5000 + i) * S, "image", "untag", "late", NULL);
    o = next_doc(s, 0);
    assert_string_equal(str_at(o, "Action"), "untag");
    assert_int_equal(time_of(o), 5000 * S);
    json_object_put(o);
    eng_events_unsubscribe(s);
    eng_events_free(ev);
}

static void
test_eng_events_since_until(void **state)
{
    (void)state;
    struct eng_events *ev = eng_events_new();
    for (int i = 100; i < 110; i++)
        eng_events_publish_at(ev, (int64_t)i * S, "image", "tag", "x", NULL);
    /* Both in the past: 103 ..= 106, then the end. */
    struct eng_events_sub *s = eng_events_subscribe(ev, 103 * S, 106 * S, NULL);
    for (int i = 103; i <= 106; i++) {
        struct json_object *o = next_doc(s, 0);
        assert_int_equal(time_of(o), (int64_t)i * S);
        json_object_put(o);
    }
    char *line = NULL;
    size_t len = 0;
    assert_int_equal(eng_events_next(s, -1, &line, &len), 0);
    eng_events_unsubscribe(s);

    /* until alone replays everything up to it. */
    s = eng_events_subscribe(ev, 0, 101 * S, NULL);
    struct json_object *o = next_doc(s, 0);
    assert_int_equal(time_of(o), 100 * S);
    json_object_put(o);
    o = next_doc(s, 0);
    assert_int_equal(time_of(o), 101 * S);
    json_object_put(o);
    assert_int_equal(eng_events_next(s, -1, &line, &len), 0);
    eng_events_unsubscribe(s);

    /* Neither: live events only. */
    s = eng_events_subscribe(ev, 0, 0, NULL);
    assert_int_equal(eng_events_next(s, 10, &line, &len), ENG_EVENTS_TIMEOUT);
    eng_events_publish(ev, "image", "delete", "live", NULL);
    o = next_doc(s, 0);
    assert_string_equal(str_at(o, "id"), "live");
    json_object_put(o);
    eng_events_unsubscribe(s);

    /* until a little ahead: the wait ends when the clock passes it. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * S + ts.tv_nsec;
    s = eng_events_subscribe(ev, now, now + 200000000, NULL);
    assert_int_equal(eng_events_next(s, 5000, &line, &len), 0);
    eng_events_unsubscribe(s);
    eng_events_free(ev);
}

struct waiter {
    struct eng_events_sub *s;
    int rc;
    char *line;
};

static void *
wait_one(void *arg)
{
    struct waiter *w = arg;
    size_t len = 0;
    w->rc = eng_events_next(w->s, -1, &w->line, &len);
    return NULL;
}

static void
test_eng_events_wake(void **state)
{
    (void)state;
    struct eng_events *ev = eng_events_new();
    struct waiter a = {eng_events_subscribe(ev, 0, 0, NULL), -1, NULL};
    pthread_t t;
    pthread_create(&t, NULL, wait_one, &a);
    usleep(50000);
    eng_events_publish(ev, "image", "pull", "x", NULL);
    pthread_join(t, NULL);
    assert_int_equal(a.rc, 1);
    assert_non_null(strstr(a.line, "\"Action\":\"pull\""));
    free(a.line);

    /* close wakes a waiter with the end, and every later call ends at once. */
    a.line = NULL;
    pthread_create(&t, NULL, wait_one, &a);
    usleep(50000);
    eng_events_close(ev);
    pthread_join(t, NULL);
    assert_int_equal(a.rc, 0);
    eng_events_publish(ev, "image", "pull", "after", NULL);
    char *line = NULL;
    size_t len = 0;
    assert_int_equal(eng_events_next(a.s, -1, &line, &len), 0);
    /* A stopping daemon waits for the streams to be unsubscribed, within a limit. */
    assert_false(eng_events_wait_idle(ev, 20));
    eng_events_unsubscribe(a.s);
    assert_true(eng_events_wait_idle(ev, 0));
    eng_events_free(ev);
}

static bool
matches(const char *filters, const char *type, const char *action, const char *id,
        struct json_object *attrs)
{
    struct eng_events_filter *f = NULL;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(eng_events_filter_parse(filters, &f, &err), 0);
    bool r = eng_events_filter_match(f, type, action, id, attrs);
    eng_events_filter_free(f);
    return r;
}

static void
test_eng_events_filter(void **state)
{
    (void)state;
    cleanup_json struct json_object *img = attrs1("name", "127.0.0.1:5000/x:latest");
    cleanup_json struct json_object *ctr = attrs1("name", "web");
    json_object_object_add(ctr, "image", json_object_new_string("busybox:1.36"));
    json_object_object_add(ctr, "com.example.role", json_object_new_string("db"));

    assert_true(matches(NULL, "image", "tag", "sha256:1", img));
    assert_true(matches("", "image", "tag", "sha256:1", img));
    assert_true(matches("{\"type\":{\"image\":true}}", "image", "tag", "sha256:1", img));
    assert_false(matches("{\"type\":{\"container\":true}}", "image", "tag", "sha256:1", img));
    assert_true(matches("{\"type\":[\"container\",\"image\"]}", "image", "tag", "sha256:1", img));
    assert_true(matches("{\"type\":{\"image\":false}}", "image", "tag", "sha256:1", img));
    assert_true(matches("{\"event\":{\"tag\":true}}", "image", "tag", "sha256:1", img));
    assert_false(matches("{\"event\":{\"tag\":true}}", "image", "untag", "sha256:1", img));
    /* Keys AND, values OR. */
    assert_false(
        matches("{\"type\":{\"image\":true},\"event\":{\"pull\":true}}", "image", "tag", "i", img));
    /* health_status and exec_* match by prefix. */
    assert_true(matches("{\"event\":{\"health_status\":true}}", "container",
                        "health_status: healthy", "c", ctr));
    assert_false(matches("{\"event\":{\"start\":true}}", "container", "start_x", "c", ctr));
    /* container: ID prefix or name. */
    assert_true(matches("{\"container\":{\"web\":true}}", "container", "start", "abc123", ctr));
    assert_true(matches("{\"container\":{\"abc\":true}}", "container", "start", "abc123", ctr));
    assert_false(matches("{\"container\":{\"db\":true}}", "container", "start", "abc123", ctr));
    /* image: ID or name, with or without the tag (a port is not a tag). */
    assert_true(
        matches("{\"image\":{\"127.0.0.1:5000/x\":true}}", "image", "tag", "sha256:1", img));
    assert_true(
        matches("{\"image\":{\"127.0.0.1:5000/x:latest\":true}}", "image", "tag", "sha256:1", img));
    assert_false(matches("{\"image\":{\"127.0.0.1\":true}}", "image", "tag", "sha256:1", img));
    assert_true(matches("{\"image\":{\"sha256:1\":true}}", "image", "delete", "sha256:1", img));
    assert_true(matches("{\"image\":{\"busybox\":true}}", "container", "start", "abc", ctr));
    /* label: key, key=value, all of them. */
    assert_true(matches("{\"label\":{\"com.example.role\":true}}", "container", "start", "c", ctr));
    assert_true(
        matches("{\"label\":{\"com.example.role=db\":true}}", "container", "start", "c", ctr));
    assert_false(
        matches("{\"label\":[\"com.example.role=db\",\"x\"]}", "container", "start", "c", ctr));
    assert_false(
        matches("{\"label\":{\"com.example.role=web\":true}}", "container", "start", "c", ctr));
    assert_true(matches("{\"scope\":{\"local\":true}}", "image", "tag", "i", img));
    assert_false(matches("{\"scope\":{\"swarm\":true}}", "image", "tag", "i", img));
    assert_true(matches("{\"volume\":{\"v1\":true}}", "volume", "create", "v1", NULL));

    /* Bad filters name what is wrong. */
    const char *bad[] = {"{\"colour\":{\"red\":true}}", "[1]", "{\"type\":\"image\"}",
                         "{\"type\":[1]}", "not json"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct eng_events_filter *f = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        assert_int_equal(eng_events_filter_parse(bad[i], &f, &err), -1);
        assert_null(f);
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, "invalid filter"));
        berth_err_clear(&err);
    }
}

static int64_t
parse_ok(const char *s, int64_t now)
{
    struct berth_err err = BERTH_ERR_INIT;
    int64_t out = -1;
    assert_int_equal(eng_events_parse_time(s, now, &out, &err), 0);
    return out;
}

static void
test_eng_events_parse_time(void **state)
{
    (void)state;
    int64_t now = 1700000000 * S;
    assert_int_equal(parse_ok("1700000000", now), 1700000000 * S);
    assert_int_equal(parse_ok("1700000000.5", now), 1700000000 * S + 500000000);
    assert_int_equal(parse_ok("1700000000.000000001", now), 1700000000 * S + 1);
    assert_int_equal(parse_ok("2023-11-14T22:13:20Z", now), 1700000000 * S);
    assert_int_equal(parse_ok("2023-11-14T22:13:20.25Z", now), 1700000000 * S + 250000000);
    assert_int_equal(parse_ok("2023-11-14T23:13:20+01:00", now), 1700000000 * S);
    assert_int_equal(parse_ok("2023-11-14T21:13:20-01:00", now), 1700000000 * S);
    assert_int_equal(parse_ok("10m", now), now - 600 * S);
    assert_int_equal(parse_ok("1h30m", now), now - 5400 * S);
    assert_int_equal(parse_ok("1.5s", now), now - 1500000000);
    assert_int_equal(parse_ok("-5m", now), now + 300 * S);
    assert_int_equal(parse_ok("250ms", now), now - 250000000);
    /* Without a zone: local time, as mktime reads it. */
    struct tm tm = {.tm_year = 123, .tm_mon = 10, .tm_mday = 14, .tm_isdst = -1};
    assert_int_equal(parse_ok("2023-11-14", now), (int64_t)mktime(&tm) * S);

    const char *bad[] = {"",
                         "yesterday",
                         "10x",
                         "2023-13-01",
                         "2023-11-14T25:00Z",
                         "1700000000.",
                         "12abc",
                         "2023-11-14T22:13:20+0100"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        int64_t out = 0;
        assert_int_equal(eng_events_parse_time(bad[i], now, &out, &err), -1);
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, "failed to parse value as time or duration"));
        berth_err_clear(&err);
    }
}

/* ---------------------------------------------------------------- threads */

#define PUBLISHERS  4
#define PER_THREAD  200
#define SUBSCRIBERS 3

struct reader {
    struct eng_events_sub *s;
    int n;
    bool ordered;
};

static void *
publisher(void *arg)
{
    struct eng_events *ev = arg;
    for (int i = 0; i < PER_THREAD; i++)
        eng_events_publish(ev, "image", i % 2 ? "tag" : "untag", "x", attrs1("name", "x"));
    return NULL;
}

static void *
reader(void *arg)
{
    struct reader *r = arg;
    int64_t last = 0;
    r->ordered = true;
    while (r->n < PUBLISHERS * PER_THREAD) {
        char *line = NULL;
        size_t len = 0;
        int rc = eng_events_next(r->s, 5000, &line, &len);
        if (rc != 1)
            break;
        struct json_object *o = json_tokener_parse(line);
        int64_t t = json_object_get_int64(json_object_object_get(o, "timeNano"));
        r->ordered = r->ordered && t >= last;
        last = t;
        json_object_put(o);
        free(line);
        r->n++;
    }
    return NULL;
}

static void
test_eng_events_concurrent(void **state)
{
    (void)state;
    struct eng_events *ev = eng_events_new();
    struct reader readers[SUBSCRIBERS];
    pthread_t rt[SUBSCRIBERS], pt[PUBLISHERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        readers[i] = (struct reader){eng_events_subscribe(ev, 0, 0, NULL), 0, true};
        pthread_create(&rt[i], NULL, reader, &readers[i]);
    }
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_create(&pt[i], NULL, publisher, ev);
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_join(pt[i], NULL);
    /* Fewer events than the ring holds: every subscriber sees every one, in time order. */
    for (int i = 0; i < SUBSCRIBERS; i++) {
        pthread_join(rt[i], NULL);
        assert_int_equal(readers[i].n, PUBLISHERS * PER_THREAD);
        assert_true(readers[i].ordered);
        eng_events_unsubscribe(readers[i].s);
    }
    eng_events_free(ev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_events_publish_lines),
        cmocka_unit_test(test_eng_events_ring_wrap),
        cmocka_unit_test(test_eng_events_since_until),
        cmocka_unit_test(test_eng_events_wake),
        cmocka_unit_test(test_eng_events_filter),
        cmocka_unit_test(test_eng_events_parse_time),
        cmocka_unit_test(test_eng_events_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
