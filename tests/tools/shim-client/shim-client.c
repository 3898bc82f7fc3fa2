/* SPDX-License-Identifier: Apache-2.0
 *
 * shim-client: a command line client of berth-shim for the integration tests.
 *
 *   shim-client SOCKET METHOD [FIELD=VALUE...]
 *       Send one request and print the response as one JSON object. Fields are the request's
 *       proto field names, nested ones dotted (io.stdout=/path, log.max_size=1024); a bytes
 *       field takes the value as text, or the contents of a file with @PATH. On an error reply
 *       print "error CODE: MESSAGE" on stderr and exit 1.
 *   shim-client SOCKET events [COUNT]
 *       Print each event pushed by the shim as a JSON line (flushed), until COUNT events came
 *       (default: until the shim closes the connection).
 *   shim-client attach SOCKET [--stdin] [--close-stdin] [--detach]
 *       Attach to a process: write its stdout and stderr to ours, exit with its exit status
 *       when the exit frame comes (255 if the connection ends without one). --stdin sends our
 *       stdin to the process; --close-stdin then sends the close frame at its EOF; --detach
 *       disconnects right after our stdin ended instead of waiting for the exit.
 *
 * Any mode gives up after SHIM_CLIENT_TIMEOUT seconds (default 30) and exits 124.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/frame.h"
#include "common/fs.h"
#include "common/sock.h"

/* clang-format off */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *response;
} methods[] = {
    {"Create",  &berth__shim__v1__create_request__descriptor,  &berth__shim__v1__create_response__descriptor},
    {"Start",   &berth__shim__v1__start_request__descriptor,   &berth__shim__v1__start_response__descriptor},
    {"Exec",    &berth__shim__v1__exec_request__descriptor,    &berth__shim__v1__exec_response__descriptor},
    {"Kill",    &berth__shim__v1__kill_request__descriptor,    &berth__shim__v1__empty__descriptor},
    {"Delete",  &berth__shim__v1__delete_request__descriptor,  &berth__shim__v1__delete_response__descriptor},
    {"State",   &berth__shim__v1__state_request__descriptor,   &berth__shim__v1__process_state__descriptor},
    {"List",    &berth__shim__v1__empty__descriptor,           &berth__shim__v1__list_response__descriptor},
    {"Pause",   &berth__shim__v1__empty__descriptor,           &berth__shim__v1__empty__descriptor},
    {"Resume",  &berth__shim__v1__empty__descriptor,           &berth__shim__v1__empty__descriptor},
    {"Pids",    &berth__shim__v1__empty__descriptor,           &berth__shim__v1__pids_response__descriptor},
    {"Update",  &berth__shim__v1__update_request__descriptor,  &berth__shim__v1__empty__descriptor},
    {"Resize",  &berth__shim__v1__resize_request__descriptor,  &berth__shim__v1__empty__descriptor},
    {"CloseIO", &berth__shim__v1__close_iorequest__descriptor, &berth__shim__v1__empty__descriptor},
    {"Stats",   &berth__shim__v1__empty__descriptor,           &berth__shim__v1__stats_response__descriptor},
    {"Connect", &berth__shim__v1__empty__descriptor,           &berth__shim__v1__connect_response__descriptor},
};
/* clang-format on */

static void
die(const char *fmt, const char *arg)
{
    fprintf(stderr, "shim-client: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* ---- Messages from FIELD=VALUE, and to JSON ---------------------------------------------- */

static ProtobufCMessage *
new_message(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = xmalloc(d->sizeof_message);

    d->message_init(m);
    return m;
}

static void
set_field(ProtobufCMessage *m, const char *key, const char *value)
{
    const char *dot = strchr(key, '.');
    cleanup_free char *name = dot ? xstrndup(key, (size_t)(dot - key)) : xstrdup(key);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);

    if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED)
        die("no such field `%s`", key);
    void *member = (char *)m + f->offset;
    if (dot) {
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            die("`%s` is not a message", name);
        ProtobufCMessage **sub = member;
        if (*sub == NULL)
            *sub = new_message(f->descriptor);
        set_field(*sub, dot + 1, value);
        return;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: *(char **)member = xstrdup(value); break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)member = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        break;
    case PROTOBUF_C_TYPE_UINT32: *(uint32_t *)member = (uint32_t)strtoul(value, NULL, 0); break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM: *(int32_t *)member = (int32_t)strtol(value, NULL, 0); break;
    case PROTOBUF_C_TYPE_INT64: *(int64_t *)member = strtoll(value, NULL, 0); break;
    case PROTOBUF_C_TYPE_UINT64: *(uint64_t *)member = strtoull(value, NULL, 0); break;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = member;
        char *data;
        size_t len;
        if (value[0] == '@') {
            cleanup_err struct berth_err err = BERTH_ERR_INIT;
            if (berth_fs_read_file(value + 1, &data, &len, &err) < 0)
                die("%s", err.msg);
        } else {
            data = xstrdup(value);
            len = strlen(value);
        }
        b->data = (uint8_t *)data;
        b->len = len;
        break;
    }
    default: die("field `%s` has a type this client does not set", key);
    }
}

static struct json_object *to_json(const ProtobufCMessage *m);

static struct json_object *
value_json(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: return json_object_new_string(*(char *const *)v);
    case PROTOBUF_C_TYPE_BOOL: return json_object_new_boolean(*(const protobuf_c_boolean *)v);
    case PROTOBUF_C_TYPE_UINT32: return json_object_new_int64(*(const uint32_t *)v);
    case PROTOBUF_C_TYPE_INT32: return json_object_new_int64(*(const int32_t *)v);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *e =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
        return e ? json_object_new_string(e->name) : json_object_new_int(*(const int *)v);
    }
    case PROTOBUF_C_TYPE_INT64: return json_object_new_int64(*(const int64_t *)v);
    case PROTOBUF_C_TYPE_UINT64: return json_object_new_uint64(*(const uint64_t *)v);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = v;
        return json_object_new_string_len((const char *)b->data, (int)b->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
        return sub ? to_json(sub) : NULL;
    }
    default: return NULL;
    }
}

static size_t
value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64: return 8;
    default: return 4;
    }
}

static struct json_object *
to_json(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    struct json_object *o = json_object_new_object();

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *items = *(char *const *)member;
            struct json_object *a = json_object_new_array();
            for (size_t j = 0; j < n; j++)
                json_object_array_add(a, value_json(f, items + j * value_size(f)));
            json_object_object_add(o, f->name, a);
            continue;
        }
        struct json_object *v = value_json(f, member);
        if (v)
            json_object_object_add(o, f->name, v);
    }
    return o;
}

static void
print_json(const ProtobufCMessage *m)
{
    struct json_object *o = to_json(m);

    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(o);
}

/* ---- Modes ------------------------------------------------------------------------------- */

static int
connect_or_die(const char *path)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    int fd = berth_sock_connect(path, &err);

    if (fd < 0) {
        cleanup_free char *msg = berth_err_string(&err);
        die("%s", msg);
    }
    return fd;
}

static int
call(const char *sock, const char *method, int argc, char **argv)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(methods); i++)
        if (strcmp(methods[i].name, method) == 0)
            break;
    if (i == ARRAY_SIZE(methods))
        die("unknown method `%s`", method);
    ProtobufCMessage *req = new_message(methods[i].request);
    for (int a = 0; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (eq == NULL)
            die("want FIELD=VALUE, got `%s`", argv[a]);
        *eq = '\0';
        set_field(req, argv[a], eq + 1);
    }
    berth_frame *f = berth_frame_new(1, method, req);
    protobuf_c_message_free_unpacked(req, NULL);

    cleanup_close int fd = connect_or_die(sock);
    if (berth_frame_write(fd, f, &err) < 0)
        die("%s", err.msg);
    berth_frame_free(f);
    for (;;) {
        berth_frame *r = NULL;
        int rc = berth_frame_read(fd, &r, &err);
        if (rc < 0)
            die("%s", err.msg);
        if (rc == 0)
            die("%s", "the shim closed the connection without a reply");
        if (r->id != 1) { /* an event */
            berth__shim__v1__frame__free_unpacked(r, NULL);
            continue;
        }
        int status = 0;
        if (r->code != 0) {
            fprintf(stderr, "error %d: %s\n", r->code, r->error);
            status = 1;
        } else {
            ProtobufCMessage *resp = protobuf_c_message_unpack(methods[i].response, NULL,
                                                               r->payload.len, r->payload.data);
            if (resp == NULL)
                die("%s", "malformed response");
            print_json(resp);
            protobuf_c_message_free_unpacked(resp, NULL);
        }
        berth__shim__v1__frame__free_unpacked(r, NULL);
        return status;
    }
}

static int
events(const char *sock, long count)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_close int fd = connect_or_die(sock);

    /* The shim pushes events to connected clients; one request makes sure it accepted us
     * before the caller goes on (a line "connected" tells it so). */
    berth_frame *f = berth_frame_new(1, "Connect", NULL);
    if (berth_frame_write(fd, f, &err) < 0)
        die("%s", err.msg);
    berth_frame_free(f);
    for (long n = 0; count <= 0 || n < count;) {
        berth_frame *r = NULL;
        int rc = berth_frame_read(fd, &r, &err);
        if (rc < 0)
            die("%s", err.msg);
        if (rc == 0)
            return 0;
        if (r->id == 1) {
            printf("connected\n");
            fflush(stdout);
        } else if (strcmp(r->method, "event") == 0) {
            ProtobufCMessage *ev = protobuf_c_message_unpack(&berth__shim__v1__event__descriptor,
                                                             NULL, r->payload.len, r->payload.data);
            if (ev) {
                print_json(ev);
                protobuf_c_message_free_unpacked(ev, NULL);
            }
            n++;
        }
        berth__shim__v1__frame__free_unpacked(r, NULL);
    }
    return 0;
}

static void
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            exit(3);
        p += n;
        len -= (size_t)n;
    }
}

static void
send_frame(int fd, int stream, const char *buf, size_t len)
{
    uint8_t h[8] = {
        (uint8_t)stream,     0,           0, 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
        (uint8_t)(len >> 8), (uint8_t)len};

    write_all(fd, h, sizeof(h));
    write_all(fd, buf, len);
}

static int
read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int
attach(const char *sock, bool with_stdin, bool close_stdin, bool detach)
{
    cleanup_close int fd = connect_or_die(sock);
    bool in_open = with_stdin;
    char buf[65536];

    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                              {.fd = in_open ? 0 : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return 3;
        if (p[1].revents) {
            ssize_t n = read(0, buf, sizeof(buf));
            if (n > 0) {
                send_frame(fd, 0, buf, (size_t)n);
            } else {
                in_open = false;
                if (close_stdin)
                    send_frame(fd, 0, "", 0);
                if (detach)
                    return 0;
            }
        }
        if (!p[0].revents)
            continue;
        uint8_t h[8];
        if (read_full(fd, h, sizeof(h)) < 0)
            return 255;
        uint32_t size = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
        cleanup_free char *payload = xmalloc(size ? size : 1);
        if (read_full(fd, payload, size) < 0)
            return 255;
        if (h[0] == 1 || h[0] == 2) {
            write_all(h[0], payload, size);
        } else if (h[0] == 3 && size == 4) {
            const uint8_t *s = (const uint8_t *)payload;
            return (int)((uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3]);
        }
    }
}

static void
on_alarm(int sig)
{
    static const char msg[] = "shim-client: timed out\n";
    ssize_t r = write(2, msg, sizeof(msg) - 1);
    (void)r;
    _exit(124);
}

int
main(int argc, char **argv)
{
    const char *t = getenv("SHIM_CLIENT_TIMEOUT");

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm(t && *t ? (unsigned)atoi(t) : 30);
    if (argc >= 3 && strcmp(argv[1], "attach") == 0) {
        bool with_stdin = false, close_stdin = false, detach = false;
        for (int i = 3; i < argc; i++) {
            if (strcmp(argv[i], "--stdin") == 0)
                with_stdin = true;
            else if (strcmp(argv[i], "--close-stdin") == 0)
                close_stdin = true;
            else if (strcmp(argv[i], "--detach") == 0)
                detach = true;
            else
                die("unknown attach option `%s`", argv[i]);
        }
        return attach(argv[2], with_stdin, close_stdin, detach);
    }
    if (argc < 3) {
        fprintf(stderr, "usage: shim-client SOCKET METHOD [FIELD=VALUE...]\n"
                        "       shim-client SOCKET events [COUNT]\n"
                        "       shim-client attach SOCKET [--stdin] [--close-stdin] [--detach]\n");
        return 2;
    }
    if (strcmp(argv[2], "events") == 0)
        return events(argv[1], argc > 3 ? atol(argv[3]) : 0);
    return call(argv[1], argv[2], argc - 3, argv + 3);
}
