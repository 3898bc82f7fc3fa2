/* SPDX-License-Identifier: Apache-2.0
 *
 * Endpoints of features berthd does not have. Swarm answers as dockerd does on a node that
 * is in no swarm (503, with its message); the rest are 501 with what is missing.
 */
#include <errno.h>

#include "common/error.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"

ENG_API_HANDLER(eng_api_unsupported_swarm)
{
    return berth_err_fail(err, ECONNREFUSED,
                          "This node is not a swarm manager. berthd does not support swarm "
                          "mode (services, nodes, tasks, secrets, configs).");
}

ENG_API_HANDLER(eng_api_unsupported_plugins)
{
    return berth_err_fail(err, ENOTSUP, "plugins are not supported by berthd");
}

ENG_API_HANDLER(eng_api_unsupported_build)
{
    return berth_err_fail(err, ENOTSUP,
                          "image builds are not supported by berthd (build with buildah or "
                          "BuildKit and load or pull the result)");
}

ENG_API_HANDLER(eng_api_unsupported_session)
{
    return berth_err_fail(err, ENOTSUP,
                          "interactive sessions (BuildKit) are not supported "
                          "by berthd");
}
