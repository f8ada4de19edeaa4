/* SPDX-License-Identifier: MIT */
/*
 * when.c - --since / --until: a wall-clock time or an offset from the
 * tape's start, turned into boot-clock nanoseconds with the tape's first
 * clock anchor.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "when.h"

#define NSEC 1000000000LL

/* "12", "1.5": seconds-like number with up to 9 decimals. */
static const char *parse_decimal(const char *s, int64_t *ip, int64_t *frac_ns)
{
	if (!isdigit((unsigned char)*s))
		return NULL;
	int64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	int64_t f = 0, scale = NSEC / 10;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		for (; isdigit((unsigned char)*s); s++) {
			f += (*s - '0') * scale;
			scale /= 10;
		}
	}
	*ip = v;
	*frac_ns = f;
	return s;
}

/* "+30s", "+2m", "90", "1.5h": nanoseconds from the tape's start. */
static int parse_offset(const char *s, int64_t *ns)
{
	if (*s == '+')
		s++;
	int64_t v, f;
	s = parse_decimal(s, &v, &f);
	if (!s)
		return -1;
	int64_t unit = 1;
	switch (*s) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (*s && s[1] != '\0' && strcmp(s, "ms") != 0)
		return -1;
	if (strcmp(s, "ms") == 0) {
		*ns = v * 1000000 + f / 1000;
		return 0;
	}
	if (v > INT64_MAX / NSEC / unit)
		return -1;
	*ns = v * unit * NSEC + f * unit;
	return 0;
}

static const char *parse_2digits(const char *s, int *out)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return NULL;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return s + 2;
}

/* "HH:MM[:SS[.frac]]" */
static const char *parse_hms(const char *s, struct tm *tm, int64_t *frac)
{
	*frac = 0;
	tm->tm_sec = 0;
	if (!(s = parse_2digits(s, &tm->tm_hour)) || *s++ != ':' ||
	    !(s = parse_2digits(s, &tm->tm_min)))
		return NULL;
	if (*s == ':') {
		int64_t sec;
		if (!(s = parse_decimal(s + 1, &sec, frac)) || sec > 60)
			return NULL;
		tm->tm_sec = (int)sec;
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59)
		return NULL;
	return s;
}

/* "YYYY-MM-DD" */
static const char *parse_date(const char *s, struct tm *tm)
{
	char *end;
	long y = strtol(s, &end, 10);
	if (end != s + 4 || *end != '-')
		return NULL;
	s = end + 1;
	if (!(s = parse_2digits(s, &tm->tm_mon)) || *s++ != '-' ||
	    !(s = parse_2digits(s, &tm->tm_mday)))
		return NULL;
	if (tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1 ||
	    tm->tm_mday > 31)
		return NULL;
	tm->tm_year = (int)y - 1900;
	tm->tm_mon -= 1;
	return s;
}

/* "", "Z", "+HH:MM", "+HHMM", "+HH": seconds east of UTC. */
static int parse_zone(const char *s, bool *given, int32_t *offset)
{
	*given = false;
	if (*s == '\0')
		return 0;
	*given = true;
	if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0) {
		*offset = 0;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	int sign = *s == '-' ? -1 : 1;
	int hh, mm = 0;
	s++;
	if (!(s = parse_2digits(s, &hh)))
		return -1;
	if (*s == ':')
		s++;
	if (*s && !(s = parse_2digits(s, &mm)))
		return -1;
	if (*s)
		return -1;
	*offset = sign * (hh * 3600 + mm * 60);
	return 0;
}

/* Local calendar day of the tape's start in the zone of OFFSET. */
static void tape_first_day(const struct replay_clock *ck, uint64_t start_ts,
			   int32_t offset, struct tm *tm)
{
	int64_t real = (int64_t)ck->realtime_ns +
		       (int64_t)(start_ts - ck->boottime_ns);
	time_t t = (time_t)(real / NSEC + offset);
	gmtime_r(&t, tm);
}

int replay_parse_when(const char *s, const struct replay_when_ctx *ctx,
		      uint64_t *boot_ns, const char **why)
{
	int64_t off;
	if (*s && !strchr(s, ':') && !strchr(s + 1, '-') &&
	    parse_offset(s, &off) == 0) {
		*boot_ns = ctx->tape_start_ts + (uint64_t)off;
		return 0;
	}
	if (!ctx->clock.valid) {
		*why = "the tape has no clock anchor, so wall-clock times "
		       "cannot be placed; give an offset such as +30s";
		return -1;
	}
	int32_t offset = ctx->utc ? 0 : ctx->clock.utc_offset;
	struct tm tm = {0};
	int64_t frac = 0;
	const char *p;
	if (isdigit((unsigned char)s[0]) && s[1] && s[2] == ':') {
		tape_first_day(&ctx->clock, ctx->tape_start_ts, offset, &tm);
		p = parse_hms(s, &tm, &frac);
	} else {
		p = parse_date(s, &tm);
		if (p && (*p == ' ' || *p == 'T' || *p == 't'))
			p = parse_hms(p + 1, &tm, &frac);
	}
	bool zoned;
	int32_t zone;
	if (!p || parse_zone(p, &zoned, &zone) < 0) {
		*why = "not a time: use \"YYYY-MM-DD HH:MM:SS\", \"HH:MM:SS\" "
		       "(the tape's first day), ISO-8601, or an offset from "
		       "the tape's start such as +30s, +2m, 90";
		return -1;
	}
	if (zoned)
		offset = zone;
	int64_t wall = ((int64_t)timegm(&tm) - offset) * NSEC + frac;
	int64_t boot = (int64_t)ctx->clock.boottime_ns +
		       (wall - (int64_t)ctx->clock.realtime_ns);
	*boot_ns = boot < 1 ? 1 : (uint64_t)boot;
	return 0;
}
