/* SPDX-License-Identifier: Apache-2.0
 *
 * Platforms (manifest.h): parsing "os/arch[/variant]", the build's own platform, and the
 * choice of one manifest from an index.
 *
 * Variants are ordered where the hardware is: an arm v7 machine runs v5, v6 and v7 images,
 * an amd64 v3 machine (x86-64-v3) runs v1..v3 ones. For arm an absent variant is taken as v7
 * when asked for (what "linux/arm" means on today's boards) and as "unknown, try last" on an
 * index entry; for arm64 an absent variant is v8 and for amd64 it is v1.
 */
#include "supervisor/remote/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

void
sup_remote_platform_clear(struct sup_remote_platform *p)
{
    if (p == NULL)
        return;
    free(p->os);
    free(p->architecture);
    free(p->variant);
    free(p->os_version);
    memset(p, 0, sizeof(*p));
}

void
sup_remote_platform_copy(struct sup_remote_platform *dst, const struct sup_remote_platform *src)
{
    dst->os = src->os ? xstrdup(src->os) : NULL;
    dst->architecture = src->architecture ? xstrdup(src->architecture) : NULL;
    dst->variant = src->variant ? xstrdup(src->variant) : NULL;
    dst->os_version = src->os_version ? xstrdup(src->os_version) : NULL;
}

static char *
lower_dup(const char *s, size_t n)
{
    char *r = xstrndup(s, n);

    for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return r;
}

/* Normalize p->architecture and p->variant in place (see sup_remote_platform_parse). */
static void
normalize(struct sup_remote_platform *p)
{
    static const struct {
        const char *alias, *arch, *variant;
    } aliases[] = {
        {"x86_64", "amd64", NULL}, {"x86-64", "amd64", NULL}, {"aarch64", "arm64", NULL},
        {"armhf", "arm", "v7"},    {"armel", "arm", "v6"},    {"i386", "386", NULL},
        {"i686", "386", NULL},
    };

    for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
        if (strcmp(p->architecture, aliases[i].alias) != 0)
            continue;
        free(p->architecture);
        p->architecture = xstrdup(aliases[i].arch);
        if (aliases[i].variant && p->variant == NULL)
            p->variant = xstrdup(aliases[i].variant);
        break;
    }
    if (p->variant && ((strcmp(p->architecture, "arm64") == 0 && strcmp(p->variant, "v8") == 0) ||
                       (strcmp(p->architecture, "amd64") == 0 && strcmp(p->variant, "v1") == 0))) {
        free(p->variant);
        p->variant = NULL;
    }
}

int
sup_remote_platform_parse(const char *s, struct sup_remote_platform *p, struct berth_err *err)
{
    const char *parts[4] = {0};
    size_t lens[4] = {0}, n = 0;

    memset(p, 0, sizeof(*p));
    for (const char *c = s;; n++) {
        if (n == 3)
            return berth_err_fail(err, EINVAL, "platform `%s`: expected os/arch[/variant]", s);
        parts[n] = c;
        lens[n] = strcspn(c, "/");
        if (lens[n] == 0)
            return berth_err_fail(err, EINVAL,
                                  "platform `%s`: empty part, expected "
                                  "os/arch[/variant]",
                                  s);
        c += lens[n];
        if (*c == '\0') {
            n++;
            break;
        }
        c++;
    }
    if (n < 2)
        return berth_err_fail(err, EINVAL, "platform `%s`: expected os/arch[/variant]", s);
    p->os = lower_dup(parts[0], lens[0]);
    p->architecture = lower_dup(parts[1], lens[1]);
    if (n == 3)
        p->variant = lower_dup(parts[2], lens[2]);
    normalize(p);
    return 0;
}

void
sup_remote_platform_default(struct sup_remote_platform *p)
{
    const char *arch = "unknown", *variant = NULL;

#if defined(__x86_64__)
    arch = "amd64";
#elif defined(__aarch64__)
    arch = "arm64";
#elif defined(__arm__)
    arch = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
    variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
    variant = "v6";
#else
    variant = "v5";
#endif
#elif defined(__i386__)
    arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    arch = "ppc64le";
#elif defined(__s390x__)
    arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    arch = "riscv64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    arch = "mips64le";
#endif
    memset(p, 0, sizeof(*p));
    p->os = xstrdup("linux");
    p->architecture = xstrdup(arch);
    p->variant = variant ? xstrdup(variant) : NULL;
}

char *
sup_remote_platform_format(const struct sup_remote_platform *p)
{
    const char *os = p->os ? p->os : "?", *arch = p->architecture ? p->architecture : "?";

    if (p->variant)
        return xasprintf("%s/%s/%s", os, arch, p->variant);
    return xasprintf("%s/%s", os, arch);
}

/* "vN" (or "N") as N; 0 when variant is not of that form. */
static int
variant_level(const char *variant)
{
    char *end = NULL;

    if (variant == NULL)
        return 0;
    if (*variant == 'v')
        variant++;
    if (!isdigit((unsigned char)*variant))
        return 0;
    long n = strtol(variant, &end, 10);
    return *end == '\0' && n > 0 && n < 100 ? (int)n : 0;
}

/* How well an image for `have` fits a machine `want`: 0 when it does not run there, higher is
 * closer. Both are normalized copies. */
static int
match_score(const struct sup_remote_platform *want, const struct sup_remote_platform *have)
{
    const char *arch = want->architecture;

    if (strcmp(want->os, have->os) != 0 || strcmp(arch, have->architecture) != 0)
        return 0;

    int default_level = strcmp(arch, "arm") == 0     ? 7
                        : strcmp(arch, "arm64") == 0 ? 8
                        : strcmp(arch, "amd64") == 0 ? 1
                                                     : -1;
    if (default_level > 0) {
        int w = want->variant ? variant_level(want->variant) : default_level;
        int h = have->variant ? variant_level(have->variant) : 0;
        /* An unknown variant on the entry: the arm entry that says nothing comes last; for
         * arm64 and amd64 it is the baseline. */
        if (have->variant == NULL && strcmp(arch, "arm") != 0)
            h = default_level;
        if (w == 0 || (have->variant && h == 0)) /* not of the vN form: compare as words */
            return want->variant && have->variant && strcmp(want->variant, have->variant) == 0 ? 200
                                                                                               : 0;
        if (h == 0)
            return 1;
        return h <= w ? 100 + h : 0;
    }
    if (want->variant == NULL)
        return have->variant == NULL ? 2 : 1;
    if (have->variant == NULL)
        return 1;
    return strcmp(want->variant, have->variant) == 0 ? 100 : 0;
}

/* Normalized copy of p: lowercase os and architecture, aliases resolved. */
static void
normalized_copy(struct sup_remote_platform *dst, const struct sup_remote_platform *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->os = lower_dup(src->os ? src->os : "", strlen(src->os ? src->os : ""));
    dst->architecture = lower_dup(src->architecture ? src->architecture : "",
                                  strlen(src->architecture ? src->architecture : ""));
    if (src->variant && *src->variant)
        dst->variant = lower_dup(src->variant, strlen(src->variant));
    normalize(dst);
}

static int
score_of(const struct sup_remote_platform *want, const struct sup_remote_platform *have)
{
    struct sup_remote_platform w, h;

    normalized_copy(&w, want);
    normalized_copy(&h, have);
    int score = match_score(&w, &h);
    sup_remote_platform_clear(&w);
    sup_remote_platform_clear(&h);
    return score;
}

bool
sup_remote_platform_matches(const struct sup_remote_platform *want,
                            const struct sup_remote_platform *have)
{
    return score_of(want, have) > 0;
}

int
sup_remote_platform_select(const struct sup_remote_manifest *index,
                           const struct sup_remote_platform *want, size_t *index_out,
                           struct berth_err *err)
{
    int best = 0;
    size_t best_i = 0;

    if (index->kind != SUP_REMOTE_KIND_INDEX)
        return berth_err_fail(err, EINVAL, "`%s` is not an index", index->media_type);
    for (size_t i = 0; i < index->n_manifests; i++) {
        const struct sup_remote_desc *d = &index->manifests[i];
        if (d->platform == NULL || !sup_remote_is_manifest_type(d->media_type))
            continue;
        int score = score_of(want, d->platform);
        if (score > best) {
            best = score;
            best_i = i;
        }
    }
    if (best > 0) {
        *index_out = best_i;
        return 0;
    }

    /* None: list what there is, so the user can pick one with --platform. */
    cleanup_free char *wanted = sup_remote_platform_format(want);
    cleanup_free char *list = xstrdup("");
    for (size_t i = 0; i < index->n_manifests; i++) {
        const struct sup_remote_desc *d = &index->manifests[i];
        /* unknown/unknown marks attestations and other non-images (buildx). */
        if (d->platform == NULL || !sup_remote_is_manifest_type(d->media_type) ||
            strcmp(d->platform->os, "unknown") == 0)
            continue;
        cleanup_free char *one = sup_remote_platform_format(d->platform);
        char *next = xasprintf("%s%s%s", list, *list ? ", " : "", one);
        free(list);
        list = next;
    }
    if (*list == '\0')
        return berth_err_fail(err, ENOENT, "no manifest for %s in the index; it lists no platforms",
                              wanted);
    return berth_err_fail(err, ENOENT, "no manifest for %s in the index; it has %s", wanted, list);
}
