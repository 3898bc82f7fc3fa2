/* SPDX-License-Identifier: Apache-2.0
 *
 * --format: a subset of Go's text/template over JSON values, as docker's --format uses it,
 * and the aligned tables of docker's list commands.
 *
 * Templates: text with actions. `{{.A.B}}` a field path (`{{.}}` the value itself),
 * `{{json .X}}`, `{{index .X 0}}` / `{{index .X "key"}}`, `{{len .X}}`, `{{upper .X}}`,
 * `{{lower .X}}`, `{{title .X}}`, `{{join .X ","}}`, `{{split .X ","}}`, `{{println .X}}`,
 * `{{printf "%s-%d" .A .B}}`, pipelines (`{{.X | json}}`), parenthesized pipelines as
 * arguments or with a field path after them (`{{(index .X 0).Y}}`),
 * `{{if .X}}..{{else}}..{{end}}`, `{{range .X}}..{{end}}`, and the trim markers `{{-` / `-}}`.
 * Values print as Go prints decoded JSON: a missing field as `<no value>`, null as `<nil>`,
 * arrays as `[a b]`, objects as `map[k:v]`. As docker does, a literal `\t` or `\n` in the
 * format is a tab or newline.
 *
 * Tables: a format starting with "table " prints a header line, made by running the
 * template with every field replaced by its column name, then one line per row, with the
 * tab-separated cells aligned as docker's tabwriter aligns them (3 spaces of padding).
 */
#ifndef BERTH_ENGINE_CLI_FORMAT_H
#define BERTH_ENGINE_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct berth_err;
struct json_object;
struct cli_tmpl;

/* Parse a template. Returns it (free with cli_tmpl_free) or NULL with err naming the
 * problem ("template: unexpected \"}}\" in operand", "template: unclosed action"). */
struct cli_tmpl *cli_tmpl_parse(const char *text, struct berth_err *err);
void cli_tmpl_free(struct cli_tmpl *t);

/* Run t on data. Returns a heap string, or NULL with err ("template: index of `x`: index out
 * of range: 3"). */
char *cli_tmpl_exec(const struct cli_tmpl *t, struct json_object *data, struct berth_err *err);

/* A column of a list command: a field and docker's header for it. */
struct cli_column {
    const char *field;  /* "ID" */
    const char *header; /* "CONTAINER ID" */
};

/* One output of a list or inspect command. */
struct cli_fmt {
    struct cli_tmpl *tmpl;
    bool table;
    const struct cli_column *columns;
    size_t n_columns;
    /* Table lines gathered until cli_fmt_flush aligns and prints them. */
    char **lines;
    size_t n_lines;
};

/* Set f up for format (NULL or "" means default_format; "json" means `{{json .}}`; "table"
 * alone means default_format). Returns 0 or -1 with err. */
int cli_fmt_init(struct cli_fmt *f, const char *format, const char *default_format,
                 const struct cli_column *columns, size_t n_columns, struct berth_err *err);
/* Format one row (tables keep it until the flush; others print it with a newline). */
int cli_fmt_row(struct cli_fmt *f, struct json_object *row, struct berth_err *err);
/* Print what is held (the header first, for a table) to out. */
void cli_fmt_flush(struct cli_fmt *f, FILE *out);
void cli_fmt_free(struct cli_fmt *f);

/* Align tab-separated lines as docker's tabwriter (minwidth 10, padding 3). The last cell of
 * a line is not padded. Prints to out. */
void cli_table_print(FILE *out, char *const *lines, size_t n_lines);

#endif
