// SPDX-License-Identifier: BSD-2-Clause
/* bpk-repo's web UI (being written). */
#include "server.h"

bool route_web(struct request *req, enum MHD_Result *ret)
{
	return false;
}
