/* SPDX-License-Identifier: Apache-2.0
 *
 * Pull and push progress (progress.h): sizes, bars and status words, and the display that
 * redraws them on a terminal or prints status changes elsewhere.
 */
#include "supervisor/ctr/progress.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

/* Short digests are 12 hex digits, as docker's layer ids. */
#define SHORT_DIGEST 12

char *
ctr_progress_size(int64_t bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = bytes > 0 ? (double)bytes : 0;
    size_t u = 0;
    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    /* %.4g could round 999.95kB up to "1000kB": step to the next unit instead. */
    if (v >= 999.95 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    return xasprintf("%.4g%s", v, units[u]);
}

char *
ctr_progress_bar(int64_t offset, int64_t total, int width)
{
    if (width < 1)
        width = 1;
    int filled = 0;
    if (total > 0) {
        if (offset > total)
            offset = total;
        if (offset < 0)
            offset = 0;
        filled = (int)((double)offset / (double)total * width);
    }
    char *bar = xzalloc((size_t)width + 3);
    bar[0] = '[';
    for (int i = 0; i < width; i++) {
        char c = ' ';
        if (i < filled - 1)
            c = '=';
        else if (i == filled - 1)
            c = '>';
        bar[i + 1] = c;
    }
    bar[width + 1] = ']';
    return bar;
}

struct status_words {
    const char *status;
    const char *pull;
    const char *push;
};

static const struct status_words statuses[] = {
    {"resolving", "Resolving", "Resolving"},
    {"waiting", "Waiting", "Waiting"},
    {"downloading", "Downloading", "Downloading"},
    {"verifying", "Verifying Checksum", "Verifying Checksum"},
    {"exists", "Already exists", "Layer already exists"},
    {"mounted", "Mounted", "Mounted from another repository"},
    {"uploading", "Uploading", "Pushing"},
    {"extracting", "Extracting", "Extracting"},
    {"done", "Pull complete", "Pushed"},
    {"failed", "Failed", "Failed"},
};

const char *
ctr_progress_status(const char *status, enum ctr_progress_dir dir)
{
    if (!status)
        return "";
    for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
        if (strcmp(statuses[i].status, status) == 0)
            return dir == CTR_PROGRESS_PUSH ? statuses[i].push : statuses[i].pull;
    return status;
}

char *
ctr_progress_short_digest(const char *digest)
{
    if (!digest)
        return xstrdup("");
    const char *hex = strchr(digest, ':');
    if (!hex || strlen(hex + 1) < SHORT_DIGEST)
        return xstrdup(digest);
    return xstrndup(hex + 1, SHORT_DIGEST);
}

/* Bytes are moving: the bar means something. */
static bool
is_moving(const char *status)
{
    return status && (strcmp(status, "downloading") == 0 || strcmp(status, "uploading") == 0 ||
                      strcmp(status, "extracting") == 0);
}

char *
ctr_progress_line(const struct ctr_progress_item *item, enum ctr_progress_dir dir, bool with_bar)
{
    cleanup_free char *id =
        ctr_progress_short_digest(item->digest && *item->digest ? item->digest : item->ref);
    const char *words = ctr_progress_status(item->status, dir);
    if (item->total <= 0 && item->offset <= 0)
        return xasprintf("%s: %s", id, words);
    cleanup_free char *done = ctr_progress_size(item->offset);
    if (item->total <= 0)
        return xasprintf("%s: %s %s", id, words, done);
    cleanup_free char *total = ctr_progress_size(item->total);
    if (with_bar && is_moving(item->status)) {
        cleanup_free char *bar =
            ctr_progress_bar(item->offset, item->total, CTR_PROGRESS_BAR_WIDTH);
        return xasprintf("%s: %s %s %s/%s", id, words, bar, done, total);
    }
    return xasprintf("%s: %s %s", id, words, total);
}

/* ---- The display ------------------------------------------------------------------------ */

struct entry {
    char *ref, *digest, *status;
    int64_t offset, total;
    bool printed; /* the current status was printed (plain output) */
};

struct ctr_progress {
    FILE *out;
    enum ctr_progress_dir dir;
    bool tty;
    int columns;
    struct entry *entries;
    size_t n_entries;
    size_t n_drawn; /* lines drawn last time (terminal) */
};

struct ctr_progress *
ctr_progress_new(FILE *out, enum ctr_progress_dir dir, bool tty, int columns)
{
    struct ctr_progress *p = xzalloc(sizeof(*p));
    p->out = out;
    p->dir = dir;
    p->tty = tty;
    p->columns = columns > 0 ? columns : 0;
    return p;
}

static void
set_string(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value ? value : "");
}

void
ctr_progress_update(struct ctr_progress *p, const struct ctr_progress_item *item)
{
    const char *ref = item->ref && *item->ref ? item->ref : item->digest;
    struct entry *e = NULL;
    if (!ref)
        return;
    for (size_t i = 0; i < p->n_entries && !e; i++)
        if (strcmp(p->entries[i].ref, ref) == 0)
            e = &p->entries[i];
    if (!e) {
        p->entries = xrealloc(p->entries, (p->n_entries + 1) * sizeof(*p->entries));
        e = &p->entries[p->n_entries++];
        memset(e, 0, sizeof(*e));
        e->ref = xstrdup(ref);
    }
    if (!e->status || strcmp(e->status, item->status ? item->status : "") != 0)
        e->printed = false;
    set_string(&e->status, item->status);
    set_string(&e->digest, item->digest);
    e->offset = item->offset;
    e->total = item->total;
}

static char *
entry_line(const struct ctr_progress *p, const struct entry *e, bool with_bar)
{
    struct ctr_progress_item it = {.ref = e->ref,
                                   .digest = e->digest,
                                   .status = e->status,
                                   .offset = e->offset,
                                   .total = e->total};
    char *line = ctr_progress_line(&it, p->dir, with_bar);
    /* A line wider than the terminal wraps, and the cursor would go up too few lines. */
    if (p->columns > 1 && strlen(line) >= (size_t)p->columns)
        line[p->columns - 1] = '\0';
    return line;
}

void
ctr_progress_draw(struct ctr_progress *p)
{
    if (!p->tty) {
        for (size_t i = 0; i < p->n_entries; i++) {
            struct entry *e = &p->entries[i];
            if (e->printed)
                continue;
            cleanup_free char *line = entry_line(p, e, false);
            fprintf(p->out, "%s\n", line);
            e->printed = true;
        }
        fflush(p->out);
        return;
    }
    /* Back to the first line drawn, then every line again, each cleared first. */
    if (p->n_drawn > 0)
        fprintf(p->out, "\033[%zuA", p->n_drawn);
    for (size_t i = 0; i < p->n_entries; i++) {
        cleanup_free char *line = entry_line(p, &p->entries[i], true);
        fprintf(p->out, "\r\033[2K%s\n", line);
        p->entries[i].printed = true;
    }
    p->n_drawn = p->n_entries;
    fflush(p->out);
}

void
ctr_progress_free(struct ctr_progress *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_entries; i++) {
        free(p->entries[i].ref);
        free(p->entries[i].digest);
        free(p->entries[i].status);
    }
    free(p->entries);
    free(p);
}
