/* stub/plan.c: reads a PLAN message into struct plan. Owns its validation:
 * sizes, fds and strings are checked here so the stage can trust them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "stub.h"
#include "kernel.h"

/* A string attribute: one NUL-terminated string filling the data. */
static const char *str(const char *data, uint32_t len, const char *what)
{
	if (len == 0 || data[len - 1] != '\0' || strlen(data) != len - 1)
		die("PLAN: %s must be one NUL-terminated string", what);
	return data;
}

static int fd_of(const char *data, uint32_t len, const char *what)
{
	uint32_t fd;

	if (len < 4)
		die("PLAN: %s must start with a u32 fd", what);
	fd = get_u32(data);
	if (fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
		die("PLAN: %s fd %u is not open", what, fd);
	return (int)fd;
}

static uint32_t u32_of(const char *data, uint32_t len, const char *what)
{
	if (len != 4)
		die("PLAN: %s must be 4 bytes", what);
	return get_u32(data);
}

/* Lists hold at most a few thousand entries: one realloc per element is fine. */
static void *grow(void *v, size_t n, size_t size)
{
	v = realloc(v, (n + 1) * size);
	if (!v)
		die("PLAN: out of memory");
	return v;
}

/* Appends s and keeps the list NULL-terminated. */
static void push_str(char ***list, unsigned *n, const char *s)
{
	*list = grow(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = (char *)s;
	(*list)[*n] = NULL;
}

static void parse_hook(struct hook *h, char *data, uint32_t len)
{
	struct attrs a = { data, len, 0, "PLAN: HOOK" };
	unsigned nargs = 0, nenv = 0;
	uint16_t type;
	char *d;
	uint32_t l;

	memset(h, 0, sizeof *h);
	while (next_attr(&a, &type, &d, &l)) {
		switch (type) {
		case HOOK_PATH:
			h->path = str(d, l, "HOOK path");
			break;
		case HOOK_ARG:
			push_str(&h->argv, &nargs, str(d, l, "HOOK arg"));
			break;
		case HOOK_ENV:
			push_str(&h->envp, &nenv, str(d, l, "HOOK env"));
			break;
		case HOOK_TIMEOUT:
			if (l < 5)
				die("PLAN: HOOK timeout must be u32 ms and its text");
			h->timeout_ms = get_u32(d);
			h->timeout_text = str(d + 4, l - 4, "HOOK timeout text");
			break;
		case HOOK_NAME:
			h->name = str(d, l, "HOOK name");
			break;
		case HOOK_STATE:
			h->state = str(d, l, "HOOK state");
			break;
		default:
			die("PLAN: unknown HOOK attribute %u", type);
		}
	}
	if (!h->path || !h->name || !h->state || !nargs)
		die("PLAN: a HOOK needs a path, a name, a state and argv[0]");
	/* No entries is a real environment: the hook gets none. */
	if (!h->envp)
		h->envp = grow(NULL, 0, sizeof *h->envp);
	h->envp[nenv] = NULL;
}

void parse_plan(struct plan *p, char *buf, uint32_t len)
{
	struct attrs a = { buf, len, 0, "PLAN" };
	unsigned nargs = 0, nenv = 0;
	uint64_t seen = 0;
	uint16_t type;
	char *d;
	uint32_t l;

	memset(p, 0, sizeof *p);
	p->procfs_fd = p->console_fd = p->notify_fd = p->fifo_fd = -1;
	while (next_attr(&a, &type, &d, &l)) {
		if (type < PLAN_SETSID || type > PLAN_LAST)
			die("PLAN: unknown attribute %u", type);
		/* Lists repeat their attribute; everything else comes once. */
		if (type != PLAN_RLIMIT && type != PLAN_ARG && type != PLAN_ENV &&
		    type != PLAN_HOOK && (seen & (1ull << (type - PLAN_SETSID))))
			die("PLAN: duplicate attribute %u", type);
		seen |= 1ull << (type - PLAN_SETSID);

		switch (type) {
		case PLAN_SETSID:
			p->setsid = 1;
			break;
		case PLAN_KEYRING:
			p->keyring = str(d, l, "KEYRING");
			break;
		case PLAN_KEY_LABEL:
			p->key_label = str(d, l, "KEY_LABEL");
			break;
		case PLAN_PROCFS_FD:
			p->procfs_fd = fd_of(d, l, "PROCFS_FD");
			break;
		case PLAN_CONSOLE:
			if (l != 16)
				die("PLAN: CONSOLE must be 16 bytes");
			p->console_fd = fd_of(d, l, "CONSOLE");
			p->console_rows = get_u32(d + 4);
			p->console_cols = get_u32(d + 8);
			p->console_flags = get_u32(d + 12);
			break;
		case PLAN_SCHED:
			if (l < 8)
				die("PLAN: SCHED must be a u32 and a struct sched_attr");
			p->sched_cpus_set = get_u32(d);
			p->sched = d + 4;
			p->sched_len = l - 4;
			break;
		case PLAN_IOPRIO:
			p->has_ioprio = 1;
			p->ioprio = u32_of(d, l, "IOPRIO");
			break;
		case PLAN_APPARMOR:
			p->apparmor = str(d, l, "APPARMOR");
			break;
		case PLAN_EXEC_LABEL:
			p->exec_label = str(d, l, "EXEC_LABEL");
			break;
		case PLAN_RLIMIT: {
			struct rlimit_step *r;

			if (l < 21)
				die("PLAN: RLIMIT must be u32, u32, u64, u64 and a name");
			p->rlimits = grow(p->rlimits, p->nrlimits, sizeof *r);
			r = &p->rlimits[p->nrlimits++];
			r->resource = get_u32(d);
			r->soft = get_u64(d + 4);
			r->hard = get_u64(d + 12);
			r->what = str(d + 20, l - 20, "RLIMIT name");
			break;
		}
		case PLAN_CWD: {
			/* The path, then its quoted form for error messages. */
			size_t n = strnlen(d, l);

			if (n + 1 >= l)
				die("PLAN: CWD must be two NUL-terminated strings");
			p->cwd = d;
			p->cwd_quoted = str(d + n + 1, l - (uint32_t)n - 1, "CWD");
			break;
		}
		case PLAN_SECCOMP:
			if (l < 12 || (l - 4) % 8)
				die("PLAN: SECCOMP must be u32 flags and BPF instructions");
			/* sock_fprog counts in an unsigned short: never truncate a filter. */
			if ((l - 4) / 8 > BPF_MAXINSNS)
				die("PLAN: SECCOMP program of %u instructions exceeds %u",
				    (l - 4) / 8, BPF_MAXINSNS);
			p->seccomp_flags = get_u32(d);
			p->seccomp = d + 4;
			p->seccomp_len = l - 4;
			break;
		case PLAN_SECCOMP_NOTIFY:
			p->notify_fd = fd_of(d, l, "SECCOMP_NOTIFY");
			p->notify_state = d + 4;
			p->notify_state_len = l - 4;
			break;
		case PLAN_BOUNDING:
			if (l != 12)
				die("PLAN: BOUNDING must be u32 last_cap and u64 mask");
			p->has_bounding = 1;
			p->last_cap = get_u32(d);
			p->bounding = get_u64(d + 4);
			if (p->last_cap > 63)
				die("PLAN: BOUNDING last_cap %u", p->last_cap);
			break;
		case PLAN_USER:
			if (l < 8 || l % 4)
				die("PLAN: USER must be u32 uid, gid and groups");
			p->has_user = 1;
			p->uid = get_u32(d);
			p->gid = get_u32(d + 4);
			p->ngroups = (l - 8) / 4;
			p->groups = malloc((p->ngroups + 1) * sizeof *p->groups);
			if (!p->groups)
				die("PLAN: out of memory");
			memcpy(p->groups, d + 8, p->ngroups * sizeof *p->groups);
			break;
		case PLAN_CAPS:
			if (l != 32)
				die("PLAN: CAPS must be four u64 masks");
			p->has_caps = 1;
			p->effective = get_u64(d);
			p->permitted = get_u64(d + 8);
			p->inheritable = get_u64(d + 16);
			p->ambient = get_u64(d + 24);
			break;
		case PLAN_NO_NEW_PRIVS:
			p->no_new_privs = 1;
			break;
		case PLAN_ARG:
			push_str(&p->argv, &nargs, str(d, l, "ARG"));
			break;
		case PLAN_ENV:
			push_str(&p->envp, &nenv, str(d, l, "ENV"));
			break;
		case PLAN_UMASK:
			p->has_umask = 1;
			p->umask = u32_of(d, l, "UMASK");
			break;
		case PLAN_PERSONALITY:
			p->has_personality = 1;
			p->personality = u32_of(d, l, "PERSONALITY");
			break;
		case PLAN_PRESERVE_FDS:
			p->preserve_fds = u32_of(d, l, "PRESERVE_FDS");
			if (p->preserve_fds > INT_MAX - 3)
				die("PLAN: PRESERVE_FDS %u", p->preserve_fds);
			break;
		case PLAN_READY:
			p->ready = 1;
			break;
		case PLAN_FIFO_FD:
			p->fifo_fd = fd_of(d, l, "FIFO_FD");
			break;
		case PLAN_HOOK:
			p->hooks = grow(p->hooks, p->nhooks, sizeof *p->hooks);
			parse_hook(&p->hooks[p->nhooks++], d, l);
			break;
		}
	}
	if (!nargs)
		die("PLAN: missing ARG");
	if (!p->envp)
		p->envp = grow(NULL, 0, sizeof *p->envp);
	p->envp[nenv] = NULL;
	if ((p->console_fd >= 0 || p->apparmor || p->exec_label ||
	     p->key_label || p->fifo_fd >= 0) && p->procfs_fd < 0)
		die("PLAN: PROCFS_FD is needed for the console, LSM labels and the fifo");
	if (p->ready && sock < 0)
		die("PLAN: READY without a socket");
}
