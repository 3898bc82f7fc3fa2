/* SPDX-License-Identifier: Apache-2.0
 *
 * berth-ctr's command-line layer: the global options every command receives, the command
 * tables main and the command groups dispatch through, and the small functions all command
 * files share (cli.c). Each command group lives in one file (namespaces.c, containers.c,
 * tasks.c, run.c, events.c, version.c), parses its options, fills a request and makes its
 * supervisor calls through client.h. Only main decides the exit status.
 */
#ifndef BERTH_SUPERVISOR_CTR_CTR_H
#define BERTH_SUPERVISOR_CTR_CTR_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct berth_err;
struct berth_rpc_client;

#define CTR_DEFAULT_ADDRESS   "/run/berth/supervisor.sock"
#define CTR_DEFAULT_NAMESPACE "default"
#define CTR_DEFAULT_RUNTIME   "io.berth.ocirun.v1"

/* Options given before the command name. */
struct ctr_global {
    const char *address;             /* --address / BERTH_ADDRESS: the supervisor's socket */
    const char *ns;                  /* --namespace / BERTH_NAMESPACE */
    int timeout_ms;                  /* --timeout: deadline of unary calls, 0 for none */
    bool debug;                      /* --debug: log every call */
    struct berth_rpc_client *client; /* opened by the first call (client.c); main frees it */
};

/* A command returns its process exit status (>= 0) or -1 with err filled. argv[0] is the
 * command's own name; getopt starts over (optind = 0) for each command. */
typedef int (*ctr_cmd_fn)(struct ctr_global *g, int argc, char **argv, struct berth_err *err);

struct ctr_cmd {
    const char *name;
    const char *aliases; /* other names, space-separated; NULL for none */
    ctr_cmd_fn fn;
    const char *summary;
};

/* The top-level commands, one file each. */
int ctr_cmd_version(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_namespaces(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_containers(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_tasks(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_run(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_events(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_content(struct ctr_global *g, int argc, char **argv, struct berth_err *err);
int ctr_cmd_images(struct ctr_global *g, int argc, char **argv, struct berth_err *err);

/* ---------------------------------------------------------------- cli.c */

/* Find name (or one of the aliases) in cmds; NULL when none matches. */
const struct ctr_cmd *ctr_cmd_find(const struct ctr_cmd *cmds, size_t n, const char *name);

/* Print the list of cmds, one a line with its aliases and summary, indented. */
void ctr_cmd_list(FILE *out, const struct ctr_cmd *cmds, size_t n);

/* A command group ("tasks"): argv[0] is the group's name, argv[1] the sub-command. Prints the
 * group's help for -h/--help/help or no sub-command, and dispatches the rest, with argv[0] =
 * the sub-command and getopt restarted. An unknown sub-command is an error. */
int ctr_dispatch(const char *group, const char *summary, const struct ctr_cmd *cmds, size_t n,
                 struct ctr_global *g, int argc, char **argv, struct berth_err *err);

/* "Usage: berth-ctr <cmd> <usage>", the description and the options help, to stdout. cmd is
 * the full command path ("tasks kill"); description and options may be NULL. */
void ctr_usage(const char *cmd, const char *usage, const char *description, const char *options);

/* The error for an option getopt refused (it already printed why): "invalid option for
 * `<cmd>` (see --help)". Returns -1. */
int ctr_bad_option(const char *cmd, struct berth_err *err);

/* For commands whose only option is --help: parses it. Returns 1 when help was printed, 0 to
 * go on (optind at the first argument), -1 with err on a bad option. */
int ctr_parse_no_options(const char *cmd, const char *usage, const char *description, int argc,
                         char **argv, struct berth_err *err);

/* Exactly one positional argument left (after getopt): returns it, or NULL with err
 * "`<cmd>` requires exactly one <what>". */
const char *ctr_one_arg(const char *cmd, const char *what, int argc, char **argv,
                        struct berth_err *err);

/* Print an error as main does ("berth-ctr: <message>" on stderr) and clear it: for commands
 * that go on to the next of several arguments after one fails. */
void ctr_report(struct berth_err *err);

/* A protobuf map<string, string> (its entries, of type entry) from KEY=VALUE arguments; "KEY"
 * alone means an empty value. With skip_empty, pairs whose value is empty are left out (a
 * label update removes those). Entries and their strings are new: free them with
 * ctr_map_free. Returns -1 with err on an empty key. */
int ctr_map_from_args(const ProtobufCMessageDescriptor *entry, char *const *kv, size_t n,
                      bool skip_empty, ProtobufCMessage ***out, size_t *n_out,
                      struct berth_err *err);
void ctr_map_free(ProtobufCMessage **entries, size_t n);

/* "k1=v1,k2=v2" of a map<string, string> (entries as protobuf-c holds them), sorted by key;
 * "" when empty. Returns a heap string. */
char *ctr_map_join(ProtobufCMessage *const *entries, size_t n);

/* Append s to the NULL-terminated vector *v of *n entries (the strings are borrowed). */
void ctr_strv_push(char ***v, size_t *n, char *s);

#endif
