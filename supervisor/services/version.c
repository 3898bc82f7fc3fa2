// SPDX-License-Identifier: Apache-2.0
//
// Version: the supervisor's release and its default runtime.

#include "berth/supervisor/v1/version.pb-c.h"
#include "common/error.h"
#include "supervisor/daemon.h"
#include "supervisor/services/service.h"

static void
version(struct berth_rpc_call *call, const ProtobufCMessage *req, void *data)
{
    struct sup_daemon *d = data;
    Berth__Supervisor__V1__VersionResponse r = BERTH__SUPERVISOR__V1__VERSION_RESPONSE__INIT;
    r.version = BERTH_VERSION;
    r.revision = "";
    r.runtime = (char *)d->runtime;
    berth_rpc_call_reply(call, &r.base);
}

static const struct berth_rpc_method methods[] = {
    {"Version", BERTH_RPC_UNARY, version},
};

const struct sup_service sup_service_version = {
    &berth__supervisor__v1__version__descriptor, methods, sizeof(methods) / sizeof(methods[0]),
};
