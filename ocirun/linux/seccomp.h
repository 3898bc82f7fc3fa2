/* SPDX-License-Identifier: Apache-2.0
 *
 * linux.seccomp: the runtime spec's seccomp profile, parsed and checked in full by
 * ocirun_seccomp_parse (so a bad profile fails `create` before anything exists on the host),
 * turned into a libseccomp filter and loaded by ocirun_seccomp_load in the container init. When
 * the profile uses SCMP_ACT_NOTIFY, the filter's notify fd goes to the seccomp agent listening
 * on listenerPath, with the "container process state" of the runtime spec.
 *
 *   config.json --ocirun_seccomp_parse--> struct ocirun_seccomp --ocirun_seccomp_load--> filter
 *                                              (runtime, early)        (init, just before exec)
 *
 * Also the default profile (contrib/seccomp/default.json, compiled in) and the names that
 * `ocirun features` reports. The name tables are the ones the parser uses, so the two cannot
 * disagree.
 */
#ifndef BERTH_OCIRUN_LINUX_SECCOMP_H
#define BERTH_OCIRUN_LINUX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct json_object;

/* The parsed profile. Opaque; owns everything it points to. */
struct ocirun_seccomp;

/* ---- Parsing ------------------------------------------------------------------------------ */

/* Parse and validate linux.seccomp (obj: that object, borrowed; NULL when the spec has none).
 *
 * On success returns 0 and sets *out to a new profile the caller frees with
 * ocirun_seccomp_free, or to NULL when obj is NULL (no seccomp: nothing to load). On failure
 * returns -1, leaves *out NULL, and err holds EINVAL (no system cause) with the JSON path of the
 * bad field: "seccomp: syscalls[3]: unknown action `SCMP_ACT_FOO`". Refused:
 *   - a value of the wrong JSON type, a missing required field (defaultAction, names, action,
 *     index, value, op), an empty `names`;
 *   - an action, operator, architecture or flag not in the tables below;
 *   - an args[].index of 6 or more; an errnoRet / defaultErrnoRet above 65535, or given with an
 *     action that takes none (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do, as the spec says);
 *   - SCMP_ACT_NOTIFY as defaultAction, on `sendmsg` (the init needs it to hand the notify fd
 *     on after the filter is loaded) or without listenerPath; listenerMetadata without
 *     listenerPath; a listenerPath too long for a unix socket address.
 * A flag this libseccomp cannot set (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV before libseccomp
 * 2.6) is ENOTSUP. Syscall names libseccomp does not know (typos, or calls newer than the
 * library) are not errors: they are skipped with a debug message, as runc does, so one profile
 * serves old and new hosts. errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE.
 *
 * Several args on one syscall entry must all match (AND), except when an index appears more
 * than once: then each arg becomes a rule of its own (OR), which is what runc does and what
 * profiles written for it (Docker's personality rules) expect. A rule whose action equals
 * defaultAction is dropped: libseccomp refuses it, and it would change nothing. */
int ocirun_seccomp_parse(struct json_object *obj, struct ocirun_seccomp **out,
                         struct berth_err *err);

/* True when some rule uses SCMP_ACT_NOTIFY, so loading yields a notify fd for the listener.
 * False for NULL. */
bool ocirun_seccomp_uses_notify(const struct ocirun_seccomp *s);

/* Free a profile (NULL is fine). */
void ocirun_seccomp_free(struct ocirun_seccomp *s);

/* ---- Loading ------------------------------------------------------------------------------ */

/* Build the filter and load it into the calling process (all of its threads with the flag
 * SECCOMP_FILTER_FLAG_TSYNC, else the calling thread), then, if the profile uses
 * SCMP_ACT_NOTIFY, send the notify fd to listenerPath with ocirun_seccomp_send_notify_fd below
 * and close it.
 *
 * state_json: the runtime-spec state of the container (runtime.md#state) as JSON text,
 * borrowed; read only when the profile uses SCMP_ACT_NOTIFY. host_pid: the container process's
 * pid as the runtime sees it (the init cannot know it from inside its pid namespace).
 *
 * Who may load: libseccomp is told NOT to set no_new_privs itself, because the spec leaves that
 * to process.noNewPrivileges. So the caller needs either no_new_privs already set, or
 * CAP_SYS_ADMIN in its user namespace (EACCES otherwise). In the init that means: with
 * noNewPrivileges, load as late as possible (after the uid switch, the capability sets and
 * PR_SET_NO_NEW_PRIVS, just before execve), so the filter never sees the runtime's own setup;
 * without it, load before ocirun_caps_apply drops CAP_SYS_ADMIN, and the profile must then
 * allow what remains of the setup (setresuid, capset, prctl, chdir, ...), as with runc.
 *
 * Once loaded the filter applies to everything the caller does next, this function included:
 * with a NOTIFY profile the listener is connected and the message built BEFORE the load, so
 * afterwards only sendmsg(2) and close(2) run here. The filter cannot be removed: on failure
 * after the load, the process is confined anyway and should just exit.
 *
 * A profile naming an architecture of another CPU family (SCMP_ARCH_AARCH64 on an x86_64 host)
 * loads without it: the kernel never reports such an arch here, so it would only make the
 * program longer.
 *
 * Returns 0, or -1 with err set: the errno from libseccomp or the kernel ("seccomp: load
 * filter: Permission denied"), or the socket error for the listener ("seccomp: connect to
 * listener `/run/agent.sock`: No such file or directory"). */
int ocirun_seccomp_load(const struct ocirun_seccomp *s, const char *state_json, int host_pid,
                        struct berth_err *err);

/* The two halves of ocirun_seccomp_load, for a caller that loads in one process and talks to
 * the listener from another. listenerPath is a host path, and the init, once it has pivoted
 * into the rootfs, usually cannot reach it: runc and crun pass the notify fd back to the
 * runtime over their sync socket and connect from there. That is what these are for.
 *
 * ocirun_seccomp_load_filter loads like ocirun_seccomp_load and sets *notify_fd to the notify fd
 * (close-on-exec, owned by the caller) or to -1 when the profile has no NOTIFY rule. Nothing is
 * sent anywhere. */
int ocirun_seccomp_load_filter(const struct ocirun_seccomp *s, int *notify_fd,
                               struct berth_err *err);

/* Connect to the profile's listenerPath (AF_UNIX, SOCK_STREAM) and send the container process
 * state, {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}, with notify_fd
 * attached by SCM_RIGHTS to the first byte, then close the connection (one state per
 * connection, as the spec requires). notify_fd stays the caller's. pid: the container process
 * as the runtime sees it; state_json: as for ocirun_seccomp_load. Errors: EINVAL when the
 * profile has no listenerPath or state_json is not a JSON object, else the socket errno. */
int ocirun_seccomp_send_notify_fd(const struct ocirun_seccomp *s, int notify_fd,
                                  const char *state_json, int pid, struct berth_err *err);

/* ---- The default profile ------------------------------------------------------------------ */

/* contrib/seccomp/default.json, compiled into the binary, as a new json object the caller puts.
 * The build checks the file is JSON and the unit tests that it parses and builds, so this never
 * fails. */
struct json_object *ocirun_seccomp_default_profile(void);

/* ---- Names, for `ocirun features` --------------------------------------------------------- */

/* The i-th action ("SCMP_ACT_ALLOW"), operator ("SCMP_CMP_EQ") and architecture
 * ("SCMP_ARCH_X86_64") the parser accepts, from 0; NULL past the end. */
const char *ocirun_seccomp_action_name(size_t i);
const char *ocirun_seccomp_op_name(size_t i);
const char *ocirun_seccomp_arch_name(size_t i);

static inline void
ocirun_seccomp_freep(struct ocirun_seccomp **s)
{
    ocirun_seccomp_free(*s);
}
#define cleanup_seccomp __attribute__((cleanup(ocirun_seccomp_freep)))

#endif
