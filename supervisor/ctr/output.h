/* SPDX-License-Identifier: Apache-2.0
 *
 * What berth-ctr prints: tables with aligned columns (as ctr's, four spaces between columns),
 * JSON documents, and times.
 */
#ifndef BERTH_SUPERVISOR_CTR_OUTPUT_H
#define BERTH_SUPERVISOR_CTR_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct berth_err;
struct json_object;
struct ctr_table;

enum ctr_format {
    CTR_FORMAT_TABLE = 0,
    CTR_FORMAT_JSON,
};

/* "table" or "json". -1 with err naming the value otherwise. */
int ctr_format_parse(const char *s, enum ctr_format *out, struct berth_err *err);

/* A table of n_cols columns with these headers (n_cols strings follow, copied). */
struct ctr_table *ctr_table_new(size_t n_cols, ...);

/* One row: n_cols strings (copied; NULL prints as ""). */
void ctr_table_add(struct ctr_table *t, ...);

/* Print the header and rows, each column as wide as its widest cell plus four spaces; the last
 * column is not padded. */
void ctr_table_print(const struct ctr_table *t, FILE *out);

void ctr_table_free(struct ctr_table *t);

static inline void
ctr_table_freep(struct ctr_table **t)
{
    ctr_table_free(*t);
}
#define cleanup_table __attribute__((cleanup(ctr_table_freep)))

/* Print obj on stdout, indented with two spaces, slashes unescaped, and a newline. */
void ctr_print_json(struct json_object *obj);

/* Unix nanoseconds as RFC 3339 in UTC with nanoseconds ("2024-05-01T10:20:30.000000042Z"),
 * a heap string. */
char *ctr_time_format(int64_t unix_ns);

#endif
