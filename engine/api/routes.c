/* SPDX-License-Identifier: Apache-2.0
 *
 * The route table of the Docker Engine API v1.41 as berthd serves it. Order matters where
 * patterns overlap: literal paths ("/images/json") come before the `{name*}` patterns that
 * would take them too.
 */
#include "common/cleanup.h"
#include "engine/api/handlers.h"
#include "engine/api/router.h"

/* clang-format off */
const struct eng_api_route eng_api_routes[] = {
    {"GET",    "/_ping",                   eng_api_system_ping, 0},
    {"HEAD",   "/_ping",                   eng_api_system_ping, 0},
    {"GET",    "/version",                 eng_api_system_version, 0},
    {"GET",    "/info",                    eng_api_system_info, 0},
    {"GET",    "/events",                  eng_api_events, 0},
    {"GET",    "/system/df",               eng_api_system_df, 0},
    {"POST",   "/auth",                    eng_api_auth, 0},

    {"POST",   "/containers/create",       eng_api_containers_create, 0},
    {"GET",    "/containers/json",         eng_api_containers_list, 0},
    {"POST",   "/containers/prune",        eng_api_containers_prune, 0},
    {"GET",    "/containers/{id}/json",    eng_api_containers_inspect, 0},
    {"GET",    "/containers/{id}/top",     eng_api_containers_top, 0},
    {"POST",   "/containers/{id}/start",   eng_api_containers_start, 0},
    {"POST",   "/containers/{id}/stop",    eng_api_containers_stop, 0},
    {"POST",   "/containers/{id}/restart", eng_api_containers_restart, 0},
    {"POST",   "/containers/{id}/kill",    eng_api_containers_kill, 0},
    {"POST",   "/containers/{id}/wait",    eng_api_containers_wait, 0},
    {"POST",   "/containers/{id}/rename",  eng_api_containers_rename, 0},
    {"POST",   "/containers/{id}/pause",   eng_api_containers_pause, 0},
    {"POST",   "/containers/{id}/unpause", eng_api_containers_unpause, 0},
    {"DELETE", "/containers/{id}",         eng_api_containers_delete, 0},
    {"GET",    "/containers/{id}/logs",    eng_api_containers_logs, 0},
    {"HEAD",   "/containers/{id}/archive", eng_api_containers_archive_stat, 0},
    {"GET",    "/containers/{id}/archive", eng_api_containers_archive_get, 0},
    {"PUT",    "/containers/{id}/archive", eng_api_containers_archive_put, ENG_API_BODY_FILE},
    {"GET",    "/containers/{id}/export",  eng_api_containers_export, 0},
    {"GET",    "/containers/{id}/changes", eng_api_containers_changes, 0},
    {"POST",   "/containers/{id}/attach",  eng_api_containers_attach, 0},
    {"POST",   "/containers/{id}/resize",  eng_api_containers_resize, 0},
    {"GET",    "/containers/{id}/stats",   eng_api_containers_stats, 0},
    {"POST",   "/containers/{id}/update",  eng_api_containers_update, 0},
    {"POST",   "/containers/{id}/exec",    eng_api_exec_create, 0},
    {"POST",   "/exec/{id}/start",         eng_api_exec_start, 0},
    {"POST",   "/exec/{id}/resize",        eng_api_exec_resize, 0},
    {"GET",    "/exec/{id}/json",          eng_api_exec_inspect, 0},
    {"POST",   "/commit",                  eng_api_commit, 0},

    {"GET",    "/images/json",             eng_api_images_list, 0},
    {"GET",    "/images/search",           eng_api_images_search, 0},
    {"GET",    "/images/get",              eng_api_images_save, 0},
    {"POST",   "/images/create",           eng_api_images_create, 0},
    {"POST",   "/images/load",             eng_api_images_load, ENG_API_BODY_FILE},
    {"POST",   "/images/prune",            eng_api_images_prune, 0},
    {"GET",    "/images/{name*}/json",     eng_api_images_inspect, 0},
    {"GET",    "/images/{name*}/history",  eng_api_images_history, 0},
    {"GET",    "/images/{name*}/get",      eng_api_images_save_one, 0},
    {"POST",   "/images/{name*}/tag",      eng_api_images_tag, 0},
    {"POST",   "/images/{name*}/push",     eng_api_images_push, 0},
    {"DELETE", "/images/{name*}",          eng_api_images_delete, 0},

    {"GET",    "/volumes",                 eng_api_volumes_list, 0},
    {"POST",   "/volumes/create",          eng_api_volumes_create, 0},
    {"POST",   "/volumes/prune",           eng_api_volumes_prune, 0},
    {"GET",    "/volumes/{name}",          eng_api_volumes_inspect, 0},
    {"DELETE", "/volumes/{name}",          eng_api_volumes_delete, 0},

    {"GET",    "/networks",                eng_api_networks_list, 0},
    {"POST",   "/networks/create",         eng_api_networks_create, 0},
    {"POST",   "/networks/prune",          eng_api_networks_prune, 0},
    {"GET",    "/networks/{id}",           eng_api_networks_inspect, 0},
    {"DELETE", "/networks/{id}",           eng_api_networks_delete, 0},
    {"POST",   "/networks/{id}/connect",   eng_api_networks_connect, 0},
    {"POST",   "/networks/{id}/disconnect", eng_api_networks_disconnect, 0},

    /* Features berthd does not have, answered as dockerd answers when they are off. */
    {"GET",    "/swarm",                   eng_api_unsupported_swarm, 0},
    {"POST",   "/swarm/{rest*}",           eng_api_unsupported_swarm, 0},
    {"GET",    "/swarm/{rest*}",           eng_api_unsupported_swarm, 0},
    {"GET",    "/nodes",                   eng_api_unsupported_swarm, 0},
    {"GET",    "/nodes/{rest*}",           eng_api_unsupported_swarm, 0},
    {"POST",   "/nodes/{rest*}",           eng_api_unsupported_swarm, 0},
    {"DELETE", "/nodes/{rest*}",           eng_api_unsupported_swarm, 0},
    {"GET",    "/services",                eng_api_unsupported_swarm, 0},
    {"GET",    "/services/{rest*}",        eng_api_unsupported_swarm, 0},
    {"POST",   "/services/{rest*}",        eng_api_unsupported_swarm, 0},
    {"DELETE", "/services/{rest*}",        eng_api_unsupported_swarm, 0},
    {"GET",    "/tasks",                   eng_api_unsupported_swarm, 0},
    {"GET",    "/tasks/{rest*}",           eng_api_unsupported_swarm, 0},
    {"GET",    "/secrets",                 eng_api_unsupported_swarm, 0},
    {"GET",    "/secrets/{rest*}",         eng_api_unsupported_swarm, 0},
    {"POST",   "/secrets/{rest*}",         eng_api_unsupported_swarm, 0},
    {"DELETE", "/secrets/{rest*}",         eng_api_unsupported_swarm, 0},
    {"GET",    "/configs",                 eng_api_unsupported_swarm, 0},
    {"GET",    "/configs/{rest*}",         eng_api_unsupported_swarm, 0},
    {"POST",   "/configs/{rest*}",         eng_api_unsupported_swarm, 0},
    {"DELETE", "/configs/{rest*}",         eng_api_unsupported_swarm, 0},
    {"GET",    "/plugins",                 eng_api_unsupported_plugins, 0},
    {"GET",    "/plugins/{rest*}",         eng_api_unsupported_plugins, 0},
    {"POST",   "/plugins/{rest*}",         eng_api_unsupported_plugins, 0},
    {"DELETE", "/plugins/{rest*}",         eng_api_unsupported_plugins, 0},
    {"POST",   "/build",                   eng_api_unsupported_build, 0},
    {"POST",   "/build/{rest*}",           eng_api_unsupported_build, 0},
    {"POST",   "/session",                 eng_api_unsupported_session, 0},
};
/* clang-format on */

const size_t eng_api_n_routes = ARRAY_SIZE(eng_api_routes);
