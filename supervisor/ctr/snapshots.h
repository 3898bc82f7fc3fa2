/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr snapshots`: the command group over the supervisor's Snapshots service
 * (snapshots.c).
 */
#ifndef BERTH_SUPERVISOR_CTR_SNAPSHOTS_H
#define BERTH_SUPERVISOR_CTR_SNAPSHOTS_H

struct berth_err;
struct ctr_global;

int ctr_cmd_snapshots(struct ctr_global *g, int argc, char **argv, struct berth_err *err);

#endif
