// SPDX-License-Identifier: (MIT OR GPL-2.0)
// The floor of any probe built like pipescope's: programs that do nothing, on the same
// tracepoints (raw_syscalls:sys_exit, sched:sched_switch). What they cost is the price of
// being attached there at all, paid by every syscall and context switch on the machine.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("raw_tracepoint/sys_exit")
int floor_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sched_switch")
int floor_switch(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
