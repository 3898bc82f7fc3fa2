/* SPDX-License-Identifier: Apache-2.0
 *
 * The OCI spec berth-ctr gives a new container (ocirun's default, adapted to the command
 * line) and the process spec of an exec (the container's process, adapted).
 */
#ifndef BERTH_SUPERVISOR_CTR_SPEC_H
#define BERTH_SUPERVISOR_CTR_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct json_object;

/* What the command line says about a process. Strings and vectors are borrowed. */
struct ctr_process_opts {
    char **args;     /* NULL-terminated; NULL or empty: keep what the spec has */
    char **env;      /* KEY=VALUE, NULL-terminated or NULL; replaces the same KEY */
    const char *cwd; /* NULL: keep */
    const char
        *user; /* "uid[:gid]" or "name[:group]" (names looked up in the rootfs); NULL: keep */
    bool terminal;
};

struct ctr_spec_opts {
    const char *id;          /* becomes the hostname */
    const char *rootfs;      /* absolute; root.path (NULL: keep the config file's) */
    const char *users_root;  /* where user names are looked up (NULL: rootfs) */
    const char *config_file; /* a whole config.json to start from instead of the default */
    /* An OCI image config (its "config" object holds Env, Entrypoint, Cmd, WorkingDir and
     * User), or NULL. Borrowed. */
    struct json_object *image_config;
    struct ctr_process_opts process;
    char **mounts; /* --mount values, NULL-terminated or NULL */
};

/* A new spec. Without a config file: ocirun's default, with args /bin/sh unless given, env
 * PATH (and TERM=xterm with a terminal) plus the given env, hostname id, root.path rootfs
 * (writable), and the extra mounts. With one, that file with only what was given applied.
 *
 * With an image config, as docker and ctr run an image: env is PATH, then the image's Env
 * (replacing the same keys), then the given env; args are the image's Entrypoint followed by
 * the given args, or by its Cmd when none are given (EINVAL when both are empty); cwd is the
 * image's WorkingDir ("/" without one) unless given; the user is the image's User unless
 * given. */
struct json_object *ctr_spec_new(const struct ctr_spec_opts *o, struct berth_err *err);

/* The user a spec would get from o (--user, else the image config's User; NULL for none):
 * for the caller to know whether names must be looked up (ctr_spec_user_is_numeric). */
const char *ctr_spec_user(const struct ctr_spec_opts *o);

/* "1000", "1000:100": nothing to look up in a root filesystem. */
bool ctr_spec_user_is_numeric(const char *user);

/* The "process" of an exec in a container with spec: a copy of the spec's process with o
 * applied (args must be given). rootfs (may be NULL) is where user names are looked up. */
struct json_object *ctr_spec_exec_process(struct json_object *spec, const char *rootfs,
                                          const struct ctr_process_opts *o, struct berth_err *err);

/* Does the spec ask for a terminal (process.terminal)? */
bool ctr_spec_terminal(struct json_object *spec);

/* Make the spec ask for one: process.terminal, and TERM=xterm unless the env has a TERM. */
int ctr_spec_set_terminal(struct json_object *spec, struct berth_err *err);

#endif
