// Nanoseconds per syscall, three kinds, best of three rounds: getppid (no fd: what every
// syscall pays), a 4 KiB read of /dev/zero (an fd that is not a pipe), and a 4 KiB write
// then read through a pipe in one process (two pipe calls, no context switch). For
// bench/probe_overhead.sh: run bare, under the floor and under the probe, the
// differences are the per-call costs.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300000;
	static char buf[4096];
	double best[3] = { 1e18, 1e18, 1e18 };
	int zero = open("/dev/zero", O_RDONLY);
	int p[2];

	if (n <= 0 || zero < 0 || pipe(p)) {
		perror("calls");
		return 1;
	}
	for (int round = 0; round < 3; round++) {
		double t0 = now_ns();
		for (int i = 0; i < n; i++)
			syscall(SYS_getppid);
		double t1 = now_ns();
		for (int i = 0; i < n; i++)
			if (read(zero, buf, sizeof(buf)) != sizeof(buf))
				return 1;
		double t2 = now_ns();
		for (int i = 0; i < n; i++)
			if (write(p[1], buf, sizeof(buf)) != sizeof(buf) ||
			    read(p[0], buf, sizeof(buf)) != sizeof(buf))
				return 1;
		double t3 = now_ns();
		double d[3] = { (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n / 2 };
		for (int k = 0; k < 3; k++)
			if (d[k] < best[k])
				best[k] = d[k];
	}
	printf("%.0f %.0f %.0f\n", best[0], best[1], best[2]);
	return 0;
}
