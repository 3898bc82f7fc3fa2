/* SPDX-License-Identifier: Apache-2.0
 *
 * run and create, which share their flags (runopts.c) and the create call: create the
 * container (pulling the image first when the daemon does not have it, as docker does), then
 * for run start it, attached (stdout/stderr, stdin with -i, a raw terminal with -t) or not
 * (-d), and exit with its status. Failures of the daemon exit 125; a command that cannot be
 * run exits 126 (not executable) or 127 (not found), as docker's run does.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "engine/cli/cli.h"
#include "engine/cli/container.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/progress.h"
#include "engine/cli/runopts.h"
#include "engine/cli/stream.h"

#define EXIT_DAEMON     125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND  127

/* Pull image with its progress on stderr (stdout is the container's). */
static int
pull_image(const struct cli_global *g, const char *image, const char *platform,
           struct berth_err *err)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(image, &ref, err) < 0)
        return -1;
    cleanup_free char *name = berth_ref_name(&ref);
    cleanup_free char *e_name = cli_escape(name);
    cleanup_free char *e_tag = cli_escape(ref.digest ? ref.digest : ref.tag);
    cleanup_free char *e_plat = platform ? cli_escape(platform) : NULL;
    cleanup_free char *path = xasprintf("/images/create?fromImage=%s&tag=%s%s%s", e_name, e_tag,
                                        platform ? "&platform=" : "", platform ? e_plat : "");
    cleanup_free char *auth = cli_auth_header(image);
    const char *headers[] = {auth, NULL};
    struct cli_request req = {.method = "POST", .path = path, .headers = headers};
    return cli_progress_run(g, &req, stderr, false, err);
}

static bool
is_missing_image(const struct berth_err *err)
{
    return err->code == ENOENT && err->msg &&
           (strstr(err->msg, "No such image") || strstr(err->msg, "no such image"));
}

/* Create the container; *id gets its id (heap). */
static int
create(const struct cli_global *g, const struct cli_runopts *o, char **id, struct berth_err *err)
{
    cleanup_json struct json_object *body = cli_runopts_body(o, err);
    if (!body)
        return -1;
    /* The terminal's size from the start, so that the first lines are not laid out for a
     * 0x0 terminal before the resize that follows the start arrives. */
    struct json_object *console = o->tty ? cli_console_size() : NULL, *hc = NULL;
    if (console && json_object_object_get_ex(body, "HostConfig", &hc))
        json_object_object_add(hc, "ConsoleSize", console);
    else
        json_object_put(console);
    if (o->pull && strcmp(o->pull, "missing") && strcmp(o->pull, "always") &&
        strcmp(o->pull, "never"))
        return berth_err_fail(err, EINVAL,
                              "invalid pull option `%s`: must be one of "
                              "\"always\", \"missing\" or \"never\"",
                              o->pull);
    if (o->pull && strcmp(o->pull, "always") == 0 && pull_image(g, o->image, o->platform, err) < 0)
        return -1;
    cleanup_free char *e_name = o->name ? cli_escape(o->name) : NULL;
    cleanup_free char *e_plat = o->platform ? cli_escape(o->platform) : NULL;
    cleanup_free char *path = xasprintf(
        "/containers/create%s%s%s%s", o->name ? "?name=" : "", o->name ? e_name : "",
        o->platform ? (o->name ? "&platform=" : "?platform=") : "", o->platform ? e_plat : "");
    cleanup_json struct json_object *r = NULL;
    if (cli_api(g, "POST", path, body, &r, err) < 0) {
        if (!is_missing_image(err) || (o->pull && strcmp(o->pull, "never") == 0))
            return -1;
        berth_err_clear(err);
        cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
        cleanup_free char *fam = NULL;
        if (berth_ref_parse(o->image, &ref, err) < 0)
            return -1;
        fam = berth_ref_familiar(&ref);
        fprintf(stderr, "Unable to find image '%s' locally\n", fam);
        if (pull_image(g, o->image, o->platform, err) < 0)
            return -1;
        if (cli_api(g, "POST", path, body, &r, err) < 0)
            return -1;
    }
    struct json_object *idv = NULL, *warnings = NULL;
    if (!json_object_object_get_ex(r, "Id", &idv))
        return berth_err_fail(err, EPROTO, "create: no Id in the daemon's answer");
    if (json_object_object_get_ex(r, "Warnings", &warnings) &&
        json_object_is_type(warnings, json_type_array))
        for (size_t i = 0; i < json_object_array_length(warnings); i++)
            fprintf(stderr, "WARNING: %s\n",
                    json_object_get_string(json_object_array_get_idx(warnings, i)));
    *id = xstrdup(json_object_get_string(idv));
    if (o->cidfile) {
        int fd = open(o->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return berth_err_set(err, errno, "write the container ID file `%s`", o->cidfile);
        ssize_t w = write(fd, *id, strlen(*id));
        close(fd);
        if (w < 0)
            return berth_err_set(err, errno, "write the container ID file `%s`", o->cidfile);
    }
    return 0;
}

/* docker's exit status for a start that failed: 127 when the command is not there, 126 when
 * it cannot be executed, 125 otherwise. */
static int
start_failure_status(const struct berth_err *err)
{
    const char *m = err->msg ? err->msg : "";
    if (strstr(m, "executable file not found") || strstr(m, "no such file or directory") ||
        strstr(m, "No such file or directory") || strstr(m, "not found in $PATH"))
        return EXIT_NOT_FOUND;
    if (strstr(m, "permission denied") || strstr(m, "Permission denied") ||
        strstr(m, "not executable") || strstr(m, "is a directory"))
        return EXIT_CANNOT_RUN;
    return EXIT_DAEMON;
}

/* After a failed start of a --rm container, remove it ourselves: the daemon's auto-removal
 * follows an exit, and there was none. */
static void
remove_after_failure(const struct cli_global *g, const char *id)
{
    cleanup_err struct berth_err e = BERTH_ERR_INIT;
    cleanup_free char *path = xasprintf("/containers/%s?force=1&v=1", id);
    cli_api(g, "DELETE", path, NULL, NULL, &e);
}

static int
run_or_create(struct cli_global *g, int argc, char **argv, bool run, struct berth_err *err)
{
    struct cli_runopts o;
    const char *cmd = run ? "run" : "create";
    int r = cli_runopts_parse(cmd, argc, argv, &o, err);
    if (r != 0) {
        cli_runopts_free(&o);
        return r > 0 ? 0 : EXIT_DAEMON;
    }
    int status = EXIT_DAEMON;
    cleanup_free char *id = NULL;
    cleanup_free char *keys = o.detach_keys ? cli_detach_keys(o.detach_keys, err) : NULL;
    if (o.detach_keys && !keys)
        goto out;
    if (create(g, &o, &id, err) < 0)
        goto out;
    if (!run) {
        printf("%s\n", id);
        status = 0;
        goto out;
    }
    if (o.detach) {
        cleanup_free char *path = xasprintf("/containers/%s/start", id);
        if (cli_api(g, "POST", path, NULL, NULL, err) < 0) {
            status = start_failure_status(err);
            if (o.rm)
                remove_after_failure(g, id);
            goto out;
        }
        printf("%s\n", id);
        status = 0;
        goto out;
    }
    if (o.tty && o.interactive && !isatty(STDIN_FILENO)) {
        berth_err_fail(err, EINVAL, "the input device is not a TTY");
        status = CLI_EXIT_FAIL;
        goto out;
    }
    int64_t code = 0;
    if (cli_container_attach_run(g, id, true, o.tty, o.interactive, true,
                                 o.rm ? "removed" : "next-exit", o.sig_proxy, keys, &code,
                                 err) < 0) {
        status = start_failure_status(err);
        if (o.rm)
            remove_after_failure(g, id);
        goto out;
    }
    status = (int)(code & 0xff);
out:
    cli_runopts_free(&o);
    return status;
}

int
cli_cmd_run(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return run_or_create(g, argc, argv, true, err);
}

int
cli_cmd_create(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return run_or_create(g, argc, argv, false, err);
}
