/* SPDX-License-Identifier: MIT */
/* words.c - processes in words: argv lines, exit statuses, errnos. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"

/* Characters that never need quoting. */
static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_@%+=:,./-",
			    *s))
			return false;
	return true;
}

/* An output line that keeps room for its NUL. */
struct line {
	char *buf;
	size_t size, len;
};

static void put(struct line *l, char c)
{
	if (l->len + 1 < l->size)
		l->buf[l->len++] = c;
}

static void append_word(struct line *l, const char *s)
{
	bool quote = !shell_safe(s);
	bool dq = quote && strchr(s, '\'') && !strpbrk(s, "\"$`\\!");
	char q = dq ? '"' : '\'';

	if (l->len)
		put(l, ' ');
	if (quote)
		put(l, q);
	for (; *s; s++) {
		if (quote && !dq && *s == '\'') {
			put(l, '\'');
			put(l, '\\');
			put(l, '\'');
		}
		put(l, *s);
	}
	if (quote)
		put(l, q);
}

size_t replay_argv_shell_join(const char *args, size_t len, char *out,
			      size_t size)
{
	struct line l = {out, size, 0};
	size_t pos = 0;
	const char *a;

	if (!size)
		return 0;
	while (args && (a = replay_next_string(args, len, &pos)) != NULL)
		append_word(&l, a);
	out[l.len] = '\0';
	return l.len;
}

void replay_wait_status_text(int status, char *out, size_t size)
{
	int sig = status & 0x7f;
	const char *name = sig ? sigabbrev_np(sig) : NULL;
	const char *core = (status & 0x80) ? " (core dumped)" : "";

	if (!sig)
		snprintf(out, size, "exit %d", (status >> 8) & 0xff);
	else if (name)
		snprintf(out, size, "killed by SIG%s%s", name, core);
	else
		snprintf(out, size, "killed by signal %d%s", sig, core);
}

const char *replay_errno_name(long long ret, char *buf, size_t size)
{
	const char *name = strerrorname_np((int)-ret);

	if (name)
		return name;
	snprintf(buf, size, "error %lld", -ret);
	return buf;
}
