/* SPDX-License-Identifier: Apache-2.0
 *
 * ocirun's command-line layer: the global options every command receives, and the command
 * table main dispatches through. Each command lives in cmd/<name>.c, fills a context and makes
 * one call into the runtime library (container.h). Only main decides the exit status.
 */
#ifndef BERTH_OCIRUN_OCIRUN_H
#define BERTH_OCIRUN_OCIRUN_H

#include <stdbool.h>

struct berth_err;

#define OCIRUN_DEFAULT_ROOT "/run/ocirun"
#define OCIRUN_SPEC_VERSION "1.2.0"

/* json-c output flags for what ocirun prints: paths keep their slashes unescaped. */
#define OCIRUN_JSON_PRETTY                                                                         \
    (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
#define OCIRUN_JSON_PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Options given before the command name (runc's global flags). */
struct ocirun_global {
    const char *root;    /* --root: state directory, one sub-directory per container */
    const char *log;     /* --log: log file, NULL for stderr */
    int log_format;      /* --log-format: enum berth_log_format */
    bool debug;          /* --debug */
    bool systemd_cgroup; /* --systemd-cgroup */
    const char *argv0;   /* how we were invoked, for messages */
};

/* A command returns its process exit status (>= 0) or -1 with err filled. */
typedef int (*ocirun_cmd_fn)(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);

struct ocirun_cmd {
    const char *name;
    ocirun_cmd_fn fn;
    const char *summary;
    bool enters_container; /* runs ocirun code inside a container: re-exec sealed first */
};

int ocirun_cmd_create(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_start(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_run(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_state(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_kill(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_delete(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_exec(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_pause(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_resume(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_ps(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_events(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_update(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_list(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_spec(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);
int ocirun_cmd_features(struct ocirun_global *g, int argc, char **argv, struct berth_err *err);

/* Helpers shared by the commands (cmd/common.c). */

/* Exactly one positional argument, the container id, after the options parsed by getopt:
 * returns argv[optind] or NULL with err "`<cmd>` requires exactly one container id". */
const char *ocirun_cmd_one_id(const char *cmd, int argc, char **argv, struct berth_err *err);

/* Print "Usage: ocirun <cmd> <usage>" and the option help to stdout. */
void ocirun_cmd_usage(const char *cmd, const char *usage, const char *options);

#endif
