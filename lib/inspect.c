// SPDX-License-Identifier: BSD-2-Clause
/* Bytecode inspection: the programs, maps, helpers, kfuncs and CO-RE relocations of a BPF ELF. */
#include <endian.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpk_internal.h"

#define BPF_INSN_SZ 8
#define INSPECT_MAX_FILE_SIZE (64ULL << 20)
/* What libbpf's messages may add to an E012 reason; the first lines carry the cause. */
#define LIBBPF_REASON_MAX 1024
/* A license string longer than this is not one the kernel compares anyway. */
#define LICENSE_MAX 4096
/*
 * The largest size or offset of anything in an object (section, symbol, BTF type) that
 * inspection accepts. libbpf 1.1 adds such numbers in 32 bits when it checks them; below
 * this bound its sums cannot wrap. No loadable object comes near it.
 */
#define OBJECT_SIZE_MAX (1ULL << 30)

/*
 * The object as libelf shows it, checked once so that everything after can index without
 * fear: every section's bytes lie in the buffer, every symbol names an existing section,
 * every relocation of code points at an instruction and at an existing symbol, and every
 * function lies inside its section on instruction boundaries.
 */
struct elf_relo {
	uint64_t offset;	/* byte offset in the section it applies to */
	size_t sym;
};

struct elf_section {
	const char *name;
	uint32_t type;
	uint64_t flags;
	uint32_t link;		/* sh_link */
	uint32_t info;		/* sh_info */
	const uint8_t *data;	/* NULL when the section has no bytes in the file */
	size_t size;		/* of data, or the memory size of a SHT_NOBITS section */
	bool code;		/* holds BPF instructions */
	struct elf_relo *relos;	/* sorted by offset; only for code */
	size_t relo_cnt;
};

struct elf_symbol {
	const char *name;
	size_t shndx;		/* may be SHN_UNDEF, SHN_ABS, SHN_COMMON */
	uint64_t value;
	uint64_t size;
	unsigned char type;
};

/* A function symbol with instructions: a program or a subprogram. */
struct elf_func {
	size_t sym;
	size_t shndx;
	size_t start;		/* first instruction, in instructions from the section start */
	size_t cnt;
};

/* One CO-RE relocation record: the instruction it patches. */
struct core_relo {
	size_t shndx;		/* section it applies to, 0 if no code section has that name */
	uint64_t insn;
};

struct bpf_elf {
	Elf *elf;
	struct elf_section *secs;
	size_t sec_cnt;
	struct elf_symbol *syms;
	size_t sym_cnt;
	struct elf_func *funcs;	/* sorted by section, then start */
	size_t func_cnt;
	const struct elf_section *license;
	const struct elf_section *btf;
	const struct elf_section *btf_ext;
	struct core_relo *core_relos;
	size_t core_relo_cnt;
	bool btf_ext_ok;
};

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

struct insn {
	uint8_t code;
	uint8_t src;
	int32_t imm;
};

/* Decoded by hand: the object is little-endian whatever the host is, and may be unaligned. */
static void insn_at(const struct elf_section *sec, size_t idx, struct insn *insn)
{
	const uint8_t *p = sec->data + idx * BPF_INSN_SZ;

	insn->code = p[0];
	insn->src = p[1] >> 4;
	insn->imm = (int32_t)get_le32(p + 4);
}

static uint16_t get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static void bpf_elf_release(struct bpf_elf *e)
{
	size_t i;

	for (i = 0; e->secs && i < e->sec_cnt; i++)
		free(e->secs[i].relos);
	free(e->secs);
	free(e->syms);
	free(e->funcs);
	free(e->core_relos);
	if (e->elf)
		elf_end(e->elf);
	memset(e, 0, sizeof(*e));
}

static const char *machine_name(unsigned int machine)
{
	switch (machine) {
	case EM_386: return "Intel 80386";
	case EM_ARM: return "ARM";
	case EM_X86_64: return "x86-64";
	case EM_AARCH64: return "AArch64";
	case EM_RISCV: return "RISC-V";
	case EM_PPC64: return "PowerPC64";
	case EM_S390: return "s390";
	case EM_MIPS: return "MIPS";
	case EM_LOONGARCH: return "LoongArch";
	case EM_NONE: return "none";
	default: return "unknown";
	}
}

static const char *elf_type_name(unsigned int type)
{
	switch (type) {
	case ET_EXEC: return "executable";
	case ET_DYN: return "shared object";
	case ET_CORE: return "core file";
	case ET_NONE: return "none";
	default: return "unknown";
	}
}

/* Say why an object is refused: -EINVAL with the reason in why, or -ENOMEM. */
#define bad(why, ...) (strbuf_addf(why, __VA_ARGS__) ?: -EINVAL)

/* The checks of e_ident come first so the reason names the real problem, not libelf's. */
static int check_ident(const unsigned char *buf, size_t len, struct strbuf *why)
{
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
		return bad(why, "not an ELF file");
	if (buf[EI_CLASS] == ELFCLASS32)
		return bad(why, "32-bit ELF objects are not supported (BPF objects are ELF64)");
	if (buf[EI_CLASS] != ELFCLASS64)
		return bad(why, "invalid ELF class %u", buf[EI_CLASS]);
	if (buf[EI_DATA] == ELFDATA2MSB)
		return bad(why, "big-endian objects are not supported");
	if (buf[EI_DATA] != ELFDATA2LSB)
		return bad(why, "invalid ELF data encoding %u", buf[EI_DATA]);
	return 0;
}

/*
 * Section 0 is reserved: libbpf 1.1 reads its flags like any other's and then fails to read
 * its data. Only the fields that extended numbering uses may be set.
 */
static bool null_section_ok(Elf *elf)
{
	Elf_Scn *scn = elf_getscn(elf, 0);
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NULL && !sh.sh_flags &&
	       !sh.sh_offset;
}

static int read_sections(struct bpf_elf *e, struct strbuf *why)
{
	size_t shstrndx, i;

	if (elf_getshdrnum(e->elf, &e->sec_cnt) || elf_getshdrstrndx(e->elf, &shstrndx))
		return bad(why, "cannot read the section headers: %s", elf_errmsg(-1));
	if (!e->sec_cnt)
		return bad(why, "no sections");
	e->secs = calloc(e->sec_cnt, sizeof(*e->secs));
	if (!e->secs)
		return -ENOMEM;
	if (!null_section_ok(e->elf))
		return bad(why, "section 0 is not the null section");
	for (i = 1; i < e->sec_cnt; i++) {
		struct elf_section *sec = &e->secs[i];
		Elf_Scn *scn = elf_getscn(e->elf, i);
		GElf_Shdr sh;
		Elf_Data *data;

		/* A copy: in the buffer the header may be misaligned. */
		if (!scn || !gelf_getshdr(scn, &sh))
			return bad(why, "cannot read the header of section %zu: %s", i,
				   elf_errmsg(-1));
		sec->name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (!sec->name)
			return bad(why, "section %zu has no valid name", i);
		sec->type = sh.sh_type;
		sec->flags = sh.sh_flags;
		sec->link = sh.sh_link;
		sec->info = sh.sh_info;
		if (sh.sh_type == SHT_NOBITS) {
			/* No bytes in the file, but symbols and relocations lie within the size. */
			if (sh.sh_size > OBJECT_SIZE_MAX)
				return bad(why, "section '%s' is %llu bytes, more than any BPF object holds",
					   sec->name, (unsigned long long)sh.sh_size);
			sec->size = sh.sh_size;
			continue;
		}
		if (!sh.sh_size)
			continue;
		/* libelf refuses a section whose bytes lie outside the buffer. */
		data = elf_getdata(scn, NULL);
		if (!data)
			return bad(why, "section %zu ('%s') cannot be read: %s", i, sec->name,
				   elf_errmsg(-1));
		sec->data = data->d_buf;
		sec->size = data->d_size;
		if (!sec->data)
			sec->size = 0;
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR)) {
			if (sec->size % BPF_INSN_SZ)
				return bad(why, "code section '%s' is %zu bytes, not a whole number of instructions",
					   sec->name, sec->size);
			sec->code = true;
		}
		if (!strcmp(sec->name, "license"))
			e->license = sec;
		else if (!strcmp(sec->name, ".BTF.ext"))
			e->btf_ext = sec;
		else if (!strcmp(sec->name, ".BTF"))
			e->btf = sec;
	}
	return 0;
}

static int read_symbols(struct bpf_elf *e, size_t *ret_symtab, struct strbuf *why)
{
	size_t i, symtab = 0, strtab;
	Elf_Data *data;

	for (i = 1; i < e->sec_cnt; i++) {
		if (e->secs[i].type != SHT_SYMTAB)
			continue;
		if (symtab)
			return bad(why, "more than one symbol table");
		symtab = i;
	}
	if (!symtab)
		return bad(why, "no symbol table (stripped object?)");
	data = elf_getdata(elf_getscn(e->elf, symtab), NULL);
	strtab = e->secs[symtab].link;
	if (strtab == 0 || strtab >= e->sec_cnt || e->secs[strtab].type != SHT_STRTAB)
		return bad(why, "the symbol table links to section %zu, which is not a string table",
			   strtab);
	if (!data || !data->d_size) {
		*ret_symtab = symtab;
		return 0;
	}
	if (data->d_type != ELF_T_SYM || data->d_size % sizeof(Elf64_Sym))
		return bad(why, "the symbol table is %zu bytes, not a whole number of symbols",
			   (size_t)data->d_size);
	e->sym_cnt = data->d_size / sizeof(Elf64_Sym);
	e->syms = calloc(e->sym_cnt, sizeof(*e->syms));
	if (!e->syms)
		return -ENOMEM;
	for (i = 0; i < e->sym_cnt; i++) {
		struct elf_symbol *s = &e->syms[i];
		GElf_Sym sym;

		if (!gelf_getsym(data, (int)i, &sym))
			return bad(why, "cannot read symbol %zu: %s", i, elf_errmsg(-1));
		s->name = elf_strptr(e->elf, strtab, sym.st_name);
		if (!s->name)
			return bad(why, "symbol %zu has no valid name", i);
		if (sym.st_shndx >= e->sec_cnt && sym.st_shndx != SHN_ABS &&
		    sym.st_shndx != SHN_COMMON)
			return bad(why, "symbol '%s' refers to section %u, which does not exist",
				   s->name, sym.st_shndx);
		/*
		 * libbpf 1.1 finds variables by name, whatever their section, and takes st_value
		 * as their offset in 32 bits: values must be small and inside their section.
		 */
		if (sym.st_value > OBJECT_SIZE_MAX || sym.st_size > OBJECT_SIZE_MAX)
			return bad(why, "symbol '%s' has an impossible value or size", s->name);
		if (sym.st_shndx && sym.st_shndx < e->sec_cnt &&
		    GELF_ST_TYPE(sym.st_info) != STT_SECTION &&
		    (sym.st_value > e->secs[sym.st_shndx].size ||
		     sym.st_size > e->secs[sym.st_shndx].size - sym.st_value))
			return bad(why, "symbol '%s' lies outside its section '%s'", s->name,
				   e->secs[sym.st_shndx].name);
		s->shndx = sym.st_shndx;
		s->value = sym.st_value;
		s->size = sym.st_size;
		s->type = GELF_ST_TYPE(sym.st_info);
	}
	*ret_symtab = symtab;
	return 0;
}

static int cmp_relo(const void *a, const void *b)
{
	const struct elf_relo *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Relocations libbpf reads: those of code (any section flagged executable, as libbpf decides)
 * and of .maps and .struct_ops. All are checked, since libbpf 1.1 trusts them; those of code
 * sections proper are kept for the walk. The others (.BTF, DWARF) do not matter here.
 */
static int read_relocations(struct bpf_elf *e, size_t symtab, struct strbuf *why)
{
	size_t i, j;

	for (i = 1; i < e->sec_cnt; i++) {
		const struct elf_section *relsec = &e->secs[i];
		struct elf_section *target;
		Elf_Data *data;
		size_t cnt;

		if (relsec->type != SHT_REL || relsec->info == 0 || relsec->info >= e->sec_cnt)
			continue;
		target = &e->secs[relsec->info];
		if (!(target->flags & SHF_EXECINSTR) && strcmp(relsec->name, ".rel.maps") &&
		    strcmp(relsec->name, ".rel.struct_ops"))
			continue;
		if (target->relos)
			return bad(why, "section '%s' has more than one relocation section",
				   target->name);
		if (relsec->link != symtab)
			return bad(why, "relocation section '%s' does not use the symbol table",
				   relsec->name);
		data = elf_getdata(elf_getscn(e->elf, i), NULL);
		if (!data || !data->d_size)
			continue;
		if (data->d_type != ELF_T_REL || data->d_size % sizeof(Elf64_Rel))
			return bad(why, "relocation section '%s' is %zu bytes, not a whole number of entries",
				   relsec->name, (size_t)data->d_size);
		cnt = data->d_size / sizeof(Elf64_Rel);
		target->relos = calloc(cnt, sizeof(*target->relos));
		if (!target->relos)
			return -ENOMEM;
		for (j = 0; j < cnt; j++) {
			GElf_Rel rel;

			if (!gelf_getrel(data, (int)j, &rel))
				return bad(why, "cannot read relocation %zu of '%s'", j,
					   target->name);
			if (rel.r_offset % BPF_INSN_SZ || rel.r_offset >= target->size)
				return bad(why, "relocation %zu of '%s' points outside the section (offset %llu)",
					   j, target->name, (unsigned long long)rel.r_offset);
			if (GELF_R_SYM(rel.r_info) >= e->sym_cnt)
				return bad(why, "relocation %zu of '%s' names symbol %llu, which does not exist",
					   j, target->name,
					   (unsigned long long)GELF_R_SYM(rel.r_info));
			target->relos[j].offset = rel.r_offset;
			target->relos[j].sym = GELF_R_SYM(rel.r_info);
		}
		target->relo_cnt = cnt;
		qsort(target->relos, cnt, sizeof(*target->relos), cmp_relo);
	}
	return 0;
}

static int cmp_func(const void *a, const void *b)
{
	const struct elf_func *x = a, *y = b;

	if (x->shndx != y->shndx)
		return x->shndx < y->shndx ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->sym < y->sym ? -1 : x->sym > y->sym;
}

static int collect_funcs(struct bpf_elf *e, struct strbuf *why)
{
	size_t i;

	e->funcs = calloc(e->sym_cnt ?: 1, sizeof(*e->funcs));
	if (!e->funcs)
		return -ENOMEM;
	for (i = 0; i < e->sym_cnt; i++) {
		const struct elf_symbol *s = &e->syms[i];
		const struct elf_section *sec;

		if (s->type != STT_FUNC || s->shndx == SHN_UNDEF || s->shndx >= e->sec_cnt)
			continue;
		sec = &e->secs[s->shndx];
		if (!sec->code || !s->size)
			continue;
		if (s->value % BPF_INSN_SZ || s->size % BPF_INSN_SZ || s->value > sec->size ||
		    s->size > sec->size - s->value)
			return bad(why, "function '%s' does not lie on instructions inside section '%s'",
				   s->name, sec->name);
		e->funcs[e->func_cnt++] = (struct elf_func){
			.sym = i,
			.shndx = s->shndx,
			.start = s->value / BPF_INSN_SZ,
			.cnt = s->size / BPF_INSN_SZ,
		};
	}
	qsort(e->funcs, e->func_cnt, sizeof(*e->funcs), cmp_func);
	return 0;
}

/*
 * .BTF is checked before libbpf sees it: libbpf 1.1 trusts type ids and walks type chains
 * without bounds (later versions added a sanity check), so a corrupt type section would
 * crash or hang it. The rules are the kernel's: known kinds, trailing data inside the type
 * section, names inside the string section, referenced ids that exist, functions typed by
 * prototypes, and no cycle that a pointer does not break.
 */
#define BTF_HDR_LEN 24
#define BTF_TYPE_LEN 12

struct btf_check {
	const uint8_t *types;
	uint32_t types_len;
	uint32_t str_len;
	uint32_t *offs;		/* offset of type id i in types, for i in [1, cnt] */
	uint32_t cnt;
};

static uint32_t btf_kind_of(uint32_t info)
{
	return (info >> 24) & 0x1f;
}

/* Bytes that follow the common 12-byte header of a type, or -1 for an unknown kind. */
static int64_t btf_extra_len(uint32_t kind, uint32_t vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return 12;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_DATASEC:
	case BTF_KIND_ENUM64:
		return 12 * (int64_t)vlen;
	case BTF_KIND_ENUM:
	case BTF_KIND_FUNC_PROTO:
		return 8 * (int64_t)vlen;
	default:
		return -1;
	}
}

/* Kinds whose third word is a size in bytes rather than a type id. */
static bool btf_kind_has_size(uint32_t kind)
{
	return kind == BTF_KIND_INT || kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION ||
	       kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64 || kind == BTF_KIND_DATASEC ||
	       kind == BTF_KIND_FLOAT;
}

/* Kinds whose vlen field counts nothing (FUNC keeps its linkage there). */
static bool btf_kind_has_vlen(uint32_t kind)
{
	return kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_ENUM ||
	       kind == BTF_KIND_FUNC_PROTO || kind == BTF_KIND_DATASEC || kind == BTF_KIND_ENUM64;
}

/*
 * The k-th type that type id refers to other than through a pointer, at *ret (0 is void),
 * and false when there is none. These are the edges a cycle must not be made of.
 */
static bool btf_edge(const struct btf_check *b, uint32_t id, uint32_t k, uint32_t *ret)
{
	const uint8_t *t = b->types + b->offs[id];
	uint32_t info = get_le32(t + 4), vlen = info & 0xffff;

	switch (btf_kind_of(info)) {
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		if (k)
			return false;
		*ret = get_le32(t + 8);
		return true;
	case BTF_KIND_ARRAY:
		if (k > 1)
			return false;
		*ret = get_le32(t + BTF_TYPE_LEN + 4 * k);
		return true;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (k >= vlen)
			return false;
		*ret = get_le32(t + BTF_TYPE_LEN + 12 * k + 4);
		return true;
	case BTF_KIND_DATASEC:
		if (k >= vlen)
			return false;
		*ret = get_le32(t + BTF_TYPE_LEN + 12 * k);
		return true;
	case BTF_KIND_FUNC_PROTO:
		if (k > vlen)
			return false;
		*ret = k ? get_le32(t + BTF_TYPE_LEN + 8 * (k - 1) + 4) : get_le32(t + 8);
		return true;
	default:
		return false;
	}
}

/* Names and referenced ids of one type, trailing records included. */
static int btf_check_type(const struct btf_check *b, uint32_t id, struct strbuf *why)
{
	const uint8_t *t = b->types + b->offs[id];
	uint32_t info = get_le32(t + 4), kind = btf_kind_of(info), vlen = info & 0xffff;
	uint32_t i, ref, name_stride = 0, name_at = 0;

	if (get_le32(t) >= b->str_len)
		return bad(why, "BTF type %u has its name outside the string section", id);
	if (!btf_kind_has_vlen(kind) && vlen && !(kind == BTF_KIND_FUNC && vlen <= BTF_FUNC_EXTERN))
		return bad(why, "BTF type %u of kind %u has a vlen of %u", id, kind, vlen);
	if (kind == BTF_KIND_PTR && get_le32(t + 8) > b->cnt)
		return bad(why, "BTF type %u points to type %u, which does not exist", id,
			   get_le32(t + 8));
	for (i = 0; btf_edge(b, id, i, &ref); i++)
		if (ref > b->cnt)
			return bad(why, "BTF type %u refers to type %u, which does not exist", id,
				   ref);
	/* libbpf adds sizes and offsets in 32 bits: keep them far from wrapping. */
	if (btf_kind_has_size(kind) && get_le32(t + 8) > OBJECT_SIZE_MAX)
		return bad(why, "BTF type %u is %u bytes, more than any BPF object holds", id,
			   get_le32(t + 8));
	for (i = 0; kind == BTF_KIND_DATASEC && i < vlen; i++)
		if (get_le32(t + BTF_TYPE_LEN + 12 * i + 4) > OBJECT_SIZE_MAX ||
		    get_le32(t + BTF_TYPE_LEN + 12 * i + 8) > OBJECT_SIZE_MAX)
			return bad(why, "BTF section %u places variable %u out of any reach", id, i);
	if (kind == BTF_KIND_FUNC) {
		ref = get_le32(t + 8);
		if (!ref ||
		    btf_kind_of(get_le32(b->types + b->offs[ref] + 4)) != BTF_KIND_FUNC_PROTO)
			return bad(why, "BTF function %u is not typed by a function prototype", id);
	}
	switch (kind) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM64:
		name_stride = 12;
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_FUNC_PROTO:
		name_stride = 8;
		break;
	}
	for (i = 0; name_stride && i < vlen; i++, name_at += name_stride)
		if (get_le32(t + BTF_TYPE_LEN + name_at) >= b->str_len)
			return bad(why, "BTF type %u has a member name outside the string section",
				   id);
	return 0;
}

/* Depth-first search over the non-pointer edges, with an explicit stack. */
static int btf_check_cycles(const struct btf_check *b, struct strbuf *why)
{
	struct frame {
		uint32_t id;
		uint32_t next;
	} *stack;
	uint8_t *color;	/* 0 unseen, 1 on the stack, 2 done */
	uint32_t root, depth, ref;
	int err = 0;

	color = calloc((size_t)b->cnt + 1, 1);
	stack = calloc((size_t)b->cnt + 1, sizeof(*stack));
	if (!color || !stack) {
		err = -ENOMEM;
		goto out;
	}
	for (root = 1; root <= b->cnt && !err; root++) {
		if (color[root])
			continue;
		depth = 0;
		stack[depth++] = (struct frame){ root, 0 };
		color[root] = 1;
		while (depth) {
			struct frame *f = &stack[depth - 1];

			if (!btf_edge(b, f->id, f->next++, &ref)) {
				color[f->id] = 2;
				depth--;
				continue;
			}
			if (!ref || color[ref] == 2)
				continue;
			if (color[ref] == 1) {
				err = bad(why, "BTF type %u is part of a cycle that no pointer breaks",
					  ref);
				break;
			}
			color[ref] = 1;
			stack[depth++] = (struct frame){ ref, 0 };
		}
	}
out:
	free(color);
	free(stack);
	return err;
}

static int check_btf(const struct elf_section *sec, struct strbuf *why)
{
	struct btf_check b = { 0 };
	const uint8_t *p;
	uint32_t hdr_len, type_off, type_len, str_off, str_len, off, alloc = 0;
	int err = 0;

	if (!sec)
		return 0;
	p = sec->data;
	if (!p || sec->size < BTF_HDR_LEN)
		return bad(why, "BTF is too short");
	hdr_len = get_le32(p + 4);
	type_off = get_le32(p + 8);
	type_len = get_le32(p + 12);
	str_off = get_le32(p + 16);
	str_len = get_le32(p + 20);
	if (get_le16(p) != 0xeB9F || p[2] != 1)
		return bad(why, "BTF has a bad magic number or version");
	if (hdr_len < BTF_HDR_LEN || hdr_len > sec->size || type_off % 4 ||
	    (uint64_t)hdr_len + type_off + type_len > sec->size ||
	    (uint64_t)hdr_len + str_off + str_len > sec->size)
		return bad(why, "BTF header describes sections outside .BTF");
	b.types = p + hdr_len + type_off;
	b.types_len = type_len;
	b.str_len = str_len;
	p += hdr_len + str_off;
	if (!str_len || p[0] || p[str_len - 1])
		return bad(why, "BTF string section is not a list of NUL-terminated strings");

	/* Pass 1: where each type starts. Ids count from 1; 0 is void. */
	for (off = 0; off < type_len;) {
		uint32_t info;
		int64_t extra;

		if (type_len - off < BTF_TYPE_LEN) {
			err = bad(why, "BTF type %u is cut short", b.cnt + 1);
			goto out;
		}
		info = get_le32(b.types + off + 4);
		extra = btf_extra_len(btf_kind_of(info), info & 0xffff);
		if (extra < 0) {
			err = bad(why, "BTF type %u has unknown kind %u", b.cnt + 1,
				  btf_kind_of(info));
			goto out;
		}
		if ((uint64_t)type_len - off - BTF_TYPE_LEN < (uint64_t)extra) {
			err = bad(why, "BTF type %u is cut short", b.cnt + 1);
			goto out;
		}
		if (b.cnt + 1 >= alloc) {
			uint32_t *offs;

			alloc = alloc ? alloc * 2 : 256;
			offs = reallocarray(b.offs, alloc, sizeof(*offs));
			if (!offs) {
				err = -ENOMEM;
				goto out;
			}
			b.offs = offs;
		}
		b.offs[++b.cnt] = off;
		off += BTF_TYPE_LEN + (uint32_t)extra;
	}
	/* Pass 2: what the types refer to; pass 3: cycles. */
	for (off = 1; off <= b.cnt && !err; off++)
		err = btf_check_type(&b, off, why);
	if (!err)
		err = btf_check_cycles(&b, why);
out:
	free(b.offs);
	return err;
}

/*
 * Check the ELF header and read sections, symbols, code relocations and functions. On a
 * malformed object returns -EINVAL with the reason in why.
 */
static int bpf_elf_open(struct bpf_elf *e, void *buf, size_t len, struct strbuf *why)
{
	GElf_Ehdr ehdr;
	size_t symtab = 0;
	int err;

	err = check_ident(buf, len, why);
	if (err)
		return err;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return bad(why, "libelf is unusable: %s", elf_errmsg(-1));
	e->elf = elf_memory(buf, len);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF)
		return bad(why, "not an ELF file");
	if (!gelf_getehdr(e->elf, &ehdr))
		return bad(why, "truncated ELF header");
	if (ehdr.e_machine != EM_BPF)
		return bad(why, "e_machine is %u (%s), not EM_BPF (%u)", ehdr.e_machine,
			   machine_name(ehdr.e_machine), EM_BPF);
	if (ehdr.e_type != ET_REL)
		return bad(why, "e_type is %u (%s), not a relocatable object (ET_REL)", ehdr.e_type,
			   elf_type_name(ehdr.e_type));
	/* Said here, because libelf just reports no sections for a cut file. */
	if (!ehdr.e_shoff || ehdr.e_shentsize != sizeof(Elf64_Shdr))
		return bad(why, "no section header table");
	if (ehdr.e_shoff > len ||
	    (uint64_t)(ehdr.e_shnum ?: 1) * sizeof(Elf64_Shdr) > len - ehdr.e_shoff)
		return bad(why, "truncated: the section headers at offset %llu lie past the end (%zu bytes)",
			   (unsigned long long)ehdr.e_shoff, len);
	err = read_sections(e, why);
	err = err ?: read_symbols(e, &symtab, why);
	err = err ?: read_relocations(e, symtab, why);
	err = err ?: collect_funcs(e, why);
	err = err ?: check_btf(e->btf, why);
	return err;
}

static const struct elf_relo *find_relo(const struct elf_section *sec, uint64_t offset)
{
	size_t lo = 0, hi = sec->relo_cnt;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sec->relos[mid].offset < offset)
			lo = mid + 1;
		else if (sec->relos[mid].offset > offset)
			hi = mid;
		else
			return &sec->relos[mid];
	}
	return NULL;
}

/* Index of the function of section shndx that contains instruction insn, or -1. */
static ssize_t find_func(const struct bpf_elf *e, size_t shndx, uint64_t insn)
{
	size_t lo = 0, hi = e->func_cnt;
	const struct elf_func *f;

	/* The last function that starts at or before (shndx, insn). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		f = &e->funcs[mid];
		if (f->shndx < shndx || (f->shndx == shndx && f->start <= insn))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	f = &e->funcs[lo - 1];
	if (f->shndx != shndx || insn - f->start >= f->cnt)
		return -1;
	return (ssize_t)(lo - 1);
}

/*
 * .BTF.ext: a header (magic 0xeB9F, version 1, flags, hdr_len, then offset/length pairs
 * relative to the end of the header for func_info, line_info and, when hdr_len reaches it,
 * core_relo). The core_relo part is a u32 record size and blocks of {u32 section name
 * offset into the .BTF strings, u32 count, count records}, each record starting with the
 * byte offset of the instruction it patches. Anything that does not add up makes the whole
 * section unusable, as it does for libbpf; that is not an error of the object.
 */
#define BTF_EXT_MIN_HDR 24
#define BTF_EXT_CORE_HDR 32
#define CORE_RELO_MIN_RECORD 16

static bool ext_range_ok(uint64_t hdr_len, uint64_t size, uint32_t off, uint32_t len)
{
	return (uint64_t)off + len <= size - hdr_len;
}

static int parse_btf_ext(struct bpf_elf *e, const struct btf *btf)
{
	const struct elf_section *sec = e->btf_ext;
	uint32_t hdr_len, core_off = 0, core_len = 0, rec_size;
	const uint8_t *p, *end;
	size_t total = 0, n = 0;

	if (!sec || !sec->data || sec->size < BTF_EXT_MIN_HDR)
		return 0;
	p = sec->data;
	hdr_len = get_le32(p + 4);
	if (get_le16(p) != 0xeB9F || p[2] != 1 || hdr_len < BTF_EXT_MIN_HDR || hdr_len > sec->size)
		return 0;
	if (!ext_range_ok(hdr_len, sec->size, get_le32(p + 8), get_le32(p + 12)) ||
	    !ext_range_ok(hdr_len, sec->size, get_le32(p + 16), get_le32(p + 20)))
		return 0;
	if (hdr_len >= BTF_EXT_CORE_HDR) {
		core_off = get_le32(p + 24);
		core_len = get_le32(p + 28);
		if (!ext_range_ok(hdr_len, sec->size, core_off, core_len))
			return 0;
	}
	if (!core_len) {
		e->btf_ext_ok = true;
		return 0;
	}
	/* Two passes: count and check, then record; nothing is kept from a bad section. */
	for (int pass = 0; pass < 2; pass++) {
		p = sec->data + hdr_len + core_off;
		end = p + core_len;
		if (core_len < 4)
			return 0;
		rec_size = get_le32(p);
		p += 4;
		if (rec_size < CORE_RELO_MIN_RECORD || rec_size % 4)
			return 0;
		n = 0;
		while (p < end) {
			uint32_t name_off, cnt, i;
			const char *sec_name;
			size_t shndx = 0, j;

			if ((size_t)(end - p) < 8)
				return 0;
			name_off = get_le32(p);
			cnt = get_le32(p + 4);
			p += 8;
			if (!cnt || (uint64_t)cnt * rec_size > (uint64_t)(end - p))
				return 0;
			if (pass == 0) {
				total += cnt;
				p += (size_t)cnt * rec_size;
				continue;
			}
			sec_name = btf ? btf__name_by_offset(btf, name_off) : NULL;
			for (j = 1; sec_name && j < e->sec_cnt; j++) {
				if (e->secs[j].code && !strcmp(e->secs[j].name, sec_name)) {
					shndx = j;
					break;
				}
			}
			for (i = 0; i < cnt; i++, p += rec_size) {
				e->core_relos[n].shndx = shndx;
				e->core_relos[n].insn = get_le32(p) / BPF_INSN_SZ;
				n++;
			}
		}
		if (pass == 0) {
			e->core_relos = calloc(total ?: 1, sizeof(*e->core_relos));
			if (!e->core_relos)
				return -ENOMEM;
		}
	}
	e->core_relo_cnt = n;
	e->btf_ext_ok = true;
	return 0;
}

/*
 * libbpf reports through one process-wide print callback. While it opens an object for us,
 * its messages from this thread go to bpk's debug output and its warnings are kept as the
 * reason of a failure; messages of other threads still go where they went before.
 */
static libbpf_print_fn_t libbpf_saved_print;
static __thread struct strbuf *libbpf_capture;

__attribute__((format(printf, 2, 0)))
static int libbpf_print_capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct strbuf *sb = libbpf_capture;
	char *msg = NULL, *text;
	size_t len;
	int n;

	if (!sb)
		return libbpf_saved_print ? libbpf_saved_print(level, fmt, ap) : 0;
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	bpk_print(BPK_DEBUG, "%s", msg);
	text = msg;
	if (str_has_prefix(text, "libbpf: "))
		text += strlen("libbpf: ");
	len = strlen(text);
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (level == LIBBPF_WARN && len && sb->len < LIBBPF_REASON_MAX) {
		if (sb->len)
			strbuf_addstr(sb, "; ");
		strbuf_add(sb, text, len);
	}
	free(msg);
	return n;
}

/*
 * The object name libbpf would derive from a file of that name (bpf_object__open_file()):
 * the base name up to its first dot. It prefixes internal map names ("xdp_disp.rodata"),
 * so inspection must name them as a loader opening the file will.
 */
static char *libbpf_object_name(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	if (!*base || *base == '.')
		return strdup("object");
	return strndup(base, strcspn(base, "."));
}

static struct bpf_object *open_with_libbpf(const void *buf, size_t len, const char *name,
					   struct strbuf *why)
{
	_cleanup_free_ char *obj_name = libbpf_object_name(name);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = obj_name);
	struct bpf_object *obj;
	libbpf_print_fn_t old;
	int err;

	if (!obj_name) {
		errno = ENOMEM;
		return NULL;
	}

	old = bpk_libbpf_print_begin(libbpf_print_capture);
	libbpf_capture = why;
	/* Ours is still installed only if an earlier open never returned: never chain to it. */
	libbpf_saved_print = old == libbpf_print_capture ? NULL : old;
	/* libbpf 1.x returns NULL and sets errno on failure. */
	obj = bpf_object__open_mem(buf, len, &opts);
	err = obj ? 0 : errno;
	libbpf_capture = NULL;
	bpk_libbpf_print_end(libbpf_saved_print);
	if (!obj)
		errno = err ?: EINVAL;
	return obj;
}

/* Names come from untrusted bytes and end up in JSON and terminals: keep printable ASCII. */
static char *make_printable(char *s)
{
	char *p;

	for (p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return s;
}

static char *dup_printable(const char *s)
{
	return make_printable(strdup(s ? s : ""));
}

static char *dup_printable_n(const char *s, size_t n)
{
	return make_printable(strndup(s, n));
}

/* A growable list of borrowed strings, sorted and made unique at the end. */
struct name_list {
	const char **items;
	size_t cnt;
	size_t alloc;
};

static int name_list_add(struct name_list *l, const char *s)
{
	if (l->cnt == l->alloc) {
		size_t alloc = l->alloc ? l->alloc * 2 : 8;
		const char **items = reallocarray(l->items, alloc, sizeof(*items));

		if (!items)
			return -ENOMEM;
		l->items = items;
		l->alloc = alloc;
	}
	l->items[l->cnt++] = s;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort, drop duplicates and hand out printable copies. */
static int name_list_finish(struct name_list *l, char ***ret, size_t *ret_cnt)
{
	char **out;
	size_t i, n = 0;

	*ret = NULL;
	*ret_cnt = 0;
	if (!l->cnt)
		return 0;
	qsort(l->items, l->cnt, sizeof(*l->items), cmp_str);
	out = calloc(l->cnt, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < l->cnt; i++) {
		if (n && !strcmp(l->items[i], l->items[i - 1]))
			continue;
		out[n] = dup_printable(l->items[i]);
		if (!out[n]) {
			while (n)
				free(out[--n]);
			free(out);
			return -ENOMEM;
		}
		n++;
	}
	*ret = out;
	*ret_cnt = n;
	return 0;
}

/* What one program reaches: its own function and every subprogram it calls or points to. */
struct walk {
	const struct bpf_elf *e;
	struct bpf_object *obj;
	const struct btf *btf;
	const char *object_name;
	const char *prog_name;
	struct bpk_diags *diags;
	bool *visited;		/* by function index */
	size_t *stack;
	size_t stack_cnt;
	int *helper_ids;
	size_t helper_cnt;
	size_t helper_alloc;
	struct name_list kfuncs;
	struct name_list maps;
	bool tail_calls;
	uint32_t subprog_insns;
	const struct elf_symbol *maps_sym_cached;
	const char *maps_sym_name;
};

static void walk_release(struct walk *w)
{
	free(w->visited);
	free(w->stack);
	free(w->helper_ids);
	free(w->kfuncs.items);
	free(w->maps.items);
}

static int walk_push(struct walk *w, ssize_t func)
{
	if (func < 0 || w->visited[func])
		return 0;
	w->visited[func] = true;
	/* Each function is pushed at most once, so the stack never outgrows func_cnt. */
	w->stack[w->stack_cnt++] = (size_t)func;
	return 0;
}

static int add_helper(struct walk *w, int id)
{
	if (w->helper_cnt == w->helper_alloc) {
		size_t alloc = w->helper_alloc ? w->helper_alloc * 2 : 16;
		int *ids = reallocarray(w->helper_ids, alloc, sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		w->helper_ids = ids;
		w->helper_alloc = alloc;
	}
	w->helper_ids[w->helper_cnt++] = id;
	if (id == BPF_FUNC_tail_call)
		w->tail_calls = true;
	return 0;
}

/*
 * Whether BTF declares name as a function defined elsewhere. clang emits kfuncs with extern
 * linkage; libbpf's open rewrites those it collected from .ksyms to global linkage (the
 * kernel refuses extern functions in a DATASEC), so both are accepted here. The symbol being
 * undefined in the ELF is the other half of the proof.
 */
static bool btf_has_extern_func(const struct btf *btf, const char *name)
{
	const struct btf_type *t;
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);

	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, (__u32)id);
	return t && (btf_vlen(t) == BTF_FUNC_EXTERN || btf_vlen(t) == BTF_FUNC_GLOBAL);
}

static int add_kfunc(struct walk *w, const char *name)
{
	if (w->btf && !btf_has_extern_func(w->btf, name)) {
		_cleanup_free_ char *prog = dup_printable(w->prog_name);
		_cleanup_free_ char *func = dup_printable(name);

		if (!prog || !func ||
		    bpk_diags__add(w->diags, BPK_E_BAD_OBJECT, w->object_name,
				   "program '%s' calls kfunc '%s', which BTF does not declare as an extern function",
				   prog, func))
			return -ENOMEM;
	}
	return name_list_add(&w->kfuncs, name);
}

/* Whether an undefined symbol is a Kconfig extern, which libbpf backs with its .kconfig map. */
static bool is_kconfig_extern(const struct btf *btf, const char *name)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *sec, *var;
	int id;
	__u16 i;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, ".kconfig", BTF_KIND_DATASEC);
	if (id <= 0 || !(sec = btf__type_by_id(btf, (__u32)id)))
		return false;
	vsi = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vsi++) {
		var = btf__type_by_id(btf, vsi->type);
		if (!var || !btf_is_var(var))
			continue;
		if (!strcmp(btf__name_by_offset(btf, var->name_off) ?: "", name))
			return true;
	}
	return false;
}

static bool is_data_section(const char *name)
{
	static const char *const prefixes[] = { ".data", ".rodata", ".bss" };
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (!strncmp(name, prefixes[i], n) && (name[n] == '\0' || name[n] == '.'))
			return true;
	}
	return false;
}

/*
 * A relocation against the .maps section symbol (clang uses the map's own symbol, but the
 * format allows it): libbpf takes the map at the symbol's offset, so do the same. The last
 * answer is kept because every such relocation names the same symbol.
 */
static const char *maps_object_at(struct walk *w, const struct elf_symbol *sym)
{
	const struct bpf_elf *e = w->e;
	size_t i;

	if (w->maps_sym_cached == sym)
		return w->maps_sym_name;
	w->maps_sym_cached = sym;
	w->maps_sym_name = NULL;
	for (i = 0; i < e->sym_cnt; i++) {
		if (e->syms[i].shndx == sym->shndx && e->syms[i].value == sym->value &&
		    e->syms[i].type == STT_OBJECT) {
			w->maps_sym_name = e->syms[i].name;
			break;
		}
	}
	return w->maps_sym_name;
}

/*
 * The map an ld_imm64 relocation refers to, by the name libbpf gives it. For .maps the
 * symbol is the map's name; data sections and Kconfig externs become libbpf's internal
 * maps, which bpf_object__find_map_by_name() finds by section name ("obj.rodata" for
 * ".rodata").
 */
static int add_map_ref(struct walk *w, const struct elf_symbol *sym)
{
	const struct bpf_elf *e = w->e;
	const char *key = NULL;
	struct bpf_map *map;

	if (sym->shndx == SHN_UNDEF) {
		if (is_kconfig_extern(w->btf, sym->name))
			key = ".kconfig";
	} else if (sym->shndx < e->sec_cnt) {
		const char *sec = e->secs[sym->shndx].name;

		if (!strcmp(sec, ".maps")) {
			key = sym->name;
			if (sym->type == STT_SECTION)
				key = maps_object_at(w, sym);
		} else if (is_data_section(sec)) {
			key = sec;
		}
	}
	if (!key || !*key)
		return 0;
	map = bpf_object__find_map_by_name(w->obj, key);
	if (!map) {
		pr_debug("%s: program '%s' refers to '%s', which is not a map libbpf knows\n",
			 w->object_name, w->prog_name, key);
		return 0;
	}
	return name_list_add(&w->maps, bpf_map__name(map));
}

/* The subprogram a pseudo call or function pointer reaches, or -1 when it makes no sense. */
static ssize_t call_target(const struct walk *w, size_t shndx, size_t idx, const struct insn *insn,
			   const struct elf_relo *relo, bool is_call)
{
	const struct bpf_elf *e = w->e;
	const struct elf_symbol *sym;
	int64_t target;

	if (!relo) {
		/* Same section: imm counts instructions from the next one. */
		target = (int64_t)idx + insn->imm + 1;
		if (target < 0)
			return -1;
		return find_func(e, shndx, (uint64_t)target);
	}
	sym = &e->syms[relo->sym];
	if (sym->shndx == SHN_UNDEF || sym->shndx >= e->sec_cnt || !e->secs[sym->shndx].code)
		return -1;
	/*
	 * Calls: the symbol's offset plus imm + 1 instructions (imm is -1 against a function
	 * symbol, the function's index - 1 against the section symbol). Function pointers: the
	 * symbol's offset plus imm bytes.
	 */
	if (is_call)
		target = (int64_t)(sym->value / BPF_INSN_SZ) + insn->imm + 1;
	else
		target = (int64_t)((sym->value + (uint64_t)(int64_t)insn->imm) / BPF_INSN_SZ);
	if (target < 0)
		return -1;
	return find_func(e, sym->shndx, (uint64_t)target);
}

static int walk_func(struct walk *w, const struct elf_func *f)
{
	const struct bpf_elf *e = w->e;
	const struct elf_section *sec = &e->secs[f->shndx];
	size_t i, end = f->start + f->cnt;
	int err;

	for (i = f->start; i < end; i++) {
		const struct elf_relo *relo = find_relo(sec, (uint64_t)i * BPF_INSN_SZ);
		struct insn insn;

		insn_at(sec, i, &insn);
		if (insn.code == (BPF_JMP | BPF_CALL)) {
			const struct elf_symbol *sym = relo ? &e->syms[relo->sym] : NULL;

			if (insn.src == BPF_PSEUDO_KFUNC_CALL ||
			    (insn.src == BPF_PSEUDO_CALL && sym && sym->shndx == SHN_UNDEF)) {
				/* clang emits kfunc calls as pseudo calls to undefined symbols. */
				if (sym && *sym->name)
					err = add_kfunc(w, sym->name);
				else
					err = 0;
			} else if (insn.src == BPF_PSEUDO_CALL) {
				err = walk_push(w, call_target(w, f->shndx, i, &insn, relo, true));
			} else if (insn.src == 0) {
				err = add_helper(w, insn.imm);
			} else {
				err = 0;
			}
			if (err)
				return err;
		} else if (insn.code == (BPF_LD | BPF_IMM | BPF_DW)) {
			const struct elf_symbol *sym = relo ? &e->syms[relo->sym] : NULL;

			if (i + 1 >= end)
				break;	/* no second half: the verifier would refuse it */
			if (insn.src == BPF_PSEUDO_FUNC ||
			    (sym && sym->shndx < e->sec_cnt && sym->shndx != SHN_UNDEF &&
			     e->secs[sym->shndx].code)) {
				/* A callback (bpf_loop, timers): reached as surely as a call. */
				err = walk_push(w, call_target(w, f->shndx, i, &insn, relo, false));
			} else if (sym) {
				err = add_map_ref(w, sym);
			} else {
				err = 0;
			}
			if (err)
				return err;
			i++;
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

struct helper_entry {
	char *name;
	int id;
};

static int cmp_helper_entry(const void *a, const void *b)
{
	const struct helper_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Unique helper ids into the report: names sorted, ids in the same order. */
static int finish_helpers(struct walk *w, struct bpk_prog_report *p)
{
	struct helper_entry *entries;
	size_t i, n = 0;

	if (!w->helper_cnt)
		return 0;
	qsort(w->helper_ids, w->helper_cnt, sizeof(int), cmp_int);
	entries = calloc(w->helper_cnt, sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	for (i = 0; i < w->helper_cnt; i++) {
		const char *name;

		if (n && w->helper_ids[i] == entries[n - 1].id)
			continue;
		name = bpk_helper__name(w->helper_ids[i]);
		entries[n].id = w->helper_ids[i];
		entries[n].name = name ? strdup(name) : xasprintf("helper#%d", w->helper_ids[i]);
		if (!entries[n].name)
			goto enomem;
		n++;
	}
	qsort(entries, n, sizeof(*entries), cmp_helper_entry);
	p->helpers = calloc(n, sizeof(*p->helpers));
	p->helper_ids = calloc(n, sizeof(*p->helper_ids));
	if (!p->helpers || !p->helper_ids)
		goto enomem;
	for (i = 0; i < n; i++) {
		p->helpers[i] = entries[i].name;
		p->helper_ids[i] = entries[i].id;
	}
	p->helper_cnt = n;
	free(entries);
	return 0;
enomem:
	for (i = 0; i < n; i++)
		free(entries[i].name);
	free(entries);
	free(p->helpers);
	free(p->helper_ids);
	p->helpers = NULL;
	p->helper_ids = NULL;
	return -ENOMEM;
}

/* The function symbol libbpf made this program from: same name, same section name. */
static ssize_t find_prog_func(const struct bpf_elf *e, const char *name, const char *sec_name)
{
	size_t i;

	for (i = 0; i < e->func_cnt; i++) {
		const struct elf_func *f = &e->funcs[i];

		if (!strcmp(e->syms[f->sym].name, name) &&
		    !strcmp(e->secs[f->shndx].name, sec_name))
			return (ssize_t)i;
	}
	return -1;
}

static uint32_t count_core_relos(const struct bpf_elf *e, const bool *visited)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < e->core_relo_cnt; i++) {
		ssize_t f;

		if (!e->core_relos[i].shndx)
			continue;
		f = find_func(e, e->core_relos[i].shndx, e->core_relos[i].insn);
		if (f >= 0 && visited[f])
			n++;
	}
	return n;
}

static int inspect_calls(const struct bpf_elf *e, struct bpf_object *obj, const char *object_name,
			 struct bpk_prog_report *p, const char *raw_name, const char *raw_sec,
			 struct bpk_diags *diags)
{
	struct walk w = {
		.e = e,
		.obj = obj,
		.btf = bpf_object__btf(obj),
		.object_name = object_name,
		.prog_name = raw_name,
		.diags = diags,
	};
	ssize_t root;
	int err = 0;

	root = find_prog_func(e, raw_name, raw_sec);
	if (root < 0) {
		pr_debug("%s: no function symbol for program '%s' in '%s'\n", object_name, raw_name,
			 raw_sec);
		return 0;
	}
	w.visited = calloc(e->func_cnt, sizeof(*w.visited));
	w.stack = calloc(e->func_cnt, sizeof(*w.stack));
	if (!w.visited || !w.stack) {
		err = -ENOMEM;
		goto out;
	}
	walk_push(&w, root);
	while (w.stack_cnt) {
		size_t f = w.stack[--w.stack_cnt];

		if (f != (size_t)root)
			w.subprog_insns += (uint32_t)e->funcs[f].cnt;
		err = walk_func(&w, &e->funcs[f]);
		if (err)
			goto out;
	}
	p->tail_calls = w.tail_calls;
	p->subprog_insn_cnt = w.subprog_insns;
	p->core_relo_cnt = count_core_relos(e, w.visited);
	err = finish_helpers(&w, p);
	err = err ?: name_list_finish(&w.kfuncs, &p->kfuncs, &p->kfunc_cnt);
	err = err ?: name_list_finish(&w.maps, &p->maps, &p->map_cnt);
out:
	walk_release(&w);
	return err;
}

/* The hook bpk attaches a program of this type to (DESIGN.md §2 "attach"). */
static const char *attach_hook(enum bpf_prog_type type, const char *sec, const char *type_str,
			       const char *attach_type_str)
{
	switch (type) {
	case BPF_PROG_TYPE_XDP:
		return "xdp";
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		return "tc";
	case BPF_PROG_TYPE_TRACEPOINT:
		return "tracepoint";
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		return "raw_tracepoint";
	case BPF_PROG_TYPE_KPROBE:
		/* One program type, told apart by libbpf's section prefixes. */
		if (str_has_prefix(sec, "kretprobe") || str_has_prefix(sec, "kretsyscall"))
			return "kretprobe";
		if (str_has_prefix(sec, "uretprobe"))
			return "uretprobe";
		if (str_has_prefix(sec, "uprobe"))
			return "uprobe";
		if (str_has_prefix(sec, "usdt"))
			return "usdt";
		return "kprobe";
	case BPF_PROG_TYPE_CGROUP_SKB:
		return attach_type_str ?: type_str;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		return "socket";
	default:
		return type_str;
	}
}

static int inspect_program(const struct bpf_elf *e, struct bpf_object *obj,
			   const struct bpf_program *prog, const char *object_name,
			   struct bpk_prog_report *p, struct bpk_diags *diags)
{
	const char *raw_name = bpf_program__name(prog) ?: "";
	const char *raw_sec = bpf_program__section_name(prog) ?: "";
	enum bpf_prog_type type = bpf_program__type(prog);
	enum bpf_attach_type eat = bpf_program__expected_attach_type(prog);
	const char *type_str = libbpf_bpf_prog_type_str(type) ?: "unknown";
	const char *eat_str = NULL;
	int err;

	/*
	 * 0 is both "none" and BPF_CGROUP_INET_INGRESS; only cgroup_skb means the latter. For
	 * struct_ops, libbpf keeps the member index in this field: not an attach type.
	 */
	if ((eat != 0 || type == BPF_PROG_TYPE_CGROUP_SKB) && type != BPF_PROG_TYPE_STRUCT_OPS)
		eat_str = libbpf_bpf_attach_type_str(eat) ?: "unknown";
	p->prog_type = type;
	p->expected_attach_type = eat;
	p->insn_cnt = (uint32_t)bpf_program__insn_cnt(prog);
	p->name = dup_printable(raw_name);
	p->section = dup_printable(raw_sec);
	p->type = strdup(type_str);
	p->attach_type = eat_str ? strdup(eat_str) : NULL;
	p->attach = dup_printable(attach_hook(type, raw_sec, type_str, eat_str));
	if (!p->name || !p->section || !p->type || (eat_str && !p->attach_type) || !p->attach)
		return -ENOMEM;
	if (type == BPF_PROG_TYPE_UNSPEC) {
		err = bpk_diags__add(diags, BPK_E_UNKNOWN_SECTION, object_name,
				     "program '%s' is in section '%s', which libbpf cannot map to a program type",
				     p->name, p->section);
		if (err)
			return err;
	}
	err = inspect_calls(e, obj, object_name, p, raw_name, raw_sec, diags);
	if (err)
		return err;
	if (p->tail_calls)
		p->chain = strdup("tailcall");
	else if (type == BPF_PROG_TYPE_SCHED_CLS)
		p->chain = strdup("tcx");
	else
		p->chain = strdup("none");
	return p->chain ? 0 : -ENOMEM;
}

static bool is_internal_map_name(const char *name)
{
	return name[0] == '.' || str_has_suffix(name, ".rodata") || str_has_suffix(name, ".data") ||
	       str_has_suffix(name, ".bss") || str_has_suffix(name, ".kconfig");
}

static int inspect_map(const struct bpf_map *map, struct bpk_map_report *m)
{
	const char *name = bpf_map__name(map) ?: "";
	enum bpf_map_type type = bpf_map__type(map);

	m->name = dup_printable(name);
	m->map_type = type;
	m->type = strdup(libbpf_bpf_map_type_str(type) ?: "unknown");
	m->key_size = bpf_map__key_size(map);
	m->value_size = bpf_map__value_size(map);
	m->max_entries = bpf_map__max_entries(map);
	m->pinning = strdup(bpf_map__pin_path(map) ? "by_name" : "none");
	m->internal = is_internal_map_name(name);
	return m->name && m->type && m->pinning ? 0 : -ENOMEM;
}

static int fill_report(struct bpk_obj_info *info, const struct bpf_elf *e, struct bpf_object *obj,
		       const char *object_name, struct bpk_diags *diags)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	size_t n;
	int err;

	if (e->license) {
		const char *s = (const char *)e->license->data;
		size_t max = e->license->size < LICENSE_MAX ? e->license->size : LICENSE_MAX;

		info->license = s ? dup_printable_n(s, strnlen(s, max)) : strdup("");
		if (!info->license)
			return -ENOMEM;
	}
	info->has_btf = bpf_object__btf(obj) != NULL;
	info->has_btf_ext = e->btf_ext_ok;
	info->core_relo_cnt = (uint32_t)e->core_relo_cnt;

	n = 0;
	bpf_object__for_each_program(prog, obj)
		n++;
	info->progs = calloc(n ?: 1, sizeof(*info->progs));
	if (!info->progs)
		return -ENOMEM;
	bpf_object__for_each_program(prog, obj) {
		err = inspect_program(e, obj, prog, object_name, &info->progs[info->prog_cnt++],
				      diags);
		if (err)
			return err;
	}

	n = 0;
	bpf_object__for_each_map(map, obj)
		n++;
	info->maps = calloc(n ?: 1, sizeof(*info->maps));
	if (!info->maps)
		return -ENOMEM;
	bpf_object__for_each_map(map, obj) {
		err = inspect_map(map, &info->maps[info->map_cnt++]);
		if (err)
			return err;
	}
	return 0;
}

struct bpk_obj_info *bpk_obj_info__inspect_mem(const void *buf, size_t len, const char *name,
					       struct bpk_diags *diags)
{
	struct strbuf why = STRBUF_INIT, libbpf_why = STRBUF_INIT;
	struct bpk_obj_info *info = NULL;
	struct bpf_object *obj = NULL;
	struct bpf_elf e = { 0 };
	void *copy = NULL;
	int err;

	if (!name)
		name = "object";
	if (!buf && len) {
		errno = EINVAL;
		return NULL;
	}
	info = calloc(1, sizeof(*info));
	/*
	 * libelf and libbpf take a non-const buffer and libelf wants it aligned for its
	 * structures: give them a private copy, so the caller's bytes are never touched.
	 */
	copy = malloc(len ?: 1);
	if (!info || !copy) {
		err = -ENOMEM;
		goto out;
	}
	if (len)
		memcpy(copy, buf, len);
	info->size = len;
	err = bpk_sha256_hex(len ? buf : "", len, info->sha256);
	if (err)
		goto out;

	err = bpf_elf_open(&e, copy, len, &why);
	if (err == -EINVAL)
		goto bad_object;
	if (err)
		goto out;
	obj = open_with_libbpf(copy, len, name, &libbpf_why);
	if (!obj) {
		err = -errno;
		if (err == -ENOMEM)
			goto out;
		if (strbuf_addf(&why, "libbpf cannot open it: %s",
				libbpf_why.len ? libbpf_why.buf : strerror(-err)))
			goto out_enomem;
		err = -EINVAL;
		goto bad_object;
	}
	err = parse_btf_ext(&e, bpf_object__btf(obj));
	if (err)
		goto out;
	err = fill_report(info, &e, obj, name, diags);
	goto out;

bad_object:
	/* The reason quotes names from the object: keep it printable, like the report. */
	make_printable(why.buf);
	if (bpk_diags__add(diags, BPK_E_BAD_OBJECT, name, "%s", why.buf ?: "not a BPF object"))
		goto out_enomem;
	err = -EINVAL;
	goto out;
out_enomem:
	err = -ENOMEM;
out:
	bpf_object__close(obj);
	bpf_elf_release(&e);
	free(copy);
	strbuf_release(&why);
	strbuf_release(&libbpf_why);
	if (err) {
		bpk_obj_info__free(info);
		errno = -err;
		return NULL;
	}
	return info;
}

struct bpk_obj_info *bpk_obj_info__inspect_file(const char *path, struct bpk_diags *diags)
{
	_cleanup_free_ char *data = NULL;
	struct bpk_obj_info *info;
	size_t len = 0;
	int err;

	err = read_file(path, INSPECT_MAX_FILE_SIZE, &data, &len);
	if (err) {
		if (err == -EFBIG)
			err = bpk_diags__add(diags, BPK_E_BAD_OBJECT, path, "larger than %llu MiB",
					     INSPECT_MAX_FILE_SIZE >> 20) ?: -EFBIG;
		else if (err != -ENOMEM)
			err = bpk_diags__add(diags, BPK_E_BAD_OBJECT, path, "cannot read it: %s",
					     strerror(-err)) ?: err;
		errno = -err;
		return NULL;
	}
	info = bpk_obj_info__inspect_mem(data, len, path, diags);
	return info;
}

static void free_strv(char **v, size_t cnt)
{
	size_t i;

	for (i = 0; v && i < cnt; i++)
		free(v[i]);
	free(v);
}

void bpk_obj_info__free(struct bpk_obj_info *info)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; info->progs && i < info->prog_cnt; i++) {
		struct bpk_prog_report *p = &info->progs[i];

		free(p->name);
		free(p->section);
		free(p->type);
		free(p->attach_type);
		free(p->attach);
		free(p->chain);
		free_strv(p->helpers, p->helper_cnt);
		free(p->helper_ids);
		free_strv(p->kfuncs, p->kfunc_cnt);
		free_strv(p->maps, p->map_cnt);
	}
	free(info->progs);
	for (i = 0; info->maps && i < info->map_cnt; i++) {
		free(info->maps[i].name);
		free(info->maps[i].type);
		free(info->maps[i].pinning);
	}
	free(info->maps);
	free(info->license);
	free(info);
}

static json_t *json_strv(char *const *v, size_t cnt)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < cnt; i++) {
		if (json_array_append_new(a, json_string(v[i]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* json_object_set_new() consumes value even on failure; a NULL value fails the same way. */
static int set(json_t *o, const char *key, json_t *value)
{
	return json_object_set_new(o, key, value) ? -ENOMEM : 0;
}

/* [{"id","words","evidence"}]: what the program can do, and why bpk says so. */
static json_t *capabilities_json(const struct bpk_obj_info *info, const struct bpk_prog_report *p)
{
	struct bpk_capability_list caps;
	json_t *a;
	size_t i;

	if (bpk_capabilities__of_prog(info, p, &caps))
		return NULL;
	a = json_array();
	for (i = 0; a && i < caps.cnt; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "id", caps.items[i].id,
						       "words", caps.items[i].words, "evidence",
						       caps.items[i].evidence))) {
			json_decref(a);
			a = NULL;
		}
	bpk_capability_list__release(&caps);
	return a;
}

static json_t *prog_json(const struct bpk_obj_info *info, const struct bpk_prog_report *p)
{
	json_t *o = json_object();
	int err;

	if (!o)
		return NULL;
	err = set(o, "name", json_string(p->name));
	err = err ?: set(o, "section", json_string(p->section));
	err = err ?: set(o, "type", json_string(p->type));
	err = err ?: set(o, "attach_type",
			 p->attach_type ? json_string(p->attach_type) : json_null());
	err = err ?: set(o, "attach", json_string(p->attach));
	err = err ?: set(o, "chain", json_string(p->chain));
	err = err ?: set(o, "insns", json_integer(p->insn_cnt));
	err = err ?: set(o, "subprog_insns", json_integer(p->subprog_insn_cnt));
	err = err ?: set(o, "helpers", json_strv(p->helpers, p->helper_cnt));
	err = err ?: set(o, "kfuncs", json_strv(p->kfuncs, p->kfunc_cnt));
	err = err ?: set(o, "tail_calls", json_boolean(p->tail_calls));
	err = err ?: set(o, "maps", json_strv(p->maps, p->map_cnt));
	err = err ?: set(o, "core_relos", json_integer(p->core_relo_cnt));
	err = err ?: set(o, "capabilities", capabilities_json(info, p));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *map_json(const struct bpk_map_report *m)
{
	json_t *o = json_object();
	int err;

	if (!o)
		return NULL;
	err = set(o, "name", json_string(m->name));
	err = err ?: set(o, "type", json_string(m->type));
	err = err ?: set(o, "key_size", json_integer(m->key_size));
	err = err ?: set(o, "value_size", json_integer(m->value_size));
	err = err ?: set(o, "max_entries", json_integer(m->max_entries));
	err = err ?: set(o, "pinning", json_string(m->pinning));
	err = err ?: set(o, "internal", json_boolean(m->internal));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *bpk_obj_info_json(const struct bpk_obj_info *info)
{
	json_t *root = json_object(), *progs = json_array(), *maps = json_array();
	size_t i;
	int err;

	if (!root || !progs || !maps)
		goto fail;
	for (i = 0; i < info->prog_cnt; i++)
		if (json_array_append_new(progs, prog_json(info, &info->progs[i])))
			goto fail;
	for (i = 0; i < info->map_cnt; i++)
		if (json_array_append_new(maps, map_json(&info->maps[i])))
			goto fail;
	err = set(root, "sha256", json_string(info->sha256));
	err = err ?: set(root, "size", json_integer((json_int_t)info->size));
	err = err ?: set(root, "license", info->license ? json_string(info->license) : json_null());
	err = err ?: set(root, "btf", json_boolean(info->has_btf));
	err = err ?: set(root, "btf_ext", json_boolean(info->has_btf_ext));
	err = err ?: set(root, "core_relos", json_integer(info->core_relo_cnt));
	if (err)
		goto fail;
	/* set() consumes progs and maps whether or not it succeeds. */
	err = set(root, "programs", progs);
	progs = NULL;
	if (err)
		goto fail;
	err = set(root, "maps", maps);
	maps = NULL;
	if (err)
		goto fail;
	return root;
fail:
	json_decref(progs);
	json_decref(maps);
	json_decref(root);
	return NULL;
}

char *bpk_obj_info__to_json(const struct bpk_obj_info *info)
{
	_cleanup_json_ json_t *root = NULL;

	if (!info) {
		errno = EINVAL;
		return NULL;
	}
	root = bpk_obj_info_json(info);
	if (!root) {
		errno = ENOMEM;
		return NULL;
	}
	return bpk_json_dump(root, NULL);
}
