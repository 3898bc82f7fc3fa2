/* SPDX-License-Identifier: Apache-2.0
 *
 * Leases (lease.h): a list of leases, each a list of items, under one mutex. The sets are
 * small (a pull holds some tens of items) and looked up only by the collector, so plain
 * lists do.
 */
#include "supervisor/images/lease.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"

struct lease_item {
    struct lease_item *next;
    enum sup_lease_kind kind;
    char id[];
};

struct sup_lease {
    struct sup_leases *set;
    struct sup_lease *prev, *next;
    struct lease_item *items;
    char *what;
};

struct sup_leases {
    pthread_mutex_t mu;
    struct sup_lease *head;
    unsigned count;
};

struct sup_leases *
sup_leases_new(void)
{
    struct sup_leases *ls = xzalloc(sizeof(*ls));
    pthread_mutex_init(&ls->mu, NULL);
    return ls;
}

void
sup_leases_free(struct sup_leases *ls)
{
    if (ls == NULL)
        return;
    if (ls->head)
        berth_warn("%u lease(s) still held at exit (first: %s)", ls->count, ls->head->what);
    pthread_mutex_destroy(&ls->mu);
    free(ls);
}

struct sup_lease *
sup_lease_new(struct sup_leases *ls, const char *what)
{
    struct sup_lease *l = xzalloc(sizeof(*l));
    l->set = ls;
    l->what = xstrdup(what ? what : "");
    pthread_mutex_lock(&ls->mu);
    l->next = ls->head;
    if (ls->head)
        ls->head->prev = l;
    ls->head = l;
    ls->count++;
    pthread_mutex_unlock(&ls->mu);
    return l;
}

static bool
lease_holds(const struct sup_lease *l, enum sup_lease_kind kind, const char *id)
{
    for (const struct lease_item *it = l->items; it; it = it->next)
        if (it->kind == kind && strcmp(it->id, id) == 0)
            return true;
    return false;
}

void
sup_lease_add(struct sup_lease *l, enum sup_lease_kind kind, const char *id)
{
    size_t n = strlen(id);
    struct lease_item *it = xzalloc(sizeof(*it) + n + 1);
    it->kind = kind;
    memcpy(it->id, id, n + 1);
    pthread_mutex_lock(&l->set->mu);
    if (lease_holds(l, kind, id)) {
        free(it);
    } else {
        it->next = l->items;
        l->items = it;
    }
    pthread_mutex_unlock(&l->set->mu);
}

void
sup_lease_release(struct sup_lease *l)
{
    if (l == NULL)
        return;
    struct sup_leases *ls = l->set;
    pthread_mutex_lock(&ls->mu);
    if (l->prev)
        l->prev->next = l->next;
    else
        ls->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    ls->count--;
    pthread_mutex_unlock(&ls->mu);
    for (struct lease_item *it = l->items, *next; it; it = next) {
        next = it->next;
        free(it);
    }
    free(l->what);
    free(l);
}

void
sup_leases_lock(struct sup_leases *ls)
{
    pthread_mutex_lock(&ls->mu);
}

bool
sup_leases_has(struct sup_leases *ls, enum sup_lease_kind kind, const char *id)
{
    for (const struct sup_lease *l = ls->head; l; l = l->next)
        if (lease_holds(l, kind, id))
            return true;
    return false;
}

unsigned
sup_leases_count(struct sup_leases *ls)
{
    return ls->count;
}

void
sup_leases_unlock(struct sup_leases *ls)
{
    pthread_mutex_unlock(&ls->mu);
}
