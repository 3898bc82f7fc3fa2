/* SPDX-License-Identifier: Apache-2.0
 *
 * The event bus: a ring of the last ENG_EVENTS_RING events, each kept with the line docker's
 * clients read (made once, at publish) and what filters look at (type, action, actor ID,
 * attributes). Subscribers hold a position in the ring, a sequence number that only grows:
 * event `seq` sits in slot seq % ENG_EVENTS_RING, and the slots hold seqs
 * [next_seq - ENG_EVENTS_RING, next_seq). A subscriber's thread reads records under the
 * bus's lock, so a record is never freed under it; nothing it gets back points into the ring.
 */
#include "engine/events/events.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "engine/events/filter.h"

struct record {
    uint64_t seq;
    int64_t time_ns;
    char *type, *action, *id;
    struct json_object *attrs; /* an object, never NULL in a used slot */
    char *line;
    size_t len;
};

struct eng_events {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC: waits do not jump with the wall clock */
    struct record ring[ENG_EVENTS_RING];
    uint64_t next_seq;
    bool closed;
    int n_subs;
};

struct eng_events_sub {
    struct eng_events *ev;
    uint64_t pos; /* the seq of the next event to look at */
    int64_t since_ns, until_ns;
    struct eng_events_filter *filter;
};

static int64_t
clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec
to_timespec(int64_t ns)
{
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

struct eng_events *
eng_events_new(void)
{
    struct eng_events *ev = xzalloc(sizeof(*ev));
    pthread_mutex_init(&ev->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cond, &ca);
    pthread_condattr_destroy(&ca);
    return ev;
}

static void
record_clear(struct record *r)
{
    free(r->type);
    free(r->action);
    free(r->id);
    if (r->attrs)
        json_object_put(r->attrs);
    free(r->line);
    memset(r, 0, sizeof(*r));
}

void
eng_events_close(struct eng_events *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->lock);
    ev->closed = true;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

void
eng_events_free(struct eng_events *ev)
{
    if (!ev)
        return;
    eng_events_close(ev);
    for (size_t i = 0; i < ENG_EVENTS_RING; i++)
        record_clear(&ev->ring[i]);
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

/* docker's events.Message, in its field order. The legacy status, id and from fields are
 * filled for container and image events only, as dockerd does. */
static char *
make_line(const struct record *r, size_t *len)
{
    struct json_object *o = json_object_new_object();
    bool legacy = strcmp(r->type, "container") == 0 || strcmp(r->type, "image") == 0;
    if (legacy) {
        json_object_object_add(o, "status", json_object_new_string(r->action));
        json_object_object_add(o, "id", json_object_new_string(r->id));
        struct json_object *from = NULL;
        if (strcmp(r->type, "container") == 0 &&
            json_object_object_get_ex(r->attrs, "image", &from))
            json_object_object_add(o, "from", json_object_get(from));
    }
    json_object_object_add(o, "Type", json_object_new_string(r->type));
    json_object_object_add(o, "Action", json_object_new_string(r->action));
    struct json_object *actor = json_object_new_object();
    json_object_object_add(actor, "ID", json_object_new_string(r->id));
    json_object_object_add(actor, "Attributes", json_object_get(r->attrs));
    json_object_object_add(o, "Actor", actor);
    json_object_object_add(o, "scope", json_object_new_string("local"));
    json_object_object_add(o, "time", json_object_new_int64(r->time_ns / 1000000000));
    json_object_object_add(o, "timeNano", json_object_new_int64(r->time_ns));
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
    char *line = xstrndup(s, *len);
    json_object_put(o);
    return line;
}

static void
publish(struct eng_events *ev, bool now, int64_t time_ns, const char *type, const char *action,
        const char *id, struct json_object *attrs)
{
    if (!json_object_is_type(attrs, json_type_object)) {
        /* NULL, or a caller's mistake: an event still goes out, with no attributes. */
        if (attrs)
            json_object_put(attrs);
        attrs = json_object_new_object();
    }
    if (!ev) {
        json_object_put(attrs);
        return;
    }
    pthread_mutex_lock(&ev->lock);
    /* The time is taken under the lock, so that times follow the order of the ring and a
     * `since` replay can start at the first event at or after it. */
    if (now)
        time_ns = clock_ns(CLOCK_REALTIME);
    struct record *r = &ev->ring[ev->next_seq % ENG_EVENTS_RING];
    record_clear(r);
    r->seq = ev->next_seq;
    r->time_ns = time_ns;
    r->type = xstrdup(type ? type : "");
    r->action = xstrdup(action ? action : "");
    r->id = xstrdup(id ? id : "");
    r->attrs = attrs;
    r->line = make_line(r, &r->len);
    ev->next_seq++;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

void
eng_events_publish(struct eng_events *ev, const char *type, const char *action, const char *id,
                   struct json_object *attrs)
{
    publish(ev, true, 0, type, action, id, attrs);
}

void
eng_events_publish_at(struct eng_events *ev, int64_t time_ns, const char *type, const char *action,
                      const char *id, struct json_object *attrs)
{
    publish(ev, false, time_ns, type, action, id, attrs);
}

/* The seq of the oldest event kept (lock held). */
static uint64_t
oldest(const struct eng_events *ev)
{
    return ev->next_seq > ENG_EVENTS_RING ? ev->next_seq - ENG_EVENTS_RING : 0;
}

struct eng_events_sub *
eng_events_subscribe(struct eng_events *ev, int64_t since_ns, int64_t until_ns,
                     struct eng_events_filter *filter)
{
    struct eng_events_sub *s = xzalloc(sizeof(*s));
    s->ev = ev;
    s->since_ns = since_ns;
    s->until_ns = until_ns;
    s->filter = filter;
    pthread_mutex_lock(&ev->lock);
    ev->n_subs++;
    if (since_ns > 0 || until_ns > 0) {
        /* dockerd replays with either: `until` alone means everything kept up to it. */
        s->pos = oldest(ev);
        while (s->pos < ev->next_seq && ev->ring[s->pos % ENG_EVENTS_RING].time_ns < since_ns)
            s->pos++;
    } else {
        s->pos = ev->next_seq;
    }
    pthread_mutex_unlock(&ev->lock);
    return s;
}

/* The next event for s in the ring, if any (lock held). */
static bool
take(struct eng_events_sub *s, char **line, size_t *len)
{
    struct eng_events *ev = s->ev;
    if (s->pos < oldest(ev))
        s->pos = oldest(ev); /* fell behind: the ones in between are gone */
    while (s->pos < ev->next_seq) {
        const struct record *r = &ev->ring[s->pos % ENG_EVENTS_RING];
        s->pos++;
        /* since in the future: live events before it are not wanted either. */
        if (r->time_ns < s->since_ns || (s->until_ns > 0 && r->time_ns > s->until_ns))
            continue;
        if (!eng_events_filter_match(s->filter, r->type, r->action, r->id, r->attrs))
            continue;
        *line = xstrndup(r->line, r->len);
        *len = r->len;
        return true;
    }
    return false;
}

int
eng_events_next(struct eng_events_sub *s, int timeout_ms, char **line, size_t *len)
{
    struct eng_events *ev = s->ev;
    int64_t deadline =
        timeout_ms >= 0 ? clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000 : INT64_MAX;
    int rc;
    pthread_mutex_lock(&ev->lock);
    for (;;) {
        if (ev->closed) {
            rc = 0;
            break;
        }
        if (take(s, line, len)) {
            rc = 1;
            break;
        }
        int64_t mono = clock_ns(CLOCK_MONOTONIC);
        int64_t wake = deadline;
        if (s->until_ns > 0) {
            int64_t left = s->until_ns - clock_ns(CLOCK_REALTIME);
            if (left <= 0) {
                rc = 0;
                break;
            }
            if (mono + left < wake)
                wake = mono + left;
        }
        if (mono >= deadline) {
            rc = ENG_EVENTS_TIMEOUT;
            break;
        }
        if (wake == INT64_MAX) {
            pthread_cond_wait(&ev->cond, &ev->lock);
        } else {
            struct timespec ts = to_timespec(wake);
            pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
        }
    }
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

void
eng_events_unsubscribe(struct eng_events_sub *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->ev->lock);
    s->ev->n_subs--;
    /* eng_events_wait_idle may be waiting for the last one. */
    pthread_cond_broadcast(&s->ev->cond);
    pthread_mutex_unlock(&s->ev->lock);
    eng_events_filter_free(s->filter);
    free(s);
}

bool
eng_events_wait_idle(struct eng_events *ev, int timeout_ms)
{
    if (!ev)
        return true;
    struct timespec deadline =
        to_timespec(clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000);
    pthread_mutex_lock(&ev->lock);
    while (ev->n_subs > 0 && pthread_cond_timedwait(&ev->cond, &ev->lock, &deadline) != ETIMEDOUT)
        ;
    bool idle = ev->n_subs == 0;
    pthread_mutex_unlock(&ev->lock);
    return idle;
}

int
eng_events_n_subscribers(struct eng_events *ev)
{
    if (!ev)
        return 0;
    pthread_mutex_lock(&ev->lock);
    int n = ev->n_subs;
    pthread_mutex_unlock(&ev->lock);
    return n;
}
