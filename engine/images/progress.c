/* SPDX-License-Identifier: Apache-2.0
 *
 * Docker's progress lines from the supervisor's progress items (progress.h).
 */
#include "engine/images/progress.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/api/request.h"

struct item {
    char *ref;
    char *status; /* the last status shown */
    int64_t offset;
};

struct eng_progress {
    enum eng_progress_dir dir;
    struct item *items;
    size_t n_items;
    bool transferred;
};

struct eng_progress *
eng_progress_new(enum eng_progress_dir dir)
{
    struct eng_progress *p = xzalloc(sizeof(*p));
    p->dir = dir;
    return p;
}

void
eng_progress_free(struct eng_progress *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_items; i++) {
        free(p->items[i].ref);
        free(p->items[i].status);
    }
    free(p->items);
    free(p);
}

bool
eng_progress_transferred(const struct eng_progress *p)
{
    return p->transferred;
}

void
eng_progress_human_size(int64_t n, char *out, size_t out_len)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, out_len, "%.4g%s", v, units[u]);
}

char *
eng_progress_bar(int64_t current, int64_t total)
{
    char cur[32], tot[32];
    eng_progress_human_size(current, cur, sizeof(cur));
    if (total <= 0)
        return xasprintf("%s", cur);
    eng_progress_human_size(total, tot, sizeof(tot));
    enum { WIDTH = 50 };
    int64_t filled = current >= total ? WIDTH : WIDTH * current / total;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '=' : ' ';
    if (filled < WIDTH)
        bar[filled] = '>';
    bar[WIDTH] = '\0';
    return xasprintf("[%s] %8s/%s", bar, cur, tot);
}

/* What docker says for a status, for pulls and pushes; NULL: nothing to show. */
static const char *
words(enum eng_progress_dir dir, const char *status)
{
    static const struct {
        const char *status, *pull, *push;
    } table[] = {
        {"waiting", "Waiting", "Waiting"},
        {"downloading", "Downloading", NULL},
        {"verifying", "Verifying Checksum", NULL},
        {"exists", "Already exists", "Layer already exists"},
        {"mounted", NULL, "Mounted from another repository"},
        {"uploading", NULL, "Pushing"},
        {"extracting", "Extracting", NULL},
        {"done", "Pull complete", "Pushed"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (strcmp(table[i].status, status) == 0)
            return dir == ENG_PROGRESS_PULL ? table[i].pull : table[i].push;
    return NULL;
}

static struct item *
find(struct eng_progress *p, const char *ref, bool *is_new)
{
    *is_new = false;
    for (size_t i = 0; i < p->n_items; i++)
        if (strcmp(p->items[i].ref, ref) == 0)
            return &p->items[i];
    p->items = xrealloc(p->items, (p->n_items + 1) * sizeof(*p->items));
    struct item *it = &p->items[p->n_items++];
    it->ref = xstrdup(ref);
    it->status = NULL;
    it->offset = -1;
    *is_new = true;
    return it;
}

static void
line(char **buf, size_t *len, const char *status, const char *id, int64_t cur, int64_t total,
     bool detail)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(status));
    struct json_object *d = json_object_new_object();
    if (detail) {
        json_object_object_add(d, "current", json_object_new_int64(cur));
        if (total > 0)
            json_object_object_add(d, "total", json_object_new_int64(total));
        cleanup_free char *bar = eng_progress_bar(cur, total);
        json_object_object_add(o, "progressDetail", d);
        json_object_object_add(o, "progress", json_object_new_string(bar));
    } else {
        json_object_object_add(o, "progressDetail", d);
    }
    json_object_object_add(o, "id", json_object_new_string(id));
    eng_api_append_json(buf, len, o);
}

void
eng_progress_update(struct eng_progress *p, const char *ref, const char *digest, const char *status,
                    int64_t offset, int64_t total, char **buf, size_t *len)
{
    if (strncmp(ref, "layer-", 6) != 0)
        return;
    const char *w = words(p->dir, status);
    if (!w)
        return;
    const char *hex = strchr(digest, ':');
    char id[13];
    snprintf(id, sizeof(id), "%s", hex ? hex + 1 : digest);
    bool is_new;
    struct item *it = find(p, ref, &is_new);
    bool moving = strcmp(status, "downloading") == 0 || strcmp(status, "uploading") == 0 ||
                  strcmp(status, "extracting") == 0;
    if (it->status && strcmp(it->status, status) == 0 && (!moving || it->offset == offset))
        return;
    if (is_new && strcmp(status, "exists") != 0 && strcmp(status, "mounted") != 0)
        line(buf, len, p->dir == ENG_PROGRESS_PULL ? "Pulling fs layer" : "Preparing", id, 0, 0,
             false);
    /* A layer that was neither stored nor in the registry already went over the wire, even
     * when it was too quick for a "downloading" update. */
    if (strcmp(status, "exists") != 0 && strcmp(status, "mounted") != 0 &&
        strcmp(status, "waiting") != 0)
        p->transferred = true;
    /* The end of a download, which docker shows before verifying and extracting. */
    if (p->dir == ENG_PROGRESS_PULL && it->status && strcmp(it->status, "downloading") == 0 &&
        strcmp(status, "downloading") != 0)
        line(buf, len, "Download complete", id, 0, 0, false);
    line(buf, len, w, id, offset, total, moving);
    free(it->status);
    it->status = xstrdup(status);
    it->offset = offset;
}
