// SPDX-License-Identifier: Apache-2.0
//
// Re-exec from a sealed memfd copy of ourselves (see sealed-exe.h).

#include "ocirun/linux/sealed-exe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

int
ocirun_sealed_exe_ensure(char **argv, struct berth_err *err)
{
    cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return berth_err_set(err, errno, "open `/proc/self/exe`");
    int seals = fcntl(self, F_GET_SEALS);
    if (seals >= 0 && (seals & SEALS) == SEALS)
        return 0;

    struct stat st;
    if (fstat(self, &st) < 0)
        return berth_err_set(err, errno, "stat `/proc/self/exe`");
    cleanup_close int mfd = memfd_create("ocirun", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return berth_err_set(err, errno, "memfd_create");
    off_t left = st.st_size;
    while (left > 0) {
        ssize_t n = sendfile(mfd, self, NULL, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berth_err_set(err, n < 0 ? errno : EIO, "copy ocirun binary");
        left -= n;
    }
    /* F_SEAL_WRITE fails with EBUSY while any of the copy's pages holds an extra reference,
     * which pages just written can for a moment (the kernel's per-CPU LRU batches): try again,
     * a little later each time. */
    int rc;
    for (int i = 0; (rc = fcntl(mfd, F_ADD_SEALS, SEALS)) < 0 && errno == EBUSY && i < 20; i++)
        usleep(1000u << (i < 6 ? i : 6));
    if (rc < 0)
        return berth_err_set(err, errno, "seal ocirun binary copy");
    fexecve(mfd, argv, environ);
    return berth_err_set(err, errno, "re-exec sealed ocirun binary");
}
