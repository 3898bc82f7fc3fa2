/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the layer unpacker (supervisor/unpack), as the supervisor applies a pulled or
 * imported layer to a snapshot's upper directory. Each input is a layer blob (tar, gzip or
 * zstd: the unpacker detects which) applied to a fresh empty directory on a tmpfs, beside a
 * canary directory:
 *
 *   /dev/shm/berth-fuzz-unpack.<pid>/target   the layer goes here, removed after each input
 *   /dev/shm/berth-fuzz-unpack.<pid>/canary   must stay empty
 *
 * The unpacker promises that nothing is written outside the target (unpack.h): after each
 * input, the canary must be empty and the parent hold nothing but these two, or the harness
 * aborts so that the fuzzer keeps the input. Needs root, as the unpacker does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/unpack/unpack.h"

static char base[64], target[96], canary[96];

static void
cleanup_base(void)
{
    struct berth_err err = BERTH_ERR_INIT;
    if (berth_fs_rm_rf(base, &err) < 0)
        berth_err_clear(&err);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* tmpfs: the unpacker's writes cost no disk, and the directory goes with the machine. */
    const char *root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(base, sizeof(base), "%s/berth-fuzz-unpack.%d", root, (int)getpid());
    snprintf(target, sizeof(target), "%s/target", base);
    snprintf(canary, sizeof(canary), "%s/canary", base);
    cleanup_base();
    if (mkdir(base, 0700) < 0 || mkdir(canary, 0755) < 0) {
        perror(base);
        abort();
    }
    atexit(cleanup_base);
    return 0;
}

/* The names in dir other than "." and "..", counted; only listed ones allowed when allow. */
static size_t
count_entries(const char *dir, const char *const *allow, size_t n_allow)
{
    cleanup_dir DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    if (!d)
        abort(); /* the canary or the base itself was removed or replaced */
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool ok = false;
        for (size_t i = 0; i < n_allow; i++)
            ok = ok || strcmp(e->d_name, allow[i]) == 0;
        if (!ok) {
            fprintf(stderr, "unpack wrote `%s` outside its target, in %s\n", e->d_name, dir);
            n++;
        }
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_close int fd = memfd_create("layer", MFD_CLOEXEC);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) < 0)
        abort();
    if (mkdir(target, 0755) < 0)
        abort();

    struct sup_unpack_stats stats;
    if (sup_unpack_apply_fd(fd, target, NULL, &stats, &err) < 0) {
        if (!err.msg)
            abort();
        if (getenv("BERTH_FUZZ_DEBUG"))
            fprintf(stderr, "refused: %s\n", err.msg); /* to check what a seed reaches */
        berth_err_clear(&err);
    } else if (getenv("BERTH_FUZZ_DEBUG")) {
        fprintf(stderr, "applied: %llu entries\n", (unsigned long long)stats.entries);
    }

    static const char *const allowed[] = {"target", "canary"};
    struct stat st;
    if (count_entries(canary, NULL, 0) != 0 || count_entries(base, allowed, 2) != 0 ||
        lstat(canary, &st) < 0 || !S_ISDIR(st.st_mode) || lstat(target, &st) < 0 ||
        !S_ISDIR(st.st_mode))
        abort();
    if (berth_fs_rm_rf(target, &err) < 0) {
        fprintf(stderr, "remove %s: %s\n", target, err.msg);
        abort();
    }
    return 0;
}
