/* SPDX-License-Identifier: BSD-2-Clause */
/* What a repository records about a package on its own kernel: the verifier's and the tests' word. */
#ifndef BPK_REVIEW_H
#define BPK_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

struct bpk_pkg;

enum bpk_review_status {
	/* Every program loaded (never attached) and every test case that ran passed. */
	BPK_REVIEW_VERIFIED,
	/* A program was refused by the verifier, or a test case failed. */
	BPK_REVIEW_FAILED,
	/* Nothing could be loaded here (no BPF privileges): no verdict, never a guess. */
	BPK_REVIEW_NOT_VERIFIED,
};

struct bpk_review_opts {
	size_t sz;
	/* Run the package's test vectors after the verifier check (default: yes). */
	bool skip_tests;
};
#define bpk_review_opts__last_field skip_tests

/*
 * Load each program of pkg into the running kernel's verifier on its own (so one refusal names
 * its program), unload it, and run the test vectors with BPF_PROG_TEST_RUN. *ret_json (malloc()ed)
 * records the result: {"status": "verified|failed|not verified here", "kernel": "Linux 6.18.0
 * x86_64", "summary": "verified and tested on Linux 6.18.0 x86_64: 12/12 cases", "programs":
 * [{"name", "object", "loaded", "verified_insns", "error"}], "tests": {"passed", "failed",
 * "skipped", "total"}}. Returns 0 and the status through ret_status, or a negative errno when no
 * record could be made (-ENOMEM).
 */
int bpk_review__pkg(const struct bpk_pkg *pkg, const struct bpk_review_opts *opts,
		    enum bpk_review_status *ret_status, char **ret_json);
/* "verified", "failed", "not verified here". */
const char *bpk_review_status__str(enum bpk_review_status status);

#endif
