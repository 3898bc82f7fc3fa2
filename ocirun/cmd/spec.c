// SPDX-License-Identifier: Apache-2.0
//
// `ocirun spec` and `ocirun features`: print or write the documents of spec-default.c.

#include "ocirun/ocirun.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/spec-default.h"

int
ocirun_cmd_spec(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"rootless", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bundle = ".";
    bool rootless = false;
    int c;
    while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bundle = optarg; break;
        case 'r': rootless = true; break;
        case 'h':
            ocirun_cmd_usage("spec", "[command options]",
                             "   --bundle value, -b value  path to the root of the bundle "
                             "directory\n"
                             "   --rootless                generate a configuration for a rootless "
                             "container\n");
            return 0;
        default: return berth_err_fail(err, EINVAL, "invalid option for `spec`");
        }
    }
    if (optind != argc)
        return berth_err_fail(err, EINVAL, "`spec` takes no arguments");
    cleanup_free char *path = xasprintf("%s/config.json", bundle);
    if (berth_fs_exists(path))
        return berth_err_fail(err, EEXIST, "file `%s` exists, remove it first", path);
    cleanup_json struct json_object *s = ocirun_spec_default(rootless, getuid(), getgid());
    const char *text = json_object_to_json_string_ext(s, OCIRUN_JSON_PRETTY);
    cleanup_free char *buf = xasprintf("%s\n", text);
    return berth_fs_write_atomic(path, buf, strlen(buf), 0666 & ~0022, err) < 0 ? -1 : 0;
}

int
ocirun_cmd_features(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    if (argc > 1 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)
        return berth_err_fail(err, EINVAL, "`features` takes no arguments");
    if (argc > 1) {
        ocirun_cmd_usage("features", "", NULL);
        return 0;
    }
    cleanup_json struct json_object *f = ocirun_spec_features();
    puts(json_object_to_json_string_ext(f, OCIRUN_JSON_PRETTY));
    return 0;
}
