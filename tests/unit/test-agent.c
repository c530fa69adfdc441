// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of bpkd's l3afd payloads: every field, wrong types named, chains, map_args encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static const char full[] =
	"[{\"host_name\": \"node1\", \"iface\": \"eth9\", \"future\": {\"x\": 1},"
	" \"bpf_programs\": {\"xdp_ingress\": ["
	"  {\"id\": 7, \"name\": \"ratelimiting\", \"seq_id\": 2, \"artifact\": \"l3af_ratelimiting.tar.gz\","
	"   \"map_name\": \"xdp_rl_ingress_next_prog\", \"cmd_start\": \"ratelimiting\", \"cmd_stop\": \"\","
	"   \"cmd_status\": \"\", \"cmd_config\": \"\", \"cmd_update\": \"\", \"version\": \"latest\","
	"   \"user_program_daemon\": true, \"is_plugin\": false, \"cpu\": 100, \"memory\": 100,"
	"   \"admin_status\": \"enabled\", \"prog_type\": \"xdp\", \"rules_file\": \"\", \"rules\": \"\","
	"   \"config_file_path\": \"\", \"cfg_version\": 3, \"start_args\": {\"collect_metrics\": 1},"
	"   \"stop_args\": {}, \"status_args\": {}, \"update_args\": {}, \"config_args\": null,"
	"   \"map_args\": [{\"name\": \"rl_ports_map\", \"args\": [{\"key\": 80, \"value\": 1},"
	"                 {\"key\": \"443\", \"value\": \"18446744073709551615\"}]}],"
	"   \"monitor_maps\": [{\"name\": \"rl_drop_count_map\", \"key\": 0, \"aggregator\": \"scalar\"}],"
	"   \"ebpf_package_repo_url\": \"https://l3af.example/\", \"object_file\": \"ratelimiting.bpf.o\","
	"   \"entry_function_name\": \"_xdp_ratelimiting\", \"something_new\": [1, 2]},"
	"  {\"name\": \"counter\", \"seq_id\": 1, \"admin_status\": \"enabled\"},"
	"  {\"name\": \"off\", \"seq_id\": 0, \"admin_status\": \"disabled\"}"
	" ], \"tc_ingress\": [], \"tc_egress\": null}}]";

static void test_every_field(void **state)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *pl = NULL;
	const struct bpk_agent_prog *p;

	assert_int_equal(bpk_agent_payload__parse(full, strlen(full), BPK_AGENT_PAYLOAD_PROGRAMS,
						  &error, &pl), 0);
	assert_int_equal(pl->cnt, 1);
	assert_string_equal(pl->ifaces[0].host_name, "node1");
	assert_string_equal(pl->ifaces[0].iface, "eth9");
	assert_true(pl->ifaces[0].has[BPK_AGENT_HOOK_XDP_INGRESS]);
	assert_true(pl->ifaces[0].has[BPK_AGENT_HOOK_TC_INGRESS]);
	assert_false(pl->ifaces[0].has[BPK_AGENT_HOOK_TC_EGRESS]);
	assert_false(pl->ifaces[0].has[BPK_AGENT_HOOK_PROBES]);
	assert_int_equal(pl->ifaces[0].prog_cnt[BPK_AGENT_HOOK_XDP_INGRESS], 3);
	p = &pl->ifaces[0].progs[BPK_AGENT_HOOK_XDP_INGRESS][0];
	assert_string_equal(p->name, "ratelimiting");
	assert_int_equal(p->id, 7);
	assert_int_equal(p->seq_id, 2);
	assert_int_equal(p->cfg_version, 3);
	assert_string_equal(p->artifact, "l3af_ratelimiting.tar.gz");
	assert_string_equal(p->map_name, "xdp_rl_ingress_next_prog");
	assert_string_equal(p->version, "latest");
	assert_string_equal(p->admin_status, "enabled");
	assert_true(p->enabled);
	assert_string_equal(p->prog_type, "xdp");
	assert_string_equal(p->ebpf_package_repo_url, "https://l3af.example/");
	assert_string_equal(p->object_file, "ratelimiting.bpf.o");
	assert_string_equal(p->entry_function_name, "_xdp_ratelimiting");
	assert_int_equal(p->map_arg_cnt, 1);
	assert_string_equal(p->map_args[0].name, "rl_ports_map");
	assert_int_equal(p->map_args[0].arg_cnt, 2);
	assert_int_equal(p->map_args[0].args[0].key, 80);
	assert_int_equal(p->map_args[0].args[0].value, 1);
	assert_int_equal(p->map_args[0].args[1].key, 443);
	assert_true(p->map_args[0].args[1].value == UINT64_MAX);
	assert_int_equal(p->monitor_map_cnt, 1);
	assert_string_equal(p->monitor_maps[0].name, "rl_drop_count_map");
	assert_string_equal(p->monitor_maps[0].aggregator, "scalar");
	assert_non_null(strstr(p->json, "\"something_new\""));
	/* absent fields are "" and 0, as l3afd's decoder leaves them */
	p = &pl->ifaces[0].progs[BPK_AGENT_HOOK_XDP_INGRESS][1];
	assert_string_equal(p->artifact, "");
	assert_int_equal(p->id, 0);
	assert_false(pl->ifaces[0].progs[BPK_AGENT_HOOK_XDP_INGRESS][2].enabled);
	bpk_agent_payload__free(pl);
	bpk_error__release(&error);
}

static void expect_refused(const char *json, enum bpk_agent_payload_kind kind, const char *message)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *pl = NULL;

	assert_int_equal(bpk_agent_payload__parse(json, strlen(json), kind, &error, &pl), -EINVAL);
	assert_null(pl);
	assert_non_null(error.message);
	if (!strstr(error.message, message))
		fail_msg("'%s' does not contain '%s'", error.message, message);
	bpk_error__release(&error);
}

#define P(list, prog) "[{\"iface\": \"eth0\", \"bpf_programs\": {\"" list "\": [" prog "]}}]"

static void test_wrong_types(void **state)
{
	expect_refused("[{", BPK_AGENT_PAYLOAD_PROGRAMS, "invalid JSON at line 1");
	expect_refused("42", BPK_AGENT_PAYLOAD_PROGRAMS, "expected an array");
	expect_refused("[{\"iface\": 3}]", BPK_AGENT_PAYLOAD_PROGRAMS, "[0].iface: expected a string");
	expect_refused("[{\"iface\": \"\"}]", BPK_AGENT_PAYLOAD_PROGRAMS, "[0].iface: an interface name");
	expect_refused("[{\"iface\": \"../x\"}]", BPK_AGENT_PAYLOAD_PROGRAMS, "not an interface name");
	expect_refused("[{\"iface\": \"a\", \"host_name\": []}]", BPK_AGENT_PAYLOAD_PROGRAMS,
		       "[0].host_name: expected a string");
	expect_refused("[{\"iface\": \"a\", \"bpf_programs\": []}]", BPK_AGENT_PAYLOAD_PROGRAMS,
		       "[0].bpf_programs: expected an object");
	expect_refused("[{\"iface\": \"a\", \"bpf_programs\": {\"tc_egress\": {}}}]",
		       BPK_AGENT_PAYLOAD_PROGRAMS, "[0].bpf_programs.tc_egress: expected an array");
	expect_refused(P("xdp_ingress", "{\"name\": \"a\"}, {\"name\": \"b\", \"seq_id\": \"1\"}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS,
		       "[0].bpf_programs.xdp_ingress[1].seq_id: expected a number");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"seq_id\": 1.5}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].seq_id: expected an integer");
	expect_refused(P("tc_ingress", "{\"name\": 5}"), BPK_AGENT_PAYLOAD_PROGRAMS,
		       "tc_ingress[0].name: expected a string");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"is_plugin\": 1}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].is_plugin: expected true or false");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"cmd_start\": 1}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].cmd_start: expected a string");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"start_args\": []}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].start_args: expected an object");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"cpu\": \"x\"}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].cpu: expected a number");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"admin_status\": \"on\"}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].admin_status: expected \"enabled\"");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"map_args\": {}}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].map_args: expected an array");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"map_args\": [{\"name\": \"m\", \"args\": [{\"key\": 1, \"value\": -1}]}]}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].map_args[0].args[0].value: expected a number >= 0");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"map_args\": [{\"name\": \"m\", \"args\": [{\"key\": \"0x1\", \"value\": 1}]}]}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "map_args[0].args[0].key: expected a decimal number");
	expect_refused(P("tc_ingress", "{\"name\": \"a\", \"monitor_maps\": [{\"name\": \"m\", \"key\": []}]}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "tc_ingress[0].monitor_maps[0].key: expected a number");
	expect_refused(P("probes", "{\"name\": \"a\"}, {\"name\": \"a\"}"),
		       BPK_AGENT_PAYLOAD_PROGRAMS, "probes[1]: program 'a' is listed twice");
	expect_refused(P("probes", "{\"name\": \"a/b\"}"), BPK_AGENT_PAYLOAD_PROGRAMS,
		       "not a program name");
	expect_refused("[{\"iface\": \"a\"}, {\"iface\": \"a\"}]", BPK_AGENT_PAYLOAD_PROGRAMS,
		       "[1].iface: interface 'a' is listed twice");
	/* delete takes names */
	expect_refused(P("xdp_ingress", "{\"name\": \"a\"}"), BPK_AGENT_PAYLOAD_NAMES,
		       "xdp_ingress[0]: expected a program name");
}

static void test_delete_names(void **state)
{
	static const char json[] =
		"{\"host_name\": \"h\", \"iface\": \"eth0\", \"bpf_programs\": {\"xdp_ingress\": [\"a\", \"b\"], \"tc_egress\": [\"c\"]}}";
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *pl = NULL;

	assert_int_equal(bpk_agent_payload__parse(json, strlen(json), BPK_AGENT_PAYLOAD_NAMES,
						  &error, &pl), 0);
	assert_int_equal(pl->cnt, 1);
	assert_int_equal(pl->ifaces[0].prog_cnt[BPK_AGENT_HOOK_XDP_INGRESS], 2);
	assert_string_equal(pl->ifaces[0].progs[BPK_AGENT_HOOK_XDP_INGRESS][1].name, "b");
	assert_string_equal(pl->ifaces[0].progs[BPK_AGENT_HOOK_TC_EGRESS][0].name, "c");
	bpk_agent_payload__free(pl);
}

static void test_chain(void **state)
{
	static const char json[] = P("xdp_ingress",
		"{\"name\": \"c\", \"seq_id\": 3, \"admin_status\": \"enabled\"},"
		"{\"name\": \"a\", \"seq_id\": 1, \"admin_status\": \"enabled\"},"
		"{\"name\": \"off\", \"seq_id\": 2, \"admin_status\": \"disabled\"},"
		"{\"name\": \"none\", \"seq_id\": 2},"
		"{\"name\": \"b\", \"seq_id\": 2, \"admin_status\": \"enabled\"}");
	static const char dup[] = P("tc_egress",
		"{\"name\": \"x\", \"seq_id\": 1, \"admin_status\": \"enabled\"},"
		"{\"name\": \"y\", \"seq_id\": 1, \"admin_status\": \"disabled\"},"
		"{\"name\": \"z\", \"seq_id\": 1, \"admin_status\": \"enabled\"}");
	static const char probes[] = P("probes",
		"{\"name\": \"p\", \"seq_id\": 1, \"admin_status\": \"enabled\"},"
		"{\"name\": \"q\", \"seq_id\": 1, \"admin_status\": \"enabled\"}");
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *pl = NULL;
	const struct bpk_agent_prog **v = NULL;
	size_t n = 99;

	assert_int_equal(bpk_agent_payload__parse(json, strlen(json), BPK_AGENT_PAYLOAD_PROGRAMS,
						  &error, &pl), 0);
	assert_int_equal(bpk_agent_iface__chain(&pl->ifaces[0], BPK_AGENT_HOOK_XDP_INGRESS, &error,
						&v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->name, "a");
	assert_string_equal(v[1]->name, "b");
	assert_string_equal(v[2]->name, "c");
	free(v);
	v = NULL;
	assert_int_equal(bpk_agent_iface__chain(&pl->ifaces[0], BPK_AGENT_HOOK_TC_INGRESS, &error,
						&v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(bpk_agent_iface__chain(&pl->ifaces[0], BPK_AGENT_HOOK_CNT, &error, &v,
						&n), -EINVAL);
	bpk_agent_payload__free(pl);

	/* two enabled programs at one seq_id: refused; a disabled one does not count */
	assert_int_equal(bpk_agent_payload__parse(dup, strlen(dup), BPK_AGENT_PAYLOAD_PROGRAMS,
						  &error, &pl), 0);
	assert_int_equal(bpk_agent_iface__chain(&pl->ifaces[0], BPK_AGENT_HOOK_TC_EGRESS, &error,
						&v, &n), -EINVAL);
	assert_non_null(strstr(error.message, "'x' and 'z' are both enabled at seq_id 1"));
	bpk_agent_payload__free(pl);

	/* probes have no order: one seq_id for several is fine */
	assert_int_equal(bpk_agent_payload__parse(probes, strlen(probes),
						  BPK_AGENT_PAYLOAD_PROGRAMS, &error, &pl), 0);
	assert_int_equal(bpk_agent_iface__chain(&pl->ifaces[0], BPK_AGENT_HOOK_PROBES, &error,
						&v, &n), 0);
	assert_int_equal(n, 2);
	free(v);
	bpk_agent_payload__free(pl);
	bpk_error__release(&error);
	assert_string_equal(bpk_agent_hook__name(BPK_AGENT_HOOK_PROBES), "probes");
	assert_null(bpk_agent_hook__name(BPK_AGENT_HOOK_CNT));
}

static void test_encode(void **state)
{
	unsigned char b[8];

	memset(b, 0xee, sizeof(b));
	assert_int_equal(bpk_agent_map_arg__encode(0x0102, 2, b), 0);
	assert_int_equal(b[0], 0x02);
	assert_int_equal(b[1], 0x01);
	assert_int_equal(b[2], 0xee);
	assert_int_equal(bpk_agent_map_arg__encode(0x01020304, 4, b), 0);
	assert_memory_equal(b, "\x04\x03\x02\x01", 4);
	assert_int_equal(bpk_agent_map_arg__encode(UINT64_MAX, 8, b), 0);
	assert_memory_equal(b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	assert_int_equal(bpk_agent_map_arg__encode(255, 1, b), 0);
	assert_int_equal(b[0], 255);
	assert_int_equal(bpk_agent_map_arg__encode(256, 1, b), -ERANGE);
	assert_int_equal(bpk_agent_map_arg__encode(1ULL << 32, 4, b), -ERANGE);
	assert_int_equal(bpk_agent_map_arg__encode(1, 3, b), -EINVAL);
	assert_int_equal(bpk_agent_map_arg__encode(1, 16, b), -EINVAL);
	assert_int_equal(bpk_agent_map_arg__encode(1, 0, b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_delete_names),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
