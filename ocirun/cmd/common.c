// SPDX-License-Identifier: Apache-2.0
//
// Small helpers every command file uses.

#include "ocirun/ocirun.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "common/error.h"

const char *
ocirun_cmd_one_id(const char *cmd, int argc, char **argv, struct berth_err *err)
{
    if (argc - optind != 1) {
        berth_err_fail(err, EINVAL, "`%s` requires exactly 1 argument, the container id", cmd);
        return NULL;
    }
    return argv[optind];
}

void
ocirun_cmd_usage(const char *cmd, const char *usage, const char *options)
{
    printf("Usage: ocirun %s %s\n", cmd, usage);
    if (options && *options)
        printf("\nOptions:\n%s", options);
}
