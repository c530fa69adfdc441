// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for bpk test: the packet builder's bytes and checksums, and a run in the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test-util.h"

#include <stdio.h>

#include <bpk/bpk.h>

#include "bpk_internal.h"

static uint16_t fold(const unsigned char *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_udp_ipv4(void **state)
{
	unsigned char *p;
	size_t len;
	char *error = NULL;

	assert_int_equal(bpk_packet__build("{\"eth\": {\"src\": \"02:00:00:00:00:01\", \"dst\": \"02:00:00:00:00:02\"},"
					   " \"ipv4\": {\"src\": \"10.0.0.1\", \"dst\": \"10.0.0.2\", \"ttl\": 7},"
					   " \"udp\": {\"sport\": 4000, \"dport\": 53}, \"payload\": \"hello\"}",
					   &p, &len, &error),
			 0);
	assert_int_equal(len, 14 + 20 + 8 + 5);
	assert_memory_equal(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	assert_int_equal(p[14], 0x45);
	assert_int_equal(p[14 + 2] << 8 | p[14 + 3], 20 + 8 + 5);
	assert_int_equal(p[14 + 8], 7);
	assert_int_equal(p[14 + 9], 17);
	/* A correct IPv4 header checksum sums to 0xffff. */
	assert_int_equal(fold(p + 14, 20, 0), 0xffff);
	/* So does the UDP checksum with its pseudo-header. */
	uint32_t pseudo = 0;
	pseudo += fold(p + 14 + 12, 8, 0) + 17 + 13;
	assert_int_equal(fold(p + 34, 13, pseudo), 0xffff);
	assert_int_equal(p[34] << 8 | p[35], 4000);
	assert_memory_equal(p + 42, "hello", 5);
	free(p);
}

static void test_tcp_ipv6(void **state)
{
	unsigned char *p;
	size_t len;

	assert_int_equal(bpk_packet__build("{\"ipv6\": {\"src\": \"fd00::1\", \"dst\": \"fd00::2\"},"
					   " \"tcp\": {\"dport\": 443, \"flags\": \"SA\"}, \"payload_hex\": \"0102\"}",
					   &p, &len, NULL),
			 0);
	assert_int_equal(len, 14 + 40 + 20 + 2);
	assert_int_equal(p[12] << 8 | p[13], 0x86dd);
	assert_int_equal(p[14] >> 4, 6);
	assert_int_equal(p[14 + 6], 6);
	assert_int_equal(p[54 + 13], 0x12); /* SYN|ACK */
	uint32_t pseudo = fold(p + 14 + 8, 32, 0) + 6 + 22;
	assert_int_equal(fold(p + 54, 22, pseudo), 0xffff);
	free(p);
}

static void test_errors(void **state)
{
	static const struct {
		const char *desc, *message;
	} cases[] = {
		{ "{\"ipv4\": {\"src\": \"300.0.0.1\"}}", "'ipv4.src' must be an IPv4 address" },
		{ "{\"eth\": {\"src\": \"zz\"}}", "'eth.src' must be a MAC address" },
		{ "{\"ipv4\": {}, \"udp\": {\"dport\": 70000}}", "'udp.dport' must be an integer from 0 to 65535" },
		{ "{\"ipv4\": {}, \"ipv6\": {}}", "give 'ipv4' or 'ipv6', not both" },
		{ "{\"udp\": {}}", "'tcp' and 'udp' need 'ipv4' or 'ipv6'" },
		{ "{\"ipv4\": {}, \"tcp\": {\"flags\": \"X\"}}", "'tcp.flags' letters are F S R P A U" },
		{ "{\"payload_hex\": \"0g\"}", "'payload_hex' must be a string of hex digits" },
		{ "[1]", "a packet description must be a JSON object" },
		{ "{", "not valid JSON" },
	};
	unsigned char *p = NULL;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *error = NULL;

		assert_int_equal(bpk_packet__build(cases[i].desc, &p, &len, &error), -EINVAL);
		if (!error || !strstr(error, cases[i].message))
			fail_msg("%s: got '%s', want '%s'", cases[i].desc, error ?: "(null)",
				 cases[i].message);
		free(error);
	}
}

static void test_run_in_kernel(void **state)
{
	char *dir, *obj, *data, *dst, *vec;
	struct bpk_test_report *rep = NULL;
	size_t len;

	if (geteuid() != 0) {
		print_message("skipped: loading programs needs root\n");
		skip();
	}
	dir = test_temp_dir("test-testrun");
	obj = xasprintf("%s/xdp_echo.o", getenv("BPK_TEST_BPF_DIR"));
	assert_int_equal(read_file(obj, 64 << 20, &data, &len), 0);
	dst = xasprintf("%s/bpf", dir);
	assert_int_equal(mkdir_p(dst, 0755), 0);
	free(dst);
	dst = xasprintf("%s/bpf/xdp_echo.o", dir);
	assert_int_equal(write_file_atomic(dst, data, len, 0644), 0);
	vec = xasprintf("%s/tests", dir);
	assert_int_equal(mkdir_p(vec, 0755), 0);
	free(vec);
	vec = xasprintf("%s/tests/v.json", dir);
	const char *text =
		"{\"program\": \"xdp_echo\", \"cases\": ["
		"{\"name\": \"bounce\", \"packet\": {\"ipv4\": {}, \"udp\": {\"dport\": 7}},"
		" \"expect\": {\"retval\": \"XDP_TX\", \"maps\": [{\"name\": \"echo_verdicts\", \"key\": 3, \"value\": 1}]}},"
		"{\"name\": \"wrong\", \"packet\": {\"ipv4\": {}, \"udp\": {\"dport\": 9}},"
		" \"expect\": {\"retval\": \"XDP_DROP\"}}]}";
	assert_int_equal(write_file_atomic(vec, text, strlen(text), 0644), 0);

	BPK_OPTS(bpk_test_opts, opts, .repeat = 10);
	assert_int_equal(bpk_test__dir(dir, &opts, &rep), 0);
	assert_int_equal(rep->cnt, 2);
	assert_int_equal(rep->passed, 1);
	assert_int_equal(rep->failed, 1);
	assert_int_equal(rep->cases[0].status, BPK_TEST_PASS);
	assert_int_equal(rep->cases[0].retval, 3);
	assert_true(rep->cases[0].ns_per_run > 0);
	assert_int_equal(rep->cases[1].status, BPK_TEST_FAIL);
	assert_string_equal(rep->cases[1].detail, "return value: expected 1, got 2");
	char *json = bpk_test_report__to_json(rep);
	assert_non_null(strstr(json, "\"status\": \"fail\""));
	free(json);
	bpk_test_report__free(rep);

	test_rm_rf(dir);
	free(vec);
	free(dst);
	free(data);
	free(obj);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_ipv4),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_run_in_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
