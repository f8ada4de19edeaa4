/* SPDX-License-Identifier: MIT */
/*
 * export_openmetrics.c - `tracetape export --format openmetrics`:
 * counters sampled every --step seconds of the tape's time, in the
 * OpenMetrics text format that `promtool tsdb create-blocks-from
 * openmetrics` backfills into a Prometheus TSDB.
 *
 * Samples: at the window's start (since, else the tape's first record)
 * and every step after it, up to the first step past the last event or
 * loss record;
 * each holds the totals of the events before it, so the first is 0 and
 * the last counts everything.  Timestamps are the recorded wall clock
 * (through the tape's clock anchors, as the other analyses' times) in
 * seconds with milliseconds, Prometheus' resolution; kept strictly
 * increasing should an anchor step the clock back.
 *
 * Labels: comm, the command name.  To bound the series count, the N
 * busiest commands (--top, by opens + execs + read and write calls) get
 * their own label and the rest are summed into comm="other" (a command
 * really named "other" lands there too).  Finding the busiest takes a
 * first pass over the window.
 *
 * The text format wants each series' samples together and each family
 * together, while the tape gives time order: every step's totals go to
 * a temporary file as one binary row, and the families are written from
 * it at the end.  Memory stays bounded whatever the tape's length.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "strmap.h"

/* Families with a comm label, in output order; lost events follow. */
enum { F_OPENS, F_OPEN_ERRORS, F_READ_BYTES, F_WRITE_BYTES, F_EXECS, NFAM };

static const struct family {
	const char *name, *unit, *help;
} families[NFAM + 1] = {
	{"tracetape_opens", NULL,
	 "Files opened (open, openat, openat2, creat), failed opens too."},
	{"tracetape_open_errors", NULL, "Opens that failed."},
	{"tracetape_read_bytes", "bytes",
	 "Bytes read from files, sockets and pipes."},
	{"tracetape_write_bytes", "bytes",
	 "Bytes written to files, sockets and pipes."},
	{"tracetape_execs", NULL, "Programs executed (successful execs)."},
	{"tracetape_lost_events", NULL,
	 "Events the recorder lost (ring buffer full, skipped probe "
	 "runs): the other counters miss them."},
};

#define OTHER	  "other"
#define LABEL_MAX (TT_COMM_LEN * 4 + 1)

struct om {
	const struct export_opts *o;
	struct export_event ev;
	struct strmap *activity; /* pass 1: label -> uint64_t */
	struct strmap *series;	 /* pass 2: label -> uint32_t index + 1 */
	char (*labels)[LABEL_MAX];
	uint32_t nseries; /* the top labels, then "other" */
	/* the current totals: NFAM x nseries, then lost events */
	uint64_t *totals;
	size_t nvalues;
	FILE *rows; /* int64 ms, then nvalues uint64 per step */
	uint64_t nrows;
	uint64_t next_ts; /* boot ns of the next sample */
	uint64_t last_ts; /* newest record of the window */
	int64_t last_ms;
	bool no_clock_warned;
};

/* ---- labels ------------------------------------------------------ */

/* Bytes of the UTF-8 sequence at S (1..4), 0 if it is not one
 * (overlong forms and surrogates are not). */
static int utf8_seq(const unsigned char *s)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	int n;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return 0;
	uint32_t cp = s[0] & (0x7fu >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * What stands for the character at P in a label value: an escape or
 * U+FFFD written to ESC, or P itself.  *LEN is its length, *USED the
 * input bytes it stands for.
 */
static const char *label_char(const unsigned char *p, char esc[4], int *len,
			      int *used)
{
	int n = utf8_seq(p);
	*used = n ? n : 1;
	*len = 2;
	esc[0] = '\\';
	switch (*p) {
	case '\\':
	case '"':
		esc[1] = (char)*p;
		return esc;
	case '\n':
		esc[1] = 'n';
		return esc;
	}
	if (!n) {
		memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD */
		*len = 3;
		return esc;
	}
	*len = n;
	return (const char *)p;
}

char *export_om_label(const char *s, char *out, size_t size)
{
	size_t o = 0;
	if (!size)
		return out;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		char esc[4];
		int len, used;
		const char *put = label_char(p, esc, &len, &used);
		if (o + (size_t)len >= size)
			break;
		memcpy(out + o, put, (size_t)len);
		o += (size_t)len;
		p += used;
	}
	out[o] = '\0';
	return out;
}

/* The label of an event's comm ("(none)" for an empty one: an empty
 * label value means no label at all). */
static const char *comm_label(const struct export_event *ev,
			      char out[LABEL_MAX])
{
	return export_om_label(ev->comm[0] ? ev->comm : "(none)", out,
			       LABEL_MAX);
}

/* ---- pass 1: who is busiest -------------------------------------- */

/* How much an event weighs in the ranking; 0 = not counted at all. */
static uint64_t weight(const struct export_event *ev)
{
	switch (ev->type) {
	case TT_REC_OPEN:
	case TT_REC_EXEC:
		return 1;
	case TT_REC_RW:
		return (uint64_t)ev->reads + ev->writes + 1;
	}
	return 0;
}

static int rank_record(struct replay *rp, const struct tape_record *rec,
		       void *ctx)
{
	(void)rp;
	struct om *m = ctx;
	char label[LABEL_MAX];
	if (export_decode(rec, &m->ev, NULL) < 0 || !weight(&m->ev))
		return 0;
	comm_label(&m->ev, label);
	uint64_t *n = strmap_get(m->activity, label, strlen(label), NULL);
	if (!n)
		return REPLAY_EXIT_TROUBLE;
	*n += weight(&m->ev);
	return 0;
}

static int by_activity(const void *a, const void *b)
{
	const struct strmap_entry *x = a, *y = b;
	uint64_t nx = *(const uint64_t *)x->value;
	uint64_t ny = *(const uint64_t *)y->value;
	if (nx != ny)
		return nx < ny ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* Series from the ranking: the top labels, then "other". */
static int choose_series(struct om *m)
{
	size_t n = strmap_count(m->activity);
	struct strmap_entry *e = strmap_entries(m->activity);
	if (n && !e)
		return -1;
	if (n)
		qsort(e, n, sizeof(*e), by_activity);
	m->labels = calloc(m->o->top + 1, sizeof(*m->labels));
	m->series = strmap_new(sizeof(uint32_t));
	if (!m->labels || !m->series) {
		free(e);
		return -1;
	}
	for (size_t i = 0; i < n && m->nseries < m->o->top; i++) {
		if (!strcmp(e[i].key, OTHER))
			continue;
		uint32_t *idx = strmap_get(m->series, e[i].key, e[i].len, NULL);
		if (!idx)
			break;
		*idx = m->nseries + 1;
		snprintf(m->labels[m->nseries++], LABEL_MAX, "%s", e[i].key);
	}
	free(e);
	snprintf(m->labels[m->nseries++], LABEL_MAX, "%s", OTHER);
	return 0;
}

/* ---- pass 2: totals per step ------------------------------------- */

static uint64_t *total(struct om *m, int fam, uint32_t series)
{
	return &m->totals[(size_t)fam * m->nseries + series];
}

/* Wall-clock milliseconds of boot time TS, strictly after the last. */
static int64_t sample_ms(struct om *m, struct replay *rp, uint64_t ts)
{
	struct replay_clock ck = replay_clock_at(rp, ts);
	int64_t ms;
	if (ck.valid) {
		ms = ((int64_t)ck.realtime_ns +
		      (int64_t)(ts - ck.boottime_ns)) /
		     1000000;
	} else {
		if (!m->no_clock_warned)
			fprintf(rp->err,
				"tracetape export: warning: %s has no clock "
				"anchor: timestamps are seconds since boot, "
				"not wall time\n",
				rp->tape);
		m->no_clock_warned = true;
		ms = (int64_t)(ts / 1000000);
	}
	if (m->nrows && ms <= m->last_ms)
		ms = m->last_ms + 1;
	m->last_ms = ms;
	return ms;
}

static int write_row(struct om *m, struct replay *rp)
{
	int64_t ms = sample_ms(m, rp, m->next_ts);
	if (fwrite(&ms, sizeof(ms), 1, m->rows) != 1 ||
	    fwrite(m->totals, sizeof(*m->totals), m->nvalues, m->rows) !=
		    m->nvalues) {
		fprintf(rp->err,
			"tracetape export: cannot write the temporary file "
			"of samples: %s (is %s full?)\n",
			strerror(errno), P_tmpdir);
		return REPLAY_EXIT_TROUBLE;
	}
	m->nrows++;
	m->next_ts += m->o->step_ns;
	return 0;
}

/* Samples due before TS. */
static int rows_until(struct om *m, struct replay *rp, uint64_t ts)
{
	int rc = 0;
	while (!rc && m->next_ts <= ts)
		rc = write_row(m, rp);
	return rc;
}

static void count_event(struct om *m, const struct export_event *ev)
{
	char label[LABEL_MAX];
	comm_label(ev, label);
	const uint32_t *idx = strmap_find(m->series, label, strlen(label));
	uint32_t s = idx ? *idx - 1 : m->nseries - 1;
	switch (ev->type) {
	case TT_REC_OPEN:
		(*total(m, F_OPENS, s))++;
		if (ev->ret < 0)
			(*total(m, F_OPEN_ERRORS, s))++;
		break;
	case TT_REC_EXEC:
		if (ev->ret == 0)
			(*total(m, F_EXECS, s))++;
		break;
	case TT_REC_RW:
		*total(m, F_READ_BYTES, s) += ev->rbytes;
		*total(m, F_WRITE_BYTES, s) += ev->wbytes;
		break;
	}
}

static int count_record(struct replay *rp, const struct tape_record *rec,
			void *ctx)
{
	struct om *m = ctx;
	struct tt_loss l;
	bool event = export_decode(rec, &m->ev, NULL) == 0;
	bool loss = !event && export_decode_loss(rec, &l);
	/* Events and losses set the pace: metadata (the segment record,
	 * clock anchors) would stretch the span past the last event. */
	if (!event && !loss)
		return 0;
	/* a sample at ts counts what came strictly before it */
	int rc = rows_until(m, rp, rec->ts);
	if (rc)
		return rc;
	if (rec->ts > m->last_ts)
		m->last_ts = rec->ts;
	if (event)
		count_event(m, &m->ev);
	else
		m->totals[m->nvalues - 1] += l.count;
	return 0;
}

static int count_start(struct replay *rp, void *ctx)
{
	struct om *m = ctx;
	m->next_ts = rp->since_ts ? rp->since_ts : rp->tape_start_ts;
	m->last_ts = m->next_ts;
	return 0;
}

/* ---- output ------------------------------------------------------ */

static void put_sample(FILE *f, const char *name, const char *label, uint64_t v,
		       int64_t ms)
{
	fputs(name, f);
	fputs("_total", f);
	if (label)
		fprintf(f, "{comm=\"%s\"}", label);
	/* ms >= 0 for any wall clock after 1970 */
	fprintf(f, " %" PRIu64 " %" PRId64 ".%03d\n", v, ms / 1000,
		(int)(ms % 1000));
}

/* Every sample of value VALUE (an index into a row) of one series. */
static int put_series(struct om *m, FILE *f, const char *name,
		      const char *label, size_t value, uint64_t *row)
{
	size_t rowlen = 1 + m->nvalues;
	rewind(m->rows);
	for (uint64_t r = 0; r < m->nrows; r++) {
		if (fread(row, sizeof(*row), rowlen, m->rows) != rowlen)
			return -1;
		put_sample(f, name, label, row[1 + value], (int64_t)row[0]);
	}
	return 0;
}

static void put_family_head(FILE *f, const struct family *fam)
{
	fprintf(f, "# TYPE %s counter\n", fam->name);
	if (fam->unit)
		fprintf(f, "# UNIT %s %s\n", fam->name, fam->unit);
	fprintf(f, "# HELP %s %s\n", fam->name, fam->help);
}

static int put_families(struct om *m, FILE *f)
{
	uint64_t *row = malloc((1 + m->nvalues) * sizeof(*row));
	int rc = row ? 0 : -1;
	for (int fam = 0; !rc && fam < NFAM; fam++) {
		put_family_head(f, &families[fam]);
		for (uint32_t s = 0; !rc && s < m->nseries; s++)
			/* a counter still 0 at the end was 0 throughout */
			if (*total(m, fam, s))
				rc = put_series(
					m, f, families[fam].name, m->labels[s],
					(size_t)fam * m->nseries + s, row);
	}
	if (!rc) {
		put_family_head(f, &families[NFAM]);
		rc = put_series(m, f, families[NFAM].name, NULL, m->nvalues - 1,
				row);
	}
	free(row);
	return rc;
}

static int count_finish(struct replay *rp, void *ctx)
{
	struct om *m = ctx;
	/* up to the first sample past the last event */
	int rc = rows_until(m, rp, m->last_ts);
	if (!rc)
		rc = write_row(m, rp);
	if (!rc && (fflush(m->rows) || put_families(m, rp->out))) {
		fprintf(rp->err,
			"tracetape export: cannot read back the temporary "
			"file of samples: %s\n",
			strerror(errno));
		rc = REPLAY_EXIT_TROUBLE;
	}
	fputs("# EOF\n", rp->out);
	return rc;
}

/* ---- entry ------------------------------------------------------- */

static int rank(struct om *m, struct replay_common *c,
		const struct replay_env *env)
{
	struct replay_ops ops = {
		.on_record = rank_record,
		.ctx = m,
		.flags = REPLAY_F_NO_PROCS | REPLAY_F_NO_WARNINGS,
	};
	int rc = replay_run(c, &ops, env);
	if (!rc && choose_series(m))
		rc = REPLAY_EXIT_TROUBLE;
	return rc;
}

static int count(struct om *m, struct replay_common *c,
		 const struct replay_env *env)
{
	m->nvalues = (size_t)NFAM * m->nseries + 1;
	m->totals = calloc(m->nvalues, sizeof(*m->totals));
	m->rows = tmpfile();
	if (!m->totals || !m->rows) {
		fprintf(env->err,
			"%s export: cannot make the temporary file of "
			"samples in %s: %s\n",
			env->prog, P_tmpdir, strerror(errno));
		return REPLAY_EXIT_TROUBLE;
	}
	struct replay_ops ops = {
		.start = count_start,
		.on_record = count_record,
		.finish = count_finish,
		.ctx = m,
		.flags = REPLAY_F_NO_PROCS | REPLAY_F_NEED_RECORDS,
	};
	return replay_run(c, &ops, env);
}

int export_openmetrics(struct replay_common *c, const struct export_opts *o,
		       const struct replay_env *env)
{
	struct om m = {.o = o};
	int rc = REPLAY_EXIT_TROUBLE;
	c->analysis = "export";
	m.activity = strmap_new(sizeof(uint64_t));
	if (!m.activity)
		fprintf(env->err, "%s export: out of memory\n", env->prog);
	else if (!(rc = rank(&m, c, env)))
		rc = count(&m, c, env);
	if (m.rows)
		fclose(m.rows);
	free(m.totals);
	free(m.labels);
	strmap_free(m.series);
	strmap_free(m.activity);
	return rc;
}
