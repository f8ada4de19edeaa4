/* SPDX-License-Identifier: MIT */
/*
 * verify.c - `tracetape verify`: read every chunk of every segment and
 * say whether the tape is whole.  Exit 0: clean; 1: damaged but
 * salvageable (the damage is listed, the rest replays); 2: unreadable.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct verify {
	uint64_t records;
	int status; /* exit code decided in finish */
};

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	(void)rp;
	(void)rec;
	((struct verify *)ctx)->records++;
	return 0;
}

static const char *status_name(int code)
{
	return code == REPLAY_EXIT_OK	      ? "clean"
	       : code == REPLAY_EXIT_FINDINGS ? "damaged"
					      : "unreadable";
}

static void text_report(struct replay *rp, const struct verify *v,
			const struct tape_damage *d, size_t nd)
{
	FILE *f = rp->out;
	const struct tape_segment_info *s;
	size_t ns = tape_reader_segments(rp->reader, &s);
	for (size_t i = 0; i < ns; i++) {
		replay_text_write(f, s[i].path);
		fprintf(f,
			": %s, format %u.%u, %" PRIu64 " bytes, %" PRIu64
			" chunks, %" PRIu64 " records%s\n",
			s[i].partial ? "partial (the recorder did not close "
				       "it)"
				     : "closed",
			s[i].version_major, s[i].version_minor, s[i].size,
			s[i].chunks, s[i].records,
			s[i].has_footer ? "" : ", no footer index");
	}
	uint64_t lost = 0;
	for (size_t i = 0; i < nd; i++) {
		fputs("DAMAGE ", f);
		replay_text_write(f, d[i].segment);
		fprintf(f, " offset %" PRIu64, d[i].offset);
		if (d[i].length)
			fprintf(f, " length %" PRIu64, d[i].length);
		fputs(": ", f);
		replay_text_write(f, d[i].what);
		fputc('\n', f);
		lost += d[i].records_lost;
	}
	fprintf(f, "%s: %s: %zu segments, %" PRIu64 " records read", rp->tape,
		status_name(v->status), ns, v->records);
	if (nd)
		fprintf(f, ", %zu problems, %" PRIu64 " records known lost", nd,
			lost);
	fputc('\n', f);
}

static void json_report(struct replay *rp, const struct verify *v,
			const struct tape_damage *d, size_t nd)
{
	uint64_t lost = 0;
	for (size_t i = 0; i < nd; i++) {
		struct replay_json j;
		replay_json_begin(&j, rp->out);
		replay_json_str(&j, "type", "damage");
		replay_json_damage(&j, &d[i]);
		replay_json_str(&j, "what", d[i].what);
		replay_json_end(&j);
		lost += d[i].records_lost;
	}
	const struct tape_segment_info *s;
	size_t ns = tape_reader_segments(rp->reader, &s);
	struct replay_json j;
	replay_json_begin(&j, rp->out);
	replay_json_str(&j, "type", "verify");
	replay_json_str(&j, "tape", rp->tape);
	replay_json_str(&j, "status", status_name(v->status));
	replay_json_uint(&j, "segments", ns);
	replay_json_uint(&j, "records", v->records);
	replay_json_uint(&j, "problems", nd);
	replay_json_uint(&j, "records_lost", lost);
	replay_json_end(&j);
}

static int finish(struct replay *rp, void *ctx)
{
	struct verify *v = ctx;
	const struct tape_damage *d;
	size_t nd = tape_reader_damage(rp->reader, &d);
	if (!nd)
		v->status = REPLAY_EXIT_OK;
	else if (v->records)
		v->status = REPLAY_EXIT_FINDINGS;
	else
		v->status = REPLAY_EXIT_TROUBLE;
	if (rp->json)
		json_report(rp, v, d, nd);
	else
		text_report(rp, v, d, nd);
	return v->status;
}

int verify_main(int argc, char **argv, const struct replay_env *env)
{
	struct replay_common c = {0};
	int rc = replay_common_args(&c, argc, argv, "verify", env);
	if (rc)
		return rc;
	if (c.help) {
		fprintf(env->out,
			"Usage: tracetape verify TAPE [--json]\n\n"
			"Reads every chunk of every segment and lists the "
			"damage.\nExit status: 0 clean, 1 damaged but "
			"salvageable, 2 unreadable.\n");
		return REPLAY_EXIT_OK;
	}
	rc = replay_common_finish(&c, argc, argv, "verify", env);
	if (rc)
		return rc;
	if (c.since || c.until)
		return replay_usage_error(env, "verify",
					  "--since/--until do not apply: "
					  "verify reads the whole tape");
	struct verify v = {0};
	struct replay_ops ops = {
		.on_record = on_record,
		.finish = finish,
		.ctx = &v,
		.flags = REPLAY_F_NO_PROCS | REPLAY_F_NO_WARNINGS |
			 REPLAY_F_FILE_ORDER,
	};
	return replay_run(&c, &ops, env);
}
