/* SPDX-License-Identifier: MIT */
/*
 * strmap.h - the analyzer's hash map from byte-string keys to fixed-size
 * values, for analyses that keep state per name: diff (normalised keys
 * such as "comm\0path\0result"), filelife (path -> pending creation),
 * history (pid -> session).  Memory is one allocation per distinct key,
 * so it is bounded by the number of keys, not by the number of events
 * looked up.
 *
 * Values are zeroed when a key is first inserted and stay at the same
 * address until that key is removed or the map freed.
 */
#ifndef REPLAY_STRMAP_H
#define REPLAY_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

/* A new empty map whose values are VALUE_SIZE bytes (0: a set); NULL when
 * out of memory. */
struct strmap *strmap_new(size_t value_size);
void strmap_free(struct strmap *m);

/* The value of KEY (LEN bytes, any content), or NULL when absent. */
void *strmap_find(const struct strmap *m, const void *key, size_t len);

/*
 * The value of KEY, inserted zeroed when absent (*created set true then).
 * NULL only when out of memory.  CREATED may be NULL.
 */
void *strmap_get(struct strmap *m, const void *key, size_t len, bool *created);

/* Remove KEY; returns true when it was there. */
bool strmap_remove(struct strmap *m, const void *key, size_t len);

size_t strmap_count(const struct strmap *m);

/* One entry as handed out by strmap_entries(). */
struct strmap_entry {
	const char *key; /* LEN bytes, followed by a NUL not counted */
	size_t len;
	void *value;
};

/*
 * All entries, in no particular order, as a malloc'd array of
 * strmap_count() elements (the caller frees it; NULL when empty or out of
 * memory).  Valid until the map is next changed.
 */
struct strmap_entry *strmap_entries(const struct strmap *m);

#endif /* REPLAY_STRMAP_H */
