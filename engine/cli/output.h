/* SPDX-License-Identifier: Apache-2.0
 *
 * Output helpers the commands share: one object through --format (inspect, version, info),
 * `--filter k=v` flags as the API's filters query, the confirmation prompt of prunes, and the
 * X-Registry-Auth header of pulls and pushes (auth.c).
 */
#ifndef BERTH_ENGINE_CLI_OUTPUT_H
#define BERTH_ENGINE_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct berth_err;
struct json_object;
struct cli_strv;

/* Print obj through the template format followed by a newline. Returns 0 or -1 with err. */
int cli_print_format(const char *format, struct json_object *obj, struct berth_err *err);

/* Print a JSON array (or value) indented the way docker inspect prints it. */
void cli_print_json_indented(FILE *out, struct json_object *obj);

/* `--filter` values ("key=value", repeated) as "&filters=<escaped JSON>" (docker's form,
 * {"key":{"value":true}}), or "" when there are none; heap. NULL with err for a filter
 * without '='. */
char *cli_filters_query(const struct cli_strv *filters, struct berth_err *err);

/* Print a failure of one of several operands and clear it, to carry on with the next, as
 * docker does for rm, rmi, stop and the like. */
void cli_report_error(struct berth_err *err);

/* Standard base64 with padding (heap); decode gives NULL for what is not base64 (a "+/" or
 * "-_" alphabet both read). */
/* A daemon document's member as text ("" unless a string) or as a number (0 when absent). */
const char *cli_json_str(struct json_object *o, const char *key);
int64_t cli_json_int(struct json_object *o, const char *key);

char *cli_base64_encode(const char *s, size_t len);
char *cli_base64_decode(const char *s);

/* Ask "question [y/N] " on stdout; true when the answer starts with y or Y. */
bool cli_confirm(const char *question);

/* The X-Registry-Auth header ("X-Registry-Auth: <base64url JSON>") for image's registry,
 * from the stored credentials; NULL when none are stored. Heap. */
char *cli_auth_header(const char *image);

#endif
