// SPDX-License-Identifier: BSD-2-Clause
/* Packets for test vectors, built from a short JSON description with lengths and checksums. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bpk_internal.h"

#define MAX_PACKET 65535

struct builder {
	struct strbuf sb;
	char *error;
};

__attribute__((format(printf, 2, 3))) static int fail(struct builder *b, const char *fmt, ...)
{
	va_list ap;

	if (b->error)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&b->error, fmt, ap) < 0)
		b->error = NULL;
	va_end(ap);
	return -EINVAL;
}

int bpk_hex_decode(const char *hex, unsigned char **ret, size_t *ret_len)
{
	size_t len = strlen(hex), i, n = 0;
	unsigned char *out = malloc(len / 2 + 1);

	if (!out)
		return -ENOMEM;
	for (i = 0; i < len;) {
		int hi, lo;

		/* Spaces and colons may separate bytes, for readability in vectors. */
		if (hex[i] == ' ' || hex[i] == ':' || hex[i] == '\n') {
			i++;
			continue;
		}
		if (i + 1 >= len)
			goto bad;
		hi = hex[i] >= '0' && hex[i] <= '9' ? hex[i] - '0' : (hex[i] | 0x20) - 'a' + 10;
		lo = hex[i + 1] >= '0' && hex[i + 1] <= '9' ? hex[i + 1] - '0'
							  : (hex[i + 1] | 0x20) - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			goto bad;
		out[n++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	*ret = out;
	*ret_len = n;
	return 0;
bad:
	free(out);
	return -EINVAL;
}

static uint32_t csum_add(uint32_t sum, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool get_uint(struct builder *b, json_t *obj, const char *layer, const char *key,
		     unsigned long max, unsigned long fallback, unsigned long *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		*ret = fallback;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max) {
		fail(b, "'%s.%s' must be an integer from 0 to %lu", layer, key, max);
		return false;
	}
	*ret = (unsigned long)json_integer_value(v);
	return true;
}

static bool get_mac(struct builder *b, json_t *eth, const char *key, const char *fallback,
		    unsigned char out[6])
{
	const char *s = json_string_value(json_object_get(eth, key));
	unsigned int m[6];
	int i, n = 0;

	if (!json_object_get(eth, key))
		s = fallback;
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
			 &n) != 6 || s[n]) {
		fail(b, "'eth.%s' must be a MAC address like \"02:00:00:00:00:01\"", key);
		return false;
	}
	for (i = 0; i < 6; i++)
		out[i] = (unsigned char)m[i];
	return true;
}

static bool get_addr(struct builder *b, json_t *obj, const char *layer, const char *key, int af,
		     const char *fallback, void *out)
{
	json_t *v = json_object_get(obj, key);
	const char *s = v ? json_string_value(v) : fallback;

	if (!s || inet_pton(af, s, out) != 1) {
		fail(b, "'%s.%s' must be an %s address", layer, key, af == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	return true;
}

/* Payload bytes: "payload_hex" or "payload" (text). */
static int payload(struct builder *b, json_t *desc, unsigned char **ret, size_t *ret_len)
{
	json_t *hex = json_object_get(desc, "payload_hex"), *text = json_object_get(desc, "payload");

	*ret = NULL;
	*ret_len = 0;
	if (hex) {
		if (!json_is_string(hex) || bpk_hex_decode(json_string_value(hex), ret, ret_len))
			return fail(b, "'payload_hex' must be a string of hex digits");
	} else if (text) {
		if (!json_is_string(text))
			return fail(b, "'payload' must be a string");
		*ret = (unsigned char *)strndup(json_string_value(text), json_string_length(text));
		*ret_len = json_string_length(text);
		if (!*ret)
			return -ENOMEM;
	}
	return 0;
}

/* The transport header plus payload, with its checksum over the given pseudo-header sum. */
static int transport(struct builder *b, json_t *desc, int *ret_proto, uint32_t pseudo,
		     struct strbuf *out)
{
	json_t *tcp = json_object_get(desc, "tcp"), *udp = json_object_get(desc, "udp");
	_cleanup_free_ unsigned char *data = NULL;
	unsigned long sport, dport, seq, ack, window;
	unsigned char hdr[20] = { 0 };
	size_t data_len, hlen;
	uint16_t csum;
	int err;

	err = payload(b, desc, &data, &data_len);
	if (err)
		return err;
	if (tcp && udp)
		return fail(b, "give 'tcp' or 'udp', not both");
	if (tcp) {
		const char *flags = json_string_value(json_object_get(tcp, "flags")) ?: "";
		unsigned char f = 0;

		if (!json_is_object(tcp))
			return fail(b, "'tcp' must be an object");
		if (!get_uint(b, tcp, "tcp", "sport", 65535, 12345, &sport) ||
		    !get_uint(b, tcp, "tcp", "dport", 65535, 80, &dport) ||
		    !get_uint(b, tcp, "tcp", "seq", 0xffffffffUL, 1, &seq) ||
		    !get_uint(b, tcp, "tcp", "ack", 0xffffffffUL, 0, &ack) ||
		    !get_uint(b, tcp, "tcp", "window", 65535, 65535, &window))
			return -EINVAL;
		for (; *flags; flags++) {
			const char *all = "FSRPAU", *pos = strchr(all, *flags);

			if (!pos)
				return fail(b, "'tcp.flags' letters are F S R P A U");
			f |= (unsigned char)(1 << (pos - all));
		}
		hdr[0] = (unsigned char)(sport >> 8), hdr[1] = (unsigned char)sport;
		hdr[2] = (unsigned char)(dport >> 8), hdr[3] = (unsigned char)dport;
		hdr[4] = (unsigned char)(seq >> 24), hdr[5] = (unsigned char)(seq >> 16);
		hdr[6] = (unsigned char)(seq >> 8), hdr[7] = (unsigned char)seq;
		hdr[8] = (unsigned char)(ack >> 24), hdr[9] = (unsigned char)(ack >> 16);
		hdr[10] = (unsigned char)(ack >> 8), hdr[11] = (unsigned char)ack;
		hdr[12] = 5 << 4;
		hdr[13] = f;
		hdr[14] = (unsigned char)(window >> 8), hdr[15] = (unsigned char)window;
		hlen = 20;
		*ret_proto = 6;
	} else if (udp) {
		if (!json_is_object(udp))
			return fail(b, "'udp' must be an object");
		if (!get_uint(b, udp, "udp", "sport", 65535, 12345, &sport) ||
		    !get_uint(b, udp, "udp", "dport", 65535, 53, &dport))
			return -EINVAL;
		hdr[0] = (unsigned char)(sport >> 8), hdr[1] = (unsigned char)sport;
		hdr[2] = (unsigned char)(dport >> 8), hdr[3] = (unsigned char)dport;
		hdr[4] = (unsigned char)((8 + data_len) >> 8), hdr[5] = (unsigned char)(8 + data_len);
		hlen = 8;
		*ret_proto = 17;
	} else {
		*ret_proto = -1;
		return strbuf_add(out, data ? data : (unsigned char *)"", data_len);
	}
	if (hlen + data_len > MAX_PACKET)
		return fail(b, "the packet would be longer than %d bytes", MAX_PACKET);
	pseudo += (uint32_t)*ret_proto + (uint32_t)(hlen + data_len);
	csum = csum_fold(csum_add(csum_add(pseudo, hdr, hlen), data ? data : hdr, data_len));
	if (*ret_proto == 17 && csum == 0)
		csum = 0xffff;
	hdr[*ret_proto == 6 ? 16 : 6] = (unsigned char)(csum >> 8);
	hdr[*ret_proto == 6 ? 17 : 7] = (unsigned char)csum;
	if (strbuf_add(out, hdr, hlen) || strbuf_add(out, data ? data : hdr, data_len))
		return -ENOMEM;
	return 0;
}

static int build(struct builder *b, json_t *desc)
{
	json_t *eth = json_object_get(desc, "eth"), *ip4 = json_object_get(desc, "ipv4");
	json_t *ip6 = json_object_get(desc, "ipv6");
	struct strbuf l4 = STRBUF_INIT;
	unsigned char mac[12], hdr[40] = { 0 };
	unsigned long ttl, tos, id, ethertype;
	int proto = -1, err;

	if (!json_is_object(desc))
		return fail(b, "a packet description must be a JSON object");
	if (eth && !json_is_object(eth))
		return fail(b, "'eth' must be an object");
	if (ip4 && ip6)
		return fail(b, "give 'ipv4' or 'ipv6', not both");
	if (!get_mac(b, eth, "dst", "02:00:00:00:00:02", mac) ||
	    !get_mac(b, eth, "src", "02:00:00:00:00:01", mac + 6) ||
	    !get_uint(b, eth, "eth", "type", 0xffff, ip6 ? 0x86dd : ip4 ? 0x0800 : 0x88b5,
		      &ethertype))
		return -EINVAL;
	if (strbuf_add(&b->sb, mac, 12) ||
	    strbuf_add(&b->sb, (unsigned char[]){ (unsigned char)(ethertype >> 8),
						  (unsigned char)ethertype }, 2))
		return -ENOMEM;

	if (ip4) {
		unsigned char addrs[8];
		uint32_t pseudo;

		if (!json_is_object(ip4))
			return fail(b, "'ipv4' must be an object");
		if (!get_addr(b, ip4, "ipv4", "src", AF_INET, "10.0.0.1", addrs) ||
		    !get_addr(b, ip4, "ipv4", "dst", AF_INET, "10.0.0.2", addrs + 4) ||
		    !get_uint(b, ip4, "ipv4", "ttl", 255, 64, &ttl) ||
		    !get_uint(b, ip4, "ipv4", "tos", 255, 0, &tos) ||
		    !get_uint(b, ip4, "ipv4", "id", 65535, 0, &id))
			return -EINVAL;
		pseudo = csum_add(0, addrs, 8);
		err = transport(b, desc, &proto, pseudo, &l4);
		if (err)
			goto out;
		if (20 + l4.len > MAX_PACKET) {
			err = fail(b, "the packet would be longer than %d bytes", MAX_PACKET);
			goto out;
		}
		hdr[0] = 0x45;
		hdr[1] = (unsigned char)tos;
		hdr[2] = (unsigned char)((20 + l4.len) >> 8), hdr[3] = (unsigned char)(20 + l4.len);
		hdr[4] = (unsigned char)(id >> 8), hdr[5] = (unsigned char)id;
		hdr[6] = 0x40; /* don't fragment */
		hdr[8] = (unsigned char)ttl;
		if (!get_uint(b, ip4, "ipv4", "proto", 255, proto < 0 ? 253 : (unsigned long)proto,
			      &tos))
			goto inval;
		hdr[9] = (unsigned char)tos;
		memcpy(hdr + 12, addrs, 8);
		{
			uint16_t c = csum_fold(csum_add(0, hdr, 20));

			hdr[10] = (unsigned char)(c >> 8), hdr[11] = (unsigned char)c;
		}
		err = strbuf_add(&b->sb, hdr, 20) ?: strbuf_add(&b->sb, l4.buf ?: "", l4.len);
	} else if (ip6) {
		unsigned char addrs[32];
		uint32_t pseudo;

		if (!json_is_object(ip6))
			return fail(b, "'ipv6' must be an object");
		if (!get_addr(b, ip6, "ipv6", "src", AF_INET6, "fd00::1", addrs) ||
		    !get_addr(b, ip6, "ipv6", "dst", AF_INET6, "fd00::2", addrs + 16) ||
		    !get_uint(b, ip6, "ipv6", "hop_limit", 255, 64, &ttl))
			return -EINVAL;
		pseudo = csum_add(0, addrs, 32);
		err = transport(b, desc, &proto, pseudo, &l4);
		if (err)
			goto out;
		hdr[0] = 0x60;
		hdr[4] = (unsigned char)(l4.len >> 8), hdr[5] = (unsigned char)l4.len;
		hdr[6] = (unsigned char)(proto < 0 ? 59 : proto); /* 59: no next header */
		hdr[7] = (unsigned char)ttl;
		memcpy(hdr + 8, addrs, 32);
		err = strbuf_add(&b->sb, hdr, 40) ?: strbuf_add(&b->sb, l4.buf ?: "", l4.len);
	} else {
		if (json_object_get(desc, "tcp") || json_object_get(desc, "udp")) {
			err = fail(b, "'tcp' and 'udp' need 'ipv4' or 'ipv6'");
			goto out;
		}
		err = transport(b, desc, &proto, 0, &b->sb);
	}
out:
	strbuf_release(&l4);
	return err;
inval:
	err = -EINVAL;
	goto out;
}

int bpk_packet_build_json(json_t *desc, unsigned char **ret_packet, size_t *ret_len,
			  char **ret_error)
{
	struct builder b = { STRBUF_INIT, NULL };
	int err = build(&b, desc);

	if (err) {
		strbuf_release(&b.sb);
		if (ret_error)
			*ret_error = b.error ? b.error : strdup("out of memory");
		else
			free(b.error);
		return err;
	}
	*ret_packet = (unsigned char *)strbuf_detach(&b.sb, ret_len);
	return *ret_packet ? 0 : -ENOMEM;
}

int bpk_packet__build(const char *json_description, unsigned char **ret_packet, size_t *ret_len,
		      char **ret_error)
{
	json_error_t jerr;
	_cleanup_json_ json_t *desc = json_loads(json_description, 0, &jerr);

	if (!desc) {
		if (ret_error)
			*ret_error = xasprintf("not valid JSON: %s", jerr.text);
		return -EINVAL;
	}
	return bpk_packet_build_json(desc, ret_packet, ret_len, ret_error);
}
