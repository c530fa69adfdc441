// SPDX-License-Identifier: BSD-2-Clause
/* Replay a fuzz corpus through a target without libFuzzer, so CI can run it under ASan. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int err = read_file(path, 256U << 20, &data, &len);

	if (err) {
		fprintf(stderr, "replay: cannot read '%s': %d\n", path, err);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int i, failures = 0, n = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *de;
		DIR *d;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: '%s' does not exist\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			failures += replay_file(argv[i]);
			n++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d))) {
			char *p;

			if (de->d_name[0] == '.')
				continue;
			p = path_join(argv[i], de->d_name);
			if (p) {
				failures += replay_file(p);
				n++;
			}
			free(p);
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d inputs\n", n);
	if (n == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		return 1;
	}
	return failures ? 1 : 0;
}
