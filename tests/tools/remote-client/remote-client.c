/* SPDX-License-Identifier: Apache-2.0
 *
 * remote-client: drives the supervisor's registry client (supervisor/remote) from the
 * integration tests (tests/integration/supervisor/21-registry.bats).
 *
 *   remote-client [OPTIONS] resolve REF
 *       Print REF's descriptor as JSON ({"mediaType", "digest", "size"}); for an index, also
 *       the manifest chosen for the platform under "manifest".
 *   remote-client [OPTIONS] fetch REF DIGEST OUT
 *       Download blob DIGEST of REF's repository into OUT.partial, then rename it to OUT once
 *       size and digest are verified. An existing OUT.partial is resumed. On failure neither
 *       file is left.
 *   remote-client [OPTIONS] pull-all REF OUTDIR
 *       Resolve REF, follow an index to the platform's manifest, and download config and
 *       layers at once into an OCI image layout at OUTDIR (blobs/sha256/<hex>, index.json,
 *       oci-layout). Blobs land under their name only when verified; on failure the ".partial"
 *       files are removed. Prints {"manifest", "config", "platform", "layers"} as JSON;
 *       progress goes to stderr.
 *   remote-client [OPTIONS] push DIR REF
 *       Push the OCI image layout DIR (its index.json lists one manifest or index) as REF:
 *       blobs, then manifests (an index's children by digest), the top one under REF's tag.
 *       Prints one line per blob ("DIGEST uploaded|exists|mounted"), then "pushed DIGEST".
 *
 * Options: --insecure-registry HOST (repeatable), --auth-file FILE, --ca-file FILE,
 * --platform OS/ARCH[/VARIANT], --plain-http, --mount-from REPO (push), --debug.
 * Exit status: 0 done, 1 failed (the error on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "supervisor/remote/manifest.h"
#include "supervisor/remote/remote.h"

struct ctx {
    struct sup_remote *r;
    struct sup_remote_platform platform;
    const char *mount_from;
};

typedef int (*cmd_fn)(struct ctx *c, int argc, char **argv, struct berth_err *err);

static void
usage(FILE *out)
{
    fprintf(out, "usage: remote-client [--insecure-registry HOST] [--auth-file FILE] "
                 "[--ca-file FILE]\n"
                 "                     [--platform OS/ARCH[/VARIANT]] [--plain-http] "
                 "[--mount-from REPO] [--debug]\n"
                 "                     resolve REF | fetch REF DIGEST OUT | pull-all REF OUTDIR "
                 "| push DIR REF\n");
}

static void
print_json(struct json_object *o)
{
    puts(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
}

static struct json_object *
desc_json(const struct sup_remote_desc *d)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
    json_object_object_add(o, "digest", json_object_new_string(d->digest));
    json_object_object_add(o, "size", json_object_new_int64(d->size));
    if (d->platform) {
        cleanup_free char *p = sup_remote_platform_format(d->platform);
        json_object_object_add(o, "platform", json_object_new_string(p));
    }
    return o;
}

/* ---- Sinks and sources on files ---------------------------------------------------------- */

static int
fd_write(void *data, const void *buf, size_t len, struct berth_err *err)
{
    int fd = *(int *)data;

    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "write");
        buf = (const char *)buf + n;
        len -= (size_t)n;
    }
    return 0;
}

static ssize_t
fd_read_at(void *data, void *buf, size_t len, int64_t off, struct berth_err *err)
{
    int fd = *(int *)data;
    ssize_t n;

    do
        n = pread(fd, buf, len, off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return berth_err_set(err, errno, "read");
    return n;
}

/* Progress on stderr, a line each time a download or upload passes another quarter. */
struct progress {
    char digest[20];
    int last_quarter;
};

static void
print_progress(void *data, int64_t done, int64_t total)
{
    struct progress *p = data;
    int quarter = total > 0 ? (int)(done * 4 / total) : 4;

    if (quarter > p->last_quarter) {
        p->last_quarter = quarter;
        fprintf(stderr, "%s: %d%% (%" PRId64 "/%" PRId64 ")\n", p->digest,
                total > 0 ? (int)(done * 100 / total) : 100, done, total);
    }
}

static void
progress_init(struct progress *p, const char *digest)
{
    snprintf(p->digest, sizeof(p->digest), "%.19s", digest + strlen("sha256:"));
    p->last_quarter = 0;
}

/* ---- resolve ----------------------------------------------------------------------------- */

/* Pick the platform's entry of an index (fetched and parsed here); *out is a copy. */
static int
choose(struct ctx *c, const struct sup_remote_ref *ref, const struct sup_remote_desc *index_desc,
       char **index_buf, size_t *index_len, struct sup_remote_desc *out, struct berth_err *err)
{
    cleanup_manifest struct sup_remote_manifest *idx = NULL;
    size_t i = 0;

    if (sup_remote_fetch_buf(c->r, ref, index_desc, SUP_REMOTE_MAX_MANIFEST_SIZE, index_buf,
                             index_len, err) < 0 ||
        sup_remote_manifest_parse(*index_buf, *index_len, index_desc->media_type, &idx, err) < 0 ||
        sup_remote_platform_select(idx, &c->platform, &i, err) < 0)
        return -1;
    sup_remote_desc_copy(out, &idx->manifests[i]);
    return 0;
}

static int
cmd_resolve(struct ctx *c, int argc, char **argv, struct berth_err *err)
{
    struct sup_remote_ref ref;
    struct sup_remote_desc d = {0}, chosen = {0};
    cleanup_free char *buf = NULL;
    size_t len = 0;
    int rc = -1;

    if (argc != 1)
        return berth_err_fail(err, EINVAL, "usage: resolve REF");
    if (sup_remote_ref_parse(argv[0], &ref, err) < 0)
        return -1;
    if (sup_remote_resolve(c->r, &ref, &d, err) < 0)
        goto out;
    struct json_object *o = desc_json(&d);
    if (sup_remote_is_index_type(d.media_type)) {
        if (choose(c, &ref, &d, &buf, &len, &chosen, err) < 0) {
            json_object_put(o);
            goto out;
        }
        json_object_object_add(o, "manifest", desc_json(&chosen));
    }
    print_json(o);
    json_object_put(o);
    rc = 0;
out:
    sup_remote_desc_clear(&d);
    sup_remote_desc_clear(&chosen);
    sup_remote_ref_clear(&ref);
    return rc;
}

/* ---- fetch ------------------------------------------------------------------------------- */

static int
fetch_to_file(struct ctx *c, const struct sup_remote_ref *ref, const struct sup_remote_desc *d,
              const char *out, struct berth_err *err)
{
    cleanup_free char *partial = xasprintf("%s.partial", out);
    cleanup_close int fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    cleanup_sha256 struct berth_sha256 *hash = berth_sha256_new();
    struct progress prog;
    struct stat st;

    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", partial);
    /* Resume: hash what is there, ask for the rest. */
    if (fstat(fd, &st) < 0)
        return berth_err_set(err, errno, "stat `%s`", partial);
    int64_t have = st.st_size <= d->size ? st.st_size : 0;
    if (have == 0 && ftruncate(fd, 0) < 0)
        return berth_err_set(err, errno, "truncate `%s`", partial);
    for (int64_t off = 0; off < have;) {
        char buf[65536];
        ssize_t n = pread(fd, buf, sizeof(buf), off);
        if (n <= 0)
            return berth_err_set(err, n < 0 ? errno : EIO, "read `%s`", partial);
        berth_sha256_update(hash, buf, (size_t)n);
        off += n;
    }
    if (lseek(fd, have, SEEK_SET) < 0)
        return berth_err_set(err, errno, "seek `%s`", partial);
    if (have > 0)
        fprintf(stderr, "resuming %s at %" PRId64 " of %" PRId64 " bytes\n", d->digest, have,
                d->size);

    progress_init(&prog, d->digest);
    struct sup_remote_fetch f = {
        .desc = d,
        .offset = have,
        .hash = have > 0 ? hash : NULL,
        .write = fd_write,
        .write_data = &fd,
        .progress = print_progress,
        .progress_data = &prog,
    };
    if (sup_remote_fetch(c->r, ref, &f, err) < 0) {
        unlink(partial);
        return -1;
    }
    if (fsync(fd) < 0 || rename(partial, out) < 0) {
        unlink(partial);
        return berth_err_set(err, errno, "commit `%s`", out);
    }
    return 0;
}

static int
cmd_fetch(struct ctx *c, int argc, char **argv, struct berth_err *err)
{
    struct sup_remote_ref ref;
    struct sup_remote_desc d = {0};
    int rc = -1;

    if (argc != 3)
        return berth_err_fail(err, EINVAL, "usage: fetch REF DIGEST OUT");
    if (sup_remote_ref_parse(argv[0], &ref, err) < 0)
        return -1;
    int found = sup_remote_blob_stat(c->r, &ref, argv[1], &d, err);
    if (found == 0)
        berth_err_fail(err, ENOENT, "blob %s not found in %s/%s", argv[1], ref.host,
                       ref.repository);
    if (found == 1 && d.size < 0)
        berth_err_fail(err, EIO, "blob %s: the registry gave no size", argv[1]);
    if (found == 1 && d.size >= 0)
        rc = fetch_to_file(c, &ref, &d, argv[2], err);
    sup_remote_desc_clear(&d);
    sup_remote_ref_clear(&ref);
    return rc;
}

/* ---- pull-all ---------------------------------------------------------------------------- */

static char *
blob_path(const char *dir, const char *digest)
{
    return xasprintf("%s/blobs/sha256/%s", dir, digest + strlen("sha256:"));
}

static int
write_blob(const char *dir, const char *digest, const char *buf, size_t len, struct berth_err *err)
{
    cleanup_free char *path = blob_path(dir, digest);

    return berth_fs_write_atomic(path, buf, len, 0644, err);
}

static int
write_layout(const char *dir, const struct sup_remote_ref *ref, const struct sup_remote_desc *m,
             struct berth_err *err)
{
    cleanup_free char *layout = xasprintf("%s/oci-layout", dir);
    cleanup_free char *index = xasprintf("%s/index.json", dir);
    static const char version[] = "{\"imageLayoutVersion\":\"1.0.0\"}\n";

    if (berth_fs_write_atomic(layout, version, strlen(version), 0644, err) < 0)
        return -1;
    struct json_object *doc = json_object_new_object();
    struct json_object *list = json_object_new_array();
    struct json_object *entry = desc_json(m);
    json_object_object_del(entry, "platform");
    if (ref->tag) {
        struct json_object *ann = json_object_new_object();
        json_object_object_add(ann, "org.opencontainers.image.ref.name",
                               json_object_new_string(ref->tag));
        json_object_object_add(entry, "annotations", ann);
    }
    json_object_array_add(list, entry);
    json_object_object_add(doc, "schemaVersion", json_object_new_int(2));
    json_object_object_add(doc, "manifests", list);
    int rc = berth_json_write_file(index, doc, false, 0644, err);
    json_object_put(doc);
    return rc;
}

struct pull {
    size_t n;
    struct sup_remote_fetch *f;
    int *fds;
    char **partials;
    char **finals;
    struct progress *prog;
};

static void
pull_release(struct pull *p, bool remove_partials)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->fds[i] >= 0)
            close(p->fds[i]);
        if (remove_partials && p->partials[i])
            unlink(p->partials[i]);
        free(p->partials[i]);
        free(p->finals[i]);
    }
    free(p->f);
    free(p->fds);
    free(p->partials);
    free(p->finals);
    free(p->prog);
}

/* Config and layers of m into dir, all at once. */
static int
pull_blobs(struct ctx *c, const struct sup_remote_ref *ref, const struct sup_remote_manifest *m,
           const char *dir, struct berth_err *err)
{
    struct pull p = {.n = m->n_layers + 1};

    p.f = xzalloc(p.n * sizeof(*p.f));
    p.fds = xmalloc(p.n * sizeof(*p.fds));
    p.partials = xzalloc(p.n * sizeof(*p.partials));
    p.finals = xzalloc(p.n * sizeof(*p.finals));
    p.prog = xzalloc(p.n * sizeof(*p.prog));
    for (size_t i = 0; i < p.n; i++)
        p.fds[i] = -1;
    for (size_t i = 0; i < p.n; i++) {
        const struct sup_remote_desc *d = i == 0 ? &m->config : &m->layers[i - 1];
        p.finals[i] = blob_path(dir, d->digest);
        p.partials[i] = xasprintf("%s.partial", p.finals[i]);
        p.fds[i] = open(p.partials[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (p.fds[i] < 0) {
            berth_err_set(err, errno, "open `%s`", p.partials[i]);
            pull_release(&p, true);
            return -1;
        }
        progress_init(&p.prog[i], d->digest);
        p.f[i] = (struct sup_remote_fetch){
            .desc = d,
            .write = fd_write,
            .write_data = &p.fds[i],
            .progress = print_progress,
            .progress_data = &p.prog[i],
        };
    }
    if (sup_remote_fetch_all(c->r, ref, p.f, p.n, err) < 0) {
        pull_release(&p, true);
        return -1;
    }
    for (size_t i = 0; i < p.n; i++) {
        if (fsync(p.fds[i]) < 0 || rename(p.partials[i], p.finals[i]) < 0) {
            berth_err_set(err, errno, "commit `%s`", p.finals[i]);
            pull_release(&p, true);
            return -1;
        }
    }
    pull_release(&p, false);
    return 0;
}

/* The blobs of m are in dir: check the config against m and the platform, write the layout,
 * print. */
static int
finish_pull(struct ctx *c, const struct sup_remote_ref *ref, const char *dir,
            const struct sup_remote_manifest *m, const struct sup_remote_desc *m_desc,
            struct berth_err *err)
{
    cleanup_free char *config_path = blob_path(dir, m->config.digest);
    cleanup_free char *config_buf = NULL;
    size_t config_len = 0;
    cleanup_config struct sup_remote_config *config = NULL;

    if (berth_fs_read_file(config_path, &config_buf, &config_len, err) < 0 ||
        sup_remote_config_parse(config_buf, config_len, &config, err) < 0 ||
        sup_remote_config_check(m, config, err) < 0 || write_layout(dir, ref, m_desc, err) < 0)
        return -1;

    cleanup_free char *platform = sup_remote_platform_format(&config->platform);
    /* A single-platform image is checked by its config, as an index entry by its platform. */
    if (!sup_remote_platform_matches(&c->platform, &config->platform)) {
        cleanup_free char *want = sup_remote_platform_format(&c->platform);
        return berth_err_fail(err, ENOENT, "the image is for %s, not %s", platform, want);
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "manifest", json_object_new_string(m_desc->digest));
    json_object_object_add(o, "config", json_object_new_string(m->config.digest));
    json_object_object_add(o, "platform", json_object_new_string(platform));
    json_object_object_add(o, "layers", json_object_new_int((int)m->n_layers));
    print_json(o);
    json_object_put(o);
    return 0;
}

static int
pull_all(struct ctx *c, const struct sup_remote_ref *ref, const char *dir,
         struct sup_remote_desc *top, struct berth_err *err)
{
    struct sup_remote_desc cur = {0};
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    int rc = -1;

    if (sup_remote_resolve(c->r, ref, top, err) < 0)
        return -1;
    sup_remote_desc_copy(&cur, top);
    /* An index names a manifest per platform (and may nest, a little). */
    for (int depth = 0;; depth++) {
        if (sup_remote_fetch_buf(c->r, ref, &cur, SUP_REMOTE_MAX_MANIFEST_SIZE, &buf, &len, err) <
                0 ||
            sup_remote_manifest_parse(buf, len, cur.media_type, &m, err) < 0 ||
            write_blob(dir, cur.digest, buf, len, err) < 0)
            goto out;
        if (m->kind == SUP_REMOTE_KIND_MANIFEST)
            break;
        size_t i = 0;
        if (depth == 3) {
            berth_err_fail(err, EINVAL, "indexes nested more than 3 deep");
            goto out;
        }
        if (sup_remote_platform_select(m, &c->platform, &i, err) < 0)
            goto out;
        struct sup_remote_desc next;
        sup_remote_desc_copy(&next, &m->manifests[i]);
        sup_remote_desc_clear(&cur);
        cur = next;
        sup_remote_manifest_free(steal_ptr(&m));
        free(steal_ptr(&buf));
    }
    if (sup_remote_manifest_check_image(m, err) < 0 || pull_blobs(c, ref, m, dir, err) < 0 ||
        finish_pull(c, ref, dir, m, &cur, err) < 0)
        goto out;
    rc = 0;
out:
    sup_remote_desc_clear(&cur);
    return rc;
}

static int
cmd_pull_all(struct ctx *c, int argc, char **argv, struct berth_err *err)
{
    struct sup_remote_ref ref;
    struct sup_remote_desc top = {0};

    if (argc != 2)
        return berth_err_fail(err, EINVAL, "usage: pull-all REF OUTDIR");
    if (sup_remote_ref_parse(argv[0], &ref, err) < 0)
        return -1;
    cleanup_free char *blobs = xasprintf("%s/blobs/sha256", argv[1]);
    int rc = berth_fs_mkdir_p(blobs, 0755, err);
    if (rc == 0)
        rc = pull_all(c, &ref, argv[1], &top, err);
    if (rc < 0)
        berth_err_wrap(err, "pull `%s`", argv[0]);
    sup_remote_desc_clear(&top);
    sup_remote_ref_clear(&ref);
    return rc;
}

/* ---- push -------------------------------------------------------------------------------- */

static const char *
result_word(enum sup_remote_push_result r)
{
    switch (r) {
    case SUP_REMOTE_PUSH_UPLOADED: return "uploaded";
    case SUP_REMOTE_PUSH_EXISTS: return "exists";
    case SUP_REMOTE_PUSH_MOUNTED: return "mounted";
    }
    return "?";
}

static int
push_file_blob(struct ctx *c, const struct sup_remote_ref *ref, const char *dir,
               const struct sup_remote_desc *d, struct berth_err *err)
{
    cleanup_free char *path = blob_path(dir, d->digest);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct progress prog;

    if (fd < 0)
        return berth_err_set(err, errno, "open `%s`", path);
    progress_init(&prog, d->digest);
    struct sup_remote_push p = {
        .desc = d,
        .mount_from = c->mount_from,
        .read = fd_read_at,
        .read_data = &fd,
        .progress = print_progress,
        .progress_data = &prog,
    };
    if (sup_remote_push_blob(c->r, ref, &p, err) < 0)
        return -1;
    printf("%s %s\n", d->digest, result_word(p.result));
    return 0;
}

/* Push what d names from the layout at dir: its blobs or children first, then itself (under
 * ref's tag when top, else by digest). */
static int
push_desc(struct ctx *c, const struct sup_remote_ref *ref, const char *dir,
          const struct sup_remote_desc *d, bool top, int depth, struct berth_err *err)
{
    cleanup_free char *path = blob_path(dir, d->digest);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;

    if (depth > 3)
        return berth_err_fail(err, EINVAL, "indexes nested more than 3 deep");
    if (berth_fs_read_file(path, &buf, &len, err) < 0 ||
        sup_remote_manifest_parse(buf, len, d->media_type, &m, err) < 0)
        return -1;
    if (m->kind == SUP_REMOTE_KIND_INDEX) {
        for (size_t i = 0; i < m->n_manifests; i++) {
            if (push_desc(c, ref, dir, &m->manifests[i], false, depth + 1, err) < 0)
                return -1;
        }
    } else {
        if (push_file_blob(c, ref, dir, &m->config, err) < 0)
            return -1;
        for (size_t i = 0; i < m->n_layers; i++) {
            if (push_file_blob(c, ref, dir, &m->layers[i], err) < 0)
                return -1;
        }
    }
    struct sup_remote_ref target = {.host = ref->host, .repository = ref->repository};
    if (top)
        target.tag = ref->tag;
    cleanup_free char *digest = NULL;
    if (sup_remote_push_manifest(c->r, &target, m->media_type, buf, len, &digest, err) < 0)
        return -1;
    if (top)
        printf("pushed %s\n", digest);
    return 0;
}

static int
cmd_push(struct ctx *c, int argc, char **argv, struct berth_err *err)
{
    struct sup_remote_ref ref;
    cleanup_free char *index_path = NULL;
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *index = NULL;
    int rc = -1;

    if (argc != 2)
        return berth_err_fail(err, EINVAL, "usage: push DIR REF");
    if (sup_remote_ref_parse(argv[1], &ref, err) < 0)
        return -1;
    index_path = xasprintf("%s/index.json", argv[0]);
    if (berth_fs_read_file(index_path, &buf, &len, err) < 0 ||
        sup_remote_manifest_parse(buf, len, SUP_REMOTE_MT_OCI_INDEX, &index, err) < 0) {
        berth_err_wrap(err, "layout `%s`", argv[0]);
        goto out;
    }
    if (index->n_manifests != 1) {
        berth_err_fail(err, EINVAL, "layout `%s`: index.json lists %zu manifests, expected one",
                       argv[0], index->n_manifests);
        goto out;
    }
    rc = push_desc(c, &ref, argv[0], &index->manifests[0], true, 0, err);
    if (rc < 0)
        berth_err_wrap(err, "push `%s`", argv[1]);
out:
    sup_remote_ref_clear(&ref);
    return rc;
}

/* ---- main -------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    {"resolve", cmd_resolve},
    {"fetch", cmd_fetch},
    {"pull-all", cmd_pull_all},
    {"push", cmd_push},
};

int
main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"insecure-registry", required_argument, NULL, 'i'},
        {"auth-file", required_argument, NULL, 'a'},
        {"ca-file", required_argument, NULL, 'c'},
        {"platform", required_argument, NULL, 'p'},
        {"plain-http", no_argument, NULL, 'H'},
        {"mount-from", required_argument, NULL, 'm'},
        {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_options opts = {0};
    cleanup_free const char **insecure = xzalloc((size_t)argc * sizeof(*insecure));
    struct ctx c = {0};
    const char *platform = NULL;
    bool debug = false;
    int opt;

    while ((opt = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'i': insecure[opts.n_insecure_registries++] = optarg; break;
        case 'a': opts.auth_file = optarg; break;
        case 'c': opts.ca_file = optarg; break;
        case 'p': platform = optarg; break;
        case 'H': opts.plain_http = true; break;
        case 'm': c.mount_from = optarg; break;
        case 'd': debug = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    opts.insecure_registries = insecure;
    berth_log_init("remote-client", NULL, BERTH_LOG_TEXT, debug ? BERTH_LOG_DEBUG : BERTH_LOG_WARN,
                   NULL);

    cmd_fn fn = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[optind], commands[i].name) == 0)
            fn = commands[i].fn;
    }
    if (fn == NULL) {
        fprintf(stderr, "remote-client: unknown command `%s`\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    int rc = -1;
    if (platform)
        rc = sup_remote_platform_parse(platform, &c.platform, &err);
    else {
        sup_remote_platform_default(&c.platform);
        rc = 0;
    }
    if (rc == 0)
        rc = sup_remote_new(&opts, &c.r, &err);
    if (rc == 0)
        rc = fn(&c, argc - optind - 1, argv + optind + 1, &err);
    sup_remote_free(c.r);
    sup_remote_platform_clear(&c.platform);
    if (rc < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        fprintf(stderr, "remote-client: %s\n", msg);
        berth_err_clear(&err);
        return 1;
    }
    return 0;
}
