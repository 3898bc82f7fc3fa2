/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's context: what main sets up once (paths, the store, the supervisor client) and
 * hands to every API handler. Nothing in it changes after start, so handlers on many
 * connection threads read it without locks; the store and the client lock for themselves.
 */
#ifndef BERTH_ENGINE_DAEMON_H
#define BERTH_ENGINE_DAEMON_H

#include <stdbool.h>
#include <time.h>

struct eng_config;
struct eng_containers;
struct eng_events;
struct eng_store;
struct eng_sup;

/* The supervisor namespace every engine object lives in. */
#define ENG_NAMESPACE "berth"

struct eng_daemon {
    const char *root;       /* --root / data-root: the store, persistent data */
    const char *state;      /* --state: temporary files (uploads), the lock */
    const char *host;       /* the socket path (without unix://) */
    const char *group;      /* --group: the socket's group; NULL: "berth" when it exists */
    const char *supervisor; /* the supervisor's socket */
    bool debug;
    /* Set (atomically) when berthd is stopping: handlers that block (wait, logs -f) return. */
    bool stopping;
    const struct eng_config *config; /* daemon.json, with defaults filled in */
    struct eng_store *store;
    struct eng_sup *sup;
    struct eng_events *events;         /* engine/events: the /events bus */
    struct eng_containers *containers; /* engine/containers: every container, in memory */
};

#endif
