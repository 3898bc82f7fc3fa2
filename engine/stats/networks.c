/* SPDX-License-Identifier: Apache-2.0
 *
 * Network counters for docker's stats document (networks.h), from /proc/<pid>/net/dev: two
 * heading lines, then "  name: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed
 * multicast tx_bytes tx_packets tx_errs tx_drop ...". Read through a process of the container,
 * the file shows the container's network namespace.
 */
#include "engine/stats/networks.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

static void
add_u64(struct json_object *o, const char *key, unsigned long long v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

struct json_object *
eng_stats_networks_parse(const char *net_dev)
{
    struct json_object *out = json_object_new_object();

    for (const char *l = net_dev; l && *l;) {
        const char *eol = strchrnul(l, '\n');
        const char *colon = memchr(l, ':', (size_t)(eol - l));
        unsigned long long v[16];
        if (colon) {
            const char *name = l;
            while (name < colon && *name == ' ')
                name++;
            cleanup_free char *ifname = xstrndup(name, (size_t)(colon - name));
            cleanup_free char *nums = xstrndup(colon + 1, (size_t)(eol - colon - 1));
            int n = sscanf(nums, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                           &v[10], &v[11]);
            if (n == 12 && ifname[0] && strcmp(ifname, "lo") != 0) {
                struct json_object *i = json_object_new_object();
                add_u64(i, "rx_bytes", v[0]);
                add_u64(i, "rx_packets", v[1]);
                add_u64(i, "rx_errors", v[2]);
                add_u64(i, "rx_dropped", v[3]);
                add_u64(i, "tx_bytes", v[8]);
                add_u64(i, "tx_packets", v[9]);
                add_u64(i, "tx_errors", v[10]);
                add_u64(i, "tx_dropped", v[11]);
                json_object_object_add(out, ifname, i);
            }
        }
        l = *eol ? eol + 1 : eol;
    }
    return out;
}

struct json_object *
eng_stats_networks(pid_t pid, struct berth_err *err)
{
    cleanup_free char *path = xasprintf("/proc/%d/net/dev", (int)pid);
    cleanup_free char *text = NULL;

    if (berth_fs_read_file(path, &text, NULL, err) < 0)
        return NULL;
    return eng_stats_networks_parse(text);
}
