/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: image references (common/reference.c), as berthd and berth-ctr parse every
 * image name they are given. The input is one reference (NUL bytes cut it, as a C string
 * would). A parsed reference must print back to a string that parses to the same reference:
 * berth stores the printed form and parses it again later. The tag and digest checkers run
 * on the input too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/reference.h"

static void
same(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cleanup_free char *s = xstrndup((const char *)data, size);
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    if (berth_ref_check_tag(s, &err) < 0)
        berth_err_clear(&err);
    if (berth_ref_check_digest(s, &err) < 0)
        berth_err_clear(&err);

    if (berth_ref_parse(s, &ref, &err) < 0) {
        /* A refusal leaves the reference empty and says why. */
        if (ref.domain || ref.path || ref.tag || ref.digest || !err.msg)
            abort();
        return 0;
    }
    cleanup_free char *full = berth_ref_string(&ref);
    cleanup_free char *name = berth_ref_name(&ref);
    cleanup_free char *familiar = berth_ref_familiar(&ref);

    /* The normalized form is a fixed point, and so is the familiar one. */
    cleanup_ref struct berth_ref again = BERTH_REF_INIT;
    if (berth_ref_parse(full, &again, &err) < 0)
        abort();
    same(ref.domain, again.domain);
    same(ref.path, again.path);
    same(ref.tag, again.tag);
    same(ref.digest, again.digest);
    cleanup_ref struct berth_ref fam = BERTH_REF_INIT;
    if (berth_ref_parse(familiar, &fam, &err) < 0)
        abort();
    cleanup_free char *full2 = berth_ref_string(&fam);
    same(full, full2);
    (void)name;
    return 0;
}
