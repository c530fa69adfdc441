// SPDX-License-Identifier: GPL-2.0-only
/* Exercises bpk test: rewrites packets (UDP echo bounced with XDP_TX), drops a configured port, counts verdicts. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Destination UDP port to drop (0: none); key 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} echo_config SEC(".maps");

/* Packets per verdict (XDP_DROP, XDP_PASS, XDP_TX). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} echo_verdicts SEC(".maps");

static __always_inline int count(__u32 verdict)
{
	__u64 *n = bpf_map_lookup_elem(&echo_verdicts, &verdict);

	if (n)
		(*n)++;
	return verdict;
}

SEC("xdp")
int xdp_echo(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	unsigned char mac[ETH_ALEN];
	__u32 key = 0, *drop_port, addr;
	__u16 port;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return count(XDP_PASS);
	drop_port = bpf_map_lookup_elem(&echo_config, &key);
	if (drop_port && *drop_port && udp->dest == bpf_htons(*drop_port))
		return count(XDP_DROP);
	if (udp->dest != bpf_htons(7))
		return count(XDP_PASS);
	/* Echo: swap MACs, addresses and ports; checksums stay valid since sums commute. */
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	return count(XDP_TX);
}

char LICENSE[] SEC("license") = "GPL";
