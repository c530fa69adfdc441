// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for bytecode inspection: any bytes in, a report or a clean E012 out. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <bpf/libbpf.h>
#include <bpk/bpk.h>

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_obj_info *info;
	char *text;

	if (!initialized) {
		/* Both libraries would print a warning for nearly every input. */
		bpk_set_print(NULL);
		libbpf_set_print(quiet_libbpf);
		initialized = 1;
	}
	info = bpk_obj_info__inspect_mem(data, size, "fuzz.o", &diags);
	if (info) {
		/* The JSON rendering sees every string the report took from the input. */
		text = bpk_obj_info__to_json(info);
		if (!text)
			abort();
		free(text);
		bpk_obj_info__free(info);
	} else if (!bpk_diags__first_error(&diags) && errno != ENOMEM) {
		/* A refusal must say why. */
		abort();
	}
	/* Messages quote the input; they must still render (jansson wants valid UTF-8). */
	text = bpk_diags__to_json(&diags);
	if (!text)
		abort();
	free(text);
	bpk_diags__release(&diags);
	return 0;
}
