// SPDX-License-Identifier: BSD-2-Clause
/* bpk test: load each program afresh, run its test vectors with BPF_PROG_TEST_RUN, compare. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpk_internal.h"

#define MAX_VECTOR (4U << 20)
#define MAX_OBJECT (64U << 20)
/* Room for programs that grow the packet (bpf_xdp_adjust_head/tail). */
#define OUT_SLACK 4096
#define LOG_SIZE (256U << 10)

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported", seen by user space as is */
#endif

struct blob {
	char *path;
	const void *data;
	size_t len;
	char *owned;
};

struct runner {
	struct blob *objs;
	size_t obj_cnt;
	struct blob *vecs;
	size_t vec_cnt;
	uint32_t repeat;
	struct bpk_test_report *report;
};

/* ---- report ---- */

__attribute__((format(printf, 6, 7))) static int add_result(struct runner *r, const char *vector,
							    const char *program, const char *name,
							    enum bpk_test_status status,
							    const char *fmt, ...)
{
	struct bpk_test_report *rep = r->report;
	struct bpk_test_case_result *c, *cases;
	va_list ap;

	cases = reallocarray(rep->cases, rep->cnt + 1, sizeof(*cases));
	if (!cases)
		return -ENOMEM;
	rep->cases = cases;
	c = &cases[rep->cnt];
	memset(c, 0, sizeof(*c));
	c->vector = strdup(vector);
	c->program = program ? strdup(program) : NULL;
	c->name = strdup(name);
	c->status = status;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&c->detail, fmt, ap) < 0)
			c->detail = NULL;
		va_end(ap);
	}
	rep->cnt++;
	if (status == BPK_TEST_PASS)
		rep->passed++;
	else if (status == BPK_TEST_FAIL)
		rep->failed++;
	else
		rep->skipped++;
	return c->vector && c->name ? 0 : -ENOMEM;
}

void bpk_test_report__free(struct bpk_test_report *report)
{
	size_t i;

	if (!report)
		return;
	for (i = 0; i < report->cnt; i++) {
		free(report->cases[i].vector);
		free(report->cases[i].program);
		free(report->cases[i].name);
		free(report->cases[i].detail);
	}
	free(report->cases);
	free(report);
}

char *bpk_test_report__to_json(const struct bpk_test_report *rep)
{
	static const char *const status[] = { "pass", "fail", "skip" };
	_cleanup_json_ json_t *root = json_pack("{s:I, s:I, s:I, s:[]}", "passed",
						(json_int_t)rep->passed, "failed",
						(json_int_t)rep->failed, "skipped",
						(json_int_t)rep->skipped, "cases");
	json_t *cases = json_object_get(root, "cases");
	size_t i;

	for (i = 0; root && i < rep->cnt; i++) {
		const struct bpk_test_case_result *c = &rep->cases[i];

		if (json_array_append_new(cases, json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:I, s:I}",
							   "vector", c->vector, "program",
							   c->program, "name", c->name, "status",
							   status[c->status], "detail", c->detail,
							   "retval", (json_int_t)c->retval,
							   "ns_per_run",
							   (json_int_t)c->ns_per_run)))
			return NULL;
	}
	return root ? bpk_json_dump(root, NULL) : NULL;
}

/* ---- values ---- */

static const struct {
	const char *name;
	int value;
} verdicts[] = {
	{ "XDP_ABORTED", 0 },	  { "XDP_DROP", 1 },	     { "XDP_PASS", 2 },
	{ "XDP_TX", 3 },	  { "XDP_REDIRECT", 4 },     { "TC_ACT_UNSPEC", -1 },
	{ "TC_ACT_OK", 0 },	  { "TC_ACT_RECLASSIFY", 1 }, { "TC_ACT_SHOT", 2 },
	{ "TC_ACT_PIPE", 3 },	  { "TC_ACT_STOLEN", 4 },    { "TC_ACT_QUEUED", 5 },
	{ "TC_ACT_REPEAT", 6 },	  { "TC_ACT_REDIRECT", 7 },  { "SK_DROP", 0 },
	{ "SK_PASS", 1 },
};

/* A verdict as a number or one of the names above. */
static int parse_retval(json_t *v, uint32_t *ret)
{
	size_t i;

	if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
	    json_integer_value(v) <= UINT32_MAX) {
		*ret = (uint32_t)json_integer_value(v);
		return 0;
	}
	for (i = 0; json_is_string(v) && i < ARRAY_SIZE(verdicts); i++)
		if (!strcmp(json_string_value(v), verdicts[i].name)) {
			*ret = (uint32_t)verdicts[i].value;
			return 0;
		}
	return -EINVAL;
}

/*
 * Bytes of a key or value: "<field>_hex", or "<field>" as an integer encoded little-endian
 * in size bytes (the common case of counters and indexes).
 */
static int field_bytes(json_t *obj, const char *field, size_t size, unsigned char **ret,
		       char **ret_error)
{
	char hex_key[32];
	json_t *hex, *num;
	size_t len, i;
	int err;

	snprintf(hex_key, sizeof(hex_key), "%s_hex", field);
	hex = json_object_get(obj, hex_key);
	num = json_object_get(obj, field);
	if (hex) {
		if (!json_is_string(hex) || bpk_hex_decode(json_string_value(hex), ret, &len)) {
			*ret_error = xasprintf("'%s' must be hex digits", hex_key);
			return -EINVAL;
		}
		if (len != size) {
			free(*ret);
			*ret_error = xasprintf("'%s' has %zu bytes but the map's %s size is %zu",
					       hex_key, len, field, size);
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_integer(num)) {
		*ret_error = xasprintf("give '%s' (an integer) or '%s'", field, hex_key);
		return -EINVAL;
	}
	*ret = calloc(1, size ? size : 1);
	if (!*ret)
		return -ENOMEM;
	for (i = 0; i < size && i < 8; i++)
		(*ret)[i] = (unsigned char)((unsigned long long)json_integer_value(num) >> (8 * i));
	err = 0;
	return err;
}

static bool map_is_percpu(const struct bpf_map *map)
{
	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

/* Write the case's "maps" entries before the run. */
static int set_maps(struct bpf_object *obj, json_t *list, char **ret_error)
{
	json_t *entry;
	size_t i;

	json_array_foreach(list, i, entry) {
		const char *name = json_string_value(json_object_get(entry, "name"));
		struct bpf_map *map = name ? bpf_object__find_map_by_name(obj, name) : NULL;
		_cleanup_free_ unsigned char *key = NULL, *value = NULL, *all = NULL;
		size_t vsize, stride, cpus = 1, c;
		int err;

		if (!map) {
			*ret_error = xasprintf("maps[%zu]: no map named '%s'", i, name ?: "(none)");
			return -EINVAL;
		}
		vsize = bpf_map__value_size(map);
		err = field_bytes(entry, "key", bpf_map__key_size(map), &key, ret_error);
		if (!err)
			err = field_bytes(entry, "value", vsize, &value, ret_error);
		if (err)
			return err;
		/* A per-CPU map takes one value per possible CPU, each padded to 8 bytes. */
		stride = map_is_percpu(map) ? (vsize + 7) / 8 * 8 : vsize;
		if (map_is_percpu(map))
			cpus = (size_t)libbpf_num_possible_cpus();
		all = calloc(cpus, stride);
		if (!all)
			return -ENOMEM;
		for (c = 0; c < cpus; c++)
			memcpy(all + c * stride, value, vsize);
		if (bpf_map_update_elem(bpf_map__fd(map), key, all, BPF_ANY)) {
			*ret_error = xasprintf("maps[%zu]: cannot write '%s': %s", i, name,
					       strerror(errno));
			return -EINVAL;
		}
	}
	return 0;
}

static void hexdump_diff(struct strbuf *sb, const unsigned char *want, size_t want_len,
			 const unsigned char *got, size_t got_len)
{
	size_t off, i, max = want_len > got_len ? want_len : got_len;

	strbuf_addf(sb, "  offset  expected                                          got\n");
	for (off = 0; off < max; off += 16) {
		bool differs = false;

		for (i = off; i < off + 16 && i < max; i++)
			differs |= i >= want_len || i >= got_len || want[i] != got[i];
		strbuf_addf(sb, "%c %06zx  ", differs ? '!' : ' ', off);
		for (i = off; i < off + 16; i++) {
			if (i < want_len)
				strbuf_addf(sb, "%02x ", want[i]);
			else
				strbuf_addstr(sb, "   ");
		}
		strbuf_addstr(sb, " ");
		for (i = off; i < off + 16 && i < got_len; i++)
			strbuf_addf(sb, "%02x ", got[i]);
		strbuf_addstr(sb, "\n");
	}
}

/* Compare the case's expected "maps" after the run; per-CPU values are summed per u64 lane. */
static int check_maps(struct bpf_object *obj, json_t *list, struct strbuf *why)
{
	json_t *entry;
	size_t i;
	int mismatches = 0;

	json_array_foreach(list, i, entry) {
		const char *name = json_string_value(json_object_get(entry, "name"));
		struct bpf_map *map = name ? bpf_object__find_map_by_name(obj, name) : NULL;
		_cleanup_free_ unsigned char *key = NULL, *want = NULL, *all = NULL, *got = NULL;
		_cleanup_free_ char *error = NULL;
		size_t vsize, stride, cpus = 1, c, lane;

		if (!map) {
			strbuf_addf(why, "expect.maps[%zu]: no map named '%s'\n", i, name ?: "(none)");
			mismatches++;
			continue;
		}
		vsize = bpf_map__value_size(map);
		if (field_bytes(entry, "key", bpf_map__key_size(map), &key, &error) ||
		    field_bytes(entry, "value", vsize, &want, &error)) {
			strbuf_addf(why, "expect.maps[%zu]: %s\n", i, error ? error : "invalid");
			mismatches++;
			continue;
		}
		stride = map_is_percpu(map) ? (vsize + 7) / 8 * 8 : vsize;
		if (map_is_percpu(map))
			cpus = (size_t)libbpf_num_possible_cpus();
		all = calloc(cpus, stride);
		got = calloc(1, vsize + 8);
		if (!all || !got)
			return -ENOMEM;
		if (bpf_map_lookup_elem(bpf_map__fd(map), key, all)) {
			strbuf_addf(why, "map '%s': no element at the key (%s)\n", name,
				    strerror(errno));
			mismatches++;
			continue;
		}
		if (cpus == 1) {
			memcpy(got, all, vsize);
		} else {
			for (lane = 0; lane + 8 <= vsize; lane += 8) {
				uint64_t sum = 0, v;

				for (c = 0; c < cpus; c++) {
					memcpy(&v, all + c * stride + lane, 8);
					sum += v;
				}
				memcpy(got + lane, &sum, 8);
			}
		}
		if (memcmp(got, want, vsize)) {
			strbuf_addf(why, "map '%s'%s: value differs\n", name,
				    cpus > 1 ? " (summed over CPUs)" : "");
			hexdump_diff(why, want, vsize, got, vsize);
			mismatches++;
		}
	}
	return mismatches;
}

/* ---- running ---- */

static int find_object(struct runner *r, const char *program, const char *object,
		       const struct blob **ret)
{
	size_t i;

	for (i = 0; i < r->obj_cnt; i++) {
		struct bpf_object *obj;
		bool found;

		if (object && strcmp(object, r->objs[i].path))
			continue;
		obj = bpf_object__open_mem(r->objs[i].data, r->objs[i].len, NULL);
		if (!obj)
			continue;
		found = bpf_object__find_program_by_name(obj, program) != NULL;
		bpf_object__close(obj);
		if (found) {
			*ret = &r->objs[i];
			return 0;
		}
	}
	return -ENOENT;
}

static int run_case(struct runner *r, const char *vector, const struct blob *blob,
		    const char *program, const char *name, json_t *tc)
{
	_cleanup_free_ unsigned char *packet = NULL, *ctx = NULL, *out = NULL, *want = NULL;
	_cleanup_free_ char *error = NULL, *log = calloc(1, LOG_SIZE);
	json_t *expect = json_object_get(tc, "expect");
	json_t *packet_hex = json_object_get(tc, "packet_hex"), *desc = json_object_get(tc, "packet");
	json_t *ctx_hex = json_object_get(tc, "ctx_hex");
	struct strbuf why = STRBUF_INIT;
	struct bpf_object *obj = NULL;
	struct bpf_program *prog, *p;
	size_t packet_len = 0, ctx_len = 0, want_len = 0;
	uint32_t want_retval = 0;
	bool check_retval = false;
	int err, fd, mismatches;

	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = blob->path,
		    .kernel_log_buf = log, .kernel_log_size = LOG_SIZE, .kernel_log_level = 1);
	LIBBPF_OPTS(bpf_test_run_opts, run);

	if (!log)
		return -ENOMEM;
	/* Parse the whole case before loading anything: a broken vector is the author's bug. */
	if (packet_hex && (!json_is_string(packet_hex) ||
			   bpk_hex_decode(json_string_value(packet_hex), &packet, &packet_len)))
		return add_result(r, vector, program, name, BPK_TEST_FAIL,
				  "'packet_hex' must be a string of hex digits");
	if (desc && bpk_packet_build_json(desc, &packet, &packet_len, &error))
		return add_result(r, vector, program, name, BPK_TEST_FAIL, "'packet': %s",
				  error ?: "invalid");
	if (ctx_hex && (!json_is_string(ctx_hex) ||
			bpk_hex_decode(json_string_value(ctx_hex), &ctx, &ctx_len)))
		return add_result(r, vector, program, name, BPK_TEST_FAIL,
				  "'ctx_hex' must be a string of hex digits");
	if (json_object_get(expect, "retval")) {
		if (parse_retval(json_object_get(expect, "retval"), &want_retval))
			return add_result(r, vector, program, name, BPK_TEST_FAIL,
					  "'expect.retval' must be a number or a verdict name (XDP_PASS, TC_ACT_OK, ...)");
		check_retval = true;
	}
	if (json_object_get(expect, "packet_hex") &&
	    bpk_hex_decode(json_string_value(json_object_get(expect, "packet_hex")) ?: "x", &want,
			   &want_len))
		return add_result(r, vector, program, name, BPK_TEST_FAIL,
				  "'expect.packet_hex' must be a string of hex digits");
	if (json_object_get(expect, "packet") &&
	    bpk_packet_build_json(json_object_get(expect, "packet"), &want, &want_len, &error))
		return add_result(r, vector, program, name, BPK_TEST_FAIL, "'expect.packet': %s",
				  error ?: "invalid");

	if (geteuid() != 0)
		return add_result(r, vector, program, name, BPK_TEST_SKIP,
				  "loading programs needs root (CAP_BPF, CAP_NET_ADMIN)");

	obj = bpf_object__open_mem(blob->data, blob->len, &open_opts);
	if (!obj)
		return add_result(r, vector, program, name, BPK_TEST_FAIL,
				  "libbpf cannot open '%s': %s", blob->path, strerror(errno));
	prog = bpf_object__find_program_by_name(obj, program);
	/* Only the program under test is loaded: a sibling the kernel refuses is not its fault. */
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == prog);
	if (bpf_object__load(obj)) {
		err = add_result(r, vector, program, name, BPK_TEST_FAIL,
				 "the kernel refused to load '%s' (%s); verifier log ends:\n%s",
				 program, strerror(errno), bpk_log_tail(log, 12));
		goto out;
	}
	if (json_is_true(json_object_get(tc, "load_only"))) {
		err = add_result(r, vector, program, name, BPK_TEST_PASS, "loaded (load_only)");
		goto out;
	}
	if (!packet && !ctx) {
		err = add_result(r, vector, program, name, BPK_TEST_FAIL,
				 "the case has no input: give 'packet', 'packet_hex' or 'ctx_hex' (or 'load_only')");
		goto out;
	}
	err = set_maps(obj, json_object_get(tc, "maps"), &error);
	if (err) {
		err = err == -ENOMEM ? err
				     : add_result(r, vector, program, name, BPK_TEST_FAIL, "%s", error);
		goto out;
	}
	out = calloc(1, packet_len + OUT_SLACK);
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	run.data_in = packet;
	run.data_size_in = (uint32_t)packet_len;
	run.data_out = packet ? out : NULL;
	run.data_size_out = packet ? (uint32_t)(packet_len + OUT_SLACK) : 0;
	run.ctx_in = ctx;
	run.ctx_size_in = (uint32_t)ctx_len;
	run.repeat = 1;
	fd = bpf_program__fd(prog);
	if (bpf_prog_test_run_opts(fd, &run)) {
		int e = errno;

		if (e == ENOTSUPP || e == EOPNOTSUPP)
			err = add_result(r, vector, program, name, BPK_TEST_SKIP,
					 "this kernel cannot test-run %s programs (BPF_PROG_TEST_RUN: %s)",
					 libbpf_bpf_prog_type_str(bpf_program__type(prog)),
					 e == ENOTSUPP ? "not supported" : strerror(e));
		else
			err = add_result(r, vector, program, name, BPK_TEST_FAIL,
					 "BPF_PROG_TEST_RUN failed: %s%s", strerror(e),
					 e == EINVAL && packet_len < 14 ?
						 " (packet programs need at least 14 bytes of input)" : "");
		goto out;
	}
	if (check_retval && run.retval != want_retval)
		strbuf_addf(&why, "return value: expected %d, got %d\n", (int)want_retval,
			    (int)run.retval);
	if (want && (run.data_size_out != want_len || memcmp(out, want, want_len))) {
		strbuf_addf(&why, "output packet differs (expected %zu bytes, got %u):\n", want_len,
			    run.data_size_out);
		hexdump_diff(&why, want, want_len, out, run.data_size_out);
	}
	mismatches = check_maps(obj, json_object_get(expect, "maps"), &why);
	if (mismatches < 0) {
		err = mismatches;
		goto out;
	}
	if (why.len) {
		while (why.len && why.buf[why.len - 1] == '\n')
			why.buf[--why.len] = '\0';
		err = add_result(r, vector, program, name, BPK_TEST_FAIL, "%s", why.buf);
	} else {
		err = add_result(r, vector, program, name, BPK_TEST_PASS, NULL);
	}
	if (!err)
		r->report->cases[r->report->cnt - 1].retval = run.retval;
	/*
	 * Timing is a second, separate run: repetitions reuse the (possibly rewritten) packet
	 * and keep counting in maps, so they must not feed the comparison above.
	 */
	if (!err && r->repeat > 1) {
		LIBBPF_OPTS(bpf_test_run_opts, timed, .data_in = packet,
			    .data_size_in = (uint32_t)packet_len, .data_out = run.data_out,
			    .data_size_out = run.data_out ? (uint32_t)(packet_len + OUT_SLACK) : 0,
			    .ctx_in = ctx, .ctx_size_in = (uint32_t)ctx_len, .repeat = (int)r->repeat);

		if (bpf_prog_test_run_opts(fd, &timed) == 0)
			r->report->cases[r->report->cnt - 1].ns_per_run = timed.duration;
	}
out:
	strbuf_release(&why);
	bpf_object__close(obj);
	return err;
}

static int run_vector(struct runner *r, const struct blob *vec)
{
	_cleanup_json_ json_t *root = NULL;
	const struct blob *blob = NULL;
	const char *program, *object;
	json_error_t jerr;
	json_t *cases, *tc;
	size_t i;
	int err;

	root = json_loadb(vec->data, vec->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root))
		return add_result(r, vec->path, NULL, "(vector)", BPK_TEST_FAIL,
				  "not a JSON object: %s at line %d", root ? "wrong type" : jerr.text,
				  jerr.line);
	program = json_string_value(json_object_get(root, "program"));
	object = json_string_value(json_object_get(root, "object"));
	cases = json_object_get(root, "cases");
	if (!program)
		return add_result(r, vec->path, NULL, "(vector)", BPK_TEST_FAIL,
				  "'program' (the name of the program under test) is required");
	if (!json_is_array(cases))
		return add_result(r, vec->path, program, "(vector)", BPK_TEST_FAIL,
				  "'cases' must be an array");
	if (find_object(r, program, object, &blob))
		return add_result(r, vec->path, program, "(vector)", BPK_TEST_FAIL,
				  "no object%s%s has a program named '%s'", object ? " " : "",
				  object ?: "", program);
	json_array_foreach(cases, i, tc) {
		char fallback[32];
		const char *name = json_string_value(json_object_get(tc, "name"));

		snprintf(fallback, sizeof(fallback), "case %zu", i + 1);
		if (!json_is_object(tc))
			err = add_result(r, vec->path, program, fallback, BPK_TEST_FAIL,
					 "a case must be a JSON object");
		else
			err = run_case(r, vec->path, blob, program, name ?: fallback, tc);
		if (err)
			return err;
	}
	return 0;
}

static int run_all(struct runner *r, const struct bpk_test_opts *opts,
		   struct bpk_test_report **ret_report)
{
	libbpf_print_fn_t old_print;
	size_t i;
	int err = 0;

	if (!r->vec_cnt)
		return -ENOENT;
	r->repeat = OPTS_GET(opts, repeat, 0);
	r->report = calloc(1, sizeof(*r->report));
	if (!r->report)
		return -ENOMEM;
	old_print = bpk_libbpf_print_begin(bpk_libbpf_print_debug);
	for (i = 0; !err && i < r->vec_cnt; i++)
		err = run_vector(r, &r->vecs[i]);
	bpk_libbpf_print_end(old_print);
	if (err) {
		bpk_test_report__free(r->report);
		return err;
	}
	*ret_report = r->report;
	return 0;
}

static int add_blob(struct blob **list, size_t *cnt, const char *path, const void *data,
		    size_t len, char *owned)
{
	struct blob *grown = reallocarray(*list, *cnt + 1, sizeof(**list));

	if (!grown)
		return -ENOMEM;
	*list = grown;
	grown[*cnt] = (struct blob){ strdup(path), data, len, owned };
	if (!grown[*cnt].path)
		return -ENOMEM;
	(*cnt)++;
	return 0;
}

static void release_blobs(struct blob *list, size_t cnt)
{
	size_t i;

	for (i = 0; i < cnt; i++) {
		free(list[i].path);
		free(list[i].owned);
	}
	free(list);
}

int bpk_test__pkg(const struct bpk_pkg *pkg, const struct bpk_test_opts *opts,
		  struct bpk_test_report **ret_report)
{
	struct runner r = { 0 };
	size_t i;
	int err = 0;

	for (i = 0; !err && i < bpk_pkg__entry_cnt(pkg); i++) {
		const void *data;
		size_t len;
		const char *path = bpk_pkg__entry(pkg, i, &data, &len);

		if (bpk_path_is_object(path))
			err = add_blob(&r.objs, &r.obj_cnt, path, data, len, NULL);
		else if (bpk_path_is_test_vector(path))
			err = add_blob(&r.vecs, &r.vec_cnt, path, data, len, NULL);
	}
	if (!err)
		err = run_all(&r, opts, ret_report);
	release_blobs(r.objs, r.obj_cnt);
	release_blobs(r.vecs, r.vec_cnt);
	return err;
}

static int add_disk_blobs(const char *dir, const char *sub, const char *suffix, struct blob **list,
			  size_t *cnt, size_t max)
{
	char **names = NULL;
	size_t n, i;
	int err = bpk_list_dir(dir, sub, suffix, &names, &n);

	for (i = 0; !err && i < n; i++) {
		_cleanup_free_ char *full = path_join(dir, names[i]);
		char *data = NULL;
		size_t len;

		err = full ? read_file(full, max, &data, &len) : -ENOMEM;
		if (!err) {
			err = add_blob(list, cnt, names[i], data, len, data);
			if (err)
				free(data);
		}
	}
	bpk_free_names(names);
	return err;
}

int bpk_test__dir(const char *dir, const struct bpk_test_opts *opts,
		  struct bpk_test_report **ret_report)
{
	struct runner r = { 0 };
	int err;

	if (access(dir, F_OK) < 0)
		return -errno;
	err = add_disk_blobs(dir, "bpf", ".o", &r.objs, &r.obj_cnt, MAX_OBJECT);
	if (!err)
		err = add_disk_blobs(dir, "tests", ".json", &r.vecs, &r.vec_cnt, MAX_VECTOR);
	if (!err)
		err = run_all(&r, opts, ret_report);
	release_blobs(r.objs, r.obj_cnt);
	release_blobs(r.vecs, r.vec_cnt);
	return err;
}
