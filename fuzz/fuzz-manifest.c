// SPDX-License-Identifier: BSD-2-Clause
/* Fuzz target: bpk.json parsing and validation, in both modes, and emitting what parsed. */
#include <stdint.h>
#include <stdlib.h>

#include <bpk/bpk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_manifest *m;
	int mode;

	bpk_set_print(NULL);
	for (mode = BPK_MANIFEST_SOURCE; mode <= BPK_MANIFEST_PACKED; mode++) {
		m = bpk_manifest__parse(data, size, (enum bpk_manifest_mode)mode, &diags);
		if (m) {
			char *text = bpk_manifest__emit(m, NULL);
			char *fn = bpk_manifest__package_filename(m);

			free(text);
			free(fn);
			bpk_manifest__free(m);
		}
		free(bpk_diags__to_json(&diags));
		bpk_diags__release(&diags);
	}
	return 0;
}
