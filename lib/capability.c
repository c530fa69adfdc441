// SPDX-License-Identifier: BSD-2-Clause
/* Capability report: classify what a program can do from its type, helpers, kfuncs and maps. */
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include "bpk_internal.h"

static const struct {
	const char *id;
	const char *words;
} classes[BPK_CAP_CNT] = {
	[BPK_CAP_FILTER_PACKETS] = { "filter-packets", "decides the fate of packets (may drop them)" },
	[BPK_CAP_REDIRECT_PACKETS] = { "redirect-packets",
				       "redirects packets to other devices, CPUs or sockets" },
	[BPK_CAP_REWRITE_PACKETS] = { "rewrite-packets", "rewrites packet bytes, headers or size" },
	[BPK_CAP_READ_KERNEL_MEMORY] = { "read-kernel-memory", "reads kernel memory" },
	[BPK_CAP_READ_USER_MEMORY] = { "read-user-memory", "reads the memory of user processes" },
	[BPK_CAP_WRITE_USER_MEMORY] = { "write-user-memory", "writes the memory of user processes" },
	[BPK_CAP_OVERRIDE_RETURN] = { "override-return",
				      "overrides the return value of kernel functions" },
	[BPK_CAP_SEND_SIGNALS] = { "send-signals", "sends signals to processes" },
	[BPK_CAP_BPF_SYSCALL] = { "bpf-syscall", "calls the bpf() syscall (loads programs, changes maps)" },
	[BPK_CAP_TAIL_CALLS] = { "tail-calls", "jumps to other BPF programs (tail calls)" },
	[BPK_CAP_PINNED_MAPS] = { "pinned-maps",
				  "shares state with other programs through maps pinned in bpffs" },
	[BPK_CAP_USER_SPACE_OUTPUT] = { "user-space-output",
					"sends data to user space (ring buffer, perf buffer, trace pipe)" },
	[BPK_CAP_PROCESS_INFO] = { "process-info", "reads which process runs: pid, uid, command, task" },
	[BPK_CAP_SOCKET_CONTROL] = { "socket-control", "changes socket options or binds sockets" },
	[BPK_CAP_KFUNCS] = { "kfuncs", "calls internal kernel functions (kfuncs)" },
};

/* Helpers that alone imply a capability. */
static const struct {
	const char *helper;
	enum bpk_capability cap;
} helper_caps[] = {
	{ "bpf_redirect", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_redirect_map", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_redirect_peer", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_redirect_neigh", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_clone_redirect", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_sk_redirect_map", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_sk_redirect_hash", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_msg_redirect_map", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_msg_redirect_hash", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_sk_assign", BPK_CAP_REDIRECT_PACKETS },
	{ "bpf_skb_store_bytes", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_l3_csum_replace", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_l4_csum_replace", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_vlan_push", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_vlan_pop", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_change_proto", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_change_type", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_change_tail", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_change_head", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_adjust_room", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_set_tunnel_key", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_skb_set_tunnel_opt", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_xdp_adjust_head", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_xdp_adjust_tail", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_xdp_adjust_meta", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_xdp_store_bytes", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_lwt_push_encap", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_msg_push_data", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_msg_pop_data", BPK_CAP_REWRITE_PACKETS },
	{ "bpf_probe_read", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_probe_read_str", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_probe_read_kernel", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_probe_read_kernel_str", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_get_current_task", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_get_current_task_btf", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_task_pt_regs", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_d_path", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_snprintf_btf", BPK_CAP_READ_KERNEL_MEMORY },
	{ "bpf_probe_read_user", BPK_CAP_READ_USER_MEMORY },
	{ "bpf_probe_read_user_str", BPK_CAP_READ_USER_MEMORY },
	{ "bpf_copy_from_user", BPK_CAP_READ_USER_MEMORY },
	{ "bpf_copy_from_user_task", BPK_CAP_READ_USER_MEMORY },
	{ "bpf_probe_write_user", BPK_CAP_WRITE_USER_MEMORY },
	{ "bpf_override_return", BPK_CAP_OVERRIDE_RETURN },
	{ "bpf_send_signal", BPK_CAP_SEND_SIGNALS },
	{ "bpf_send_signal_thread", BPK_CAP_SEND_SIGNALS },
	{ "bpf_sys_bpf", BPK_CAP_BPF_SYSCALL },
	{ "bpf_sys_close", BPK_CAP_BPF_SYSCALL },
	{ "bpf_btf_find_by_name_kind", BPK_CAP_BPF_SYSCALL },
	{ "bpf_tail_call", BPK_CAP_TAIL_CALLS },
	{ "bpf_ringbuf_output", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_ringbuf_reserve", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_ringbuf_reserve_dynptr", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_perf_event_output", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_skb_output", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_xdp_output", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_trace_printk", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_trace_vprintk", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_seq_printf", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_seq_write", BPK_CAP_USER_SPACE_OUTPUT },
	{ "bpf_get_current_pid_tgid", BPK_CAP_PROCESS_INFO },
	{ "bpf_get_current_uid_gid", BPK_CAP_PROCESS_INFO },
	{ "bpf_get_current_comm", BPK_CAP_PROCESS_INFO },
	{ "bpf_get_current_cgroup_id", BPK_CAP_PROCESS_INFO },
	{ "bpf_get_ns_current_pid_tgid", BPK_CAP_PROCESS_INFO },
	{ "bpf_setsockopt", BPK_CAP_SOCKET_CONTROL },
	{ "bpf_bind", BPK_CAP_SOCKET_CONTROL },
	{ "bpf_sock_ops_cb_flags_set", BPK_CAP_SOCKET_CONTROL },
	{ "bpf_sock_map_update", BPK_CAP_SOCKET_CONTROL },
	{ "bpf_sock_hash_update", BPK_CAP_SOCKET_CONTROL },
};

/* Program types whose return value decides what happens to a packet. */
static bool filters_packets(int type)
{
	switch (type) {
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
		return true;
	default:
		/* BPF_PROG_TYPE_NETFILTER (32) is newer than Debian 12's UAPI headers. */
		return type == 32;
	}
}

/* Tracing types dereference kernel pointers (BTF, tracepoint and probe contexts). */
static bool reads_kernel_by_type(int type)
{
	return type == BPF_PROG_TYPE_TRACING || type == BPF_PROG_TYPE_LSM;
}

const char *bpk_capability__id(enum bpk_capability cap)
{
	return (unsigned int)cap < BPK_CAP_CNT ? classes[cap].id : NULL;
}

const char *bpk_capability__words(enum bpk_capability cap)
{
	return (unsigned int)cap < BPK_CAP_CNT ? classes[cap].words : NULL;
}

int bpk_capability__from_id(const char *id, enum bpk_capability *ret_cap)
{
	int i;

	for (i = 0; i < BPK_CAP_CNT; i++)
		if (!strcmp(classes[i].id, id)) {
			*ret_cap = (enum bpk_capability)i;
			return 0;
		}
	return -EINVAL;
}

void bpk_capability_list__release(struct bpk_capability_list *list)
{
	size_t i;

	for (i = 0; list && i < list->cnt; i++)
		free(list->items[i].evidence);
	if (list) {
		free(list->items);
		list->items = NULL;
		list->cnt = 0;
	}
}

int bpk_capabilities__of_prog(const struct bpk_obj_info *obj, const struct bpk_prog_report *prog,
			      struct bpk_capability_list *ret_list)
{
	struct strbuf evidence[BPK_CAP_CNT];
	struct bpk_capability_list list = { 0 };
	size_t i, j;
	int c, err = 0;

	for (c = 0; c < BPK_CAP_CNT; c++)
		strbuf_init(&evidence[c]);
	if (filters_packets(prog->prog_type))
		err |= strbuf_addf(&evidence[BPK_CAP_FILTER_PACKETS], "is a %s program", prog->type);
	if (reads_kernel_by_type(prog->prog_type))
		err |= strbuf_addf(&evidence[BPK_CAP_READ_KERNEL_MEMORY], "is a %s program",
				   prog->type);
	for (i = 0; i < prog->helper_cnt; i++)
		for (j = 0; j < ARRAY_SIZE(helper_caps); j++) {
			struct strbuf *sb = &evidence[helper_caps[j].cap];

			if (strcmp(prog->helpers[i], helper_caps[j].helper))
				continue;
			err |= strbuf_addf(sb, "%s%s", sb->len ? ", " : "calls ", prog->helpers[i]);
		}
	for (i = 0; i < prog->kfunc_cnt; i++) {
		struct strbuf *sb = &evidence[BPK_CAP_KFUNCS];

		err |= strbuf_addf(sb, "%s%s", sb->len ? ", " : "calls ", prog->kfuncs[i]);
	}
	for (i = 0; i < prog->map_cnt; i++)
		for (j = 0; j < obj->map_cnt; j++) {
			struct strbuf *sb = &evidence[BPK_CAP_PINNED_MAPS];

			if (strcmp(prog->maps[i], obj->maps[j].name) ||
			    strcmp(obj->maps[j].pinning, "by_name"))
				continue;
			err |= strbuf_addf(sb, "%s%s", sb->len ? ", " : "uses pinned map ",
					   obj->maps[j].name);
		}
	if (err) {
		err = -ENOMEM;
		goto out;
	}
	for (c = 0; c < BPK_CAP_CNT; c++) {
		struct bpk_capability_finding *items;

		if (!evidence[c].len)
			continue;
		items = reallocarray(list.items, list.cnt + 1, sizeof(*items));
		if (!items) {
			err = -ENOMEM;
			goto out;
		}
		list.items = items;
		items[list.cnt] = (struct bpk_capability_finding){
			(enum bpk_capability)c, classes[c].id, classes[c].words,
			strbuf_detach(&evidence[c], NULL),
		};
		if (!items[list.cnt].evidence) {
			err = -ENOMEM;
			goto out;
		}
		list.cnt++;
	}
	*ret_list = list;
	list.items = NULL;
	list.cnt = 0;
out:
	bpk_capability_list__release(&list);
	for (c = 0; c < BPK_CAP_CNT; c++)
		strbuf_release(&evidence[c]);
	return err;
}
