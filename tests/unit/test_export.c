/* SPDX-License-Identifier: MIT */
/*
 * test_export.c - tracetape export: the three formats against golden
 * files, and each checked by its own rules, not by the exporter: a JSON
 * validator for chrome, an RFC 4180 reader for csv, the OpenMetrics
 * layout rules (families and series not interleaved, timestamps
 * increasing, # EOF last) for openmetrics.  Hostile strings (commas,
 * quotes, newlines, backslashes, bytes that are not UTF-8) go through
 * every format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "export.h"
#include "fixture.h"

/* A comm with a quote, a backslash, a newline and a byte not UTF-8. */
#define WEIRD_COMM "we\"ird\\c\no\xff"

/*
 * Anchor: T0 is 2026-11-25 06:00:00 UTC, host zone +01:00.
 * bash (100) forks cat (200), which execs, opens, reads, writes,
 * unlinks and exits after 1.99 s; bash renames, a line is typed on
 * pts/3, a thread with a hostile comm writes, an exec fails, 7 events
 * are lost, and bash opens once more at 12.5 s (three --step 5 steps).
 */
static void write_tape(struct fixture *fx)
{
	static const char *const cat_argv[] = {"cat", "a,b", "say \"hi\"",
					       NULL};
	static const char *const nope_argv[] = {"nope", NULL};
	struct tt_task bash = fx_task(100, 100, 1000, "bash");
	struct tt_task cat = fx_task(200, 200, 1000, "cat");
	struct tt_task weird = fx_task(300, 301, 0, WEIRD_COMM);

	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	fx_fork(fx, T0 + 10 * MS, bash, 200);
	fx_exec(fx, T0 + 20 * MS, cat, 100, 0, "/bin/cat", cat_argv);
	fx_open_rec(fx, T0 + 30 * MS, cat, 3, 0, 0, "data,1.csv", "/home/u");
	fx_open_rec(fx, T0 + 40 * MS, cat, -2, 0, 0, "/etc/\"q\"\nline\x1b",
		    NULL);
	fx_rw(fx, T0 + 50 * MS, cat, DEV, 1003, S_IFREG | 0644, "data,1.csv", 3,
	      3000, 0, 0);
	fx_rw(fx, T0 + 60 * MS, cat, 12, 9, S_IFIFO | 0600, "pipe:[9]", 0, 0, 1,
	      500);
	fx_rw(fx, T0 + 1500 * MS, cat, DEV, 1003, S_IFREG | 0644, "data,1.csv",
	      1, 100, 0, 0);
	fx_unlink(fx, T0 + 1600 * MS, cat, 0, TT_SYS_UNLINKAT, 0, "/tmp/x",
		  NULL);
	fx_rename(fx, T0 + 1700 * MS, bash, 0, 0, "a", "/tmp", "b", "/tmp");
	fx_loss(fx, T0 + 1800 * MS, 1, 7, T0 + 1000 * MS);
	fx_exit(fx, T0 + 2000 * MS, cat, 0);
	fx_tty(fx, T0 + 2500 * MS, bash, (136ull << 20) | 3, "pts/3");
	fx_readline(fx, T0 + 2500 * MS, bash, "ls -l, \"x\"");
	fx_rw(fx, T0 + 2600 * MS, weird, DEV, 77, S_IFREG | 0644, "log", 0, 0,
	      1, 10);
	fx_exec(fx, T0 + 3000 * MS, bash, 1, -2, "/nope", nope_argv);
	fx_open_rec(fx, T0 + 12500 * MS, bash, 4, 0, 0, "/etc/passwd", NULL);
	fx_close(fx);
}

/* ---- a JSON validator (RFC 8259), independent of the exporter ----- */

struct jp {
	const char *p;
	int depth;
};

static bool j_value(struct jp *j);

static void j_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool j_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

/* One UTF-8 sequence at P (strict: no overlongs, no surrogates). */
static int j_utf8(const unsigned char *p)
{
	int n = p[0] >= 0xf0 && p[0] <= 0xf4  ? 4
		: p[0] >= 0xe0		      ? 3
		: p[0] >= 0xc2 && p[0] < 0xe0 ? 2
					      : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && p[0] == 0xe0 && p[1] < 0xa0)
		return 0;
	if (n == 3 && p[0] == 0xed && p[1] >= 0xa0)
		return 0;
	if (n == 4 && p[0] == 0xf0 && p[1] < 0x90)
		return 0;
	return n;
}

static bool j_string(struct jp *j)
{
	if (*j->p++ != '"')
		return false;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false; /* raw control char or end of text */
		if (c == '\\') {
			c = (unsigned char)*++j->p;
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    j->p[i]) ||
					    !j->p[i])
						return false;
				j->p += 5;
			} else if (c && strchr("\"\\/bfnrt", c)) {
				j->p++;
			} else {
				return false;
			}
			continue;
		}
		int n = c < 0x80 ? 1 : j_utf8((const unsigned char *)j->p);
		if (!n)
			return false;
		j->p += n;
	}
}

static bool j_digits(struct jp *j)
{
	const char *s = j->p;
	while (*j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool j_number(struct jp *j)
{
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (!j_digits(j))
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!j_digits(j))
			return false;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!j_digits(j))
			return false;
	}
	return true;
}

/* Members or elements up to CLOSE; KEYS: an object. */
static bool j_items(struct jp *j, char close, bool keys)
{
	j->p++;
	j_ws(j);
	if (*j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		j_ws(j);
		if (keys) {
			if (!j_string(j))
				return false;
			j_ws(j);
			if (*j->p++ != ':')
				return false;
		}
		if (!j_value(j))
			return false;
		j_ws(j);
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool j_value(struct jp *j)
{
	bool ok;
	j_ws(j);
	if (++j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
		ok = j_items(j, '}', true);
		break;
	case '[':
		ok = j_items(j, ']', false);
		break;
	case '"':
		ok = j_string(j);
		break;
	case 't':
		ok = j_lit(j, "true");
		break;
	case 'f':
		ok = j_lit(j, "false");
		break;
	case 'n':
		ok = j_lit(j, "null");
		break;
	default:
		ok = j_number(j);
	}
	j->depth--;
	return ok;
}

static bool json_valid(const char *s)
{
	struct jp j = {s, 0};
	if (!j_value(&j))
		return false;
	j_ws(&j);
	return *j.p == '\0';
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- an RFC 4180 reader, independent of the exporter ------------- */

#define CSV_MAX_ROWS 64
#define CSV_COLS     20

struct csv_doc {
	size_t nrows;
	int ncols[CSV_MAX_ROWS];
	char *field[CSV_MAX_ROWS][CSV_COLS + 4];
};

/* One field at *P into a new string; false on a quoting error. */
static bool csv_field(const char **p, char **out)
{
	char *buf = malloc(strlen(*p) + 1);
	size_t n = 0;
	const char *s = *p;
	if (*s == '"') {
		for (s++;; s++) {
			if (!*s)
				return free(buf), false;
			if (*s == '"' && s[1] == '"')
				buf[n++] = *s++;
			else if (*s == '"')
				break;
			else
				buf[n++] = *s;
		}
		s++;
		if (*s != ',' && *s != '\r')
			return free(buf), false;
	} else {
		while (*s && *s != ',' && *s != '\r') {
			if (*s == '"' || *s == '\n')
				return free(buf), false;
			buf[n++] = *s++;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*p = s;
	return true;
}

/* Parse TEXT; every record must end with CRLF. */
static bool csv_parse(const char *text, struct csv_doc *d)
{
	memset(d, 0, sizeof(*d));
	const char *p = text;
	while (*p) {
		if (d->nrows == CSV_MAX_ROWS)
			return false;
		size_t r = d->nrows++;
		for (;;) {
			if (d->ncols[r] == CSV_COLS + 4)
				return false;
			if (!csv_field(&p, &d->field[r][d->ncols[r]++]))
				return false;
			if (*p == ',') {
				p++;
				continue;
			}
			if (p[0] != '\r' || p[1] != '\n')
				return false;
			p += 2;
			break;
		}
	}
	return true;
}

static void csv_free(struct csv_doc *d)
{
	for (size_t r = 0; r < d->nrows; r++)
		for (int c = 0; c < d->ncols[r]; c++)
			free(d->field[r][c]);
}

/* The row whose column COL is VALUE, or -1. */
static int csv_find(const struct csv_doc *d, int col, const char *value)
{
	for (size_t r = 0; r < d->nrows; r++)
		if (!strcmp(d->field[r][col], value))
			return (int)r;
	return -1;
}

enum {
	C_TIME,
	C_TS,
	C_TYPE,
	C_PID,
	C_TID,
	C_UID,
	C_COMM,
	C_SYSCALL,
	C_RET,
	C_PATH,
	C_RBYTES,
	C_WBYTES,
	C_READS,
	C_WRITES,
	C_ARGV,
	C_LINE,
	C_PATH2,
	C_LOST,
	C_CPU,
	C_DETAIL,
};

/* ---- OpenMetrics layout rules -------------------------------------- */

/* Length of the series key at the start of LINE (name and labels),
 * respecting quotes and escapes inside label values; 0 if malformed. */
static size_t om_series_len(const char *line)
{
	const char *p = line;
	while (*p && *p != '{' && *p != ' ')
		p++;
	if (*p == ' ')
		return (size_t)(p - line);
	if (*p != '{')
		return 0;
	bool quoted = false;
	for (p++; *p; p++) {
		if (quoted && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '}')
			return (size_t)(p + 1 - line);
		else if (*p == '\n')
			return 0;
	}
	return 0;
}

/*
 * Check TEXT as an exposition: # EOF last, families not interleaved
 * (each TYPE once, its samples right after it), series not interleaved,
 * timestamps strictly increasing per series, integer values.  Returns
 * the number of samples; fails the test on a breach.
 */
static size_t om_check(const char *text)
{
	char seen[64][256];
	size_t nseen = 0, samples = 0;
	char family[128] = "", series[256] = "";
	double last_ts = 0;
	const char *p = text;
	const char *eof = strstr(text, "# EOF\n");
	assert_non_null(eof);
	assert_string_equal(eof, "# EOF\n");
	while (p < eof) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		if (!strncmp(p, "# TYPE ", 7)) {
			sscanf(p + 7, "%127s", family);
			for (size_t i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], family);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
			series[0] = '\0';
		} else if (p[0] == '#') {
			assert_true(!strncmp(p, "# HELP ", 7) ||
				    !strncmp(p, "# UNIT ", 7));
		} else {
			size_t n = om_series_len(p);
			assert_true(n > 0 && n < sizeof(series));
			/* a sample of the current family */
			assert_int_equal(strncmp(p, family, strlen(family)), 0);
			char key[256];
			memcpy(key, p, n);
			key[n] = '\0';
			unsigned long long v;
			double ts;
			char end;
			assert_int_equal(
				sscanf(p + n, " %llu %lf%c", &v, &ts, &end), 3);
			assert_int_equal(end, '\n');
			if (strcmp(key, series)) {
				/* a new series: never one seen before */
				for (size_t i = 0; i < nseen; i++)
					assert_string_not_equal(seen[i], key);
				if (nseen < 64)
					snprintf(seen[nseen++], sizeof(seen[0]),
						 "%s", key);
				snprintf(series, sizeof(series), "%s", key);
			} else {
				assert_true(ts > last_ts);
			}
			last_ts = ts;
			samples++;
		}
		p = nl + 1;
	}
	return samples;
}

/* ---- tests ------------------------------------------------------- */

/* The output with the fixture's temporary directory as "TMP" (chrome
 * names the tape), malloc'd. */
static char *output_of(const struct fixture *fx)
{
	size_t dl = strlen(fx->dir);
	char *out = malloc(fx->out_len + 1);
	size_t n = 0;
	assert_non_null(out);
	for (const char *p = fx->out; *p;) {
		if (!strncmp(p, fx->dir, dl)) {
			memcpy(out + n, "TMP", 3);
			n += 3;
			p += dl;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

/* Output as golden file GOLDEN; on stderr only the driver's warning
 * about the 7 events write_tape() lost (golden file ERR_GOLDEN: every
 * window here holds the loss). */
static void check_golden_err(struct fixture *fx, const char *golden,
			     const char *err_golden, int rc)
{
	char *out = output_of(fx);
	assert_int_equal(rc, 0);
	assert_true(golden_match(golden, out));
	assert_true(golden_match(err_golden, fx->err));
	free(out);
}

static void check_golden(struct fixture *fx, const char *golden, int rc)
{
	check_golden_err(fx, golden, "export_loss.err", rc);
}

static void test_csv(void **state)
{
	struct fixture fx;
	struct csv_doc d;
	(void)state;
	write_tape(&fx);
	check_golden(
		&fx, "export_csv.csv",
		fx_run(&fx, export_main, "export", "--format", "csv", NULL));
	assert_true(csv_parse(fx.out, &d));
	/* header, 15 event records, the loss */
	assert_int_equal(d.nrows, 17);
	for (size_t r = 0; r < d.nrows; r++)
		assert_int_equal(d.ncols[r], CSV_COLS);
	assert_string_equal(d.field[0][C_DETAIL], "detail");
	/* commas, quotes and newlines come back as they were recorded */
	int open = csv_find(&d, C_PATH, "/home/u/data,1.csv");
	assert_true(open > 0);
	assert_string_equal(d.field[open][C_RET], "3");
	int bad = csv_find(&d, C_PATH, "/etc/\"q\"\nline\x1b");
	assert_true(bad > 0);
	assert_string_equal(d.field[bad][C_RET], "-2");
	int ex = csv_find(&d, C_ARGV, "cat a,b 'say \"hi\"'");
	assert_true(ex > 0);
	assert_string_equal(d.field[ex][C_PATH], "/bin/cat");
	int rl = csv_find(&d, C_LINE, "ls -l, \"x\"");
	assert_true(rl > 0);
	assert_string_equal(d.field[rl][C_TYPE], "readline");
	/* reads name the path the file was opened under; a pipe its name */
	int rd = csv_find(&d, C_RBYTES, "3000");
	assert_true(rd > 0);
	assert_string_equal(d.field[rd][C_PATH], "/home/u/data,1.csv");
	int pipe = csv_find(&d, C_WBYTES, "500");
	assert_true(pipe > 0);
	assert_string_equal(d.field[pipe][C_PATH], "pipe:[9]");
	int w = csv_find(&d, C_COMM, WEIRD_COMM);
	assert_true(w > 0);
	assert_string_equal(d.field[w][C_WBYTES], "10");
	int loss = csv_find(&d, C_TYPE, "loss");
	assert_true(loss > 0);
	assert_string_equal(d.field[loss][C_LOST], "7");
	assert_string_equal(d.field[loss][C_CPU], "1");
	int mv = csv_find(&d, C_TYPE, "rename");
	assert_string_equal(d.field[mv][C_PATH], "/tmp/a");
	assert_string_equal(d.field[mv][C_PATH2], "/tmp/b");
	csv_free(&d);
	fx_cleanup(&fx);
}

/*
 * The table of opened paths is bounded: past EXPORT_FILES_MAX inodes it
 * starts afresh, so a read of an inode opened before that shows its
 * name, one opened after it its path.
 */
static void test_csv_files_bounded(void **state)
{
	struct fixture fx;
	struct tt_task cat = fx_task(100, 100, 0, "cat");
	char path[64];
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	for (uint64_t i = 1; i <= EXPORT_FILES_MAX + 1; i++) {
		snprintf(path, sizeof(path), "/d/f%llu", (unsigned long long)i);
		fx_open_full(&fx, T0 + i * 1000, cat, 3, 0, 0, i, 0, path,
			     NULL);
	}
	uint64_t t = T0 + FX_SEC;
	fx_rw(&fx, t, cat, DEV, 1, S_IFREG | 0644, "f1", 1, 11, 0, 0);
	fx_rw(&fx, t + MS, cat, DEV, EXPORT_FILES_MAX + 1, S_IFREG | 0644,
	      "flast", 1, 22, 0, 0);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "csv",
				"--since", "+1s", NULL),
			 0);
	assert_non_null(strstr(fx.out, ",rw,100,100,0,cat,read,,f1,11,"));
	snprintf(path, sizeof(path), ",rw,100,100,0,cat,read,,/d/f%d,22,",
		 EXPORT_FILES_MAX + 1);
	/* --since: the opens are outside the window, nothing is known */
	assert_null(strstr(fx.out, path));
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "csv", NULL),
			 0);
	assert_non_null(strstr(fx.out, ",rw,100,100,0,cat,read,,f1,11,"));
	assert_non_null(strstr(fx.out, path));
	fx_cleanup(&fx);
}

/* The window and --utc: times move, rows outside go. */
static void test_csv_window_utc(void **state)
{
	struct fixture fx;
	struct csv_doc d;
	(void)state;
	write_tape(&fx);
	check_golden_err(&fx, "export_csv_window.csv", "export_loss_utc.err",
			 fx_run(&fx, export_main, "export", "--format", "csv",
				"--since", "+1s", "--until", "+2s", "--utc",
				NULL));
	assert_true(csv_parse(fx.out, &d));
	/* header, rw, unlink, rename, loss, exit */
	assert_int_equal(d.nrows, 6);
	assert_string_equal(d.field[1][C_TIME],
			    "2026-11-25T06:00:01.500000000+00:00");
	csv_free(&d);
	fx_cleanup(&fx);
}

static void test_csv_field_quoting(void **state)
{
	static const char *const cases[][2] = {
		{"plain", "plain"},	  {"", ""},
		{"a,b", "\"a,b\""},	  {"say \"hi\"", "\"say \"\"hi\"\"\""},
		{"l1\nl2", "\"l1\nl2\""}, {"cr\r", "\"cr\r\""},
		{"\"", "\"\"\"\""},	  {" spaced ", " spaced "},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		export_csv_field(f, cases[i][0]);
		fclose(f);
		assert_string_equal(buf, cases[i][1]);
		free(buf);
	}
}

static void test_chrome(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx);
	check_golden(
		&fx, "export_chrome.json",
		fx_run(&fx, export_main, "export", "--format", "chrome", NULL));
	assert_true(json_valid(fx.out));
	/* cat's life: forked at 10 ms, exited at 2 s */
	assert_non_null(strstr(fx.out, "{\"name\":\"cat\",\"cat\":\"process\","
				       "\"ph\":\"X\",\"ts\":10000.000,"
				       "\"pid\":200,\"tid\":200,"
				       "\"dur\":1990000.000,"));
	/* the loss across every track */
	assert_non_null(strstr(fx.out, "\"name\":\"lost 7 events\",\"cat\":"
				       "\"loss\",\"ph\":\"i\",\"ts\":1800000."
				       "000,\"pid\":0,\"tid\":0,\"s\":\"g\""));
	/* reads and writes as counters: one per rw record, cumulative */
	assert_int_equal(count_of(fx.out, "\"ph\":\"C\""), 4);
	assert_non_null(strstr(fx.out, "\"args\":{\"read\":3100,"
				       "\"written\":500}"));
	/* the line and its terminal */
	assert_non_null(strstr(
		fx.out, "\"line\":\"ls -l, \\\"x\\\"\",\"tty\":\"pts/3\""));
	/* no \u escape outside args (older Perfetto tokenizers reject
	 * them there): names show control characters as text */
	for (const char *l = fx.out; l && *l; l = strchr(l, '\n') + 1) {
		const char *args = strstr(l, "\"args\":");
		const char *nl = strchr(l, '\n');
		const char *u = strstr(l, "\\u");
		assert_true(!u || (args && u > args) || u > nl);
	}
	assert_non_null(strstr(fx.out,
			       "{\"name\":\"open /etc/\\\"q\\\"\\\\nline"
			       "\\\\x1b\""));
	assert_non_null(
		strstr(fx.out, "\"path\":\"/etc/\\\"q\\\"\\nline\\u001b\""));
	/* bash, cat and the hostile one are named once each */
	assert_int_equal(count_of(fx.out, "\"process_name\""), 3);
	assert_non_null(
		strstr(fx.out, "\"name\":\"we\\\"ird\\\\c\\no\\u00ff\""));
	fx_cleanup(&fx);
}

/* --rw both: instants with the file as well; still valid JSON. */
static void test_chrome_rw_both(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx);
	assert_int_equal(fx_run(&fx, export_main, "export", "--format",
				"chrome", "--rw", "both", NULL),
			 0);
	assert_true(json_valid(fx.out));
	assert_int_equal(count_of(fx.out, "\"ph\":\"C\""), 4);
	assert_int_equal(count_of(fx.out, "\"cat\":\"rw\",\"ph\":\"i\""), 4);
	assert_non_null(strstr(fx.out, "\"name\":\"write pipe:[9]\""));
	assert_non_null(strstr(fx.out, "\"name\":\"read /home/u/data,1.csv\""));
	assert_int_equal(fx_run(&fx, export_main, "export", "--format",
				"chrome", "--rw", "instant", NULL),
			 0);
	assert_true(json_valid(fx.out));
	assert_int_equal(count_of(fx.out, "\"ph\":\"C\""), 0);
	fx_cleanup(&fx);
}

/*
 * A window: ts stays counted from the tape's first record, counters count
 * from the window's start, and cat's life (forked before the window, on
 * the tape) is still one X event.
 */
static void test_chrome_window(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx);
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "chrome",
				"--since", "+1s", "--until", "+2s", NULL),
			 0);
	assert_true(json_valid(fx.out));
	assert_non_null(strstr(fx.out, "\"ph\":\"C\",\"ts\":1500000.000,"
				       "\"pid\":200,\"args\":{\"read\":100,"
				       "\"written\":0}"));
	assert_int_equal(count_of(fx.out, "\"ph\":\"C\""), 1);
	assert_non_null(strstr(fx.out, "\"ph\":\"X\",\"ts\":10000.000,"));
	assert_null(strstr(fx.out, "\"cat\":\"open\""));
	fx_cleanup(&fx);
}

static void test_json_validator_rejects(void **state)
{
	(void)state;
	/* the checker itself must catch what it is there to catch */
	assert_true(json_valid("{\"a\":[1,2.5,-0.1e3,true,null,\"\\u00ff\"]}"));
	assert_false(json_valid("{\"a\":[1,]}"));
	assert_false(json_valid("{\"a\":\"x\ny\"}"));
	assert_false(json_valid("{\"a\":\"\xff\"}"));
	assert_false(json_valid("{\"a\":1}{"));
	assert_false(json_valid("[01]"));
}

static void test_openmetrics(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx);
	check_golden(&fx, "export_openmetrics.txt",
		     fx_run(&fx, export_main, "export", "--format",
			    "openmetrics", "--step", "5", NULL));
	/* samples at 0, 5, 10 and 15 s: 4 per series; series: opens of
	 * bash and cat, open errors of cat, read bytes of cat, write bytes
	 * of cat and the hostile comm, execs of cat, lost events */
	assert_int_equal(om_check(fx.out), 4 * 8);
	/* 0 at the start; by 5 s both reads (3000 + 100 bytes) */
	assert_non_null(strstr(fx.out, "tracetape_read_bytes_total{comm="
				       "\"cat\"} 0 1795586400.000\n"
				       "tracetape_read_bytes_total{comm="
				       "\"cat\"} 3100 1795586405.000\n"));
	assert_non_null(strstr(fx.out, "tracetape_lost_events_total 7 "
				       "1795586405.000\n"));
	/* the spec's escapes, and U+FFFD for the byte that is not UTF-8 */
	assert_non_null(
		strstr(fx.out, "{comm=\"we\\\"ird\\\\c\\no\xef\xbf\xbd\"}"));
	fx_cleanup(&fx);
}

/* --top 1: cat keeps its label, bash and the hostile one are "other". */
static void test_openmetrics_top(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx);
	check_golden(&fx, "export_openmetrics_top1.txt",
		     fx_run(&fx, export_main, "export", "--format",
			    "openmetrics", "--step", "5", "--top", "1", NULL));
	om_check(fx.out);
	assert_null(strstr(fx.out, "comm=\"bash\""));
	assert_null(strstr(fx.out, "ird"));
	/* bash's open and the other comm's 10 bytes, summed as other */
	assert_non_null(strstr(fx.out, "tracetape_opens_total{comm="
				       "\"other\"} 1 1795586415.000\n"));
	assert_non_null(strstr(fx.out, "tracetape_write_bytes_total{comm="
				       "\"other\"} 10 1795586405.000\n"));
	fx_cleanup(&fx);
}

/* No clock anchor at all: seconds since boot, and a warning that says
 * so (promtool still takes them). */
static void test_openmetrics_no_clock(void **state)
{
	struct fixture fx;
	(void)state;
	fx_open(&fx);
	fx_open_rec(&fx, T0 + 100 * MS, fx_task(100, 100, 0, "cat"), 3, 0, 0,
		    "/etc/passwd", NULL);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "openmetrics",
				"--until", "+1s", NULL),
			 0);
	assert_int_equal(om_check(fx.out), 4);
	assert_non_null(strstr(fx.out, "tracetape_opens_total{comm=\"cat\"} 0 "
				       "2.100\ntracetape_opens_total{comm="
				       "\"cat\"} 1 12.100\n"));
	assert_non_null(strstr(fx.err, "has no clock anchor: timestamps are "
				       "seconds since boot"));
	fx_cleanup(&fx);
}

static void test_om_label_escaping(void **state)
{
	static const char *const cases[][2] = {
		{"plain", "plain"},
		{"a\"b", "a\\\"b"},
		{"back\\slash", "back\\\\slash"},
		{"new\nline", "new\\nline"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},
		{"bad\xff!", "bad\xef\xbf\xbd!"},
		{"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong '/' */
		{"tab\there", "tab\there"},
	};
	char out[64];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
			export_om_label(cases[i][0], out, sizeof(out)),
			cases[i][1]);
	/* cut at a whole escape, never in the middle of one */
	assert_string_equal(export_om_label("ab\"c", out, 4), "ab");
}

/* A window after the tape's end: every format stays well formed. */
static void test_empty_window(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx);
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "chrome",
				"--since", "+100s", NULL),
			 0);
	assert_true(json_valid(fx.out));
	assert_non_null(strstr(fx.out, "\"traceEvents\":[\n]}"));
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "openmetrics",
				"--since", "+100s", NULL),
			 0);
	/* only the lost-events counter, 0 at the start and a step later */
	assert_int_equal(om_check(fx.out), 2);
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "csv",
				"--since", "+100s", NULL),
			 0);
	assert_int_equal(count_of(fx.out, "\r\n"), 1);
	fx_cleanup(&fx);
}

/* -o writes what stdout would have shown, and only there. */
static void test_output_file(void **state)
{
	struct fixture fx;
	char path[256];
	(void)state;
	write_tape(&fx);
	snprintf(path, sizeof(path), "%s/out.json", fx.dir);
	assert_int_equal(
		fx_run(&fx, export_main, "export", "-f", "chrome", NULL), 0);
	char *want = strdup(fx.out);
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "chrome",
				"-o", path, NULL),
			 0);
	assert_string_equal(fx.out, "");
	char *got = read_text_file(path);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
	fx_cleanup(&fx);
}

static void expect_usage_error(struct fixture *fx, const char *needle,
			       const char *a1, const char *a2, const char *a3,
			       const char *a4)
{
	int rc = fx_run(fx, export_main, "export", a1, a2, a3, a4, NULL);
	if (rc != 2 || !strstr(fx->err, needle))
		fprintf(stderr, "want exit 2 and '%s', got %d: %s", needle, rc,
			fx->err);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(fx->err, needle));
	assert_string_equal(fx->out, "");
}

static void test_bad_arguments(void **state)
{
	struct fixture fx;
	char path[256];
	(void)state;
	write_tape(&fx);
	expect_usage_error(&fx, "--format is needed", NULL, NULL, NULL, NULL);
	expect_usage_error(&fx, "'xml' is not a format", "--format", "xml",
			   NULL, NULL);
	expect_usage_error(&fx, "--json does not apply", "-f", "csv", "--json",
			   NULL);
	expect_usage_error(&fx,
			   "--step and --top apply to --format "
			   "openmetrics only",
			   "-f", "csv", "--step", "5");
	expect_usage_error(&fx, "--step: invalid value '0'", "-f",
			   "openmetrics", "--step", "0");
	expect_usage_error(&fx, "--top: invalid value 'x'", "-f", "openmetrics",
			   "--top", "x");
	expect_usage_error(&fx, "--rw applies to --format chrome only", "-f",
			   "csv", "--rw", "both");
	expect_usage_error(&fx, "--rw: 'sum' is not counter", "-f", "chrome",
			   "--rw", "sum");
	expect_usage_error(&fx, "cannot create the output file", "-f", "csv",
			   "-o", "/nonexistent-dir/out.csv");
	/* an unreadable tape leaves no half-written output file */
	snprintf(path, sizeof(path), "%s/out.csv", fx.dir);
	assert_int_equal(fx_run_on(&fx, export_main, "export", "/nonexistent",
				   "-f", "csv", "-o", path, NULL),
			 2);
	struct stat st;
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(fx_run(&fx, export_main, "export", "--help", NULL), 0);
	assert_non_null(strstr(fx.out, "Usage: tracetape export --format"));
	fx_cleanup(&fx);
}

/*
 * A damaged chunk: the rest is exported, the damage is an event of the
 * export (chrome: a global instant; csv: a damage line), and the
 * driver's warning is on stderr.  Chunks of about 4 KiB.
 */
static void test_damage(void **state)
{
	struct fixture fx;
	struct tt_task cat = fx_task(100, 100, 1000, "cat");
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 4096};
	(void)state;
	fx_open_opts(&fx, &o);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	for (int i = 0; i < 1000; i++)
		fx_rw(&fx, T0 + (uint64_t)i * MS, cat, DEV, 11, S_IFREG | 0644,
		      "passwd", 1, 1, 0, 0);
	fx_close(&fx);
	fx_damage(&fx, 0.5);
	assert_int_equal(
		fx_run(&fx, export_main, "export", "-f", "chrome", NULL), 0);
	assert_true(json_valid(fx.out));
	size_t counters = count_of(fx.out, "\"ph\":\"C\"");
	assert_true(counters < 1000 && counters >= 900);
	assert_int_equal(count_of(fx.out, "\"cat\":\"damage\""), 1);
	assert_non_null(strstr(fx.err, "warning: damaged tape: "));
	assert_int_equal(fx_run(&fx, export_main, "export", "-f", "csv", NULL),
			 0);
	assert_int_equal(count_of(fx.out, ",damage,"), 1);
	assert_int_equal(count_of(fx.out, ",rw,"), counters);
	assert_int_equal(
		fx_run(&fx, export_main, "export", "-f", "openmetrics", NULL),
		0);
	om_check(fx.out);
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_window_utc),
		cmocka_unit_test(test_csv_files_bounded),
		cmocka_unit_test(test_csv_field_quoting),
		cmocka_unit_test(test_chrome),
		cmocka_unit_test(test_chrome_rw_both),
		cmocka_unit_test(test_chrome_window),
		cmocka_unit_test(test_json_validator_rejects),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_openmetrics_top),
		cmocka_unit_test(test_openmetrics_no_clock),
		cmocka_unit_test(test_om_label_escaping),
		cmocka_unit_test(test_empty_window),
		cmocka_unit_test(test_output_file),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
