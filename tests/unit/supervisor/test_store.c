/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/store on real SQLite files in a temporary directory: namespaces
 * and containers through create, get, list, update (with and without masks) and delete;
 * the errors and their messages; labels, extensions and runtime options round trips;
 * data surviving a reopen; schema migrations from an empty file and from version 1; and
 * failed mutations leaving nothing behind. Every message the store returns is freed with
 * protobuf_c_message_free_unpacked(msg, NULL), so ASan checks that they are built that way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/store/schema.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Container Container;
typedef Berth__Supervisor__V1__Namespace Namespace;

struct fixture {
    char dir[64];
    char *db_path;
    struct sup_store *st;
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

/* r must be -1 with code and, when msg is not NULL, exactly msg. Clears err. */
static void
expect_err(int r, struct berth_err *err, int code, const char *msg)
{
    assert_int_equal(r, -1);
    assert_non_null(err->msg);
    if (err->code != code)
        fail_msg("code %d, not %d: %s", err->code, code, err->msg);
    if (msg)
        assert_string_equal(err->msg, msg);
    berth_err_clear(err);
}

static void
free_msg(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void
open_store(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;

    expect_ok(sup_store_open(f->dir, &f->st, &err), &err);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->db_path = xasprintf("%s/meta.db", f->dir);
    open_store(f);
    *state = f;
    return 0;
}

/* For the migration tests, which make the database file before opening the store. */
static int
setup_no_open(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));

    strcpy(f->dir, "/tmp/berth-test-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->db_path = xasprintf("%s/meta.db", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    sup_store_close(f->st);
    int r = berth_fs_rm_rf(f->dir, &err);
    berth_err_clear(&err);
    free(f->db_path);
    free(f);
    return r;
}

/* Run sql on the database file through a connection of our own; returns the first column
 * of the first row as an integer (0 when there is none). */
static int64_t
raw_sql(struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t v = 0;

    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

/* ---- Inputs ------------------------------------------------------------------------------- */

/* A namespace or container to pass in, in caller-owned storage (nothing to free). */
struct ns_in {
    Namespace ns;
    Berth__Supervisor__V1__Namespace__LabelsEntry l[4];
    Berth__Supervisor__V1__Namespace__LabelsEntry *lp[4];
};

static Namespace *
ns_in(struct ns_in *in, const char *name, const char *const *kv, size_t n_labels)
{
    berth__supervisor__v1__namespace__init(&in->ns);
    in->ns.name = (char *)name;
    for (size_t i = 0; i < n_labels; i++) {
        berth__supervisor__v1__namespace__labels_entry__init(&in->l[i]);
        in->l[i].key = (char *)kv[2 * i];
        in->l[i].value = (char *)kv[2 * i + 1];
        in->lp[i] = &in->l[i];
    }
    in->ns.labels = in->lp;
    in->ns.n_labels = n_labels;
    return &in->ns;
}

struct c_in {
    Container c;
    Berth__Supervisor__V1__Runtime rt;
    Berth__Supervisor__V1__RuntimeOptions opts;
    Berth__Supervisor__V1__Container__LabelsEntry l[4];
    Berth__Supervisor__V1__Container__LabelsEntry *lp[4];
    Berth__Supervisor__V1__Container__ExtensionsEntry x[2];
    Berth__Supervisor__V1__Container__ExtensionsEntry *xp[2];
};

static const char spec_json[] = "{\"ociVersion\":\"1.0.2\"}";
static const uint8_t ext_bytes[] = {0x00, 0x01, 0xff, 0x00, 0x42};

/* A container with every field set: labels {env: prod, tier: web}, extensions
 * {bin: ext_bytes, empty: ""}, runtime io.berth.ocirun.v1 with binary /usr/bin/ocirun and
 * systemd_cgroup. */
static Container *
c_in(struct c_in *in, const char *id)
{
    static const char *const kv[] = {"env", "prod", "tier", "web"};

    memset(in, 0, sizeof(*in));
    berth__supervisor__v1__container__init(&in->c);
    berth__supervisor__v1__runtime__init(&in->rt);
    berth__supervisor__v1__runtime_options__init(&in->opts);
    in->c.id = (char *)id;
    in->c.image = "docker.io/library/busybox:latest";
    in->c.rootfs = "/var/lib/rootfs";
    in->c.snapshotter = "overlay";
    in->c.snapshot_key = "snap-1";
    in->c.spec.data = (uint8_t *)spec_json;
    in->c.spec.len = strlen(spec_json);
    in->rt.name = "io.berth.ocirun.v1";
    in->opts.binary = "/usr/bin/ocirun";
    in->opts.systemd_cgroup = 1;
    in->rt.options = &in->opts;
    in->c.runtime = &in->rt;
    for (size_t i = 0; i < 2; i++) {
        berth__supervisor__v1__container__labels_entry__init(&in->l[i]);
        in->l[i].key = (char *)kv[2 * i];
        in->l[i].value = (char *)kv[2 * i + 1];
        in->lp[i] = &in->l[i];
        berth__supervisor__v1__container__extensions_entry__init(&in->x[i]);
        in->xp[i] = &in->x[i];
    }
    in->c.labels = in->lp;
    in->c.n_labels = 2;
    in->x[0].key = "bin";
    in->x[0].value.data = (uint8_t *)ext_bytes;
    in->x[0].value.len = sizeof(ext_bytes);
    in->x[1].key = "empty";
    in->c.extensions = in->xp;
    in->c.n_extensions = 2;
    return &in->c;
}

/* Add a label to an input container. */
static void
c_in_label(struct c_in *in, const char *key, const char *value)
{
    size_t i = in->c.n_labels++;

    assert_true(i < ARRAY_SIZE(in->l));
    berth__supervisor__v1__container__labels_entry__init(&in->l[i]);
    in->l[i].key = (char *)key;
    in->l[i].value = (char *)value;
    in->lp[i] = &in->l[i];
}

static Container *
create_c(struct fixture *f, const char *ns, const char *id)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct c_in in;
    Container *out = NULL;

    expect_ok(sup_store_container_create(f->st, ns, true, c_in(&in, id), &out, &err), &err);
    return out;
}

/* Labels of a namespace or container as "k=v,k=v" (entries have the same layout). */
static char *
labels_str(Berth__Supervisor__V1__Container__LabelsEntry *const *l, size_t n)
{
    char *s = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        char *next = xasprintf("%s%s%s=%s", s, i ? "," : "", l[i]->key, l[i]->value);
        free(s);
        s = next;
    }
    return s;
}

static char *
ns_labels_str(const Namespace *ns)
{
    return labels_str((Berth__Supervisor__V1__Container__LabelsEntry *const *)ns->labels,
                      ns->n_labels);
}

static char *
c_labels_str(const Container *c)
{
    return labels_str(c->labels, c->n_labels);
}

/* ---- open, names -------------------------------------------------------------------------- */

static void
test_sup_store_open_fresh(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Namespace *ns = NULL;

    assert_int_equal(sup_store_schema_version(f->st), sup_store_schema_latest());
    assert_int_equal(sup_store_schema_latest(), 4);
    expect_ok(sup_store_namespace_get(f->st, "default", &ns, &err), &err);
    assert_string_equal(ns->name, "default");
    assert_int_equal(ns->n_labels, 0);
    free_msg(ns);
    /* WAL mode is a property of the file: our own connection sees it. */
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    assert_int_equal(access(f->db_path, R_OK), 0);
}

static void
test_sup_store_open_missing_root(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_store *st = NULL;
    cleanup_free char *missing = xasprintf("%s/missing", f->dir);

    expect_err(sup_store_open(missing, &st, &err), &err, ENOENT, NULL);
    assert_null(st);
    expect_err(sup_store_open(f->db_path, &st, &err), &err, ENOTDIR, NULL);
}

static void
test_sup_store_open_reopen_keeps_data(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    static const char *const kv[] = {"team", "infra"};
    struct ns_in nsi;
    Namespace *ns = NULL;
    Container *made = create_c(f, "web", "c1");
    Container *c = NULL;

    expect_ok(sup_store_namespace_create(f->st, ns_in(&nsi, "other", kv, 1), &ns, &err), &err);
    free_msg(ns);
    sup_store_close(f->st);
    f->st = NULL;

    open_store(f);
    expect_ok(sup_store_container_get(f->st, "web", "c1", &c, &err), &err);
    assert_string_equal(c->image, made->image);
    assert_int_equal(c->created_at, made->created_at);
    assert_int_equal(c->n_labels, 2);
    assert_int_equal(c->n_extensions, 2);
    free_msg(c);
    free_msg(made);
    expect_ok(sup_store_namespace_get(f->st, "other", &ns, &err), &err);
    cleanup_free char *labels = ns_labels_str(ns);
    assert_string_equal(labels, "team=infra");
    free_msg(ns);
}

static void
test_sup_store_check_name_table(void **state)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"a", true},
        {"default", true},
        {"A0_.-z", true},
        {"0abc", true},
        {"x1234567890123456789012345678901234567890123456789012345678901234567890123456"
         "7890",
         false},
        {"", false},
        {"-a", false},
        {".a", false},
        {"_a", false},
        {"a/b", false},
        {"a b", false},
        {"..", false},
        {"é", false},
    };
    char longest[77];

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        int r = sup_store_check_name("container", cases[i].name, &err);
        if (cases[i].ok)
            expect_ok(r, &err);
        else
            expect_err(r, &err, EINVAL, NULL);
    }
    memset(longest, 'a', 76);
    longest[76] = '\0';
    assert_int_equal(sup_store_check_name("container", longest, NULL), 0);

    struct berth_err err = BERTH_ERR_INIT;
    expect_err(sup_store_check_name("container", "a/b", &err), &err, EINVAL,
               "container name `a/b` is not valid: it must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
    expect_err(sup_store_check_name("namespace", "", &err), &err, EINVAL,
               "namespace name is empty");
    expect_err(sup_store_check_name("namespace", NULL, &err), &err, EINVAL,
               "namespace name is empty");
}

/* ---- namespaces --------------------------------------------------------------------------- */

static void
test_sup_store_namespace_create_get_list(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    static const char *const kv[] = {"b", "2", "a", "1", "a", "3"};
    struct ns_in in;
    Namespace *ns = NULL, **list = NULL;
    size_t n = 0;

    expect_ok(sup_store_namespace_create(f->st, ns_in(&in, "zeta", kv, 3), &ns, &err), &err);
    assert_string_equal(ns->name, "zeta");
    cleanup_free char *labels = ns_labels_str(ns);
    assert_string_equal(labels, "a=3,b=2"); /* sorted; the last "a" wins */
    free_msg(ns);
    expect_ok(sup_store_namespace_create(f->st, ns_in(&in, "alpha", NULL, 0), &ns, &err), &err);
    free_msg(ns);

    expect_ok(sup_store_namespace_get(f->st, "zeta", &ns, &err), &err);
    assert_int_equal(ns->n_labels, 2);
    free_msg(ns);
    expect_err(sup_store_namespace_get(f->st, "nope", &ns, &err), &err, ENOENT,
               "namespace `nope` not found");

    expect_ok(sup_store_namespace_list(f->st, &list, &n, &err), &err);
    assert_int_equal(n, 3);
    assert_string_equal(list[0]->name, "alpha");
    assert_string_equal(list[1]->name, "default");
    assert_string_equal(list[2]->name, "zeta");
    assert_int_equal(list[2]->n_labels, 2);
    for (size_t i = 0; i < n; i++)
        free_msg(list[i]);
    free(list);
}

static void
test_sup_store_namespace_create_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    static const char *const bad_label[] = {"ok", "1", "", "x"};
    struct ns_in in;
    Namespace *ns = NULL;

    expect_err(sup_store_namespace_create(f->st, ns_in(&in, "default", NULL, 0), &ns, &err), &err,
               EEXIST, "namespace `default` already exists");
    expect_err(sup_store_namespace_create(f->st, ns_in(&in, "a/b", NULL, 0), &ns, &err), &err,
               EINVAL, NULL);
    /* A bad label is found after the row went in: the row goes too. */
    expect_err(sup_store_namespace_create(f->st, ns_in(&in, "half", bad_label, 2), &ns, &err), &err,
               EINVAL, "create namespace `half`: label key is empty");
    assert_int_equal(sup_store_namespace_exists(f->st, "half", &err), 0);
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM namespace_labels"), 0);
    assert_null(ns);
}

static void
test_sup_store_namespace_update_masks(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    static const char *const start[] = {"a", "1", "b", "2", "c", "3"};
    static const char *const change[] = {"a", "10", "d", "4"};
    struct ns_in in;
    Namespace *ns = NULL;

    expect_ok(sup_store_namespace_create(f->st, ns_in(&in, "work", start, 3), &ns, &err), &err);
    free_msg(ns);

    /* labels.KEY: set a, delete b (absent from the message), add d; c stays. */
    char *mask1[] = {"labels.a", "labels.b", "labels.d"};
    expect_ok(sup_store_namespace_update(f->st, ns_in(&in, "work", change, 2), mask1, 3, &ns, &err),
              &err);
    char *s = ns_labels_str(ns);
    assert_string_equal(s, "a=10,c=3,d=4");
    free(s);
    free_msg(ns);

    /* An empty value deletes too. */
    static const char *const empty_c[] = {"c", ""};
    char *mask2[] = {"labels.c"};
    expect_ok(
        sup_store_namespace_update(f->st, ns_in(&in, "work", empty_c, 1), mask2, 1, &ns, &err),
        &err);
    s = ns_labels_str(ns);
    assert_string_equal(s, "a=10,d=4");
    free(s);
    free_msg(ns);

    /* No mask, or "labels": replace them all. */
    static const char *const only_z[] = {"z", "26"};
    expect_ok(sup_store_namespace_update(f->st, ns_in(&in, "work", only_z, 1), NULL, 0, &ns, &err),
              &err);
    s = ns_labels_str(ns);
    assert_string_equal(s, "z=26");
    free(s);
    free_msg(ns);
    char *mask3[] = {"labels"};
    expect_ok(sup_store_namespace_update(f->st, ns_in(&in, "work", NULL, 0), mask3, 1, &ns, &err),
              &err);
    assert_int_equal(ns->n_labels, 0);
    free_msg(ns);
    ns = NULL;

    char *bad[] = {"labels.a", "name"};
    expect_err(sup_store_namespace_update(f->st, ns_in(&in, "work", NULL, 0), bad, 2, &ns, &err),
               &err, EINVAL,
               "update namespace `work`: cannot update `name` (only labels and labels.KEY)");
    char *bad2[] = {"labels."};
    expect_err(sup_store_namespace_update(f->st, ns_in(&in, "work", NULL, 0), bad2, 1, &ns, &err),
               &err, EINVAL, NULL);
    expect_err(sup_store_namespace_update(f->st, ns_in(&in, "gone", NULL, 0), NULL, 0, &ns, &err),
               &err, ENOENT, "namespace `gone` not found");
    assert_null(ns);
}

static void
test_sup_store_namespace_delete_rules(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    static const char *const kv[] = {"k", "v"};
    struct ns_in in;
    Namespace *ns = NULL;

    free_msg(create_c(f, "busy", "c1"));
    free_msg(create_c(f, "busy", "c2"));
    expect_err(sup_store_namespace_delete(f->st, "busy", &err), &err, EBUSY,
               "namespace `busy` is not empty: 2 containers");
    expect_ok(sup_store_container_delete(f->st, "busy", "c1", &err), &err);
    expect_err(sup_store_namespace_delete(f->st, "busy", &err), &err, EBUSY,
               "namespace `busy` is not empty: 1 container");
    expect_ok(sup_store_container_delete(f->st, "busy", "c2", &err), &err);
    expect_ok(sup_store_namespace_delete(f->st, "busy", &err), &err);
    assert_int_equal(sup_store_namespace_exists(f->st, "busy", &err), 0);

    expect_err(sup_store_namespace_delete(f->st, "busy", &err), &err, ENOENT,
               "namespace `busy` not found");
    expect_err(sup_store_namespace_delete(f->st, "default", &err), &err, EBUSY,
               "namespace `default` cannot be deleted");
    expect_err(sup_store_namespace_delete(f->st, "", &err), &err, EINVAL, NULL);

    /* Labels go with the namespace. */
    expect_ok(sup_store_namespace_create(f->st, ns_in(&in, "tmp", kv, 1), &ns, &err), &err);
    free_msg(ns);
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM namespace_labels"), 1);
    expect_ok(sup_store_namespace_delete(f->st, "tmp", &err), &err);
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM namespace_labels"), 0);
}

static void
test_sup_store_namespace_exists_values(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(sup_store_namespace_exists(f->st, "default", &err), 1);
    assert_int_equal(sup_store_namespace_exists(f->st, "other", &err), 0);
    expect_err(sup_store_namespace_exists(f->st, "no/pe", &err), &err, EINVAL, NULL);
}

/* ---- containers --------------------------------------------------------------------------- */

static void
test_sup_store_container_create_round_trip(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct c_in in;
    Container *made = NULL, *got = NULL;
    int64_t before = 0;

    expect_ok(sup_store_container_create(f->st, "default", false, c_in(&in, "web"), &made, &err),
              &err);
    expect_ok(sup_store_container_get(f->st, "default", "web", &got, &err), &err);
    for (Container *c = made; c; c = c == made ? got : NULL) {
        assert_string_equal(c->id, "web");
        assert_string_equal(c->image, "docker.io/library/busybox:latest");
        assert_string_equal(c->rootfs, "/var/lib/rootfs");
        assert_string_equal(c->snapshotter, "overlay");
        assert_string_equal(c->snapshot_key, "snap-1");
        assert_int_equal(c->spec.len, strlen(spec_json));
        assert_memory_equal(c->spec.data, spec_json, c->spec.len);
        assert_non_null(c->runtime);
        assert_string_equal(c->runtime->name, "io.berth.ocirun.v1");
        assert_non_null(c->runtime->options);
        assert_string_equal(c->runtime->options->binary, "/usr/bin/ocirun");
        assert_string_equal(c->runtime->options->root, "");
        assert_true(c->runtime->options->systemd_cgroup);
        cleanup_free char *labels = c_labels_str(c);
        assert_string_equal(labels, "env=prod,tier=web");
        assert_int_equal(c->n_extensions, 2);
        assert_string_equal(c->extensions[0]->key, "bin");
        assert_int_equal(c->extensions[0]->value.len, sizeof(ext_bytes));
        assert_memory_equal(c->extensions[0]->value.data, ext_bytes, sizeof(ext_bytes));
        assert_string_equal(c->extensions[1]->key, "empty");
        assert_int_equal(c->extensions[1]->value.len, 0);
        assert_true(c->created_at > before);
        assert_int_equal(c->updated_at, c->created_at);
    }
    assert_int_equal(got->created_at, made->created_at);

    /* What we got packs, and unpacks to the same bytes: a well-formed message. */
    size_t len = protobuf_c_message_get_packed_size(&got->base);
    cleanup_free uint8_t *buf = xmalloc(len);
    protobuf_c_message_pack(&got->base, buf);
    Container *again = berth__supervisor__v1__container__unpack(NULL, len, buf);
    assert_non_null(again);
    assert_string_equal(again->runtime->options->binary, "/usr/bin/ocirun");
    berth__supervisor__v1__container__free_unpacked(again, NULL);
    free_msg(made);
    free_msg(got);
}

static void
test_sup_store_container_create_runtime_variants(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct c_in in;
    Container *c = NULL;

    /* No runtime at all, no spec, no labels, nothing but an id. */
    Container *bare = c_in(&in, "bare");
    bare->runtime = NULL;
    bare->spec.len = 0;
    bare->spec.data = NULL;
    bare->n_labels = 0;
    bare->n_extensions = 0;
    bare->image = NULL; /* read as "" */
    expect_ok(sup_store_container_create(f->st, "default", false, bare, &c, &err), &err);
    assert_null(c->runtime);
    assert_int_equal(c->spec.len, 0);
    assert_string_equal(c->image, "");
    assert_int_equal(c->n_labels, 0);
    free_msg(c);

    /* A runtime with no options, and one whose options are all defaults. */
    Container *no_opts = c_in(&in, "no-opts");
    in.rt.options = NULL;
    expect_ok(sup_store_container_create(f->st, "default", false, no_opts, &c, &err), &err);
    assert_non_null(c->runtime);
    assert_null(c->runtime->options);
    free_msg(c);

    Container *def = c_in(&in, "default-opts");
    berth__supervisor__v1__runtime_options__init(&in.opts);
    in.rt.name = "";
    expect_ok(sup_store_container_create(f->st, "default", false, def, &c, &err), &err);
    assert_non_null(c->runtime);
    assert_string_equal(c->runtime->name, "");
    assert_non_null(c->runtime->options);
    assert_false(c->runtime->options->systemd_cgroup);
    free_msg(c);
}

static void
test_sup_store_container_create_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct c_in in;
    Container *c = NULL;

    free_msg(create_c(f, "default", "web"));
    expect_err(sup_store_container_create(f->st, "default", false, c_in(&in, "web"), &c, &err),
               &err, EEXIST, "container `web` already exists in namespace `default`");
    /* The same id in another namespace is another container. */
    free_msg(create_c(f, "other", "web"));

    expect_err(sup_store_container_create(f->st, "missing", false, c_in(&in, "web"), &c, &err),
               &err, ENOENT, "namespace `missing` not found");
    assert_int_equal(sup_store_namespace_exists(f->st, "missing", &err), 0);
    expect_err(sup_store_container_create(f->st, "default", false, c_in(&in, "-x"), &c, &err), &err,
               EINVAL, NULL);
    expect_err(sup_store_container_create(f->st, "bad ns", true, c_in(&in, "x"), &c, &err), &err,
               EINVAL, NULL);
    assert_null(c);
}

static void
test_sup_store_container_create_auto_namespace(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Namespace *ns = NULL;

    assert_int_equal(sup_store_namespace_exists(f->st, "fresh", &err), 0);
    free_msg(create_c(f, "fresh", "c1"));
    expect_ok(sup_store_namespace_get(f->st, "fresh", &ns, &err), &err);
    assert_int_equal(ns->n_labels, 0);
    free_msg(ns);
}

/* A label that fails its check is found after the namespace (created for this call) and the
 * container row went in: the rollback takes both away, with the labels before it. */
static void
test_sup_store_container_create_failure_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct c_in in;
    Container *c = NULL;
    cleanup_free char *huge = xmalloc(5000);

    c_in(&in, "c1");
    c_in_label(&in, "", "empty key");
    expect_err(sup_store_container_create(f->st, "fresh", true, &in.c, &c, &err), &err, EINVAL,
               "create container `c1`: label key is empty");
    assert_int_equal(sup_store_namespace_exists(f->st, "fresh", &err), 0);
    expect_err(sup_store_container_get(f->st, "fresh", "c1", &c, &err), &err, ENOENT, NULL);

    memset(huge, 'v', 4999);
    huge[4999] = '\0';
    c_in(&in, "c2");
    c_in_label(&in, "big", huge);
    expect_err(sup_store_container_create(f->st, "default", false, &in.c, &c, &err), &err, EINVAL,
               "create container `c2`: label `big`: key and value are longer than 4096 bytes");
    expect_err(sup_store_container_get(f->st, "default", "c2", &c, &err), &err, ENOENT,
               "container `c2` not found in namespace `default`");

    /* An empty extension key, after the labels went in. */
    c_in(&in, "c3");
    in.x[1].key = "";
    expect_err(sup_store_container_create(f->st, "default", false, &in.c, &c, &err), &err, EINVAL,
               "create container `c3`: extension key is empty");

    assert_int_equal(raw_sql(f, "SELECT count(*) FROM containers"), 0);
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM container_labels"), 0);
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM container_extensions"), 0);
    assert_null(c);
}

static void
test_sup_store_container_list_sorted(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Container **list = NULL;
    size_t n = 99;

    free_msg(create_c(f, "default", "b"));
    free_msg(create_c(f, "default", "a"));
    free_msg(create_c(f, "default", "c"));
    free_msg(create_c(f, "other", "a0"));

    expect_ok(sup_store_container_list(f->st, "default", &list, &n, &err), &err);
    assert_int_equal(n, 3);
    assert_string_equal(list[0]->id, "a");
    assert_string_equal(list[1]->id, "b");
    assert_string_equal(list[2]->id, "c");
    assert_int_equal(list[1]->n_labels, 2);
    assert_int_equal(list[2]->n_extensions, 2);
    for (size_t i = 0; i < n; i++)
        free_msg(list[i]);
    free(list);

    /* A namespace that does not exist holds nothing. */
    list = NULL;
    expect_ok(sup_store_container_list(f->st, "nowhere", &list, &n, &err), &err);
    assert_int_equal(n, 0);
    free(list);
}

static void
test_sup_store_container_update_masks(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Container *made = create_c(f, "default", "web");
    Container *c = NULL;
    struct c_in in;

    /* image only: everything else stays, even though the input differs. */
    Container *up = c_in(&in, "web");
    up->image = "nginx";
    up->rootfs = "/elsewhere";
    up->n_labels = 0;
    char *m_image[] = {"image"};
    expect_ok(sup_store_container_update(f->st, "default", up, m_image, 1, &c, &err), &err);
    assert_string_equal(c->image, "nginx");
    assert_string_equal(c->rootfs, "/var/lib/rootfs");
    assert_int_equal(c->n_labels, 2);
    assert_int_equal(c->created_at, made->created_at);
    assert_true(c->updated_at > made->updated_at);
    free_msg(c);

    /* labels.KEY and extensions.KEY: set one, delete one each. */
    up = c_in(&in, "web");
    in.l[0].value = "dev"; /* env=dev */
    in.l[1].key = "other"; /* no tier in the input: tier goes */
    in.x[0].key = "new";   /* new=ext_bytes */
    char *m_keys[] = {"labels.env", "labels.tier", "extensions.new", "extensions.empty2",
                      "extensions.bin"};
    expect_ok(
        sup_store_container_update(f->st, "default", up, m_keys, ARRAY_SIZE(m_keys), &c, &err),
        &err);
    cleanup_free char *labels = c_labels_str(c);
    assert_string_equal(labels, "env=dev");
    assert_int_equal(c->n_extensions, 2);
    assert_string_equal(c->extensions[0]->key, "empty");
    assert_string_equal(c->extensions[1]->key, "new");
    assert_int_equal(c->extensions[1]->value.len, sizeof(ext_bytes));
    free_msg(c);

    /* rootfs, snapshotter and runtime by name. */
    up = c_in(&in, "web");
    up->rootfs = "/new/rootfs";
    up->snapshotter = "native";
    up->runtime = NULL;
    char *m_more[] = {"rootfs", "snapshotter", "runtime"};
    expect_ok(sup_store_container_update(f->st, "default", up, m_more, 3, &c, &err), &err);
    assert_string_equal(c->rootfs, "/new/rootfs");
    assert_string_equal(c->snapshotter, "native");
    assert_null(c->runtime);
    free_msg(c);

    /* No mask: labels, image, spec, runtime, snapshot_key and extensions; not rootfs nor
     * snapshotter. */
    up = c_in(&in, "web");
    up->image = "redis";
    up->rootfs = "/ignored";
    up->snapshotter = "ignored";
    up->snapshot_key = "snap-2";
    up->spec.data = (uint8_t *)"{}";
    up->spec.len = 2;
    up->n_extensions = 1;
    in.l[1].value = "db";
    expect_ok(sup_store_container_update(f->st, "default", up, NULL, 0, &c, &err), &err);
    assert_string_equal(c->image, "redis");
    assert_string_equal(c->rootfs, "/new/rootfs");
    assert_string_equal(c->snapshotter, "native");
    assert_string_equal(c->snapshot_key, "snap-2");
    assert_int_equal(c->spec.len, 2);
    assert_non_null(c->runtime);
    assert_string_equal(c->runtime->options->binary, "/usr/bin/ocirun");
    free(labels);
    labels = c_labels_str(c);
    assert_string_equal(labels, "env=prod,tier=db");
    assert_int_equal(c->n_extensions, 1);
    assert_string_equal(c->extensions[0]->key, "bin");
    free_msg(c);
    free_msg(made);
}

static void
test_sup_store_container_update_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Container *c = NULL;
    struct c_in in;

    free_msg(create_c(f, "default", "web"));
    char *m_unknown[] = {"image", "colour"};
    expect_err(
        sup_store_container_update(f->st, "default", c_in(&in, "web"), m_unknown, 2, &c, &err),
        &err, EINVAL, "update container `web`: unknown field `colour` in mask");
    char *m_id[] = {"id"};
    expect_err(sup_store_container_update(f->st, "default", c_in(&in, "web"), m_id, 1, &c, &err),
               &err, EINVAL, "update container `web`: `id` cannot be updated");
    char *m_empty_key[] = {"labels."};
    expect_err(
        sup_store_container_update(f->st, "default", c_in(&in, "web"), m_empty_key, 1, &c, &err),
        &err, EINVAL, NULL);
    expect_err(sup_store_container_update(f->st, "default", c_in(&in, "nope"), NULL, 0, &c, &err),
               &err, ENOENT, "container `nope` not found in namespace `default`");
    expect_err(sup_store_container_update(f->st, "other", c_in(&in, "web"), NULL, 0, &c, &err),
               &err, ENOENT, "container `web` not found in namespace `other`");

    /* A bad label after the row was updated: nothing changes. */
    Container *up = c_in(&in, "web");
    up->image = "changed";
    c_in_label(&in, "", "x");
    char *m_both[] = {"image", "labels"};
    expect_err(sup_store_container_update(f->st, "default", up, m_both, 2, &c, &err), &err, EINVAL,
               "update container `web`: label key is empty");
    expect_ok(sup_store_container_get(f->st, "default", "web", &c, &err), &err);
    assert_string_equal(c->image, "docker.io/library/busybox:latest");
    cleanup_free char *labels = c_labels_str(c);
    assert_string_equal(labels, "env=prod,tier=web");
    assert_int_equal(c->updated_at, c->created_at);
    free_msg(c);
}

static void
test_sup_store_container_delete_cascades(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    Container *c = NULL;

    free_msg(create_c(f, "default", "web"));
    free_msg(create_c(f, "default", "db"));
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM container_labels"), 4);
    expect_ok(sup_store_container_delete(f->st, "default", "web", &err), &err);
    expect_err(sup_store_container_get(f->st, "default", "web", &c, &err), &err, ENOENT,
               "container `web` not found in namespace `default`");
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM container_labels"), 2);
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM container_extensions"), 2);
    expect_err(sup_store_container_delete(f->st, "default", "web", &err), &err, ENOENT,
               "container `web` not found in namespace `default`");
    expect_err(sup_store_container_delete(f->st, "default", "", &err), &err, EINVAL, NULL);
    /* The same id may be created again, with nothing left over from before. */
    free_msg(create_c(f, "default", "web"));
    assert_int_equal(raw_sql(f, "SELECT count(*) FROM container_labels"), 4);
}

/* Several threads on one store: the mutex keeps the connection to one at a time. */
struct worker {
    struct sup_store *st;
    int n;
    int failures;
};

static void *
work(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 20; i++) {
        struct berth_err err = BERTH_ERR_INIT;
        cleanup_free char *id = xasprintf("t%d-%d", w->n, i);
        struct c_in in;
        Container *c = NULL;
        if (sup_store_container_create(w->st, "threads", true, c_in(&in, id), &c, &err) < 0 ||
            sup_store_container_delete(w->st, "threads", i % 2 ? id : "none", &err) < 0)
            w->failures++;
        berth_err_clear(&err);
        if (c)
            free_msg(c);
    }
    return NULL;
}

static void
test_sup_store_container_create_threads(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    struct worker w[4];
    pthread_t t[4];
    Container **list = NULL;
    size_t n = 0;

    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){f->st, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        /* the deletes of "none" fail: 10 each */
        assert_int_equal(w[i].failures, 10);
    }
    expect_ok(sup_store_container_list(f->st, "threads", &list, &n, &err), &err);
    assert_int_equal(n, 40);
    for (size_t i = 0; i < n; i++)
        free_msg(list[i]);
    free(list);
}

/* ---- schema ------------------------------------------------------------------------------- */

static sqlite3 *
raw_open(struct fixture *f)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static void
test_sup_store_schema_migrate_from_zero(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    sqlite3 *db = raw_open(f);
    int version = -1;

    expect_ok(sup_store_schema_read(db, &version, &err), &err);
    assert_int_equal(version, 0);
    expect_ok(sup_store_schema_migrate(db, sup_store_schema_latest(), &err), &err);
    expect_ok(sup_store_schema_read(db, &version, &err), &err);
    assert_int_equal(version, sup_store_schema_latest());
    /* Again: nothing to do. */
    expect_ok(sup_store_schema_migrate(db, sup_store_schema_latest(), &err), &err);
    expect_ok(sup_store_schema_migrate(db, 1, &err), &err);
    expect_err(sup_store_schema_migrate(db, sup_store_schema_latest() + 1, &err), &err, EINVAL,
               NULL);
    expect_err(sup_store_schema_migrate(db, 0, &err), &err, EINVAL, NULL);
    sqlite3_close(db);

    open_store(f);
    free_msg(create_c(f, "default", "web"));
}

/* A database left at version 1 by an older supervisor, with data: opening it migrates to the
 * latest version and keeps the data. */
static void
test_sup_store_schema_migrate_keeps_data(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    sqlite3 *db = raw_open(f);
    Namespace *ns = NULL;

    expect_ok(sup_store_schema_migrate(db, 1, &err), &err);
    raw_exec(db, "INSERT INTO namespaces VALUES ('old', 1, 1);"
                 "INSERT INTO namespace_labels VALUES ('old', 'since', 'v1')");
    assert_int_equal(sqlite3_exec(db, "SELECT * FROM containers", NULL, NULL, NULL), SQLITE_ERROR);
    sqlite3_close(db);

    open_store(f);
    assert_int_equal(sup_store_schema_version(f->st), sup_store_schema_latest());
    expect_ok(sup_store_namespace_get(f->st, "old", &ns, &err), &err);
    cleanup_free char *labels = ns_labels_str(ns);
    assert_string_equal(labels, "since=v1");
    free_msg(ns);
    free_msg(create_c(f, "old", "web"));
    assert_int_equal(sup_store_namespace_exists(f->st, "default", &err), 1);
}

/* A migration that fails half-way leaves the database at the version before it. */
static void
test_sup_store_schema_migrate_failure_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    sqlite3 *db = raw_open(f);
    struct sup_store *st = NULL;
    int version = -1;

    expect_ok(sup_store_schema_migrate(db, 1, &err), &err);
    /* In the way of the third table migration 2 creates. */
    raw_exec(db, "CREATE TABLE container_extensions (x)");
    expect_err(sup_store_schema_migrate(db, 2, &err), &err, EIO,
               "migrate schema to version 2 (containers): table container_extensions already "
               "exists");
    expect_ok(sup_store_schema_read(db, &version, &err), &err);
    assert_int_equal(version, 1);
    assert_int_equal(sqlite3_exec(db, "SELECT * FROM containers", NULL, NULL, NULL), SQLITE_ERROR);
    assert_int_equal(sqlite3_exec(db, "SELECT * FROM namespaces", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    expect_err(sup_store_open(f->dir, &st, &err), &err, EIO, NULL);
    assert_null(st);
}

static void
test_sup_store_schema_migrate_newer_refused(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    sqlite3 *db = raw_open(f);
    struct sup_store *st = NULL;

    raw_exec(db, "PRAGMA user_version = 99");
    sqlite3_close(db);
    expect_err(sup_store_open(f->dir, &st, &err), &err, ENOTSUP, NULL);
    assert_null(st);

    db = raw_open(f);
    raw_exec(db, "PRAGMA user_version = 99");
    expect_err(sup_store_schema_migrate(db, 2, &err), &err, ENOTSUP,
               "schema version 99 is newer than this supervisor's 4");
    sqlite3_close(db);
}

int
main(void)
{
#define T(f)  cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TN(f) cmocka_unit_test_setup_teardown(f, setup_no_open, teardown)
    const struct CMUnitTest tests[] = {
        T(test_sup_store_open_fresh),
        T(test_sup_store_open_missing_root),
        T(test_sup_store_open_reopen_keeps_data),
        T(test_sup_store_check_name_table),
        T(test_sup_store_namespace_create_get_list),
        T(test_sup_store_namespace_create_errors),
        T(test_sup_store_namespace_update_masks),
        T(test_sup_store_namespace_delete_rules),
        T(test_sup_store_namespace_exists_values),
        T(test_sup_store_container_create_round_trip),
        T(test_sup_store_container_create_runtime_variants),
        T(test_sup_store_container_create_errors),
        T(test_sup_store_container_create_auto_namespace),
        T(test_sup_store_container_create_failure_leaves_nothing),
        T(test_sup_store_container_list_sorted),
        T(test_sup_store_container_update_masks),
        T(test_sup_store_container_update_errors),
        T(test_sup_store_container_delete_cascades),
        T(test_sup_store_container_create_threads),
        TN(test_sup_store_schema_migrate_from_zero),
        TN(test_sup_store_schema_migrate_keeps_data),
        TN(test_sup_store_schema_migrate_failure_rolls_back),
        TN(test_sup_store_schema_migrate_newer_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
