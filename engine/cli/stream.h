/* SPDX-License-Identifier: Apache-2.0
 *
 * Container stdio over the API: the hijacked connections of attach and exec start (an HTTP
 * upgrade, `Connection: Upgrade` + `Upgrade: tcp`, after which the socket carries raw bytes)
 * and docker's multiplexed frames (an 8-byte header: stream 0/1/2, three zeros, a big-endian
 * 32-bit length) that carry stdout and stderr apart when there is no terminal.
 *
 * The upgrade is one request written by hand on a unix socket of our own, not through
 * libcurl: after the 101 the connection is a plain byte pipe in both directions, which
 * poll() on the fd serves directly; curl's CONNECT_ONLY would only add a layer between.
 */
#ifndef BERTH_ENGINE_CLI_STREAM_H
#define BERTH_ENGINE_CLI_STREAM_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct json_object;
struct cli_global;

/* Demultiplex docker's frames into fds 1 and 2, across chunk boundaries. */
struct cli_demux {
    unsigned char hdr[8];
    size_t hdr_len;
    size_t remaining; /* payload bytes left in the current frame */
    int fd;           /* where the current frame goes */
};
int cli_demux_feed(struct cli_demux *d, const char *data, size_t len, struct berth_err *err);

/* An upgraded connection. */
struct cli_hijack {
    int fd;
    char *pending; /* stream bytes that came with the response headers */
    size_t pending_len;
};

/* Connect, send method path (with a JSON body when not NULL) asking for the upgrade, and read
 * the answer's headers. 101 (or 200, as old daemons answer) gives 0 and h; an error status
 * gives -1 with err "Error response from daemon: <message>" (code from cli_status_errno). */
int cli_hijack_open(const struct cli_global *g, const char *method, const char *path,
                    struct json_object *body, struct cli_hijack *h, struct berth_err *err);
void cli_hijack_close(struct cli_hijack *h);

struct cli_pump_opts {
    bool tty;           /* raw bytes, not frames; the terminal goes raw */
    bool use_stdin;     /* copy stdin to the container; EOF half-closes the socket */
    const char *resize; /* "/containers/ID/resize" or "/exec/ID/resize" for SIGWINCH, or NULL */
    /* "/containers/ID/kill": without a terminal, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
     * and SIGUSR2 sent to berth go on to the container (docker's --sig-proxy). NULL: none. */
    const char *kill;
    /* With a terminal and stdin: the key sequence that detaches (cli_detach_keys), as
     * bytes; the default ctrl-p,ctrl-q when NULL. */
    const char *detach_keys;
};

/* Copy between the terminal and h until the container's side ends, or until the detach keys
 * are typed (*detached, when not NULL, then becomes true; the keys are not sent). Returns 0
 * or -1. */
int cli_hijack_pump(const struct cli_global *g, struct cli_hijack *h, const struct cli_pump_opts *o,
                    bool *detached, struct berth_err *err);

/* docker's --detach-keys ("ctrl-p,ctrl-q", "ctrl-a,d") as the bytes typed; heap, or NULL with
 * err naming the bad key. */
char *cli_detach_keys(const char *spec, struct berth_err *err);

/* Send the terminal's size to resize ("?h=&w=" is added). Errors are ignored by callers
 * (a container that has just exited cannot be resized). */
int cli_resize(const struct cli_global *g, const char *resize, struct berth_err *err);

/* The terminal's size as docker's ConsoleSize ([height, width]) for a create or exec body,
 * or NULL when stdout is not a terminal. A new reference. */
struct json_object *cli_console_size(void);

#endif
