/* SPDX-License-Identifier: Apache-2.0
 *
 * The engine's own metadata, engine.db under --root: what berthd knows and the supervisor
 * does not (container names and docker configs, volumes). SQLite in WAL mode with foreign
 * keys on; the schema is versioned with append-only migrations (schema.c). Images are not
 * here: they live only in the supervisor. One connection, serialized by SQLite, shared by
 * every connection thread.
 */
#ifndef BERTH_ENGINE_STORE_STORE_H
#define BERTH_ENGINE_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct berth_err;
struct eng_store;
struct sqlite3;

/* Open (creating it if needed) root/engine.db and migrate it to the latest schema. A
 * database written by a newer berthd is ENOTSUP. */
int eng_store_open(const char *root, struct eng_store **out, struct berth_err *err);
void eng_store_close(struct eng_store *s);

/* The schema version of the open database. */
int eng_store_version(struct eng_store *s);

/* The number of containers berthd has, and of volumes. */
int eng_store_count_containers(struct eng_store *s, int64_t *out, struct berth_err *err);
int eng_store_count_volumes(struct eng_store *s, int64_t *out, struct berth_err *err);

/* ---------------------------------------------------------------- containers (containers.c) */

/* A row of the containers table; the JSON columns as text. Borrowed strings. */
struct eng_store_container {
    const char *id, *name, *image, *config, *host_config, *state;
    int64_t created_ns;
};

/* EEXIST when the id or the name is taken. */
int eng_store_container_insert(struct eng_store *s, const struct eng_store_container *c,
                               struct berth_err *err);
/* ENOENT for an unknown id. */
int eng_store_container_set_state(struct eng_store *s, const char *id, const char *state,
                                  struct berth_err *err);
/* Replace the HostConfig (docker update); ENOENT for an unknown id. */
int eng_store_container_set_host_config(struct eng_store *s, const char *id,
                                        const char *host_config, struct berth_err *err);
int eng_store_container_rename(struct eng_store *s, const char *id, const char *name,
                               struct berth_err *err);
int eng_store_container_delete(struct eng_store *s, const char *id, struct berth_err *err);
/* Call fn for every row, oldest first; a failing fn stops the walk and its error is
 * returned. */
int eng_store_container_each(struct eng_store *s,
                             int (*fn)(void *data, const struct eng_store_container *c,
                                       struct berth_err *err),
                             void *data, struct berth_err *err);

/* ---------------------------------------------------------------- volumes (volumes.c) */

/* A row of the volumes table; labels and options as JSON text. Borrowed strings. n_users
 * (read only) counts the container_volumes rows naming it. */
struct eng_store_volume {
    const char *name, *driver, *labels, *options;
    int64_t created_ns;
    bool anonymous;
    int64_t n_users;
};

/* EEXIST when the name is taken. NULL labels / options are stored as {}. */
int eng_store_volume_insert(struct eng_store *s, const struct eng_store_volume *v,
                            struct berth_err *err);
/* Call fn with the row of name (valid during the call); ENOENT "get NAME: no such volume". */
int eng_store_volume_get(struct eng_store *s, const char *name,
                         int (*fn)(void *data, const struct eng_store_volume *v,
                                   struct berth_err *err),
                         void *data, struct berth_err *err);
/* Call fn for every row, oldest first; a failing fn stops the walk and its error is returned. */
int eng_store_volume_each(struct eng_store *s,
                          int (*fn)(void *data, const struct eng_store_volume *v,
                                    struct berth_err *err),
                          void *data, struct berth_err *err);
/* ENOENT for an unknown name; EBUSY while a container_volumes row names it. */
int eng_store_volume_delete(struct eng_store *s, const char *name, struct berth_err *err);
/* Record that container mounts volume name at dest; ENOENT when either row is missing,
 * EEXIST when the container already has a mount at dest. */
int eng_store_volume_attach(struct eng_store *s, const char *container, const char *name,
                            const char *dest, struct berth_err *err);
/* Forget every volume of container (removing the container row does it too, by cascade). */
int eng_store_volume_detach_all(struct eng_store *s, const char *container, struct berth_err *err);
/* The ids of the containers using volume name, sorted, as a NULL-terminated vector (free
 * with cleanup_strv); empty when none. */
char **eng_store_volume_users(struct eng_store *s, const char *name, struct berth_err *err);
/* The names of the volumes container mounts, sorted, NULL-terminated (cleanup_strv). */
char **eng_store_container_volumes(struct eng_store *s, const char *container,
                                   struct berth_err *err);

/* ---------------------------------------------------------------- networks (networks.c) */

/* A row of the networks table; doc as JSON text. Borrowed strings. */
struct eng_store_network {
    const char *id, *name, *doc;
    int64_t created_ns;
};

/* EEXIST when the id or the name is taken. */
int eng_store_network_insert(struct eng_store *s, const struct eng_store_network *n,
                             struct berth_err *err);
/* ENOENT for an unknown id; EBUSY while a container is on it. */
int eng_store_network_delete(struct eng_store *s, const char *id, struct berth_err *err);
/* Call fn for every row, oldest first; a failing fn stops the walk and its error is returned. */
int eng_store_network_each(struct eng_store *s,
                           int (*fn)(void *data, const struct eng_store_network *n,
                                     struct berth_err *err),
                           void *data, struct berth_err *err);

/* A row of container_networks: endpoint as JSON text. Borrowed strings. */
struct eng_store_endpoint {
    const char *container, *network, *endpoint;
};

/* Put container on network (EEXIST when it is; ENOENT when either row is missing). */
int eng_store_endpoint_insert(struct eng_store *s, const struct eng_store_endpoint *e,
                              struct berth_err *err);
/* ENOENT when container is not on network. */
int eng_store_endpoint_delete(struct eng_store *s, const char *container, const char *network,
                              struct berth_err *err);
/* Every row with this container (network NULL) or this network (container NULL), in the
 * order they were made. */
int eng_store_endpoint_each(struct eng_store *s, const char *container, const char *network,
                            int (*fn)(void *data, const struct eng_store_endpoint *e,
                                      struct berth_err *err),
                            void *data, struct berth_err *err);

/* ---------------------------------------------------------------- schema (schema.c) */

/* The version this build writes: the number of migrations. */
int eng_store_schema_latest(void);

/* Bring db from its version (PRAGMA user_version) up to the latest, one transaction a
 * migration; a newer version than this build knows is ENOTSUP. */
int eng_store_schema_migrate(struct sqlite3 *db, struct berth_err *err);

#endif
