// SPDX-License-Identifier: GPL-2.0-only
/* Exercises the capability report: between them these programs use every capability class. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} caps_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} caps_jump SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} caps_shared SEC(".maps");

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

/* Reads and writes memory, signals, overrides returns, reports to user space. */
SEC("kprobe/do_nanosleep")
int caps_tracer(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), value = 0, *shared;
	__u32 key = (__u32)id;
	char buf[8] = {};
	void *user = (void *)ctx->rdi;

	bpf_probe_read_user(buf, sizeof(buf), user);
	bpf_probe_read_kernel(&value, sizeof(value), (void *)ctx->rsi);
	bpf_probe_write_user(user, buf, sizeof(buf));
	bpf_override_return(ctx, -1);
	bpf_send_signal(9);
	bpf_ringbuf_output(&caps_events, &id, sizeof(id), 0);
	shared = bpf_map_lookup_elem(&caps_shared, &key);
	if (shared)
		(*shared)++;
	bpf_tail_call(ctx, &caps_jump, 0);
	return 0;
}

/* Redirects and rewrites packets. */
SEC("xdp")
int caps_xdp(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, 0))
		return XDP_DROP;
	return bpf_redirect(1, 0);
}

/* Controls sockets. */
SEC("sockops")
int caps_sockops(struct bpf_sock_ops *skops)
{
	int one = 1;

	bpf_setsockopt(skops, 6 /* SOL_TCP */, 1 /* TCP_NODELAY */, &one, sizeof(one));
	return 1;
}

/* Calls bpf() and a kfunc. */
SEC("syscall")
int caps_syscall(void *ctx)
{
	union bpf_attr attr = {};

	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return bpf_sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
}

char LICENSE[] SEC("license") = "GPL";
