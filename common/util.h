/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers shared by libbpk and the binaries: cleanup attributes, files, strings. */
#ifndef BPK_COMMON_UTIL_H
#define BPK_COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Ownership hand-off for variables marked with a cleanup attribute (systemd's TAKE_PTR). */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _taken = (p);                                                        \
		(p) = NULL;                                                                        \
		_taken;                                                                            \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _taken_fd = (fd);                                                              \
		(fd) = -1;                                                                         \
		_taken_fd;                                                                         \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* A growable byte buffer; always NUL-terminated so text can be used as a C string. */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Make room for at least extra more bytes; returns 0 or -ENOMEM. */
int strbuf_grow(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hand the buffer to the caller (never NULL on success: "" for an empty buffer). */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);

/* asprintf that returns the string or NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Join a directory and a relative path with exactly one '/'. */
char *path_join(const char *dir, const char *rel);
bool str_has_suffix(const char *s, const char *suffix);
bool str_has_prefix(const char *s, const char *prefix);

/*
 * Read a whole regular file into a NUL-terminated heap buffer, refusing files larger than
 * max_size. Returns 0 or a negative errno (-EFBIG past the limit).
 */
int read_file(const char *path, size_t max_size, char **ret_data, size_t *ret_len);
/* Same for an open fd. */
int read_fd(int fd, size_t max_size, char **ret_data, size_t *ret_len);
/*
 * Write data to path atomically: a temp file in the same directory, fsync, rename, fsync of the
 * directory. Nothing is left behind on failure. Returns 0 or a negative errno.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p; returns 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);
/* Write all bytes to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *data, size_t len);

/*
 * A copy of untrusted text fit to print: control characters, backslashes and any character
 * of also_escape (may be NULL) as \xNN, cut after max bytes with "...", so that hostile
 * input cannot drive the terminal or flood a log. NULL is shown as "". NULL on ENOMEM.
 */
char *str_shown(const char *s, size_t max, const char *also_escape);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

#endif
