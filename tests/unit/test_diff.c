/* SPDX-License-Identifier: MIT */
/*
 * test_diff.c - tracetape diff: two tapes of the same service workload,
 * written with the format writer, that differ in known ways; the report
 * must show exactly those differences.  Also: a tape against itself,
 * runs that differ only in pids, times and temporary names (equal after
 * --normalize), every option, losses, trouble, and the normaliser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "strmap.h"
#include "diff_norm.h"
#include "fixture.h"

#define ENOENT_RET (-2)

/* How one run of the workload goes. */
struct run {
	uint32_t pid;	    /* of the service; others derive from it */
	uint64_t t0;	    /* boot ns of its start */
	const char *tmp;    /* suffix of its temporary file */
	const char *port;   /* argv[2] of the service */
	uint64_t db_bytes;  /* written to state.db */
	bool extra_open;    /* also opens /etc/app/extra.conf */
	bool config_gone;   /* /etc/app/main.conf is missing (ENOENT) */
	bool extra_command; /* one more line typed */
	bool proc_path;	    /* opens /proc/PID/status */
	bool helper_conf;   /* the helper child opens /etc/helper.conf */
	bool cron;	    /* cron (another program) opens /etc/crontab */
	uint64_t lost;	    /* events lost (a loss record) */
};

static void service(struct fixture *fx, const struct run *r, uint64_t t)
{
	struct tt_task app = fx_task(r->pid, r->pid, 0, "app");
	struct tt_task helper = fx_task(r->pid + 1, r->pid + 1, 0, "helper");
	char tmp[64], proc[64];
	const char *argv[] = {"/usr/bin/app", "--port", r->port, NULL};
	static const char *const helper_argv[] = {"helper", "--check", NULL};

	fx_exec(fx, t, app, r->pid - 1, 0, "/usr/bin/app", argv);
	fx_open_ino(fx, t + 1 * MS, app, r->config_gone ? ENOENT_RET : 3, 50,
		    false, "/etc/app/main.conf", NULL);
	if (r->extra_open)
		fx_open_ino(fx, t + 2 * MS, app, 4, 51, false,
			    "/etc/app/extra.conf", NULL);
	fx_open_ino(fx, t + 3 * MS, app, 5, 52, false, "state.db",
		    "/var/lib/app");
	fx_rw(fx, t + 4 * MS, app, DEV, 52, S_IFREG | 0600, "state.db", 2, 8192,
	      1, r->db_bytes);
	snprintf(tmp, sizeof(tmp), "/tmp/tmp.%s", r->tmp);
	fx_open_ino(fx, t + 5 * MS, app, 6, 53, true, tmp, NULL);
	fx_rw(fx, t + 6 * MS, app, DEV, 53, S_IFREG | 0600, r->tmp, 0, 0, 1,
	      100);
	fx_unlink(fx, t + 7 * MS, app, 0, TT_SYS_UNLINK, 0, tmp, NULL);
	if (r->proc_path) {
		snprintf(proc, sizeof(proc), "/proc/%u/status", r->pid);
		fx_open_ino(fx, t + 8 * MS, app, 7, 54, false, proc, NULL);
	}
	fx_fork(fx, t + 9 * MS, app, r->pid + 1);
	fx_exec(fx, t + 10 * MS, helper, r->pid, 0, "/usr/bin/helper",
		helper_argv);
	if (r->helper_conf)
		fx_open_ino(fx, t + 11 * MS, helper, 3, 55, false,
			    "/etc/helper.conf", NULL);
	fx_exit(fx, t + 12 * MS, helper, 0);
}

static void write_run(struct fixture *fx, const struct run *r)
{
	struct tt_task bash = fx_task(r->pid - 1, r->pid - 1, 0, "bash");
	static const char *const sctl[] = {"systemctl", "restart", "app", NULL};

	fx_open(fx);
	fx_clock(fx, r->t0, FX_REALTIME_BASE + r->t0, 3600);
	fx_readline(fx, r->t0 + 100 * MS, bash, "systemctl restart app");
	fx_exec(fx, r->t0 + 101 * MS,
		fx_task(r->pid - 2, r->pid - 2, 0, "systemctl"), r->pid - 1, 0,
		"/usr/bin/systemctl", sctl);
	fx_exit(fx, r->t0 + 150 * MS,
		fx_task(r->pid - 2, r->pid - 2, 0, "systemctl"), 0);
	service(fx, r, r->t0 + 200 * MS);
	if (r->cron)
		fx_open_ino(fx, r->t0 + 300 * MS, fx_task(7, 7, 0, "cron"), 3,
			    60, false, "/etc/crontab", NULL);
	if (r->extra_command)
		fx_readline(fx, r->t0 + 400 * MS, bash, "journalctl -u app");
	if (r->lost)
		fx_loss(fx, r->t0 + 500 * MS, 1, r->lost, r->t0);
	fx_exit(fx, r->t0 + 600 * MS, fx_task(r->pid, r->pid, 0, "app"), 0);
	fx_close(fx);
}

static const struct run base = {
	.pid = 4000,
	.t0 = FX_BOOT_BASE,
	.tmp = "a1B2c3",
	.port = "8080",
	.db_bytes = 4096,
};

/* Tapes A and B in one fixture directory pair. */
struct pair {
	struct fixture a, b;
	char tape_b[192];
};

static void write_pair(struct pair *p, const struct run *ra,
		       const struct run *rb)
{
	write_run(&p->a, ra);
	write_run(&p->b, rb);
	snprintf(p->tape_b, sizeof(p->tape_b), "%s", fx_tape(&p->b));
}

static void stable_paths(struct pair *p);

/* Run diff A B [args...]; output in p->a.out and p->a.err. */
static int run_diff(struct pair *p, ...)
{
	struct fixture *fx = &p->a;
	char *argv[40], tape_a[192];
	int argc = 0, rc;
	const char *s;
	va_list ap;

	snprintf(tape_a, sizeof(tape_a), "%s", fx_tape(fx));
	argv[argc++] = "diff";
	argv[argc++] = tape_a;
	argv[argc++] = p->tape_b;
	va_start(ap, p);
	while ((s = va_arg(ap, const char *)) != NULL && argc < 39)
		argv[argc++] = (char *)s;
	va_end(ap);
	argv[argc] = NULL;
	free(fx->out);
	free(fx->err);
	FILE *out = open_memstream(&fx->out, &fx->out_len);
	FILE *err = open_memstream(&fx->err, &fx->err_len);
	struct replay_env env = {.out = out, .err = err, .prog = "tracetape"};
	rc = diff_main(argc, argv, &env);
	fclose(out);
	fclose(err);
	stable_paths(p);
	return rc;
}

/* OUT with every occurrence of FROM replaced by TO (in place). */
static void replace_all(char *out, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to);
	char *hit;

	assert_true(nt <= nf);
	while ((hit = strstr(out, from)) != NULL) {
		memcpy(hit, to, nt);
		memmove(hit + nt, hit + nf, strlen(hit + nf) + 1);
	}
}

/* The tapes live in random temp dirs: name them A.tape and B.tape. */
static void stable_paths(struct pair *p)
{
	char a[192];

	snprintf(a, sizeof(a), "%s", fx_tape(&p->a));
	replace_all(p->a.out, a, "A.tape");
	replace_all(p->a.out, p->tape_b, "B.tape");
}

static void free_pair(struct pair *p)
{
	fx_cleanup(&p->a);
	fx_cleanup(&p->b);
}

/* The workload B of the issue: five known changes from A. */
static struct run changed_run(void)
{
	struct run r = base;

	r.pid = 5000;			      /* pids and times differ ... */
	r.t0 = FX_BOOT_BASE + 86400 * FX_SEC; /* ... by a day */
	r.extra_open = true;		      /* one more file opened */
	r.config_gone = true;		      /* a config file now missing */
	r.db_bytes = 6144;		      /* a different byte count */
	r.port = "9090";		      /* a different exec argument */
	r.extra_command = true;		      /* one more typed command */
	return r;
}

static void test_known_differences(void **state)
{
	struct pair p;
	struct run b = changed_run();
	(void)state;
	write_pair(&p, &base, &b);
	assert_int_equal(run_diff(&p, NULL), 1);
	assert_string_equal(p.a.err, "");
	assert_true(golden_match("diff_known.txt", p.a.out));
	/* exactly: opens 3, files 1, life 0, exec 2, commands 1 */
	assert_non_null(strstr(p.a.out, "7 differences: opens 3, files 1, "
					"life 0, exec 2, commands 1\n"));
	assert_int_equal(run_diff(&p, "--json", NULL), 1);
	assert_true(golden_match("diff_known.json", p.a.out));
	free_pair(&p);
}

static void test_same_tape_no_difference(void **state)
{
	struct fixture fx;
	struct run r = base;
	(void)state;
	r.proc_path = r.helper_conf = r.cron = true;
	write_run(&fx, &r);
	assert_int_equal(fx_run(&fx, diff_main, "diff", fx_tape(&fx), NULL), 0);
	assert_string_equal(fx.err, "");
	{
		char a[192];

		snprintf(a, sizeof(a), "%s", fx_tape(&fx));
		replace_all(fx.out, a, "A.tape");
	}
	assert_true(golden_match("diff_same.txt", fx.out));
	fx_cleanup(&fx);
}

/* Same workload, other pids, times and temp names. */
static void test_normalize(void **state)
{
	struct pair p;
	struct run a = base, b = base;
	(void)state;
	a.proc_path = b.proc_path = true;
	b.pid = 31337;
	b.t0 = FX_BOOT_BASE + 3600 * FX_SEC;
	b.tmp = "Zq9xY7";
	write_pair(&p, &a, &b);
	assert_int_equal(run_diff(&p, NULL), 1);
	assert_true(golden_match("diff_volatile.txt", p.a.out));
	assert_int_equal(run_diff(&p, "--normalize", NULL), 0);
	assert_true(golden_match("diff_normalized.txt", p.a.out));
	free_pair(&p);
}

static void test_scope_and_sections(void **state)
{
	struct pair p;
	struct run a = base, b = changed_run();
	(void)state;
	a.cron = true;	      /* cron differs: outside -n app */
	b.helper_conf = true; /* the child differs: inside --tree only */
	write_pair(&p, &a, &b);
	assert_int_equal(run_diff(&p, "-n", "app", "--by", "opens", NULL), 1);
	assert_true(golden_match("diff_name_opens.txt", p.a.out));
	assert_int_equal(run_diff(&p, "--name", "app", "--tree", "--by",
				  "opens,files", NULL),
			 1);
	assert_true(golden_match("diff_tree.txt", p.a.out));
	/* a 2048-byte change is below --min-bytes 4096; count changes of 1
	 * are below --min-count 2: nothing left */
	assert_int_equal(
		run_diff(&p, "--min-count", "2", "--min-bytes", "4096", NULL),
		0);
	assert_true(golden_match("diff_thresholds.txt", p.a.out));
	assert_int_equal(run_diff(&p, "--by", "commands,exec", NULL), 1);
	assert_true(golden_match("diff_by_exec_commands.txt", p.a.out));
	free_pair(&p);
}

static void test_loss_warning_and_utc(void **state)
{
	struct pair p;
	struct run b = base;
	(void)state;
	b.lost = 120;
	write_pair(&p, &base, &b);
	assert_int_equal(run_diff(&p, "--utc", NULL), 0);
	assert_true(golden_match("diff_loss.txt", p.a.out));
	assert_int_equal(run_diff(&p, "--json", "--utc", NULL), 0);
	assert_true(golden_match("diff_loss.json", p.a.out));
	free_pair(&p);
}

/* B's only chunk is damaged: the report says so before anything else. */
static void test_damage_warning(void **state)
{
	struct pair p;
	const char *warn = "warning: B is damaged: 1 unreadable part in the "
			   "compared window";
	(void)state;
	write_pair(&p, &base, &base);
	fx_damage(&p.b, 0.5);
	assert_int_equal(run_diff(&p, NULL), 1);
	assert_non_null(strstr(p.a.out, warn));
	/* the warning comes before the first section */
	assert_true(strstr(p.a.out, warn) < strstr(p.a.out, "opens:"));
	assert_int_equal(run_diff(&p, "--json", NULL), 1);
	assert_non_null(
		strstr(p.a.out, "\"warning\":\"damage\",\"side\":\"B\""));
	free_pair(&p);
}

static void test_window(void **state)
{
	struct pair p;
	struct run b = changed_run();
	(void)state;
	/* windows count from each tape's first record: keep B's start
	 * below the writer's own segment record (stamped with the real
	 * boot clock), as on a real tape */
	b.t0 = FX_BOOT_BASE + FX_SEC / 2;
	write_pair(&p, &base, &b);
	/* only the first 150 ms of each: the typed line and systemctl */
	assert_int_equal(run_diff(&p, "--until", "+150ms", NULL), 0);
	assert_true(golden_match("diff_window.txt", p.a.out));
	/* from 399 ms on: only the extra typed line differs */
	assert_int_equal(run_diff(&p, "--since", "+399ms", NULL), 1);
	assert_non_null(strstr(p.a.out, "\n1 difference: opens 0, files 0, "
					"life 0, exec 0, commands 1\n"));
	assert_non_null(strstr(p.a.out, "+       0 -> 1        (+1)      "
					"journalctl -u app\n"));
	free_pair(&p);
}

static void test_trouble(void **state)
{
	struct fixture fx;
	(void)state;
	write_run(&fx, &base);
	assert_int_equal(fx_run(&fx, diff_main, "diff", NULL), 2);
	assert_non_null(strstr(fx.err, "expected two tapes"));
	assert_int_equal(fx_run(&fx, diff_main, "diff", "/nonexistent/b", NULL),
			 2);
	assert_non_null(strstr(fx.err, "/nonexistent/b"));
	assert_int_equal(fx_run(&fx, diff_main, "diff", fx_tape(&fx), "--by",
				"opens,bogus", NULL),
			 2);
	assert_non_null(strstr(fx.err, "--by 'opens,bogus'"));
	assert_int_equal(
		fx_run(&fx, diff_main, "diff", fx_tape(&fx), "--tree", NULL),
		2);
	assert_non_null(strstr(fx.err, "--tree needs -n NAME"));
	assert_int_equal(fx_run(&fx, diff_main, "diff", fx_tape(&fx),
				"--min-count", "x", NULL),
			 2);
	assert_int_equal(
		fx_run(&fx, diff_main, "diff", fx_tape(&fx), "--bogus", NULL),
		2);
	assert_non_null(strstr(fx.err, "diff: unknown option '--bogus'"));
	assert_int_equal(fx_run(&fx, diff_main, "diff", "--help", NULL), 0);
	assert_non_null(strstr(fx.out, "usage: tracetape diff A B"));
	fx_cleanup(&fx);
}

static void check_norm(const char *in, const char *want)
{
	char out[256];
	size_t n = diff_normalize(in, strlen(in), out, sizeof(out));

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_normalizer_rules(void **state)
{
	char small[8];
	(void)state;
	check_norm("/tmp/tmp.Xa9bQz/out-1234.log", "/tmp/tmp.*/out-#.log");
	check_norm("/proc/4711/status", "/proc/#/status");
	check_norm("/tmp/tmpk2j3l_x8.json", "/tmp/tmp*.json");
	check_norm("/var/tmp/.tmpQWEQWE", "/var/tmp/.tmp*");
	check_norm("/tmp/ccAbCdEf.s", "/tmp/*.s");
	check_norm("/run/user/1000/550e8400-e29b-41d4-a716-446655440000.lock",
		   "/run/user/#/*.lock");
	/* names that must survive */
	check_norm("Makefile CMakeLists.txt README", "Makefile CMakeLists.txt "
						     "README");
	check_norm("cat tmp.txt", "cat tmp.txt");
	check_norm("/etc/app/main.conf", "/etc/app/main.conf");
	check_norm("", "");
	/* truncation still terminates and reports the full length */
	assert_int_equal(
		diff_normalize("/proc/1/x/y/z", 13, small, sizeof(small)), 13);
	assert_string_equal(small, "/proc/#");
}

static void check_join(const char *args, size_t len, const char *want)
{
	char out[128];

	assert_int_equal(replay_argv_shell_join(args, len, out, sizeof(out)),
			 strlen(want));
	assert_string_equal(out, want);
}

/* LIT holds NUL-separated strings; its own final NUL is not counted. */
#define CHECK_JOIN(lit, want) check_join(lit, sizeof(lit) - 1, want)

/* Exec keys keep "a b" apart from "a" "b" and read back in a shell. */
static void test_argv_join(void **state)
{
	char small[6];
	(void)state;
	CHECK_JOIN("echo\0a b\0", "echo 'a b'");
	CHECK_JOIN("echo\0a\0b\0", "echo a b");
	CHECK_JOIN("echo\0it's\0", "echo \"it's\"");
	CHECK_JOIN("sh\0-c\0echo '$x'\0", "sh -c 'echo '\\''$x'\\'''");
	CHECK_JOIN("x\0\0", "x ''");
	CHECK_JOIN("cut\0no-nul", "cut");
	CHECK_JOIN("", "");
	assert_int_equal(
		replay_argv_shell_join("abcdefgh", 9, small, sizeof(small)), 5);
	assert_string_equal(small, "abcde");
}

/*
 * The map under churn: insert, remove and re-insert keys in a pseudo-
 * random order and check every key against a plain array after each
 * round (removal shifts probe runs back, the subtle part).
 */
static void test_strmap_churn(void **state)
{
	enum { N = 5000 };
	static bool present[N];
	struct strmap *m = strmap_new(sizeof(uint64_t));
	uint64_t x = 12345;
	size_t count = 0;
	(void)state;
	assert_non_null(m);
	memset(present, 0, sizeof(present));
	for (int round = 0; round < 20; round++) {
		for (int k = 0; k < N; k++) {
			char key[32];
			int i, len;
			bool created;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			i = (int)((x >> 33) % N);
			len = snprintf(key, sizeof(key), "key-%d", i);
			if (present[i] && (x & 1)) {
				assert_true(strmap_remove(m, key, (size_t)len));
				present[i] = false;
				count--;
			} else if (!present[i]) {
				uint64_t *v = strmap_get(m, key, (size_t)len,
							 &created);
				assert_non_null(v);
				assert_true(created);
				assert_int_equal(*v, 0);
				*v = (uint64_t)i;
				present[i] = true;
				count++;
			}
		}
		assert_int_equal(strmap_count(m), count);
		for (int i = 0; i < N; i++) {
			char key[32];
			int len = snprintf(key, sizeof(key), "key-%d", i);
			uint64_t *v = strmap_find(m, key, (size_t)len);

			if (present[i]) {
				assert_non_null(v);
				assert_int_equal(*v, (uint64_t)i);
			} else {
				assert_null(v);
				assert_false(
					strmap_remove(m, key, (size_t)len));
			}
		}
	}
	struct strmap_entry *e = strmap_entries(m);
	size_t seen = 0;
	for (size_t i = 0; e && i < count; i++) {
		int k = atoi(e[i].key + 4);
		assert_true(present[k]);
		assert_int_equal(*(uint64_t *)e[i].value, (uint64_t)k);
		assert_int_equal(e[i].key[e[i].len], '\0');
		seen++;
	}
	assert_int_equal(seen, count);
	free(e);
	/* binary keys with NUL bytes inside are distinct by length */
	assert_non_null(strmap_get(m, "a\0b", 3, NULL));
	assert_null(strmap_find(m, "a\0b\0", 4));
	assert_null(strmap_find(m, "a", 1));
	strmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_differences),
		cmocka_unit_test(test_same_tape_no_difference),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_scope_and_sections),
		cmocka_unit_test(test_loss_warning_and_utc),
		cmocka_unit_test(test_damage_warning),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_trouble),
		cmocka_unit_test(test_normalizer_rules),
		cmocka_unit_test(test_strmap_churn),
		cmocka_unit_test(test_argv_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
