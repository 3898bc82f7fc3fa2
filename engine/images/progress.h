/* SPDX-License-Identifier: Apache-2.0
 *
 * The supervisor's pull and push progress (one item per blob, with a status and byte
 * counts) as the JSON lines of docker's progress streams, which the docker CLI draws:
 * {"status":"Downloading","progressDetail":{"current":N,"total":M},"progress":"[==>  ] ...",
 *  "id":"<12 hex>"}. Only layers are shown, as dockerd does, and only changes.
 */
#ifndef BERTH_ENGINE_IMAGES_PROGRESS_H
#define BERTH_ENGINE_IMAGES_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eng_progress;

enum eng_progress_dir {
    ENG_PROGRESS_PULL = 0,
    ENG_PROGRESS_PUSH,
};

struct eng_progress *eng_progress_new(enum eng_progress_dir dir);
void eng_progress_free(struct eng_progress *p);

/* One item's new state (ref "layer-sha256:...", status as in images.proto). Appends the
 * lines it warrants (none for an unchanged item or one that is not a layer) to *buf. */
void eng_progress_update(struct eng_progress *p, const char *ref, const char *digest,
                         const char *status, int64_t offset, int64_t total, char **buf,
                         size_t *len);

/* Whether any layer was transferred (pulled or pushed) rather than found in place. */
bool eng_progress_transferred(const struct eng_progress *p);

/* docker's progress bar text for current of total: "[=====>     ]  1.2MB/3.4MB". A heap
 * string. */
char *eng_progress_bar(int64_t current, int64_t total);

/* A size as docker's units.HumanSize writes it ("1.23MB", base 1000). */
void eng_progress_human_size(int64_t n, char *out, size_t out_len);

#endif
