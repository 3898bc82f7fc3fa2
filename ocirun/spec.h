/* SPDX-License-Identifier: Apache-2.0
 *
 * The OCI runtime configuration (config.json) as ocirun uses it: loaded with json-c, checked
 * field by field (a wrong type names its JSON path), and kept as plain C structs. The parsed
 * json_object stays alive in `doc` so that parts of the spec read later (hooks, seccomp,
 * resources) can be parsed where they are used.
 */
#ifndef BERTH_OCIRUN_SPEC_H
#define BERTH_OCIRUN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocirun/linux/caps.h"
#include "ocirun/linux/lsm.h"
#include "ocirun/linux/resources.h"

struct berth_err;
struct json_object;
struct ocirun_seccomp;

/* The namespaces ocirun knows, indexed by this enum (table in spec.c). */
enum ocirun_ns {
    OCIRUN_NS_PID = 0,
    OCIRUN_NS_NET,
    OCIRUN_NS_IPC,
    OCIRUN_NS_UTS,
    OCIRUN_NS_MNT,
    OCIRUN_NS_USER,
    OCIRUN_NS_CGROUP,
    OCIRUN_NS_TIME,
    OCIRUN_NS_COUNT,
};

struct ocirun_namespace {
    bool wanted; /* listed in linux.namespaces */
    char *path;  /* join this one (NULL: create a new namespace) */
};

struct ocirun_id_map {
    uint32_t container_id, host_id, size;
};

struct ocirun_mount {
    char *destination;                       /* absolute, cleaned */
    char *type;                              /* NULL when absent (a bind mount, by its options) */
    char *source;                            /* NULL when absent */
    char **options;                          /* NULL-terminated, may be empty */
    struct ocirun_id_map *uid_map, *gid_map; /* idmapped mounts */
    size_t n_uid_map, n_gid_map;
};

struct ocirun_device {
    char *path;
    char type; /* 'c', 'b', 'u' or 'p' */
    int64_t major, minor;
    bool has_mode, has_uid, has_gid;
    uint32_t mode, uid, gid;
};

struct ocirun_rlimit {
    int resource;
    uint64_t soft, hard;
};

struct ocirun_process {
    bool terminal;
    char **args;
    char **env;
    char *cwd;
    uint32_t uid, gid;
    bool has_umask;
    uint32_t umask;
    uint32_t *additional_gids;
    size_t n_additional_gids;
    struct ocirun_rlimit *rlimits;
    size_t n_rlimits;
    bool has_oom_score_adj;
    int oom_score_adj;
    bool no_new_privileges;
    struct ocirun_caps caps;
    struct ocirun_lsm lsm; /* labels, and linux.personality copied in by the spec loader */
    uint32_t console_height, console_width;
};

struct ocirun_spec {
    struct json_object *doc; /* the whole parsed config.json (owned) */
    char *bundle;            /* absolute bundle directory */
    char *oci_version;
    char *root_path; /* absolute path of the rootfs */
    bool root_readonly;
    char *hostname;
    char *domainname;
    struct ocirun_process process;
    struct ocirun_mount *mounts;
    size_t n_mounts;
    struct ocirun_namespace ns[OCIRUN_NS_COUNT];
    struct ocirun_id_map *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    struct ocirun_device *devices;
    size_t n_devices;
    char *cgroups_path; /* NULL when absent */
    char *rootfs_propagation;
    char **masked_paths;
    char **readonly_paths;
    struct json_object *annotations;   /* borrowed from doc, may be NULL */
    struct json_object *hooks;         /* borrowed from doc, checked, may be NULL */
    struct json_object *sysctl;        /* borrowed from doc, checked, may be NULL */
    struct ocirun_seccomp *seccomp;    /* parsed linux.seccomp, NULL when absent */
    struct ocirun_resources resources; /* linux.resources */
    int64_t time_offsets[2][2];        /* [monotonic, boottime][secs, nanosecs] */
    bool has_time_offsets;
};

/* Load and check <bundle>/config.json. bundle may be relative; it is made absolute.
 * Returns a new spec (free with ocirun_spec_free) or NULL with err naming the field:
 * "config.json: process.args: expected array". */
struct ocirun_spec *ocirun_spec_load(const char *bundle, struct berth_err *err);
void ocirun_spec_free(struct ocirun_spec *spec);

/* Parse a `process` object (config.json's, or exec's --process file) into pr, which must be
 * zeroed. On failure pr may hold parts: release with ocirun_process_free either way. */
int ocirun_spec_parse_process(struct json_object *obj, struct ocirun_process *pr,
                              struct berth_err *err);
void ocirun_process_free(struct ocirun_process *p);

/* Namespace table: name in config.json ("network"), clone flag, /proc/self/ns entry ("net"). */
const char *ocirun_ns_name(enum ocirun_ns ns);
const char *ocirun_ns_proc_name(enum ocirun_ns ns);
int ocirun_ns_flag(enum ocirun_ns ns);

/* The rlimit table: "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown. */
int ocirun_rlimit_parse(const char *name);
/* Iterate the rlimit names (for `features`): NULL past the end. */
const char *ocirun_rlimit_name(size_t i);

static inline void
ocirun_spec_freep(struct ocirun_spec **s)
{
    if (*s)
        ocirun_spec_free(*s);
}
#define cleanup_spec __attribute__((cleanup(ocirun_spec_freep)))

#endif
