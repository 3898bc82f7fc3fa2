/* SPDX-License-Identifier: Apache-2.0
 *
 * IPv4 addresses and subnets as networks are configured: parse "a.b.c.d/len", check that an
 * address or a range lies in a subnet, that two subnets overlap, and print them back. Host
 * byte order throughout.
 */
#ifndef BERTH_ENGINE_NETWORK_IPNET_H
#define BERTH_ENGINE_NETWORK_IPNET_H

#include <stdbool.h>
#include <stdint.h>

struct berth_err;

struct eng_ipnet {
    uint32_t addr; /* as written (bip keeps its host part) */
    int len;       /* prefix length, 0..32 */
};

/* "a.b.c.d/len" (what names the field for errors). EINVAL naming text. */
int eng_ipnet_parse(const char *text, const char *what, struct eng_ipnet *out,
                    struct berth_err *err);
/* "a.b.c.d". EINVAL naming text. */
int eng_ip_parse(const char *text, const char *what, uint32_t *out, struct berth_err *err);

uint32_t eng_ipnet_mask(const struct eng_ipnet *n);
/* The network address (host part zeroed). */
uint32_t eng_ipnet_base(const struct eng_ipnet *n);
bool eng_ipnet_contains(const struct eng_ipnet *n, uint32_t ip);
bool eng_ipnet_overlaps(const struct eng_ipnet *a, const struct eng_ipnet *b);

/* "a.b.c.d" and "a.b.c.d/len" (heap). */
char *eng_ip_string(uint32_t ip);
char *eng_ipnet_string(uint32_t addr, int len);

#endif
