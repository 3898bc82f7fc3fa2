/* SPDX-License-Identifier: Apache-2.0
 *
 * login, logout and the credentials they keep: docker's config.json ($DOCKER_CONFIG, else
 * ~/.docker), its "auths" map from a registry to {"auth": base64("user:password")}, and
 * the X-Registry-Auth header built from it for pulls and pushes. Docker Hub's key is
 * "https://index.docker.io/v1/", as docker writes it; another registry's is its host[:port].
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"

#define HUB_KEY "https://index.docker.io/v1/"

static char *
config_dir(void)
{
    const char *d = getenv("DOCKER_CONFIG");
    if (d && *d)
        return xstrdup(d);
    const char *home = getenv("HOME");
    return xasprintf("%s/.docker", home && *home ? home : "/root");
}

static char *
config_path(void)
{
    cleanup_free char *d = config_dir();
    return xasprintf("%s/config.json", d);
}

/* The config as a JSON object; an absent file is an empty object. */
static struct json_object *
config_load(const char *path, struct berth_err *err)
{
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return json_object_new_object();
    struct json_object *o = berth_json_parse_file(path, err);
    if (!o)
        return NULL;
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        berth_err_fail(err, EINVAL, "`%s`: expected a JSON object", path);
        return NULL;
    }
    return o;
}

/* The key of a server argument: Hub's when empty or a Hub name; else the host with any
 * scheme and path dropped. */
static char *
server_key(const char *server)
{
    if (!server || !*server)
        return xstrdup(HUB_KEY);
    const char *s = server;
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    size_t n = strcspn(s, "/");
    if ((n == 9 && strncmp(s, "docker.io", 9) == 0) ||
        (n == 15 && strncmp(s, "index.docker.io", 15) == 0) ||
        (n == 20 && strncmp(s, "registry-1.docker.io", 20) == 0))
        return xstrdup(HUB_KEY);
    return xstrndup(s, n);
}

char *
cli_auth_header(const char *image)
{
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    if (berth_ref_parse(image, &ref, &err) < 0)
        return NULL;
    cleanup_free char *key = server_key(ref.domain);
    cleanup_free char *path = config_path();
    cleanup_json struct json_object *cfg = config_load(path, &err);
    struct json_object *auths = NULL, *entry = NULL;
    const char *auth = NULL;
    if (!cfg || berth_json_get_object(cfg, "auths", &auths, &err) <= 0 ||
        berth_json_get_object(auths, key, &entry, &err) <= 0 ||
        berth_json_get_string(entry, "auth", &auth, &err) <= 0)
        return NULL;
    cleanup_free char *plain = cli_base64_decode(auth);
    char *colon = plain ? strchr(plain, ':') : NULL;
    if (!colon)
        return NULL;
    *colon = '\0';
    cleanup_json struct json_object *o = json_object_new_object();
    json_object_object_add(o, "username", json_object_new_string(plain));
    json_object_object_add(o, "password", json_object_new_string(colon + 1));
    json_object_object_add(o, "serveraddress", json_object_new_string(key));
    const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    cleanup_free char *b = cli_base64_encode(js, strlen(js));
    /* X-Registry-Auth is base64url, as docker sends it. */
    for (char *c = b; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return xasprintf("X-Registry-Auth: %s", b);
}

/* Read one line from stdin, without echo when hidden and stdin is a terminal. */
static char *
prompt(const char *what, bool hidden)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO);
    if (tty) {
        fprintf(stderr, "%s", what);
        fflush(stderr);
    }
    if (tty && hidden && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    } else {
        hidden = false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (hidden) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static int
store(const char *key, const char *user, const char *password, struct berth_err *err)
{
    cleanup_free char *dir = config_dir();
    cleanup_free char *path = config_path();
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return berth_err_set(err, errno, "create `%s`", dir);
    cleanup_json struct json_object *cfg = config_load(path, err);
    if (!cfg)
        return -1;
    struct json_object *auths = NULL;
    if (!json_object_object_get_ex(cfg, "auths", &auths) ||
        !json_object_is_type(auths, json_type_object)) {
        auths = json_object_new_object();
        json_object_object_add(cfg, "auths", auths);
    }
    cleanup_free char *pair = xasprintf("%s:%s", user, password);
    cleanup_free char *b = cli_base64_encode(pair, strlen(pair));
    struct json_object *entry = json_object_new_object();
    json_object_object_add(entry, "auth", json_object_new_string(b));
    json_object_object_add(auths, key, entry);
    return berth_json_write_file(path, cfg, true, 0600, err);
}

int
cli_cmd_login(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *user = NULL, *password = NULL;
    bool password_stdin = false;
    const struct cli_flag flags[] = {
        {"username", 'u', CLI_FLAG_STRING, &user, NULL},
        {"password", 'p', CLI_FLAG_STRING, &password, NULL},
        {"password-stdin", 0, CLI_FLAG_BOOL, &password_stdin, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse("login", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth login [OPTIONS] [SERVER]\n\nLog in to a registry.\n\nOptions:\n"
               "  -p, --password string   Password\n"
               "      --password-stdin    Take the password from stdin\n"
               "  -u, --username string   Username\n");
        return 0;
    }
    if (cli_args_count("login", &args, 0, 1, err) < 0)
        return CLI_EXIT_USAGE;
    if (password && password_stdin) {
        berth_err_fail(err, EINVAL, "--password and --password-stdin are mutually exclusive");
        return CLI_EXIT_FAIL;
    }
    if (password_stdin && !user) {
        berth_err_fail(err, EINVAL, "Must provide --username with --password-stdin");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *key = server_key(args.n ? args.v[0] : NULL);
    cleanup_free char *user_buf = NULL, *pw_buf = NULL;
    if (!user) {
        user = user_buf = prompt("Username: ", false);
        if (!user || !*user) {
            berth_err_fail(err, EINVAL, "Error: Non-null Username Required");
            return CLI_EXIT_FAIL;
        }
    }
    if (password_stdin) {
        char *line = NULL;
        size_t cap = 0;
        if (getline(&line, &cap, stdin) < 0) {
            free(line);
            line = xstrdup("");
        }
        line[strcspn(line, "\r\n")] = '\0';
        password = pw_buf = line;
    } else if (!password) {
        password = pw_buf = prompt("Password: ", true);
    } else {
        fprintf(stderr,
                "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    }
    if (!password || !*password) {
        berth_err_fail(err, EINVAL, "Error: Password Required");
        return CLI_EXIT_FAIL;
    }
    cleanup_json struct json_object *body = json_object_new_object();
    json_object_object_add(body, "username", json_object_new_string(user));
    json_object_object_add(body, "password", json_object_new_string(password));
    json_object_object_add(body, "serveraddress", json_object_new_string(key));
    cleanup_json struct json_object *answer = NULL;
    cleanup_err struct berth_err aerr = BERTH_ERR_INIT;
    bool verified = true;
    if (cli_api(g, "POST", "/auth", body, &answer, &aerr) < 0) {
        /* A daemon without /auth (404, 501) cannot check: store them, and say so. */
        if (aerr.code != ENOENT && aerr.code != ENOTSUP) {
            berth_err_fail(err, aerr.code, "%s", aerr.msg);
            return CLI_EXIT_FAIL;
        }
        verified = false;
    }
    if (store(key, user, password, err) < 0)
        return CLI_EXIT_FAIL;
    cleanup_free char *path = config_path();
    fprintf(stderr, "WARNING! Your password will be stored unencrypted in %s.\n", path);
    if (!verified) {
        printf("Credentials stored, but not verified: the daemon could not check them (%s)\n",
               aerr.msg);
        return 0;
    }
    printf("Login Succeeded\n");
    return 0;
}

int
cli_cmd_logout(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const struct cli_flag flags[] = {{"_", 0, CLI_FLAG_BOOL, NULL, NULL}};
    struct cli_args args;
    if (cli_flags_parse("logout", flags, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth logout [SERVER]\n\nLog out from a registry.\n");
        return 0;
    }
    if (cli_args_count("logout", &args, 0, 1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *key = server_key(args.n ? args.v[0] : NULL);
    cleanup_free char *path = config_path();
    cleanup_json struct json_object *cfg = config_load(path, err);
    if (!cfg)
        return CLI_EXIT_FAIL;
    struct json_object *auths = NULL;
    if (!json_object_object_get_ex(cfg, "auths", &auths) ||
        !json_object_object_get_ex(auths, key, NULL)) {
        printf("Not logged in to %s\n", key);
        return 0;
    }
    printf("Removing login credentials for %s\n", key);
    json_object_object_del(auths, key);
    return berth_json_write_file(path, cfg, true, 0600, err) < 0 ? CLI_EXIT_FAIL : 0;
}
