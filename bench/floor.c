/*
 * floor: the yardstick for pipescope's scan speed. It does the least any tool must do to
 * name every fd on the machine: list /proc, list each /proc/PID/fd and readlink every
 * entry. With -i it also reads every /proc/PID/fdinfo/N (what a flags/details scan
 * costs). Single-threaded, fixed buffers, no output but a count.
 *
 *   cc -O2 -o floor floor.c && ./floor && ./floor -i
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct dirent64 {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static long fds_seen, bytes_read;

/* Calls fn(dir, name, arg) for each entry of the directory open at dir. */
static void each_entry(int dir, void (*fn)(int, const char *, void *), void *arg)
{
    static __thread char buf[32768];
    long n;
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
        for (long at = 0; at < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + at);
            at += d->reclen;
            if (d->name[0] != '.')
                fn(dir, d->name, arg);
        }
    }
}

static void one_fd(int fd_dir, const char *name, void *arg)
{
    int info_dir = *(int *)arg;
    char target[4096], info[1024];
    ssize_t len = readlinkat(fd_dir, name, target, sizeof target);
    if (len < 0)
        return;
    fds_seen++;
    bytes_read += len;
    if (info_dir >= 0) {
        int f = openat(info_dir, name, O_RDONLY | O_CLOEXEC);
        if (f >= 0) {
            ssize_t got = read(f, info, sizeof info);
            if (got > 0)
                bytes_read += got;
            close(f);
        }
    }
}

static void one_process(int proc, const char *name, void *arg)
{
    int with_info = *(int *)arg;
    char path[64];
    if (name[0] < '0' || name[0] > '9')
        return;
    snprintf(path, sizeof path, "%s/fd", name);
    int fd_dir = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_dir < 0)
        return;
    int info_dir = -1;
    if (with_info) {
        snprintf(path, sizeof path, "%s/fdinfo", name);
        info_dir = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    each_entry(fd_dir, one_fd, &info_dir);
    if (info_dir >= 0)
        close(info_dir);
    close(fd_dir);
}

int main(int argc, char **argv)
{
    int with_info = argc > 1 && strcmp(argv[1], "-i") == 0;
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) {
        perror("/proc");
        return 2;
    }
    /* The /proc listing must not share the buffer the per-process listings use. */
    static char pids[1 << 20];
    long n, total = 0;
    while (total < (long)sizeof pids - 4096 &&
           (n = syscall(SYS_getdents64, proc, pids + total, sizeof pids - total)) > 0)
        total += n;
    for (long at = 0; at < total;) {
        struct dirent64 *d = (struct dirent64 *)(pids + at);
        at += d->reclen;
        one_process(proc, d->name, &with_info);
    }
    printf("%ld fds, %ld bytes\n", fds_seen, bytes_read);
    return 0;
}
