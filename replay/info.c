/* SPDX-License-Identifier: MIT */
/*
 * info.c - `tracetape info`: what a tape is before reading it closely:
 * the host and kernel it came from, the recorder and its options, the
 * probes and how each was attached, the wall-clock span, the segments,
 * events by type, lost events (per CPU, and when) and damage found.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define KV_MAX	   (64u << 10)
#define PROBES_MAX 256
#define CPUS_MAX   65536
#define NTYPES	   0x20 /* events 1..9 at 1..9, metadata 0x1000+ at 16+ */

/* A copied key=value body. */
struct kv_body {
	char *data;
	size_t len;
};

struct cpu_loss {
	uint64_t count, records;
	uint64_t first_ts, last_ts; /* record times */
	uint64_t first_since;	    /* start of the first interval */
};

struct info {
	struct kv_body host, options;
	struct kv_body probes[PROBES_MAX];
	size_t nprobes;
	uint64_t by_type[NTYPES];
	uint64_t unknown, records, events;
	uint64_t first_ts, last_ts;
	struct cpu_loss *cpus;
	uint32_t ncpus;		 /* entries in cpus */
	struct cpu_loss bad_cpu; /* CPU numbers past CPUS_MAX (damaged?) */
	struct cpu_loss skipped; /* TT_LOSS_SKIPPED: program runs skipped */
	uint64_t lost;
};

static int type_slot(unsigned type)
{
	if (type >= TT_REC_OPEN && type <= TT_REC_TTY)
		return (int)type;
	if (type >= TT_REC_HOST && type <= TT_REC_SEGMENT)
		return 16 + (int)(type - TT_REC_HOST);
	return -1;
}

static void kv_copy(struct kv_body *kv, const struct tape_record *rec)
{
	size_t n = rec->len < KV_MAX ? rec->len : KV_MAX;
	kv->data = malloc(n + 1);
	if (!kv->data)
		return;
	memcpy(kv->data, rec->body, n);
	kv->data[n] = '\0';
	kv->len = n;
}

/* Value of KEY in a copied body, or NULL. */
static const char *kv_get(const struct kv_body *kv, const char *key)
{
	size_t klen = strlen(key), pos = 0;
	const char *s;
	while ((s = replay_next_string(kv->data, kv->len, &pos)))
		if (!strncmp(s, key, klen) && s[klen] == '=')
			return s + klen + 1;
	return NULL;
}

static void note_probe(struct info *in, const struct tape_record *rec)
{
	/* Every segment repeats the probes: keep one per name. */
	struct kv_body tmp = {(char *)rec->body, rec->len};
	const char *name = kv_get(&tmp, "name");
	for (size_t i = 0; name && i < in->nprobes; i++) {
		const char *have = kv_get(&in->probes[i], "name");
		if (have && !strcmp(have, name))
			return;
	}
	if (in->nprobes < PROBES_MAX)
		kv_copy(&in->probes[in->nprobes++], rec);
}

static void note_loss(struct info *in, const struct tape_record *rec)
{
	struct tt_loss l;
	tape_rec_fixed(rec, &l, sizeof(l));
	if (!l.count)
		return;
	struct cpu_loss *c = &in->bad_cpu;
	if (l.cause == TT_LOSS_SKIPPED) {
		c = &in->skipped;
		goto count;
	}
	if (l.cpu < CPUS_MAX && l.cpu >= in->ncpus) {
		uint32_t n = l.cpu + 1;
		struct cpu_loss *p = realloc(in->cpus, n * sizeof(*p));
		if (!p)
			goto count; /* still counted, under "CPU ?" */
		memset(p + in->ncpus, 0, (n - in->ncpus) * sizeof(*p));
		in->cpus = p;
		in->ncpus = n;
	}
	if (l.cpu < in->ncpus)
		c = &in->cpus[l.cpu];
count:
	if (!c->records) {
		c->first_ts = rec->ts;
		c->first_since = l.since_ts ? l.since_ts : rec->ts;
	}
	c->last_ts = rec->ts;
	c->records++;
	c->count += l.count;
	in->lost += l.count;
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	(void)rp;
	struct info *in = ctx;
	int slot = type_slot(rec->type);
	if (slot < 0)
		in->unknown++;
	else
		in->by_type[slot]++;
	if (!in->records++ || rec->ts < in->first_ts)
		in->first_ts = rec->ts;
	if (rec->ts > in->last_ts)
		in->last_ts = rec->ts;
	if (rec->type >= TT_REC_OPEN && rec->type < TT_REC_HOST)
		in->events++;
	switch (rec->type) {
	case TT_REC_HOST:
		if (!in->host.data)
			kv_copy(&in->host, rec);
		break;
	case TT_REC_OPTIONS:
		if (!in->options.data)
			kv_copy(&in->options, rec);
		break;
	case TT_REC_PROBE:
		note_probe(in, rec);
		break;
	case TT_REC_LOSS:
		note_loss(in, rec);
		break;
	}
	return 0;
}

/* ---- text -------------------------------------------------------- */

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "(unknown)";
}

static void line(FILE *f, const char *label, const char *value)
{
	fprintf(f, "%-12s", label);
	replay_text_write(f, value);
	fputc('\n', f);
}

static void print_kv_line(FILE *f, const char *label, const struct kv_body *kv,
			  const char *skip)
{
	fprintf(f, "%-12s", label);
	size_t pos = 0;
	const char *s;
	int n = 0;
	while ((s = replay_next_string(kv->data, kv->len, &pos))) {
		if (skip && !strncmp(s, skip, strlen(skip)))
			continue;
		fputs(n++ ? " " : "", f);
		replay_text_write(f, s);
	}
	fputs(n ? "\n" : "(none)\n", f);
}

static void print_host(FILE *f, const struct info *in)
{
	const struct kv_body *h = &in->host;
	if (!h->data) {
		line(f, "host",
		     "(no host record: the tape's metadata is "
		     "missing or damaged)");
		return;
	}
	line(f, "host", or_unknown(kv_get(h, "hostname")));
	line(f, "machine-id", or_unknown(kv_get(h, "machine_id")));
	line(f, "boot-id", or_unknown(kv_get(h, "boot_id")));
	fprintf(f, "%-12s", "kernel");
	replay_text_write(f, or_unknown(kv_get(h, "kernel")));
	fputc(' ', f);
	replay_text_write(f, or_unknown(kv_get(h, "arch")));
	fputs(", ", f);
	replay_text_write(f, or_unknown(kv_get(h, "cpus")));
	fputs(" CPUs\n", f);
	line(f, "timezone", or_unknown(kv_get(h, "timezone")));
}

static void print_recorder(FILE *f, const struct info *in)
{
	const struct kv_body *o = &in->options;
	if (!o->data) {
		line(f, "recorder", "(no options record)");
		return;
	}
	fprintf(f, "%-12s", "recorder");
	fputs("tracetape-record ", f);
	replay_text_write(f, or_unknown(kv_get(o, "version")));
	fputc('\n', f);
	line(f, "command", or_unknown(kv_get(o, "argv")));
	print_kv_line(f, "options", o, "argv=");
}

static void print_span(FILE *f, struct replay *rp, const struct info *in)
{
	char a[REPLAY_ISO_LEN], b[REPLAY_ISO_LEN];
	if (!in->records) {
		line(f, "span", "(no records)");
		return;
	}
	replay_fmt_iso(rp, in->first_ts, a);
	replay_fmt_iso(rp, in->last_ts, b);
	line(f, "start", a);
	line(f, "end", b);
	uint64_t d = in->last_ts - in->first_ts;
	fprintf(f, "%-12s%" PRIu64 ".%03" PRIu64 " s\n", "duration",
		d / 1000000000u, d % 1000000000u / 1000000u);
}

static void print_segments(FILE *f, struct replay *rp)
{
	const struct tape_segment_info *s;
	size_t n = tape_reader_segments(rp->reader, &s);
	uint64_t bytes = 0;
	size_t partial = 0;
	for (size_t i = 0; i < n; i++) {
		bytes += s[i].size;
		partial += s[i].partial;
	}
	fprintf(f, "%-12s%zu (%zu closed, %zu partial), %" PRIu64 " bytes\n",
		"segments", n, n - partial, partial, bytes);
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(s[i].path, '/');
		fputs("  ", f);
		replay_text_write(f, base ? base + 1 : s[i].path);
		fprintf(f,
			"  seq %" PRIu64 ", %s, format %u.%u, %" PRIu64
			" bytes, %" PRIu64 " chunks, %" PRIu64 " records",
			s[i].seq, s[i].partial ? "partial" : "closed",
			s[i].version_major, s[i].version_minor, s[i].size,
			s[i].chunks, s[i].records);
		if (s[i].first_ts && s[i].last_ts) {
			char a[REPLAY_ISO_LEN], b[REPLAY_ISO_LEN];
			replay_fmt_iso(rp, s[i].first_ts, a);
			replay_fmt_iso(rp, s[i].last_ts, b);
			fprintf(f, ", %s .. %s", a, b);
		}
		fputc('\n', f);
	}
}

static void print_probes(FILE *f, const struct info *in)
{
	fprintf(f, "%-12s%zu\n", "probes", in->nprobes);
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct kv_body *p = &in->probes[i];
		const char *att = kv_get(p, "attached");
		fputs("  ", f);
		replay_text_write(f, or_unknown(kv_get(p, "name")));
		fputs("  ", f);
		replay_text_write(f, or_unknown(kv_get(p, "mechanism")));
		fputs(att && !strcmp(att, "1") ? "  attached"
					       : "  NOT attached",
		      f);
		const char *err = kv_get(p, "error");
		if (err && *err) {
			fputs(": ", f);
			replay_text_write(f, err);
		}
		/* e.g. why a better mechanism was not used */
		const char *note = kv_get(p, "note");
		if (note && *note) {
			fputs(" (", f);
			replay_text_write(f, note);
			fputc(')', f);
		}
		fputc('\n', f);
	}
}

static void print_counts(FILE *f, const struct info *in)
{
	fprintf(f, "%-12s%" PRIu64 " (and %" PRIu64 " metadata records)\n",
		"events", in->events, in->records - in->events);
	for (unsigned t = TT_REC_OPEN; t <= TT_REC_TTY; t++)
		fprintf(f, "  %-10s %" PRIu64 "\n", replay_type_name(t),
			in->by_type[type_slot(t)]);
	for (unsigned t = TT_REC_HOST; t <= TT_REC_SEGMENT; t++)
		if (in->by_type[type_slot(t)])
			fprintf(f, "  %-10s %" PRIu64 "\n", replay_type_name(t),
				in->by_type[type_slot(t)]);
	if (in->unknown)
		fprintf(f, "  %-10s %" PRIu64 "\n", "unknown", in->unknown);
}

/* Runs the kernel skipped (a program already running on that CPU). */
static void print_skipped(FILE *f, struct replay *rp, const struct cpu_loss *c)
{
	char a[REPLAY_ISO_LEN], b[REPLAY_ISO_LEN];

	if (!c->records)
		return;
	replay_fmt_iso(rp, c->first_since, a);
	replay_fmt_iso(rp, c->last_ts, b);
	fprintf(f,
		"  skipped   %" PRIu64 " probe runs skipped by the kernel (the "
		"program was already running on that CPU), between %s and "
		"%s\n",
		c->count, a, b);
}

static void print_losses(FILE *f, struct replay *rp, const struct info *in)
{
	if (!in->lost) {
		line(f, "lost", "0 events");
		return;
	}
	fprintf(f,
		"%-12s%" PRIu64 " events (%s on the recording host; analyses "
		"miss them)\n",
		"lost", in->lost,
		in->skipped.count == in->lost ? "probe runs skipped"
		: in->skipped.count ? "ring buffer full, probe runs skipped"
				    : "ring buffer full");
	for (uint32_t cpu = 0; cpu <= in->ncpus; cpu++) {
		bool bad = cpu == in->ncpus;
		const struct cpu_loss *c = bad ? &in->bad_cpu : &in->cpus[cpu];
		if (!c->records)
			continue;
		char a[REPLAY_ISO_LEN], b[REPLAY_ISO_LEN], name[16];
		replay_fmt_iso(rp, c->first_since, a);
		replay_fmt_iso(rp, c->last_ts, b);
		if (bad)
			snprintf(name, sizeof(name), "?");
		else
			snprintf(name, sizeof(name), "%" PRIu32, cpu);
		fprintf(f,
			"  CPU %-5s %" PRIu64 " lost in %" PRIu64
			" loss records, between %s and %s\n",
			name, c->count, c->records, a, b);
	}
	print_skipped(f, rp, &in->skipped);
}

static size_t print_damage(FILE *f, struct replay *rp)
{
	const struct tape_damage *d;
	size_t n = tape_reader_damage(rp->reader, &d);
	if (!n) {
		line(f, "damage", "none found");
		return 0;
	}
	fprintf(f, "%-12s%zu problems\n", "damage", n);
	for (size_t i = 0; i < n; i++) {
		fputs("  ", f);
		replay_text_write(f, d[i].segment);
		fputs(": ", f);
		replay_text_write(f, d[i].what);
		fputc('\n', f);
	}
	return n;
}

/* ---- json -------------------------------------------------------- */

static void json_kv_object(FILE *f, const struct kv_body *kv)
{
	putc('{', f);
	size_t pos = 0;
	const char *s;
	for (int n = 0; (s = replay_next_string(kv->data, kv->len, &pos));
	     n++) {
		const char *eq = strchr(s, '=');
		char k[256];
		size_t kl = eq ? (size_t)(eq - s) : strlen(s);
		kl = kl < sizeof(k) - 1 ? kl : sizeof(k) - 1;
		memcpy(k, s, kl);
		k[kl] = '\0';
		if (n)
			putc(',', f);
		replay_json_string(f, k);
		putc(':', f);
		replay_json_string(f, eq ? eq + 1 : "");
	}
	putc('}', f);
}

static void json_kv(struct replay_json *j, const char *key,
		    const struct kv_body *kv)
{
	replay_json_key(j, key);
	json_kv_object(j->f, kv);
}

static void json_ts(struct replay_json *j, struct replay *rp, const char *ns,
		    const char *iso, uint64_t ts)
{
	char buf[REPLAY_ISO_LEN];
	replay_fmt_iso(rp, ts, buf);
	replay_json_uint(j, ns, ts);
	replay_json_str(j, iso, buf);
}

static void json_segments(struct replay_json *j, struct replay *rp)
{
	const struct tape_segment_info *s;
	size_t n = tape_reader_segments(rp->reader, &s);
	replay_json_key(j, "segments");
	putc('[', j->f);
	for (size_t i = 0; i < n; i++) {
		struct replay_json o = {j->f, 0};
		fputs(i ? ",{" : "{", j->f);
		replay_json_str(&o, "path", s[i].path);
		replay_json_uint(&o, "seq", s[i].seq);
		replay_json_bool(&o, "partial", s[i].partial);
		replay_json_bool(&o, "has_footer", s[i].has_footer);
		replay_json_uint(&o, "size", s[i].size);
		replay_json_uint(&o, "chunks", s[i].chunks);
		replay_json_uint(&o, "records", s[i].records);
		json_ts(&o, rp, "first_ts_ns", "first", s[i].first_ts);
		json_ts(&o, rp, "last_ts_ns", "last", s[i].last_ts);
		fprintf(j->f, ",\"version\":\"%u.%u\"}", s[i].version_major,
			s[i].version_minor);
	}
	putc(']', j->f);
}

static void json_counts(struct replay_json *j, const struct info *in)
{
	replay_json_key(j, "records_by_type");
	putc('{', j->f);
	struct replay_json o = {j->f, 0};
	for (unsigned t = TT_REC_OPEN; t <= TT_REC_TTY; t++)
		replay_json_uint(&o, replay_type_name(t),
				 in->by_type[type_slot(t)]);
	for (unsigned t = TT_REC_HOST; t <= TT_REC_SEGMENT; t++)
		replay_json_uint(&o, replay_type_name(t),
				 in->by_type[type_slot(t)]);
	replay_json_uint(&o, "unknown", in->unknown);
	putc('}', j->f);
}

static void json_losses(struct replay_json *j, struct replay *rp,
			const struct info *in)
{
	replay_json_uint(j, "lost", in->lost);
	replay_json_key(j, "lost_per_cpu");
	putc('[', j->f);
	int n = 0;
	for (uint32_t cpu = 0; cpu <= in->ncpus; cpu++) {
		bool bad = cpu == in->ncpus;
		const struct cpu_loss *c = bad ? &in->bad_cpu : &in->cpus[cpu];
		if (!c->records)
			continue;
		struct replay_json o = {j->f, 0};
		fputs(n++ ? ",{" : "{", j->f);
		if (bad) /* a CPU number no machine has: damaged record */
			replay_json_int(&o, "cpu", -1);
		else
			replay_json_uint(&o, "cpu", cpu);
		replay_json_uint(&o, "count", c->count);
		replay_json_uint(&o, "records", c->records);
		json_ts(&o, rp, "first_ts_ns", "first", c->first_since);
		json_ts(&o, rp, "last_ts_ns", "last", c->last_ts);
		putc('}', j->f);
	}
	putc(']', j->f);
	replay_json_uint(j, "lost_skipped", in->skipped.count);
}

static void json_damage(struct replay_json *j, struct replay *rp)
{
	const struct tape_damage *d;
	size_t n = tape_reader_damage(rp->reader, &d);
	replay_json_key(j, "damage");
	putc('[', j->f);
	for (size_t i = 0; i < n; i++) {
		struct replay_json o = {j->f, 0};
		fputs(i ? ",{" : "{", j->f);
		replay_json_damage(&o, &d[i]);
		replay_json_str(&o, "what", d[i].what);
		putc('}', j->f);
	}
	putc(']', j->f);
}

static void print_json(struct replay *rp, const struct info *in)
{
	struct replay_json j;
	struct kv_body none = {"", 0};
	replay_json_begin(&j, rp->out);
	replay_json_str(&j, "type", "info");
	replay_json_str(&j, "tape", rp->tape);
	json_kv(&j, "host", in->host.data ? &in->host : &none);
	json_kv(&j, "options", in->options.data ? &in->options : &none);
	replay_json_key(&j, "probes");
	putc('[', rp->out);
	for (size_t i = 0; i < in->nprobes; i++) {
		if (i)
			putc(',', rp->out);
		json_kv_object(rp->out, &in->probes[i]);
	}
	putc(']', rp->out);
	json_ts(&j, rp, "start_ts_ns", "start", in->first_ts);
	json_ts(&j, rp, "end_ts_ns", "end", in->last_ts);
	replay_json_uint(&j, "records", in->records);
	replay_json_uint(&j, "events", in->events);
	json_segments(&j, rp);
	json_counts(&j, in);
	json_losses(&j, rp, in);
	json_damage(&j, rp);
	replay_json_end(&j);
}

static int finish(struct replay *rp, void *ctx)
{
	struct info *in = ctx;
	if (rp->json) {
		print_json(rp, in);
		return REPLAY_EXIT_OK;
	}
	FILE *f = rp->out;
	line(f, "tape", rp->tape);
	print_host(f, in);
	print_recorder(f, in);
	print_span(f, rp, in);
	print_segments(f, rp);
	print_probes(f, in);
	print_counts(f, in);
	print_losses(f, rp, in);
	print_damage(f, rp);
	return REPLAY_EXIT_OK;
}

static void info_free(struct info *in)
{
	free(in->host.data);
	free(in->options.data);
	for (size_t i = 0; i < in->nprobes; i++)
		free(in->probes[i].data);
	free(in->cpus);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape info TAPE [OPTIONS]\n\n"
		"Host, kernel, recorder and options, probes and how "
		"each was attached,\nwall-clock span, segments, events "
		"by type, lost events, damage.\n\n%s",
		replay_common_help);
}

int info_main(int argc, char **argv, const struct replay_env *env)
{
	struct replay_common c = {0};
	int rc = replay_common_args(&c, argc, argv, "info", env);
	if (rc)
		return rc;
	struct info *in = calloc(1, sizeof(*in));
	if (!in) {
		fprintf(env->err, "%s: out of memory\n", env->prog);
		return REPLAY_EXIT_TROUBLE;
	}
	struct replay_ops ops = {
		.on_record = on_record,
		.finish = finish,
		.ctx = in,
		.flags = REPLAY_F_NO_PROCS | REPLAY_F_NO_WARNINGS,
	};
	rc = replay_run_main(&c, argc, argv, "info", usage, &ops, env);
	info_free(in);
	free(in);
	return rc;
}
