/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for common/filter.c: the filter syntax and its errors, and matching by
 * reflection over the supervisor API's messages: scalar fields, labels (map) lookups, nested
 * messages, enums by name, alternatives, and event.FIELD inside an events Envelope.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/filter.h"

typedef Berth__Supervisor__V1__Container Container;
typedef Berth__Supervisor__V1__Container__LabelsEntry LabelsEntry;

/* A container to match against:
 *   id web, image busybox:latest, runtime io.berth.ocirun.v1 (systemd_cgroup true),
 *   labels {env: prod, io.berth.role: "front,end", empty: ""}, snapshotter "" */
struct sample {
    Container c;
    Berth__Supervisor__V1__Runtime rt;
    Berth__Supervisor__V1__RuntimeOptions opts;
    LabelsEntry l[3];
    LabelsEntry *lp[3];
};

static void
sample_init(struct sample *s)
{
    static const char *const kv[][2] = {
        {"env", "prod"}, {"io.berth.role", "front,end"}, {"empty", ""}};

    berth__supervisor__v1__container__init(&s->c);
    berth__supervisor__v1__runtime__init(&s->rt);
    berth__supervisor__v1__runtime_options__init(&s->opts);
    s->c.id = "web";
    s->c.image = "busybox:latest";
    s->rt.name = "io.berth.ocirun.v1";
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
    s->c.created_at = 1700000000000000000;
}

/* Parse the n filters (which must parse) and match msg. */
static bool
matches_v(const ProtobufCMessage *msg, berth_filter_type_fn resolve, const char *const *filters,
          size_t n)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_filter *f = berth_filter_parse(filters, n, &err);

    if (f == NULL)
        fail_msg("parse: %s", err.msg);
    bool r = berth_filter_match(f, msg, resolve);
    berth_filter_free(f);
    return r;
}

static bool
matches(const ProtobufCMessage *msg, const char *filter)
{
    return matches_v(msg, NULL, &filter, 1);
}

/* ---- parse -------------------------------------------------------------------------------- */

static void
test_berth_filter_parse_no_filters_match_all(void **state)
{
    struct sample s;
    struct berth_err err = BERTH_ERR_INIT;
    struct berth_filter *f = berth_filter_parse(NULL, 0, &err);

    sample_init(&s);
    assert_non_null(f);
    assert_true(berth_filter_match(f, &s.c.base, NULL));
    berth_filter_free(f);
    berth_filter_free(NULL);
}

static void
test_berth_filter_parse_syntax_errors(void **state)
{
    static const struct {
        const char *filter;
        const char *msg;
    } cases[] = {
        {"", "filter ``: column 1: empty filter"},
        {"   ", "filter `   `: column 4: empty filter"},
        {"id==", "filter `id==`: column 5: expected a value"},
        {"id=web", "filter `id=web`: column 3: expected `==`, `!=`, `~=`, `,` or the end of the "
                   "filter"},
        {"==web", "filter `==web`: column 1: expected a field name"},
        {"id==a b", "filter `id==a b`: column 7: expected `,` or the end of the filter"},
        {"id==web,", "filter `id==web,`: column 9: expected a field name"},
        {"id==web,,image", "filter `id==web,,image`: column 9: expected a field name"},
        {"labels.", "filter `labels.`: column 8: expected a field name"},
        {"labels.\"env", "filter `labels.\"env`: column 8: unterminated quoted string"},
        {"id==\"web", "filter `id==\"web`: column 5: unterminated quoted string"},
        {"id==\"a\"b", "filter `id==\"a\"b`: column 8: expected `,` or the end of the filter"},
        {"id~=(web", NULL}, /* message from regerror */
        {"id==w\"eb", "filter `id==w\"eb`: column 6: expected `,` or the end of the filter"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        const char *filter = cases[i].filter;
        struct berth_filter *f = berth_filter_parse(&filter, 1, &err);

        if (f != NULL)
            fail_msg("`%s` parsed", filter);
        assert_int_equal(err.code, EINVAL);
        if (cases[i].msg)
            assert_string_equal(err.msg, cases[i].msg);
        else
            assert_non_null(strstr(err.msg, "column 5: regular expression: "));
        berth_err_clear(&err);
    }
}

static void
test_berth_filter_parse_error_names_the_bad_filter(void **state)
{
    const char *filters[] = {"id==web", "image~=[", "id==db"};
    struct berth_err err = BERTH_ERR_INIT;

    assert_null(berth_filter_parse(filters, ARRAY_SIZE(filters), &err));
    assert_non_null(strstr(err.msg, "filter `image~=[`: column 8: "));
    berth_err_clear(&err);
}

static void
test_berth_filter_parse_whitespace(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "  id == web ,  image ~= ^busybox  "));
    assert_true(matches(&s.c.base, "id\t==\tweb"));
}

/* ---- match: scalars ----------------------------------------------------------------------- */

static void
test_berth_filter_match_equal(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "id==web"));
    assert_false(matches(&s.c.base, "id==we"));
    assert_false(matches(&s.c.base, "id==webx"));
    assert_true(matches(&s.c.base, "image==busybox:latest"));
    assert_true(matches(&s.c.base, "created_at==1700000000000000000"));
    /* A proto3 scalar always has its value, the default included. */
    assert_true(matches(&s.c.base, "snapshotter==\"\""));
    assert_false(matches(&s.c.base, "image==\"\""));
}

static void
test_berth_filter_match_not_equal(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "id!=db"));
    assert_false(matches(&s.c.base, "id!=web"));
    assert_true(matches(&s.c.base, "snapshotter!=overlay"));
    /* A missing label has no value at all: != does not hold, as in containerd. */
    assert_false(matches(&s.c.base, "labels.missing!=x"));
    assert_true(matches(&s.c.base, "labels.env!=dev"));
}

static void
test_berth_filter_match_regexp(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "image~=^busy"));
    assert_true(matches(&s.c.base, "image~=box")); /* unanchored */
    assert_false(matches(&s.c.base, "image~=^box"));
    assert_true(matches(&s.c.base, "image~=\"^[a-z]+:(latest|stable)$\""));
    assert_true(matches(&s.c.base, "image~=\"busybox\\:latest\"")); /* \: reaches regcomp */
    assert_true(matches(&s.c.base, "labels.env~=^pro"));
    assert_false(matches(&s.c.base, "labels.missing~=.*"));
}

static void
test_berth_filter_match_presence(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "id"));
    assert_true(matches(&s.c.base, "image"));
    assert_false(matches(&s.c.base, "snapshotter")); /* empty string */
    assert_false(matches(&s.c.base, "updated_at"));  /* zero */
    assert_true(matches(&s.c.base, "created_at"));
    assert_true(matches(&s.c.base, "runtime"));
    assert_true(matches(&s.c.base, "labels"));
    assert_false(matches(&s.c.base, "extensions"));
    assert_false(matches(&s.c.base, "spec"));
    assert_true(matches(&s.c.base, "labels.env"));
    assert_true(matches(&s.c.base, "labels.empty")); /* the key is there */
    assert_false(matches(&s.c.base, "labels.missing"));
    assert_false(matches(&s.c.base, "no_such_field"));
    assert_false(matches(&s.c.base, "no_such_field==x"));
    assert_false(matches(&s.c.base, "id.deeper"));

    s.c.runtime = NULL;
    assert_false(matches(&s.c.base, "runtime"));
    assert_false(matches(&s.c.base, "runtime.name==io.berth.ocirun.v1"));
}

/* ---- match: paths ------------------------------------------------------------------------- */

static void
test_berth_filter_match_labels(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "labels.env==prod"));
    assert_false(matches(&s.c.base, "labels.env==dev"));
    /* A key with dots, unquoted (the rest of the path is the key) or quoted. */
    assert_true(matches(&s.c.base, "labels.io.berth.role==\"front,end\""));
    assert_true(matches(&s.c.base, "labels.\"io.berth.role\"==\"front,end\""));
    assert_false(matches(&s.c.base, "labels.io.berth==\"front,end\""));
    assert_true(matches(&s.c.base, "labels.empty==\"\""));

    /* The last entry for a key wins, as when decoding a map. */
    s.l[2].key = "env";
    s.l[2].value = "dev";
    assert_true(matches(&s.c.base, "labels.env==dev"));
    assert_false(matches(&s.c.base, "labels.env==prod"));
}

static void
test_berth_filter_match_quoted(void **state)
{
    struct sample s;

    sample_init(&s);
    s.c.image = "a \"quoted\" \\ image";
    assert_true(matches(&s.c.base, "image==\"a \\\"quoted\\\" \\\\ image\""));
    assert_true(matches(&s.c.base, "\"image\"==\"a \\\"quoted\\\" \\\\ image\""));
    /* A comma inside quotes is part of the value, not a separator. */
    assert_true(matches(&s.c.base, "labels.\"io.berth.role\"==\"front,end\",id==web"));
    assert_false(matches(&s.c.base, "labels.\"io.berth.role\"==\"front,end\",id==db"));
}

static void
test_berth_filter_match_nested(void **state)
{
    struct sample s;

    sample_init(&s);
    assert_true(matches(&s.c.base, "runtime.name==io.berth.ocirun.v1"));
    assert_true(matches(&s.c.base, "runtime.name~=ocirun"));
    assert_true(matches(&s.c.base, "runtime.options.systemd_cgroup==true"));
    assert_true(matches(&s.c.base, "runtime.options.systemd_cgroup"));
    assert_false(matches(&s.c.base, "runtime.options.binary"));
    assert_true(matches(&s.c.base, "runtime.options.binary==\"\""));
    /* A message is not text. */
    assert_false(matches(&s.c.base, "runtime==x"));
    assert_false(matches(&s.c.base, "runtime!=x"));

    s.opts.systemd_cgroup = 0;
    assert_true(matches(&s.c.base, "runtime.options.systemd_cgroup==false"));
    assert_false(matches(&s.c.base, "runtime.options.systemd_cgroup"));
}

static void
test_berth_filter_match_enum(void **state)
{
    Berth__Supervisor__V1__Process p;

    berth__supervisor__v1__process__init(&p);
    p.container_id = "web";
    p.pid = 4242;
    p.status = BERTH__SUPERVISOR__V1__STATUS__RUNNING;
    assert_true(matches(&p.base, "status==RUNNING"));
    assert_false(matches(&p.base, "status==STOPPED"));
    assert_true(matches(&p.base, "status!=STOPPED"));
    assert_true(matches(&p.base, "status~=^(RUNNING|PAUSED)$"));
    assert_true(matches(&p.base, "status"));
    assert_true(matches(&p.base, "pid==4242,container_id==web"));
    assert_true(matches(&p.base, "exit_status==0"));
    assert_false(matches(&p.base, "exit_status"));
    assert_false(matches(&p.base, "io"));

    p.status = BERTH__SUPERVISOR__V1__STATUS__UNKNOWN;
    assert_true(matches(&p.base, "status==UNKNOWN"));
    assert_false(matches(&p.base, "status"));
    p.status = 77; /* not a value of the enum: its number */
    assert_true(matches(&p.base, "status==77"));
}

static void
test_berth_filter_match_alternatives(void **state)
{
    struct sample s;
    const char *any[] = {"id==db", "id==web,image~=^busy"};
    const char *none[] = {"id==db", "id==web,image==nginx"};
    const char *conj[] = {"id==web,labels.env==prod,runtime.name~=ocirun"};

    sample_init(&s);
    assert_true(matches_v(&s.c.base, NULL, any, ARRAY_SIZE(any)));
    assert_false(matches_v(&s.c.base, NULL, none, ARRAY_SIZE(none)));
    assert_true(matches_v(&s.c.base, NULL, conj, ARRAY_SIZE(conj)));
    assert_true(matches_v(&s.c.base, NULL, any + 1, 1));
    assert_false(matches_v(&s.c.base, NULL, any, 1));
}

static void
test_berth_filter_match_repeated(void **state)
{
    Berth__Supervisor__V1__ListPidsResponse r;
    Berth__Supervisor__V1__ProcessInfo pi[2];
    Berth__Supervisor__V1__ProcessInfo *pp[2] = {&pi[0], &pi[1]};

    berth__supervisor__v1__list_pids_response__init(&r);
    assert_false(matches(&r.base, "processes"));
    assert_false(matches(&r.base, "processes.pid!=1"));
    for (size_t i = 0; i < 2; i++)
        berth__supervisor__v1__process_info__init(&pi[i]);
    pi[0].pid = 1;
    pi[1].pid = 7;
    pi[1].exec_id = "sh";
    r.processes = pp;
    r.n_processes = 2;
    assert_true(matches(&r.base, "processes"));
    assert_true(matches(&r.base, "processes.pid==7"));
    assert_true(matches(&r.base, "processes.exec_id==sh"));
    assert_false(matches(&r.base, "processes.pid==3"));
    assert_false(matches(&r.base, "processes.pid!=1")); /* one of them is 1 */
}

/* ---- match: events ------------------------------------------------------------------------ */

static const ProtobufCMessageDescriptor *
resolve(const char *type_name)
{
    if (strcmp(type_name, "berth.supervisor.v1.TaskExit") == 0)
        return &berth__supervisor__v1__task_exit__descriptor;
    return NULL;
}

static void
test_berth_filter_match_event(void **state)
{
    Berth__Supervisor__V1__TaskExit te;
    Berth__Supervisor__V1__Envelope env;
    const char *f_id[] = {"event.container_id==web"};
    const char *f_topic[] = {"topic==/tasks/exit,event.exit_status==137,event.pid"};
    const char *f_other[] = {"event.container_id==db"};
    const char *f_unknown[] = {"event.no_such_field"};
    const char *f_bytes[] = {"event"};

    berth__supervisor__v1__task_exit__init(&te);
    te.container_id = "web";
    te.id = "web";
    te.pid = 4242;
    te.exit_status = 137;
    berth__supervisor__v1__envelope__init(&env);
    env.namespace_ = "default";
    env.topic = "/tasks/exit";
    env.type = "berth.supervisor.v1.TaskExit";
    env.event.len = protobuf_c_message_get_packed_size(&te.base);
    env.event.data = xmalloc(env.event.len);
    protobuf_c_message_pack(&te.base, env.event.data);

    assert_true(matches_v(&env.base, resolve, f_id, 1));
    assert_true(matches_v(&env.base, resolve, f_topic, 1));
    assert_false(matches_v(&env.base, resolve, f_other, 1));
    assert_false(matches_v(&env.base, resolve, f_unknown, 1));
    assert_true(matches_v(&env.base, resolve, f_bytes, 1)); /* the bytes field itself */
    /* No resolver, or one that does not know the type: event.* never matches. */
    assert_false(matches_v(&env.base, NULL, f_id, 1));
    env.type = "berth.supervisor.v1.Unknown";
    assert_false(matches_v(&env.base, resolve, f_id, 1));

    /* Bytes that do not decode match nothing (and leak nothing under ASan). */
    env.type = "berth.supervisor.v1.TaskExit";
    free(env.event.data);
    env.event.data = (uint8_t *)xstrdup("\x0a\x7f");
    env.event.len = 2;
    assert_false(matches_v(&env.base, resolve, f_id, 1));
    free(env.event.data);
}

int
main(void)
{
#define T(f) cmocka_unit_test(f)
    const struct CMUnitTest tests[] = {
        T(test_berth_filter_parse_no_filters_match_all),
        T(test_berth_filter_parse_syntax_errors),
        T(test_berth_filter_parse_error_names_the_bad_filter),
        T(test_berth_filter_parse_whitespace),
        T(test_berth_filter_match_equal),
        T(test_berth_filter_match_not_equal),
        T(test_berth_filter_match_regexp),
        T(test_berth_filter_match_presence),
        T(test_berth_filter_match_labels),
        T(test_berth_filter_match_quoted),
        T(test_berth_filter_match_nested),
        T(test_berth_filter_match_enum),
        T(test_berth_filter_match_alternatives),
        T(test_berth_filter_match_repeated),
        T(test_berth_filter_match_event),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
