/* SPDX-License-Identifier: Apache-2.0
 *
 * Internals of fs.c that tests reach directly. berth_fs_open_in_root takes the openat2 path on
 * every kernel berth is tested on, so its fallback is exported here to be tested on its own.
 */
#ifndef BERTH_COMMON_FS_INTERNAL_H
#define BERTH_COMMON_FS_INTERNAL_H

#include <sys/types.h>

struct berth_err;

/* berth_fs_open_in_root without openat2: walk rel one component at a time from rootfd, opening
 * each with O_NOFOLLOW relative to the directory already opened, reading symlinks with
 * readlinkat and resolving their targets against rootfd ("/" and ".." never leave it). At most
 * 40 symlinks are followed (ELOOP beyond). Same contract as berth_fs_open_in_root. */
int berth_fs_open_in_root_walk(int rootfd, const char *rel, int flags, mode_t mode,
                               struct berth_err *err);

#endif
