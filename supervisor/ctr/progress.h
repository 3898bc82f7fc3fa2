/* SPDX-License-Identifier: Apache-2.0
 *
 * The progress display of `images pull` and `images push` (progress.c), shaped like docker's:
 * one line per piece of work (manifest, config, layer), named by its short digest:
 *
 *   4b3d1c5e7f80: Downloading [=================>                                 ]  1.2MB/3.4MB
 *
 * On a terminal the lines are redrawn in place as the supervisor's Progress messages arrive;
 * elsewhere (a pipe, a file, a test) a line is printed only when an item's status changes, so
 * logs stay short. The formatting functions are pure, for unit tests.
 */
#ifndef BERTH_SUPERVISOR_CTR_PROGRESS_H
#define BERTH_SUPERVISOR_CTR_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Characters inside a bar's brackets, as docker's. */
#define CTR_PROGRESS_BAR_WIDTH 50

enum ctr_progress_dir {
    CTR_PROGRESS_PULL,
    CTR_PROGRESS_PUSH,
};

/* One piece of work, as a Progress message (images.proto) describes it. */
struct ctr_progress_item {
    const char *ref;    /* "layer-sha256:...", the key of the item */
    const char *digest; /* "sha256:<hex>" */
    const char *status; /* "downloading", "done", ... */
    int64_t offset;     /* bytes so far */
    int64_t total;      /* bytes in all, 0 when unknown */
};

/* Bytes as docker prints them: SI units, four significant digits ("512B", "1kB", "1.235MB",
 * "3.4GB"). Negative counts print as 0B. Returns a heap string. */
char *ctr_progress_size(int64_t bytes);

/* The bar for offset of total: width characters of '=' up to the position, '>' at it, blanks
 * after, in brackets ("[====>     ]"). total <= 0 gives blanks; offset is clamped to total.
 * Returns a heap string. */
char *ctr_progress_bar(int64_t offset, int64_t total, int width);

/* The words of a status for one direction ("downloading" -> "Downloading", "done" -> "Pull
 * complete" or "Pushed"); an unknown status is printed as it came. */
const char *ctr_progress_status(const char *status, enum ctr_progress_dir dir);

/* The 12 hex digits docker shows for a digest ("sha256:4b3d1c5e7f80..." -> "4b3d1c5e7f80"); a
 * digest without an algorithm, or a shorter one, is kept whole. Returns a heap string. */
char *ctr_progress_short_digest(const char *digest);

/* The whole line of an item, without a newline. with_bar: a bar and sizes while bytes move
 * (downloading, uploading, extracting with a total), else sizes alone when known. Returns a
 * heap string. */
char *ctr_progress_line(const struct ctr_progress_item *item, enum ctr_progress_dir dir,
                        bool with_bar);

/* ---- The display */

struct ctr_progress;

/* A display writing to out. tty: redraw in place (the caller knows whether out is one);
 * columns: the terminal's width, lines are cut to it so redrawing stays aligned (0: no
 * limit). */
struct ctr_progress *ctr_progress_new(FILE *out, enum ctr_progress_dir dir, bool tty, int columns);

/* Record an item's state (a new ref is added at the bottom). Nothing is printed until
 * ctr_progress_draw. Strings are copied. */
void ctr_progress_update(struct ctr_progress *p, const struct ctr_progress_item *item);

/* Print what changed: on a terminal every line again, in place; otherwise one line for each
 * item whose status changed since it was last printed. */
void ctr_progress_draw(struct ctr_progress *p);

void ctr_progress_free(struct ctr_progress *p);

static inline void
ctr_progress_freep(struct ctr_progress **p)
{
    ctr_progress_free(*p);
}
#define cleanup_progress __attribute__((cleanup(ctr_progress_freep)))

#endif
