// SPDX-License-Identifier: BSD-2-Clause
/* The ADDRESS:PORT a server listens on: parsed for bpk-repo and bpkd alike. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "listen_addr.h"
#include "util.h"

int parse_listen_addr(const char *addr, struct sockaddr_storage *ss, char **ret_error)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	unsigned long port;
	char *end;

	if (!colon)
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
		goto bad;
	host = strndup(addr, (size_t)(colon - addr));
	if (!host)
		goto bad;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1)
			return 0;
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1)
			return 0;
	}
bad:
	*ret_error = xasprintf("'%s' is not ADDRESS:PORT (127.0.0.1:8080, [::1]:8080)", addr);
	return -EINVAL;
}
