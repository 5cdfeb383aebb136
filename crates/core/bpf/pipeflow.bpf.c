// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// pipescope's kernel-side probe of pipe I/O (see src/sys/linux/flow.rs for the loader).
//
// Two programs, on raw tracepoints (attached by name: no tracefs, kprobes or fentry):
//
// - raw_syscalls:sys_exit. When a call that moves pipe data returns, its syscall number
//   and fd arguments are read from the task's saved registers, each fd is resolved in the
//   kernel to its struct file and inode (CO-RE reads of current->files->fdt->fd[fd],
//   relocated against the running kernel's BTF by the loader), and the bytes it returned
//   are added to the counters of its end (process, fd, pipe). Calls on anything but a pipe
//   or FIFO are dropped there.
// - sched:sched_switch. When a task inside such a call is switched out to sleep, the time
//   and its CPU counters are noted in task-local storage; the sleep is closed at its next
//   sleep or at the call's end (see `slept`).
//
// There is no sys_enter program: every program on a syscall tracepoint runs for every
// syscall on the machine, so the probe keeps to one, and does the least it can for calls
// that are not pipe I/O. Nothing is sent to user space per event: pipescope reads the
// ENDS map each interval, and the task storage of the threads it cares about.
//
// Regenerate the committed object with scripts/build-bpf (clang -target bpf); it is
// licensed MIT OR GPL-2.0 so that the kernel allows the GPL-only helpers it calls
// (bpf_probe_read_kernel, bpf_task_pt_regs).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#ifndef __x86_64__
#error "the probe reads x86-64 syscall registers; build it with -D__x86_64__ for that target"
#endif

// Only the fields the probe reads: CO-RE relocates each access to the running kernel's
// layout (preserve_access_index), so these need not match any header.
struct pt_regs {
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct sched_entity {
	unsigned long long sum_exec_runtime;
} __attribute__((preserve_access_index));

struct sched_info {
	unsigned long long run_delay;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct files_struct *files;
	struct sched_entity se;
	struct sched_info sched_info;
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
	const void *f_op;
	struct inode *f_inode;
} __attribute__((preserve_access_index));

#define S_IFMT 0170000
#define S_IFIFO 0010000
#define PIPEFS_MAGIC 0x50495045
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
#define DIR_BY_MODE 2		// vmsplice: the end's open mode says which way

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
	__u64 wait_ns[2];	// time the calls slept (switched out, not preempted)
	char comm[16];		// the thread that made the first call
};

// A thread asleep in a call that may move pipe data, in its task storage. Mirrors
// `Sleeper` in flow.rs, which reads it for calls still in progress.
struct sleeper {
	__u64 off_ns;		// bpf_ktime_get_ns() when last switched out to sleep; 0: none
	__u64 off_run;		// its se.sum_exec_runtime then
	__u64 off_delay;	// its sched_info.run_delay then
	__u64 wait_ns;		// sleep before that, in the same call
	__s64 nr;		// the call
	__s32 fd[2];		// its fd arguments, -1 when none
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct end_key);
	__type(value, struct end_val);
} ENDS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sleeper);
} SLEEPERS SEC(".maps");

// How many threads whose tid falls in each slot (tid % 4096) are asleep in a call that may
// move pipe data: a call that returns while its slot is 0 did not sleep, and needs no
// lookup of its task storage (an inlined array access instead of a helper call).
#define PENDING_SLOTS 4096
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PENDING_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} PENDING SEC(".maps");

// [0]: calls on pipes not counted because a map was full.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} DROPPED SEC(".maps");

// [0]: the pipefs super block, [1]: the file operations of pipes and FIFOs, each once
// seen: then a file that is not a pipe is told by one comparison, and an anonymous pipe
// from a FIFO by another. Array lookups are inlined by the verifier: no helper call.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} SEEN SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&DROPPED, &zero);
	if (d)
		__sync_fetch_and_add(d, 1);
}

// The probe copies the start of a struct file and of a struct inode with one helper call
// each and takes the fields from the copy. A field's offset is a CO-RE relocated
// constant: the verifier sees a constant, the check folds away.
#define HEAD 128
#define FIELD(buf, type, field, out)                                                      \
	({                                                                                \
		__u32 __off = bpf_core_field_offset(type, field);                         \
		int __ok = __off + sizeof(out) <= HEAD;                                   \
		if (__ok)                                                                 \
			__builtin_memcpy(&(out), (buf) + (__off & (HEAD - 1)), sizeof(out)); \
		__ok;                                                                     \
	})

// What `pipe_end` learns of a file.
struct seen_file {
	__u64 f_op;
	__u64 sb;
	__u64 ino;
	unsigned int f_mode;
	unsigned short i_mode;
};

// Finds what `pipe_end` needs of `fd`'s file: the fd array entry and the heads of the
// file and the inode, copied by three helper calls. (Direct loads, cheaper, would need a
// BTF-typed pointer to the file; the fd array only yields a plain address.) Returns 0
// when it is not a pipe or FIFO.
static __always_inline int walk(struct fdtable *fdt, long fd, struct seen_file *f,
				       __u64 fop)
{
	struct file **fds;
	struct file *file;
	struct inode *inode;
	char head[HEAD];

	if (fd >= fdt->max_fds)
		return 0;
	fds = fdt->fd;
	if (!fds)
		return 0;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	if (bpf_probe_read_kernel(head, sizeof(head), file))
		return 0;
	if (!FIELD(head, struct file, f_op, f->f_op) || !FIELD(head, struct file, f_inode, inode) ||
	    !FIELD(head, struct file, f_mode, f->f_mode) || !inode)
		return 0;
	if (fop && f->f_op != fop)
		return 0;
	if (bpf_probe_read_kernel(head, sizeof(head), inode))
		return 0;
	if (!FIELD(head, struct inode, i_mode, f->i_mode) || (f->i_mode & S_IFMT) != S_IFIFO)
		return 0;
	if (!FIELD(head, struct inode, i_ino, f->ino) || !FIELD(head, struct inode, i_sb, f->sb))
		return 0;
	return 1;
}

// Resolves `fd` of the current process to a pipe end; returns 0 when it is not a pipe.
// With `*dir` DIR_BY_MODE, sets it from the end's open mode.
static __always_inline int pipe_end(struct task_struct *task, long fd, struct end_key *key,
				    __u8 *dir)
{
	struct files_struct *files;
	struct fdtable *fdt;
	struct super_block *sb;
	struct seen_file f = {};
	unsigned long magic;
	__u32 k_sb = 0, k_fop = 1;
	__u64 *seen_sb, *seen_fop;

	if (fd < 0)
		return 0;
	// task is BTF-typed: the walk to the fd table is made of direct loads.
	files = task->files;
	if (!files)
		return 0;
	fdt = files->fdt;
	if (!fdt)
		return 0;
	seen_fop = bpf_map_lookup_elem(&SEEN, &k_fop);
	seen_sb = bpf_map_lookup_elem(&SEEN, &k_sb);
	if (!seen_fop || !seen_sb)
		return 0;
	if (!walk(fdt, fd, &f, *seen_fop) || !f.sb)
		return 0;
	if (!*seen_fop)
		*seen_fop = f.f_op;
	if (*dir == DIR_BY_MODE)
		*dir = (f.f_mode & FMODE_WRITE) ? DIR_WRITE : DIR_READ;
	sb = (struct super_block *)f.sb;
	if (*seen_sb != f.sb) {
		if (bpf_probe_read_kernel(&magic, sizeof(magic), &sb->s_magic))
			return 0;
		if (magic == PIPEFS_MAGIC)
			*seen_sb = f.sb;
	}
	if (*seen_sb == f.sb) {
		key->dev = 0;
		key->fifo = 0;
	} else {
		if (bpf_probe_read_kernel(&key->dev, sizeof(key->dev), &sb->s_dev))
			return 0;
		key->fifo = 1;
	}
	key->ino = f.ino;
	key->tgid = task->tgid;
	key->fd = (__u32)fd;
	return 1;
}

// The registers a call's number and fd arguments are saved in (x86-64: contiguous in
// struct pt_regs, from dx to orig_ax), copied with one helper call.
struct args {
	long dx, si, di, nr;
};

static __always_inline int read_args(struct pt_regs *regs, struct args *a)
{
	// CO-RE: the offsets of the four fields in the running kernel; one copy from dx.
	__u32 dx = bpf_core_field_offset(struct pt_regs, dx);
	if (bpf_core_field_offset(struct pt_regs, si) != dx + 8 ||
	    bpf_core_field_offset(struct pt_regs, di) != dx + 16 ||
	    bpf_core_field_offset(struct pt_regs, orig_ax) != dx + 24)
		return 0;
	return !bpf_probe_read_kernel(a, sizeof(*a), (char *)regs + dx);
}

// The fd arguments of call `a->nr` and the direction of each; 0 when it moves no pipe data.
static __always_inline int pipe_call(struct args *a, long fd[2], __u8 dir[2])
{
	fd[1] = -1;
	dir[0] = DIR_READ;
	dir[1] = DIR_WRITE;
	switch (a->nr) {
	case NR_read:
	case NR_readv:
	case NR_preadv2:
		fd[0] = (int)a->di;
		return 1;
	case NR_write:
	case NR_writev:
	case NR_pwritev2:
		fd[0] = (int)a->di;
		dir[0] = DIR_WRITE;
		return 1;
	case NR_vmsplice:
		fd[0] = (int)a->di;
		dir[0] = DIR_BY_MODE;
		return 1;
	case NR_splice:		// splice(fd_in, off_in, fd_out, ...)
		fd[0] = (int)a->di;
		fd[1] = (int)a->dx;
		return 1;
	case NR_tee:		// tee(fd_in, fd_out, ...): only the pipe it fills is counted
		fd[0] = (int)a->si;
		dir[0] = DIR_WRITE;
		return 1;
	case NR_sendfile:	// sendfile(out_fd, in_fd, ...)
		fd[0] = (int)a->di;
		fd[1] = (int)a->si;
		dir[0] = DIR_WRITE;
		dir[1] = DIR_READ;
		return 1;
	}
	return 0;
}

// The sleep since the thread was last switched out in this call: the time since, less
// the time it ran or waited for a CPU since (the scheduler's own counters, exact at a
// switch-out; at the call's end, the time it has run since it was last switched in is
// not yet added to sum_exec_runtime, and so counts as sleep: the few microseconds of the
// copy after the wake-up).
static __always_inline __u64 slept(struct sleeper *s, struct task_struct *task, __u64 now)
{
	__u64 run = task->se.sum_exec_runtime;
	__u64 delay = 0;
	if (bpf_core_field_exists(task->sched_info))
		delay = task->sched_info.run_delay;
	__u64 span = now - s->off_ns;
	__u64 busy = (run - s->off_run) + (delay - s->off_delay);
	return busy < span ? span - busy : 0;
}

static __always_inline void account(struct end_key *key, int dir, long ret, __u64 wait)
{
	struct end_val *val = bpf_map_lookup_elem(&ENDS, key);

	dir &= 1;
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
	if (wait)
		__sync_fetch_and_add(&val->wait_ns[dir], wait);
}

SEC("raw_tracepoint/sys_exit")
int pipeflow_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct args a;
	long fd[2];
	__u8 dir[2];

	// Every syscall on the machine comes here: those that move no pipe data leave after
	// one helper call.
	if (!read_args((struct pt_regs *)ctx->args[0], &a) || !pipe_call(&a, fd, dir))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	long nr = a.nr;
	long ret = (long)ctx->args[1];
	__u64 wait = 0;
	__u32 slot = (__u32)task->pid % PENDING_SLOTS;
	__u32 *pending = bpf_map_lookup_elem(&PENDING, &slot);
	if (pending && *pending) {
		struct sleeper *s = bpf_task_storage_get(&SLEEPERS, task, 0, 0);
		if (s && s->off_ns) {
			if (s->nr == nr && s->fd[0] == fd[0] && s->fd[1] == fd[1])
				wait = s->wait_ns + slept(s, task, bpf_ktime_get_ns());
			s->off_ns = 0;
			s->wait_ns = 0;
			__sync_fetch_and_add(pending, (__u32)-1);	// clang 14 has no BPF atomic sub
		}
	}
	struct end_key ends[2];
	__u8 n = 0;
	if (pipe_end(task, fd[0], &ends[0], &dir[0])) {
		account(&ends[0], dir[0], ret, wait);
		n = 1;
	}
	if (fd[1] >= 0 && pipe_end(task, fd[1], &ends[1], &dir[1]))
		account(&ends[1], dir[1], ret, n ? 0 : wait);
	return 0;
}

// sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
//              unsigned int prev_state): `current` is still prev here, and the scheduler
// has just brought prev's sum_exec_runtime up to date.
SEC("raw_tracepoint/sched_switch")
int pipeflow_switch(struct bpf_raw_tracepoint_args *ctx)
{
	// A task preempted, or still runnable, is not waiting on the pipe.
	if (ctx->args[0] || ctx->args[3] == 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct args a = {
		.dx = (long)regs->dx,
		.si = (long)regs->si,
		.di = (long)regs->di,
		.nr = (long)regs->orig_ax,
	};
	long nr = a.nr;
	long fd[2];
	__u8 dir[2];

	// A task asleep outside a syscall (a page fault) has no syscall number there, but a
	// fault's error code could pass for one: the call and its fds are checked again at
	// the call's end.
	if (!pipe_call(&a, fd, dir))
		return 0;
	struct sleeper *s = bpf_task_storage_get(&SLEEPERS, task, 0,
						 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (s->off_ns && s->nr == nr && s->fd[0] == fd[0] && s->fd[1] == fd[1]) {
		s->wait_ns += slept(s, task, now);	// an earlier sleep of the same call
	} else {
		s->wait_ns = 0;
		if (!s->off_ns) {
			__u32 slot = (__u32)task->pid % PENDING_SLOTS;
			__u32 *pending = bpf_map_lookup_elem(&PENDING, &slot);
			if (pending)
				__sync_fetch_and_add(pending, 1);
		}
	}
	s->nr = nr;
	s->fd[0] = fd[0];
	s->fd[1] = fd[1];
	s->off_ns = now;
	s->off_run = task->se.sum_exec_runtime;
	if (bpf_core_field_exists(task->sched_info))
		s->off_delay = task->sched_info.run_delay;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
