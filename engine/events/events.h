/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's event bus: what GET /events streams. Publishers (API connection threads, the
 * container monitor) record an event; the bus keeps the last ENG_EVENTS_RING of them, so a
 * client asking with `since` gets what happened before it came, and wakes every subscriber
 * waiting for live ones. Everything here is thread-safe: one mutex guards the ring and the
 * subscriber count, one condition variable is broadcast on each publish and at close.
 *
 * A subscription's life:
 *
 *   eng_events_subscribe --> replaying the ring (since / until) --> waiting for live events
 *        eng_events_next: 1 per event, ENG_EVENTS_TIMEOUT when nothing came in time
 *   --> 0 from eng_events_next (until reached, or eng_events_close) --> eng_events_unsubscribe
 *
 * A subscriber that falls more than ENG_EVENTS_RING events behind loses the oldest ones, as
 * dockerd's slow listeners do; it goes on from the oldest event still kept.
 */
#ifndef BERTH_ENGINE_EVENTS_EVENTS_H
#define BERTH_ENGINE_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct eng_events;
struct eng_events_filter;
struct eng_events_sub;

/* How many events the bus keeps for `since` (dockerd keeps 256). */
#define ENG_EVENTS_RING 1024

/* eng_events_next: nothing came within the timeout. */
#define ENG_EVENTS_TIMEOUT 2

struct eng_events *eng_events_new(void);

/* Close the bus (eng_events_close) and free it. Every subscription must have been
 * unsubscribed by then. NULL is fine. */
void eng_events_free(struct eng_events *ev);

/* Wake every subscriber and make eng_events_next answer 0 from now on: a stopping daemon
 * calls it before it waits for its connection threads, so that /events streams end. Events
 * published afterwards are still recorded (a monitor may be finishing) but never delivered. */
void eng_events_close(struct eng_events *ev);

/* After eng_events_close: wait (at most timeout_ms) until every subscription has been
 * unsubscribed, i.e. every /events response has been written to its end, so that stopping the
 * HTTP server next does not cut a stream before its last chunk. Returns whether none is left. */
bool eng_events_wait_idle(struct eng_events *ev, int timeout_ms);

/* Record one event now and wake subscribers. type: "container", "image", "volume",
 * "network", "daemon"; action: docker's ("create", "start", "die", "pull", "tag", "untag",
 * "delete", ...); id: the actor's ID; attrs: a JSON object of string attributes, taken (NULL
 * for none; containers pass name, image, exitCode, signal...). ev NULL is a no-op (attrs is
 * still released), so code run without a bus (tools, tests) needs no checks. */
void eng_events_publish(struct eng_events *ev, const char *type, const char *action, const char *id,
                        struct json_object *attrs);

/* Like eng_events_publish at a given time (ns since the epoch), for tests and for events
 * found late (an exit recorded while berthd was down). Times should not go backwards:
 * `since` replays from the first event at or after it in the order published. */
void eng_events_publish_at(struct eng_events *ev, int64_t time_ns, const char *type,
                           const char *action, const char *id, struct json_object *attrs);

/* Subscribe. since_ns > 0: first replay the kept events at or after it; until_ns > 0: skip
 * events after it and end once the clock passes it; without either only live events come.
 * filter (taken; NULL: everything) selects what is delivered. Never fails. */
struct eng_events_sub *eng_events_subscribe(struct eng_events *ev, int64_t since_ns,
                                            int64_t until_ns, struct eng_events_filter *filter);

/* The next event for s as one line of docker's JSON (heap, no newline; *len its length).
 * Waits at most timeout_ms (< 0: no limit; 0: only what is there). Returns 1 with *line,
 * ENG_EVENTS_TIMEOUT when nothing came in time, 0 when the subscription is over (until
 * passed, or the bus closed). */
int eng_events_next(struct eng_events_sub *s, int timeout_ms, char **line, size_t *len);

/* End a subscription and free it (its filter too). NULL is fine. */
void eng_events_unsubscribe(struct eng_events_sub *s);

/* The number of open subscriptions (docker info's NEventsListener). */
int eng_events_n_subscribers(struct eng_events *ev);

#endif
