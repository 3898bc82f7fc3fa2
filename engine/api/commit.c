/* SPDX-License-Identifier: Apache-2.0
 *
 * POST /commit: a new image from a container's changes (docker commit).
 *
 * The image is the container's image plus one layer, the container's writable layer
 * (engine/containers/layer.c), with a config that is the base image's config with that layer
 * added to rootfs.diff_ids and history, and the container config docker makes: the request's
 * Config with the `changes` (Dockerfile instructions) applied, merged over the container's
 * own config, merged over the image's.
 *
 * The supervisor writes blobs only through its imports (content.proto): the new image goes
 * in as an OCI image layout tarball (oci-layout, index.json, blobs/) made in the state dir,
 * holding the new config, manifest and layer and the base image's layers (an import checks
 * that every blob of a manifest came with it). The import verifies every digest, unpacks the
 * new layer into a snapshot and creates the image record in one call, so a failure leaves no
 * record; blobs it stored are the collector's.
 *
 * An image without a name (no repo) is recorded as `berth-dangling@<manifest digest>`: a name
 * that is no tag, so docker clients see an image without RepoTags, as dockerd's are.
 */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/reference.h"
#include "common/rpc.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/containers/containers.h"
#include "engine/containers/internal.h"
#include "engine/containers/layer.h"
#include "engine/daemon.h"
#include "engine/images/image.h"
#include "engine/supervisor/client.h"

#define IMAGES  (&berth__supervisor__v1__images__descriptor)
#define CONTENT (&berth__supervisor__v1__content__descriptor)

#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Manifests and indexes are small; registries refuse them past 4 MiB. */
#define MANIFEST_MAX (4 * 1024 * 1024)

/* Whether v is absent, null, or an empty string, array or object (Go's zero values). */
static bool
empty(struct json_object *v)
{
    if (!v)
        return true;
    switch (json_object_get_type(v)) {
    case json_type_null: return true;
    case json_type_string: return json_object_get_string_len(v) == 0;
    case json_type_array: return json_object_array_length(v) == 0;
    case json_type_object: return json_object_object_length(v) == 0;
    default: return false;
    }
}

static void
set(struct json_object *o, const char *key, struct json_object *v)
{
    json_object_object_add(o, key, v);
}

/* ---------------------------------------------------------------- changes */

/* The words of s as a shell splits them for Dockerfile's ENV and LABEL: blanks separate,
 * quotes group (and go), a backslash escapes the next character. NULL-terminated, heap. */
static char **
split_words(const char *s, struct berth_err *err)
{
    char **v = xzalloc(sizeof(*v));
    size_t n = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        char *w = xzalloc(strlen(s) + 1);
        size_t k = 0;
        char quote = 0;
        for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
            if (quote && *s == quote) {
                quote = 0;
            } else if (!quote && (*s == '"' || *s == '\'')) {
                quote = *s;
            } else if (*s == '\\' && s[1] && quote != '\'') {
                w[k++] = *++s;
            } else {
                w[k++] = *s;
            }
        }
        if (quote) {
            free(w);
            for (size_t i = 0; i < n; i++)
                free(v[i]);
            free(v);
            berth_err_fail(err, EINVAL, "unmatched %c quote", quote);
            return NULL;
        }
        v = xrealloc(v, (n + 2) * sizeof(*v));
        v[n++] = w;
        v[n] = NULL;
    }
    return v;
}

/* CMD, ENTRYPOINT, VOLUME: a JSON array of strings, else the shell form. */
static struct json_object *
exec_form(const char *args, bool shell)
{
    if (args[0] == '[') {
        struct json_object *a = json_tokener_parse(args);
        bool ok = json_object_is_type(a, json_type_array);
        for (size_t i = 0; ok && i < json_object_array_length(a); i++)
            ok = json_object_is_type(json_object_array_get_idx(a, i), json_type_string);
        if (ok)
            return a;
        if (a)
            json_object_put(a);
    }
    struct json_object *a = json_object_new_array();
    if (shell) {
        json_object_array_add(a, json_object_new_string("/bin/sh"));
        json_object_array_add(a, json_object_new_string("-c"));
        json_object_array_add(a, json_object_new_string(args));
    } else {
        cleanup_err struct berth_err ignored = BERTH_ERR_INIT;
        cleanup_strv char **w = split_words(args, &ignored);
        for (char **p = w; p && *p; p++)
            json_object_array_add(a, json_object_new_string(*p));
    }
    return a;
}

static void
env_set(struct json_object *cfg, const char *key, const char *value)
{
    struct json_object *env = berth_json_member(cfg, "Env");
    if (!json_object_is_type(env, json_type_array)) {
        env = json_object_new_array();
        set(cfg, "Env", env);
    }
    cleanup_free char *kv = xasprintf("%s=%s", key, value);
    size_t klen = strlen(key);
    for (size_t i = 0; i < json_object_array_length(env); i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(env, i));
        if (e && strncmp(e, key, klen) == 0 && (e[klen] == '=' || e[klen] == '\0')) {
            json_object_array_put_idx(env, i, json_object_new_string(kv));
            return;
        }
    }
    json_object_array_add(env, json_object_new_string(kv));
}

static struct json_object *
object_of(struct json_object *cfg, const char *key)
{
    struct json_object *o = berth_json_member(cfg, key);
    if (!json_object_is_type(o, json_type_object)) {
        o = json_object_new_object();
        set(cfg, key, o);
    }
    return o;
}

/* ENV and LABEL: key=value words (ENV also takes the old `ENV key value...`). */
static int
key_values(struct json_object *cfg, const char *ins, const char *args, struct berth_err *err)
{
    bool env = strcmp(ins, "ENV") == 0;
    cleanup_strv char **w = split_words(args, err);
    if (!w)
        return berth_err_wrap(err, "%s %s", ins, args);
    if (env && w[0] && !strchr(w[0], '=')) {
        const char *rest = args;
        while (*rest && !isspace((unsigned char)*rest))
            rest++;
        while (isspace((unsigned char)*rest))
            rest++;
        if (!*rest)
            return berth_err_fail(err, EINVAL, "ENV must have two arguments");
        env_set(cfg, w[0], rest);
        return 0;
    }
    for (char **p = w; *p; p++) {
        char *eq = strchr(*p, '=');
        if (!eq || eq == *p)
            return berth_err_fail(err, EINVAL, "%s names can not be blank: `%s` is not key=value",
                                  ins, *p);
        *eq = '\0';
        if (env)
            env_set(cfg, *p, eq + 1);
        else
            set(object_of(cfg, "Labels"), *p, json_object_new_string(eq + 1));
    }
    return 0;
}

static int
parse_port(const char *s, long *out)
{
    char *end;
    errno = 0;
    long p = strtol(s, &end, 10);
    if (errno || end == s || *end || p < 0 || p > 65535)
        return -1;
    *out = p;
    return 0;
}

/* EXPOSE 80 8080/udp 9000-9001/tcp */
static int
expose(struct json_object *cfg, const char *args, struct berth_err *err)
{
    cleanup_strv char **w = split_words(args, err);
    if (!w)
        return -1;
    struct json_object *ports = object_of(cfg, "ExposedPorts");
    for (char **p = w; *p; p++) {
        cleanup_free char *port = xstrdup(*p);
        char *slash = strchr(port, '/');
        const char *proto = "tcp";
        if (slash) {
            *slash = '\0';
            for (char *c = slash + 1; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            proto = slash + 1;
        }
        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
            return berth_err_fail(err, EINVAL, "invalid proto: %s", proto);
        long lo, hi;
        char *dash = strchr(port, '-');
        if (dash)
            *dash = '\0';
        if (parse_port(port, &lo) < 0 || (dash && parse_port(dash + 1, &hi) < 0) ||
            (dash && hi < lo))
            return berth_err_fail(err, EINVAL, "invalid containerPort: %s", *p);
        if (!dash)
            hi = lo;
        for (long n = lo; n <= hi; n++) {
            cleanup_free char *key = xasprintf("%ld/%s", n, proto);
            set(ports, key, json_object_new_object());
        }
    }
    return 0;
}

static int
workdir(struct json_object *cfg, const char *args)
{
    const char *cur = berth_json_member_string(cfg, "WorkingDir");
    cleanup_free char *joined =
        args[0] == '/' ? xstrdup(args) : xasprintf("%s/%s", cur && *cur ? cur : "", args);
    cleanup_free char *clean = berth_fs_clean(joined);
    set(cfg, "WorkingDir", json_object_new_string(clean));
    return 0;
}

/* Apply one instruction line to cfg. *cmd_set: a CMD came, so a later ENTRYPOINT keeps it
 * (Dockerfile's rule: ENTRYPOINT resets CMD unless CMD is given with it). */
static int
apply_line(struct json_object *cfg, const char *line, bool *cmd_set, struct berth_err *err)
{
    while (isspace((unsigned char)*line))
        line++;
    if (!*line || *line == '#')
        return 0;
    size_t n = strcspn(line, " \t");
    char ins[16] = "";
    if (n >= sizeof(ins))
        return berth_err_fail(err, EINVAL, "unknown instruction: %.*s", (int)n, line);
    for (size_t i = 0; i < n; i++)
        ins[i] = (char)toupper((unsigned char)line[i]);
    cleanup_free char *args = xstrdup(line + n + strspn(line + n, " \t"));
    for (size_t k = strlen(args); k > 0 && isspace((unsigned char)args[k - 1]); k--)
        args[k - 1] = '\0';

    static const char *const refused[] = {"ADD",        "ARG", "COPY",        "FROM",
                                          "MAINTAINER", "RUN", "HEALTHCHECK", "SHELL"};
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        if (strcmp(ins, refused[i]) == 0)
            return berth_err_fail(err, EINVAL, "%s is not a valid change command", ins);
    bool known = strcmp(ins, "CMD") == 0 || strcmp(ins, "ENTRYPOINT") == 0 ||
                 strcmp(ins, "ENV") == 0 || strcmp(ins, "LABEL") == 0 ||
                 strcmp(ins, "EXPOSE") == 0 || strcmp(ins, "WORKDIR") == 0 ||
                 strcmp(ins, "USER") == 0 || strcmp(ins, "VOLUME") == 0 ||
                 strcmp(ins, "STOPSIGNAL") == 0 || strcmp(ins, "ONBUILD") == 0;
    if (!known)
        return berth_err_fail(err, EINVAL, "unknown instruction: %s", ins);
    if (!*args)
        return berth_err_fail(err, EINVAL, "%s requires at least one argument", ins);

    if (strcmp(ins, "CMD") == 0) {
        set(cfg, "Cmd", exec_form(args, true));
        *cmd_set = true;
    } else if (strcmp(ins, "ENTRYPOINT") == 0) {
        set(cfg, "Entrypoint", exec_form(args, true));
        if (!*cmd_set)
            set(cfg, "Cmd", NULL);
    } else if (strcmp(ins, "ENV") == 0 || strcmp(ins, "LABEL") == 0) {
        return key_values(cfg, ins, args, err);
    } else if (strcmp(ins, "EXPOSE") == 0) {
        return expose(cfg, args, err);
    } else if (strcmp(ins, "WORKDIR") == 0) {
        return workdir(cfg, args);
    } else if (strcmp(ins, "USER") == 0) {
        set(cfg, "User", json_object_new_string(args));
    } else if (strcmp(ins, "VOLUME") == 0) {
        cleanup_json struct json_object *v = exec_form(args, false);
        struct json_object *vols = object_of(cfg, "Volumes");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            const char *p = json_object_get_string(json_object_array_get_idx(v, i));
            if (!*p)
                return berth_err_fail(err, EINVAL, "VOLUME specified can not be an empty string");
            set(vols, p, json_object_new_object());
        }
    } else if (strcmp(ins, "STOPSIGNAL") == 0) {
        if (eng_signal_parse(args) < 0)
            return berth_err_fail(err, EINVAL, "invalid signal: %s", args);
        set(cfg, "StopSignal", json_object_new_string(args));
    } else { /* ONBUILD */
        struct json_object *ob = berth_json_member(cfg, "OnBuild");
        if (!json_object_is_type(ob, json_type_array)) {
            ob = json_object_new_array();
            set(cfg, "OnBuild", ob);
        }
        json_object_array_add(ob, json_object_new_string(args));
    }
    return 0;
}

/* Every `changes` value (each may hold several lines) applied to cfg, in order. */
static int
apply_changes(struct json_object *cfg, char **changes, struct berth_err *err)
{
    bool cmd_set = false;
    for (char **c = changes; c && *c; c++) {
        cleanup_free char *all = xstrdup(*c);
        char *save = NULL;
        for (char *line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            if (apply_line(cfg, line, &cmd_set, err) < 0)
                return berth_err_wrap(err, "invalid change `%s`", line);
    }
    return 0;
}

/* ---------------------------------------------------------------- merge */

/* What dockerd's commit takes from the config under the new one (from) where the new one
 * (to) has nothing: user, ports, env by name, labels by key, the command, the working dir,
 * volumes, the stop signal and the health check. */
static void
merge(struct json_object *to, struct json_object *from)
{
    if (!json_object_is_type(from, json_type_object))
        return;
    static const char *const scalars[] = {"User", "WorkingDir", "StopSignal"};
    for (size_t i = 0; i < ARRAY_SIZE(scalars); i++)
        if (empty(berth_json_member(to, scalars[i])) && !empty(berth_json_member(from, scalars[i])))
            set(to, scalars[i], json_object_get(berth_json_member(from, scalars[i])));
    static const char *const sets[] = {"ExposedPorts", "Labels", "Volumes"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        struct json_object *f = berth_json_member(from, sets[i]);
        if (!json_object_is_type(f, json_type_object))
            continue;
        struct json_object *t = object_of(to, sets[i]);
        json_object_object_foreach(f, k, v)
        {
            if (!berth_json_member(t, k))
                set(t, k, json_object_get(v));
        }
    }
    struct json_object *fenv = berth_json_member(from, "Env");
    for (size_t i = 0;
         json_object_is_type(fenv, json_type_array) && i < json_object_array_length(fenv); i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(fenv, i));
        if (!e)
            continue;
        size_t klen = strcspn(e, "=");
        struct json_object *tenv = berth_json_member(to, "Env");
        bool found = false;
        for (size_t j = 0; json_object_is_type(tenv, json_type_array) &&
                           j < json_object_array_length(tenv) && !found;
             j++) {
            const char *te = json_object_get_string(json_object_array_get_idx(tenv, j));
            found = te && strncmp(te, e, klen) == 0 && (te[klen] == '=' || te[klen] == '\0');
        }
        if (!found) {
            if (!json_object_is_type(tenv, json_type_array)) {
                tenv = json_object_new_array();
                set(to, "Env", tenv);
            }
            json_object_array_add(tenv, json_object_new_string(e));
        }
    }
    if (empty(berth_json_member(to, "Entrypoint"))) {
        if (empty(berth_json_member(to, "Cmd")) && berth_json_member(from, "Cmd"))
            set(to, "Cmd", json_object_get(berth_json_member(from, "Cmd")));
        if (!berth_json_member(to, "Entrypoint") && berth_json_member(from, "Entrypoint"))
            set(to, "Entrypoint", json_object_get(berth_json_member(from, "Entrypoint")));
    }
    if (empty(berth_json_member(to, "Healthcheck")) &&
        !empty(berth_json_member(from, "Healthcheck")))
        set(to, "Healthcheck", json_object_get(berth_json_member(from, "Healthcheck")));
}

/* ---------------------------------------------------------------- content */

typedef int (*chunk_fn)(void *data, const void *buf, size_t len, struct berth_err *err);

/* Stream a blob of the content store to fn, checking that it has size bytes. */
static int
read_blob(struct eng_daemon *d, const char *digest, int64_t size, chunk_fn fn, void *data,
          struct berth_err *err)
{
    Berth__Supervisor__V1__ReadContentRequest r = BERTH__SUPERVISOR__V1__READ_CONTENT_REQUEST__INIT;
    r.digest = (char *)digest;
    struct berth_rpc_stream *s = eng_sup_stream(d->sup, CONTENT, "Read", &r.base, err);
    if (!s)
        return -1;
    int64_t got = 0;
    ProtobufCMessage *m = NULL;
    int rc;
    while ((rc = berth_rpc_stream_next(s, &m, err)) == 1) {
        Berth__Supervisor__V1__ReadContentResponse *c = (void *)m;
        got += (int64_t)c->data.len;
        if (size >= 0 && got > size)
            rc = berth_err_fail(err, EIO, "blob %s is larger than its %lld bytes", digest,
                                (long long)size);
        else
            rc = fn(data, c->data.data, c->data.len, err);
        protobuf_c_message_free_unpacked(m, NULL);
        if (rc < 0)
            break;
    }
    eng_sup_stream_close(d->sup, s);
    if (rc < 0)
        return berth_err_wrap(err, "read %s", digest);
    if (size >= 0 && got != size)
        return berth_err_fail(err, EIO, "read %s: %lld bytes, not %lld", digest, (long long)got,
                              (long long)size);
    return 0;
}

struct membuf {
    char *buf;
    size_t len;
};

static int
to_mem(void *data, const void *buf, size_t len, struct berth_err *err)
{
    struct membuf *m = data;
    if (m->len + len > MANIFEST_MAX)
        return berth_err_fail(err, EFBIG, "larger than a manifest can be");
    m->buf = xrealloc(m->buf, m->len + len + 1);
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    m->buf[m->len] = '\0';
    return 0;
}

static struct json_object *
read_json(struct eng_daemon *d, const char *digest, struct berth_err *err)
{
    struct membuf m = {0};
    if (read_blob(d, digest, -1, to_mem, &m, err) < 0) {
        free(m.buf);
        return NULL;
    }
    struct json_object *o = berth_json_parse(m.buf ? m.buf : "", m.len, err);
    free(m.buf);
    if (!o)
        berth_err_wrap(err, "%s", digest);
    return o;
}

/* The manifest of img for its config's platform (img->target may be an index). */
static struct json_object *
base_manifest(struct eng_daemon *d, const struct eng_image *img, struct berth_err *err)
{
    struct json_object *m = read_json(d, img->target, err);
    struct json_object *list = berth_json_member(m, "manifests");
    if (!json_object_is_type(list, json_type_array))
        return m;
    const char *os = berth_json_member_string(img->config, "os"),
               *arch = berth_json_member_string(img->config, "architecture");
    cleanup_free char *want = NULL;
    for (size_t i = 0; !want && os && arch && i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *eos = berth_json_member_string(berth_json_member(e, "platform"), "os");
        const char *earch =
            berth_json_member_string(berth_json_member(e, "platform"), "architecture");
        if (eos && earch && strcmp(eos, os) == 0 && strcmp(earch, arch) == 0 &&
            berth_json_member_string(e, "digest"))
            want = xstrdup(berth_json_member_string(e, "digest"));
    }
    json_object_put(m);
    if (!want) {
        berth_err_fail(err, ENOENT, "image %s has no manifest for %s/%s", img->id, os ? os : "?",
                       arch ? arch : "?");
        return NULL;
    }
    return read_json(d, want, err);
}

/* ---------------------------------------------------------------- the layout tarball */

static int
tar_add_bytes(struct archive *a, const char *name, const void *buf, size_t len,
              struct berth_err *err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc < ARCHIVE_WARN || (len && archive_write_data(a, buf, len) < 0))
        return berth_err_set(err, archive_errno(a), "write `%s`: %s", name,
                             archive_error_string(a));
    return 0;
}

static int
tar_blob_header(struct archive *a, const char *digest, int64_t size, struct berth_err *err)
{
    cleanup_free char *name = xasprintf("blobs/sha256/%s", digest + 7);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc < ARCHIVE_WARN)
        return berth_err_set(err, archive_errno(a), "write `%s`: %s", name,
                             archive_error_string(a));
    return 0;
}

static int
to_tar(void *data, const void *buf, size_t len, struct berth_err *err)
{
    struct archive *a = data;
    if (archive_write_data(a, buf, len) < 0)
        return berth_err_set(err, archive_errno(a), "write the image tarball: %s",
                             archive_error_string(a));
    return 0;
}

static int
tar_add_fd(struct archive *a, const char *digest, int fd, int64_t size, struct berth_err *err)
{
    if (tar_blob_header(a, digest, size, err) < 0)
        return -1;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return berth_err_set(err, errno, "rewind the layer");
    char buf[64 * 1024];
    int64_t left = size;
    while (left > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berth_err_set(err, n < 0 ? errno : EIO, "read the layer");
        if (to_tar(a, buf, (size_t)n, err) < 0)
            return -1;
        left -= n;
    }
    return 0;
}

static void
archive_freep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

struct new_image {
    const char *name; /* the normalized reference, or NULL */
    struct json_object *base_manifest;
    char *config;
    size_t config_len;
    char config_digest[BERTH_SHA256_HEX_LEN + 8];
    char *manifest;
    size_t manifest_len;
    const char *manifest_type;
    char manifest_digest[BERTH_SHA256_HEX_LEN + 8];
    struct eng_layer_info layer;
    int layer_fd;
};

/* The OCI image layout of img at path: oci-layout, index.json, and every blob. */
static int
write_layout(struct eng_daemon *d, const struct new_image *img, const char *path,
             struct berth_err *err)
{
    __attribute__((cleanup(archive_freep))) struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_filename(a, path) != ARCHIVE_OK)
        return berth_err_set(err, archive_errno(a), "create `%s`: %s", path,
                             archive_error_string(a));
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (tar_add_bytes(a, "oci-layout", layout, strlen(layout), err) < 0)
        return -1;

    cleanup_json struct json_object *index = json_object_new_object();
    set(index, "schemaVersion", json_object_new_int(2));
    set(index, "mediaType", json_object_new_string("application/vnd.oci.image.index.v1+json"));
    struct json_object *desc = json_object_new_object();
    set(desc, "mediaType", json_object_new_string(img->manifest_type));
    set(desc, "digest", json_object_new_string(img->manifest_digest));
    set(desc, "size", json_object_new_int64((int64_t)img->manifest_len));
    if (img->name) {
        struct json_object *ann = json_object_new_object();
        set(ann, "io.containerd.image.name", json_object_new_string(img->name));
        set(desc, "annotations", ann);
    }
    struct json_object *manifests = json_object_new_array();
    json_object_array_add(manifests, desc);
    set(index, "manifests", manifests);
    const char *idx = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    if (tar_add_bytes(a, "index.json", idx, strlen(idx), err) < 0)
        return -1;

    cleanup_free char *mname = xasprintf("blobs/sha256/%s", img->manifest_digest + 7);
    cleanup_free char *cname = xasprintf("blobs/sha256/%s", img->config_digest + 7);
    if (tar_add_bytes(a, mname, img->manifest, img->manifest_len, err) < 0 ||
        tar_add_bytes(a, cname, img->config, img->config_len, err) < 0)
        return -1;
    struct json_object *layers = berth_json_member(img->base_manifest, "layers");
    for (size_t i = 0; i < json_object_array_length(layers); i++) {
        struct json_object *l = json_object_array_get_idx(layers, i);
        const char *digest = berth_json_member_string(l, "digest");
        int64_t size = json_object_get_int64(berth_json_member(l, "size"));
        if (!digest || strncmp(digest, "sha256:", 7) != 0 || size < 0)
            return berth_err_fail(err, EINVAL, "base layer %zu: no sha256 digest and size", i);
        if (strcmp(digest, img->layer.digest) == 0)
            continue; /* the same bytes as the new layer: one entry */
        bool twice = false;
        for (size_t j = 0; j < i && !twice; j++)
            twice = strcmp(berth_json_member_string(json_object_array_get_idx(layers, j), "digest"),
                           digest) == 0;
        if (twice)
            continue;
        if (tar_blob_header(a, digest, size, err) < 0 ||
            read_blob(d, digest, size, to_tar, a, err) < 0)
            return berth_err_wrap(err, "base layer");
    }
    if (tar_add_fd(a, img->layer.digest, img->layer_fd, img->layer.size, err) < 0)
        return -1;
    if (archive_write_close(a) != ARCHIVE_OK)
        return berth_err_set(err, archive_errno(a), "write `%s`: %s", path,
                             archive_error_string(a));
    return 0;
}

/* ---------------------------------------------------------------- documents */

static char *
to_string(struct json_object *o, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    *len = n;
    return xstrndup(s, n);
}

static void
digest_of(const char *buf, size_t len, char out[BERTH_SHA256_HEX_LEN + 8])
{
    char hex[BERTH_SHA256_HEX_LEN + 1];
    berth_sha256_buf(buf, len, hex);
    snprintf(out, BERTH_SHA256_HEX_LEN + 8, "sha256:%s", hex);
}

/* "sh -c echo hi": history's created_by, dockerd's join of the container's command. */
static char *
created_by(struct json_object *cmd)
{
    char *s = xstrdup("");
    for (size_t i = 0;
         json_object_is_type(cmd, json_type_array) && i < json_object_array_length(cmd); i++) {
        char *n = xasprintf("%s%s%s", s, i ? " " : "",
                            json_object_get_string(json_object_array_get_idx(cmd, i)));
        free(s);
        s = n;
    }
    return s;
}

/* The new config: base's, with the layer, a history entry and the merged container config. */
static void
make_config(struct new_image *n, const struct eng_image *base, struct eng_ctr *c,
            struct json_object *config, const char *author, const char *comment)
{
    cleanup_json struct json_object *o = NULL;
    json_object_deep_copy(base->config, &o, NULL);
    cleanup_free char *now = eng_time_rfc3339(ctr_now_ns());
    set(o, "created", json_object_new_string(now));
    set(o, "container", json_object_new_string(c->id));
    set(o, "container_config", json_object_get(c->config));
    set(o, "config", json_object_get(config));
    /* A commit is the author and comment of its own image, not of the base's. */
    json_object_object_del(o, "author");
    json_object_object_del(o, "comment");
    if (author && *author)
        set(o, "author", json_object_new_string(author));
    if (comment && *comment)
        set(o, "comment", json_object_new_string(comment));

    struct json_object *rootfs = object_of(o, "rootfs");
    set(rootfs, "type", json_object_new_string("layers"));
    struct json_object *ids = berth_json_member(rootfs, "diff_ids");
    if (!json_object_is_type(ids, json_type_array)) {
        ids = json_object_new_array();
        set(rootfs, "diff_ids", ids);
    }
    json_object_array_add(ids, json_object_new_string(n->layer.diff_id));

    struct json_object *h = berth_json_member(o, "history");
    if (!json_object_is_type(h, json_type_array)) {
        h = json_object_new_array();
        set(o, "history", h);
    }
    struct json_object *e = json_object_new_object();
    set(e, "created", json_object_new_string(now));
    if (author && *author)
        set(e, "author", json_object_new_string(author));
    cleanup_free char *by =
        created_by(berth_json_member(c->config, "Cmd")
                       ? berth_json_member(c->config, "Cmd")
                       : berth_json_member(berth_json_member(base->config, "config"), "Cmd"));
    set(e, "created_by", json_object_new_string(by));
    if (comment && *comment)
        set(e, "comment", json_object_new_string(comment));
    json_object_array_add(h, e);

    n->config = to_string(o, &n->config_len);
    digest_of(n->config, n->config_len, n->config_digest);
}

/* The manifest: the base's layers and the new one, in the base manifest's kind (docker's
 * schema 2 or OCI), so that a registry takes it as it took the base. */
static void
make_manifest(struct new_image *n)
{
    const char *mt = berth_json_member_string(n->base_manifest, "mediaType");
    bool docker = mt && strcmp(mt, MT_DOCKER_MANIFEST) == 0;
    n->manifest_type = docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST;
    cleanup_json struct json_object *m = json_object_new_object();
    set(m, "schemaVersion", json_object_new_int(2));
    set(m, "mediaType", json_object_new_string(n->manifest_type));
    struct json_object *cfg = json_object_new_object();
    set(cfg, "mediaType", json_object_new_string(docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG));
    set(cfg, "digest", json_object_new_string(n->config_digest));
    set(cfg, "size", json_object_new_int64((int64_t)n->config_len));
    set(m, "config", cfg);
    struct json_object *layers = json_object_new_array();
    struct json_object *base = berth_json_member(n->base_manifest, "layers");
    for (size_t i = 0; i < json_object_array_length(base); i++)
        json_object_array_add(layers, json_object_get(json_object_array_get_idx(base, i)));
    struct json_object *l = json_object_new_object();
    set(l, "mediaType", json_object_new_string(docker ? MT_DOCKER_LAYER : MT_OCI_LAYER));
    set(l, "digest", json_object_new_string(n->layer.digest));
    set(l, "size", json_object_new_int64(n->layer.size));
    json_object_array_add(layers, l);
    set(m, "layers", layers);
    n->manifest = to_string(m, &n->manifest_len);
    digest_of(n->manifest, n->manifest_len, n->manifest_digest);
}

/* ---------------------------------------------------------------- the handler */

/* The name to record (normalized), NULL for none; EINVAL for a bad repo or tag. */
static int
image_name(const char *repo, const char *tag, char **out, struct berth_err *err)
{
    *out = NULL;
    if (!repo || !*repo) {
        if (tag && *tag)
            return berth_err_fail(err, EINVAL, "tag `%s` given without a repository", tag);
        return 0;
    }
    if (tag && *tag && berth_ref_check_tag(tag, err) < 0)
        return -1;
    cleanup_free char *want = xasprintf("%s%s%s", repo, tag && *tag ? ":" : "", tag ? tag : "");
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(want, &ref, err) < 0)
        return -1;
    if (ref.digest)
        return berth_err_fail(err, EINVAL, "refusing to create a tag with a digest reference");
    *out = berth_ref_string(&ref);
    return 0;
}

/* The fields of a Config that commit reads or merges have the types docker's decoder
 * wants (a string Cmd or Entrypoint becomes a one-word array, as Go's strslice reads it). */
static int
check_config(struct json_object *cfg, struct berth_err *err)
{
    static const char *const strings[] = {"User",     "WorkingDir", "StopSignal",
                                          "Hostname", "Domainname", "Image"};
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
        struct json_object *v = berth_json_member(cfg, strings[i]);
        if (v && !json_object_is_type(v, json_type_null) &&
            !json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "Config.%s: expected string, got %s", strings[i],
                                  berth_json_type_name(v));
    }
    static const char *const lists[] = {"Cmd", "Entrypoint", "Env", "OnBuild"};
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        struct json_object *v = berth_json_member(cfg, lists[i]);
        if (!v || json_object_is_type(v, json_type_null))
            continue;
        if (i < 2 && json_object_is_type(v, json_type_string)) {
            struct json_object *a = json_object_new_array();
            json_object_array_add(a, json_object_get(v));
            set(cfg, lists[i], a);
            continue;
        }
        if (!json_object_is_type(v, json_type_array))
            return berth_err_fail(err, EINVAL, "Config.%s: expected array, got %s", lists[i],
                                  berth_json_type_name(v));
        for (size_t k = 0; k < json_object_array_length(v); k++)
            if (!json_object_is_type(json_object_array_get_idx(v, k), json_type_string))
                return berth_err_fail(err, EINVAL, "Config.%s: item %zu: expected string", lists[i],
                                      k);
    }
    static const char *const objects[] = {"Labels", "ExposedPorts", "Volumes", "Healthcheck"};
    for (size_t i = 0; i < ARRAY_SIZE(objects); i++) {
        struct json_object *v = berth_json_member(cfg, objects[i]);
        if (v && !json_object_is_type(v, json_type_null) &&
            !json_object_is_type(v, json_type_object))
            return berth_err_fail(err, EINVAL, "Config.%s: expected object, got %s", objects[i],
                                  berth_json_type_name(v));
    }
    struct json_object *labels = berth_json_member(cfg, "Labels");
    if (!json_object_is_type(labels, json_type_object))
        return 0;
    json_object_object_foreach(labels, k, v)
    {
        if (!json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "Config.Labels.%s: expected string", k);
    }
    return 0;
}

/* The Config of the body: {} for none (an empty body or JSON null, as the docker CLI
 * sends). */
static int
body_config(struct eng_api_req *req, struct json_object **out, struct berth_err *err)
{
    size_t n = req->body_len;
    const char *b = req->body ? req->body : "";
    while (n > 0 && isspace((unsigned char)b[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*b)) {
        b++;
        n--;
    }
    if (n == 0 || (n == 4 && strncmp(b, "null", 4) == 0)) {
        *out = json_object_new_object();
        return 0;
    }
    if (eng_api_body_json(req, out, err) < 0)
        return -1;
    if (!*out)
        *out = json_object_new_object();
    return check_config(*out, err);
}

static void
image_freep(struct eng_image **img)
{
    eng_image_free(*img);
}

static void
new_image_clear(struct new_image *n)
{
    if (n->base_manifest)
        json_object_put(n->base_manifest);
    free(n->config);
    free(n->manifest);
    if (n->layer_fd >= 0)
        close(n->layer_fd);
}

/* The container's layer into n->layer_fd (an unlinked file in the state dir), the container
 * paused meanwhile when it runs and pause says so. */
static int
write_layer(struct eng_daemon *d, struct eng_ctr *c, bool pause, struct new_image *n,
            struct berth_err *err)
{
    cleanup_free char *tmpl = xasprintf("%s/commit-layer-XXXXXX", d->state);
    n->layer_fd = mkostemp(tmpl, O_CLOEXEC);
    if (n->layer_fd < 0)
        return berth_err_set(err, errno, "create `%s`", tmpl);
    unlink(tmpl);

    pthread_mutex_lock(&c->lock);
    bool running = c->status == ENG_CTR_RUNNING;
    pthread_mutex_unlock(&c->lock);
    bool paused = false;
    if (pause && running) {
        if (eng_ctr_pause(d, c, err) < 0)
            return berth_err_wrap(err, "pause container %.12s", c->id);
        paused = true;
    }
    cleanup_free char *upper = NULL;
    char **lowers = NULL;
    size_t n_lowers = 0;
    int rc = eng_ctr_layer_dirs(d, c, &upper, &lowers, &n_lowers, err);
    for (size_t i = 0; i < n_lowers; i++)
        free(lowers[i]);
    free(lowers);
    if (rc == 0)
        rc = eng_layer_write(upper, n->layer_fd, &n->layer, err);
    if (paused) {
        cleanup_err struct berth_err uerr = BERTH_ERR_INIT;
        if (eng_ctr_unpause(d, c, &uerr) < 0) {
            berth_err_wrap(&uerr, "commit: unpause container %.12s", c->id);
            berth_err_warn(&uerr);
        }
    }
    return rc;
}

static int
import_layout(struct eng_daemon *d, const struct new_image *n, const char *path,
              struct berth_err *err)
{
    Berth__Supervisor__V1__ImportImagesRequest ir =
        BERTH__SUPERVISOR__V1__IMPORT_IMAGES_REQUEST__INIT;
    ir.path = (char *)path;
    ir.base_name = n->name ? "" : ENG_IMAGE_DANGLING_REPO;
    cleanup_pb Berth__Supervisor__V1__ImportImagesResponse *resp = NULL;
    if (eng_sup_call(d->sup, IMAGES, "Import", &ir.base, &resp, err) < 0)
        return -1;
    bool made = false;
    for (size_t i = 0; i < resp->n_images; i++)
        made = made || (resp->images[i]->name && *resp->images[i]->name);
    if (!made)
        return berth_err_fail(err, EIO, "the supervisor made no image of the commit");
    return 0;
}

ENG_API_HANDLER(eng_api_commit)
{
    const char *cname = eng_api_query(req, "container");
    const char *repo = eng_api_query(req, "repo");
    const char *tag = eng_api_query(req, "tag");
    const char *comment = eng_api_query(req, "comment");
    const char *author = eng_api_query(req, "author");
    bool pause = true;
    if (eng_api_query(req, "pause") && eng_api_query_bool(req, "pause", &pause, err) < 0)
        return -1;
    if (!cname || !*cname)
        return berth_err_fail(err, EINVAL, "no container given to commit (query `container`)");
    cleanup_free char *name = NULL;
    if (image_name(repo, tag, &name, err) < 0)
        return -1;

    /* Everything the request says is checked before the container is touched. */
    cleanup_json struct json_object *config = NULL;
    if (body_config(req, &config, err) < 0)
        return -1;
    size_t n_changes = 0;
    cleanup_strv char **changes = eng_api_query_all(req, "changes", &n_changes);
    if (apply_changes(config, changes, err) < 0)
        return -1;

    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, cname, err);
    if (!c)
        return -1;
    pthread_mutex_lock(&c->lock);
    bool gone = c->status == ENG_CTR_REMOVING || c->status == ENG_CTR_DEAD;
    pthread_mutex_unlock(&c->lock);
    if (gone)
        return berth_err_fail(err, EBUSY, "container %.12s is being removed or is dead", c->id);

    __attribute__((cleanup(image_freep))) struct eng_image *base = NULL;
    int by_name = 0;
    if (eng_image_resolve(req->d, c->image_id, &base, &by_name, err) < 0)
        return berth_err_wrap(err, "the image of container %.12s", c->id);
    merge(config, c->config);
    merge(config, berth_json_member(base->config, "config"));

    struct new_image n __attribute__((cleanup(new_image_clear))) = {.name = name, .layer_fd = -1};
    n.base_manifest = base_manifest(req->d, base, err);
    if (!n.base_manifest)
        return berth_err_wrap(err, "the manifest of image %s", base->id);
    if (!json_object_is_type(berth_json_member(n.base_manifest, "layers"), json_type_array))
        return berth_err_fail(err, EINVAL, "the manifest of image %s lists no layers", base->id);

    if (write_layer(req->d, c, pause, &n, err) < 0)
        return berth_err_wrap(err, "commit container %.12s", c->id);
    make_config(&n, base, c, config, author, comment);
    make_manifest(&n);

    cleanup_free char *path =
        xasprintf("%s/commit-%.12s-%.12s.tar", req->d->state, c->id, n.config_digest + 7);
    int rc = write_layout(req->d, &n, path, err);
    if (rc == 0)
        rc = import_layout(req->d, &n, path, err);
    if (unlink(path) < 0 && errno != ENOENT)
        berth_warn("commit: remove `%s`: %m", path);
    if (rc < 0)
        return berth_err_wrap(err, "commit container %.12s", c->id);

    berth_info("commit %.12s: %s%s%s", c->id, n.config_digest, name ? " as " : "",
               name ? name : "");
    struct json_object *a = json_object_new_object();
    set(a, "comment", json_object_new_string(comment ? comment : ""));
    set(a, "imageID", json_object_new_string(n.config_digest));
    cleanup_free char *fam = name ? eng_image_familiar(name) : NULL;
    set(a, "imageRef", json_object_new_string(fam ? fam : ""));
    ctr_event(req->d, c, "commit", a);
    struct json_object *o = json_object_new_object();
    set(o, "Id", json_object_new_string(n.config_digest));
    return eng_api_reply_json(req, 201, o);
}
