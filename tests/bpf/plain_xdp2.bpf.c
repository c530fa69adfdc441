// SPDX-License-Identifier: GPL-2.0-only
/* Version 2 of plain_xdp.bpf.c, for upgrades: the same program, which says it is version 2. */
#define PLAIN_VERSION 2
#include "plain_xdp.bpf.c"
