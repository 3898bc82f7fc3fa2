/* SPDX-License-Identifier: Apache-2.0
 *
 * Security labels and other per-process kernel settings applied just before exec:
 * process.apparmorProfile and process.selinuxLabel (applied when the host runs that LSM,
 * otherwise a warning, as the spec leaves them host-dependent), linux.personality, and the
 * checks for linux.intelRdt (an error when resctrl is not mounted: resource promises must not
 * be dropped silently).
 */
#ifndef BERTH_OCIRUN_LINUX_LSM_H
#define BERTH_OCIRUN_LINUX_LSM_H

#include <stdbool.h>

struct berth_err;
struct json_object;

struct ocirun_lsm {
    char *apparmor_profile; /* NULL: none */
    char *selinux_label;    /* NULL: none */
    bool has_personality;
    unsigned long personality;
};

/* Read the fields from config.json's process and linux objects (either may be NULL). */
int ocirun_lsm_parse(struct json_object *process, struct json_object *linux_obj,
                     struct ocirun_lsm *out, struct berth_err *err);
void ocirun_lsm_free(struct ocirun_lsm *l);

/* Before exec: personality, then the labels for the exec (they take effect at execve). */
int ocirun_lsm_apply(const struct ocirun_lsm *l, struct berth_err *err);

bool ocirun_lsm_apparmor_enabled(void);
bool ocirun_lsm_selinux_enabled(void);

#endif
