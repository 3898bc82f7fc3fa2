/* SPDX-License-Identifier: Apache-2.0
 *
 * The handlers the route table (routes.c) names, one file per resource: system.c,
 * images.c, images-transfer.c (pull, push, save, load), unsupported.c. Each takes the request
 * and either answers it (eng_api_reply_*) and returns 0, or returns -1 with err.
 */
#ifndef BERTH_ENGINE_API_HANDLERS_H
#define BERTH_ENGINE_API_HANDLERS_H

struct berth_err;
struct eng_api_req;
struct eng_ctr;
struct json_object;

#define ENG_API_HANDLER(name) int name(struct eng_api_req *req, struct berth_err *err)

/* system.c */
ENG_API_HANDLER(eng_api_system_ping);
ENG_API_HANDLER(eng_api_system_version);
ENG_API_HANDLER(eng_api_system_info);

/* events.c, df.c, auth.c */
ENG_API_HANDLER(eng_api_events);
ENG_API_HANDLER(eng_api_system_df);
ENG_API_HANDLER(eng_api_auth);

/* images.c */
ENG_API_HANDLER(eng_api_images_list);
ENG_API_HANDLER(eng_api_images_inspect);
ENG_API_HANDLER(eng_api_images_history);
ENG_API_HANDLER(eng_api_images_tag);
ENG_API_HANDLER(eng_api_images_delete);
ENG_API_HANDLER(eng_api_images_prune);
ENG_API_HANDLER(eng_api_images_search);

/* images-transfer.c */
ENG_API_HANDLER(eng_api_images_create);
ENG_API_HANDLER(eng_api_images_push);
ENG_API_HANDLER(eng_api_images_save);
ENG_API_HANDLER(eng_api_images_save_one);
ENG_API_HANDLER(eng_api_images_load);

/* volumes.c */
ENG_API_HANDLER(eng_api_volumes_list);
ENG_API_HANDLER(eng_api_volumes_create);
ENG_API_HANDLER(eng_api_volumes_inspect);
ENG_API_HANDLER(eng_api_volumes_delete);
ENG_API_HANDLER(eng_api_volumes_prune);

/* containers.c */
ENG_API_HANDLER(eng_api_containers_create);
ENG_API_HANDLER(eng_api_containers_list);
ENG_API_HANDLER(eng_api_containers_inspect);
ENG_API_HANDLER(eng_api_containers_start);
ENG_API_HANDLER(eng_api_containers_stop);
ENG_API_HANDLER(eng_api_containers_restart);
ENG_API_HANDLER(eng_api_containers_kill);
ENG_API_HANDLER(eng_api_containers_wait);
ENG_API_HANDLER(eng_api_containers_delete);
ENG_API_HANDLER(eng_api_containers_rename);
ENG_API_HANDLER(eng_api_containers_pause);
ENG_API_HANDLER(eng_api_containers_unpause);
ENG_API_HANDLER(eng_api_containers_top);
ENG_API_HANDLER(eng_api_containers_prune);

/* containers-io.c */
ENG_API_HANDLER(eng_api_containers_logs);
ENG_API_HANDLER(eng_api_containers_attach);
ENG_API_HANDLER(eng_api_containers_resize);
ENG_API_HANDLER(eng_api_exec_create);
ENG_API_HANDLER(eng_api_exec_start);
ENG_API_HANDLER(eng_api_exec_inspect);
ENG_API_HANDLER(eng_api_exec_resize);

/* stats.c */
ENG_API_HANDLER(eng_api_containers_stats);
ENG_API_HANDLER(eng_api_containers_update);
/* An update body applied to a copy of c's HostConfig (*hc_out) and the OCI linux.resources
 * that HostConfig makes (*res_out), both new; EINVAL naming the field otherwise. No I/O: the
 * handler's first step, and what tests/fuzz feeds bodies to. */
int eng_api_update_parse(struct eng_ctr *c, struct json_object *body, struct json_object **hc_out,
                         struct json_object **res_out, struct berth_err *err);

/* archive.c */
ENG_API_HANDLER(eng_api_containers_archive_stat);
ENG_API_HANDLER(eng_api_containers_archive_get);
ENG_API_HANDLER(eng_api_containers_archive_put);
ENG_API_HANDLER(eng_api_containers_export);
ENG_API_HANDLER(eng_api_containers_changes);

/* commit.c */
ENG_API_HANDLER(eng_api_commit);

/* networks.c */
ENG_API_HANDLER(eng_api_networks_list);
ENG_API_HANDLER(eng_api_networks_inspect);
ENG_API_HANDLER(eng_api_networks_create);
ENG_API_HANDLER(eng_api_networks_delete);
ENG_API_HANDLER(eng_api_networks_prune);
ENG_API_HANDLER(eng_api_networks_connect);
ENG_API_HANDLER(eng_api_networks_disconnect);

/* unsupported.c */
ENG_API_HANDLER(eng_api_unsupported_swarm);
ENG_API_HANDLER(eng_api_unsupported_plugins);
ENG_API_HANDLER(eng_api_unsupported_build);
ENG_API_HANDLER(eng_api_unsupported_session);

#endif
