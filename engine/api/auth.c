/* SPDX-License-Identifier: Apache-2.0
 *
 * POST /auth (`docker login`): check credentials against a registry. berthd has no HTTP
 * client; the supervisor's registry client does the authentication (a basic challenge, or
 * a token service). So berthd asks it to pull a manifest that cannot exist (a repository
 * and digest of zeros) with those credentials, and reads the answer: the registry refusing
 * them (401/403, EACCES/EPERM) is a failed login; "manifest not found" (ENOENT) means it let
 * them in and then looked for the manifest. Nothing is stored either way: the pull fails at
 * its first step. A registry that asks for no credentials accepts any, as with dockerd.
 * dockerd checks only that the registry (or its token service) takes the credentials; this
 * check also needs pull access to the probe's repository, which is under the user's own
 * namespace for that reason: a registry that refuses even that reads as a failed login.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "berth/supervisor/v1/images.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "common/reference.h"
#include "common/rpc.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/config.h"
#include "engine/daemon.h"
#include "engine/images/image.h"
#include "engine/supervisor/client.h"

/* A repository and digest no registry has. */
#define PROBE                                                                                      \
    "berth-login-probe@sha256:"                                                                    \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* Whether s can be a path component of a repository name ([a-z0-9]+([._-][a-z0-9]+)*). */
static bool
is_path_component(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        bool sep = *p == '.' || *p == '_' || *p == '-';
        if (!alnum && (!sep || p == s || !p[1] || p[-1] == '.' || p[-1] == '_' || p[-1] == '-'))
            return false;
    }
    return true;
}

/* The probe's reference, under the user's own namespace when the name can be one: token
 * services that hide other repositories (Docker Hub's) still let a user pull from their
 * own, so the registry answers "not found" there rather than 401. */
static char *
probe_ref(const char *host, const char *user)
{
    if (is_path_component(user))
        return xasprintf("%s/%s/" PROBE, host, user);
    return xasprintf("%s/" PROBE, host);
}

/* "https://index.docker.io/v1/", "http://127.0.0.1:5000", "127.0.0.1:5000/" -> the host. */
static char *
registry_host(const char *address)
{
    const char *s = address && *address ? address : "docker.io";
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    char *host = xstrndup(s, strcspn(s, "/"));
    if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0) {
        free(host);
        host = xstrdup("docker.io");
    }
    return host;
}

static int
unauthorized(struct eng_api_req *req, const char *host, const struct berth_err *why)
{
    cleanup_free char *msg = berth_err_string(why);
    cleanup_free char *text = xasprintf("login to %s failed: unauthorized: %s", host, msg);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(text));
    /* dockerd answers a refused login 401 (the error table would make EACCES a 403). */
    return eng_api_reply_json(req, 401, o);
}

ENG_API_HANDLER(eng_api_auth)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    if (!body)
        return berth_err_fail(err, EINVAL, "no credentials in the request body");
    const char *user = NULL, *pass = NULL, *token = NULL, *address = NULL;
    if (berth_json_get_string(body, "username", &user, err) < 0 ||
        berth_json_get_string(body, "password", &pass, err) < 0 ||
        berth_json_get_string(body, "identitytoken", &token, err) < 0 ||
        berth_json_get_string(body, "serveraddress", &address, err) < 0) {
        err->code = EINVAL;
        return -1;
    }
    if ((!user || !*user) && (!token || !*token))
        return berth_err_fail(err, EINVAL, "a username (or an identity token) is required");
    cleanup_free char *host = registry_host(address);
    cleanup_free char *probe = probe_ref(host, user);
    cleanup_ref struct berth_ref ref = BERTH_REF_INIT;
    if (berth_ref_parse(probe, &ref, err) < 0)
        return berth_err_wrap(err, "invalid registry address `%s`", address ? address : "");

    Berth__Supervisor__V1__RegistryAuth auth = BERTH__SUPERVISOR__V1__REGISTRY_AUTH__INIT;
    auth.username = (char *)(user ? user : "");
    auth.password = (char *)(pass ? pass : "");
    auth.identity_token = (char *)(token ? token : "");
    cleanup_free char *full = berth_ref_string(&ref);
    Berth__Supervisor__V1__PullImageRequest pr = BERTH__SUPERVISOR__V1__PULL_IMAGE_REQUEST__INIT;
    pr.ref = full;
    pr.platform = "";
    pr.plain_http = eng_image_host_is_loopback(ref.domain) ||
                    eng_config_registry_is_insecure(req->d->config, ref.domain);
    pr.auth = &auth;
    struct berth_rpc_stream *s = eng_sup_stream(
        req->d->sup, &berth__supervisor__v1__images__descriptor, "Pull", &pr.base, err);
    if (!s)
        return -1;
    /* Progress may come before the registry is asked: read on to the failure. */
    int r;
    ProtobufCMessage *m = NULL;
    while ((r = berth_rpc_stream_next(s, &m, err)) == 1) {
        protobuf_c_message_free_unpacked(m, NULL);
        m = NULL;
    }
    eng_sup_stream_close(req->d->sup, s);
    if (r < 0 && (err->code == EACCES || err->code == EPERM)) {
        berth_info("login to %s as `%s`: refused", host, user ? user : "");
        int rc = unauthorized(req, host, err);
        berth_err_clear(err);
        return rc;
    }
    if (r < 0 && err->code != ENOENT) {
        eng_sup_explain(req->d->sup, err);
        return berth_err_wrap(err, "login to %s", host);
    }
    /* ENOENT: the registry let the credentials in and then found no such manifest. */
    berth_err_clear(err);
    berth_info("login to %s as `%s`: accepted", host, user ? user : "");
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Status", json_object_new_string("Login Succeeded"));
    json_object_object_add(o, "IdentityToken", json_object_new_string(""));
    return eng_api_reply_json(req, 200, o);
}
