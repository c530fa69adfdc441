/* SPDX-License-Identifier: BSD-2-Clause */
/* The ADDRESS:PORT a server listens on (bpk-repo --listen, bpkd --listen), parsed once for both. */
#ifndef BPK_COMMON_LISTEN_ADDR_H
#define BPK_COMMON_LISTEN_ADDR_H

#include <sys/socket.h>

/*
 * Parse "127.0.0.1:8080" or "[::1]:8080" into *ss (port 1 to 65535, numeric addresses only).
 * Returns 0, or -EINVAL with *ret_error (malloc()ed) saying why.
 */
int parse_listen_addr(const char *addr, struct sockaddr_storage *ss, char **ret_error);

#endif
