/* SPDX-License-Identifier: Apache-2.0
 *
 * What every service of berth-supervisor reaches: the metadata store, the task manager and
 * the event exchange, plus the daemon's options. One instance, built by main, passed to each
 * service as its handler data (no globals).
 */
#ifndef BERTH_SUPERVISOR_DAEMON_H
#define BERTH_SUPERVISOR_DAEMON_H

#include <stdbool.h>

struct sup_content;
struct sup_events;
struct sup_images_state;
struct sup_leases;
struct sup_remote;
struct sup_remote_options;
struct sup_snapshotter;
struct sup_store;
struct sup_tasks;

struct sup_daemon {
    const char *root;    /* persistent data: meta.db, logs */
    const char *state;   /* runtime state: task bundles, runtime roots (tmpfs) */
    const char *address; /* the gRPC socket */
    const char *runtime; /* default runtime binary */
    const char *shim;    /* berth-shim binary */
    bool debug;
    struct sup_store *store;
    struct sup_tasks *tasks;
    struct sup_events *events;
    struct sup_snapshotter *snapshots; /* <root>/snapshots */
    struct sup_content *content;
    struct sup_leases *leases; /* work in progress the collector must spare */
    struct sup_remote *remote; /* the shared registry client */
    /* What the shared client was made with, for a client of one call (its own credentials
     * or plain http). */
    const struct sup_remote_options *remote_opts;
    struct sup_images_state *images; /* the background collector */
};

#endif
