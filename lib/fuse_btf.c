// SPDX-License-Identifier: BSD-2-Clause
/*
 * BTF for fused programs: each stage's functions and source lines, read from its object's
 * .BTF.ext, which libbpf 1.1 keeps to itself (bpf_program__func_info() came in libbpf 1.3).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpk_internal.h"
#include "fuse_internal.h"

#define BTF_EXT_MAGIC 0xeB9F

/* include/uapi/linux/btf.h's .BTF.ext header, as far as func and line info go. */
struct btf_ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off;
	uint32_t func_info_len;
	uint32_t line_info_off;
	uint32_t line_info_len;
};

struct elf_view {
	Elf *elf;
	size_t shstrndx;
	Elf_Data *symtab;
	size_t symtab_cnt;
};

static Elf_Scn *section_by_name(const struct elf_view *v, const char *name, size_t *ret_index)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(v->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(v->elf, v->shstrndx, sh.sh_name);
		if (n && !strcmp(n, name)) {
			if (ret_index)
				*ret_index = elf_ndxscn(scn);
			return scn;
		}
	}
	return NULL;
}

/* The instruction offset of function name in section index, and its length; -ENOENT. */
static int function_place(const struct elf_view *v, size_t index, const char *name,
			  size_t *ret_off, size_t *ret_len)
{
	GElf_Shdr sh;
	size_t i, strtab;
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(v->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	if (!scn)
		return -ENOENT;
	strtab = sh.sh_link;
	for (i = 0; i < v->symtab_cnt; i++) {
		GElf_Sym sym;
		const char *n;

		if (!gelf_getsym(v->symtab, (int)i, &sym) || sym.st_shndx != index ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		n = elf_strptr(v->elf, strtab, sym.st_name);
		if (n && !strcmp(n, name)) {
			*ret_off = sym.st_value / sizeof(struct bpf_insn);
			*ret_len = sym.st_size / sizeof(struct bpf_insn);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The records of one kind (func or line info) of section sec_name in a .BTF.ext info block:
 * a pointer to the first, their count and size. Section names are in the object's BTF.
 */
static const void *ext_records(const uint8_t *block, size_t len, const struct btf *raw_btf,
			       const char *sec_name, size_t min_size, uint32_t *ret_cnt,
			       uint32_t *ret_size)
{
	uint32_t rec_size;
	size_t pos = sizeof(uint32_t);

	if (len < sizeof(uint32_t))
		return NULL;
	memcpy(&rec_size, block, sizeof(rec_size));
	if (rec_size < min_size)
		return NULL;
	while (pos + 2 * sizeof(uint32_t) <= len) {
		uint32_t name_off, cnt;
		const char *name;

		memcpy(&name_off, block + pos, sizeof(name_off));
		memcpy(&cnt, block + pos + sizeof(uint32_t), sizeof(cnt));
		pos += 2 * sizeof(uint32_t);
		if ((uint64_t)cnt * rec_size > len - pos)
			return NULL;
		name = btf__str_by_offset(raw_btf, name_off);
		if (name && !strcmp(name, sec_name)) {
			*ret_cnt = cnt;
			*ret_size = rec_size;
			return block + pos;
		}
		pos += (size_t)cnt * rec_size;
	}
	return NULL;
}

/*
 * Whether the final instructions at insns (len of them) are the ELF's function at text: the
 * same operations on the same registers. Immediates and offsets are what libbpf relocates
 * (calls, map loads, CO-RE), so they do not count.
 */
static bool same_code(const struct bpf_insn *insns, const struct bpf_insn *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (insns[i].code != text[i].code || insns[i].dst_reg != text[i].dst_reg ||
		    (insns[i].src_reg != text[i].src_reg && insns[i].code != (BPF_LD | BPF_IMM | BPF_DW)))
			return false;
	return true;
}

static int add_records(struct fuse_stage_btf *sb, const void *funcs, uint32_t func_cnt,
		       uint32_t func_size, const void *lines, uint32_t line_cnt, uint32_t line_size,
		       size_t elf_off, size_t len, size_t final_off)
{
	uint32_t i;

	for (i = 0; funcs && i < func_cnt; i++) {
		struct bpf_func_info f;
		size_t insn;

		memcpy(&f, (const uint8_t *)funcs + (size_t)i * func_size, sizeof(f));
		insn = f.insn_off / sizeof(struct bpf_insn);
		if (insn < elf_off || insn >= elf_off + len)
			continue;
		f.insn_off = (uint32_t)(final_off + insn - elf_off);
		if (!(sb->func_cnt % 16)) {
			void *n = reallocarray(sb->funcs, sb->func_cnt + 16, sizeof(*sb->funcs));

			if (!n)
				return -ENOMEM;
			sb->funcs = n;
		}
		sb->funcs[sb->func_cnt++] = f;
	}
	for (i = 0; lines && i < line_cnt; i++) {
		struct bpf_line_info l;
		size_t insn;

		memcpy(&l, (const uint8_t *)lines + (size_t)i * line_size, sizeof(l));
		insn = l.insn_off / sizeof(struct bpf_insn);
		if (insn < elf_off || insn >= elf_off + len)
			continue;
		l.insn_off = (uint32_t)(final_off + insn - elf_off);
		if (!(sb->line_cnt % 64)) {
			void *n = reallocarray(sb->lines, sb->line_cnt + 64, sizeof(*sb->lines));

			if (!n)
				return -ENOMEM;
			sb->lines = n;
		}
		sb->lines[sb->line_cnt++] = l;
	}
	return 0;
}

static int cmp_func(const void *a, const void *b)
{
	const struct bpf_func_info *x = a, *y = b;

	return x->insn_off < y->insn_off ? -1 : x->insn_off > y->insn_off;
}

static int cmp_line(const void *a, const void *b)
{
	const struct bpf_line_info *x = a, *y = b;

	return x->insn_off < y->insn_off ? -1 : x->insn_off > y->insn_off;
}

int fuse_stage_btf_read(const struct bpf_program *prog, const void *elf_bytes, size_t elf_size,
			struct fuse_stage_btf *ret)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t cnt = bpf_program__insn_cnt(prog), sec_index = 0, text_index = 0, main_off, main_len;
	struct bpf_prog_info info = { 0 };
	uint32_t info_len = sizeof(info);
	struct fuse_stage_btf sb = { 0 };
	struct elf_view v = { 0 };
	struct btf *raw_btf = NULL;
	const uint8_t *ext;
	struct btf_ext_header hdr;
	Elf_Scn *scn, *text = NULL;
	Elf_Data *ext_data, *btf_data, *text_data = NULL;
	GElf_Shdr sh;
	const void *funcs, *lines;
	uint32_t fcnt = 0, fsize = 0, lcnt = 0, lsize = 0;
	size_t i;
	int err = -ENOENT;

	if (!insns || !cnt || !elf_bytes || elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	/* The kernel's copy of the stage's BTF: finalized by libbpf, the ids of the object's. */
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &info_len) || !info.btf_id)
		return -ENOENT;
	v.elf = elf_memory((char *)elf_bytes, elf_size);
	if (!v.elf || elf_getshdrstrndx(v.elf, &v.shstrndx))
		goto out;
	for (scn = NULL; (scn = elf_nextscn(v.elf, scn));)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			v.symtab = elf_getdata(scn, NULL);
			v.symtab_cnt = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		}
	scn = section_by_name(&v, BTF_EXT_ELF_SEC, NULL);
	ext_data = scn ? elf_getdata(scn, NULL) : NULL;
	scn = section_by_name(&v, BTF_ELF_SEC, NULL);
	btf_data = scn ? elf_getdata(scn, NULL) : NULL;
	if (!v.symtab || !ext_data || !btf_data || ext_data->d_size < sizeof(hdr) ||
	    !section_by_name(&v, bpf_program__section_name(prog), &sec_index))
		goto out;
	text = section_by_name(&v, ".text", &text_index);
	text_data = text ? elf_getdata(text, NULL) : NULL;
	/* The raw BTF names the .BTF.ext's sections; its strings are the kernel copy's too. */
	raw_btf = btf__new(btf_data->d_buf, (uint32_t)btf_data->d_size);
	if (!raw_btf)
		goto out;
	ext = ext_data->d_buf;
	memcpy(&hdr, ext, sizeof(hdr));
	if (hdr.magic != BTF_EXT_MAGIC || hdr.hdr_len < sizeof(hdr) ||
	    (uint64_t)hdr.hdr_len + hdr.func_info_off + hdr.func_info_len > ext_data->d_size ||
	    (uint64_t)hdr.hdr_len + hdr.line_info_off + hdr.line_info_len > ext_data->d_size)
		goto out;
	if (function_place(&v, sec_index, bpf_program__name(prog), &main_off, &main_len))
		goto out;

	/* The main body: the program's function in its own section, at 0. */
	funcs = ext_records(ext + hdr.hdr_len + hdr.func_info_off, hdr.func_info_len, raw_btf,
			    bpf_program__section_name(prog), sizeof(struct bpf_func_info), &fcnt,
			    &fsize);
	lines = ext_records(ext + hdr.hdr_len + hdr.line_info_off, hdr.line_info_len, raw_btf,
			    bpf_program__section_name(prog), sizeof(struct bpf_line_info), &lcnt,
			    &lsize);
	err = add_records(&sb, funcs, fcnt, fsize, lines, lcnt, lsize, main_off, main_len, 0);
	if (err)
		goto out;

	/*
	 * Each subprogram libbpf appended: found by its code among the .text functions that
	 * have func info (libbpf appends them in an order of its own).
	 */
	funcs = text_data ? ext_records(ext + hdr.hdr_len + hdr.func_info_off, hdr.func_info_len,
					raw_btf, ".text", sizeof(struct bpf_func_info), &fcnt, &fsize)
			  : NULL;
	lines = text_data ? ext_records(ext + hdr.hdr_len + hdr.line_info_off, hdr.line_info_len,
					raw_btf, ".text", sizeof(struct bpf_line_info), &lcnt, &lsize)
			  : NULL;
	for (i = main_len; i < cnt;) {
		size_t end = cnt, k, j;
		bool found = false;

		/* This subprogram ends where the next call target (or the program) does. */
		for (k = 0; k < cnt; k++) {
			long target = (long)k + 1 + insns[k].imm;

			/* A call, or a callback's address (ld_imm64 BPF_PSEUDO_FUNC). */
			bool refers = (insns[k].code == (BPF_JMP | BPF_CALL) &&
				       insns[k].src_reg == BPF_PSEUDO_CALL) ||
				      (insns[k].code == (BPF_LD | BPF_IMM | BPF_DW) &&
				       insns[k].src_reg == BPF_PSEUDO_FUNC);

			if (refers && (size_t)target > i && (size_t)target < end)
				end = (size_t)target;
		}
		for (j = 0; funcs && !found && j < fcnt; j++) {
			struct bpf_func_info f;
			size_t start;

			memcpy(&f, (const uint8_t *)funcs + j * fsize, sizeof(f));
			start = f.insn_off / sizeof(struct bpf_insn);
			if ((start + end - i) * sizeof(struct bpf_insn) > text_data->d_size ||
			    !same_code(&insns[i], (const struct bpf_insn *)text_data->d_buf + start,
				       end - i))
				continue;
			found = true;
			err = add_records(&sb, funcs, fcnt, fsize, lines, lcnt, lsize, start, end - i,
					  i);
		}
		if (!found || err) {
			err = err ?: -ENOENT;
			goto out;
		}
		i = end;
	}
	qsort(sb.funcs, sb.func_cnt, sizeof(*sb.funcs), cmp_func);
	qsort(sb.lines, sb.line_cnt, sizeof(*sb.lines), cmp_line);
	/* Every function needs its func info, and the kernel wants a line at the first insn. */
	if (!sb.func_cnt || sb.funcs[0].insn_off || !sb.line_cnt || sb.lines[0].insn_off) {
		err = -ENOENT;
		goto out;
	}
	sb.btf = btf__load_from_kernel_by_id(info.btf_id);
	err = sb.btf ? 0 : -errno;
out:
	btf__free(raw_btf);
	if (v.elf)
		elf_end(v.elf);
	if (err) {
		fuse_stage_btf_release(&sb);
		return err;
	}
	*ret = sb;
	return 0;
}

void fuse_stage_btf_release(struct fuse_stage_btf *sb)
{
	btf__free(sb->btf);
	free(sb->funcs);
	free(sb->lines);
	memset(sb, 0, sizeof(*sb));
}
