/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/cli/format.c: field paths, functions, pipelines, if/range, Go's
 * printing of JSON values, template errors, and docker's table layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "engine/cli/format.h"

static const char *doc =
    "{\"Id\":\"abc123\",\"State\":{\"Status\":\"running\",\"Pid\":42,\"Running\":true},"
    "\"Config\":{\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"z\":\"last\",\"a\":\"first\"},"
    "\"Cmd\":null},\"Name\":\"/web\",\"Size\":1.5,\"Empty\":[]}";

/* Run template on doc; the result (or NULL) is the caller's. */
static char *
run(const char *template, struct berth_err *err)
{
    struct json_object *d = json_tokener_parse(doc);
    struct cli_tmpl *t = cli_tmpl_parse(template, err);
    char *out = t ? cli_tmpl_exec(t, d, err) : NULL;
    cli_tmpl_free(t);
    json_object_put(d);
    return out;
}

static void
check(const char *template, const char *want)
{
    struct berth_err err = BERTH_ERR_INIT;
    char *out = run(template, &err);
    if (!out)
        fail_msg("%s: %s", template, err.msg);
    assert_string_equal(out, want);
    free(out);
}

static void
check_error(const char *template, const char *want_part)
{
    struct berth_err err = BERTH_ERR_INIT;
    char *out = run(template, &err);
    assert_null(out);
    assert_non_null(err.msg);
    if (!strstr(err.msg, want_part))
        fail_msg("%s: got `%s`, want `%s` in it", template, err.msg, want_part);
    berth_err_clear(&err);
}

static void
test_cli_tmpl_fields(void **state)
{
    check("{{.Id}}", "abc123");
    check("{{.State.Status}} {{.State.Pid}}", "running 42");
    check("{{.State.Running}}", "true");
    check("id={{ .Id }}!", "id=abc123!");
    check("{{.Missing}}", "<no value>");
    check("{{.Config.Cmd}}", "<nil>");
    check("{{.Config.Env}}", "[A=1 B=2]");
    check("{{.Config.Labels}}", "map[a:first z:last]");
    check("{{.Size}}", "1.5");
    check("plain text", "plain text");
    /* \t and \n as two characters are a tab and a newline, as docker reads them. */
    check("{{.Id}}\\t{{.Name}}\\n", "abc123\t/web\n");
}

static void
test_cli_tmpl_functions(void **state)
{
    check("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]");
    check("{{json .State}}", "{\"Status\":\"running\",\"Pid\":42,\"Running\":true}");
    check("{{index .Config.Env 1}}", "B=2");
    check("{{index .Config.Labels \"z\"}}", "last");
    check("{{len .Config.Env}}", "2");
    check("{{upper .State.Status}}", "RUNNING");
    check("{{lower \"ABC\"}}", "abc");
    check("{{title \"hello world\"}}", "Hello World");
    check("{{join .Config.Env \",\"}}", "A=1,B=2");
    check("{{printf \"%s-%d\" .Id .State.Pid}}", "abc123-42");
    check("{{println .Id}}", "abc123\n");
    check("{{.State | json}}", "{\"Status\":\"running\",\"Pid\":42,\"Running\":true}");
    check("{{.State.Status | upper}}", "RUNNING");
    check("{{split \"a:b:c\" \":\"}}", "[a b c]");
}

static void
test_cli_tmpl_control(void **state)
{
    check("{{if .State.Running}}up{{else}}down{{end}}", "up");
    check("{{if .Empty}}some{{else}}none{{end}}", "none");
    check("{{if .Missing}}x{{end}}", "");
    check("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]");
    check("{{range .Config.Labels}}{{.}};{{end}}", "first;last;");
    check("{{range .Empty}}x{{else}}empty{{end}}", "empty");
    check("a {{- \" b \" -}} c", "a b c");
    check("{{range .Config.Env}}{{if .}}{{.}} {{end}}{{end}}", "A=1 B=2 ");
}

static void
test_cli_tmpl_parens(void **state)
{
    check("{{(index .Config.Env 1)}}", "B=2");
    check("{{(.State).Status}} {{(.State).Pid}}", "running 42");
    check("{{upper (index .Config.Env 0)}}", "A=1");
    check("{{printf \"%s/%s\" (index .Config.Labels \"a\") .Id}}", "first/abc123");
    check("{{index (split \"a:b\" \":\") 1}}", "b");
    check("{{(index (split \"a:(b)\" \":\") 1)}}", "(b)");
    check("{{(.State).Missing}}", "<no value>");
    check("{{(.State) | json}}", "{\"Status\":\"running\",\"Pid\":42,\"Running\":true}");
    check_error("{{(index .Config.Env 0}}", "unclosed left paren");
    check_error("{{(.State)x}}", "unexpected \"x\"");
    check_error("{{upper index .Id 0}}", "a function as an argument needs parentheses");
}

static void
test_cli_tmpl_errors(void **state)
{
    check_error("{{.Id", "unclosed action");
    check_error("{{if .Id}}x", "missing {{end}}");
    check_error("{{end}}", "unexpected {{end}}");
    check_error("{{nosuch .Id}}", "function \"nosuch\" not defined");
    check_error("{{index .Config.Env 5}}", "index out of range: 5");
    check_error("{{.Id.Deeper}}", "can't evaluate field Deeper");
    check_error("{{len .State.Pid}}", "len of");
    check_error("{{}}", "missing value");
    check_error("{{\"open}}", "unterminated quoted string");
}

static void
test_cli_fmt_table(void **state)
{
    static const struct cli_column cols[] = {{"ID", "CONTAINER ID"}, {"Name", "NAMES"}};
    struct cli_fmt f;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(cli_fmt_init(&f, NULL, "table {{.ID}}\t{{.Name}}", cols, 2, &err), 0);
    assert_true(f.table);
    const char *rows[] = {"{\"ID\":\"0123456789ab\",\"Name\":\"web\"}",
                          "{\"ID\":\"ffff\",\"Name\":\"a-much-longer-name\"}"};
    for (size_t i = 0; i < 2; i++) {
        struct json_object *r = json_tokener_parse(rows[i]);
        assert_int_equal(cli_fmt_row(&f, r, &err), 0);
        json_object_put(r);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cli_fmt_flush(&f, out);
    fclose(out);
    /* Widths: the widest cell plus 3, at least 10; the last column is not padded. */
    assert_string_equal(buf, "CONTAINER ID   NAMES\n"
                             "0123456789ab   web\n"
                             "ffff           a-much-longer-name\n");
    free(buf);
    cli_fmt_free(&f);
}

static void
test_cli_fmt_table_unknown_header(void **state)
{
    static const struct cli_column cols[] = {{"ID", "CONTAINER ID"}};
    struct cli_fmt f;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(cli_fmt_init(&f, "table {{.ID}}\t{{.Labels.team}}", "", cols, 1, &err), 0);
    struct json_object *r = json_tokener_parse("{\"ID\":\"x\",\"Labels\":{\"team\":\"a\"}}");
    assert_int_equal(cli_fmt_row(&f, r, &err), 0);
    json_object_put(r);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cli_fmt_flush(&f, out);
    fclose(out);
    assert_string_equal(buf, "CONTAINER ID   TEAM\nx              a\n");
    free(buf);
    cli_fmt_free(&f);
}

static void
test_cli_fmt_plain_and_json(void **state)
{
    struct cli_fmt f;
    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(cli_fmt_init(&f, "json", "table {{.ID}}", NULL, 0, &err), 0);
    assert_false(f.table);
    cli_fmt_free(&f);
    assert_int_equal(cli_fmt_init(&f, "{{.ID}}", "table {{.ID}}", NULL, 0, &err), 0);
    assert_false(f.table);
    cli_fmt_free(&f);
    assert_int_equal(cli_fmt_init(&f, "table", "table {{.ID}}", NULL, 0, &err), 0);
    assert_true(f.table);
    cli_fmt_free(&f);
    assert_int_equal(cli_fmt_init(&f, "{{.ID", "table {{.ID}}", NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "unclosed action"));
    berth_err_clear(&err);
    cli_fmt_free(&f);
}

static void
test_cli_table_print_min_width(void **state)
{
    char *lines[] = {"A\tB\tC", "x\tyy\tzzz"};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cli_table_print(out, lines, 2);
    fclose(out);
    assert_string_equal(buf, "A         B         C\nx         yy        zzz\n");
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_tmpl_fields),
        cmocka_unit_test(test_cli_tmpl_functions),
        cmocka_unit_test(test_cli_tmpl_control),
        cmocka_unit_test(test_cli_tmpl_parens),
        cmocka_unit_test(test_cli_tmpl_errors),
        cmocka_unit_test(test_cli_fmt_table),
        cmocka_unit_test(test_cli_fmt_table_unknown_header),
        cmocka_unit_test(test_cli_fmt_plain_and_json),
        cmocka_unit_test(test_cli_table_print_min_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
