/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: ocirun's config.json loader (ocirun/spec.c), through ocirun_spec_load, the
 * call every create, run and exec makes. Each input is written as config.json of a bundle on
 * a tmpfs whose rootfs/ exists, so that a document naming "rootfs" gets past the root check
 * to the process, mounts, linux, seccomp and resources parsers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "ocirun/spec.h"

static char bundle[64], config[96];

static void
cleanup_bundle(void)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_rm_rf(bundle, &err) < 0)
        berth_err_clear(&err);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(bundle, sizeof(bundle), "%s/berth-fuzz-oci.%d", root, (int)getpid());
    snprintf(config, sizeof(config), "%s/config.json", bundle);
    cleanup_free char *rootfs = xasprintf("%s/rootfs", bundle);
    cleanup_bundle();
    if (mkdir(bundle, 0700) < 0 || mkdir(rootfs, 0755) < 0) {
        perror(bundle);
        abort();
    }
    atexit(cleanup_bundle);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    {
        cleanup_close int fd = open(config, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
            abort();
    }
    cleanup_spec struct ocirun_spec *spec = ocirun_spec_load(bundle, &err);
    if (!spec && !err.msg)
        abort(); /* a refusal says why */
    if (!spec && getenv("BERTH_FUZZ_DEBUG"))
        fprintf(stderr, "refused: %s\n", err.msg); /* to check that a seed goes deep */
    return 0;
}
