/* SPDX-License-Identifier: Apache-2.0
 *
 * Container creation (containers.h, eng_ctr_create):
 *
 *   check the body and the name -> the image (engine/images) and its top layer (Images.Check)
 *   -> a writable snapshot keyed by the new id (Snapshots.Prepare) -> its files (hostname,
 *   hosts, resolv.conf) -> the OCI spec (engine/spec), with the snapshot mounted for that
 *   moment so user names resolve in the image's /etc/passwd -> the supervisor's container
 *   record -> the engine.db row -> the table.
 *
 * Each step that made something has an undo, run in reverse on a failure, so a failed create
 * leaves no snapshot, record, directory or row behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "engine/config.h"
#include "engine/containers/internal.h"
#include "engine/daemon.h"
#include "engine/images/image.h"
#include "engine/spec/spec.h"
#include "engine/store/store.h"
#include "engine/supervisor/client.h"
#include "engine/volumes/volumes.h"
#include "supervisor/snapshot/mount.h"

#define IMAGES     (&berth__supervisor__v1__images__descriptor)
#define SNAPSHOTS  (&berth__supervisor__v1__snapshots__descriptor)
#define CONTAINERS (&berth__supervisor__v1__containers__descriptor)

/* ---------------------------------------------------------------- names and ids */

static void
random_bytes(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
}

static char *
new_id(void)
{
    unsigned char b[32];
    char *id = xzalloc(65);
    random_bytes(b, sizeof(b));
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    return id;
}

/* A generated name, "adjective_noun" as docker's, with a number added on a clash. */
static char *
new_name(struct eng_daemon *d)
{
    static const char *const adjectives[] = {
        "amber",  "brave",  "calm",  "clever", "eager",  "fond",  "gentle", "happy",
        "jolly",  "keen",   "lucid", "mellow", "nimble", "proud", "quiet",  "rapid",
        "serene", "steady", "sunny", "tender", "upbeat", "vivid", "witty",  "zesty",
    };
    static const char *const nouns[] = {
        "anchor", "barge",  "beacon", "buoy",     "cabin", "canal",  "cove",   "dock",
        "ferry",  "harbor", "hull",   "jetty",    "keel",  "lagoon", "marina", "mast",
        "pier",   "quay",   "rudder", "schooner", "sloop", "tide",   "wharf",  "yacht",
    };
    for (unsigned attempt = 0;; attempt++) {
        uint16_t r[2];
        random_bytes(r, sizeof(r));
        char *n = attempt < 8 ? xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
                                          nouns[r[1] % ARRAY_SIZE(nouns)])
                              : xasprintf("%s_%s%u", adjectives[r[0] % ARRAY_SIZE(adjectives)],
                                          nouns[r[1] % ARRAY_SIZE(nouns)], r[0] % 100u);
        if (!ctr_name_taken(d, n))
            return n;
        free(n);
    }
}

/* ---------------------------------------------------------------- the container's files */

static int
write_file(const char *dir, const char *name, const char *text, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    return berth_fs_write_atomic(path, text, strlen(text), 0644, err);
}

/* The strings of HostConfig[key] (an array), each after prefix, one a line. */
static void
append_lines(char **out, struct json_object *host, const char *key, const char *prefix)
{
    struct json_object *v = berth_json_member(host, key);
    for (size_t i = 0;
         v && json_object_is_type(v, json_type_array) && i < json_object_array_length(v); i++) {
        char *next = xasprintf("%s%s%s\n", *out, prefix,
                               json_object_get_string(json_object_array_get_idx(v, i)));
        free(*out);
        *out = next;
    }
}

static bool
has_items(struct json_object *host, const char *key)
{
    struct json_object *v = berth_json_member(host, key);
    return v && json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0;
}

/* The host's resolv.conf without loopback resolvers, which mean nothing inside the container's
 * own network namespace; Google's public ones when none is left, as docker does. HostConfig's
 * Dns, DnsSearch and DnsOptions replace the host's nameserver, search and options lines. */
static char *
resolv_conf(struct json_object *hc)
{
    cleanup_free char *host = NULL;
    size_t len = 0;
    struct berth_err ignored = BERTH_ERR_INIT;
    if (berth_fs_read_file("/etc/resolv.conf", &host, &len, &ignored) < 0)
        berth_err_clear(&ignored);
    char *out = xstrdup("");
    bool any = false, dns = has_items(hc, "Dns"), search = has_items(hc, "DnsSearch"),
         opts = has_items(hc, "DnsOptions");
    for (char *save = NULL, *line = host ? strtok_r(host, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "nameserver", 10) == 0) {
            const char *a = line + 10;
            a += strspn(a, " \t");
            if (dns || strncmp(a, "127.", 4) == 0 || strncmp(a, "::1", 3) == 0)
                continue;
            any = true;
        }
        if ((search && (strncmp(line, "search", 6) == 0 || strncmp(line, "domain", 6) == 0)) ||
            (opts && strncmp(line, "options", 7) == 0))
            continue;
        char *next = xasprintf("%s%s\n", out, line);
        free(out);
        out = next;
    }
    append_lines(&out, hc, "Dns", "nameserver ");
    if (search) {
        cleanup_free char *words = xstrdup("");
        append_lines(&words, hc, "DnsSearch", " ");
        for (char *p = words; *p; p++)
            if (*p == '\n')
                *p = ' ';
        char *next = xasprintf("%ssearch%s\n", out, words);
        free(out);
        out = next;
    }
    append_lines(&out, hc, "DnsOptions", "options ");
    if (!any && !dns) {
        char *next = xasprintf("%snameserver 8.8.8.8\nnameserver 8.8.4.4\n", out);
        free(out);
        out = next;
    }
    return out;
}

static int
write_files(struct eng_ctr *c, const char *hostname, bool host_network, struct berth_err *err)
{
    cleanup_free char *parent = xstrndup(c->dir, (size_t)(strrchr(c->dir, '/') - c->dir));
    if (berth_fs_mkdir_p(parent, 0710, err) < 0)
        return -1;
    if (mkdir(c->dir, 0710) < 0)
        return berth_err_fail(err, errno, "create `%s`", c->dir);
    cleanup_free char *hn = xasprintf("%s\n", hostname);
    cleanup_free char *hosts =
        host_network ? NULL
                     : xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n"
                                 "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
                                 "127.0.1.1\t%s\n",
                                 hostname);
    cleanup_free char *resolv = resolv_conf(c->host_config);
    if (write_file(c->dir, "hostname", hn, err) < 0 ||
        (hosts && write_file(c->dir, "hosts", hosts, err) < 0) ||
        write_file(c->dir, "resolv.conf", resolv, err) < 0) {
        /* The folder is this create's own (mkdir above made it): none of it stays. */
        struct berth_err e2 = BERTH_ERR_INIT;
        if (berth_fs_rm_rf(c->dir, &e2) < 0)
            berth_err_warn(&e2);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- spec callbacks */

struct create {
    struct eng_daemon *d;
    struct eng_ctr *c;
    /* Volumes the spec asked for, attached once the row exists. */
    char **vol_names, **vol_dests;
    size_t n_vols;
};

static char *
volume_cb(void *data, const char *name, const char *dest, struct berth_err *err)
{
    struct create *cr = data;
    char *made = NULL;
    char *path = eng_volume_acquire(cr->d, name, &made, err);
    if (!path)
        return NULL;
    cr->vol_names = xrealloc(cr->vol_names, (cr->n_vols + 1) * sizeof(char *));
    cr->vol_dests = xrealloc(cr->vol_dests, (cr->n_vols + 1) * sizeof(char *));
    cr->vol_names[cr->n_vols] = made ? made : xstrdup(name);
    cr->vol_dests[cr->n_vols] = xstrdup(dest);
    cr->n_vols++;
    return path;
}

static char *
ns_cb(void *data, const char *ref, const char *ns, struct berth_err *err)
{
    struct create *cr = data;
    cleanup_ctr struct eng_ctr *other = eng_ctr_find(cr->d, ref, err);
    if (!other)
        return NULL;
    pthread_mutex_lock(&other->lock);
    int pid = other->status == ENG_CTR_RUNNING || other->status == ENG_CTR_PAUSED ? other->pid : 0;
    pthread_mutex_unlock(&other->lock);
    if (pid <= 0) {
        berth_err_fail(err, EBUSY, "container %s is not running", ref);
        return NULL;
    }
    return xasprintf("/proc/%d/ns/%s", pid, ns);
}

/* ---------------------------------------------------------------- the steps */

/* The image's top layer and its platform config, from the supervisor. */
static int
image_chain(struct eng_daemon *d, const struct eng_image *img, char **chain_id,
            struct berth_err *err)
{
    if (img->n_names == 0)
        return berth_err_fail(err, EINVAL, "image %s has no name the supervisor knows", img->id);
    Berth__Supervisor__V1__CheckImageRequest req = BERTH__SUPERVISOR__V1__CHECK_IMAGE_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__CheckImageResponse *resp = NULL;
    req.name = img->names[0];
    if (eng_sup_call(d->sup, IMAGES, "Check", &req.base, &resp, err) < 0)
        return -1;
    if (!resp->complete || !resp->unpacked || !resp->chain_id || !*resp->chain_id)
        return berth_err_fail(err, EBUSY, "image %s is incomplete or not unpacked: pull it again",
                              img->names[0]);
    *chain_id = xstrdup(resp->chain_id);
    return 0;
}

static int
prepare_snapshot(struct eng_daemon *d, const char *id, const char *parent,
                 Berth__Supervisor__V1__PrepareSnapshotResponse **prep, struct berth_err *err)
{
    Berth__Supervisor__V1__PrepareSnapshotRequest req =
        BERTH__SUPERVISOR__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
    req.key = (char *)id;
    req.parent = (char *)parent;
    if (eng_sup_call(d->sup, SNAPSHOTS, "Prepare", &req.base, prep, err) < 0)
        return berth_err_wrap(err, "prepare the container's layer");
    return 0;
}

/* Mount the prepared snapshot on a new directory under the state dir. */
static char *
mount_snapshot(struct eng_daemon *d, const char *id,
               const Berth__Supervisor__V1__PrepareSnapshotResponse *prep, struct berth_err *err)
{
    cleanup_free char *dir = xasprintf("%s/mnt-%s", d->state, id);
    size_t n = prep->n_mounts;
    struct sup_mount *m = xzalloc((n + 1) * sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        sup_mount_init(&m[i], prep->mounts[i]->type, prep->mounts[i]->source, NULL);
        for (size_t j = 0; j < prep->mounts[i]->n_options; j++)
            sup_mount_add_option(&m[i], prep->mounts[i]->options[j]);
    }
    char *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        berth_err_set(err, errno, "create `%s`", dir);
    else if (sup_mount_all(m, n, dir, err) < 0)
        rmdir(dir);
    else
        out = steal_ptr(&dir);
    sup_mounts_free(m, n);
    return out;
}

static void
unmount_snapshot(char *dir)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (!dir)
        return;
    if (sup_unmount_all(dir, &err) < 0 || rmdir(dir) < 0) {
        if (!err.msg)
            berth_err_set(&err, errno, "remove `%s`", dir);
        berth_err_warn(&err);
    }
    free(dir);
}

static int
sup_create(struct eng_daemon *d, struct eng_ctr *c, struct json_object *spec, struct berth_err *err)
{
    Berth__Supervisor__V1__CreateContainerRequest req =
        BERTH__SUPERVISOR__V1__CREATE_CONTAINER_REQUEST__INIT;
    Berth__Supervisor__V1__Container ctr = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    cleanup_pb Berth__Supervisor__V1__CreateContainerResponse *resp = NULL;
    const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
    ctr.id = c->id;
    ctr.image = c->image;
    ctr.spec.data = (uint8_t *)text;
    ctr.spec.len = strlen(text);
    ctr.snapshot_key = c->id;
    req.container = &ctr;
    if (eng_sup_call(d->sup, CONTAINERS, "Create", &req.base, &resp, err) < 0)
        return berth_err_wrap(err, "create the supervisor's container");
    return 0;
}

/* The create body split: Config (everything but HostConfig and NetworkingConfig) and
 * HostConfig. */
static void
split_body(struct json_object *body, struct json_object **config, struct json_object **host)
{
    /* A deep copy: the image's config is merged into it, the body stays as given. */
    *config = NULL;
    if (json_object_deep_copy(body, config, NULL) < 0 || !*config)
        *config = json_object_new_object();
    json_object_object_del(*config, "HostConfig");
    json_object_object_del(*config, "NetworkingConfig");
    struct json_object *h = berth_json_member(body, "HostConfig");
    *host = h && json_object_is_type(h, json_type_object) ? json_object_get(h)
                                                          : json_object_new_object();
}

/* The body the spec is made from: as given, with host (the HostConfig with the daemon's
 * defaults merged). A NetworkMode naming a network is given to the spec as the namespace to
 * join (netns_path); the default one, when there is no default network, is none. */
static struct json_object *
spec_body_of(struct json_object *body, struct json_object *host_config)
{
    struct json_object *copy = NULL, *host = NULL;
    if (json_object_deep_copy(body, &copy, NULL) < 0 || !copy)
        return json_object_get(body);
    if (json_object_deep_copy(host_config, &host, NULL) < 0 || !host)
        host = json_object_new_object();
    json_object_object_add(copy, "HostConfig", host);
    struct json_object *nm = berth_json_member(host, "NetworkMode");
    const char *m =
        nm && json_object_is_type(nm, json_type_string) ? json_object_get_string(nm) : "";
    if (!*m || strcmp(m, "default") == 0)
        json_object_object_add(host, "NetworkMode", json_object_new_string("none"));
    return copy;
}

/* daemon.json's default-ulimits, for the ones HostConfig.Ulimits does not name (dockerd
 * merges them into the HostConfig at create too). */
static void
merge_default_ulimits(struct eng_daemon *d, struct json_object *host)
{
    if (!d->config || d->config->n_ulimits == 0)
        return;
    struct json_object *ul = berth_json_member(host, "Ulimits");
    if (!ul || !json_object_is_type(ul, json_type_array)) {
        ul = json_object_new_array();
        json_object_object_add(host, "Ulimits", ul);
    }
    size_t n = json_object_array_length(ul);
    for (size_t i = 0; i < d->config->n_ulimits; i++) {
        const struct eng_config_ulimit *u = &d->config->ulimits[i];
        bool named = false;
        for (size_t j = 0; j < n && !named; j++) {
            struct json_object *nv = berth_json_member(json_object_array_get_idx(ul, j), "Name");
            named = nv && json_object_is_type(nv, json_type_string) &&
                    strcmp(json_object_get_string(nv), u->name) == 0;
        }
        if (named)
            continue;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "Name", json_object_new_string(u->name));
        json_object_object_add(o, "Soft", json_object_new_int64(u->soft));
        json_object_object_add(o, "Hard", json_object_new_int64(u->hard));
        json_object_array_add(ul, o);
    }
}

static bool
empty(struct json_object *v)
{
    return !v || json_object_is_type(v, json_type_null) ||
           (json_object_is_type(v, json_type_string) && !*json_object_get_string(v)) ||
           (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
}

/* The image's config under the container's, as dockerd merges them at create, so that
 * inspect shows what runs: the image's Env entries whose names the container does not set,
 * its Labels, Volumes and ExposedPorts added; its User, WorkingDir, StopSignal, Healthcheck
 * where the container has none; its Cmd when the container gives neither Entrypoint nor Cmd;
 * its Entrypoint when the container gives none (an explicit [] or "" clears it). */
static void
merge_image_config(struct json_object *config, struct json_object *image)
{
    if (!image || !json_object_is_type(image, json_type_object))
        return;
    struct json_object *env = berth_json_member(config, "Env"),
                       *ienv = berth_json_member(image, "Env");
    if (ienv && json_object_is_type(ienv, json_type_array)) {
        if (!env || !json_object_is_type(env, json_type_array)) {
            env = json_object_new_array();
            json_object_object_add(config, "Env", env);
        }
        size_t n_user = json_object_array_length(env);
        for (size_t i = 0; i < json_object_array_length(ienv); i++) {
            const char *ie = json_object_get_string(json_object_array_get_idx(ienv, i));
            size_t klen = strcspn(ie, "=");
            bool found = false;
            for (size_t j = 0; j < n_user && !found; j++) {
                const char *ue = json_object_get_string(json_object_array_get_idx(env, j));
                found = strncmp(ue, ie, klen) == 0 && (ue[klen] == '=' || ue[klen] == 0);
            }
            if (!found)
                json_object_array_add(env, json_object_new_string(ie));
        }
    }
    static const char *const unions[] = {"Labels", "Volumes", "ExposedPorts"};
    for (size_t u = 0; u < ARRAY_SIZE(unions); u++) {
        struct json_object *iv = berth_json_member(image, unions[u]),
                           *cv = berth_json_member(config, unions[u]);
        if (!iv || !json_object_is_type(iv, json_type_object))
            continue;
        if (!cv || !json_object_is_type(cv, json_type_object)) {
            cv = json_object_new_object();
            json_object_object_add(config, unions[u], cv);
        }
        json_object_object_foreach(iv, k, v)
        {
            if (!berth_json_member(cv, k))
                json_object_object_add(cv, k, json_object_get(v));
        }
    }
    static const char *const fills[] = {"User", "WorkingDir", "StopSignal", "Healthcheck"};
    for (size_t f = 0; f < ARRAY_SIZE(fills); f++)
        if (empty(berth_json_member(config, fills[f])) && berth_json_member(image, fills[f]))
            json_object_object_add(config, fills[f],
                                   json_object_get(berth_json_member(image, fills[f])));
    struct json_object *ep = berth_json_member(config, "Entrypoint");
    if (empty(ep)) {
        if (empty(berth_json_member(config, "Cmd")) && berth_json_member(image, "Cmd"))
            json_object_object_add(config, "Cmd", json_object_get(berth_json_member(image, "Cmd")));
        if ((!ep || json_object_is_type(ep, json_type_null)) &&
            berth_json_member(image, "Entrypoint"))
            json_object_object_add(config, "Entrypoint",
                                   json_object_get(berth_json_member(image, "Entrypoint")));
    }
}

static int
check_log_config(struct eng_daemon *d, struct json_object *host, bool *none, struct berth_err *err)
{
    struct json_object *lc = berth_json_member(host, "LogConfig"),
                       *type = berth_json_member(lc, "Type");
    const char *t =
        type && json_object_is_type(type, json_type_string) ? json_object_get_string(type) : "";
    if (!*t)
        t = eng_ctr_default_log_driver(d);
    if (strcmp(t, "none") == 0) {
        *none = true;
        return 0;
    }
    *none = false;
    if (strcmp(t, "json-file") != 0)
        return berth_err_fail(err, EINVAL,
                              "HostConfig.LogConfig.Type: logging driver `%s` is not supported "
                              "(json-file, none)",
                              t);
    struct json_object *opts = berth_json_member(lc, "Config");
    if (eng_ctr_log_max_size(d, opts) < 0)
        return berth_err_fail(err, EINVAL, "HostConfig.LogConfig.Config: bad max-size `%s`",
                              json_object_get_string(berth_json_member(opts, "max-size")));
    if (eng_ctr_log_max_files(d, opts) < 1)
        return berth_err_fail(err, EINVAL, "HostConfig.LogConfig.Config: bad max-file `%s`",
                              json_object_get_string(berth_json_member(opts, "max-file")));
    return 0;
}

/* Config.Labels is docker's map of strings: a label of another type is refused (dockerd's JSON
 * decoder refuses it), not stored for every list filter and event to stumble on. */
static int
check_labels(struct json_object *config, struct berth_err *err)
{
    struct json_object *labels = berth_json_member(config, "Labels");
    if (!labels || json_object_is_type(labels, json_type_null))
        return 0;
    if (!json_object_is_type(labels, json_type_object))
        return berth_err_fail(err, EINVAL, "Config.Labels: expected an object of strings");
    json_object_object_foreach(labels, k, v)
    {
        if (!json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "Config.Labels.%s: expected a string", k);
    }
    return 0;
}

/* HostConfig.RestartPolicy as dockerd checks it at create: a name it knows, a count only for
 * on-failure and never negative, and no policy with AutoRemove. */
static int
check_restart_policy(struct json_object *host, struct berth_err *err)
{
    struct json_object *rp = berth_json_member(host, "RestartPolicy");
    if (!rp || json_object_is_type(rp, json_type_null))
        return 0;
    if (!json_object_is_type(rp, json_type_object))
        return berth_err_fail(err, EINVAL, "HostConfig.RestartPolicy: expected an object");
    struct json_object *name = berth_json_member(rp, "Name"),
                       *max = berth_json_member(rp, "MaximumRetryCount");
    if (name && !json_object_is_type(name, json_type_string) &&
        !json_object_is_type(name, json_type_null))
        return berth_err_fail(err, EINVAL, "HostConfig.RestartPolicy.Name: expected a string");
    if (max && !json_object_is_type(max, json_type_int) &&
        !json_object_is_type(max, json_type_null))
        return berth_err_fail(err, EINVAL,
                              "HostConfig.RestartPolicy.MaximumRetryCount: expected an integer");
    const char *n =
        name && json_object_is_type(name, json_type_string) ? json_object_get_string(name) : "";
    int64_t m = max ? json_object_get_int64(max) : 0;
    if (*n && strcmp(n, "no") != 0 && strcmp(n, "always") != 0 &&
        strcmp(n, "unless-stopped") != 0 && strcmp(n, "on-failure") != 0)
        return berth_err_fail(err, EINVAL, "invalid restart policy '%s'", n);
    if (m < 0)
        return berth_err_fail(err, EINVAL, "maximum retry count cannot be negative");
    if (m > 0 && strcmp(n, "on-failure") != 0)
        return berth_err_fail(err, EINVAL,
                              "maximum retry count cannot be used with restart policy '%s'", n);
    struct json_object *auto_rm = berth_json_member(host, "AutoRemove");
    if (*n && strcmp(n, "no") != 0 && auto_rm && json_object_get_boolean(auto_rm))
        return berth_err_fail(err, EINVAL,
                              "can't create 'AutoRemove' container with restart policy");
    return 0;
}

static void
create_release(struct create *cr)
{
    for (size_t i = 0; i < cr->n_vols; i++) {
        free(cr->vol_names[i]);
        free(cr->vol_dests[i]);
    }
    free(cr->vol_names);
    free(cr->vol_dests);
}

int
eng_ctr_create(struct eng_daemon *d, struct json_object *body, const char *name, char **id_out,
               struct json_object **warnings, struct berth_err *err)
{
    (void)warnings;
    if (!body || !json_object_is_type(body, json_type_object))
        return berth_err_fail(err, EINVAL, "the body must be a JSON object (the container config)");
    struct json_object *image_v = berth_json_member(body, "Image");
    if (!image_v || !json_object_is_type(image_v, json_type_string) ||
        !*json_object_get_string(image_v))
        return berth_err_fail(err, EINVAL, "Config.Image: an image is required");
    const char *image = json_object_get_string(image_v);
    /* Not an object would be taken as no HostConfig at all: refuse it, as dockerd does. */
    struct json_object *host_v = berth_json_member(body, "HostConfig");
    if (host_v && !json_object_is_type(host_v, json_type_object) &&
        !json_object_is_type(host_v, json_type_null))
        return berth_err_fail(err, EINVAL, "HostConfig: expected an object");

    cleanup_free char *cname = NULL;
    if (name && *name) {
        const char *n = name[0] == '/' ? name + 1 : name;
        if (!ctr_name_valid(n))
            return berth_err_fail(err, EINVAL,
                                  "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                                  "are allowed",
                                  name);
        cname = xstrdup(n);
    } else {
        cname = new_name(d);
    }

    cleanup_json struct json_object *config = NULL, *host = NULL;
    split_body(body, &config, &host);
    bool no_log;
    if (check_labels(config, err) < 0 || check_restart_policy(host, err) < 0 ||
        check_log_config(d, host, &no_log, err) < 0)
        return -1;
    merge_default_ulimits(d, host);

    struct eng_image *img = NULL;
    int by_name;
    if (eng_image_resolve(d, image, &img, &by_name, err) < 0)
        return -1;
    cleanup_free char *chain = NULL;
    if (image_chain(d, img, &chain, err) < 0) {
        eng_image_free(img);
        return -1;
    }

    cleanup_free char *id = new_id();
    struct eng_ctr *c = ctr_new(id, cname);
    c->image = xstrdup(image);
    c->image_id = xstrdup(img->id);
    merge_image_config(config, berth_json_member(img->config, "config"));
    c->config = json_object_get(config);
    c->host_config = json_object_get(host);
    c->created_ns = ctr_now_ns();
    c->dir = xasprintf("%s/containers/%s", d->root, id);
    c->log_path = no_log ? xstrdup("") : xasprintf("%s/%s-json.log", c->dir, id);

    struct create cr = {.d = d, .c = c};
    cleanup_pb Berth__Supervisor__V1__PrepareSnapshotResponse *prep = NULL;
    cleanup_json struct json_object *spec = NULL;
    bool snapshot = false, record = false, files = false;
    int rc = -1;

    /* The hostname: Config.Hostname, else the short id (docker's default). */
    struct json_object *hv = berth_json_member(config, "Hostname");
    cleanup_free char *hostname =
        hv && json_object_is_type(hv, json_type_string) && *json_object_get_string(hv)
            ? xstrdup(json_object_get_string(hv))
            : xstrndup(id, 12);
    const char *network;
    bool host_net = ctr_net_kind(d, host, &network) == CTR_NET_HOST;
    cleanup_json struct json_object *eps = NULL;
    cleanup_free char *netns_path = NULL;

    if (ctr_name_taken(d, cname)) {
        berth_err_fail(err, EEXIST,
                       "Conflict. The container name \"/%s\" is already in use by another "
                       "container. You have to remove (or rename) that container to be able to "
                       "reuse that name.",
                       cname);
        goto out;
    }
    if (ctr_net_plan(d, id, config, host, berth_json_member(body, "NetworkingConfig"), &eps,
                     &netns_path, err) < 0)
        goto out;
    if (prepare_snapshot(d, id, chain, &prep, err) < 0)
        goto out;
    snapshot = true;
    if (write_files(c, hostname, host_net, err) < 0)
        goto out;
    files = true;
    if (!host_net && ctr_net_write_hosts(d, c, err) < 0)
        goto out;

    {
        char *rootfs = mount_snapshot(d, id, prep, err);
        if (!rootfs)
            goto out;
        cleanup_free char *hostname_path = xasprintf("%s/hostname", c->dir);
        cleanup_free char *hosts_path =
            host_net ? xstrdup("/etc/hosts") : xasprintf("%s/hosts", c->dir);
        cleanup_free char *resolv_path =
            host_net ? xstrdup("/etc/resolv.conf") : xasprintf("%s/resolv.conf", c->dir);
        cleanup_json struct json_object *spec_body = spec_body_of(body, host);
        struct engine_spec_input in = {
            .create = spec_body,
            .image_config = berth_json_member(img->config, "config"),
            .id = id,
            .name = cname,
            .rootfs = rootfs,
            .hostname_path = hostname_path,
            .hosts_path = hosts_path,
            .resolv_conf_path = resolv_path,
            .volume = volume_cb,
            .volume_data = &cr,
            .container_ns = ns_cb,
            .container_ns_data = &cr,
            .netns_path = netns_path,
        };
        int g = engine_spec_generate(&in, &spec, err);
        unmount_snapshot(rootfs);
        if (g < 0)
            goto out;
    }
    if (sup_create(d, c, spec, err) < 0)
        goto out;
    record = true;

    {
        cleanup_free char *state = ctr_state_json(c);
        struct eng_store_container row = {
            .id = id,
            .name = cname,
            .image = image,
            .config = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN),
            .host_config = json_object_to_json_string_ext(host, JSON_C_TO_STRING_PLAIN),
            .state = state,
            .created_ns = c->created_ns,
        };
        if (eng_store_container_insert(d->store, &row, err) < 0) {
            if (err->code == EEXIST) {
                berth_err_clear(err);
                berth_err_fail(err, EEXIST,
                               "Conflict. The container name \"/%s\" is already in use by "
                               "another container. You have to remove (or rename) that "
                               "container to be able to reuse that name.",
                               cname);
            }
            goto out;
        }
    }
    for (size_t i = 0; i <= cr.n_vols; i++) {
        if (i == cr.n_vols ? ctr_net_record(d, id, eps, err) < 0
                           : eng_volume_attach(d, id, cr.vol_names[i], cr.vol_dests[i], err) < 0) {
            struct berth_err e2 = BERTH_ERR_INIT;
            if (eng_store_container_delete(d->store, id, &e2) < 0)
                berth_err_warn(&e2);
            goto out;
        }
    }
    ctr_add(d, c);
    ctr_event(d, c, "create", NULL);
    *id_out = steal_ptr(&id);
    rc = 0;

out:
    if (rc < 0) {
        struct berth_err e2 = BERTH_ERR_INIT;
        if (record || snapshot) {
            if (sup_container_remove(d, c->id, &e2) < 0)
                berth_err_warn(&e2);
        }
        if (files && berth_fs_rm_rf(c->dir, &e2) < 0)
            berth_err_warn(&e2);
        /* Anonymous volumes made for this container only. */
        for (size_t i = 0; i < cr.n_vols; i++)
            eng_volume_release_unused(d, cr.vol_names[i]);
    }
    create_release(&cr);
    eng_image_free(img);
    eng_ctr_put(c);
    return rc;
}
