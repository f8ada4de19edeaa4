/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c - CRC-32C (Castagnoli): reflected polynomial 0x82F63B78,
 * init 0xFFFFFFFF, final xor 0xFFFFFFFF.  CRC-32C of "123456789" is
 * 0xE3069283.
 *
 * Two implementations: the SSE4.2 crc32 instruction (x86-64 has had it
 * since 2008; ~8 bytes per cycle) and a portable slicing-by-8 table
 * version used when the CPU lacks it.  Both give identical results; the
 * unit tests check them against each other.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tape_internal.h"

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	/* Table k advances a byte that sits k positions further back. */
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = crc_table[0][i];
		for (int k = 1; k < 8; k++) {
			c = (c >> 8) ^ crc_table[0][c & 0xff];
			crc_table[k][i] = c;
		}
	}
}

static uint32_t crc32c_soft(uint32_t crc, const uint8_t *p, size_t len)
{
	pthread_once(&crc_table_once, crc_table_init);
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint32_t lo = tt_get32(p) ^ crc;
		uint32_t hi = tt_get32(p + 4);
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;
	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		c = __builtin_ia32_crc32di(c, tt_get64(p));
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

static bool have_sse42(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}
#endif

/* Exposed for the unit test that compares both implementations. */
uint32_t tt_crc32c_portable(uint32_t crc, const void *buf, size_t len);
uint32_t tt_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	return ~crc32c_soft(~crc, buf, len);
}

uint32_t tt_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (have_sse42())
		return ~crc32c_hw(~crc, buf, len);
#endif
	return ~crc32c_soft(~crc, buf, len);
}
