// pipes_floor: the least work that answers "which pipes exist, who reads, who writes" on
// Linux, for the `pipes` benchmark. It lists /proc and every /proc/PID/fd, readlinks each
// fd, and then does only what the pipes question needs on top:
//   pipe:[N]   one lstat of the fd link (its permission bits give read/write),
//   socket:[N] one read of /proc/PID/fdinfo/N (for `scm_fds:`, descriptors in flight),
//   a path     one statx through the link (is it a FIFO? which inode?), and for a FIFO
//              an lstat of the link for its mode.
// With -r it does the readlinks only (the readlink floor). It prints what it counted.
// Build: cc -O2 -o pipes_floor pipes_floor.c
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct dent64 {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

int main(int argc, char **argv) {
    int readlink_only = argc > 1 && strcmp(argv[1], "-r") == 0;
    static char pbuf[65536], fbuf[65536];
    char target[4096], path[64], info[1024];
    long fds = 0, pipes = 0, fifos = 0, sockets = 0, in_flight = 0;
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return 1;
    for (;;) {
        long n = syscall(SYS_getdents64, proc, pbuf, sizeof pbuf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            struct dent64 *d = (struct dent64 *)(pbuf + off);
            off += d->reclen;
            if (d->name[0] < '1' || d->name[0] > '9') continue;
            snprintf(path, sizeof path, "%s/fd", d->name);
            int fd_dir = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd_dir < 0) continue;
            int info_dir = -1;
            for (;;) {
                long m = syscall(SYS_getdents64, fd_dir, fbuf, sizeof fbuf);
                if (m <= 0) break;
                for (long o = 0; o < m;) {
                    struct dent64 *e = (struct dent64 *)(fbuf + o);
                    o += e->reclen;
                    if (e->name[0] == '.') continue;
                    ssize_t len = readlinkat(fd_dir, e->name, target, sizeof target - 1);
                    if (len < 0) continue;
                    target[len] = 0;
                    fds++;
                    if (readlink_only) continue;
                    struct stat st;
                    if (strncmp(target, "pipe:[", 6) == 0) {
                        if (fstatat(fd_dir, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0) pipes++;
                    } else if (strncmp(target, "socket:[", 8) == 0) {
                        if (info_dir < 0) {
                            snprintf(path, sizeof path, "%s/fdinfo", d->name);
                            info_dir = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        }
                        int f = info_dir < 0 ? -1 : openat(info_dir, e->name, O_RDONLY | O_CLOEXEC);
                        if (f >= 0) {
                            ssize_t r = read(f, info, sizeof info - 1);
                            close(f);
                            sockets++;
                            if (r > 0) {
                                info[r] = 0;
                                char *s = strstr(info, "scm_fds:");
                                if (s && s[8] && strtol(s + 8, NULL, 10) > 0) in_flight++;
                            }
                        }
                    } else if (target[0] == '/') {
                        struct statx sx;
                        if (statx(fd_dir, e->name, AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &sx) == 0
                            && S_ISFIFO(sx.stx_mode)) {
                            fstatat(fd_dir, e->name, &st, AT_SYMLINK_NOFOLLOW);
                            fifos++;
                        }
                    }
                }
            }
            if (info_dir >= 0) close(info_dir);
            close(fd_dir);
        }
    }
    printf("%ld fds, %ld pipe ends, %ld fifo ends, %ld sockets (%ld with fds in flight)\n",
           fds, pipes, fifos, sockets, in_flight);
    return 0;
}
