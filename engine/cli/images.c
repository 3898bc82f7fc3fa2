/* SPDX-License-Identifier: Apache-2.0
 *
 * The image commands: images, pull, push, tag, rmi, save, load, history, and the `image`
 * group (ls, pull, push, tag, rm, save, load, history, inspect, prune).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/reference.h"
#include "engine/cli/cli.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"
#include "engine/cli/output.h"
#include "engine/cli/progress.h"
#include "engine/cli/units.h"

static void
add_str(struct json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

/* Go's time.String in local time: "2024-01-02 03:04:05 +0000 UTC". */
static char *
go_time(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    char buf[80];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
    return xstrdup(buf);
}

/* ---- images -------------------------------------------------------------------------------- */

/* Split "repo:tag" at the tag's colon (not a registry port's). */
static void
split_repo_tag(const char *ref, char **repo, char **tag)
{
    const char *at = strchr(ref, '@');
    size_t end = at ? (size_t)(at - ref) : strlen(ref);
    const char *slash = memrchr(ref, '/', end);
    const char *colon =
        memrchr(slash ? slash : ref, ':', end - (size_t)((slash ? slash : ref) - ref));
    if (colon) {
        *repo = xstrndup(ref, (size_t)(colon - ref));
        *tag = xstrndup(colon + 1, end - (size_t)(colon + 1 - ref));
    } else {
        *repo = xstrndup(ref, end);
        *tag = at ? NULL : NULL;
    }
}

static const struct cli_column image_columns[] = {
    {"Repository", "REPOSITORY"},
    {"Tag", "TAG"},
    {"Digest", "DIGEST"},
    {"ID", "IMAGE ID"},
    {"CreatedSince", "CREATED"},
    {"CreatedAt", "CREATED AT"},
    {"Size", "SIZE"},
    {"Containers", "CONTAINERS"},
};

/* The digest of repo among RepoDigests ("repo@sha256:..."), or "<none>". */
static const char *
digest_for(struct json_object *digests, const char *repo)
{
    size_t rl = strlen(repo);
    for (size_t i = 0; digests && i < json_object_array_length(digests); i++) {
        const char *d = json_object_get_string(json_object_array_get_idx(digests, i));
        if (d && strncmp(d, repo, rl) == 0 && d[rl] == '@')
            return d + rl + 1;
    }
    return "<none>";
}

static struct json_object *
image_row(struct json_object *img, const char *repo, const char *tag, const char *digest,
          bool no_trunc)
{
    struct json_object *row = json_object_new_object();
    cleanup_free char *id = cli_short_id(cli_json_str(img, "Id"), no_trunc);
    cleanup_free char *since = cli_human_since(cli_json_int(img, "Created"));
    cleanup_free char *at = go_time(cli_json_int(img, "Created"));
    cleanup_free char *size = cli_human_size((double)cli_json_int(img, "Size"));
    int64_t containers = cli_json_int(img, "Containers");
    cleanup_free char *cs =
        containers < 0 ? xstrdup("N/A") : xasprintf("%lld", (long long)containers);
    add_str(row, "Repository", repo);
    add_str(row, "Tag", tag);
    add_str(row, "Digest", digest);
    add_str(row, "ID", id);
    add_str(row, "CreatedSince", since);
    add_str(row, "CreatedAt", at);
    add_str(row, "Size", size);
    add_str(row, "Containers", cs);
    return row;
}

static int
images_list(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    bool all = false, quiet = false, digests = false, no_trunc = false;
    const char *format = NULL;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {
        {"all", 'a', CLI_FLAG_BOOL, &all, NULL},
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"digests", 0, CLI_FLAG_BOOL, &digests, NULL},
        {"no-trunc", 0, CLI_FLAG_BOOL, &no_trunc, NULL},
        {"format", 0, CLI_FLAG_STRING, &format, NULL},
        {"filter", 'f', CLI_FLAG_LIST, &filters, NULL},
    };
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    struct cli_fmt fmt = {0};
    cleanup_free char *fq = NULL, *path = NULL;
    cleanup_json struct json_object *list = NULL;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        goto out;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\nOptions:\n"
               "  -a, --all             Show all images\n"
               "      --digests         Show digests\n"
               "  -f, --filter filter   Filter output based on conditions provided\n"
               "      --format string   Pretty-print images using a Go template\n"
               "      --no-trunc        Don't truncate output\n"
               "  -q, --quiet           Only show image IDs\n",
               cmd);
        status = 0;
        goto out;
    }
    if (cli_args_count(cmd, &args, 0, 1, err) < 0)
        goto out;
    if (args.n)
        cli_strv_add(&filters, xasprintf("reference=%s", args.v[0]));
    fq = cli_filters_query(&filters, err);
    if (args.n)
        free((char *)filters.items[filters.n - 1]);
    if (!fq)
        goto out;
    const char *def = digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                                "{{.CreatedSince}}\t{{.Size}}"
                              : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t"
                                "{{.Size}}";
    if (quiet)
        format = "{{.ID}}";
    if (cli_fmt_init(&fmt, format, def, image_columns, ARRAY_SIZE(image_columns), err) < 0)
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/images/json?all=%d%s", all ? 1 : 0, fq);
    if (cli_api(g, "GET", path, NULL, &list, err) < 0)
        goto out;
    {
        cleanup_free char *seen = xstrdup("");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            struct json_object *img = json_object_array_get_idx(list, i);
            struct json_object *tags = NULL, *dg = NULL;
            json_object_object_get_ex(img, "RepoTags", &tags);
            json_object_object_get_ex(img, "RepoDigests", &dg);
            size_t n_tags =
                json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
            if (quiet) {
                /* One line an image, however many names it has. */
                cleanup_free char *id = cli_short_id(cli_json_str(img, "Id"), no_trunc);
                if (strstr(seen, id))
                    continue;
                char *more = xasprintf("%s %s", seen, id);
                free(seen);
                seen = more;
                cleanup_json struct json_object *row = image_row(img, "", "", "", no_trunc);
                if (cli_fmt_row(&fmt, row, err) < 0)
                    goto out;
                continue;
            }
            if (n_tags == 0) {
                /* Untagged: by its digests' repositories, else <none>:<none>. */
                size_t n_dg =
                    json_object_is_type(dg, json_type_array) ? json_object_array_length(dg) : 0;
                for (size_t d = 0; d < (n_dg ? n_dg : 1); d++) {
                    const char *rd =
                        n_dg ? json_object_get_string(json_object_array_get_idx(dg, d)) : NULL;
                    const char *atp = rd ? strchr(rd, '@') : NULL;
                    cleanup_free char *repo =
                        atp ? xstrndup(rd, (size_t)(atp - rd)) : xstrdup("<none>");
                    cleanup_json struct json_object *row =
                        image_row(img, repo, "<none>", atp ? atp + 1 : "<none>", no_trunc);
                    if (cli_fmt_row(&fmt, row, err) < 0)
                        goto out;
                }
                continue;
            }
            for (size_t t = 0; t < n_tags; t++) {
                const char *rt = json_object_get_string(json_object_array_get_idx(tags, t));
                cleanup_free char *repo = NULL, *tag = NULL;
                split_repo_tag(rt, &repo, &tag);
                cleanup_json struct json_object *row =
                    image_row(img, repo, tag ? tag : "<none>", digest_for(dg, repo), no_trunc);
                if (cli_fmt_row(&fmt, row, err) < 0)
                    goto out;
            }
        }
        cli_fmt_flush(&fmt, stdout);
        status = 0;
    }
out:
    cli_fmt_free(&fmt);
    cli_strv_free(&filters);
    return status;
}

int
cli_cmd_images(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return images_list(g, argc, argv, "images", err);
}

/* ---- pull / push ------------------------------------------------------------------------- */

static int
pull(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    bool quiet = false, all_tags = false;
    const char *platform = NULL;
    const struct cli_flag flags[] = {
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"all-tags", 'a', CLI_FLAG_BOOL, &all_tags, NULL},
        {"platform", 0, CLI_FLAG_STRING, &platform, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] NAME[:TAG|@DIGEST]\n\nPull an image from a registry\n\n"
               "Options:\n  -a, --all-tags        Download all tagged images in the repository\n"
               "      --platform string Set platform if server is multi-platform capable\n"
               "  -q, --quiet           Suppress verbose output\n",
               cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(args.v[0], &ref, err) < 0)
        return CLI_EXIT_FAIL;
    cleanup_free char *name = berth_ref_name(&ref);
    cleanup_free char *full = berth_ref_string(&ref);
    /* The tag argument carries a digest when there is one, as docker's CLI sends it. */
    const char *tag = all_tags ? NULL : ref.digest ? ref.digest : ref.tag;
    cleanup_free char *e_name = cli_escape(name);
    cleanup_free char *e_tag = tag ? cli_escape(tag) : NULL;
    cleanup_free char *e_plat = platform ? cli_escape(platform) : NULL;
    cleanup_free char *path =
        xasprintf("/images/create?fromImage=%s%s%s%s%s", e_name, tag ? "&tag=" : "",
                  tag ? e_tag : "", platform ? "&platform=" : "", platform ? e_plat : "");
    cleanup_free char *auth = cli_auth_header(args.v[0]);
    const char *headers[] = {auth, NULL};
    struct cli_request req = {.method = "POST", .path = path, .headers = headers};
    if (cli_progress_run(g, &req, stdout, quiet, err) < 0)
        return CLI_EXIT_FAIL;
    printf("%s\n", all_tags ? name : full);
    return 0;
}

int
cli_cmd_pull(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return pull(g, argc, argv, "pull", err);
}

static int
push(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    bool quiet = false, all_tags = false;
    const struct cli_flag flags[] = {
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"all-tags", 'a', CLI_FLAG_BOOL, &all_tags, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] NAME[:TAG]\n\nPush an image to a registry\n", cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_free char *repo = NULL, *tag = NULL;
    split_repo_tag(args.v[0], &repo, &tag);
    cleanup_free char *e_tag = tag ? cli_escape(tag) : NULL;
    cleanup_free char *path =
        xasprintf("/images/%s/push%s%s", repo, tag && !all_tags ? "?tag=" : "",
                  tag && !all_tags ? e_tag : "");
    cleanup_free char *auth = cli_auth_header(args.v[0]);
    /* dockerd wants the header even without credentials: "{}". */
    const char *headers[] = {auth ? auth : "X-Registry-Auth: e30=", NULL};
    struct cli_request req = {.method = "POST", .path = path, .headers = headers};
    if (cli_progress_run(g, &req, stdout, quiet, err) < 0)
        return CLI_EXIT_FAIL;
    if (quiet)
        printf("%s\n", args.v[0]);
    return 0;
}

int
cli_cmd_push(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return push(g, argc, argv, "push", err);
}

/* ---- tag, rmi ----------------------------------------------------------------------------- */

static int
tag(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    struct cli_args args;
    if (cli_flags_parse(cmd, NULL, 0, argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n", cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 2, 2, err) < 0)
        return CLI_EXIT_USAGE;
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(args.v[1], &ref, err) < 0)
        return CLI_EXIT_FAIL;
    if (ref.digest && !ref.tag) {
        berth_err_fail(err, EINVAL, "refusing to create a tag with a digest reference");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *repo = berth_ref_name(&ref);
    cleanup_free char *e_repo = cli_escape(repo);
    cleanup_free char *e_tag = cli_escape(ref.tag);
    cleanup_free char *path = xasprintf("/images/%s/tag?repo=%s&tag=%s", args.v[0], e_repo, e_tag);
    return cli_api(g, "POST", path, NULL, NULL, err) < 0 ? CLI_EXIT_FAIL : 0;
}

int
cli_cmd_tag(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return tag(g, argc, argv, "tag", err);
}

static int
rmi(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    bool force = false, no_prune = false;
    const struct cli_flag flags[] = {
        {"force", 'f', CLI_FLAG_BOOL, &force, NULL},
        {"no-prune", 0, CLI_FLAG_BOOL, &no_prune, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images\n\n"
               "Options:\n  -f, --force      Force removal of the image\n"
               "      --no-prune   Do not delete untagged parents\n",
               cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    int status = 0;
    for (int i = 0; i < args.n; i++) {
        cleanup_free char *path =
            xasprintf("/images/%s?force=%d&noprune=%d", args.v[i], force ? 1 : 0, no_prune ? 1 : 0);
        cleanup_json struct json_object *r = NULL;
        if (cli_api(g, "DELETE", path, NULL, &r, err) < 0) {
            cli_report_error(err);
            status = CLI_EXIT_FAIL;
            continue;
        }
        for (size_t k = 0; r && k < json_object_array_length(r); k++) {
            struct json_object *it = json_object_array_get_idx(r, k);
            if (*cli_json_str(it, "Untagged"))
                printf("Untagged: %s\n", cli_json_str(it, "Untagged"));
            if (*cli_json_str(it, "Deleted"))
                printf("Deleted: %s\n", cli_json_str(it, "Deleted"));
        }
    }
    return status;
}

int
cli_cmd_rmi(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return rmi(g, argc, argv, "rmi", err);
}

/* ---- save, load --------------------------------------------------------------------------- */

static int
write_out(void *opaque, const char *data, size_t len, struct berth_err *err)
{
    FILE *f = opaque;
    if (fwrite(data, 1, len, f) != len)
        return berth_err_set(err, errno, "write the archive");
    return 0;
}

static int
save(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    const char *output = NULL;
    const struct cli_flag flags[] = {{"output", 'o', CLI_FLAG_STRING, &output, NULL}};
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] IMAGE [IMAGE...]\n\nSave one or more images to a tar "
               "archive (streamed to STDOUT by default)\n\nOptions:\n"
               "  -o, --output string   Write to a file, instead of STDOUT\n",
               cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, -1, err) < 0)
        return CLI_EXIT_USAGE;
    if (!output && isatty(STDOUT_FILENO)) {
        berth_err_fail(err, EINVAL,
                       "cowardly refusing to save to a terminal. Use the -o flag "
                       "or redirect");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *path = xstrdup("/images/get?");
    for (int i = 0; i < args.n; i++) {
        cleanup_free char *e = cli_escape(args.v[i]);
        char *more = xasprintf("%s%snames=%s", path, i ? "&" : "", e);
        free(path);
        path = more;
    }
    /* A file is written beside its name and renamed once whole, so a failed save leaves
     * nothing half-written under the name asked for. */
    cleanup_free char *tmp = output ? xasprintf("%s.tmp-%d", output, (int)getpid()) : NULL;
    FILE *f = stdout;
    if (output && !(f = fopen(tmp, "wb"))) {
        berth_err_set(err, errno, "create `%s`", output);
        return CLI_EXIT_FAIL;
    }
    struct cli_request req = {.method = "GET", .path = path, .on_data = write_out, .opaque = f};
    struct cli_response resp;
    int rc = cli_http_do(g, &req, &resp, err);
    cli_response_free(&resp);
    if (output) {
        if (fclose(f) != 0 && rc == 0)
            rc = berth_err_set(err, errno, "write `%s`", output);
        if (rc == 0 && rename(tmp, output) < 0)
            rc = berth_err_set(err, errno, "rename to `%s`", output);
        if (rc < 0)
            unlink(tmp);
    } else {
        fflush(stdout);
    }
    return rc < 0 ? CLI_EXIT_FAIL : 0;
}

int
cli_cmd_save(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return save(g, argc, argv, "save", err);
}

static int
load(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    const char *input = NULL;
    bool quiet = false;
    const struct cli_flag flags[] = {{"input", 'i', CLI_FLAG_STRING, &input, NULL},
                                     {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL}};
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS]\n\nLoad an image from a tar archive or STDIN\n\n"
               "Options:\n  -i, --input string   Read from tar archive file, instead of STDIN\n"
               "  -q, --quiet          Suppress the load output\n",
               cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 0, 0, err) < 0)
        return CLI_EXIT_USAGE;
    if (!input && isatty(STDIN_FILENO)) {
        berth_err_fail(err, EINVAL, "requested load from stdin, but stdin is empty");
        return CLI_EXIT_FAIL;
    }
    cleanup_free char *path = xasprintf("/images/load?quiet=%d", quiet ? 1 : 0);
    struct cli_request req = {
        .method = "POST", .path = path, .body_file = input ? input : "/dev/stdin"};
    /* The daemon's lines are the output ("Loaded image: x"); quiet asks it for fewer. */
    return cli_progress_run(g, &req, stdout, false, err) < 0 ? CLI_EXIT_FAIL : 0;
}

int
cli_cmd_load(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return load(g, argc, argv, "load", err);
}

/* ---- history ------------------------------------------------------------------------------- */

static int
history(struct cli_global *g, int argc, char **argv, const char *cmd, struct berth_err *err)
{
    bool quiet = false, no_trunc = false, human = true;
    const char *format = NULL;
    const struct cli_flag flags[] = {
        {"quiet", 'q', CLI_FLAG_BOOL, &quiet, NULL},
        {"no-trunc", 0, CLI_FLAG_BOOL, &no_trunc, NULL},
        {"human", 'H', CLI_FLAG_BOOL, &human, NULL},
        {"format", 0, CLI_FLAG_STRING, &format, NULL},
    };
    struct cli_args args;
    if (cli_flags_parse(cmd, flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        return CLI_EXIT_USAGE;
    if (args.help) {
        printf("Usage:  berth %s [OPTIONS] IMAGE\n\nShow the history of an image\n", cmd);
        return 0;
    }
    if (cli_args_count(cmd, &args, 1, 1, err) < 0)
        return CLI_EXIT_USAGE;
    static const struct cli_column cols[] = {{"ID", "IMAGE"},
                                             {"CreatedSince", "CREATED"},
                                             {"CreatedAt", "CREATED AT"},
                                             {"CreatedBy", "CREATED BY"},
                                             {"Size", "SIZE"},
                                             {"Comment", "COMMENT"}};
    struct cli_fmt fmt;
    if (quiet)
        format = "{{.ID}}";
    if (cli_fmt_init(&fmt, format,
                     "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                     cols, ARRAY_SIZE(cols), err) < 0)
        return CLI_EXIT_USAGE;
    int status = CLI_EXIT_FAIL;
    cleanup_free char *path = xasprintf("/images/%s/history", args.v[0]);
    cleanup_json struct json_object *list = NULL;
    if (cli_api(g, "GET", path, NULL, &list, err) < 0)
        goto out;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *h = json_object_array_get_idx(list, i);
        const char *id = cli_json_str(h, "Id");
        cleanup_free char *sid = strcmp(id, "<missing>") == 0 || !*id ? xstrdup("<missing>")
                                                                      : cli_short_id(id, no_trunc);
        const char *by = cli_json_str(h, "CreatedBy");
        cleanup_free char *by_s =
            !no_trunc && strlen(by) > 45 ? xasprintf("%.44s…", by) : xstrdup(by);
        int64_t created = cli_json_int(h, "Created");
        cleanup_free char *since = human ? cli_human_since(created) : go_time(created);
        cleanup_free char *at = go_time(created);
        cleanup_free char *size = human ? cli_human_size((double)cli_json_int(h, "Size"))
                                        : xasprintf("%lld", (long long)cli_json_int(h, "Size"));
        cleanup_json struct json_object *row = json_object_new_object();
        add_str(row, "ID", sid);
        add_str(row, "CreatedSince", since);
        add_str(row, "CreatedAt", at);
        add_str(row, "CreatedBy", by_s);
        add_str(row, "Size", size);
        add_str(row, "Comment", cli_json_str(h, "Comment"));
        if (cli_fmt_row(&fmt, row, err) < 0)
            goto out;
    }
    cli_fmt_flush(&fmt, stdout);
    status = 0;
out:
    cli_fmt_free(&fmt);
    return status;
}

int
cli_cmd_history(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    return history(g, argc, argv, "history", err);
}

/* ---- search ------------------------------------------------------------------------------ */

int
cli_cmd_search(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    const char *format = NULL, *limit = NULL;
    bool no_trunc = false;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {{"format", 0, CLI_FLAG_STRING, &format, NULL},
                                     {"limit", 0, CLI_FLAG_STRING, &limit, NULL},
                                     {"no-trunc", 0, CLI_FLAG_BOOL, &no_trunc, NULL},
                                     {"filter", 'f', CLI_FLAG_LIST, &filters, NULL}};
    static const struct cli_column cols[] = {{"Name", "NAME"},
                                             {"Description", "DESCRIPTION"},
                                             {"StarCount", "STARS"},
                                             {"IsOfficial", "OFFICIAL"},
                                             {"IsAutomated", "AUTOMATED"}};
    struct cli_args args;
    struct cli_fmt fmt = {0};
    int status = CLI_EXIT_USAGE;
    cleanup_free char *fq = NULL, *term = NULL, *path = NULL;
    cleanup_json struct json_object *r = NULL;
    if (cli_flags_parse("search", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        goto out;
    if (args.help) {
        printf("Usage:  berth search [OPTIONS] TERM\n\nSearch registries for images\n\n"
               "Options:\n  -f, --filter filter   Filter output based on conditions provided\n"
               "      --format string   Format output using a Go-like template\n"
               "      --limit int       Max number of search results\n"
               "      --no-trunc        Don't truncate output\n");
        status = 0;
        goto out;
    }
    if (cli_args_count("search", &args, 1, 1, err) < 0 || !(fq = cli_filters_query(&filters, err)))
        goto out;
    if (limit && (!*limit || strspn(limit, "0123456789") != strlen(limit))) {
        berth_err_fail(err, EINVAL, "invalid argument \"%s\" for \"--limit\" flag", limit);
        goto out;
    }
    if (cli_fmt_init(&fmt, format,
                     "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t"
                     "{{.IsOfficial}}\t{{.IsAutomated}}",
                     cols, ARRAY_SIZE(cols), err) < 0)
        goto out;
    status = CLI_EXIT_FAIL;
    term = cli_escape(args.v[0]);
    path = xasprintf("/images/search?term=%s%s%s%s", term, limit ? "&limit=" : "",
                     limit ? limit : "", fq);
    if (cli_api(g, "GET", path, NULL, &r, err) < 0)
        goto out;
    for (size_t i = 0; json_object_is_type(r, json_type_array) && i < json_object_array_length(r);
         i++) {
        struct json_object *it = json_object_array_get_idx(r, i);
        cleanup_json struct json_object *row = json_object_new_object();
        const char *desc = cli_json_str(it, "description");
        add_str(row, "Name", cli_json_str(it, "name"));
        cleanup_free char *d =
            !no_trunc && strlen(desc) > 45 ? xasprintf("%.44s…", desc) : xstrdup(desc);
        add_str(row, "Description", d);
        json_object_object_add(row, "StarCount",
                               json_object_new_int64(cli_json_int(it, "star_count")));
        json_object_object_add(
            row, "IsOfficial",
            json_object_new_string(berth_json_member_bool(it, "is_official") ? "[OK]" : ""));
        json_object_object_add(
            row, "IsAutomated",
            json_object_new_string(berth_json_member_bool(it, "is_automated") ? "[OK]" : ""));
        if (cli_fmt_row(&fmt, row, err) < 0)
            goto out;
    }
    cli_fmt_flush(&fmt, stdout);
    status = 0;
out:
    cli_fmt_free(&fmt);
    cli_strv_free(&filters);
    return status;
}

/* ---- image prune, the image group ------------------------------------------------------ */

static int
image_prune(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    bool all = false, force = false;
    struct cli_strv filters = {0};
    const struct cli_flag flags[] = {{"all", 'a', CLI_FLAG_BOOL, &all, NULL},
                                     {"force", 'f', CLI_FLAG_BOOL, &force, NULL},
                                     {"filter", 0, CLI_FLAG_LIST, &filters, NULL}};
    struct cli_args args;
    int status = CLI_EXIT_USAGE;
    cleanup_free char *path = NULL, *fq = NULL;
    cleanup_json struct json_object *r = NULL;
    if (cli_flags_parse("image prune", flags, ARRAY_SIZE(flags), argc, argv, false, &args, err) < 0)
        goto out;
    cli_strv_add(&filters, all ? "dangling=false" : "dangling=true");
    if (!(fq = cli_filters_query(&filters, err)))
        goto out;
    status = 0;
    if (!force && !cli_confirm(all ? "WARNING! This will remove all images without at least one "
                                     "container associated to them.\nAre you sure you want to "
                                     "continue?"
                                   : "WARNING! This will remove all dangling images.\nAre you "
                                     "sure you want to continue?"))
        goto out;
    status = CLI_EXIT_FAIL;
    path = xasprintf("/images/prune?%s", fq + 1);
    if (cli_api(g, "POST", path, NULL, &r, err) < 0)
        goto out;
    {
        struct json_object *del = NULL;
        if (json_object_object_get_ex(r, "ImagesDeleted", &del) &&
            json_object_is_type(del, json_type_array) && json_object_array_length(del)) {
            printf("Deleted Images:\n");
            for (size_t i = 0; i < json_object_array_length(del); i++) {
                struct json_object *it = json_object_array_get_idx(del, i);
                if (*cli_json_str(it, "Untagged"))
                    printf("untagged: %s\n", cli_json_str(it, "Untagged"));
                if (*cli_json_str(it, "Deleted"))
                    printf("deleted: %s\n", cli_json_str(it, "Deleted"));
            }
            printf("\n");
        }
        cleanup_free char *s = cli_human_size((double)cli_json_int(r, "SpaceReclaimed"));
        printf("Total reclaimed space: %s\n", s);
        status = 0;
    }
out:
    cli_strv_free(&filters);
    return status;
}

int
cli_cmd_image(struct cli_global *g, int argc, char **argv, struct berth_err *err)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("Usage:  berth image COMMAND\n\nManage images\n\nCommands:\n"
               "  history, inspect, load, ls, prune, pull, push, rm, save, tag\n");
        return argc < 2 ? CLI_EXIT_FAIL : 0;
    }
    const char *s = argv[1];
    argc--;
    argv++;
    if (strcmp(s, "ls") == 0 || strcmp(s, "list") == 0)
        return images_list(g, argc, argv, "image ls", err);
    if (strcmp(s, "pull") == 0)
        return pull(g, argc, argv, "image pull", err);
    if (strcmp(s, "push") == 0)
        return push(g, argc, argv, "image push", err);
    if (strcmp(s, "tag") == 0)
        return tag(g, argc, argv, "image tag", err);
    if (strcmp(s, "rm") == 0 || strcmp(s, "remove") == 0)
        return rmi(g, argc, argv, "image rm", err);
    if (strcmp(s, "save") == 0)
        return save(g, argc, argv, "image save", err);
    if (strcmp(s, "load") == 0)
        return load(g, argc, argv, "image load", err);
    if (strcmp(s, "history") == 0)
        return history(g, argc, argv, "image history", err);
    if (strcmp(s, "prune") == 0)
        return image_prune(g, argc, argv, err);
    if (strcmp(s, "inspect") == 0) {
        /* inspect --type image, whatever else is said. */
        char **v = xmalloc(((size_t)argc + 3) * sizeof(*v));
        v[0] = "inspect";
        v[1] = "--type=image";
        for (int i = 1; i < argc; i++)
            v[i + 1] = argv[i];
        v[argc + 1] = NULL;
        int rc = cli_cmd_inspect(g, argc + 1, v, err);
        free(v);
        return rc;
    }
    berth_err_fail(err, EINVAL, "berth image: unknown command `%s`\nSee 'berth image --help'.", s);
    return CLI_EXIT_USAGE;
}
