/* SPDX-License-Identifier: Apache-2.0
 *
 * IPv4 subnets (ipnet.h), with inet_pton for the parsing.
 */
#include "engine/network/ipnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

int
eng_ip_parse(const char *text, const char *what, uint32_t *out, struct berth_err *err)
{
    struct in_addr a;
    if (!text || inet_pton(AF_INET, text, &a) != 1)
        return berth_err_fail(err, EINVAL, "%s: invalid IPv4 address `%s`", what, text ? text : "");
    *out = ntohl(a.s_addr);
    return 0;
}

int
eng_ipnet_parse(const char *text, const char *what, struct eng_ipnet *out, struct berth_err *err)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    if (!slash)
        return berth_err_fail(err, EINVAL, "%s: invalid CIDR address `%s`", what, text ? text : "");
    cleanup_free char *ip = xstrndup(text, (size_t)(slash - text));
    char *end = NULL;
    errno = 0;
    long len = strtol(slash + 1, &end, 10);
    struct in_addr a;
    if (!slash[1] || *end || errno || len < 0 || len > 32 || inet_pton(AF_INET, ip, &a) != 1)
        return berth_err_fail(err, EINVAL, "%s: invalid CIDR address `%s`", what, text);
    out->addr = ntohl(a.s_addr);
    out->len = (int)len;
    return 0;
}

uint32_t
eng_ipnet_mask(const struct eng_ipnet *n)
{
    return n->len == 0 ? 0 : 0xffffffffu << (32 - n->len);
}

uint32_t
eng_ipnet_base(const struct eng_ipnet *n)
{
    return n->addr & eng_ipnet_mask(n);
}

bool
eng_ipnet_contains(const struct eng_ipnet *n, uint32_t ip)
{
    return (ip & eng_ipnet_mask(n)) == eng_ipnet_base(n);
}

bool
eng_ipnet_overlaps(const struct eng_ipnet *a, const struct eng_ipnet *b)
{
    return eng_ipnet_contains(a, eng_ipnet_base(b)) || eng_ipnet_contains(b, eng_ipnet_base(a));
}

char *
eng_ip_string(uint32_t ip)
{
    return xasprintf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

char *
eng_ipnet_string(uint32_t addr, int len)
{
    cleanup_free char *ip = eng_ip_string(addr);
    return xasprintf("%s/%d", ip, len);
}
