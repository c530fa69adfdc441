// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the capability report: every class found on a program written to have it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static struct bpk_obj_info *load(const char *name)
{
	char *path = xasprintf("%s/%s.o", getenv("BPK_TEST_BPF_DIR"), name);
	struct bpk_obj_info *obj = bpk_obj_info__inspect_file(path, NULL);

	if (!obj)
		fail_msg("cannot inspect %s", path);
	free(path);
	return obj;
}

/* The capability ids of program name, space-separated, in enum order. */
static char *caps_of(const struct bpk_obj_info *obj, const char *name, char **ret_evidence)
{
	struct bpk_capability_list caps;
	struct strbuf ids = STRBUF_INIT, ev = STRBUF_INIT;
	size_t i;

	for (i = 0; i < obj->prog_cnt; i++)
		if (!strcmp(obj->progs[i].name, name))
			break;
	assert_true(i < obj->prog_cnt);
	assert_int_equal(bpk_capabilities__of_prog(obj, &obj->progs[i], &caps), 0);
	for (i = 0; i < caps.cnt; i++) {
		strbuf_addf(&ids, "%s%s", i ? " " : "", caps.items[i].id);
		strbuf_addf(&ev, "%s: %s\n", caps.items[i].id, caps.items[i].evidence);
	}
	bpk_capability_list__release(&caps);
	if (ret_evidence)
		*ret_evidence = strbuf_detach(&ev, NULL);
	else
		strbuf_release(&ev);
	return strbuf_detach(&ids, NULL);
}

static void expect(const struct bpk_obj_info *obj, const char *prog, const char *want)
{
	char *got = caps_of(obj, prog, NULL);

	if (strcmp(got, want))
		fail_msg("%s: capabilities '%s', want '%s'", prog, got, want);
	free(got);
}

static void test_every_class(void **state)
{
	struct bpk_obj_info *obj = load("caps_all");
	bool seen[BPK_CAP_CNT] = { false };
	char *evidence;
	size_t i, j;

	expect(obj, "caps_tracer",
	       "read-kernel-memory read-user-memory write-user-memory override-return send-signals tail-calls pinned-maps user-space-output process-info");
	expect(obj, "caps_xdp", "filter-packets redirect-packets rewrite-packets");
	expect(obj, "caps_sockops", "socket-control");
	expect(obj, "caps_syscall", "bpf-syscall kfuncs");

	free(caps_of(obj, "caps_tracer", &evidence));
	assert_non_null(strstr(evidence, "write-user-memory: calls bpf_probe_write_user\n"));
	assert_non_null(strstr(evidence, "pinned-maps: uses pinned map caps_shared\n"));
	free(evidence);
	free(caps_of(obj, "caps_syscall", &evidence));
	assert_non_null(strstr(evidence, "kfuncs: calls bpf_rcu_read_lock, bpf_rcu_read_unlock\n"));
	free(evidence);

	/* Between them the programs cover every class. */
	for (i = 0; i < obj->prog_cnt; i++) {
		struct bpk_capability_list caps;

		assert_int_equal(bpk_capabilities__of_prog(obj, &obj->progs[i], &caps), 0);
		for (j = 0; j < caps.cnt; j++)
			seen[caps.items[j].cap] = true;
		bpk_capability_list__release(&caps);
	}
	for (i = 0; i < BPK_CAP_CNT; i++)
		if (!seen[i])
			fail_msg("no program has %s", bpk_capability__id((enum bpk_capability)i));
	bpk_obj_info__free(obj);
}

static void test_plain_programs(void **state)
{
	struct bpk_obj_info *obj = load("xdp_counter");

	/* A counter that passes packets only filters: nothing sensitive. */
	char *got = caps_of(obj, obj->progs[0].name, NULL);
	assert_string_equal(got, "filter-packets");
	free(got);
	bpk_obj_info__free(obj);
}

static void test_ids(void **state)
{
	enum bpk_capability cap;
	int i;

	for (i = 0; i < BPK_CAP_CNT; i++) {
		assert_int_equal(bpk_capability__from_id(bpk_capability__id((enum bpk_capability)i), &cap), 0);
		assert_int_equal(cap, i);
		assert_non_null(bpk_capability__words((enum bpk_capability)i));
	}
	assert_int_equal(bpk_capability__from_id("fly", &cap), -EINVAL);
	assert_null(bpk_capability__id(BPK_CAP_CNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_class),
		cmocka_unit_test(test_plain_programs),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
