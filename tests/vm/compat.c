// SPDX-License-Identifier: MIT
/*
 * compat.c - a 32-bit system call from a 64-bit process, for tests/vm.
 *
 * Calls i386 getpid (number 20) through int $0x80 with rdi = 1.  A
 * recorder that read the number as an x86_64 one would see writev(1, ...)
 * returning the pid, and record a write of pid bytes on descriptor 1; the
 * recorder must skip 32-bit calls instead.  Prints what the call returned
 * ("compat getpid PID" when the kernel has IA32 emulation, or exits 2
 * from the SIGSEGV handler when it has not).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void no_ia32(int sig)
{
	static const char msg[] = "compat unavailable: int $0x80 faulted\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(2);
}

int main(void)
{
	long ret;

	signal(SIGSEGV, no_ia32);
	__asm__ volatile("mov $1, %%rdi\n\tint $0x80"
			 : "=a"(ret)
			 : "a"(20L)
			 : "rdi", "memory");
	printf("compat getpid %ld pid %d\n", ret, (int)getpid());
	return ret == getpid() ? 0 : 1;
}
