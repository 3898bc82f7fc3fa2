/* SPDX-License-Identifier: Apache-2.0
 *
 * Image references for the registry client (remote.h): berth's reference parser
 * (common/reference.h) does the grammar and docker's defaults; this adapter keeps the client's
 * own struct, named after the registry API (host, repository), and refuses what the client
 * cannot fetch by (digests other than sha256).
 */
#include "supervisor/remote/remote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/reference.h"

void
sup_remote_ref_clear(struct sup_remote_ref *ref)
{
    if (ref == NULL)
        return;
    free(ref->host);
    free(ref->repository);
    free(ref->tag);
    free(ref->digest);
    memset(ref, 0, sizeof(*ref));
}

int
sup_remote_ref_parse(const char *s, struct sup_remote_ref *ref, struct berth_err *err)
{
    cleanup_ref struct berth_ref parsed = BERTH_REF_INIT;
    const char *hex = NULL;

    memset(ref, 0, sizeof(*ref));
    if (berth_ref_parse(s, &parsed, err) < 0)
        return -1;
    if (parsed.digest) {
        cleanup_err struct berth_err derr = BERTH_ERR_INIT;
        if (berth_digest_parse(parsed.digest, &hex, &derr) < 0)
            return berth_err_fail(err, ENOTSUP, "reference `%s`: %s", s, derr.msg);
    }
    ref->host = steal_ptr(&parsed.domain);
    ref->repository = steal_ptr(&parsed.path);
    ref->tag = steal_ptr(&parsed.tag);
    ref->digest = steal_ptr(&parsed.digest);
    return 0;
}

char *
sup_remote_ref_format(const struct sup_remote_ref *ref)
{
    return xasprintf("%s/%s%s%s%s%s", ref->host, ref->repository, ref->tag ? ":" : "",
                     ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                     ref->digest ? ref->digest : "");
}
