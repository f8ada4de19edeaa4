/* SPDX-License-Identifier: MIT */
/*
 * test_replay_dump.c - tracetape dump: the --json schema the recorder's
 * end-to-end test depends on, field for field, and the text form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

/* Drop the writer's own segment record: it carries the real boot time. */
static char *without_segment_lines(const char *out, int *segments)
{
	char *res = calloc(1, strlen(out) + 1);
	const char *line = out;
	*segments = 0;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (memmem(line, n, "segment", 7))
			(*segments)++;
		else
			strncat(res, line, n);
		line += n;
	}
	return res;
}

static void write_all_types(struct fixture *fx)
{
	fx_open(fx);
	static const char *const host[] = {"hostname=web1", "kernel=6.18.0",
					   NULL};
	static const char *const probe[] = {"name=sys_exit_openat",
					    "mechanism=tracepoint",
					    "attached=1", NULL};
	fx_kv(fx, TT_REC_HOST, T0, host);
	fx_kv(fx, TT_REC_PROBE, T0, probe);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	fx_user(fx, T0, 1000, "alice");
	struct tt_task t = fx_task(42, 43, 1000, "cat");
	struct tt_file_op f;
	memset(&f, 0, sizeof(f));
	f.task = t;
	f.ret = 3;
	f.dev = 8388609;
	f.ino = 77;
	f.flags = 0101;
	f.mode = 0600;
	f.fmode = TT_FMODE_CREATED | 0x3;
	f.dirfd = TT_AT_FDCWD;
	f.syscall = TT_SYS_OPENAT;
	fx_file_op(fx, TT_REC_OPEN, T0 + 500 * MS, &f, "../etc//./x", "/a/b",
		   NULL, NULL);
	memset(&f, 0, sizeof(f));
	f.task = t;
	f.dirfd = 5;
	f.dirfd2 = TT_AT_FDCWD;
	f.syscall = TT_SYS_RENAMEAT2;
	fx_file_op(fx, TT_REC_RENAME, T0 + 600 * MS, &f, "old", "/srv",
		   "/tmp/new", "/");
	f.syscall = TT_SYS_UNLINKAT;
	f.ret = -2;
	fx_file_op(fx, TT_REC_UNLINK, T0 + 700 * MS, &f, "gone", "/", NULL,
		   NULL);
	struct {
		struct tt_rw r;
		char name[8];
	} rw;
	memset(&rw, 0, sizeof(rw));
	rw.r.task = t;
	rw.r.dev = 1;
	rw.r.ino = 2;
	rw.r.rbytes = 4096;
	rw.r.wbytes = 10;
	rw.r.reads = 2;
	rw.r.writes = 1;
	rw.r.fd = 3;
	rw.r.i_mode = 0100644;
	rw.r.syscall = TT_SYS_WRITE;
	rw.r.name_len = 6;
	memcpy(rw.name, "x.log", 6);
	fx_append(fx, TT_REC_RW, T0 + 800 * MS, &rw, sizeof(rw.r) + 6);
	static const char *const argv[] = {"ls", "-l", "a b", NULL};
	fx_exec(fx, T0 + FX_SEC, fx_task(50, 50, 0, "ls"), 42, 0, "/bin/ls",
		argv);
	struct tt_fork fk = {.task = t, .child_pid = 51};
	fx_append(fx, TT_REC_FORK, T0 + 1100 * MS, &fk, sizeof(fk));
	struct tt_exit ex = {.task = fx_task(51, 51, 1000, "cat"),
			     .exit_code = 256};
	fx_append(fx, TT_REC_EXIT, T0 + 1200 * MS, &ex, sizeof(ex));
	fx_readline(fx, T0 + 2 * FX_SEC, fx_task(7, 7, 0, "bash"),
		    "echo \"hi\"\tthere\x1b[31m");
	fx_loss(fx, T0 + 3 * FX_SEC, 1, 17, T0 + 2 * FX_SEC);
	struct tt_loadavg la = {25, 50, 75, 2, 300, 4242};
	fx_append(fx, TT_REC_LOADAVG, T0 + 3 * FX_SEC, &la, sizeof(la));
	char unknown[5] = "abcd";
	fx_append(fx, 0x4242, T0 + 4 * FX_SEC, unknown, 5);
	fx_close(fx);
}

static const char golden_json[] =
	"{\"ts_ns\":2000000000,\"time\":\"2026-11-25T07:00:00.000000000+01:"
	"00\","
	"\"type\":\"host\",\"kv\":{\"hostname\":\"web1\",\"kernel\":\"6.18.0\"}"
	"}\n"
	"{\"ts_ns\":2000000000,\"time\":\"2026-11-25T07:00:00.000000000+01:"
	"00\","
	"\"type\":\"probe\",\"kv\":{\"name\":\"sys_exit_openat\",\"mechanism\":"
	"\"tracepoint\",\"attached\":\"1\"}}\n"
	"{\"ts_ns\":2000000000,\"time\":\"2026-11-25T07:00:00.000000000+01:"
	"00\","
	"\"type\":\"clock\",\"boottime_ns\":2000000000,\"monotonic_ns\":"
	"1000000000,\"realtime_ns\":1795586400000000000,\"utc_offset\":3600}\n"
	"{\"ts_ns\":2000000000,\"time\":\"2026-11-25T07:00:00.000000000+01:"
	"00\","
	"\"type\":\"user\",\"uid\":1000,\"name\":\"alice\"}\n"
	"{\"ts_ns\":2500000000,\"time\":\"2026-11-25T07:00:00.500000000+01:"
	"00\","
	"\"type\":\"open\",\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":\"cat\","
	"\"ret\":3,\"dev\":8388609,\"ino\":77,\"flags\":65,\"mode\":384,"
	"\"fmode\":1048579,\"dirfd\":-100,\"dirfd2\":0,\"syscall\":\"openat\","
	"\"path\":\"../etc//./x\",\"dir\":\"/a/"
	"b\",\"path2\":\"\",\"dir2\":\"\","
	"\"full\":\"/a/etc/x\",\"full2\":\"\",\"created\":true}\n"
	"{\"ts_ns\":2600000000,\"time\":\"2026-11-25T07:00:00.600000000+01:"
	"00\","
	"\"type\":\"rename\",\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":"
	"\"cat\","
	"\"ret\":0,\"dev\":0,\"ino\":0,\"flags\":0,\"mode\":0,\"fmode\":0,"
	"\"dirfd\":5,\"dirfd2\":-100,\"syscall\":\"renameat2\",\"path\":"
	"\"old\","
	"\"dir\":\"/srv\",\"path2\":\"/tmp/new\",\"dir2\":\"/\",\"full\":"
	"\"/srv/old\",\"full2\":\"/tmp/new\",\"created\":false}\n"
	"{\"ts_ns\":2700000000,\"time\":\"2026-11-25T07:00:00.700000000+01:"
	"00\","
	"\"type\":\"unlink\",\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":"
	"\"cat\","
	"\"ret\":-2,\"dev\":0,\"ino\":0,\"flags\":0,\"mode\":0,\"fmode\":0,"
	"\"dirfd\":5,\"dirfd2\":-100,\"syscall\":\"unlinkat\",\"path\":"
	"\"gone\","
	"\"dir\":\"/\",\"path2\":\"\",\"dir2\":\"\",\"full\":\"/gone\","
	"\"full2\":\"\",\"created\":false}\n"
	"{\"ts_ns\":2800000000,\"time\":\"2026-11-25T07:00:00.800000000+01:"
	"00\","
	"\"type\":\"rw\",\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":\"cat\","
	"\"dev\":1,\"ino\":2,\"rbytes\":4096,\"wbytes\":10,\"reads\":2,"
	"\"writes\":1,\"fd\":3,\"i_mode\":33188,\"syscall\":\"write\","
	"\"name\":\"x.log\"}\n"
	"{\"ts_ns\":3000000000,\"time\":\"2026-11-25T07:00:01.000000000+01:"
	"00\","
	"\"type\":\"exec\",\"pid\":50,\"tid\":50,\"uid\":0,\"comm\":\"ls\","
	"\"ret\":0,\"ppid\":42,\"argc\":3,\"syscall\":\"execve\",\"filename\":"
	"\"/bin/ls\",\"args\":[\"ls\",\"-l\",\"a b\"],\"truncated\":false}\n"
	"{\"ts_ns\":3100000000,\"time\":\"2026-11-25T07:00:01.100000000+01:"
	"00\","
	"\"type\":\"fork\",\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":\"cat\","
	"\"child_pid\":51}\n"
	"{\"ts_ns\":3200000000,\"time\":\"2026-11-25T07:00:01.200000000+01:"
	"00\","
	"\"type\":\"exit\",\"pid\":51,\"tid\":51,\"uid\":1000,\"comm\":\"cat\","
	"\"exit_code\":256}\n"
	"{\"ts_ns\":4000000000,\"time\":\"2026-11-25T07:00:02.000000000+01:"
	"00\","
	"\"type\":\"readline\",\"pid\":7,\"tid\":7,\"uid\":0,\"comm\":\"bash\","
	"\"line\":\"echo \\\"hi\\\"\\tthere\\u001b[31m\"}\n"
	"{\"ts_ns\":5000000000,\"time\":\"2026-11-25T07:00:03.000000000+01:"
	"00\","
	"\"type\":\"loss\",\"cpu\":1,\"cause\":0,\"count\":17,\"since_ts_ns\":"
	"4000000000}\n"
	"{\"ts_ns\":5000000000,\"time\":\"2026-11-25T07:00:03.000000000+01:"
	"00\","
	"\"type\":\"loadavg\",\"load1\":25,\"load5\":50,\"load15\":75,"
	"\"nr_running\":2,\"nr_threads\":300,\"last_pid\":4242}\n"
	"{\"ts_ns\":6000000000,\"time\":\"2026-11-25T07:00:04.000000000+01:"
	"00\","
	"\"type\":\"unknown\",\"rec_type\":16962,\"len\":5}\n";

static void test_dump_json_schema(void **state)
{
	(void)state;
	struct fixture fx;
	write_all_types(&fx);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--json", NULL), 0);
	int segments;
	char *got = without_segment_lines(fx.out, &segments);
	assert_int_equal(segments, 1);
	assert_string_equal(got, golden_json);
	free(got);
	/* The loss is reported on stderr; no JSON warning objects in dump
	 * (the loss record itself is in the stream). */
	assert_non_null(strstr(fx.err, "17 events were lost"));
	assert_null(strstr(fx.out, "\"warning\""));
	fx_cleanup(&fx);
}

static void test_dump_text(void **state)
{
	(void)state;
	struct fixture fx;
	write_all_types(&fx);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--utc", "--since",
				"+1s", "--until", "+2s", NULL),
			 0);
	assert_string_equal(
		fx.out,
		"2026-11-25T06:00:01.000000000+00:00 exec     ts_ns=3000000000 "
		"pid=50 tid=50 uid=0 comm=\"ls\" ret=0 ppid=42 argc=3 "
		"syscall=\"execve\" filename=\"/bin/ls\" "
		"args=[\"ls\",\"-l\",\"a b\"] truncated=false\n"
		"2026-11-25T06:00:01.100000000+00:00 fork     ts_ns=3100000000 "
		"pid=42 tid=43 uid=1000 comm=\"cat\" child_pid=51\n"
		"2026-11-25T06:00:01.200000000+00:00 exit     ts_ns=3200000000 "
		"pid=51 tid=51 uid=1000 comm=\"cat\" exit_code=256\n"
		"2026-11-25T06:00:02.000000000+00:00 readline ts_ns=4000000000 "
		"pid=7 tid=7 uid=0 comm=\"bash\" "
		"line=\"echo \\\"hi\\\"\\tthere\\x1b[31m\"\n");
	assert_string_equal(fx.err, "");
	fx_cleanup(&fx);
}

/* --file-order: as stored; the default merges by time. */
static void test_dump_file_order(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_readline(&fx, T0 + 300 * MS, fx_task(1, 1, 0, "bash"), "third");
	fx_readline(&fx, T0 + 100 * MS, fx_task(1, 1, 0, "bash"), "first");
	fx_readline(&fx, T0 + 200 * MS, fx_task(1, 1, 0, "bash"), "second");
	fx_close(&fx);
	int segments;
	assert_int_equal(fx_run(&fx, dump_main, "dump", NULL), 0);
	char *got = without_segment_lines(fx.out, &segments);
	const char *a = strstr(got, "first"), *b = strstr(got, "second"),
		   *c = strstr(got, "third");
	assert_true(a && b && c && a < b && b < c);
	free(got);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--file-order", NULL),
			 0);
	got = without_segment_lines(fx.out, &segments);
	a = strstr(got, "first");
	b = strstr(got, "second");
	c = strstr(got, "third");
	assert_true(a && b && c && c < a && a < b);
	free(got);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--bogus", NULL), 2);
	assert_non_null(strstr(fx.err, "unknown option '--bogus'"));
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--help", NULL), 0);
	assert_non_null(strstr(fx.out, "--file-order"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_json_schema),
		cmocka_unit_test(test_dump_text),
		cmocka_unit_test(test_dump_file_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
