// SPDX-License-Identifier: BSD-2-Clause
/* l3afd's configuration payloads for bpkd: parsing, type checks naming the field, chains. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpk_internal.h"

#include <bpk/agent.h>

static const char *const hook_names[BPK_AGENT_HOOK_CNT] = {
	"xdp_ingress", "tc_ingress", "tc_egress", "probes",
};

const char *bpk_agent_hook__name(enum bpk_agent_hook hook)
{
	return (unsigned int)hook < BPK_AGENT_HOOK_CNT ? hook_names[hook] : NULL;
}

/* The l3afd program fields that are strings, beside those struct bpk_agent_prog keeps. */
static const char *const other_string_fields[] = {
	"cmd_start", "cmd_stop", "cmd_status", "cmd_config", "cmd_update", "rules_file", "rules",
	"config_file_path",
};
static const char *const other_number_fields[] = { "cpu", "memory" };
static const char *const bool_fields[] = { "user_program_daemon", "is_plugin" };
/* l3afd's L3afDNFArgs: free-form objects handed to user programs. */
static const char *const object_fields[] = {
	"start_args", "stop_args", "status_args", "update_args", "config_args",
};

static int fail(struct bpk_error *error, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct bpk_error *error, const char *path, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	bpk_error__set(error, NULL, path, "%s: %s", path, msg ?: "invalid");
	return -EINVAL;
}

/* A string field: absent or null is "". */
static int get_string(json_t *obj, const char *key, const char *path, struct bpk_error *error,
		      char **ret)
{
	json_t *v = json_object_get(obj, key);
	const char *s = "";

	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return fail(error, path, "expected a string");
		s = json_string_value(v);
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* A number that l3afd's Go decoder reads into an int: a JSON integer (or an integral real). */
static int get_int(json_t *v, const char *path, struct bpk_error *error, int64_t *ret)
{
	double d;

	if (!v || json_is_null(v)) {
		*ret = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d == (double)(int64_t)d) {
			*ret = (int64_t)d;
			return 0;
		}
		return fail(error, path, "expected an integer");
	}
	return fail(error, path, "expected a number");
}

/* A map_args or monitor_maps number: a non-negative integer, or a decimal string of one. */
static int get_u64(json_t *v, const char *path, struct bpk_error *error, uint64_t *ret)
{
	unsigned long long u;
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return fail(error, path, "expected a number >= 0");
		*ret = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		errno = 0;
		u = strtoull(s, &end, 10);
		if (!*s || *end || errno || *s == '-' || *s == '+' || *s == ' ')
			return fail(error, path, "expected a decimal number, not \"%s\"", s);
		*ret = u;
		return 0;
	}
	return fail(error, path, "expected a number");
}

static bool name_ok(const char *s)
{
	const char *p;

	if (!*s || strlen(s) > 128 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

static void prog_release(struct bpk_agent_prog *p)
{
	size_t i;

	free(p->name);
	free(p->artifact);
	free(p->map_name);
	free(p->version);
	free(p->admin_status);
	free(p->prog_type);
	free(p->ebpf_package_repo_url);
	free(p->object_file);
	free(p->entry_function_name);
	for (i = 0; i < p->map_arg_cnt; i++) {
		free(p->map_args[i].name);
		free(p->map_args[i].args);
	}
	free(p->map_args);
	for (i = 0; i < p->monitor_map_cnt; i++) {
		free(p->monitor_maps[i].name);
		free(p->monitor_maps[i].aggregator);
	}
	free(p->monitor_maps);
	free(p->json);
}

void bpk_agent_payload__free(struct bpk_agent_payload *payload)
{
	size_t i, j;
	int h;

	if (!payload)
		return;
	for (i = 0; i < payload->cnt; i++) {
		struct bpk_agent_iface *f = &payload->ifaces[i];

		for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
			for (j = 0; j < f->prog_cnt[h]; j++)
				prog_release(&f->progs[h][j]);
			free(f->progs[h]);
		}
		free(f->host_name);
		free(f->iface);
	}
	free(payload->ifaces);
	free(payload);
}

static int parse_map_args(json_t *v, const char *path, struct bpk_error *error,
			  struct bpk_agent_prog *p)
{
	json_t *e, *args, *kv;
	size_t i, j;
	int err;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fail(error, path, "expected an array");
	p->map_args = calloc(json_array_size(v) ?: 1, sizeof(*p->map_args));
	if (!p->map_args)
		return -ENOMEM;
	json_array_foreach(v, i, e) {
		struct bpk_agent_map_arg *m = &p->map_args[i];
		_cleanup_free_ char *ep = xasprintf("%s[%zu]", path, i);
		_cleanup_free_ char *np = xasprintf("%s[%zu].name", path, i);
		_cleanup_free_ char *ap = xasprintf("%s[%zu].args", path, i);

		if (!ep || !np || !ap)
			return -ENOMEM;
		p->map_arg_cnt = i + 1;
		if (!json_is_object(e))
			return fail(error, ep, "expected an object");
		err = get_string(e, "name", np, error, &m->name);
		if (err)
			return err;
		if (!m->name[0])
			return fail(error, np, "a map name is required");
		args = json_object_get(e, "args");
		if (!args || json_is_null(args))
			continue;
		if (!json_is_array(args))
			return fail(error, ap, "expected an array");
		m->args = calloc(json_array_size(args) ?: 1, sizeof(*m->args));
		if (!m->args)
			return -ENOMEM;
		json_array_foreach(args, j, kv) {
			_cleanup_free_ char *kp = xasprintf("%s[%zu]", ap, j);
			_cleanup_free_ char *kk = xasprintf("%s[%zu].key", ap, j);
			_cleanup_free_ char *kvp = xasprintf("%s[%zu].value", ap, j);

			if (!kp || !kk || !kvp)
				return -ENOMEM;
			if (!json_is_object(kv))
				return fail(error, kp, "expected an object");
			if (!json_object_get(kv, "key"))
				return fail(error, kk, "missing");
			if (!json_object_get(kv, "value"))
				return fail(error, kvp, "missing");
			err = get_u64(json_object_get(kv, "key"), kk, error, &m->args[j].key);
			if (!err)
				err = get_u64(json_object_get(kv, "value"), kvp, error,
					      &m->args[j].value);
			if (err)
				return err;
			m->arg_cnt = j + 1;
		}
	}
	return 0;
}

static int parse_monitor_maps(json_t *v, const char *path, struct bpk_error *error,
			      struct bpk_agent_prog *p)
{
	json_t *e, *key;
	size_t i;
	int err;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fail(error, path, "expected an array");
	p->monitor_maps = calloc(json_array_size(v) ?: 1, sizeof(*p->monitor_maps));
	if (!p->monitor_maps)
		return -ENOMEM;
	json_array_foreach(v, i, e) {
		struct bpk_agent_monitor_map *m = &p->monitor_maps[i];
		_cleanup_free_ char *ep = xasprintf("%s[%zu]", path, i);
		_cleanup_free_ char *np = xasprintf("%s[%zu].name", path, i);
		_cleanup_free_ char *kp = xasprintf("%s[%zu].key", path, i);
		_cleanup_free_ char *gp = xasprintf("%s[%zu].aggregator", path, i);

		if (!ep || !np || !kp || !gp)
			return -ENOMEM;
		p->monitor_map_cnt = i + 1;
		if (!json_is_object(e))
			return fail(error, ep, "expected an object");
		err = get_string(e, "name", np, error, &m->name);
		if (!err)
			err = get_string(e, "aggregator", gp, error, &m->aggregator);
		if (err)
			return err;
		if (!m->name[0])
			return fail(error, np, "a map name is required");
		key = json_object_get(e, "key");
		if (key && !json_is_null(key)) {
			err = get_u64(key, kp, error, &m->key);
			if (err)
				return err;
		}
	}
	return 0;
}

static int parse_prog(json_t *obj, const char *path, struct bpk_error *error,
		      struct bpk_agent_prog *p)
{
	static const struct {
		const char *key;
		size_t off;
	} strings[] = {
		{ "name", offsetof(struct bpk_agent_prog, name) },
		{ "artifact", offsetof(struct bpk_agent_prog, artifact) },
		{ "map_name", offsetof(struct bpk_agent_prog, map_name) },
		{ "version", offsetof(struct bpk_agent_prog, version) },
		{ "admin_status", offsetof(struct bpk_agent_prog, admin_status) },
		{ "prog_type", offsetof(struct bpk_agent_prog, prog_type) },
		{ "ebpf_package_repo_url", offsetof(struct bpk_agent_prog, ebpf_package_repo_url) },
		{ "object_file", offsetof(struct bpk_agent_prog, object_file) },
		{ "entry_function_name", offsetof(struct bpk_agent_prog, entry_function_name) },
	};
	int64_t dummy;
	size_t i;
	int err;

	if (!json_is_object(obj))
		return fail(error, path, "expected an object");
	for (i = 0; i < ARRAY_SIZE(strings); i++) {
		_cleanup_free_ char *fp = xasprintf("%s.%s", path, strings[i].key);

		if (!fp)
			return -ENOMEM;
		err = get_string(obj, strings[i].key, fp, error,
				 (char **)((char *)p + strings[i].off));
		if (err)
			return err;
	}
	for (i = 0; i < ARRAY_SIZE(other_string_fields); i++) {
		_cleanup_free_ char *fp = xasprintf("%s.%s", path, other_string_fields[i]);
		json_t *v = json_object_get(obj, other_string_fields[i]);

		if (!fp)
			return -ENOMEM;
		if (v && !json_is_null(v) && !json_is_string(v))
			return fail(error, fp, "expected a string");
	}
	for (i = 0; i < ARRAY_SIZE(bool_fields); i++) {
		_cleanup_free_ char *fp = xasprintf("%s.%s", path, bool_fields[i]);
		json_t *v = json_object_get(obj, bool_fields[i]);

		if (!fp)
			return -ENOMEM;
		if (v && !json_is_null(v) && !json_is_boolean(v))
			return fail(error, fp, "expected true or false");
	}
	for (i = 0; i < ARRAY_SIZE(object_fields); i++) {
		_cleanup_free_ char *fp = xasprintf("%s.%s", path, object_fields[i]);
		json_t *v = json_object_get(obj, object_fields[i]);

		if (!fp)
			return -ENOMEM;
		if (v && !json_is_null(v) && !json_is_object(v))
			return fail(error, fp, "expected an object");
	}
	{
		static const char *const nums[] = { "id", "seq_id", "cfg_version" };
		int64_t *dst[] = { &p->id, &p->seq_id, &p->cfg_version };

		for (i = 0; i < ARRAY_SIZE(nums); i++) {
			_cleanup_free_ char *fp = xasprintf("%s.%s", path, nums[i]);

			if (!fp)
				return -ENOMEM;
			err = get_int(json_object_get(obj, nums[i]), fp, error, dst[i]);
			if (err)
				return err;
		}
		for (i = 0; i < ARRAY_SIZE(other_number_fields); i++) {
			_cleanup_free_ char *fp = xasprintf("%s.%s", path, other_number_fields[i]);

			if (!fp)
				return -ENOMEM;
			err = get_int(json_object_get(obj, other_number_fields[i]), fp, error,
				      &dummy);
			if (err)
				return err;
		}
	}
	{
		_cleanup_free_ char *mp = xasprintf("%s.map_args", path);
		_cleanup_free_ char *np = xasprintf("%s.monitor_maps", path);

		if (!mp || !np)
			return -ENOMEM;
		err = parse_map_args(json_object_get(obj, "map_args"), mp, error, p);
		if (!err)
			err = parse_monitor_maps(json_object_get(obj, "monitor_maps"), np, error, p);
		if (err)
			return err;
	}
	if (p->admin_status[0] && strcmp(p->admin_status, "enabled") &&
	    strcmp(p->admin_status, "disabled")) {
		_cleanup_free_ char *fp = xasprintf("%s.admin_status", path);

		return fp ? fail(error, fp, "expected \"enabled\" or \"disabled\", not \"%s\"",
				 p->admin_status)
			  : -ENOMEM;
	}
	p->enabled = !strcmp(p->admin_status, "enabled");
	p->json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return p->json ? 0 : -ENOMEM;
}

static int parse_iface(json_t *obj, const char *path, enum bpk_agent_payload_kind kind,
		       struct bpk_error *error, struct bpk_agent_iface *f)
{
	_cleanup_free_ char *hp = xasprintf("%s.host_name", path);
	_cleanup_free_ char *ip = xasprintf("%s.iface", path);
	_cleanup_free_ char *bp = xasprintf("%s.bpf_programs", path);
	json_t *progs, *list, *e;
	size_t i, j;
	int h, err;

	if (!hp || !ip || !bp)
		return -ENOMEM;
	if (!json_is_object(obj))
		return fail(error, path, "expected an object");
	err = get_string(obj, "host_name", hp, error, &f->host_name);
	if (!err)
		err = get_string(obj, "iface", ip, error, &f->iface);
	if (err)
		return err;
	if (!f->iface[0])
		return fail(error, ip, "an interface name is required");
	if (strlen(f->iface) >= 16 || !name_ok(f->iface))
		return fail(error, ip, "'%s' is not an interface name", f->iface);
	progs = json_object_get(obj, "bpf_programs");
	if (!progs || json_is_null(progs))
		return 0;
	if (!json_is_object(progs))
		return fail(error, bp, "expected an object");
	for (h = 0; h < BPK_AGENT_HOOK_CNT; h++) {
		_cleanup_free_ char *lp = xasprintf("%s.%s", bp, hook_names[h]);

		if (!lp)
			return -ENOMEM;
		list = json_object_get(progs, hook_names[h]);
		if (!list || json_is_null(list))
			continue;
		if (!json_is_array(list))
			return fail(error, lp, "expected an array");
		f->has[h] = true;
		f->progs[h] = calloc(json_array_size(list) ?: 1, sizeof(**f->progs));
		if (!f->progs[h])
			return -ENOMEM;
		json_array_foreach(list, i, e) {
			_cleanup_free_ char *pp = xasprintf("%s[%zu]", lp, i);
			struct bpk_agent_prog *p = &f->progs[h][i];

			if (!pp)
				return -ENOMEM;
			f->prog_cnt[h] = i + 1;
			if (kind == BPK_AGENT_PAYLOAD_NAMES) {
				if (!json_is_string(e))
					return fail(error, pp, "expected a program name");
				p->name = strdup(json_string_value(e));
				if (!p->name)
					return -ENOMEM;
			} else {
				err = parse_prog(e, pp, error, p);
				if (err)
					return err;
			}
			if (!p->name[0])
				return fail(error, pp, "a program name is required");
			if (!name_ok(p->name))
				return fail(error, pp,
					    "'%s' is not a program name bpkd accepts ([A-Za-z0-9._-])",
					    p->name);
			for (j = 0; j < i; j++)
				if (!strcmp(f->progs[h][j].name, p->name))
					return fail(error, pp, "program '%s' is listed twice",
						    p->name);
		}
	}
	return 0;
}

int bpk_agent_payload__parse(const void *buf, size_t len, enum bpk_agent_payload_kind kind,
			     struct bpk_error *error, struct bpk_agent_payload **ret_payload)
{
	_cleanup_json_ json_t *root = NULL;
	struct bpk_agent_payload *pl;
	json_error_t jerr;
	json_t *e;
	size_t i, j;
	int err = 0;

	root = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
	if (!root) {
		bpk_error__set(error, NULL, NULL, "invalid JSON at line %d column %d: %s",
			       jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	if (json_is_object(root)) {
		json_t *arr = json_array();

		if (!arr || json_array_append(arr, root)) {
			json_decref(arr);
			return -ENOMEM;
		}
		json_decref(root);
		root = arr;
	}
	if (!json_is_array(root)) {
		bpk_error__set(error, NULL, NULL,
			       "expected an array of {\"host_name\", \"iface\", \"bpf_programs\"}");
		return -EINVAL;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->ifaces = calloc(json_array_size(root) ?: 1, sizeof(*pl->ifaces));
	if (!pl->ifaces) {
		free(pl);
		return -ENOMEM;
	}
	json_array_foreach(root, i, e) {
		_cleanup_free_ char *path = xasprintf("[%zu]", i);

		if (!path) {
			err = -ENOMEM;
			break;
		}
		pl->cnt = i + 1;
		err = parse_iface(e, path, kind, error, &pl->ifaces[i]);
		if (err)
			break;
		for (j = 0; j < i; j++)
			if (!strcmp(pl->ifaces[j].iface, pl->ifaces[i].iface)) {
				_cleanup_free_ char *ip = xasprintf("%s.iface", path);

				err = ip ? fail(error, ip, "interface '%s' is listed twice",
						pl->ifaces[i].iface)
					 : -ENOMEM;
				break;
			}
		if (err)
			break;
	}
	if (err) {
		bpk_agent_payload__free(pl);
		return err;
	}
	*ret_payload = pl;
	return 0;
}

int bpk_agent_iface__chain(const struct bpk_agent_iface *iface, enum bpk_agent_hook hook,
			   struct bpk_error *error, const struct bpk_agent_prog ***ret_progs,
			   size_t *ret_cnt)
{
	const struct bpk_agent_prog **v = NULL, *t;
	size_t i, j, n = 0;

	if ((unsigned int)hook >= BPK_AGENT_HOOK_CNT)
		return -EINVAL;
	if (iface->prog_cnt[hook]) {
		v = calloc(iface->prog_cnt[hook], sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (i = 0; i < iface->prog_cnt[hook]; i++)
		if (iface->progs[hook][i].enabled)
			v[n++] = &iface->progs[hook][i];
	/* Insertion sort: stable, and chains are short (an XDP chain is at most 33 deep). */
	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && v[j - 1]->seq_id > t->seq_id; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	/* Probes have no order, so their seq_ids may be anything. */
	for (i = 1; hook != BPK_AGENT_HOOK_PROBES && i < n; i++)
		if (v[i]->seq_id == v[i - 1]->seq_id) {
			bpk_error__set(error, NULL, "seq_id",
				       "%s: programs '%s' and '%s' are both enabled at seq_id %" PRId64,
				       hook_names[hook], v[i - 1]->name, v[i]->name, v[i]->seq_id);
			free(v);
			return -EINVAL;
		}
	*ret_progs = v;
	*ret_cnt = n;
	return 0;
}

int bpk_agent_map_arg__encode(uint64_t value, uint32_t size, void *out)
{
	unsigned char *b = out;
	uint32_t i;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	if (size < 8 && value >> (size * 8))
		return -ERANGE;
	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(value >> (8 * i));
	return 0;
}
