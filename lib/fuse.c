// SPDX-License-Identifier: BSD-2-Clause
/* Fused chains: a dispatcher that calls each loaded stage's instructions as a BPF-to-BPF call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpk_internal.h"

/* The most instructions a privileged program may have (BPF_COMPLEXITY_LIMIT_INSNS). */
#define FUSE_INSNS_MAX 1000000U
#define FUSE_LOG_SIZE (1U << 20)
#define FUSE_DEFAULT_NAME "bpk_fused"

static const char *stage_name(const struct bpf_program *prog)
{
	return bpf_program__name(prog) ?: "?";
}

static uint64_t default_continue_on(enum bpf_prog_type type)
{
	return type == BPF_PROG_TYPE_XDP ? BPK_FUSE_VERDICT(XDP_PASS) : BPK_FUSE_VERDICT(TC_ACT_OK);
}

/* What in a stage's final instructions cannot run as a subprogram of another program. */
static int check_insns(const struct bpf_program *prog)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t i, cnt = bpf_program__insn_cnt(prog);

	if (!insns || !cnt) {
		pr_warn("fuse: '%s' has no instructions\n", stage_name(prog));
		return -EINVAL;
	}
	for (i = 0; i < cnt; i++) {
		const struct bpf_insn *insn = &insns[i];
		uint8_t class = BPF_CLASS(insn->code);

		if (insn->code == (BPF_JMP | BPF_CALL)) {
			if (insn->src_reg == 0 && insn->imm == BPF_FUNC_tail_call) {
				pr_warn("fuse: '%s' calls bpf_tail_call (instruction %zu): a tail call from a fused stage would end the whole fused program\n",
					stage_name(prog), i);
				return -EOPNOTSUPP;
			}
			if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL) {
				pr_warn("fuse: '%s' calls a kfunc (instruction %zu), which needs its object's BTF\n",
					stage_name(prog), i);
				return -EOPNOTSUPP;
			}
		} else if (class == BPF_LD && (BPF_MODE(insn->code) == BPF_ABS ||
					       BPF_MODE(insn->code) == BPF_IND)) {
			pr_warn("fuse: '%s' uses LD_ABS/LD_IND (instruction %zu), which the kernel refuses next to BPF-to-BPF calls\n",
				stage_name(prog), i);
			return -EOPNOTSUPP;
		} else if (insn->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			/*
			 * Map fds and map values stay valid while the stage's object is open; a
			 * kernel BTF id names vmlinux, not the object. A function pointer (a
			 * bpf_loop, for_each or timer callback) would move with the stage, but the
			 * verifier takes one only with BTF func_info ("missing btf func_info"), and
			 * the fused program has no BTF. fd_array indexes would need the stage's
			 * fd_array, which libbpf 1.1 does not use.
			 */
			switch (insn->src_reg) {
			case 0:
			case BPF_PSEUDO_MAP_FD:
			case BPF_PSEUDO_MAP_VALUE:
			case BPF_PSEUDO_BTF_ID:
				break;
			case BPF_PSEUDO_FUNC:
				pr_warn("fuse: '%s' passes a callback (instruction %zu), which the verifier takes only with BTF func_info\n",
					stage_name(prog), i);
				return -EOPNOTSUPP;
			default:
				pr_warn("fuse: '%s' loads a 64-bit immediate of kind %u (instruction %zu), which bpk cannot move\n",
					stage_name(prog), insn->src_reg, i);
				return -EOPNOTSUPP;
			}
			i++; /* the second half of the ld_imm64 */
		}
	}
	return 0;
}

int bpk_fuse__check(const struct bpf_program *prog)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	enum bpf_prog_type type;
	int fd;

	if (!prog)
		return -EINVAL;
	fd = bpf_program__fd(prog);
	if (fd < 0) {
		pr_warn("fuse: '%s' is not loaded: load its object first\n", stage_name(prog));
		return -EINVAL;
	}
	type = bpf_program__type(prog);
	if (type != BPF_PROG_TYPE_XDP && type != BPF_PROG_TYPE_SCHED_CLS) {
		pr_warn("fuse: '%s' is a program of type %s; only xdp and sched_cls programs fuse\n",
			stage_name(prog), libbpf_bpf_prog_type_str(type) ?: "?");
		return -EOPNOTSUPP;
	}
	/* The kernel's own judgement of the stage's license, made when it was loaded. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (!info.gpl_compatible) {
		pr_warn("fuse: '%s' is not under a GPL-compatible license: its code cannot go into a program loaded as GPL\n",
			stage_name(prog));
		return -EACCES;
	}
	return check_insns(prog);
}

/* Every stage fusable, and all of one type, attach type and frags flag. */
static int check_stages(const struct bpk_fuse_stage *stages, size_t cnt)
{
	const struct bpf_program *first;
	size_t i;
	int err;

	if (!stages || !cnt) {
		pr_warn("fuse: an empty chain has nothing to fuse\n");
		return -EINVAL;
	}
	for (i = 0; i < cnt; i++) {
		err = bpk_fuse__check(stages[i].prog);
		if (err) {
			if (!stages[i].prog)
				pr_warn("fuse: stage %zu has no program\n", i + 1);
			return err;
		}
	}
	first = stages[0].prog;
	for (i = 1; i < cnt; i++) {
		const struct bpf_program *prog = stages[i].prog;

		if (bpf_program__type(prog) != bpf_program__type(first) ||
		    bpf_program__expected_attach_type(prog) !=
			    bpf_program__expected_attach_type(first)) {
			pr_warn("fuse: stage %zu ('%s', %s) is not of the first stage's type ('%s', %s) and attach type\n",
				i + 1, stage_name(prog),
				libbpf_bpf_prog_type_str(bpf_program__type(prog)) ?: "?",
				stage_name(first),
				libbpf_bpf_prog_type_str(bpf_program__type(first)) ?: "?");
			return -EINVAL;
		}
		if ((bpf_program__flags(prog) ^ bpf_program__flags(first)) & BPF_F_XDP_HAS_FRAGS) {
			pr_warn("fuse: stage %zu ('%s') and the first stage ('%s') disagree on xdp.frags\n",
				i + 1, stage_name(prog), stage_name(first));
			return -EINVAL;
		}
	}
	return 0;
}

/* Instructions the dispatcher needs for a stage: r1 = r6, call, and the verdict test. */
static size_t dispatch_len(uint64_t continue_on, bool last)
{
	return last ? 3 : 3 + (size_t)__builtin_popcountll(continue_on);
}

static struct bpf_insn insn_make(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

/*
 * The fused program:
 *	r6 = r1
 *	for each stage: r1 = r6; call stage; then, but for the last,
 *		if w0 == v goto next   (one per verdict v of continue_on)
 *		exit                   (r0 is the stage's verdict)
 *	   next:
 *	after the last stage: exit
 *	stage 1's instructions, stage 2's, ...
 * A stage's own calls and function pointers are relative to themselves, so its block moves
 * as a whole; its map fds are the ones libbpf resolved in its object.
 */
static struct bpf_insn *build(const struct bpk_fuse_stage *stages, size_t cnt,
			      enum bpf_prog_type type, size_t *ret_cnt)
{
	size_t head = 1, total, i, pos = 0, stage_at;
	struct bpf_insn *insns;

	for (i = 0; i < cnt; i++)
		head += dispatch_len(stages[i].continue_on ?: default_continue_on(type),
				     i + 1 == cnt);
	total = head;
	for (i = 0; i < cnt; i++)
		total += bpf_program__insn_cnt(stages[i].prog);
	if (total > FUSE_INSNS_MAX) {
		pr_warn("fuse: %zu instructions in all, more than a program may have (%u)\n", total,
			FUSE_INSNS_MAX);
		errno = E2BIG;
		return NULL;
	}
	insns = calloc(total, sizeof(*insns));
	if (!insns)
		return NULL;

	insns[pos++] = insn_make(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	stage_at = head;
	for (i = 0; i < cnt; i++) {
		uint64_t set = stages[i].continue_on ?: default_continue_on(type);
		bool last = i + 1 == cnt;
		size_t tests = last ? 0 : (size_t)__builtin_popcountll(set), t = 0;
		unsigned int bit;

		insns[pos++] = insn_make(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
		/* The call's target is pc + 1 + imm. */
		insns[pos] = insn_make(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0,
				       (int32_t)(stage_at - pos - 1));
		pos++;
		for (bit = 0; bit < 64 && !last; bit++) {
			if (!(set & (1ULL << bit)))
				continue;
			/* Skip the remaining tests and the exit: land on the next stage's r1 = r6. */
			insns[pos] = insn_make(BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_0, 0,
					       (int16_t)(tests - t), bit == 63 ? -1 : (int32_t)bit);
			pos++;
			t++;
		}
		insns[pos++] = insn_make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		memcpy(&insns[stage_at], bpf_program__insns(stages[i].prog),
		       bpf_program__insn_cnt(stages[i].prog) * sizeof(*insns));
		stage_at += bpf_program__insn_cnt(stages[i].prog);
	}
	*ret_cnt = total;
	return insns;
}

int bpk_fuse__load(const struct bpk_fuse_stage *stages, size_t cnt,
		   const struct bpk_fuse_opts *opts, int *ret_prog_fd)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_free_ char *own_log = NULL;
	const char *name = OPTS_GET(opts, name, NULL) ?: FUSE_DEFAULT_NAME;
	char *log_buf = OPTS_GET(opts, log_buf, NULL);
	size_t log_size = OPTS_GET(opts, log_size, 0), insn_cnt = 0;
	enum bpf_prog_type type;
	int fd, err;

	if (!ret_prog_fd)
		return -EINVAL;
	err = check_stages(stages, cnt);
	if (err)
		return err;
	type = bpf_program__type(stages[0].prog);
	insns = build(stages, cnt, type, &insn_cnt);
	if (!insns)
		return -errno;

	if (!log_buf || log_size < 2) {
		own_log = malloc(FUSE_LOG_SIZE);
		if (!own_log)
			return -ENOMEM;
		log_buf = own_log;
		log_size = FUSE_LOG_SIZE;
	}
	log_buf[0] = '\0';
	LIBBPF_OPTS(bpf_prog_load_opts, load,
		    .expected_attach_type = bpf_program__expected_attach_type(stages[0].prog),
		    .prog_flags = bpf_program__flags(stages[0].prog) & BPF_F_XDP_HAS_FRAGS);
	/* A log only for a refusal: asking for one makes every load slower. */
	fd = bpf_prog_load(type, name, "GPL", insns, insn_cnt, &load);
	if (fd < 0) {
		/*
		 * The first answer is the one to return: the second, with a log, may be
		 * ENOSPC when the log outgrows the buffer (the kernel keeps its tail).
		 */
		err = -errno;
		if (err != -EPERM) {
			load.log_buf = log_buf;
			load.log_size = log_size > UINT32_MAX ? UINT32_MAX : (uint32_t)log_size;
			load.log_level = 1;
			fd = bpf_prog_load(type, name, "GPL", insns, insn_cnt, &load);
			if (fd >= 0) {
				/* It passed this time: the first refusal was not the verifier's. */
				*ret_prog_fd = fd;
				return 0;
			}
		}
		pr_warn("fuse: the verifier refused the fused chain of %zu stages (%zu instructions): %s\n%s",
			cnt, insn_cnt, strerror(-err), log_buf[0] ? bpk_log_tail(log_buf, 6) : "");
		return err;
	}
	*ret_prog_fd = fd;
	return 0;
}
