/* SPDX-License-Identifier: Apache-2.0
 *
 * Fifos, the local terminal, signals for a poll loop, and the attach socket's frames (io.h).
 */
#include "supervisor/ctr/io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

/* ---------------------------------------------------------------- fifos */

#define FIFO_ROOT "/run/berth/ctr-fifo"

/* mkdtemp "<base>/<id>-XXXXXX"; NULL with errno when base does not take it. */
static char *
make_dir(const char *base, const char *id)
{
    char *dir = xasprintf("%s/%.64s-XXXXXX", base, id);
    if (!mkdtemp(dir)) {
        int saved = errno;
        free(dir);
        errno = saved;
        return NULL;
    }
    return dir;
}

static char *
fifo_dir(const char *id, struct berth_err *err)
{
    struct berth_err ignored = BERTH_ERR_INIT;
    char *dir = NULL;
    if (berth_fs_mkdir_p(FIFO_ROOT, 0700, &ignored) == 0)
        dir = make_dir(FIFO_ROOT, id);
    berth_err_clear(&ignored);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!dir && xdg && *xdg)
        dir = make_dir(xdg, id);
    if (!dir)
        dir = make_dir("/tmp", id);
    if (!dir)
        berth_err_set(err, errno, "create a fifo directory under /tmp");
    return dir;
}

static int
make_fifo(const char *dir, const char *name, int flags, char **path, int *fd, struct berth_err *err)
{
    *path = xasprintf("%s/%s", dir, name);
    if (mkfifo(*path, 0600) < 0)
        return berth_err_set(err, errno, "mkfifo `%s`", *path);
    *fd = open(*path, flags | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return berth_err_set(err, errno, "open fifo `%s`", *path);
    return 0;
}

int
ctr_fifos_open(struct ctr_fifos *f, const char *id, bool terminal, struct berth_err *err)
{
    f->dir = fifo_dir(id, err);
    if (!f->dir)
        return -1;
    if (make_fifo(f->dir, "stdin", O_RDWR, &f->stdin_path, &f->stdin_fd, err) < 0 ||
        make_fifo(f->dir, "stdout", O_RDONLY, &f->stdout_path, &f->stdout_fd, err) < 0 ||
        (!terminal &&
         make_fifo(f->dir, "stderr", O_RDONLY, &f->stderr_path, &f->stderr_fd, err) < 0)) {
        ctr_fifos_close(f);
        return -1;
    }
    return 0;
}

void
ctr_fifos_close(struct ctr_fifos *f)
{
    int *fds[] = {&f->stdin_fd, &f->stdout_fd, &f->stderr_fd};
    char **paths[] = {&f->stdin_path, &f->stdout_path, &f->stderr_path};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
        if (*paths[i])
            unlink(*paths[i]);
        free(*paths[i]);
        *paths[i] = NULL;
    }
    if (f->dir)
        rmdir(f->dir);
    free(f->dir);
    f->dir = NULL;
}

/* ---------------------------------------------------------------- terminal */

int
ctr_tty_raw(struct ctr_tty *t, int fd, struct berth_err *err)
{
    struct termios raw;
    if (!isatty(fd))
        return 0;
    if (tcgetattr(fd, &t->saved) < 0)
        return berth_err_set(err, errno, "read the terminal settings");
    raw = t->saved;
    cfmakeraw(&raw);
    if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
        return berth_err_set(err, errno, "put the terminal in raw mode");
    t->fd = fd;
    return 0;
}

void
ctr_tty_restore(struct ctr_tty *t)
{
    if (t->fd < 0)
        return;
    tcsetattr(t->fd, TCSADRAIN, &t->saved);
    t->fd = -1;
}

bool
ctr_tty_size(uint32_t *width, uint32_t *height)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
        return false;
    if (ws.ws_col == 0 || ws.ws_row == 0)
        return false; /* a terminal nobody sized (script(1) without one): leave the default */
    *width = ws.ws_col;
    *height = ws.ws_row;
    return true;
}

/* ---------------------------------------------------------------- signals */

/* The write end of the signal pipe. A handler can reach nothing but globals; this one is set
 * and cleared only by ctr_signals_open/_close. */
static int signal_pipe_wfd = -1;

static void
on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(signal_pipe_wfd, &b, 1); /* a full pipe drops it: enough are queued */
    (void)r;
    errno = saved;
}

int
ctr_signals_open(const int *sigs, size_t n, struct berth_err *err)
{
    int fds[2];
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return berth_err_set(err, errno, "pipe");
    signal_pipe_wfd = fds[1];
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < n; i++)
        sigaction(sigs[i], &sa, NULL);
    return fds[0];
}

int
ctr_signals_next(int fd)
{
    unsigned char b;
    ssize_t r;
    do
        r = read(fd, &b, 1);
    while (r < 0 && errno == EINTR);
    return r == 1 ? b : 0;
}

void
ctr_signals_close(int fd, const int *sigs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        signal(sigs[i], SIG_DFL);
    if (signal_pipe_wfd >= 0)
        close(signal_pipe_wfd);
    signal_pipe_wfd = -1;
    if (fd >= 0)
        close(fd);
}

/* ---------------------------------------------------------------- attach framing */

int
ctr_attach_send(int fd, uint8_t stream, const void *data, size_t len, struct berth_err *err)
{
    uint8_t h[CTR_ATTACH_HEADER_LEN] = {
        stream,      0, 0, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
        (uint8_t)len};
    if (len > UINT32_MAX)
        return berth_err_fail(err, EINVAL, "attach frame of %zu bytes", len);
    if (ctr_write_all(fd, h, sizeof(h)) < 0 || (len && ctr_write_all(fd, data, len) < 0))
        return berth_err_set(err, errno, "write to the attach socket");
    return 0;
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
ctr_frame_feed(struct ctr_frame_reader *r, const uint8_t *buf, size_t len, ctr_frame_out_fn out,
               void *ctx, struct berth_err *err)
{
    while (len > 0) {
        if (r->exited)
            return berth_err_fail(err, EPROTO, "attach: data after the exit status");
        if (r->header_len < CTR_ATTACH_HEADER_LEN) {
            size_t n = CTR_ATTACH_HEADER_LEN - r->header_len;
            if (n > len)
                n = len;
            memcpy(r->header + r->header_len, buf, n);
            r->header_len += n;
            buf += n;
            len -= n;
            if (r->header_len < CTR_ATTACH_HEADER_LEN)
                return 0;
            r->left = be32(r->header + 4);
            r->status_len = 0;
            if (r->header[0] == CTR_ATTACH_EXIT && r->left != sizeof(r->status))
                return berth_err_fail(err, EPROTO, "attach: exit frame of %u bytes (want 4)",
                                      (unsigned)r->left);
        }
        size_t n = r->left < len ? r->left : len;
        uint8_t stream = r->header[0];
        if (stream == CTR_ATTACH_EXIT) {
            memcpy(r->status + r->status_len, buf, n);
            r->status_len += n;
        } else if ((stream == CTR_ATTACH_STDOUT || stream == CTR_ATTACH_STDERR) && n > 0) {
            if (out(ctx, stream, buf, n, err) < 0)
                return -1;
        }
        buf += n;
        len -= n;
        r->left -= (uint32_t)n;
        if (r->left == 0) {
            /* Frame done; the next byte starts a header. */
            r->header_len = 0;
            if (stream == CTR_ATTACH_EXIT) {
                r->exited = true;
                r->exit_status = be32(r->status);
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- misc */

int
ctr_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}
