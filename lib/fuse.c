// SPDX-License-Identifier: BSD-2-Clause
/* Fused chains: loaded XDP or TC programs run in order as one verified program. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpk_internal.h"
#include "fuse_internal.h"

/* The most instructions a privileged program may have (BPF_COMPLEXITY_LIMIT_INSNS). */
#define FUSE_INSNS_MAX 1000000U
#define FUSE_LOG_SIZE (1U << 20)
#define FUSE_DEFAULT_NAME "bpk_fused"
/* MAX_BPF_STACK: the stack of one program, all its frames along one call chain together. */
#define FUSE_STACK_MAX 512U
/* BPF_LOG_STATS (include/linux/bpf_verifier.h): the verifier's statistics only. */
#define BPF_LOG_STATS_LEVEL 4U
#define FUSE_STATS_LOG_SIZE 4096

/* Where a refusal's reason goes besides the print callback: the caller's buffer, if any. */
struct why {
	char *buf;
	size_t size;
};

__attribute__((format(printf, 2, 3))) static void refuse(const struct why *why, const char *fmt,
							 ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pr_warn("fuse: %s\n", line);
	if (why && why->buf && why->size)
		snprintf(why->buf, why->size, "%s", line);
}

static const char *stage_name(const struct bpf_program *prog)
{
	return bpf_program__name(prog) ?: "?";
}

static uint64_t default_continue_on(enum bpf_prog_type type)
{
	return type == BPF_PROG_TYPE_XDP ? BPK_FUSE_VERDICT(XDP_PASS) : BPK_FUSE_VERDICT(TC_ACT_OK);
}

/* What in a stage's final instructions cannot run as a subprogram of another program. */
static int check_insns(const struct bpf_program *prog, bool with_object, const struct why *why)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t i, cnt = bpf_program__insn_cnt(prog);

	if (!insns || !cnt) {
		refuse(why, "'%s' has no instructions", stage_name(prog));
		return -EINVAL;
	}
	for (i = 0; i < cnt; i++) {
		const struct bpf_insn *insn = &insns[i];
		uint8_t class = BPF_CLASS(insn->code);

		if (insn->code == (BPF_JMP | BPF_CALL)) {
			if (insn->src_reg == 0 && insn->imm == BPF_FUNC_tail_call) {
				refuse(why, "'%s' calls bpf_tail_call (instruction %zu): a tail call from a fused stage would end the whole fused program",
					stage_name(prog), i);
				return -EOPNOTSUPP;
			}
			/*
			 * A kfunc of vmlinux is named by its BTF id and fuses as it is; one of a
			 * module also by an index into the stage's fd_array, which libbpf 1.1
			 * does not use and bpk could not carry over.
			 */
			if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL && insn->off) {
				refuse(why, "'%s' calls a kfunc of a module (instruction %zu), which would need the stage's fd_array",
					stage_name(prog), i);
				return -EOPNOTSUPP;
			}
		} else if (class == BPF_LD && (BPF_MODE(insn->code) == BPF_ABS ||
					       BPF_MODE(insn->code) == BPF_IND)) {
			refuse(why, "'%s' uses LD_ABS/LD_IND (instruction %zu), which the kernel refuses next to BPF-to-BPF calls",
				stage_name(prog), i);
			return -EOPNOTSUPP;
		} else if (insn->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			/*
			 * Map fds and map values stay valid while the stage's object is open; a
			 * kernel BTF id names vmlinux, not the object. A function pointer (a
			 * bpf_loop, for_each or timer callback) moves with the stage, but the
			 * verifier takes one only with BTF func_info ("missing btf func_info"),
			 * which the fused program has only when the stage's object is given.
			 * fd_array indexes would need the stage's fd_array, which libbpf 1.1 does
			 * not use.
			 */
			switch (insn->src_reg) {
			case 0:
			case BPF_PSEUDO_MAP_FD:
			case BPF_PSEUDO_MAP_VALUE:
			case BPF_PSEUDO_BTF_ID:
				break;
			case BPF_PSEUDO_FUNC:
				if (with_object)
					break;
				refuse(why, "'%s' passes a callback (instruction %zu), which the verifier takes only with BTF func_info (give the stage's object)",
					stage_name(prog), i);
				return -EOPNOTSUPP;
			default:
				refuse(why, "'%s' loads a 64-bit immediate of kind %u (instruction %zu), which bpk cannot move",
					stage_name(prog), insn->src_reg, i);
				return -EOPNOTSUPP;
			}
			i++; /* the second half of the ld_imm64 */
		}
	}
	return 0;
}

static int check_prog(const struct bpf_program *prog, bool with_object, const struct why *why)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	enum bpf_prog_type type;
	int fd;

	if (!prog)
		return -EINVAL;
	fd = bpf_program__fd(prog);
	if (fd < 0) {
		refuse(why, "'%s' is not loaded: load its object first", stage_name(prog));
		return -EINVAL;
	}
	type = bpf_program__type(prog);
	if (type != BPF_PROG_TYPE_XDP && type != BPF_PROG_TYPE_SCHED_CLS) {
		refuse(why, "'%s' is a program of type %s; only xdp and sched_cls programs fuse",
			stage_name(prog), libbpf_bpf_prog_type_str(type) ?: "?");
		return -EOPNOTSUPP;
	}
	/* The kernel's own judgement of the stage's license, made when it was loaded. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (!info.gpl_compatible) {
		refuse(why, "'%s' is not under a GPL-compatible license: its code cannot go into a program loaded as GPL",
			stage_name(prog));
		return -EACCES;
	}
	return check_insns(prog, with_object, why);
}

int bpk_fuse__check(const struct bpf_program *prog, char *reason, size_t reason_size)
{
	struct why why = { reason, reason_size };

	if (reason && reason_size)
		reason[0] = '\0';
	return check_prog(prog, false, &why);
}

/* Every stage fusable, and all of one type, attach type and frags flag. */
static int check_stages(const struct bpk_fuse_stage *stages, size_t cnt, const struct why *why)
{
	const struct bpf_program *first;
	size_t i;
	int err;

	if (!stages || !cnt) {
		refuse(why, "an empty chain has nothing to fuse");
		return -EINVAL;
	}
	for (i = 0; i < cnt; i++) {
		err = check_prog(stages[i].prog, stages[i].object != NULL, why);
		if (err) {
			if (!stages[i].prog)
				refuse(why, "stage %zu has no program", i + 1);
			return err;
		}
	}
	first = stages[0].prog;
	for (i = 1; i < cnt; i++) {
		const struct bpf_program *prog = stages[i].prog;

		if (bpf_program__type(prog) != bpf_program__type(first) ||
		    bpf_program__expected_attach_type(prog) !=
			    bpf_program__expected_attach_type(first)) {
			refuse(why, "stage %zu ('%s', %s) is not of the first stage's type ('%s', %s) and attach type",
				i + 1, stage_name(prog),
				libbpf_bpf_prog_type_str(bpf_program__type(prog)) ?: "?",
				stage_name(first),
				libbpf_bpf_prog_type_str(bpf_program__type(first)) ?: "?");
			return -EINVAL;
		}
		if ((bpf_program__flags(prog) ^ bpf_program__flags(first)) & BPF_F_XDP_HAS_FRAGS) {
			refuse(why, "stage %zu ('%s') and the first stage ('%s') disagree on xdp.frags",
				i + 1, stage_name(prog), stage_name(first));
			return -EINVAL;
		}
	}
	return 0;
}

/* Where a layout put a stage: its main body at main_at, its subprograms from sub_at. */
struct place {
	size_t main_at;
	size_t main_len;
	size_t sub_at;
};

/* Instructions the call layout's dispatcher needs for a stage: r1 = r6, call, verdict tests. */
static size_t dispatch_len(uint64_t continue_on, bool last)
{
	return last ? 3 : 3 + (size_t)__builtin_popcountll(continue_on);
}

static struct bpf_insn insn_make(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

static uint64_t stage_continue_on(const struct bpk_fuse_stage *stage, enum bpf_prog_type type)
{
	return stage->continue_on ?: default_continue_on(type);
}

/*
 * After a stage: "if w0 == v goto next" for each verdict v it continues on, then exit with the
 * verdict; next is the instruction right after. Returns where it stopped writing.
 */
static size_t emit_verdict_tests(struct bpf_insn *insns, size_t pos, uint64_t set)
{
	size_t tests = (size_t)__builtin_popcountll(set), t = 0;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(set & (1ULL << bit)))
			continue;
		insns[pos++] = insn_make(BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_0, 0,
					 (int16_t)(tests - t), bit == 63 ? -1 : (int32_t)bit);
		t++;
	}
	insns[pos++] = insn_make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return pos;
}

/*
 * The call layout, which every kernel with BPF-to-BPF calls takes:
 *	r6 = r1
 *	for each stage: r1 = r6; call stage; then, but for the last,
 *		if w0 == v goto next   (one per verdict v of continue_on)
 *		exit                   (r0 is the stage's verdict)
 *	   next:
 *	after the last stage: exit
 *	stage 1's instructions, stage 2's, ...
 * A stage's own calls are relative to themselves, so its block moves as a whole; its map fds
 * are the ones libbpf resolved in its object.
 */
static struct bpf_insn *build_calls(const struct bpk_fuse_stage *stages, size_t cnt,
				    enum bpf_prog_type type, const struct why *why,
				    struct place *places, size_t *ret_cnt)
{
	size_t head = 1, total, i, pos = 0, stage_at;
	struct bpf_insn *insns;

	for (i = 0; i < cnt; i++)
		head += dispatch_len(stage_continue_on(&stages[i], type), i + 1 == cnt);
	total = head;
	for (i = 0; i < cnt; i++)
		total += bpf_program__insn_cnt(stages[i].prog);
	if (total > FUSE_INSNS_MAX) {
		refuse(why, "%zu instructions in all, more than a program may have (%u)", total,
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
		insns[pos++] = insn_make(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
		/* The call's target is pc + 1 + imm. */
		insns[pos] = insn_make(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0,
				       (int32_t)(stage_at - pos - 1));
		pos++;
		if (i + 1 < cnt)
			pos = emit_verdict_tests(insns, pos, stage_continue_on(&stages[i], type));
		else
			insns[pos++] = insn_make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		memcpy(&insns[stage_at], bpf_program__insns(stages[i].prog),
		       bpf_program__insn_cnt(stages[i].prog) * sizeof(*insns));
		/* The whole block moves: its subprograms stay right after its main body. */
		places[i] = (struct place){ stage_at, bpf_program__insn_cnt(stages[i].prog), stage_at };
		stage_at += bpf_program__insn_cnt(stages[i].prog);
	}
	*ret_cnt = total;
	return insns;
}

static bool is_pseudo_call(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP | BPF_CALL) && insn->src_reg == BPF_PSEUDO_CALL;
}

/* A call of a subprogram, or a callback's address (ld_imm64): both at pc + 1 + imm. */
static bool refers_to_subprog(const struct bpf_insn *insn)
{
	return is_pseudo_call(insn) ||
	       (insn->code == (BPF_LD | BPF_IMM | BPF_DW) && insn->src_reg == BPF_PSEUDO_FUNC);
}

/* How many instructions of a stage are its main body: up to its first subprogram. */
static size_t main_body_len(const struct bpf_program *prog)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t i, cnt = bpf_program__insn_cnt(prog), end = cnt;

	for (i = 0; i < cnt; i++) {
		long target = (long)i + 1 + insns[i].imm;

		if (refers_to_subprog(&insns[i]) && target > 0 && (size_t)target < end)
			end = (size_t)target;
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW))
			i++;
	}
	return end;
}

/*
 * The stack depth the verifier gave each subprogram of a program it accepted, from the
 * "stack depth 24+0+8" line of a BPF_LOG_STATS log, in the order of the subprograms' first
 * instructions. Returns how many it found, or -1.
 */
static int parse_stack_depths(const char *log, unsigned int *depths, int max)
{
	const char *p = strstr(log, "stack depth ");
	int n = 0;

	if (!p)
		return -1;
	p += strlen("stack depth ");
	while (n < max) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			break;
		depths[n++] = (unsigned int)v;
		if (*end != '+')
			break;
		p = end + 1;
	}
	return n ? n : -1;
}

/* How many subprograms a stage brings to the call layout: its main body, each function it calls. */
static size_t subprog_count(const struct bpf_program *prog)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t i, cnt = bpf_program__insn_cnt(prog), n = 1;
	_cleanup_free_ bool *start = calloc(cnt, sizeof(*start));

	if (!start)
		return 0;
	for (i = 0; i < cnt; i++) {
		long target = (long)i + 1 + insns[i].imm;

		if (refers_to_subprog(&insns[i]) && target > 0 && (size_t)target < cnt &&
		    !start[target]) {
			start[target] = true;
			n++;
		}
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW))
			i++;
	}
	return n;
}

/*
 * The deepest main-body stack frame of all stages, from the verifier's statistics of the
 * call layout, whose subprograms are the dispatcher, then each stage's main body and its
 * subprograms in order. The verifier drops a subprogram no path reaches (every stage after
 * one that always stops the chain); then which depth is whose is lost, and the deepest frame
 * of all stands for them. -ENODATA when the log does not say.
 */
static int deepest_main_frame(const struct bpk_fuse_stage *stages, size_t cnt, const char *log,
			      unsigned int *ret_depth)
{
	unsigned int depths[1024], deepest = 0;
	int found = parse_stack_depths(log, depths, (int)ARRAY_SIZE(depths));
	size_t i, expected = 1, index = 1;

	/* A list cut short could leave out the deepest frame: then the calls stay. */
	if (found < 0 || found >= (int)ARRAY_SIZE(depths))
		return -ENODATA;
	for (i = 0; i < cnt; i++)
		expected += subprog_count(stages[i].prog);
	if (expected != (size_t)found) {
		for (i = 0; i < (size_t)found; i++)
			deepest = depths[i] > deepest ? depths[i] : deepest;
		*ret_depth = deepest;
		return 0;
	}
	for (i = 0; i < cnt; i++) {
		if (depths[index] > deepest)
			deepest = depths[index];
		index += subprog_count(stages[i].prog);
	}
	*ret_depth = deepest;
	return 0;
}

/* An unconditional jump from pc to target: ja when it reaches, else gotol (kernel 6.6+). */
static struct bpf_insn jump_to(size_t pc, size_t target)
{
	long off = (long)target - (long)pc - 1;

	if (off >= INT16_MIN && off <= INT16_MAX)
		return insn_make(BPF_JMP | BPF_JA, 0, 0, (int16_t)off, 0);
	return insn_make(BPF_JMP32 | BPF_JA, 0, 0, 0, (int32_t)off);
}

/*
 * The inline layout: no call per stage, so no return per stage (each return costs a return
 * thunk where the CPU needs one, as this project's machines do against SRSO):
 *	*(u64 *)(r10 - slot) = r1      ctx, below every stage's main frame
 *	stage 1's main body, each exit now "goto done_1"
 *   done_1:
 *	if w0 == v goto next           (one per verdict v of continue_on)
 *	exit
 *   next:
 *	r1 = *(u64 *)(r10 - slot)
 *	stage 2's main body ...        (the last stage's exits stay exits)
 *	stage 1's subprograms, stage 2's, ...  (each stage's calls retargeted)
 * The stages run one after the other in one frame: each writes its stack before reading it,
 * as the verifier made it do when it loaded alone, and none reaches the slot.
 */
static struct bpf_insn *build_inline(const struct bpk_fuse_stage *stages, size_t cnt,
				     enum bpf_prog_type type, unsigned int slot, struct place *places,
				     size_t *ret_cnt)
{
	size_t total = 1, i, pos = 0, sub_at;
	struct bpf_insn *insns;

	for (i = 0; i < cnt; i++) {
		total += bpf_program__insn_cnt(stages[i].prog);
		if (i)
			total++;
		if (i + 1 < cnt)
			total += 1 + (size_t)__builtin_popcountll(stage_continue_on(&stages[i], type));
	}
	if (total > FUSE_INSNS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	insns = calloc(total, sizeof(*insns));
	if (!insns)
		return NULL;

	sub_at = total;
	for (i = 0; i < cnt; i++)
		sub_at -= bpf_program__insn_cnt(stages[i].prog) - main_body_len(stages[i].prog);

	insns[pos++] = insn_make(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1,
				 (int16_t)-(int)slot, 0);
	for (i = 0; i < cnt; i++) {
		const struct bpf_insn *stage = bpf_program__insns(stages[i].prog);
		size_t len = main_body_len(stages[i].prog), all = bpf_program__insn_cnt(stages[i].prog);
		size_t body_at, done, k;
		bool last = i + 1 == cnt;

		if (i)
			insns[pos++] = insn_make(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10,
						 (int16_t)-(int)slot, 0);
		body_at = pos;
		done = body_at + len;
		for (k = 0; k < len; k++, pos++) {
			insns[pos] = stage[k];
			if (refers_to_subprog(&stage[k])) {
				size_t target = sub_at + (size_t)((long)k + 1 + stage[k].imm) - len;

				insns[pos].imm = (int32_t)((long)target - (long)pos - 1);
			}
			if (stage[k].code == (BPF_LD | BPF_IMM | BPF_DW))
				insns[++pos] = stage[++k];
			else if (stage[k].code == (BPF_JMP | BPF_EXIT) && !last)
				insns[pos] = jump_to(pos, done);
		}
		if (!last)
			pos = emit_verdict_tests(insns, pos, stage_continue_on(&stages[i], type));
		memcpy(&insns[sub_at], &stage[len], (all - len) * sizeof(*insns));
		places[i] = (struct place){ body_at, len, sub_at };
		sub_at += all - len;
	}
	*ret_cnt = total;
	return insns;
}

/* The fused program's BTF, func info and line info, built from its stages'. */
struct fused_btf {
	struct btf *btf;
	struct bpf_func_info *funcs;
	size_t func_cnt;
	struct bpf_line_info *lines;
	size_t line_cnt;
};

static void fused_btf_release(struct fused_btf *fb)
{
	btf__free(fb->btf);
	free(fb->funcs);
	free(fb->lines);
	memset(fb, 0, sizeof(*fb));
}

static size_t place_of(const struct place *pl, size_t insn)
{
	return insn < pl->main_len ? pl->main_at + insn : pl->sub_at + insn - pl->main_len;
}

static int by_insn_off(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A stage's line record, placed at insn with its strings copied into btf. -ENOMEM. */
static int line_copy(struct btf *btf, const struct fuse_stage_btf *sb,
		     const struct bpf_line_info *l, size_t insn, struct bpf_line_info *ret)
{
	int file = btf__add_str(btf, btf__str_by_offset(sb->btf, l->file_name_off) ?: "");
	int line = btf__add_str(btf, btf__str_by_offset(sb->btf, l->line_off) ?: "");

	if (file < 0 || line < 0)
		return -ENOMEM;
	*ret = (struct bpf_line_info){ .insn_off = (uint32_t)insn, .file_name_off = (uint32_t)file,
				       .line_off = (uint32_t)line, .line_col = l->line_col };
	return 0;
}

/*
 * The fused program's BTF: every stage's types appended, a function "name" at instruction 0
 * with the first stage's prototype (inlined, the stages' main bodies are its body; with calls,
 * each main body is a static function of its own name), the stages' subprograms with their
 * own types, and every stage's source lines where its instructions went, the first line
 * also standing for the dispatcher's instruction 0.
 */
static int fused_btf_build(const struct fuse_stage_btf *sbs, size_t cnt,
			   const struct place *places, bool inlined, const char *name,
			   struct fused_btf *ret)
{
	struct fused_btf fb = { 0 };
	const struct btf_type *t;
	size_t i, j, funcs = 1, lines = 1;
	int main_proto = -1, main_id, err = -ENOMEM;

	for (i = 0; i < cnt; i++) {
		funcs += sbs[i].func_cnt;
		lines += sbs[i].line_cnt;
	}
	fb.btf = btf__new_empty();
	fb.funcs = calloc(funcs, sizeof(*fb.funcs));
	fb.lines = calloc(lines, sizeof(*fb.lines));
	if (!fb.btf || !fb.funcs || !fb.lines)
		goto fail;
	for (i = 0; i < cnt; i++) {
		/* The stage's type ids move up by what came before it. */
		int first = btf__add_btf(fb.btf, sbs[i].btf), shift = first - 1;

		if (first < 0)
			goto fail;
		for (j = 0; j < sbs[i].func_cnt; j++) {
			struct bpf_func_info f = sbs[i].funcs[j];

			f.type_id += (uint32_t)shift;
			t = btf__type_by_id(fb.btf, f.type_id);
			if (!t || !btf_is_func(t)) {
				err = -EINVAL;
				goto fail;
			}
			if (f.insn_off == 0) {
				if (i == 0)
					main_proto = (int)t->type;
				if (inlined)
					continue;
				/*
				 * A stage's program, called as a subprogram: static, so checked in
				 * context. Its name is copied first: adding to fb.btf moves its strings.
				 */
				char *fn = strdup(btf__name_by_offset(fb.btf, t->name_off) ?: "");
				int id = fn ? btf__add_func(fb.btf, fn, BTF_FUNC_STATIC, (int)t->type)
					    : -ENOMEM;

				free(fn);
				if (id < 0) {
					err = id;
					goto fail;
				}
				f.type_id = (uint32_t)id;
			}
			f.insn_off = (uint32_t)place_of(&places[i], f.insn_off);
			fb.funcs[fb.func_cnt++] = f;
		}
		for (j = 0; j < sbs[i].line_cnt; j++) {
			if (line_copy(fb.btf, &sbs[i], &sbs[i].lines[j],
				      place_of(&places[i], sbs[i].lines[j].insn_off),
				      &fb.lines[fb.line_cnt++]))
				goto fail;
		}
	}
	if (main_proto < 0)
		goto fail;
	main_id = btf__add_func(fb.btf, name, BTF_FUNC_GLOBAL, main_proto);
	if (main_id < 0) {
		err = main_id;
		goto fail;
	}
	fb.funcs[fb.func_cnt++] = (struct bpf_func_info){ .type_id = (uint32_t)main_id };
	if (line_copy(fb.btf, &sbs[0], &sbs[0].lines[0], 0, &fb.lines[fb.line_cnt++]))
		goto fail;
	qsort(fb.funcs, fb.func_cnt, sizeof(*fb.funcs), by_insn_off);
	qsort(fb.lines, fb.line_cnt, sizeof(*fb.lines), by_insn_off);
	/* The kernel wants line records strictly in order: one an instruction at most. */
	for (i = j = 0; i < fb.line_cnt; i++)
		if (!j || fb.lines[i].insn_off != fb.lines[j - 1].insn_off)
			fb.lines[j++] = fb.lines[i];
	fb.line_cnt = j;
	err = btf__load_into_kernel(fb.btf);
	if (err)
		goto fail;
	*ret = fb;
	return 0;
fail:
	fused_btf_release(&fb);
	return err;
}

/*
 * Load insns as the fused program, with fb's BTF when it is not NULL; with a log of level
 * log_level into log_buf when asked. Returns the fd or -errno.
 */
static int load_fused(enum bpf_prog_type type, const struct bpk_fuse_stage *stages,
		      const char *name, const struct bpf_insn *insns, size_t cnt,
		      const struct fused_btf *fb, char *log_buf, size_t log_size, uint32_t log_level)
{
	LIBBPF_OPTS(bpf_prog_load_opts, load,
		    .expected_attach_type = bpf_program__expected_attach_type(stages[0].prog),
		    .prog_flags = bpf_program__flags(stages[0].prog) & BPF_F_XDP_HAS_FRAGS);
	int fd;

	if (fb) {
		load.prog_btf_fd = (uint32_t)btf__fd(fb->btf);
		load.func_info = fb->funcs;
		load.func_info_cnt = (uint32_t)fb->func_cnt;
		load.func_info_rec_size = sizeof(*fb->funcs);
		load.line_info = fb->lines;
		load.line_info_cnt = (uint32_t)fb->line_cnt;
		load.line_info_rec_size = sizeof(*fb->lines);
	}

	if (log_level) {
		log_buf[0] = '\0';
		load.log_buf = log_buf;
		load.log_size = log_size > UINT32_MAX >> 2 ? UINT32_MAX >> 2 : (uint32_t)log_size;
		load.log_level = log_level;
	}
	fd = bpf_prog_load(type, name, "GPL", insns, cnt, &load);
	return fd < 0 ? -errno : fd;
}

/*
 * The stages' BTF, functions and lines, when every stage gave the object it was loaded from
 * and each reads; else NULL (the fused program goes without BTF).
 */
static struct fuse_stage_btf *stages_btf(const struct bpk_fuse_stage *stages, size_t cnt)
{
	struct fuse_stage_btf *sbs = calloc(cnt, sizeof(*sbs));
	size_t i;
	int err = 0;

	for (i = 0; sbs && i < cnt; i++) {
		err = stages[i].object ? fuse_stage_btf_read(stages[i].prog, stages[i].object,
							     stages[i].object_size, &sbs[i])
				       : -ENOENT;
		if (err) {
			pr_debug("fuse: stage %zu ('%s') brings no BTF (%s); the fused program goes without\n",
				 i + 1, stage_name(stages[i].prog), strerror(-err));
			while (i--)
				fuse_stage_btf_release(&sbs[i]);
			free(sbs);
			return NULL;
		}
	}
	return sbs;
}

static void stages_btf_free(struct fuse_stage_btf *sbs, size_t cnt)
{
	size_t i;

	for (i = 0; sbs && i < cnt; i++)
		fuse_stage_btf_release(&sbs[i]);
	free(sbs);
}

/*
 * Load a layout with the stages' BTF when there is some, else (or when the kernel refuses
 * it) without: the fd or -errno; *ret_btf says which.
 */
static int load_layout(enum bpf_prog_type type, const struct bpk_fuse_stage *stages, size_t cnt,
		       const char *name, const struct bpf_insn *insns, size_t insn_cnt,
		       const struct place *places, bool inlined, const struct fuse_stage_btf *sbs,
		       char *log_buf, size_t log_size, uint32_t log_level, bool *ret_btf)
{
	struct fused_btf fb;
	int fd;

	*ret_btf = false;
	if (sbs && fused_btf_build(sbs, cnt, places, inlined, name, &fb) == 0) {
		fd = load_fused(type, stages, name, insns, insn_cnt, &fb, log_buf, log_size,
				log_level);
		fused_btf_release(&fb);
		if (fd >= 0) {
			*ret_btf = true;
			return fd;
		}
		pr_debug("fuse: the %s layout with its stages' BTF was refused (%s); loading it without\n",
			 inlined ? "inline" : "call", strerror(-fd));
	}
	return load_fused(type, stages, name, insns, insn_cnt, NULL, log_buf, log_size, log_level);
}

/*
 * The inline layout of the stages, when it loads: its fd, or a negative errno with the
 * reason at debug level (the call layout then stays). stats is the call layout's
 * BPF_LOG_STATS log.
 */
static int load_inline(const struct bpk_fuse_stage *stages, size_t cnt, enum bpf_prog_type type,
		       const char *name, const char *stats, const struct fuse_stage_btf *sbs,
		       bool *ret_btf)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_free_ struct place *places = calloc(cnt, sizeof(*places));
	unsigned int deepest, slot;
	size_t insn_cnt = 0;
	int fd, err;

	if (!places)
		return -ENOMEM;
	err = deepest_main_frame(stages, cnt, stats, &deepest);
	if (err) {
		pr_debug("fuse: the verifier did not give the stages' stack depths; calls kept\n");
		return err;
	}
	slot = (deepest + 7) / 8 * 8 + 8;
	if (slot > FUSE_STACK_MAX) {
		pr_debug("fuse: a stage's frame of %u bytes leaves no room for the context; calls kept\n",
			 deepest);
		return -E2BIG;
	}
	insns = build_inline(stages, cnt, type, slot, places, &insn_cnt);
	if (!insns)
		return -errno;
	fd = load_layout(type, stages, cnt, name, insns, insn_cnt, places, true, sbs, NULL, 0, 0,
			 ret_btf);
	if (fd < 0)
		pr_debug("fuse: the verifier refused the inline layout (%s); calls kept\n",
			 strerror(-fd));
	return fd;
}

int bpk_fuse__load(const struct bpk_fuse_stage *stages, size_t cnt,
		   struct bpk_fuse_opts *opts, int *ret_prog_fd)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_free_ struct place *places = NULL;
	_cleanup_free_ char *own_log = NULL;
	const char *name = OPTS_GET(opts, name, NULL) ?: FUSE_DEFAULT_NAME;
	char *log_buf = OPTS_GET(opts, log_buf, NULL);
	size_t log_size = OPTS_GET(opts, log_size, 0), insn_cnt = 0;
	unsigned int flags = OPTS_GET(opts, flags, 0);
	struct why why = { OPTS_GET(opts, reason, NULL), OPTS_GET(opts, reason_size, 0) };
	struct fuse_stage_btf *sbs = NULL;
	char stats[FUSE_STATS_LOG_SIZE];
	bool calls_btf = false, inline_btf = false;
	enum bpf_prog_type type;
	int fd, err, inline_fd;

	if (!ret_prog_fd)
		return -EINVAL;
	if (why.buf && why.size)
		why.buf[0] = '\0';
	err = check_stages(stages, cnt, &why);
	if (err)
		return err;
	type = bpf_program__type(stages[0].prog);
	places = calloc(cnt, sizeof(*places));
	if (!places)
		return -ENOMEM;
	insns = build_calls(stages, cnt, type, &why, places, &insn_cnt);
	if (!insns)
		return -errno;
	sbs = stages_btf(stages, cnt);

	/*
	 * The call layout first: every kernel with BPF-to-BPF calls takes it, and its load's
	 * statistics give each stage's frame size, which the inline layout needs. The stats
	 * log costs nothing; a full log is asked for only to explain a refusal, since it makes
	 * a load slower.
	 */
	fd = load_layout(type, stages, cnt, name, insns, insn_cnt, places, false, sbs, stats,
			 sizeof(stats), BPF_LOG_STATS_LEVEL, &calls_btf);
	if (fd < 0) {
		err = fd;
		if (!log_buf || log_size < 2) {
			own_log = malloc(FUSE_LOG_SIZE);
			if (!own_log) {
				stages_btf_free(sbs, cnt);
				return -ENOMEM;
			}
			log_buf = own_log;
			log_size = FUSE_LOG_SIZE;
		}
		log_buf[0] = '\0';
		/*
		 * The first answer is the one to return: the second, with a log, may be
		 * ENOSPC when the log outgrows the buffer (the kernel keeps its tail).
		 */
		if (err != -EPERM) {
			fd = load_fused(type, stages, name, insns, insn_cnt, NULL, log_buf, log_size,
					1);
			if (fd >= 0) {
				/*
				 * It passed this time: the first refusal was not the verifier's
				 * (the statistics overflowing their buffer). The calls stay.
				 */
				if (OPTS_HAS(opts, inlined))
					opts->inlined = false;
				if (OPTS_HAS(opts, btf))
					opts->btf = false;
				stages_btf_free(sbs, cnt);
				*ret_prog_fd = fd;
				return 0;
			}
		}
		stages_btf_free(sbs, cnt);
		pr_warn("fuse: the verifier refused the fused chain of %zu stages (%zu instructions): %s\n%s",
			cnt, insn_cnt, strerror(-err), log_buf[0] ? bpk_log_tail(log_buf, 6) : "");
		if (why.buf && why.size) {
			/* The log's last line (before the statistics, when it has them) says why. */
			const char *last = bpk_log_tail(log_buf, 1);
			int len = (int)strcspn(last, "\n");

			if (str_has_prefix(last, "processed ") || !len)
				last = bpk_log_tail(log_buf, 2), len = (int)strcspn(last, "\n");
			snprintf(why.buf, why.size, "the verifier refused the fused chain of %zu stages (%s)%s%.*s",
				 cnt, strerror(-err), len ? ": " : "", len, last);
		}
		return err;
	}
	inline_fd = flags & BPK_FUSE_F_CALLS
			    ? -1
			    : load_inline(stages, cnt, type, name, stats, sbs, &inline_btf);
	stages_btf_free(sbs, cnt);
	if (inline_fd >= 0) {
		close(fd);
		fd = inline_fd;
	}
	if (OPTS_HAS(opts, inlined))
		opts->inlined = inline_fd >= 0;
	if (OPTS_HAS(opts, btf))
		opts->btf = inline_fd >= 0 ? inline_btf : calls_btf;
	*ret_prog_fd = fd;
	return 0;
}
