// SPDX-License-Identifier: Apache-2.0
//
// The event exchange (exchange.h): a list of subscribers, each with its own queue of
// envelopes under the exchange's lock. Filters run at publish time so a subscriber only
// queues what it will send. Envelopes are built once per publish and copied per subscriber
// only as the small struct graph protobuf-c needs (strings and the packed event).

#include "supervisor/events/exchange.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/filter.h"
#include "common/log.h"
#include "supervisor/events/types.h"

struct queued {
    struct queued *next;
    Berth__Supervisor__V1__Envelope *env;
};

struct sup_subscriber {
    struct sup_subscriber *next;
    struct sup_events *ev; /* its lock guards every field below */
    struct berth_filter *filter;
    struct queued *head, *tail;
    size_t n_queued;
    bool closed;
    pthread_cond_t cond;
};

struct sup_events {
    pthread_mutex_t lock;
    struct sup_subscriber *subs;
};

const ProtobufCMessageDescriptor *
sup_events_type(const char *type_name)
{
    return sup_event_type(type_name);
}

struct sup_events *
sup_events_new(void)
{
    struct sup_events *ev = xzalloc(sizeof(*ev));
    pthread_mutex_init(&ev->lock, NULL);
    return ev;
}

static void
queue_free(struct sup_subscriber *sub)
{
    struct queued *q = sub->head;
    while (q) {
        struct queued *next = q->next;
        berth__supervisor__v1__envelope__free_unpacked(q->env, NULL);
        free(q);
        q = next;
    }
    sub->head = sub->tail = NULL;
    sub->n_queued = 0;
}

void
sup_events_free(struct sup_events *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->lock);
    bool empty = ev->subs == NULL;
    for (struct sup_subscriber *s = ev->subs; s; s = s->next) {
        s->closed = true;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&ev->lock);
    // Subscribers belong to their stream handlers, which unsubscribe once woken; the rpc
    // server waits for those calls before the daemon frees the exchange, so by now the
    // list is empty. A non-empty list here is a shutdown-order bug: leak rather than race.
    if (empty) {
        pthread_mutex_destroy(&ev->lock);
        free(ev);
    } else {
        berth_warn("events: exchange freed with live subscribers");
    }
}

static Berth__Supervisor__V1__Envelope *
envelope_new(const char *ns, const char *topic, const char *type, const uint8_t *data,
             size_t len, int64_t ts)
{
    Berth__Supervisor__V1__Envelope *env = xmalloc(sizeof(*env));
    berth__supervisor__v1__envelope__init(env);
    env->timestamp = ts;
    env->namespace_ = xstrdup(ns);
    env->topic = xstrdup(topic);
    env->type = xstrdup(type);
    env->event.len = len;
    env->event.data = xmalloc(len ? len : 1);
    if (len)
        memcpy(env->event.data, data, len);
    return env;
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
sup_events_publish_raw(struct sup_events *ev, const char *ns, const char *topic,
                       const char *type, const uint8_t *data, size_t len)
{
    int64_t ts = now_ns();
    // The matching copy is what filters see; it is also the first subscriber's envelope.
    Berth__Supervisor__V1__Envelope *probe = envelope_new(ns, topic, type, data, len, ts);
    berth_debug("event ns=%s topic=%s", ns, topic);

    pthread_mutex_lock(&ev->lock);
    for (struct sup_subscriber *s = ev->subs; s; s = s->next) {
        if (s->closed)
            continue;
        if (s->filter && !berth_filter_match(s->filter, &probe->base, sup_events_type))
            continue;
        if (s->n_queued >= SUP_EVENTS_MAX_QUEUED) {
            berth_warn("events: subscriber %zu events behind, closing it", s->n_queued);
            s->closed = true;
            queue_free(s);
            pthread_cond_broadcast(&s->cond);
            continue;
        }
        struct queued *q = xmalloc(sizeof(*q));
        q->next = NULL;
        q->env = envelope_new(ns, topic, type, data, len, ts);
        if (s->tail)
            s->tail->next = q;
        else
            s->head = q;
        s->tail = q;
        s->n_queued++;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&ev->lock);
    berth__supervisor__v1__envelope__free_unpacked(probe, NULL);
}

void
sup_events_publish(struct sup_events *ev, const char *ns, const char *topic,
                   const ProtobufCMessage *event)
{
    size_t len = protobuf_c_message_get_packed_size(event);
    cleanup_free uint8_t *buf = xmalloc(len ? len : 1);
    protobuf_c_message_pack(event, buf);
    sup_events_publish_raw(ev, ns, topic, event->descriptor->name, buf, len);
}

struct sup_subscriber *
sup_events_subscribe(struct sup_events *ev, struct berth_filter *filter)
{
    struct sup_subscriber *sub = xzalloc(sizeof(*sub));
    sub->filter = filter;
    sub->ev = ev;
    pthread_cond_init(&sub->cond, NULL);
    pthread_mutex_lock(&ev->lock);
    sub->next = ev->subs;
    ev->subs = sub;
    pthread_mutex_unlock(&ev->lock);
    return sub;
}

int
sup_subscriber_next(struct sup_subscriber *sub, Berth__Supervisor__V1__Envelope **out)
{
    pthread_mutex_t *lock = &sub->ev->lock;
    pthread_mutex_lock(lock);
    while (!sub->head && !sub->closed)
        pthread_cond_wait(&sub->cond, lock);
    if (sub->closed) {
        pthread_mutex_unlock(lock);
        return 0;
    }
    struct queued *q = sub->head;
    sub->head = q->next;
    if (!sub->head)
        sub->tail = NULL;
    sub->n_queued--;
    pthread_mutex_unlock(lock);
    *out = q->env;
    free(q);
    return 1;
}

void
sup_subscriber_close(struct sup_subscriber *sub)
{
    pthread_mutex_lock(&sub->ev->lock);
    sub->closed = true;
    pthread_cond_broadcast(&sub->cond);
    pthread_mutex_unlock(&sub->ev->lock);
}

void
sup_events_unsubscribe(struct sup_events *ev, struct sup_subscriber *sub)
{
    pthread_mutex_lock(&ev->lock);
    for (struct sup_subscriber **p = &ev->subs; *p; p = &(*p)->next) {
        if (*p == sub) {
            *p = sub->next;
            break;
        }
    }
    queue_free(sub);
    pthread_mutex_unlock(&ev->lock);
    pthread_cond_destroy(&sub->cond);
    berth_filter_free(sub->filter);
    free(sub);
}
