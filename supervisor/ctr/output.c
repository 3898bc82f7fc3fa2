/* SPDX-License-Identifier: Apache-2.0
 *
 * Tables, JSON and times on stdout (output.h).
 */
#include "supervisor/ctr/output.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"

#define COLUMN_PADDING 4

struct ctr_table {
    size_t n_cols;
    size_t n_rows; /* the header included */
    char **cells;  /* n_rows * n_cols, row-major */
};

int
ctr_format_parse(const char *s, enum ctr_format *out, struct berth_err *err)
{
    if (strcmp(s, "table") == 0)
        *out = CTR_FORMAT_TABLE;
    else if (strcmp(s, "json") == 0)
        *out = CTR_FORMAT_JSON;
    else
        return berth_err_fail(err, EINVAL, "invalid format `%s` (want table or json)", s);
    return 0;
}

static void
add_row(struct ctr_table *t, va_list ap)
{
    t->cells = xrealloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(char *));
    for (size_t i = 0; i < t->n_cols; i++) {
        const char *s = va_arg(ap, const char *);
        t->cells[t->n_rows * t->n_cols + i] = xstrdup(s ? s : "");
    }
    t->n_rows++;
}

struct ctr_table *
ctr_table_new(size_t n_cols, ...)
{
    struct ctr_table *t = xzalloc(sizeof(*t));
    va_list ap;
    t->n_cols = n_cols;
    va_start(ap, n_cols);
    add_row(t, ap);
    va_end(ap);
    return t;
}

void
ctr_table_add(struct ctr_table *t, ...)
{
    va_list ap;
    va_start(ap, t);
    add_row(t, ap);
    va_end(ap);
}

void
ctr_table_print(const struct ctr_table *t, FILE *out)
{
    cleanup_free size_t *width = xzalloc(t->n_cols * sizeof(size_t));
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            size_t len = strlen(t->cells[r * t->n_cols + c]);
            if (len > width[c])
                width[c] = len;
        }
    for (size_t r = 0; r < t->n_rows; r++) {
        /* Cells after the last non-empty one are left out, and so are trailing blanks. */
        size_t last = 0;
        for (size_t c = 0; c < t->n_cols; c++)
            if (*t->cells[r * t->n_cols + c])
                last = c;
        for (size_t c = 0; c <= last; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            if (c == last)
                fputs(cell, out);
            else
                fprintf(out, "%-*s", (int)(width[c] + COLUMN_PADDING), cell);
        }
        fputc('\n', out);
    }
}

void
ctr_table_free(struct ctr_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void
ctr_print_json(struct json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

char *
ctr_time_format(int64_t unix_ns)
{
    /* Floor division, so times before 1970 keep a nanosecond part in [0, 1e9). */
    int64_t sec = unix_ns / 1000000000, nsec = unix_ns % 1000000000;
    if (nsec < 0) {
        nsec += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return xasprintf("%" PRId64, unix_ns);
    return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
}
