/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for engine/api/request.c: JSON request bodies (an empty body, one object, and
 * the 400s for bad JSON, another type, and a field of the wrong type), docker's stream lines
 * and the error document (status and message from the error's code).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/request.h"

static int
parse(const char *body, struct json_object **out, struct berth_err *err)
{
    struct eng_api_req req = {.body = (char *)body, .body_len = strlen(body), .body_fd = -1};
    return eng_api_body_json(&req, out, err);
}

static void
test_eng_api_body_json_empty(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = (void *)1;
    assert_int_equal(parse("", &o, &err), 0);
    assert_null(o);
}

static void
test_eng_api_body_json_object(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_json struct json_object *o = NULL;
    assert_int_equal(parse("{\"Image\": \"busybox\", \"Tty\": true}", &o, &err), 0);
    const char *image = NULL;
    assert_int_equal(berth_json_get_string(o, "Image", &image, &err), 1);
    assert_string_equal(image, "busybox");
    /* A field of the wrong type is named, as the handler answers it (400). */
    const char *tty = NULL;
    assert_int_equal(berth_json_get_string(o, "Tty", &tty, &err), -1);
    assert_non_null(strstr(err.msg, "`Tty`: expected string"));
}

static void
test_eng_api_body_json_bad(void **state)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct json_object *o = NULL;
    assert_int_equal(parse("{\"Image\": ", &o, &err), -1);
    assert_null(o);
    assert_int_equal(err.code, EINVAL);
    assert_int_equal(berth_err_to_http(err.code), 400);
    assert_non_null(strstr(err.msg, "invalid JSON body"));
    berth_err_clear(&err);
    assert_int_equal(parse("[1, 2]", &o, &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_string_equal(err.msg, "invalid JSON body: expected an object, got array");
    berth_err_clear(&err);
    assert_int_equal(parse("{} trailing", &o, &err), -1);
    assert_int_equal(err.code, EINVAL);
}

static void
test_eng_api_append_json(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "stream", json_object_new_string("Loaded image: a/b:c\n"));
    eng_api_append_json(&buf, &len, o);
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "status", json_object_new_string("done"));
    eng_api_append_json(&buf, &len, p);
    /* One document a line, slashes as they are. */
    assert_string_equal(buf, "{\"stream\":\"Loaded image: a/b:c\\n\"}\n{\"status\":\"done\"}\n");
    assert_int_equal(len, strlen(buf));
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eng_api_body_json_empty),
        cmocka_unit_test(test_eng_api_body_json_object),
        cmocka_unit_test(test_eng_api_body_json_bad),
        cmocka_unit_test(test_eng_api_append_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
