// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of bpkd's agent: l3afd payloads (every field, wrong types named, chains, map_args
 * encoding), and, as root in a network namespace of the test's own, fused chains applied on its
 * lo: built, run, swapped over the same maps, refused with the chain untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test-util.h"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <jansson.h>

#include <bpf/bpf.h>

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

/* ---- fused chains, applied for real ---- */

static bool have_root;
static char *scratch;

static int group_setup(void **state)
{
	_cleanup_free_ char *bpffs = NULL;

	if (geteuid() != 0)
		return 0;
	/* lo of a network namespace of our own; mounts stay in our own mount namespace. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		print_message("cannot make a network and mount namespace: %s\n", strerror(errno));
		return -1;
	}
	scratch = test_temp_dir("test-agent");
	bpffs = path_join(scratch, "bpffs");
	if (!bpffs || mkdir(bpffs, 0700) < 0 || mount("bpf", bpffs, "bpf", 0, "mode=0700") < 0) {
		print_message("cannot mount bpffs: %s\n", strerror(errno));
		return -1;
	}
	have_root = true;
	return 0;
}

static int group_teardown(void **state)
{
	if (scratch) {
		_cleanup_free_ char *bpffs = path_join(scratch, "bpffs");

		umount2(bpffs, MNT_DETACH);
		test_rm_rf(scratch);
		free(scratch);
	}
	return 0;
}

static void require_root(void)
{
	if (!have_root) {
		print_message("skipped: applying chains needs root (a network namespace, bpffs)\n");
		skip();
	}
}

/* An agent over STATE and PIN under the scratch directory, taking bare objects. */
static struct bpk_agent *agent_open(bool no_fuse)
{
	_cleanup_free_ char *state = path_join(scratch, "state");
	_cleanup_free_ char *pins = path_join(scratch, "bpffs/bpk");
	struct bpk_error error = BPK_ERROR_INIT;
	BPK_OPTS(bpk_agent_opts, opts, .state_dir = state, .pin_root = pins,
		 .allow_unsigned = true, .no_fuse = no_fuse);
	struct bpk_agent *a = bpk_agent__open(&opts, &error);

	if (!a)
		fail_msg("cannot open the agent: %s", error.message);
	bpk_error__release(&error);
	return a;
}

/*
 * Apply XDP and TC chains of "NAME:OBJECT" entries (objects of tests/bpf) on lo: 0, or the
 * error, whose message goes to *ret_message (the caller's) when it is not NULL.
 */
static int apply(struct bpk_agent *a, const char *const *xdp, const char *const *tc,
		 char **ret_message)
{
	struct bpk_error error = BPK_ERROR_INIT;
	struct bpk_agent_payload *payload = NULL;
	const char *const *lists[2] = { xdp, tc };
	struct strbuf sb = STRBUF_INIT;
	int l, i, err;

	strbuf_addstr(&sb, "[{\"host_name\": \"unit\", \"iface\": \"lo\", \"bpf_programs\": {");
	for (l = 0; l < 2; l++) {
		strbuf_addf(&sb, "%s\"%s\": [", l ? ", " : "", l ? "tc_ingress" : "xdp_ingress");
		for (i = 0; lists[l] && lists[l][i]; i++) {
			const char *colon = strchr(lists[l][i], ':');

			strbuf_addf(&sb, "%s{\"name\": \"%.*s\", \"seq_id\": %d, \"artifact\": \"%s/%s.o\", \"admin_status\": \"enabled\", \"prog_type\": \"%s\"}",
				    i ? ", " : "", (int)(colon - lists[l][i]), lists[l][i], i + 1,
				    test_bpf_dir(), colon + 1, l ? "tc" : "xdp");
		}
		strbuf_addstr(&sb, "]");
	}
	strbuf_addstr(&sb, "}}]");
	assert_int_equal(bpk_agent_payload__parse(sb.buf, sb.len, BPK_AGENT_PAYLOAD_PROGRAMS,
						  &error, &payload), 0);
	err = bpk_agent__apply(a, BPK_AGENT_OP_UPDATE, payload, &error);
	if (ret_message)
		*ret_message = error.message ? strdup(error.message) : NULL;
	bpk_agent_payload__free(payload);
	bpk_error__release(&error);
	strbuf_release(&sb);
	return err;
}

/* The status's object for hook of lo; a new reference. */
static json_t *hook_status(struct bpk_agent *a, const char *hook)
{
	_cleanup_free_ char *text = bpk_agent__status_json(a);
	json_t *root = json_loads(text, 0, NULL), *iface, *h, *found = NULL;
	size_t i, j;

	assert_non_null(root);
	json_array_foreach(json_object_get(root, "interfaces"), i, iface)
		json_array_foreach(json_object_get(iface, "hooks"), j, h)
			if (!strcmp(json_string_value(json_object_get(h, "hook")), hook))
				found = json_incref(h);
	json_decref(root);
	return found;
}

static const char *stage_pin(json_t *hook, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(hook, "chain"), i),
						 "pin"));
}

/* The u64 at key of a stage's pinned map. */
static uint64_t stage_count(const char *pin, const char *map, uint32_t key)
{
	_cleanup_free_ char *path = xasprintf("%s/maps/%s", pin, map);
	uint64_t value = 0;
	int fd = bpf_obj_get(path);

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &value), 0);
	close(fd);
	return value;
}

/* BPF_PROG_TEST_RUN of the hook's fused program on a 64-byte frame: its verdict. */
static int run_fused(json_t *hook)
{
	json_t *fused = json_object_get(hook, "fused");
	_cleanup_free_ char *path = xasprintf("%s/prog", json_string_value(json_object_get(fused, "pin")));
	unsigned char frame[64] = { 0 };
	int fd = bpf_obj_get(path);

	assert_true(fd >= 0);
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(fd, &run), 0);
	close(fd);
	return (int)run.retval;
}

static void test_fused_apply(void **state)
{
	static const char *const ab[] = { "a:plain_xdp", "b:plain_xdp", NULL };
	static const char *const ba[] = { "b:plain_xdp", "a:plain_xdp", NULL };
	static const char *const bad[] = { "b:plain_xdp", "f:fuse_frames", "a:plain_xdp", NULL };
	static const char *const tc[] = { "t:plain_tc", NULL };
	_cleanup_free_ char *a_pin = NULL, *b_pin = NULL, *message = NULL;
	struct bpk_agent *a;
	json_t *xdp, *tch;
	json_int_t fused_id;

	require_root();
	a = agent_open(false);
	assert_int_equal(apply(a, ab, tc, NULL), 0);
	xdp = hook_status(a, "xdp_ingress");
	tch = hook_status(a, "tc_ingress");
	assert_string_equal(json_string_value(json_object_get(xdp, "mechanism")), "fused");
	assert_string_equal(json_string_value(json_object_get(tch, "mechanism")), "fused");
	assert_true(json_is_true(json_object_get(xdp, "running")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(xdp, "fused"), "layout")),
			    "inline");
	assert_true(json_is_true(json_object_get(json_object_get(xdp, "fused"), "btf")));
	a_pin = strdup(stage_pin(xdp, 0));
	b_pin = strdup(stage_pin(xdp, 1));
	/* The fused program runs both stages, each counting into its own map. */
	assert_int_equal(run_fused(xdp), XDP_PASS);
	assert_int_equal(stage_count(a_pin, "plain_packets", 0), 1);
	assert_int_equal(stage_count(b_pin, "plain_packets", 0), 1);
	fused_id = json_integer_value(json_object_get(json_object_get(xdp, "fused"), "prog_id"));
	json_decref(xdp);
	json_decref(tch);

	/* Reordered: a new fused program over the same stages, maps and .bss. */
	assert_int_equal(apply(a, ba, tc, NULL), 0);
	xdp = hook_status(a, "xdp_ingress");
	assert_string_equal(stage_pin(xdp, 0), b_pin);
	assert_string_equal(stage_pin(xdp, 1), a_pin);
	assert_int_not_equal(json_integer_value(json_object_get(json_object_get(xdp, "fused"), "prog_id")),
			     fused_id);
	assert_int_equal(run_fused(xdp), XDP_PASS);
	assert_int_equal(stage_count(a_pin, "plain_packets", 0), 2);
	assert_int_equal(stage_count(a_pin, "plain_packets", 1), 2); /* .bss ran on too */
	fused_id = json_integer_value(json_object_get(json_object_get(xdp, "fused"), "prog_id"));
	json_decref(xdp);

	/* A stage the verifier refuses once fused: refused with both reasons, nothing changed. */
	assert_int_equal(apply(a, bad, tc, &message), -EINVAL);
	assert_non_null(strstr(message, "cannot run fused: the verifier refused the fused chain"));
	assert_non_null(strstr(message, "too deep"));
	xdp = hook_status(a, "xdp_ingress");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(xdp, "fused"), "prog_id")),
			 fused_id);
	assert_int_equal(json_array_size(json_object_get(xdp, "chain")), 2);
	json_decref(xdp);

	/* A restart re-adopts the fused chain; the next change reloads the kept stages. */
	bpk_agent__free(a);
	a = agent_open(false);
	xdp = hook_status(a, "xdp_ingress");
	assert_true(json_is_true(json_object_get(xdp, "running")));
	json_decref(xdp);
	assert_int_equal(apply(a, ab, NULL, NULL), 0);
	xdp = hook_status(a, "xdp_ingress");
	assert_string_equal(stage_pin(xdp, 0), a_pin);
	assert_int_equal(run_fused(xdp), XDP_PASS);
	assert_int_equal(stage_count(a_pin, "plain_packets", 0), 3);
	assert_int_equal(stage_count(a_pin, "plain_packets", 1), 3);
	json_decref(xdp);
	assert_null(hook_status(a, "tc_ingress"));

	/* Without fusing, programs that know nothing of tail calls cannot be chained: both said. */
	bpk_agent__free(a);
	a = agent_open(true);
	free(message);
	assert_int_equal(apply(a, ba, NULL, &message), -EINVAL);
	assert_non_null(strstr(message, "has no program array"));
	assert_non_null(strstr(message, "fusing is turned off"));
	assert_int_equal(apply(a, NULL, NULL, NULL), 0);
	assert_null(hook_status(a, "xdp_ingress"));
	bpk_agent__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_delete_names),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_fused_apply),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
