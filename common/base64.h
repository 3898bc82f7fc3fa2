/* SPDX-License-Identifier: Apache-2.0
 *
 * base64 (RFC 4648): credentials in docker's config.json and Authorization headers, the
 * X-Registry-Auth header (base64url), docker cp's path stat header.
 */
#ifndef BERTH_COMMON_BASE64_H
#define BERTH_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* The standard alphabet with padding; a heap string. */
char *berth_base64_encode(const void *data, size_t len);

/* Decode len bytes of s in either alphabet (standard "+/" or url "-_"), padding optional.
 * Returns a heap buffer with *out_len bytes and a NUL after them (handy for text), or NULL
 * when s is not base64 (a character outside the alphabets, a lone trailing character,
 * padding in the middle). */
unsigned char *berth_base64_decode(const char *s, size_t len, size_t *out_len);

#endif
