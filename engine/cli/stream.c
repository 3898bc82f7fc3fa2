/* SPDX-License-Identifier: Apache-2.0
 *
 * attach/exec streams: the hand-written upgrade request, the frame demultiplexer, and the
 * poll loop between the terminal and the socket (see stream.h for why the upgrade does not
 * go through libcurl).
 */
#include "engine/cli/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/http.h"

static int
write_all(int fd, const char *p, size_t n, struct berth_err *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return berth_err_set(err, errno, "write");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
cli_demux_feed(struct cli_demux *d, const char *data, size_t len, struct berth_err *err)
{
    while (len) {
        if (d->remaining == 0) {
            size_t take = 8 - d->hdr_len < len ? 8 - d->hdr_len : len;
            memcpy(d->hdr + d->hdr_len, data, take);
            d->hdr_len += take;
            data += take;
            len -= take;
            if (d->hdr_len < 8)
                return 0;
            d->hdr_len = 0;
            d->fd = d->hdr[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
            d->remaining = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 |
                           (size_t)d->hdr[6] << 8 | (size_t)d->hdr[7];
            continue;
        }
        size_t take = d->remaining < len ? d->remaining : len;
        if (write_all(d->fd, data, take, err) < 0)
            return -1;
        d->remaining -= take;
        data += take;
        len -= take;
    }
    return 0;
}

static int
connect_unix(const char *path, struct berth_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return berth_err_fail(err, ENAMETOOLONG, "socket path `%s` is too long", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_err_set(err, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return berth_err_fail(err, e, "Cannot connect to berthd at unix://%s. Is berthd running?",
                              path);
    }
    return fd;
}

/* The message of an error answer: its JSON "message", else the body as is. */
static int
hijack_error(long status, const char *body, size_t len, struct berth_err *err)
{
    struct berth_err perr = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = len ? berth_json_parse(body, len, &perr) : NULL;
    berth_err_clear(&perr);
    const char *msg = NULL;
    if (o && berth_json_get_string(o, "message", &msg, &perr) > 0)
        return berth_err_fail(err, cli_status_errno(status), "Error response from daemon: %s", msg);
    berth_err_clear(&perr);
    return berth_err_fail(err, cli_status_errno(status), "Error response from daemon: %.*s",
                          (int)len, body);
}

int
cli_hijack_open(const struct cli_global *g, const char *method, const char *path,
                struct json_object *body, struct cli_hijack *h, struct berth_err *err)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    cleanup_close int fd = connect_unix(g->socket_path, err);
    if (fd < 0)
        return -1;
    const char *js = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "";
    cleanup_free char *req = xasprintf("%s " CLI_API_PREFIX "%s HTTP/1.1\r\n"
                                       "Host: berthd\r\n"
                                       "User-Agent: berth/" BERTH_VERSION "\r\n"
                                       "Connection: Upgrade\r\n"
                                       "Upgrade: tcp\r\n"
                                       "Content-Type: application/json\r\n"
                                       "Content-Length: %zu\r\n\r\n%s",
                                       method, path, strlen(js), js);
    if (write_all(fd, req, strlen(req), err) < 0)
        return berth_err_wrap(err, "send %s %s", method, path);
    /* Read up to the end of the headers; what follows is the stream (or an error body). */
    size_t cap = 4096, len = 0;
    cleanup_free char *buf = xmalloc(cap + 1);
    char *end = NULL;
    while (!end) {
        if (len == cap) {
            if (cap >= 65536)
                return berth_err_fail(err, EPROTO, "%s %s: headers too long", method, path);
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return berth_err_set(err, errno, "read the answer to %s %s", method, path);
        if (r == 0)
            return berth_err_fail(err, EPROTO, "%s %s: the daemon closed the connection", method,
                                  path);
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    long status = 0;
    if (sscanf(buf, "HTTP/%*s %ld", &status) != 1)
        return berth_err_fail(err, EPROTO, "%s %s: not an HTTP answer", method, path);
    size_t head = (size_t)(end + 4 - buf);
    if (status != 101 && status != 200) {
        /* An error body: as long as Content-Length says, or until the daemon closes. */
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t want = cl ? strtoul(cl + 17, NULL, 10) : SIZE_MAX;
        while (len - head < want) {
            if (len == cap) {
                if (cap >= 1 << 20)
                    break;
                cap *= 2;
                buf = xrealloc(buf, cap + 1);
            }
            ssize_t r = read(fd, buf + len, cap - len);
            if (r <= 0)
                break;
            len += (size_t)r;
        }
        buf[len] = '\0';
        return hijack_error(status, buf + head, len - head, err);
    }
    if (len > head) {
        h->pending_len = len - head;
        h->pending = xmalloc(h->pending_len);
        memcpy(h->pending, buf + head, h->pending_len);
    }
    h->fd = steal_fd(&fd);
    return 0;
}

void
cli_hijack_close(struct cli_hijack *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    free(h->pending);
    h->pending = NULL;
    h->pending_len = 0;
}

int
cli_resize(const struct cli_global *g, const char *resize, struct berth_err *err)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
        return 0;
    cleanup_free char *path = xasprintf("%s?h=%u&w=%u", resize, ws.ws_row, ws.ws_col);
    return cli_api(g, "POST", path, NULL, NULL, err);
}

struct json_object *
cli_console_size(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
        return NULL;
    struct json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_new_int(ws.ws_row));
    json_object_array_add(a, json_object_new_int(ws.ws_col));
    return a;
}

/* A signal handler only writes the signal's number to this pipe, which the loop polls:
 * SIGWINCH for a resize, the proxied ones to pass on to the container. */
static int sig_pipe[2] = {-1, -1};

static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void
on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* The pipe is full: the loop is far behind; this one is dropped. */
    }
    errno = saved;
}

/* Handle the signals the pump watches; old[] gets the previous actions (indexed by signal). */
static void
catch_signals(bool winch, bool proxy, struct sigaction *old)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (winch)
        sigaction(SIGWINCH, &sa, &old[SIGWINCH]);
    for (size_t i = 0; proxy && i < ARRAY_SIZE(proxied); i++)
        sigaction(proxied[i], &sa, &old[proxied[i]]);
}

static void
restore_signals(bool winch, bool proxy, const struct sigaction *old)
{
    if (winch)
        sigaction(SIGWINCH, &old[SIGWINCH], NULL);
    for (size_t i = 0; proxy && i < ARRAY_SIZE(proxied); i++)
        sigaction(proxied[i], &old[proxied[i]], NULL);
}

/* The first resize, retried: the process may not have its terminal yet when it comes (an
 * exec starts after its stream is open), so for a second, as docker does. */
static void
first_resize(const struct cli_global *g, const char *resize)
{
    for (int i = 0; i < 10; i++) {
        cleanup_err struct berth_err rerr = BERTH_ERR_INIT;
        if (cli_resize(g, resize, &rerr) == 0)
            return;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void
handle_signals(const struct cli_global *g, const struct cli_pump_opts *o)
{
    unsigned char sigs[64];
    ssize_t n;
    while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            cleanup_err struct berth_err e = BERTH_ERR_INIT;
            if (sigs[i] == SIGWINCH) {
                cli_resize(g, o->resize, &e);
                continue;
            }
            cleanup_free char *path = xasprintf("%s?signal=%d", o->kill, sigs[i]);
            cli_api(g, "POST", path, NULL, NULL, &e);
        }
    }
}

/* Write what came from the container: frames unless there is a terminal. */
static int
output(struct cli_demux *d, bool tty, const char *data, size_t len, struct berth_err *err)
{
    if (tty)
        return write_all(STDOUT_FILENO, data, len, err);
    return cli_demux_feed(d, data, len, err);
}

char *
cli_detach_keys(const char *spec, struct berth_err *err)
{
    cleanup_free char *copy = xstrdup(spec);
    char *out = xzalloc(strlen(spec) + 1), *d = out, *save = NULL;
    for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (strlen(k) == 1) {
            *d++ = *k;
        } else if (strncmp(k, "ctrl-", 5) == 0 && strlen(k) == 6 &&
                   ((k[5] >= 'a' && k[5] <= 'z') || strchr("@[\\]^_", k[5]))) {
            *d++ = (char)((k[5] >= 'a' && k[5] <= 'z' ? k[5] - 'a' + 1 : k[5] - '@') & 0x1f);
        } else {
            free(out);
            berth_err_fail(err, EINVAL, "invalid detach keys `%s`: unknown key `%s`", spec, k);
            return NULL;
        }
    }
    if (d == out) {
        free(out);
        berth_err_fail(err, EINVAL, "invalid detach keys `%s`: no key", spec);
        return NULL;
    }
    return out;
}

/* Stdin bytes on their way to the container, watched for the detach keys: a byte that
 * continues the sequence is held back until the sequence either completes (detach) or
 * breaks (the held bytes go on). Returns 1 on a detach, 0, or -1 with err. */
struct escape {
    const char *keys;
    size_t matched;
};

static int
send_input(int fd, struct escape *e, const char *buf, size_t n, struct berth_err *err)
{
    if (!e->keys)
        return write_all(fd, buf, n, err);
    size_t klen = strlen(e->keys), start = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == e->keys[e->matched]) {
            if (i > start && write_all(fd, buf + start, i - start, err) < 0)
                return -1;
            start = i + 1;
            if (++e->matched == klen)
                return 1;
            continue;
        }
        if (e->matched) {
            /* The held keys were text after all. */
            if (write_all(fd, e->keys, e->matched, err) < 0)
                return -1;
            e->matched = 0;
            if (buf[i] == e->keys[0]) {
                if (i > start && write_all(fd, buf + start, i - start, err) < 0)
                    return -1;
                start = i + 1;
                e->matched = 1;
            }
        }
    }
    return n > start ? write_all(fd, buf + start, n - start, err) : 0;
}

int
cli_hijack_pump(const struct cli_global *g, struct cli_hijack *h, const struct cli_pump_opts *o,
                bool *detached, struct berth_err *err)
{
    struct escape esc = {
        .keys = o->tty && o->use_stdin ? (o->detach_keys ? o->detach_keys : "\x10\x11") : NULL};
    struct termios saved;
    bool raw = false;
    struct cli_demux d = {0};
    int rc = -1;
    struct sigaction old[NSIG];
    bool winch = o->tty && o->resize, proxy = !o->tty && o->kill, signals = false;
    if (o->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios t = saved;
        cfmakeraw(&t);
        /* Output keeps its newline translation off too: the container's pty does it. */
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
            raw = true;
    }
    if ((winch || proxy) && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
        catch_signals(winch, proxy, old);
        signals = true;
    }
    if (winch)
        first_resize(g, o->resize);
    if (h->pending_len && output(&d, o->tty, h->pending, h->pending_len, err) < 0)
        goto out;
    bool stdin_open = o->use_stdin;
    char buf[32768];
    for (;;) {
        struct pollfd p[3] = {{.fd = h->fd, .events = POLLIN},
                              {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
                              {.fd = signals ? sig_pipe[0] : -1, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            berth_err_set(err, errno, "poll");
            goto out;
        }
        if (p[2].revents & POLLIN)
            handle_signals(g, o);
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                /* End of input: the container sees EOF on its stdin. */
                stdin_open = false;
                shutdown(h->fd, SHUT_WR);
            } else {
                int sent = send_input(h->fd, &esc, buf, (size_t)r, err);
                if (sent < 0)
                    goto out;
                if (sent > 0) {
                    if (detached)
                        *detached = true;
                    break;
                }
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(h->fd, buf, sizeof(buf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno != ECONNRESET) {
                berth_err_set(err, errno, "read the container's output");
                goto out;
            }
            if (r <= 0)
                break;
            if (output(&d, o->tty, buf, (size_t)r, err) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (signals) {
        restore_signals(winch, proxy, old);
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        sig_pipe[0] = sig_pipe[1] = -1;
    }
    return rc;
}
