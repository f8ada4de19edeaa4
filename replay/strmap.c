/* SPDX-License-Identifier: MIT */
/*
 * strmap.c - open-addressing hash map from byte strings to values.
 *
 * Each key lives in one node allocation together with its value, so a
 * value never moves while its key is in the map.  The slot table holds
 * node pointers and uses linear probing; removal shifts later members of
 * the probe run back, so there are no tombstones and lookups stay short
 * however many keys come and go (filelife inserts and removes a key per
 * created file).
 */
#include "strmap.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct strmap_node {
	uint64_t hash;
	size_t len;
	alignas(max_align_t) unsigned char data[]; /* value, then key + NUL */
};

struct strmap {
	struct strmap_node **slots;
	size_t nslots; /* a power of two */
	size_t count;
	size_t value_size; /* rounded up to max_align_t */
};

/* 64-bit mix (from splitmix64's finaliser). */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* Eight bytes at a time: keys are paths, mostly tens of bytes long. */
static uint64_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, len);
	return mix(h ^ w);
}

static char *node_key(const struct strmap *m, struct strmap_node *n)
{
	return (char *)n->data + m->value_size;
}

struct strmap *strmap_new(size_t value_size)
{
	struct strmap *m = calloc(1, sizeof(*m));
	size_t align = alignof(max_align_t);

	if (!m)
		return NULL;
	m->value_size = (value_size + align - 1) / align * align;
	m->nslots = 64;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nslots; i++)
		free(m->slots[i]);
	free(m->slots);
	free(m);
}

/* Slot holding KEY, or the empty slot where it would go. */
static size_t find_slot(const struct strmap *m, const void *key, size_t len,
			uint64_t hash)
{
	size_t mask = m->nslots - 1;
	size_t i = hash & mask;

	for (;;) {
		struct strmap_node *n = m->slots[i];

		if (!n)
			return i;
		if (n->hash == hash && n->len == len &&
		    memcmp(node_key(m, n), key, len) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static int grow(struct strmap *m)
{
	size_t nslots = m->nslots * 2;
	struct strmap_node **slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < m->nslots; i++) {
		struct strmap_node *n = m->slots[i];
		size_t j;

		if (!n)
			continue;
		j = n->hash & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = n;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return 0;
}

void *strmap_find(const struct strmap *m, const void *key, size_t len)
{
	uint64_t hash = hash_bytes(key, len);
	struct strmap_node *n = m->slots[find_slot(m, key, len, hash)];

	return n ? n->data : NULL;
}

void *strmap_get(struct strmap *m, const void *key, size_t len, bool *created)
{
	uint64_t hash = hash_bytes(key, len);
	size_t i = find_slot(m, key, len, hash);
	struct strmap_node *n = m->slots[i];

	if (created)
		*created = false;
	if (n)
		return n->data;
	/* Keep the table at most half full so probe runs stay short. */
	if ((m->count + 1) * 2 > m->nslots) {
		if (grow(m) < 0)
			return NULL;
		i = find_slot(m, key, len, hash);
	}
	n = calloc(1, sizeof(*n) + m->value_size + len + 1);
	if (!n)
		return NULL;
	n->hash = hash;
	n->len = len;
	memcpy(node_key(m, n), key, len);
	m->slots[i] = n;
	m->count++;
	if (created)
		*created = true;
	return n->data;
}

/* True when the home slot HOME lies cyclically in (hole, i]. */
static bool home_between(size_t hole, size_t i, size_t home)
{
	if (hole <= i)
		return hole < home && home <= i;
	return hole < home || home <= i;
}

bool strmap_remove(struct strmap *m, const void *key, size_t len)
{
	size_t mask = m->nslots - 1;
	size_t hole = find_slot(m, key, len, hash_bytes(key, len));

	if (!m->slots[hole])
		return false;
	free(m->slots[hole]);
	m->slots[hole] = NULL;
	m->count--;
	/* Move back every later member of the run that may sit in the hole. */
	for (size_t i = (hole + 1) & mask; m->slots[i]; i = (i + 1) & mask) {
		size_t home = m->slots[i]->hash & mask;

		if (home_between(hole, i, home))
			continue;
		m->slots[hole] = m->slots[i];
		m->slots[i] = NULL;
		hole = i;
	}
	return true;
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}

struct strmap_entry *strmap_entries(const struct strmap *m)
{
	struct strmap_entry *out;
	size_t k = 0;

	if (!m->count)
		return NULL;
	out = malloc(m->count * sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < m->nslots; i++) {
		struct strmap_node *n = m->slots[i];

		if (!n)
			continue;
		out[k].key = node_key(m, n);
		out[k].len = n->len;
		out[k].value = n->data;
		k++;
	}
	return out;
}
