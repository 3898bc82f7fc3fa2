/* SPDX-License-Identifier: Apache-2.0
 *
 * Output helpers shared by the commands (see output.h).
 */
#include "engine/cli/output.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/cli/flags.h"
#include "engine/cli/format.h"
#include "engine/cli/http.h"

int
cli_print_format(const char *format, struct json_object *obj, struct berth_err *err)
{
    struct cli_tmpl *t = cli_tmpl_parse(format, err);
    if (!t)
        return -1;
    char *s = cli_tmpl_exec(t, obj, err);
    cli_tmpl_free(t);
    if (!s)
        return -1;
    puts(s);
    free(s);
    return 0;
}

void
cli_print_json_indented(FILE *out, struct json_object *obj)
{
    /* json-c indents by two spaces; docker by four. Strings hold no raw newline, so each
     * line's leading spaces are the indentation, and doubling them is enough. json-c also
     * opens an empty array or object on one line and closes it on the next, where docker
     * prints "[]" and "{}". */
    const char *s = json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    while (*s) {
        size_t sp = strspn(s, " ");
        for (size_t i = 0; i < 2 * sp; i++)
            fputc(' ', out);
        s += sp;
        size_t n = strcspn(s, "\n");
        fwrite(s, 1, n, out);
        s += n;
        if (*s == '\n')
            s++;
        char open = n ? s[-1 - (s[-1] == '\n')] : 0;
        if (open == '[' || open == '{') {
            const char *next = s + strspn(s, " ");
            if (*next == (open == '[' ? ']' : '}')) {
                fputc(*next, out);
                s = next + 1;
                if (*s == '\n')
                    s++;
            }
        }
        fputc('\n', out);
    }
}

char *
cli_filters_query(const struct cli_strv *filters, struct berth_err *err)
{
    if (!filters->n)
        return xstrdup("");
    cleanup_json struct json_object *o = json_object_new_object();
    for (size_t i = 0; i < filters->n; i++) {
        const char *f = filters->items[i];
        const char *eq = strchr(f, '=');
        if (!eq || eq == f) {
            berth_err_fail(err, EINVAL, "bad format of filter (expected name=value): `%s`", f);
            return NULL;
        }
        cleanup_free char *key = xstrndup(f, (size_t)(eq - f));
        struct json_object *m = NULL;
        if (!json_object_object_get_ex(o, key, &m)) {
            m = json_object_new_object();
            json_object_object_add(o, key, m);
        }
        json_object_object_add(m, eq + 1, json_object_new_boolean(1));
    }
    cleanup_free char *esc = cli_escape(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    return xasprintf("&filters=%s", esc);
}

bool
cli_confirm(const char *question)
{
    printf("%s [y/N] ", question);
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

void
cli_report_error(struct berth_err *err)
{
    cleanup_free char *m = berth_err_string(err);
    fflush(stdout);
    fprintf(stderr, "%s\n", m);
    berth_err_clear(err);
}

const char *
cli_json_str(struct json_object *o, const char *key)
{
    const char *v = berth_json_member_string(o, key);
    return v ? v : "";
}

int64_t
cli_json_int(struct json_object *o, const char *key)
{
    struct json_object *v = berth_json_member(o, key);
    return v ? json_object_get_int64(v) : 0;
}

char *
cli_base64_encode(const char *s, size_t len)
{
    return berth_base64_encode(s, len);
}

char *
cli_base64_decode(const char *s)
{
    size_t n;
    return (char *)berth_base64_decode(s, strlen(s), &n);
}
