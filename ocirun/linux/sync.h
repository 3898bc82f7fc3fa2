/* SPDX-License-Identifier: Apache-2.0
 *
 * The create-time conversation between ocirun (parent) and the container's init (child), over
 * a SOCK_SEQPACKET socketpair so each message arrives whole:
 *
 *   parent                                   child
 *   clone() ------------------------------>  waits for GO
 *   writes uid/gid maps, enters cgroups
 *   GO ----------------------------------->  joins namespaces, does the mounts
 *          <-------------------------------  HOOKS
 *   runs prestart, createRuntime hooks
 *   GO + state JSON ---------------------->  runs createContainer hooks, pivots,
 *                                            sets up the process
 *          <-------------------------------  READY (or ERROR code+message, then exits)
 *   records state, exits (create) or
 *   opens exec.fifo and waits (run)
 *
 * EOF before READY means the child died without a word (a crash): treated as an error.
 */
#ifndef BERTH_OCIRUN_LINUX_SYNC_H
#define BERTH_OCIRUN_LINUX_SYNC_H

struct berth_err;

enum ocirun_sync_type {
    OCIRUN_SYNC_GO = 1,
    OCIRUN_SYNC_READY,
    OCIRUN_SYNC_ERROR,
    OCIRUN_SYNC_HOOKS,      /* child: namespaces and mounts exist, run prestart/createRuntime */
    OCIRUN_SYNC_SECCOMP_FD, /* child: its seccomp notify fd, for the parent to hand to the
                               listener (which the child, pivoted, can no longer reach) */
    OCIRUN_SYNC_MOUNT_FD,   /* parent, before GO: an idmapped tree, one per idmap mount in
                               config order (linux/idmap.h) */
};

/* Send a message carrying fd (SCM_RIGHTS). */
int ocirun_sync_send_fd(int fd, enum ocirun_sync_type type, int passed_fd);

/* Like ocirun_sync_recv; *passed_fd gets an fd that came with the message, or -1. */
int ocirun_sync_recv_fd(int fd, int *passed_fd, struct berth_err *err);

/* Send one message; msg may be NULL. Async-signal-safe (used in the child). */
int ocirun_sync_send(int fd, enum ocirun_sync_type type, int code, const char *msg);

/* Receive one message. An ERROR message is turned into err (its code and text) and the call
 * returns -1; EOF also returns -1 ("container init exited during setup"). Otherwise returns
 * the type, and when text is not NULL, *text gets the payload (heap, may be empty). */
int ocirun_sync_recv(int fd, char **text, struct berth_err *err);

/* Like ocirun_sync_recv, also returning the message's code (a pid, for exec's helper). */
int ocirun_sync_recv_code(int fd, int *code, struct berth_err *err);

/* Child side: report err to the parent and exit(1). Never returns. */
_Noreturn void ocirun_sync_fail(int fd, const struct berth_err *err);

#endif
