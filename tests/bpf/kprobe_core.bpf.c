// SPDX-License-Identifier: GPL-2.0-only
/* Exercises kprobe and kretprobe programs with CO-RE relocations on pt_regs and a kernel struct. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* x86-64 register names as the kernel spells them; CO-RE relocates the offsets. */
struct pt_regs {
	unsigned long si;
	unsigned long ax;
} __attribute__((preserve_access_index));

struct filename {
	const char *name;
} __attribute__((preserve_access_index));

SEC("kprobe/do_unlinkat")
int probe_unlinkat(struct pt_regs *regs)
{
	struct filename *fn = (struct filename *)regs->si;
	const char *name = NULL;
	char buf[32];

	bpf_core_read(&name, sizeof(name), &fn->name);
	bpf_probe_read_kernel_str(buf, sizeof(buf), name);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int probe_unlinkat_ret(struct pt_regs *regs)
{
	return regs->ax != 0;
}

char LICENSE[] SEC("license") = "GPL";
