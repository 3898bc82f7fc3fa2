/* SPDX-License-Identifier: Apache-2.0
 *
 * The network endpoints, as dockerd's: list (filters name, id, driver, type, label, label!),
 * inspect, create, remove, connect and disconnect a container, prune. The networks themselves are
 * engine/network's; a container's side of connect and disconnect is engine/containers'.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/api/handlers.h"
#include "engine/api/request.h"
#include "engine/containers/containers.h"
#include "engine/daemon.h"
#include "engine/events/events.h"
#include "engine/network/networks.h"
#include "engine/store/store.h"

struct net_list {
    struct eng_network **v;
    size_t n;
};

static void
net_list_release(struct net_list *l)
{
    eng_network_list_free(l->v, l->n);
}
#define cleanup_net_list __attribute__((cleanup(net_list_release)))

/* The document of n, with the containers attached to it. */
static struct json_object *
network_doc(struct eng_daemon *d, const struct eng_network *n)
{
    struct json_object *o = eng_network_json(n);
    json_object_object_add(o, "Containers", eng_network_containers(d, n->id, n->name));
    return o;
}

static void
event(struct eng_daemon *d, const char *action, const struct eng_network *n, const char *container)
{
    struct json_object *a = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(n->name));
    json_object_object_add(a, "type", json_object_new_string(n->driver));
    if (container)
        json_object_object_add(a, "container", json_object_new_string(container));
    eng_events_publish(d->events, "network", action, n->id, a);
}

/* ---------------------------------------------------------------- filters */

static int
count_endpoint(void *data, const struct eng_store_endpoint *e, struct berth_err *err)
{
    (void)e;
    (void)err;
    ++*(size_t *)data;
    return 0;
}

/* dangling: a user network no container is on (the predefined ones never dangle). */
static int
dangling(struct eng_daemon *d, const struct eng_network *n, bool *out, struct berth_err *err)
{
    size_t count = 0;
    if (!n->predefined &&
        eng_store_endpoint_each(d->store, NULL, n->id, count_endpoint, &count, err) < 0)
        return -1;
    *out = !n->predefined && count == 0;
    return 0;
}

/* Whether n passes docker's network filters ({"key": {"value": true}} or {"key": ["value"]}):
 * values of one key are alternatives, every key must match. */
static int
match(struct eng_daemon *d, struct json_object *filters, const struct eng_network *n, bool *ok,
      struct berth_err *err)
{
    *ok = true;
    if (!filters)
        return 0;
    json_object_object_foreach(filters, key, val)
    {
        static const char *const known[] = {"name",  "id",     "driver", "type",
                                            "label", "label!", "scope",  "dangling"};
        bool k = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            k = k || strcmp(key, known[i]) == 0;
        if (!k)
            return berth_err_fail(err, EINVAL, "invalid filter '%s'", key);
        bool any = false, seen = false;
        struct json_object *vals = json_object_new_array();
        if (json_object_is_type(val, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(val); i++)
                json_object_array_add(vals, json_object_get(json_object_array_get_idx(val, i)));
        } else if (json_object_is_type(val, json_type_object)) {
            json_object_object_foreach(val, v, b)
            {
                (void)b;
                json_object_array_add(vals, json_object_new_string(v));
            }
        }
        for (size_t i = 0; i < json_object_array_length(vals); i++) {
            const char *v = json_object_get_string(json_object_array_get_idx(vals, i));
            seen = true;
            if (strcmp(key, "name") == 0)
                any = any || strstr(n->name, v);
            else if (strcmp(key, "id") == 0)
                any = any || strncmp(n->id, v, strlen(v)) == 0;
            else if (strcmp(key, "driver") == 0)
                any = any || strcmp(n->driver, v) == 0;
            else if (strcmp(key, "scope") == 0)
                any = any || strcmp(v, "local") == 0;
            else if (strcmp(key, "type") == 0) {
                if (strcmp(v, "custom") != 0 && strcmp(v, "builtin") != 0) {
                    berth_err_fail(err, EINVAL, "invalid filter: 'type'='%s'", v);
                    json_object_put(vals); /* which v is in */
                    return -1;
                }
                any = any || (strcmp(v, "builtin") == 0) == n->predefined;
            } else if (strcmp(key, "label") == 0 || strcmp(key, "label!") == 0) {
                const char *eq = strchr(v, '=');
                cleanup_free char *lk = xstrndup(v, eq ? (size_t)(eq - v) : strlen(v));
                const char *have = berth_json_member_string(n->labels, lk);
                bool has = have && (!eq || strcmp(have, eq + 1) == 0);
                /* label!: the network must have none of them. */
                any = key[5] == '!' ? (i == 0 || any) && !has : any || has;
            } else {
                bool want = strcmp(v, "true") == 0 || strcmp(v, "1") == 0, is;
                if (!want && strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
                    berth_err_fail(err, EINVAL, "invalid filter: 'dangling'='%s'", v);
                    json_object_put(vals); /* which v is in */
                    return -1;
                }
                if (dangling(d, n, &is, err) < 0) {
                    json_object_put(vals);
                    return -1;
                }
                any = any || is == want;
            }
        }
        json_object_put(vals);
        if (seen && !any)
            *ok = false;
    }
    return 0;
}

static int
parse_filters(struct eng_api_req *req, struct json_object **out, struct berth_err *err)
{
    *out = NULL;
    const char *q = eng_api_query(req, "filters");
    if (!q || !*q)
        return 0;
    *out = berth_json_parse(q, strlen(q), err);
    if (!*out || !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        berth_err_clear(err);
        return berth_err_fail(err, EINVAL, "invalid filter: `filters` is not a JSON object");
    }
    return 0;
}

/* ---------------------------------------------------------------- list, inspect */

ENG_API_HANDLER(eng_api_networks_list)
{
    cleanup_json struct json_object *filters = NULL;
    cleanup_net_list struct net_list l = {0};
    if (parse_filters(req, &filters, err) < 0 || eng_network_list(req->d, &l.v, &l.n, err) < 0)
        return -1;
    struct json_object *out = json_object_new_array();
    for (size_t i = 0; i < l.n; i++) {
        bool ok;
        if (match(req->d, filters, l.v[i], &ok, err) < 0) {
            json_object_put(out);
            return -1;
        }
        if (ok)
            json_object_array_add(out, network_doc(req->d, l.v[i]));
    }
    return eng_api_reply_json(req, 200, out);
}

ENG_API_HANDLER(eng_api_networks_inspect)
{
    cleanup_network struct eng_network *n =
        eng_network_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!n)
        return -1;
    return eng_api_reply_json(req, 200, network_doc(req->d, n));
}

/* ---------------------------------------------------------------- create, remove */

static int
string_member(struct json_object *o, const char *key, const char **out, struct berth_err *err)
{
    *out = NULL;
    return berth_json_get_string(o, key, out, err) < 0 ? -1 : 0;
}

ENG_API_HANDLER(eng_api_networks_create)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    if (!body || !json_object_is_type(body, json_type_object))
        return berth_err_fail(err, EINVAL, "the body must be a JSON object (the network config)");
    struct eng_network_spec s = {0};
    struct json_object *ipam = berth_json_member(body, "IPAM");
    struct json_object *configs = berth_json_member(ipam, "Config");
    if (string_member(body, "Name", &s.name, err) < 0 ||
        string_member(body, "Driver", &s.driver, err) < 0 ||
        berth_json_get_bool(body, "Internal", &s.internal, err) < 0)
        return -1;
    if (berth_json_member_bool(body, "EnableIPv6"))
        return berth_err_fail(err, ENOTSUP, "EnableIPv6: IPv6 networks are not supported");
    const char *ipam_driver = berth_json_member_string(ipam, "Driver");
    if (ipam_driver && *ipam_driver && strcmp(ipam_driver, "default") != 0)
        return berth_err_fail(err, EINVAL, "IPAM.Driver: `%s` is not supported (default)",
                              ipam_driver);
    if (configs && json_object_is_type(configs, json_type_array) &&
        json_object_array_length(configs) > 0) {
        if (json_object_array_length(configs) > 1)
            return berth_err_fail(err, ENOTSUP, "IPAM.Config: one subnet a network is supported");
        struct json_object *c = json_object_array_get_idx(configs, 0);
        if (string_member(c, "Subnet", &s.subnet, err) < 0 ||
            string_member(c, "Gateway", &s.gateway, err) < 0 ||
            string_member(c, "IPRange", &s.ip_range, err) < 0)
            return -1;
    }
    s.labels = berth_json_member(body, "Labels");
    s.options = berth_json_member(body, "Options");
    if ((s.labels && !json_object_is_type(s.labels, json_type_object)) ||
        (s.options && !json_object_is_type(s.options, json_type_object)))
        return berth_err_fail(err, EINVAL, "Labels and Options must be objects of strings");
    cleanup_free char *id = NULL;
    if (eng_network_create(req->d, &s, &id, err) < 0)
        return -1;
    cleanup_network struct eng_network *n = eng_network_find(req->d, id, err);
    if (!n)
        return -1;
    event(req->d, "create", n, NULL);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "Id", json_object_new_string(id));
    json_object_object_add(o, "Warning", json_object_new_string(""));
    return eng_api_reply_json(req, 201, o);
}

ENG_API_HANDLER(eng_api_networks_delete)
{
    cleanup_network struct eng_network *n =
        eng_network_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!n || eng_network_remove(req->d, n, err) < 0)
        return -1;
    event(req->d, "destroy", n, NULL);
    return eng_api_reply_data(req, 204, NULL, "", 0);
}

/* API 1.41: every user network no container is on (until and label filters narrow it). */
ENG_API_HANDLER(eng_api_networks_prune)
{
    cleanup_json struct json_object *filters = NULL;
    cleanup_net_list struct net_list l = {0};
    if (parse_filters(req, &filters, err) < 0 || eng_network_list(req->d, &l.v, &l.n, err) < 0)
        return -1;
    cleanup_json struct json_object *deleted = json_object_new_array();
    for (size_t i = 0; i < l.n; i++) {
        bool ok;
        if (l.v[i]->predefined)
            continue;
        if (match(req->d, filters, l.v[i], &ok, err) < 0)
            return -1;
        if (!ok)
            continue;
        struct berth_err e2 = BERTH_ERR_INIT;
        if (eng_network_remove(req->d, l.v[i], &e2) < 0) {
            berth_err_clear(&e2); /* in use: it stays */
            continue;
        }
        event(req->d, "destroy", l.v[i], NULL);
        json_object_array_add(deleted, json_object_new_string(l.v[i]->name));
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "NetworksDeleted",
                           json_object_array_length(deleted) ? steal_ptr(&deleted) : NULL);
    return eng_api_reply_json(req, 200, o);
}

/* ---------------------------------------------------------------- connect, disconnect */

static int
connect_or_disconnect(struct eng_api_req *req, bool connect, struct berth_err *err)
{
    cleanup_json struct json_object *body = NULL;
    if (eng_api_body_json(req, &body, err) < 0)
        return -1;
    const char *ref = berth_json_member_string(body, "Container");
    if (!ref || !*ref)
        return berth_err_fail(err, EINVAL, "Container: a container is required");
    cleanup_network struct eng_network *n =
        eng_network_find(req->d, eng_api_param(&req->params, "id"), err);
    if (!n)
        return -1;
    cleanup_ctr struct eng_ctr *c = eng_ctr_find(req->d, ref, err);
    if (!c)
        return -1;
    if (connect) {
        if (strcmp(n->driver, "bridge") != 0)
            return berth_err_fail(err, EPERM,
                                  "container cannot be disconnected from host network or "
                                  "connected to host network");
        if (eng_ctr_net_connect(req->d, c, n->id, berth_json_member(body, "EndpointConfig"), err) <
            0)
            return -1;
    } else if (eng_ctr_net_disconnect(req->d, c, n->id, berth_json_member_bool(body, "Force"),
                                      err) < 0) {
        return -1;
    }
    event(req->d, connect ? "connect" : "disconnect", n, c->id);
    return eng_api_reply_data(req, 200, NULL, "", 0);
}

ENG_API_HANDLER(eng_api_networks_connect)
{
    return connect_or_disconnect(req, true, err);
}

ENG_API_HANDLER(eng_api_networks_disconnect)
{
    return connect_or_disconnect(req, false, err);
}
