#!/usr/bin/env python3
"""farm: a crowd of idle processes wired together by pipes, with a written ground truth.

Used by pipescope's integration tests and by bench/compare.sh.

Each pipeline is a chain of --stages processes, stage i's stdout feeding stage
i+1's stdin through an anonymous pipe (like `a | b | c`). Every process also
opens --extra descriptors cycling through: a read-only file, /dev/null for
writing, a socketpair (both ends), an eventfd, a private pipe (both ends) and
a read-write file of its own. With --leak K, each of the first K pipelines gets
a bystander process holding a copy of the pipeline's first write end on fd 7,
which keeps that pipe's reader from ever seeing end-of-file.

Once every process is ready, the manifest (JSON) is written atomically:
  farm_pid       this script's pid
  processes      [{pid, role ("stage"|"bystander"), pipeline, stage,
                   fds: {"FD": readlink target}, modes: {"FD": "r"|"w"|"rw"}}]
  pipes          [{inode, readers: [[pid, fd]...], writers: [[pid, fd]...]}]
                 (every pipe any farm process holds, chains and private ones)
  chain_pipes    [{pipeline, inode}]  the pipes joining stages, in order
  leaky_inodes   [inode]  the chain pipes a bystander holds a write end of
  total_fds      how many fds the farm processes hold in all

The farm then idles until SIGTERM/SIGINT or --timeout, ends every process it
started and removes its files. Farm processes die with the farm.
"""

import argparse
import ctypes
import json
import os
import signal
import socket
import sys
import tempfile
import time

MODES = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}


def die_with_parent():
    """Ask the kernel to SIGKILL us when the farm goes (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def own_fds():
    return sorted(int(n) for n in os.listdir("/proc/self/fd"))


def mode_of(fd):
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("flags:"):
                return MODES.get(int(line.split()[1], 8) & 3, "?")
    return "?"


class Extras:
    """Opens descriptors of mixed kinds, in a fixed rotation."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.plain = "/etc/hostname" if os.path.exists("/etc/hostname") else "/etc/passwd"

    def open(self, count):
        opened = 0
        turn = 0
        while opened < count:
            kind = turn % 6
            turn += 1
            if kind == 0:
                os.open(self.plain, os.O_RDONLY)
                opened += 1
            elif kind == 1:
                os.open(os.devnull, os.O_WRONLY)
                opened += 1
            elif kind == 2:
                a, b = socket.socketpair()
                a.detach()
                b.detach()
                opened += 2
            elif kind == 3:
                os.eventfd(0)
                opened += 1
            elif kind == 4:
                os.pipe()
                opened += 2
            else:
                path = os.path.join(self.workdir, f"data.{os.getpid()}.{turn}")
                os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                opened += 1


def become_member(report_dir, ready_w, stdin_fd, stdout_fd, held, extra, extras, label):
    """Runs in a forked child: wire stdio, drop every other farm fd, open extras,
    write a report, tell the farm, then idle until killed. Never returns."""
    try:
        die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(stdin_fd if stdin_fd is not None else null, 0)
        os.dup2(stdout_fd if stdout_fd is not None else null, 1)
        os.dup2(null, 2)
        keep = {0, 1, 2, ready_w}
        for src, dst in held:
            os.dup2(src, dst)
            keep.add(dst)
        for fd in own_fds():
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        extras.open(extra)
        fds, modes = {}, {}
        for fd in own_fds():
            if fd == ready_w:
                continue
            try:
                fds[str(fd)] = os.readlink(f"/proc/self/fd/{fd}")
                modes[str(fd)] = mode_of(fd)
            except OSError:
                pass
        report = dict(label, pid=os.getpid(), fds=fds, modes=modes)
        path = os.path.join(report_dir, f"report.{os.getpid()}")
        with open(path + ".tmp", "w") as f:
            json.dump(report, f)
        os.rename(path + ".tmp", path)
        os.close(ready_w)
        while True:
            signal.pause()
    except BaseException:
        os._exit(1)
    os._exit(0)


class Farm:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="pipescope-farm.")
        self.children = []
        self.chain_pipes = []
        self.leaky = []

    def spawn(self, ready_w, stdin_fd, stdout_fd, held, extra, label):
        pid = os.fork()
        if pid == 0:
            become_member(self.workdir, ready_w, stdin_fd, stdout_fd, held, extra,
                          Extras(self.workdir), label)
        self.children.append(pid)

    def start(self):
        a = self.args
        ready_r, ready_w = os.pipe()
        for line in range(a.pipelines):
            links = [os.pipe() for _ in range(max(a.stages - 1, 0))]
            for stage in range(a.stages):
                into = links[stage - 1][0] if stage > 0 else None
                out = links[stage][1] if stage < len(links) else None
                self.spawn(ready_w, into, out, [], a.extra,
                           {"role": "stage", "pipeline": line, "stage": stage})
            if line < a.leak and links:
                self.spawn(ready_w, None, None, [(links[0][1], 7)], 0,
                           {"role": "bystander", "pipeline": line, "stage": None})
                self.leaky.append(os.fstat(links[0][0]).st_ino)
            for r, w in links:
                self.chain_pipes.append({"pipeline": line, "inode": os.fstat(r).st_ino})
                os.close(r)
                os.close(w)
        os.close(ready_w)
        # EOF once every member has reported and closed its copy.
        with os.fdopen(ready_r, "rb") as f:
            f.read()

    def manifest(self):
        processes = []
        for pid in self.children:
            path = os.path.join(self.workdir, f"report.{pid}")
            try:
                with open(path) as f:
                    processes.append(json.load(f))
            except OSError:
                raise SystemExit(f"farm: member {pid} did not report")
        ends = {}
        for p in processes:
            for fd, target in p["fds"].items():
                if target.startswith("pipe:[") and target.endswith("]"):
                    ino = int(target[6:-1])
                    pipe = ends.setdefault(ino, {"inode": ino, "readers": [], "writers": []})
                    side = "writers" if p["modes"][fd] == "w" else "readers"
                    pipe[side].append([p["pid"], int(fd)])
        return {
            "farm_pid": os.getpid(),
            "processes": processes,
            "pipes": [ends[i] for i in sorted(ends)],
            "chain_pipes": self.chain_pipes,
            "leaky_inodes": self.leaky,
            "total_fds": sum(len(p["fds"]) for p in processes),
        }

    def stop(self, *_):
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in self.children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        for name in os.listdir(self.workdir):
            os.unlink(os.path.join(self.workdir, name))
        os.rmdir(self.workdir)
        os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipelines", type=int, default=20, help="how many chains (20)")
    ap.add_argument("--stages", type=int, default=4, help="processes per chain (4)")
    ap.add_argument("--extra", type=int, default=10, help="extra fds per process (10)")
    ap.add_argument("--leak", type=int, default=0,
                    help="give the first K chains a bystander holding a stray write end")
    ap.add_argument("--manifest", required=True, help="where to write the ground truth")
    ap.add_argument("--timeout", type=float, default=900,
                    help="end the farm after this many seconds (900)")
    a = ap.parse_args()
    if a.pipelines < 0 or a.stages < 1 or a.extra < 0 or a.leak < 0:
        ap.error("counts must not be negative, and --stages at least 1")
    farm = Farm(a)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(sig, farm.stop)
    signal.alarm(max(1, int(a.timeout)))
    started = time.monotonic()
    farm.start()
    m = farm.manifest()
    with open(a.manifest + ".tmp", "w") as f:
        json.dump(m, f)
    os.rename(a.manifest + ".tmp", a.manifest)
    print(f"farm: {len(m['processes'])} processes, {m['total_fds']} fds, "
          f"{len(m['pipes'])} pipes in {time.monotonic() - started:.1f}s; "
          f"manifest {a.manifest}", file=sys.stderr, flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
