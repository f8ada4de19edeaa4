/* SPDX-License-Identifier: MIT */
/*
 * records.c - error words and the record body helpers of tape.h.
 */
#include <stdio.h>

#include "tape_internal.h"

const char *tape_strerror(int err)
{
	switch (err) {
	case TAPE_OK:
		return "success";
	case TAPE_E_IO:
		return "input/output error (a system call failed)";
	case TAPE_E_NOTTAPE:
		return "not a tracetape tape or segment";
	case TAPE_E_VERSION:
		return "written by a newer tracetape format version: upgrade "
		       "tracetape";
	case TAPE_E_CORRUPT:
		return "the tape is damaged beyond what the reader can skip";
	case TAPE_E_NOMEM:
		return "out of memory";
	case TAPE_E_EXISTS:
		return "the tape directory exists and is not empty";
	case TAPE_E_INVAL:
		return "invalid argument";
	case TAPE_E_EMPTY:
		return "the tape has no segments";
	case TAPE_E_ZSTD:
		return "zstd compression failed";
	case TAPE_E_TOOBIG:
		return "record larger than TAPE_MAX_RECORD (64 MiB)";
	}
	return "unknown tracetape error code";
}

void tt_fmt_ts(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%llu.%06llus",
		 (unsigned long long)(ns / 1000000000),
		 (unsigned long long)(ns % 1000000000 / 1000));
}

const char *tape_rec_string(const struct tape_record *rec, size_t fixed,
			    const uint16_t *lens, size_t nlens, size_t n)
{
	if (!rec || !rec->body || n >= nlens || lens[n] == 0)
		return NULL;
	size_t off = fixed;
	for (size_t i = 0; i < n; i++)
		off += lens[i];
	if (off > rec->len || lens[n] > rec->len - off)
		return NULL;
	const char *s = (const char *)rec->body + off;
	if (s[lens[n] - 1] != '\0')
		return NULL;
	return s;
}

void tape_rec_fixed(const struct tape_record *rec, void *dst, size_t size)
{
	size_t have = rec && rec->body ? rec->len : 0;
	if (have > size)
		have = size;
	if (have)
		memcpy(dst, rec->body, have);
	memset((char *)dst + have, 0, size - have);
}

const char *tape_rec_kv(const struct tape_record *rec, const char *key)
{
	if (!rec || !rec->body || !key)
		return NULL;
	size_t klen = strlen(key);
	const char *p = rec->body;
	const char *end = p + rec->len;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			return NULL; /* an unterminated tail is not a pair */
		if ((size_t)(nul - p) > klen && p[klen] == '=' &&
		    memcmp(p, key, klen) == 0)
			return p + klen + 1;
		p = nul + 1;
	}
	return NULL;
}
