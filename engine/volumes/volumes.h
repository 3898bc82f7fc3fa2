/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's volumes: docker's "local" driver. A volume is a directory,
 * <root>/volumes/<name>/_data on the host, and a row of engine.db (store.h) with its labels,
 * options and whether it was made anonymously; container_volumes records which container
 * mounts it where, so that a volume in use cannot be removed.
 *
 *   (none) -- eng_volume_create / eng_volume_acquire --> unused <-- eng_volume_detach_all --+
 *                                                          |                               |
 *                                                          +---- eng_volume_attach --> in use
 *   unused -- eng_volume_remove / eng_volume_prune / detach_all(remove_anonymous) --> (none)
 *
 * Creating and removing are serialized inside berthd (one lock), so that two requests for
 * one name never see each other's half-made directory.
 */
#ifndef BERTH_ENGINE_VOLUMES_VOLUMES_H
#define BERTH_ENGINE_VOLUMES_VOLUMES_H

#include <stdbool.h>
#include <stdint.h>

struct berth_err;
struct eng_daemon;
struct eng_store_volume;
struct json_object;

/* The only driver berthd has. */
#define ENG_VOLUME_DRIVER "local"

/* Whether name is a volume name docker accepts ([a-zA-Z0-9][a-zA-Z0-9_.-]+); EINVAL with
 * docker's message naming it otherwise. */
int eng_volume_name_check(const char *name, struct berth_err *err);

/* Create volume name with driver (NULL or "" for local; any other is EINVAL), labels and
 * options (JSON objects or NULL; borrowed). When name exists already it is left as it is and
 * *existed is set, as dockerd returns an existing volume from create. The volume's document
 * (eng_volume_json) goes to *out when out is not NULL. Nothing is left behind on failure. */
int eng_volume_create(struct eng_daemon *d, const char *name, const char *driver,
                      struct json_object *labels, struct json_object *options, bool *existed,
                      struct json_object **out, struct berth_err *err);

/* The host directory (heap) of volume `name`, creating it (driver "local") when it does not
 * exist; name "" or NULL makes an anonymous volume with a random 64-hex name, returned in
 * *made (heap) when made is not NULL. Until eng_volume_attach or eng_volume_release_unused
 * for it, the volume counts as in use (no rm or prune takes it); call one of them once for
 * each acquire. */
char *eng_volume_acquire(struct eng_daemon *d, const char *name, char **made,
                         struct berth_err *err);

/* Record that container `id` mounts volume `name` at dest (the container row exists). */
int eng_volume_attach(struct eng_daemon *d, const char *id, const char *name, const char *dest,
                      struct berth_err *err);

/* Forget container `id`'s volumes (on rm); with remove_anonymous (rm -v) also delete the
 * anonymous ones no other container uses. */
int eng_volume_detach_all(struct eng_daemon *d, const char *id, bool remove_anonymous,
                          struct berth_err *err);

/* Drop the hold of an eng_volume_acquire whose container will not be created, and remove the
 * volume if it is anonymous and no container uses or holds it; failures are logged, not
 * returned. */
void eng_volume_release_unused(struct eng_daemon *d, const char *name);

/* Remove volume name and its directory. ENOENT "get NAME: no such volume" for an unknown name
 * (success with force, as in dockerd); EBUSY "remove NAME: volume is in use - [ids]" while a
 * container uses it, with or without force. */
int eng_volume_remove(struct eng_daemon *d, const char *name, bool force, struct berth_err *err);

/* The host directory of volume name: <root>/volumes/<name>/_data (heap). */
char *eng_volume_path(struct eng_daemon *d, const char *name);

/* The bytes the files under the volume's directory take (docker's UsageData.Size): the
 * apparent sizes of its regular files and symlinks, each inode counted once. */
int eng_volume_size(struct eng_daemon *d, const char *name, int64_t *out, struct berth_err *err);

/* docker's Volume document for row v: Name, Driver, Mountpoint, CreatedAt, Labels, Scope,
 * Options, and UsageData ({Size, RefCount}) when with_usage, else no UsageData. */
struct json_object *eng_volume_json(struct eng_daemon *d, const struct eng_store_volume *v,
                                    bool with_usage);

/* One volume's document, or NULL with ENOENT "get NAME: no such volume". */
struct json_object *eng_volume_inspect(struct eng_daemon *d, const char *name,
                                       struct berth_err *err);

#endif
