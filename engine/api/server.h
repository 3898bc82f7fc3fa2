/* SPDX-License-Identifier: Apache-2.0
 *
 * The HTTP server of berthd: libmicrohttpd on a unix socket bound here (mode 0660, group
 * `berth` when it exists), a thread per connection so that a long pull or export streams
 * without holding up anyone else, and the dispatch of each request through the route table.
 */
#ifndef BERTH_ENGINE_API_SERVER_H
#define BERTH_ENGINE_API_SERVER_H

struct berth_err;
struct eng_daemon;
struct eng_api_server;

/* Bind path (a stale socket there is replaced; a live one is EADDRINUSE) and serve. NULL
 * with err on failure, with nothing left behind. */
struct eng_api_server *eng_api_server_start(struct eng_daemon *d, const char *path,
                                            struct berth_err *err);

/* Stop serving (waits for the connection threads), remove the socket, free. NULL is fine. */
void eng_api_server_stop(struct eng_api_server *s);

#endif
