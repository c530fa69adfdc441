// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for bpkd's l3afd payloads (update/add and delete bodies). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpk/bpk.h>
#include <bpk/agent.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/*
 * What was accepted is what the agent later stores and parses again (apply re-reads the
 * interface's whole configuration): each interface, rebuilt from its programs' JSON, must
 * parse again to the same programs.
 */
static void reparse(const struct bpk_agent_iface *f)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *again = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int h, err;

	strbuf_addstr(&sb, "[{\"iface\": \"");
	strbuf_addstr(&sb, f->iface);
	strbuf_addstr(&sb, "\", \"bpf_programs\": {");
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		strbuf_addf(&sb, "%s\"%s\": [", h ? ", " : "", bpk_agent_hook__name(h));
		for (i = 0; i < f->prog_cnt[h]; i++) {
			strbuf_addstr(&sb, i ? ", " : "");
			strbuf_addstr(&sb, f->progs[h][i].json);
		}
		strbuf_addstr(&sb, "]");
	}
	strbuf_addstr(&sb, "}}]");
	if (!sb.buf)
		return;
	err = bpk_agent_payload__parse(sb.buf, sb.len, BPK_AGENT_PAYLOAD_PROGRAMS, &error, &again);
	if (err == -ENOMEM)
		goto out;
	if (err || again->cnt != 1) {
		fprintf(stderr, "accepted, but its own JSON is refused: %s\n%s\n",
			error.message ?: "?", sb.buf);
		abort();
	}
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		if (again->ifaces[0].prog_cnt[h] != f->prog_cnt[h])
			abort();
		for (i = 0; i < f->prog_cnt[h]; i++) {
			const struct bpk_agent_prog *a = &f->progs[h][i], *b = &again->ifaces[0].progs[h][i];

			if (strcmp(a->name, b->name) || a->seq_id != b->seq_id ||
			    strcmp(a->version, b->version) || strcmp(a->artifact, b->artifact) ||
			    a->enabled != b->enabled || a->map_arg_cnt != b->map_arg_cnt ||
			    a->monitor_map_cnt != b->monitor_map_cnt)
				abort();
		}
	}
out:
	bpk_agent_payload__free(again);
	bpk_error__release(&error);
	strbuf_release(&sb);
}

static void check(const struct bpk_agent_payload *p, enum bpk_agent_payload_kind kind)
{
	size_t i, j, k, n;
	int h;

	for (i = 0; i < p->cnt; i++) {
		const struct bpk_agent_iface *f = &p->ifaces[i];

		if (!name_ok(f->iface, 15))
			abort();
		for (j = 0; j < i; j++)
			if (!strcmp(f->iface, p->ifaces[j].iface))
				abort();
		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
			const struct bpk_agent_prog **chain = NULL;
			struct bpk_error error = BPK_ERROR_INIT;

			for (j = 0; j < f->prog_cnt[h]; j++) {
				const struct bpk_agent_prog *pr = &f->progs[h][j];

				if (!name_ok(pr->name, 255))
					abort();
				for (k = 0; k < j; k++)
					if (!strcmp(pr->name, f->progs[h][k].name))
						abort();
				if (kind == BPK_AGENT_PAYLOAD_PROGRAMS &&
				    pr->enabled != !strcmp(pr->admin_status, "enabled"))
					abort();
				for (k = 0; k < pr->map_arg_cnt; k++) {
					size_t a;

					for (a = 0; a < pr->map_args[k].arg_cnt; a++) {
						unsigned char out[8];
						uint64_t v = pr->map_args[k].args[a].value;

						if (bpk_agent_map_arg__encode(v, 8, out) ||
						    (v <= 0xff && bpk_agent_map_arg__encode(v, 1, out)))
							abort();
					}
				}
			}
			if (kind != BPK_AGENT_PAYLOAD_PROGRAMS)
				continue;
			if (bpk_agent_iface__chain(f, h, &error, &chain, &n) == 0) {
				for (j = 0; j < n; j++)
					if (!chain[j]->enabled || (j && chain[j - 1]->seq_id > chain[j]->seq_id))
						abort();
			} else if (!error.message) {
				abort();
			}
			free(chain);
			bpk_error__release(&error);
		}
		if (kind == BPK_AGENT_PAYLOAD_PROGRAMS)
			reparse(f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum bpk_agent_payload_kind kind;

	for (kind = BPK_AGENT_PAYLOAD_PROGRAMS; kind <= BPK_AGENT_PAYLOAD_NAMES; kind++) {
		struct bpk_error error = BPK_ERROR_INIT;
		struct bpk_agent_payload *p = (void *)1;
		int err;

		err = bpk_agent_payload__parse(data, size, kind, &error, &p);
		if (err) {
			/* Refused: one sentence says why, and nothing is handed out. */
			if ((err != -EINVAL && err != -ENOMEM) || p != (void *)1 ||
			    (err == -EINVAL && (!error.message || !error.message[0])))
				abort();
		} else {
			if (error.message)
				abort();
			check(p, kind);
			bpk_agent_payload__free(p);
		}
		bpk_error__release(&error);
	}
	return 0;
}
