/* SPDX-License-Identifier: BSD-2-Clause */
/* bpk test: run a package's test vectors against its programs in the kernel (BPF_PROG_TEST_RUN). */
#ifndef BPK_TESTRUN_H
#define BPK_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpk_pkg;

enum bpk_test_status {
	BPK_TEST_PASS,
	BPK_TEST_FAIL,
	BPK_TEST_SKIP,
};

/* The outcome of one case; plain data owned by the report. */
struct bpk_test_case_result {
	char *vector;		/* "tests/x.json" */
	char *program;		/* program name, or NULL when the vector could not say */
	char *name;		/* the case's name */
	enum bpk_test_status status;
	char *detail;		/* why it failed or was skipped (may be several lines), or NULL */
	uint32_t retval;	/* what the program returned, when it ran */
	uint32_t ns_per_run;	/* kernel-measured average, with repeat > 1 */
};

struct bpk_test_report {
	struct bpk_test_case_result *cases;
	size_t cnt;
	size_t passed, failed, skipped;
};

struct bpk_test_opts {
	size_t sz;
	uint32_t repeat;	/* runs per case for timing; 0 or 1: once */
};
#define bpk_test_opts__last_field repeat

/*
 * Run every case of every tests/NAME.json against the programs of the package's objects:
 * each case loads the object afresh (never attaches it), writes the case's map contents,
 * runs the program with BPF_PROG_TEST_RUN and compares return value, output packet and map
 * contents. Cases the kernel cannot run here (program type without test-run support, no
 * privileges) are skipped with the reason. The vector format is docs/spec/test-vectors.md.
 * Returns 0 with the report (caller frees), or a negative errno when nothing could run
 * (-ENOMEM, -ENOENT: no vectors).
 */
int bpk_test__pkg(const struct bpk_pkg *pkg, const struct bpk_test_opts *opts,
		  struct bpk_test_report **ret_report);
/* The same for a package source directory (bpf/NAME.o and tests/NAME.json). */
int bpk_test__dir(const char *dir, const struct bpk_test_opts *opts,
		  struct bpk_test_report **ret_report);
void bpk_test_report__free(struct bpk_test_report *report);
/* {"passed","failed","skipped","cases":[{"vector","program","name","status","detail","retval","ns_per_run"}]} */
char *bpk_test_report__to_json(const struct bpk_test_report *report);

/*
 * Build a packet from a JSON description ({"eth":{…},"ipv4":{…}|"ipv6":{…},"tcp":{…}|"udp":{…},
 * "payload_hex"|"payload"}), with lengths and checksums computed. Returns 0 and a heap
 * buffer, or -EINVAL with a message naming the field in ret_error (caller frees).
 */
int bpk_packet__build(const char *json_description, unsigned char **ret_packet, size_t *ret_len,
		      char **ret_error);

#endif
