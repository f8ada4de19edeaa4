#!/bin/bash
# Compile a small C project with make -j2: many opens of headers, execs of
# cc1/as/ld, temporary files created and deleted by the compiler driver.
set -euo pipefail
src=$(mktemp -d /tmp/tt-sample-proj.XXXXXX)
cat > "$src/util.h" <<'H'
#include <stdio.h>
#include <string.h>
int count_words(const char *s);
H
cat > "$src/util.c" <<'C'
#include "util.h"
int count_words(const char *s)
{
	int n = 0, in = 0;
	for (; *s; s++) {
		if (*s == ' ') in = 0;
		else if (!in) { in = 1; n++; }
	}
	return n;
}
C
cat > "$src/main.c" <<'C'
#include "util.h"
#include <stdlib.h>
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("%s: %d words\n", argv[i], count_words(argv[i]));
	return argc > 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}
C
printf 'words: main.o util.o\n\t$(CC) -o $@ $^\n%%.o: %%.c util.h\n\t$(CC) -O2 -Wall -c $<\n' > "$src/Makefile"
make -s -C "$src" -j2
"$src/words" "hello tape world"
rm -rf "$src"
