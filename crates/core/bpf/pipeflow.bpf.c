// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// pipescope's kernel-side probe of pipe I/O (see src/sys/linux/flow.rs for the loader).
//
// Attached to the raw tracepoints raw_syscalls:sys_enter / sys_exit (by name: no tracefs,
// no kprobes, no fentry needed) and, for the time a call sleeps, sched:sched_switch.
// At entry to a syscall that moves pipe data, the fd is resolved in the kernel to its
// struct file and inode (CO-RE reads of current->files->fdt->fd[fd], relocated against the
// running kernel's BTF by the loader); calls on anything but a pipe or FIFO are dropped
// there. At exit, the bytes the call returned are added to the counters of its end
// (process, fd, pipe). Nothing is sent to user space per event: pipescope reads the ENDS
// map each interval.
//
// Regenerate the committed object with scripts/build-bpf (clang -target bpf); it is
// licensed MIT OR GPL-2.0 so that the kernel allows the GPL-only helpers it calls
// (bpf_probe_read_kernel).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef __x86_64__
#error "the probe reads x86-64 syscall registers; build it with -D__x86_64__ for that target"
#endif

// Only the fields the probe reads: CO-RE relocates each access to the running kernel's
// layout (preserve_access_index), so these need not match any header.
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long r10;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	struct files_struct *files;
} __attribute__((preserve_access_index));

struct super_block {
	__u32 s_dev;
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	unsigned int f_mode;
	struct inode *f_inode;
} __attribute__((preserve_access_index));

#define S_IFMT 0170000
#define S_IFIFO 0010000
#define PIPEFS_MAGIC 0x50495045
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

// x86-64 syscall numbers of the calls that move pipe data.
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_splice 275
#define NR_tee 276
#define NR_vmsplice 278
#define NR_preadv2 327
#define NR_pwritev2 328

#define DIR_READ 0
#define DIR_WRITE 1

// One end of a pipe: a process's fd on it. Mirrors `EndKey` in flow.rs.
struct end_key {
	__u32 tgid;
	__u32 fd;
	__u64 ino;
	__u32 dev;
	__u32 fifo;
};

// What went through one end. Mirrors `EndCounters` in flow.rs.
struct end_val {
	__u64 bytes[2];		// [DIR_READ], [DIR_WRITE]
	__u64 calls[2];
	__u64 call_ns[2];	// time inside the calls
	__u64 wait_ns[2];	// time the calls slept (switched out, not preempted)
	__u64 last_ns;		// bpf_ktime_get_ns() of the last call's end
	char comm[16];		// the thread that made the first call
};

// A pipe syscall in progress on one thread.
struct inflight {
	__u64 start_ns;
	__u64 off_ns;		// when it was switched out to sleep, 0 while on CPU
	__u64 wait_ns;		// sleep so far
	struct end_key end[2];
	__u8 dir[2];
	__u8 n;			// ends in use (0..2)
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct end_key);
	__type(value, struct end_val);
} ENDS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct inflight);
} INFLIGHT SEC(".maps");

// [0]: calls on pipes not counted because a map was full.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} DROPPED SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&DROPPED, &zero);
	if (d)
		__sync_fetch_and_add(d, 1);
}

// The pipefs super block, once seen: telling an anonymous pipe from a FIFO is then one
// comparison instead of two reads.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} PIPEFS SEC(".maps");

// Resolves `fd` of the current process to a pipe end; returns 0 when it is not a pipe.
// `task` is BTF-typed (bpf_get_current_task_btf): the walk to the fd array is made of
// direct loads, cheaper than helper calls; the rest is read with bpf_probe_read_kernel.
static __always_inline int pipe_end(struct task_struct *task, __u32 tgid, long fd,
				    struct end_key *key, unsigned int *f_mode, int want_mode)
{
	struct files_struct *files;
	struct fdtable *fdt;
	struct file **fds;
	struct file *file;
	struct inode *inode;
	struct super_block *sb;
	unsigned short mode;
	unsigned long magic;
	__u32 zero = 0;
	__u64 *pipefs;

	if (fd < 0)
		return 0;
	files = task->files;
	if (!files)
		return 0;
	fdt = files->fdt;
	if (!fdt)
		return 0;
	if (fd >= fdt->max_fds)
		return 0;
	fds = fdt->fd;
	if (!fds)
		return 0;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	if (bpf_probe_read_kernel(&inode, sizeof(inode), &file->f_inode) || !inode)
		return 0;
	if (bpf_probe_read_kernel(&mode, sizeof(mode), &inode->i_mode))
		return 0;
	if ((mode & S_IFMT) != S_IFIFO)
		return 0;
	if (bpf_probe_read_kernel(&key->ino, sizeof(key->ino), &inode->i_ino))
		return 0;
	if (want_mode && bpf_probe_read_kernel(f_mode, sizeof(*f_mode), &file->f_mode))
		return 0;
	if (bpf_probe_read_kernel(&sb, sizeof(sb), &inode->i_sb) || !sb)
		return 0;
	pipefs = bpf_map_lookup_elem(&PIPEFS, &zero);
	if (!pipefs)
		return 0;
	if (*pipefs != (__u64)sb) {
		if (bpf_probe_read_kernel(&magic, sizeof(magic), &sb->s_magic))
			return 0;
		if (magic == PIPEFS_MAGIC)
			*pipefs = (__u64)sb;
	}
	if (*pipefs == (__u64)sb) {
		key->dev = 0;
		key->fifo = 0;
	} else {
		if (bpf_probe_read_kernel(&key->dev, sizeof(key->dev), &sb->s_dev))
			return 0;
		key->fifo = 1;
	}
	key->tgid = tgid;
	key->fd = (__u32)fd;
	return 1;
}

static __always_inline void add_end(struct inflight *call, struct task_struct *task,
				    __u32 tgid, long fd, int dir)
{
	unsigned int f_mode = 0;
	__u8 i = call->n;

	if (i >= 2)
		return;
	if (!pipe_end(task, tgid, fd, &call->end[i & 1], &f_mode, dir < 0))
		return;
	if (dir < 0)		// vmsplice: the end's mode says which way
		dir = (f_mode & FMODE_WRITE) ? DIR_WRITE : DIR_READ;
	call->dir[i & 1] = dir;
	call->n = i + 1;
}

SEC("raw_tracepoint/sys_enter")
int pipeflow_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long fd0, fd1;

	switch (id) {
	case NR_read:
	case NR_readv:
	case NR_preadv2:
	case NR_write:
	case NR_writev:
	case NR_pwritev2:
	case NR_vmsplice:
		fd1 = -1;
		break;
	case NR_splice:		// splice(fd_in, off_in, fd_out, ...)
		if (bpf_probe_read_kernel(&fd1, sizeof(fd1), &regs->dx))
			return 0;
		break;
	case NR_tee:		// tee(fd_in, fd_out, ...)
	case NR_sendfile:	// sendfile(out_fd, in_fd, ...)
		if (bpf_probe_read_kernel(&fd1, sizeof(fd1), &regs->si))
			return 0;
		break;
	default:
		return 0;
	}
	if (bpf_probe_read_kernel(&fd0, sizeof(fd0), &regs->di))
		return 0;
	fd0 = (int)fd0;
	fd1 = (int)fd1;

	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	__u32 tid = (__u32)pid_tgid;
	struct inflight call = {};

	switch (id) {
	case NR_read:
	case NR_readv:
	case NR_preadv2:
		add_end(&call, task, tgid, fd0, DIR_READ);
		break;
	case NR_write:
	case NR_writev:
	case NR_pwritev2:
		add_end(&call, task, tgid, fd0, DIR_WRITE);
		break;
	case NR_vmsplice:
		add_end(&call, task, tgid, fd0, -1);
		break;
	case NR_splice:
		add_end(&call, task, tgid, fd0, DIR_READ);
		add_end(&call, task, tgid, fd1, DIR_WRITE);
		break;
	case NR_tee:
		// tee copies without consuming: only the pipe it fills is counted.
		add_end(&call, task, tgid, fd1, DIR_WRITE);
		break;
	case NR_sendfile:
		add_end(&call, task, tgid, fd0, DIR_WRITE);
		add_end(&call, task, tgid, fd1, DIR_READ);
		break;
	}
	if (!call.n)
		return 0;
	call.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&INFLIGHT, &tid, &call, BPF_ANY))
		count_drop();
	return 0;
}

static __always_inline void account(struct inflight *call, int i, long ret, __u64 now)
{
	struct end_key *key = &call->end[i & 1];
	int dir = call->dir[i & 1] & 1;
	struct end_val *val = bpf_map_lookup_elem(&ENDS, key);

	if (!val) {
		struct end_val fresh = {};
		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		// BPF_NOEXIST: another thread of the process may have created it meanwhile.
		bpf_map_update_elem(&ENDS, key, &fresh, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&ENDS, key);
		if (!val) {
			count_drop();
			return;
		}
	}
	if (ret > 0)
		__sync_fetch_and_add(&val->bytes[dir], ret);
	__sync_fetch_and_add(&val->calls[dir], 1);
	__sync_fetch_and_add(&val->call_ns[dir], now - call->start_ns);
	if (call->wait_ns)
		__sync_fetch_and_add(&val->wait_ns[dir], call->wait_ns);
	val->last_ns = now;
}

SEC("raw_tracepoint/sys_exit")
int pipeflow_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *call = bpf_map_lookup_elem(&INFLIGHT, &tid);

	if (!call)
		return 0;
	long ret = (long)ctx->args[1];
	__u64 now = bpf_ktime_get_ns();
	if (call->n > 0)
		account(call, 0, ret, now);
	if (call->n > 1)
		account(call, 1, ret, now);
	bpf_map_delete_elem(&INFLIGHT, &tid);
	return 0;
}

// sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
//              unsigned int prev_state): `current` is still prev here.
SEC("raw_tracepoint/sched_switch")
int pipeflow_switch(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 now = 0;
	__u32 prev = (__u32)bpf_get_current_pid_tgid();
	struct inflight *call = bpf_map_lookup_elem(&INFLIGHT, &prev);

	// A task preempted, or still runnable, is not waiting on the pipe.
	if (call && !ctx->args[0] && ctx->args[3] != 0) {
		now = bpf_ktime_get_ns();
		call->off_ns = now;
	}

	struct task_struct *next = (struct task_struct *)ctx->args[2];
	int next_pid = 0;
	if (bpf_probe_read_kernel(&next_pid, sizeof(next_pid), &next->pid))
		return 0;
	__u32 tid = (__u32)next_pid;
	call = bpf_map_lookup_elem(&INFLIGHT, &tid);
	if (call && call->off_ns) {
		if (!now)
			now = bpf_ktime_get_ns();
		call->wait_ns += now - call->off_ns;
		call->off_ns = 0;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
