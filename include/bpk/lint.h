/* SPDX-License-Identifier: BSD-2-Clause */
/* Lint: everything that makes a package acceptable, as errors and warnings with stable ids. */
#ifndef BPK_LINT_H
#define BPK_LINT_H

#include <bpk/diag.h>

struct bpk_pkg;

/*
 * Lint a package source directory (bpk.json, README.md, LICENSE, bpf/NAME.o, tests/NAME.json).
 * The derived manifest fields may be absent there; when present they are checked.
 * Appends to diags. Returns 0 when lint ran (look at the diags for the verdict), or a
 * negative errno when it could not (-ENOENT: dir missing, -ENOMEM).
 */
int bpk_lint__dir(const char *dir, struct bpk_diags *diags);

/* Lint an opened package (the container checks already passed when it opened). */
int bpk_lint__pkg(const struct bpk_pkg *pkg, struct bpk_diags *diags);

#endif
