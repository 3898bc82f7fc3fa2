/* SPDX-License-Identifier: Apache-2.0
 *
 * `berth-ctr version`: this client's version, then the supervisor's (Version.Version).
 */
#include "supervisor/ctr/ctr.h"

#include <stdio.h>

#include "berth/supervisor/v1/version.pb-c.h"
#include "common/error.h"
#include "supervisor/ctr/client.h"

int
ctr_cmd_version(struct ctr_global *g, int argc, char **argv, struct berth_err *err)
{
    Berth__Supervisor__V1__VersionRequest req = BERTH__SUPERVISOR__V1__VERSION_REQUEST__INIT;
    cleanup_pb Berth__Supervisor__V1__VersionResponse *resp = NULL;
    int r = ctr_parse_no_options("version", "", "Print the client and server versions.\n", argc,
                                 argv, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    printf("Client:\n  Version:  %s\n\n", BERTH_VERSION);
    fflush(stdout);
    if (ctr_call(g, &berth__supervisor__v1__version__descriptor, "Version", &req.base, &resp, err) <
        0)
        return -1;
    printf("Server:\n  Version:  %s\n", resp->version);
    if (resp->revision && *resp->revision)
        printf("  Revision: %s\n", resp->revision);
    if (resp->runtime && *resp->runtime)
        printf("  Runtime:  %s\n", resp->runtime);
    return 0;
}
