/* SPDX-License-Identifier: Apache-2.0
 *
 * The OCI runtime spec of a container, generated from what the Docker API hands the engine:
 * a ContainerCreate body (the Config fields at the top level, plus "HostConfig") and the
 * "config" part of the image's configuration. The result is the config.json the engine puts
 * in the bundle it hands to the runtime, with Docker's defaults: its 14 capabilities, the
 * default seccomp profile (contrib/seccomp/default.json), masked and read-only /proc and /sys
 * paths, the usual /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and cgroup mounts.
 *
 * Generation reads files (the rootfs's /etc/passwd and /etc/group, host device nodes, a
 * seccomp profile named in SecurityOpt) but changes nothing anywhere, so a failure leaves
 * nothing to undo.
 */
#ifndef BERTH_ENGINE_SPEC_SPEC_H
#define BERTH_ENGINE_SPEC_SPEC_H

struct json_object;
struct berth_err;

/* Where a named or anonymous volume lives on the host. name is the volume's name, or "" for
 * the anonymous volume of an image's Volumes entry or a Mounts entry of type volume without a
 * source; dest is where it goes in the container. Returns the host path (heap, the generator
 * frees it) or NULL with err set; the callback may create the volume. */
typedef char *(*engine_spec_volume_fn)(void *data, const char *name, const char *dest,
                                       struct berth_err *err);

/* The namespace file of another container, for IpcMode / PidMode "container:<ref>":
 * ns is "ipc" or "pid". Returns a path such as "/proc/1234/ns/ipc" (heap) or NULL with err
 * set (ENOENT for an unknown container, EBUSY for one that is not running). */
typedef char *(*engine_spec_ns_fn)(void *data, const char *ref, const char *ns,
                                   struct berth_err *err);

struct engine_spec_input {
    /* The ContainerCreate body (required) and the image config's "config" object (NULL for
     * an image without one). Borrowed: the generator neither keeps nor changes them. */
    struct json_object *create;
    struct json_object *image_config;

    const char *id;     /* required; the default hostname is its first 12 characters */
    const char *name;   /* the container's name, without a leading '/'; may be NULL */
    const char *rootfs; /* required: the host path of the mounted root filesystem */

    /* Files the engine made for the container, bound onto /etc/hostname, /etc/hosts and
     * /etc/resolv.conf; NULL leaves that file alone. */
    const char *hostname_path;
    const char *hosts_path;
    const char *resolv_conf_path;
    /* A host directory for /dev/shm when IpcMode is "shareable" or "container:<ref>" (for
     * the latter: the other container's). NULL: a tmpfs of ShmSize bytes. */
    const char *shm_path;
    /* The cgroup parent used when HostConfig.CgroupParent is empty (default "/berth"). */
    const char *cgroup_parent;
    /* The init binary bound at /sbin/docker-init for HostConfig.Init; NULL: the first of
     * docker-init, tini-static and tini found in /usr/bin, /usr/local/bin, /usr/sbin. */
    const char *init_path;

    engine_spec_volume_fn volume; /* NULL: any volume is an error */
    void *volume_data;
    engine_spec_ns_fn container_ns; /* NULL: "container:<ref>" modes are an error */
    /* The network namespace to join (a container's own, made before each start, or another
     * container's); NULL: as HostConfig.NetworkMode says (none and host only). */
    const char *netns_path;
    void *container_ns_data;
};

/* Generate the config.json object of the container described by in. On success *out is a
 * new object the caller puts (json_object_put); returns 0. On failure returns -1, *out is
 * untouched, and err holds EINVAL naming the field for bad input ("HostConfig.Memory:
 * expected an integer, got a string", "Config.User: unknown user `bob`"), ENOTSUP for what
 * the engine does not do yet (network modes other than none and host), or the errno of a
 * file that could not be read. */
int engine_spec_generate(const struct engine_spec_input *in, struct json_object **out,
                         struct berth_err *err);

#endif
