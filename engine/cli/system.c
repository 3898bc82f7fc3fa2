/* SPDX-License-Identifier: Apache-2.0
 *
 * The system commands: version, info, events, and `system df|prune|events|info`.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/units.h"

static const char *
str_of(struct json_object *o, const char *path)
{
    /* A dotted path into o, "" when absent: for printing only. */
    struct json_object *cur = o;
    char key[128];
    while (*path && cur) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        struct json_object *next = NULL;
        cur = json_object_object_get_ex(cur, key, &next) ? next : NULL;
        path += n;
        if (*path == '.')
            path++;
    }
    const char *s = cur ? json_object_get_string(cur) : NULL;
    return s ? s : "";
}

static struct json_object *
client_version(void)
{
    struct utsname u;
    uname(&u);
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "Version", json_object_new_string(BERTH_VERSION));
    json_object_object_add(c, "ApiVersion", json_object_new_string("1.41"));
    json_object_object_add(c, "DefaultAPIVersion", json_object_new_string("1.41"));
    json_object_object_add(c, "GitCommit", json_object_new_string(""));
    json_object_object_add(c, "GoVersion", json_object_new_string("none (C)"));
    json_object_object_add(c, "Os", json_object_new_string("linux"));
    json_object_object_add(c, "Arch",
                           json_object_new_string(strcmp(u.machine, "x86_64") == 0    ? "amd64"
                                                  : strcmp(u.machine, "aarch64") == 0 ? "arm64"
                                                                                      : u.machine));
    json_object_object_add(c, "BuildTime", json_object_new_string(""));
    return c;
}

int
cli_cmd_version(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *format = NULL;
    const struct cli_flag flags[] = {{"format", 'f', CLI_FLAG_STRING, &format, NULL}};
    struct cli_args args;
    if (cli_flags_parse("version", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth version [OPTIONS]\n\nShow the berth version information\n");
        return 0;
    }
    cleanup_json struct json_object *all = json_object_new_object();
    struct json_object *client = client_version();
    json_object_object_add(all, "Client", client);
    struct json_object *server = NULL;
    cleanup_err struct berth_err serr = BERTH_ERR_INIT;
    if (cli_api(g, "GET", "/version", NULL, &server, &serr) == 0)
        json_object_object_add(all, "Server", server);
    if (format) {
        if (cli_print_format(format, all, err) < 0)
            return CLI_EXIT_FAIL;
    } else {
        printf("Client:\n");
        printf(" Version:           %s\n", str_of(client, "Version"));
        printf(" API version:       %s\n", str_of(client, "ApiVersion"));
        printf(" Go version:        %s\n", str_of(client, "GoVersion"));
        printf(" Git commit:        %s\n", str_of(client, "GitCommit"));
        printf(" OS/Arch:           %s/%s\n", str_of(client, "Os"), str_of(client, "Arch"));
        if (server) {
            printf("\nServer: %s\n", str_of(server, "Platform.Name"));
            printf(" Engine:\n");
            printf("  Version:          %s\n", str_of(server, "Version"));
            printf("  API version:      %s (minimum version %s)\n", str_of(server, "ApiVersion"),
                   str_of(server, "MinAPIVersion"));
            printf("  Go version:       %s\n", str_of(server, "GoVersion"));
            printf("  Git commit:       %s\n", str_of(server, "GitCommit"));
            printf("  Built:            %s\n", str_of(server, "BuildTime"));
            printf("  OS/Arch:          %s/%s\n", str_of(server, "Os"), str_of(server, "Arch"));
            printf("  Kernel version:   %s\n", str_of(server, "KernelVersion"));
            printf("  Experimental:     false\n");
        }
    }
    if (serr.msg) {
        cleanup_free char *m = berth_err_string(&serr);
        berth_err_fail(err, serr.code, "%s", m);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static void
print_info(struct json_object *info, const char *host)
{
    printf("Client:\n Context:    default\n Debug Mode: false\n Host:       %s\n\n", host);
    printf("Server:\n");
    printf(" Containers: %s\n", str_of(info, "Containers"));
    printf("  Running: %s\n", str_of(info, "ContainersRunning"));
    printf("  Paused: %s\n", str_of(info, "ContainersPaused"));
    printf("  Stopped: %s\n", str_of(info, "ContainersStopped"));
    printf(" Images: %s\n", str_of(info, "Images"));
    printf(" Server Version: %s\n", str_of(info, "ServerVersion"));
    printf(" Storage Driver: %s\n", str_of(info, "Driver"));
    printf(" Logging Driver: %s\n", str_of(info, "LoggingDriver"));
    printf(" Cgroup Driver: %s\n", str_of(info, "CgroupDriver"));
    printf(" Cgroup Version: %s\n", str_of(info, "CgroupVersion"));
    printf(" Swarm: %s\n", str_of(info, "Swarm.LocalNodeState"));
    printf(" Kernel Version: %s\n", str_of(info, "KernelVersion"));
    printf(" Operating System: %s\n", str_of(info, "OperatingSystem"));
    printf(" OSType: %s\n", str_of(info, "OSType"));
    printf(" Architecture: %s\n", str_of(info, "Architecture"));
    printf(" CPUs: %s\n", str_of(info, "NCPU"));
    struct json_object *mem = NULL;
    if (json_object_object_get_ex(info, "MemTotal", &mem)) {
        cleanup_free char *m = cli_human_size((double)json_object_get_int64(mem));
        printf(" Total Memory: %s\n", m);
    }
    printf(" Name: %s\n", str_of(info, "Name"));
    printf(" ID: %s\n", str_of(info, "ID"));
    printf(" Docker Root Dir: %s\n", str_of(info, "DockerRootDir"));
    printf(" Debug Mode: %s\n", str_of(info, "Debug"));
    printf(" Experimental: %s\n", str_of(info, "ExperimentalBuild"));
    printf(" Live Restore Enabled: %s\n", str_of(info, "LiveRestoreEnabled"));
}

int
cli_cmd_info(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *format = NULL;
    const struct cli_flag flags[] = {{"format", 'f', CLI_FLAG_STRING, &format, NULL}};
    struct cli_args args;
    if (cli_flags_parse("info", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth info [OPTIONS]\n\nDisplay system-wide information\n");
        return 0;
    }
    if (cli_args_count("info", &args, 0, 0, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_json struct json_object *info = NULL;
    if (cli_api(g, "GET", "/info", NULL, &info, err) < 0)
        return CLI_EXIT_FAIL;
    if (format)
        return cli_print_format(format, info, err) < 0 ? CLI_EXIT_FAIL : 0;
    print_info(info, g->host);
    return 0;
}

/* ---- events ------------------------------------------------------------------------------ */

struct events_out {
    struct cli_fmt fmt;
    bool formatted;
};

/* docker's line: "<time> <type> <action> <id> (k=v, ...)", time in RFC 3339 with nanoseconds
 * in local time. */
static void
print_event(struct json_object *ev)
{
    struct json_object *tn = NULL, *actor = NULL, *attrs = NULL;
    int64_t nanos =
        json_object_object_get_ex(ev, "timeNano", &tn)
            ? json_object_get_int64(tn)
            : (int64_t)json_object_get_int64(json_object_object_get(ev, "time")) * 1000000000LL;
    time_t secs = (time_t)(nanos / 1000000000LL);
    struct tm tm;
    localtime_r(&secs, &tm);
    char when[64], z[16], zone[16];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof(z), "%z", &tm);
    if (strcmp(z, "+0000") == 0)
        snprintf(zone, sizeof(zone), "Z");
    else
        snprintf(zone, sizeof(zone), "%.3s:%.2s", z, z + 3);
    printf("%s.%09lld%s %s %s", when, (long long)(nanos % 1000000000LL), zone, str_of(ev, "Type"),
           str_of(ev, "Action"));
    json_object_object_get_ex(ev, "Actor", &actor);
    printf(" %s", str_of(actor, "ID"));
    if (actor && json_object_object_get_ex(actor, "Attributes", &attrs) &&
        json_object_object_length(attrs) > 0) {
        /* Sorted by key, as docker prints them. */
        size_t n = (size_t)json_object_object_length(attrs), i = 0;
        cleanup_free const char **keys = xmalloc(n * sizeof(*keys));
        json_object_object_foreach(attrs, k, v)
        {
            (void)v;
            keys[i++] = k;
        }
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                if (strcmp(keys[a], keys[b]) > 0) {
                    const char *t = keys[a];
                    keys[a] = keys[b];
                    keys[b] = t;
                }
        printf(" (");
        for (size_t a = 0; a < n; a++)
            printf("%s%s=%s", a ? ", " : "", keys[a], str_of(attrs, keys[a]));
        printf(")");
    }
    printf("\n");
}

static int
on_event(void *opaque, char *line, struct berth_err *err)
{
    struct events_out *o = opaque;
    cleanup_json struct json_object *ev = berth_json_parse(line, strlen(line), err);
    if (!ev)
        return berth_err_wrap(err, "an event from the daemon");
    if (o->formatted) {
        if (cli_fmt_row(&o->fmt, ev, err) < 0)
            return -1;
    } else {
        print_event(ev);
    }
    fflush(stdout);
    return 0;
}

int
cli_cmd_events(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *since = NULL, *until = NULL, *format = NULL;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {
        {"since", 0, CLI_FLAG_STRING, &since, NULL},
        {"until", 0, CLI_FLAG_STRING, &until, NULL},
        {"filter", 'f', CLI_FLAG_LIST, &filters, NULL},
        {"format", 0, CLI_FLAG_STRING, &format, NULL},
    };
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    struct events_out out = {0};
    cleanup_free char *q_since = NULL, *q_until = NULL, *q_filters = NULL, *path = NULL;
    if (cli_flags_parse("events", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        goto out;
    if (args.help) {
        printf("Usage:  berth events [OPTIONS]\n\nGet real time events from the server\n\n"
               "Options:\n  -f, --filter filter   Filter output based on conditions provided\n"
               "      --format string   Format the output using the given Go template\n"
               "      --since string    Show all events created since timestamp\n"
               "      --until string    Stream events until this timestamp\n");
        status = 0;
        goto out;
    }
    if (cli_args_count("events", &args, 0, 0, err) < 0)
        goto out;
    status = CLI_EXIT_FAIL;
    if (since && !(q_since = cli_api_time(since, err)))
        goto out;
    if (until && !(q_until = cli_api_time(until, err)))
        goto out;
    if (!(q_filters = cli_filters_query(&filters, err)))
        goto out;
    path = xasprintf("/events?%s%s%s%s%s", q_since ? "since=" : "", q_since ? q_since : "",
                     q_until ? "&until=" : "", q_until ? q_until : "", q_filters);
    if (format) {
        if (cli_fmt_init(&out.fmt, format, format, NULL, 0, err) < 0)
            goto out;
        out.formatted = true;
    }
    struct cli_lines lines = {.on_line = on_event, .opaque = &out};
    struct cli_request req = {
        .method = "GET", .path = path, .on_data = cli_lines_on_data, .opaque = &lines};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    cli_response_free(&resp);
    if (rc == 0)
        rc = cli_lines_finish(&lines, err);
    else
        free(lines.buf);
    if (out.formatted)
        cli_fmt_flush(&out.fmt, stdout);
    status = rc < 0 ? CLI_EXIT_FAIL : 0;
out:
    cli_fmt_free(&out.fmt);
    cli_strv_free(&filters);
    return status;
}

/* ---- system df / prune ----------------------------------------------------------------- */

static int64_t
int_of(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static int
system_df(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *format = NULL;
    bool verbose = false;
    const struct cli_flag flags[] = {{"format", 0, CLI_FLAG_STRING, &format, NULL},
                                     {"verbose", 'v', CLI_FLAG_BOOL, &verbose, NULL}};
    struct cli_args args;
    if (cli_flags_parse("system df", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_json struct json_object *df = NULL;
    if (cli_api(g, "GET", "/system/df", NULL, &df, err) < 0)
        return CLI_EXIT_FAIL;
    if (verbose && !format) {
        cli_print_json_indented(stdout, df);
        return 0;
    }
    static const struct cli_column cols[] = {{"Type", "TYPE"},
                                             {"TotalCount", "TOTAL"},
                                             {"Active", "ACTIVE"},
                                             {"Size", "SIZE"},
                                             {"Reclaimable", "RECLAIMABLE"}};
    struct cli_fmt fmt;
    if (cli_fmt_init(&fmt, format,
                     "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                     cols, ARRAY_SIZE(cols), err) < 0)
        return CLI_EXIT_USAGE;
    static const struct {
        const char *type, *key, *size_key;
    } kinds[] = {{"Images", "Images", "Size"},
                 {"Containers", "Containers", "SizeRw"},
                 {"Local Volumes", "Volumes", NULL},
                 {"Build Cache", "BuildCache", "Size"}};
    int status = 0;
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        struct json_object *list = NULL;
        json_object_object_get_ex(df, kinds[k].key, &list);
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        int64_t total = 0, reclaim = 0, active = 0;
        for (size_t i = 0; i < n; i++) {
            struct json_object *it = json_object_array_get_idx(list, i);
            int64_t size;
            bool in_use;
            if (!kinds[k].size_key) {
                struct json_object *ud = NULL;
                json_object_object_get_ex(it, "UsageData", &ud);
                size = int_of(ud, "Size");
                in_use = int_of(ud, "RefCount") > 0;
            } else if (k == 0) {
                size = int_of(it, "Size") - int_of(it, "SharedSize");
                in_use = int_of(it, "Containers") > 0;
            } else if (k == 1) {
                size = int_of(it, "SizeRw");
                const char *state = str_of(it, "State");
                in_use = strcmp(state, "running") == 0 || strcmp(state, "paused") == 0;
            } else {
                size = int_of(it, "Size");
                in_use = json_object_get_boolean(json_object_object_get(it, "InUse"));
            }
            if (size < 0)
                size = 0;
            total += size;
            if (in_use)
                active++;
            else
                reclaim += size;
        }
        if (k == 0)
            total = int_of(df, "LayersSize") > 0 ? int_of(df, "LayersSize") : total;
        cleanup_free char *s_total = cli_human_size((double)total);
        cleanup_free char *s_reclaim = cli_human_size((double)reclaim);
        cleanup_free char *s_rec =
            xasprintf("%s (%lld%%)", s_reclaim, total ? (long long)(reclaim * 100 / total) : 0LL);
        cleanup_json struct json_object *row = json_object_new_object();
        json_object_object_add(row, "Type", json_object_new_string(kinds[k].type));
        json_object_object_add(row, "TotalCount", json_object_new_int64((int64_t)n));
        json_object_object_add(row, "Active", json_object_new_int64(active));
        json_object_object_add(row, "Size", json_object_new_string(s_total));
        json_object_object_add(row, "Reclaimable", json_object_new_string(s_rec));
        if (cli_fmt_row(&fmt, row, err) < 0) {
            status = CLI_EXIT_FAIL;
            break;
        }
    }
    cli_fmt_flush(&fmt, stdout);
    cli_fmt_free(&fmt);
    return status;
}

/* One prune request; prints the deleted items under label and adds the space reclaimed. */
static int
prune_one(struct cli_global *g, const char *path, const char *list_key, const char *label,
          int64_t *reclaimed, struct berth_err *err)
{
    cleanup_json struct json_object *r = NULL;
    if (cli_api(g, "POST", path, NULL, &r, err) < 0)
        return -1;
    struct json_object *list = NULL;
    if (json_object_object_get_ex(r, list_key, &list) &&
        json_object_is_type(list, json_type_array) && json_object_array_length(list) > 0) {
        printf("%s:\n", label);
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            struct json_object *it = json_object_array_get_idx(list, i);
            if (json_object_is_type(it, json_type_object)) {
                json_object_object_foreach(it, k, v)
                    printf("%s: %s\n", k, json_object_get_string(v));
            } else {
                printf("%s\n", json_object_get_string(it));
            }
        }
        printf("\n");
    }
    *reclaimed += int_of(r, "SpaceReclaimed");
    return 0;
}

static int
system_prune(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool all = false, force = false, volumes = false;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {{"all", 'a', CLI_FLAG_BOOL, &all, NULL},
                                     {"force", 'f', CLI_FLAG_BOOL, &force, NULL},
                                     {"volumes", 0, CLI_FLAG_BOOL, &volumes, NULL},
                                     {"filter", 0, CLI_FLAG_LIST, &filters, NULL}};
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *images_path = NULL, *c_path = NULL, *v_path = NULL;
    if (cli_flags_parse("system prune", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) <
        0)
        goto out;
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    status = CLI_EXIT_FAIL;
    if (!force) {
        printf("WARNING! This will remove:\n  - all stopped containers\n%s"
               "  - %s\n\n",
               volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
               all ? "all images without at least one container associated to them"
                   : "all dangling images");
        if (!cli_confirm("Are you sure you want to continue?")) {
            status = 0;
            goto out;
        }
    }
    {
        int64_t reclaimed = 0;
        c_path = xasprintf("/containers/prune?%s", fq[0] ? fq + 1 : "");
        if (prune_one(g, c_path, "ContainersDeleted", "Deleted Containers", &reclaimed, err) < 0)
            goto out;
        if (volumes) {
            v_path = xasprintf("/volumes/prune?%s", fq[0] ? fq + 1 : "");
            if (prune_one(g, v_path, "VolumesDeleted", "Deleted Volumes", &reclaimed, err) < 0)
                goto out;
        }
        cleanup_free char *dangling =
            cli_escape(all ? "{\"dangling\":{\"false\":true}}" : "{\"dangling\":{\"true\":true}}");
        images_path = xasprintf("/images/prune?filters=%s", dangling);
        if (prune_one(g, images_path, "ImagesDeleted", "Deleted Images", &reclaimed, err) < 0)
            goto out;
        cleanup_free char *s = cli_human_size((double)reclaimed);
        printf("Total reclaimed space: %s\n", s);
        status = 0;
    }
out:
    cli_strv_free(&filters);
    return status;
}

int
cli_cmd_system(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("Usage:  berth system COMMAND\n\nManage berth\n\nCommands:\n"
               "  df          Show berth disk usage\n"
               "  events      Get real time events from the server\n"
               "  info        Display system-wide information\n"
               "  prune       Remove unused data\n");
        return argc < 2 ? CLI_EXIT_FAIL : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "df") == 0)
        return system_df(g, argc - 1, argv + 1, err);
    if (strcmp(sub, "prune") == 0)
        return system_prune(g, argc - 1, argv + 1, err);
    if (strcmp(sub, "events") == 0)
        return cli_cmd_events(g, argc - 1, argv + 1, err);
    if (strcmp(sub, "info") == 0)
        return cli_cmd_info(g, argc - 1, argv + 1, err);
    berth_err_fail(err, EINVAL, "berth system: unknown command `%s`\nSee 'berth system --help'.",
                   sub);
    return CLI_EXIT_USAGE;
}
