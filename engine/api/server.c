/* SPDX-License-Identifier: Apache-2.0
 *
 * berthd's HTTP server (server.h). libmicrohttpd calls the access handler several times per
 * request: first with the headers (the route is chosen then, and a body headed for a file
 * gets its file), then with each piece of the body, then once more with none, when the
 * handler runs and the answer is queued. An early failure (no route, bad version, a body too
 * large) is kept and answered at that last call, once the body has been read.
 */
#include "engine/api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sock.h"
#include "engine/api/request.h"
#include "engine/api/router.h"
#include "engine/daemon.h"

/* JSON bodies are small; anything bigger than this is refused rather than held in memory. */
#define MAX_BODY (16u << 20)

struct eng_api_server {
    struct MHD_Daemon *mhd;
    char *path;
};

struct conn_state {
    struct eng_api_req req;
    struct berth_err early; /* a failure found before the body was read */
    unsigned early_status;  /* its status when the error table has none for it (405) */
};

static int
bind_socket(const char *path, const char *group, struct berth_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return berth_err_fail(err, ENAMETOOLONG, "socket path `%s` is too long", path);
    strcpy(sa.sun_path, path);
    /* Someone listening there is another berthd; anything else at the path is stale. */
    int probe = berth_sock_connect(path, NULL);
    if (probe >= 0) {
        close(probe);
        return berth_err_fail(err, EADDRINUSE, "`%s` is in use by another process", path);
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return berth_err_fail(err, EEXIST, "`%s` exists and is not a socket", path);
        unlink(path);
    }
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    /* Nobody may connect before the mode and group are right. */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0)
        return berth_err_set(err, errno, "bind `%s`", path);
    /* The default group may be missing (root alone then); a group asked for must exist. */
    struct group *g = getgrnam(group ? group : "berth");
    if (!g && group) {
        unlink(path);
        return berth_err_fail(err, ENOENT, "--group: no group `%s`", group);
    }
    if ((g && chown(path, 0, g->gr_gid) < 0) || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        unlink(path);
        return berth_err_set(err, e, "set up `%s`", path);
    }
    return steal_fd(&fd);
}

static void
begin(struct conn_state *cs, struct eng_daemon *d, struct MHD_Connection *conn, const char *url,
      const char *method)
{
    struct eng_api_req *req = &cs->req;
    req->d = d;
    req->conn = conn;
    req->method = method;
    req->body_fd = -1;
    if (eng_api_version_split(url, &req->version, &req->path, &cs->early) < 0)
        return;
    switch (eng_api_route_find(eng_api_routes, eng_api_n_routes, method, req->path, &req->route,
                               &req->params)) {
    case ENG_API_MATCHED: break;
    case ENG_API_NO_ROUTE: berth_err_fail(&cs->early, ENOENT, "page not found"); return;
    case ENG_API_NO_METHOD:
        berth_err_fail(&cs->early, EINVAL, "method %s not allowed for %s", method, req->path);
        cs->early_status = 405;
        return;
    }
    if (req->route->flags & ENG_API_BODY_FILE) {
        req->body_path = xasprintf("%s/upload-XXXXXX", d->state);
        req->body_fd = mkostemp(req->body_path, O_CLOEXEC);
        if (req->body_fd < 0) {
            berth_err_set(&cs->early, errno, "create `%s`", req->body_path);
            free(steal_ptr(&req->body_path));
        }
    }
}

static void
take_body(struct conn_state *cs, const char *data, size_t len)
{
    struct eng_api_req *req = &cs->req;
    if (cs->early.msg)
        return;
    if (req->body_fd >= 0) {
        while (len > 0) {
            ssize_t n = write(req->body_fd, data, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                berth_err_set(&cs->early, errno, "write the request body");
                return;
            }
            data += n;
            len -= (size_t)n;
        }
        return;
    }
    if (req->body_len + len > MAX_BODY) {
        berth_err_fail(&cs->early, EINVAL, "request body larger than %u bytes", MAX_BODY);
        return;
    }
    req->body = xrealloc(req->body, req->body_len + len + 1);
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
}

static void
dispatch(struct conn_state *cs)
{
    struct eng_api_req *req = &cs->req;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (cs->early.msg) {
        eng_api_reply_error(req, &cs->early);
        if (cs->early_status)
            req->status = cs->early_status;
        return;
    }
    berth_debug("api %s %s", req->method, req->path);
    if (req->route->fn(req, &err) < 0) {
        berth_debug("api %s %s: %s", req->method, req->path, err.msg);
        eng_api_reply_error(req, &err);
    } else if (!req->resp) {
        eng_api_reply_data(req, 204, NULL, "", 0);
    }
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct conn_state *cs = *con_cls;
    if (!cs) {
        cs = xzalloc(sizeof(*cs));
        *con_cls = cs;
        begin(cs, cls, conn, url, method);
        return MHD_YES;
    }
    if (*upload_data_size) {
        take_body(cs, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    dispatch(cs);
    eng_api_add_headers(cs->req.resp);
    enum MHD_Result r = MHD_queue_response(conn, cs->req.status, cs->req.resp);
    MHD_destroy_response(steal_ptr(&cs->req.resp));
    return r;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct conn_state *cs = *con_cls;
    if (!cs)
        return;
    struct eng_api_req *req = &cs->req;
    if (req->resp)
        MHD_destroy_response(req->resp);
    eng_api_req_release_upgrade(req);
    eng_api_params_clear(&req->params);
    free(req->body);
    if (req->body_fd >= 0)
        close(req->body_fd);
    if (req->body_path) {
        unlink(req->body_path);
        free(req->body_path);
    }
    berth_err_clear(&cs->early);
    free(cs);
    *con_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    berth_logv(BERTH_LOG_DEBUG, fmt, ap);
}

struct eng_api_server *
eng_api_server_start(struct eng_daemon *d, const char *path, struct berth_err *err)
{
    int fd = bind_socket(path, d->group, err);
    if (fd < 0)
        return NULL;
    /* The logger first, so that MHD reports everything after it through common/log. */
    struct MHD_Daemon *mhd =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_UPGRADE,
                         0, NULL, NULL, on_access, d, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                         MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
                         /* No idle timeout: a pull or an export may go quiet for long, and later
                          * attach and logs -f streams will. */
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
    if (!mhd) {
        close(fd);
        unlink(path);
        berth_err_fail(err, EIO, "start the HTTP server on `%s`", path);
        return NULL;
    }
    struct eng_api_server *s = xzalloc(sizeof(*s));
    s->mhd = mhd;
    s->path = xstrdup(path);
    return s;
}

void
eng_api_server_stop(struct eng_api_server *s)
{
    if (!s)
        return;
    /* MHD_stop_daemon closes the listening socket it was given. */
    MHD_stop_daemon(s->mhd);
    unlink(s->path);
    free(s->path);
    free(s);
}
