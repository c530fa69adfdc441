// SPDX-License-Identifier: BSD-2-Clause
/* Fuzz target: the test-vector packet builder, which reads descriptions from packages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpk/bpk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *error = NULL;
	unsigned char *packet = NULL;
	size_t len;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (bpk_packet__build(text, &packet, &len, &error) == 0)
		free(packet);
	free(error);
	free(text);
	return 0;
}
