// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for the .bpk reader: any bytes, refused or read, never a crash or a leak. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include <bpk/bpk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void open_one(const uint8_t *data, size_t size)
{
	/* Small limits keep each run fast; the limit checks themselves are what is fuzzed. */
	BPK_OPTS(bpk_pkg_open_opts, opts, .max_compressed = 1 << 20, .max_expanded = 1 << 20,
		 .max_entries = 64);
	struct bpk_diags diags = BPK_DIAGS_INIT;
	struct bpk_pkg *pkg;
	size_t i, n, len;

	pkg = bpk_pkg__open_mem(data, size, &opts, &diags);
	if (pkg) {
		/* Touch what a reader of a package would, so ASan sees every byte kept. */
		n = bpk_pkg__entry_cnt(pkg);
		for (i = 0; i < n; i++) {
			const void *entry_data;
			const char *path = bpk_pkg__entry(pkg, i, &entry_data, &len);

			if (!path || bpk_pkg__file(pkg, path, &len) != entry_data)
				abort();
		}
		if (!bpk_pkg__manifest(pkg) || !bpk_pkg__manifest_bytes(pkg, &len) ||
		    bpk_pkg__size(pkg) != size || !bpk_pkg__digest(pkg)[0])
			abort();
		if (bpk_diags__first_error(&diags))
			abort();
	} else if (!bpk_diags__first_error(&diags) && errno != ENOMEM) {
		/* Every refusal of untrusted bytes says why. */
		abort();
	}
	bpk_pkg__free(pkg);
	bpk_diags__release(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uLongf gz_len;
	Bytef *gz;
	z_stream zs = { 0 };

	bpk_set_print(NULL);
	open_one(data, size);
	/*
	 * Mutations of compressed bytes mostly break the gzip CRC; compressing the input as it
	 * is lets the fuzzer reach the tar and package checks behind it as well.
	 */
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return 0;
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	gz_len = deflateBound(&zs, size);
	gz = malloc(gz_len);
	if (gz) {
		zs.next_in = (Bytef *)data;
		zs.avail_in = (uInt)size;
		zs.next_out = gz;
		zs.avail_out = (uInt)gz_len;
		if (deflate(&zs, Z_FINISH) == Z_STREAM_END)
			open_one(gz, gz_len - zs.avail_out);
		free(gz);
	}
	deflateEnd(&zs);
	return 0;
}
