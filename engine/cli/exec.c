/* SPDX-License-Identifier: Apache-2.0
 *
 * exec: create an exec instance in a running container, start it attached (a hijacked
 * connection, as attach) or detached (-d), and exit with its exit code.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"
#include "engine/cli/stream.h"

int
cli_cmd_exec(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool detach = false, interactive = false, tty = false, privileged = false;
    const char *workdir = NULL, *user = NULL, *detach_keys = NULL;
    struct cli_strv env = {0}, env_file = {0};
    const struct cli_flag flags[] = {
        {"detach", 'd', CLI_FLAG_BOOL, &detach, NULL},
        {"interactive", 'i', CLI_FLAG_BOOL, &interactive, NULL},
        {"tty", 't', CLI_FLAG_BOOL, &tty, NULL},
        {"privileged", 0, CLI_FLAG_BOOL, &privileged, NULL},
        {"workdir", 'w', CLI_FLAG_STRING, &workdir, NULL},
        {"user", 'u', CLI_FLAG_STRING, &user, NULL},
        {"detach-keys", 0, CLI_FLAG_STRING, &detach_keys, NULL},
        {"env", 'e', CLI_FLAG_LIST, &env, NULL},
        {"env-file", 0, CLI_FLAG_LIST, &env_file, NULL},
    };
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    if (cli_flags_parse("exec", flags, ARRAY_SIZE(flags), argc, argv, true, &args, err) < 0)
        goto out;
    if (args.help) {
        printf("Usage:  berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nExecute a command in "
               "a running container\n\nOptions:\n"
               "  -d, --detach           Detached mode: run command in the background\n"
               "  -e, --env list         Set environment variables\n"
               "  -i, --interactive      Keep STDIN open even if not attached\n"
               "      --privileged       Give extended privileges to the command\n"
               "  -t, --tty              Allocate a pseudo-TTY\n"
               "  -u, --user string      Username or UID (format: <name|uid>[:<group|gid>])\n"
               "  -w, --workdir string   Working directory inside the container\n");
        status = 0;
        goto out;
    }
    if (cli_args_count("exec", &args, 2, -1, err) < 0)
        goto out;
    if (tty && interactive && !isatty(STDIN_FILENO)) {
        berth_err_fail(err, EINVAL, "the input device is not a TTY");
        status = CLI_EXIT_FAIL;
        goto out;
    }
    status = CLI_EXIT_FAIL;
    {
        cleanup_json struct json_object *body = json_object_new_object();
        bool attach = !detach;
        json_object_object_add(body, "AttachStdin", json_object_new_boolean(attach && interactive));
        json_object_object_add(body, "AttachStdout", json_object_new_boolean(attach));
        json_object_object_add(body, "AttachStderr", json_object_new_boolean(attach));
        json_object_object_add(body, "Tty", json_object_new_boolean(tty));
        struct json_object *console = tty ? cli_console_size() : NULL;
        if (console)
            json_object_object_add(body, "ConsoleSize", console);
        json_object_object_add(body, "Privileged", json_object_new_boolean(privileged));
        if (workdir)
            json_object_object_add(body, "WorkingDir", json_object_new_string(workdir));
        if (user)
            json_object_object_add(body, "User", json_object_new_string(user));
        if (detach_keys)
            json_object_object_add(body, "DetachKeys", json_object_new_string(detach_keys));
        struct json_object *e = json_object_new_array();
        json_object_object_add(body, "Env", e);
        for (size_t i = 0; i < env_file.n; i++) {
            cleanup_fclose FILE *f = fopen(env_file.items[i], "r");
            if (!f) {
                berth_err_set(err, errno, "open env file `%s`", env_file.items[i]);
                goto out;
            }
            char *line = NULL;
            size_t cap = 0;
            while (getline(&line, &cap, f) >= 0) {
                line[strcspn(line, "\r\n")] = '\0';
                if (*line && *line != '#')
                    json_object_array_add(e, json_object_new_string(line));
            }
            free(line);
        }
        for (size_t i = 0; i < env.n; i++) {
            const char *v = strchr(env.items[i], '=') ? NULL : getenv(env.items[i]);
            cleanup_free char *kv = v ? xasprintf("%s=%s", env.items[i], v) : xstrdup(env.items[i]);
            json_object_array_add(e, json_object_new_string(kv));
        }
        struct json_object *cmd = json_object_new_array();
        for (int i = 1; i < args.n; i++)
            json_object_array_add(cmd, json_object_new_string(args.v[i]));
        json_object_object_add(body, "Cmd", cmd);

        cleanup_free char *path = xasprintf("/containers/%s/exec", args.v[0]);
        cleanup_json struct json_object *created = NULL;
        if (cli_api(g, "POST", path, body, &created, err) < 0)
            goto out;
        struct json_object *idv = NULL;
        if (!json_object_object_get_ex(created, "Id", &idv)) {
            berth_err_fail(err, EPROTO, "exec: no Id in the daemon's answer");
            goto out;
        }
        const char *id = json_object_get_string(idv);
        cleanup_free char *start = xasprintf("/exec/%s/start", id);
        cleanup_json struct json_object *sbody = json_object_new_object();
        json_object_object_add(sbody, "Detach", json_object_new_boolean(detach));
        json_object_object_add(sbody, "Tty", json_object_new_boolean(tty));
        if (detach) {
            status = cli_api(g, "POST", start, sbody, NULL, err) < 0 ? CLI_EXIT_FAIL : 0;
            goto out;
        }
        struct cli_hijack h;
        if (cli_hijack_open(g, "POST", start, sbody, &h, err) < 0)
            goto out;
        cleanup_free char *resize = xasprintf("/exec/%s/resize", id);
        cleanup_free char *keys = detach_keys ? cli_detach_keys(detach_keys, err) : NULL;
        if (detach_keys && !keys) {
            cli_hijack_close(&h);
            goto out;
        }
        struct cli_pump_opts po = {.tty = tty,
                                   .use_stdin = interactive,
                                   .resize = tty ? resize : NULL,
                                   .detach_keys = keys};
        bool detached = false;
        int rc = cli_hijack_pump(g, &h, &po, &detached, err);
        cli_hijack_close(&h);
        if (rc < 0)
            goto out;
        if (detached) {
            status = 0;
            goto out;
        }
        cleanup_free char *ipath = xasprintf("/exec/%s/json", id);
        cleanup_json struct json_object *info = NULL;
        if (cli_api(g, "GET", ipath, NULL, &info, err) < 0)
            goto out;
        struct json_object *code = NULL;
        status = json_object_object_get_ex(info, "ExitCode", &code) && code
                     ? (int)(json_object_get_int64(code) & 0xff)
                     : 0;
    }
out:
    cli_strv_free(&env);
    cli_strv_free(&env_file);
    return status;
}
