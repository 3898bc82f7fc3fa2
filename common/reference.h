/* SPDX-License-Identifier: Apache-2.0
 *
 * Image references, parsed and normalized as docker does ("busybox" is
 * "docker.io/library/busybox:latest"). The grammar is the one of docker's reference package:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path
 *   domain     := host [ ":" port ]             host: domain-name, IPv4 or "[" IPv6 "]"
 *   path       := component [ "/" component ]*
 *   component  := [a-z0-9]+ ( separator [a-z0-9]+ )*     separator: ".", "_", "__" or "-"+
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" hex                        sha256: 64 lowercase hex digits
 *
 * Normalization: the first component of the name is a domain when the name has a '/' after
 * it and it contains '.' or ':', is "localhost", or has an upper-case letter (a path never
 * may, so docker reads it as a host name); otherwise the domain is "docker.io".
 * "index.docker.io" is "docker.io". A docker.io path of one component gets "library/" in
 * front. A reference with neither tag nor digest gets the tag "latest"; one with both keeps
 * both (the digest names the content, the tag is informational). domain + "/" + path is at
 * most 255 bytes. A bare 64-hex string is refused (docker reads it as an image id).
 */
#ifndef BERTH_COMMON_REFERENCE_H
#define BERTH_COMMON_REFERENCE_H

struct berth_err;

#define BERTH_REF_DEFAULT_DOMAIN "docker.io"
#define BERTH_REF_DEFAULT_TAG    "latest"
#define BERTH_REF_NAME_MAX       255
#define BERTH_REF_TAG_MAX        128

/* A parsed reference. Every field is a heap string owned by the struct; tag and digest may
 * be NULL (not both). */
struct berth_ref {
    char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
    char *path;   /* "library/busybox" */
    char *tag;    /* "latest", or NULL when only a digest was given */
    char *digest; /* "sha256:<64 hex>", or NULL */
};

#define BERTH_REF_INIT                                                                             \
    {                                                                                              \
        NULL, NULL, NULL, NULL                                                                     \
    }

/* Parse and normalize s into *ref (which must be empty: BERTH_REF_INIT or released). On
 * failure *ref stays empty and err holds EINVAL, printed without strerror, naming the input
 * and what is wrong: "invalid reference `Foo`: repository name must be lowercase". */
int berth_ref_parse(const char *s, struct berth_ref *ref, struct berth_err *err);

/* The full normalized form, "docker.io/library/busybox:latest" (with "@digest" when there is
 * one). A heap string. */
char *berth_ref_string(const struct berth_ref *ref);

/* The repository alone, "docker.io/library/busybox". A heap string. */
char *berth_ref_name(const struct berth_ref *ref);

/* docker's short form: "docker.io/" and then "library/" are dropped ("busybox:latest",
 * "user/app:1.0", "localhost:5000/x:latest"). A heap string. */
char *berth_ref_familiar(const struct berth_ref *ref);

/* Free the fields and empty the struct (ref may be NULL; releasing twice is harmless). */
void berth_ref_release(struct berth_ref *ref);

/* Check a tag (EINVAL "invalid tag `x`: ...") or a digest (EINVAL "invalid digest `x`: ...";
 * sha256, sha384 and sha512 are known, each with its length of lowercase hex). */
int berth_ref_check_tag(const char *tag, struct berth_err *err);
int berth_ref_check_digest(const char *digest, struct berth_err *err);

static inline void
berth_ref_releasep(struct berth_ref *ref)
{
    berth_ref_release(ref);
}
#define cleanup_ref __attribute__((cleanup(berth_ref_releasep)))

#endif
