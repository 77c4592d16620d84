/* stub/stub.c: the static pre-init helper's entry. Owns creating/joining
 * namespaces, the fork into the new PID namespace, and what the child becomes:
 * `ocirun init` (create), or the process itself through the final stage of a
 * PLAN (exec: stub/stage.c). HOLD mode keeps a new user namespace alive for
 * the runtime. With _OCIRUN_PLAN set it is create's init itself, exec'd by
 * the JS init to run the final stage and wait for `start`. */

/*
 * A multithreaded process (Node) cannot unshare/setns a user or mount
 * namespace and cannot fork, so the runtime spawns this single-threaded stub
 * from a sealed memfd and drives it over the socket named by _OCIRUN_SOCK.
 * The wire protocol is specified in docs/ARCHITECTURE.md; keep this file and
 * the JS side in step with it. Fds 0-2 and every inherited fd except the
 * NS_JOIN fds belong to the container and are never touched. Errors go to
 * the runtime as ERROR messages, to stderr only if the socket is broken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stub.h"
#include "kernel.h"

static const struct {
	uint32_t flag;
	const char *name;
} ns_names[] = {
	{ CLONE_NEWUSER, "user" }, { CLONE_NEWNS, "mnt" }, { CLONE_NEWPID, "pid" },
	{ CLONE_NEWNET, "net" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
	{ CLONE_NEWCGROUP, "cgroup" }, { CLONE_NEWTIME, "time" },
};
#define NS_COUNT (sizeof ns_names / sizeof ns_names[0])
#define NS_ALL (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | \
		CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWTIME)

/* The parsed BOOTSTRAP message; strings point into its buffer. */
static uint32_t clone_flags;
static struct {
	int fd;
	uint32_t type;
} joins[NS_COUNT];
static unsigned njoins;
static int exe_fd = -1;
static int hold, stage;
static const char *timens_text;
static uint32_t timens_len;
static char **exec_argv;

/* "mnt,pid,net" for error messages; flags are already validated. */
static const char *ns_list(uint32_t flags)
{
	static char buf[64];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NS_COUNT; i++) {
		if (!(flags & ns_names[i].flag))
			continue;
		used += snprintf(buf + used, sizeof buf - used, "%s%s",
				 used ? "," : "", ns_names[i].name);
	}
	return buf;
}

static void parse_bootstrap(char *buf, uint32_t len)
{
	struct attrs a = { buf, len, 0, "BOOTSTRAP" };
	unsigned seen = 0, join_types = 0;
	uint16_t attr;
	uint32_t alen;
	char *data;

	while (next_attr(&a, &attr, &data, &alen)) {
		if (attr < ATTR_CLONE_FLAGS || attr > ATTR_STAGE)
			die("BOOTSTRAP: unknown attribute %u", attr);
		if (attr != ATTR_NS_JOIN && (seen & (1u << attr)))
			die("BOOTSTRAP: duplicate attribute %u", attr);
		seen |= 1u << attr;

		switch (attr) {
		case ATTR_CLONE_FLAGS:
			if (alen != 4)
				die("BOOTSTRAP: CLONE_FLAGS must be 4 bytes");
			clone_flags = get_u32(data);
			if (clone_flags & ~(uint32_t)NS_ALL)
				die("BOOTSTRAP: unsupported clone flags 0x%x",
				    clone_flags & ~(uint32_t)NS_ALL);
			break;
		case ATTR_NS_JOIN: {
			uint32_t fd, type;

			if (alen != 8)
				die("BOOTSTRAP: NS_JOIN must be 8 bytes");
			fd = get_u32(data);
			type = get_u32(data + 4);
			/* Exactly one known flag, so "user first" is well defined. */
			if (!type || (type & (type - 1)) || !(type & NS_ALL))
				die("BOOTSTRAP: NS_JOIN nstype 0x%x is not one namespace",
				    type);
			if (join_types & type)
				die("BOOTSTRAP: NS_JOIN names %s twice",
				    ns_list(type));
			join_types |= type;
			/* They get closed after setns: keep stdio/socket safe. */
			if (fd <= 2 || fd > INT_MAX || (int)fd == sock)
				die("BOOTSTRAP: NS_JOIN fd %u for %s is reserved",
				    fd, ns_list(type));
			joins[njoins].fd = (int)fd;
			joins[njoins].type = type;
			njoins++;
			break;
		}
		case ATTR_EXE_FD:
			if (alen != 4)
				die("BOOTSTRAP: EXE_FD must be 4 bytes");
			exe_fd = get_u32(data) > INT_MAX ? -1 : (int)get_u32(data);
			if (exe_fd < 0 || exe_fd == sock || fcntl(exe_fd, F_GETFD) < 0)
				die("BOOTSTRAP: EXE_FD %u is not a usable fd",
				    get_u32(data));
			break;
		case ATTR_TIMENS_OFFSETS:
			timens_text = data;
			timens_len = alen;
			break;
		case ATTR_ARGV: {
			unsigned argc = 0;

			if (alen == 0 || data[alen - 1] != '\0')
				die("BOOTSTRAP: ARGV must be NUL-terminated strings");
			exec_argv = malloc((alen + 1) * sizeof *exec_argv);
			if (!exec_argv)
				die("BOOTSTRAP: out of memory");
			for (uint32_t i = 0; i < alen; i += strlen(data + i) + 1)
				exec_argv[argc++] = data + i;
			exec_argv[argc] = NULL;
			break;
		}
		case ATTR_HOLD:
			if (alen != 0)
				die("BOOTSTRAP: HOLD takes no data");
			hold = 1;
			break;
		case ATTR_STAGE:
			if (alen != 0)
				die("BOOTSTRAP: STAGE takes no data");
			stage = 1;
			break;
		}
	}
	/* Joining the container's mount namespace and then exec'ing ocirun would
	 * run the container's ld.so: ocirun init joins it itself (mntns.ts). */
	if (!stage && (join_types & CLONE_NEWNS))
		die("BOOTSTRAP: NS_JOIN of mnt needs STAGE");
	if (hold || stage)
		return;
	if (exe_fd < 0)
		die("BOOTSTRAP: missing EXE_FD");
	if (!exec_argv)
		die("BOOTSTRAP: missing ARGV");
	for (unsigned i = 0; i < njoins; i++)
		if (joins[i].fd == exe_fd)
			die("BOOTSTRAP: NS_JOIN fd %d is also EXE_FD", exe_fd);
}

/* Mapped root everywhere; the runtime's init drops to the process user. */
static void become_root(const char *where)
{
	if (setresgid(0, 0, 0) < 0)
		die_errno("setresgid(0) in %s user namespace", where);
	if (setresuid(0, 0, 0) < 0)
		die_errno("setresuid(0) in %s user namespace", where);
}

static void set_dumpable(int on)
{
	if (prctl(PR_SET_DUMPABLE, on, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE, %d)", on);
}

static void join_namespaces(void)
{
	/* The user namespace must come first: it grants the capabilities
	 * needed to setns into namespaces owned by it. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < njoins; i++) {
			if ((joins[i].type == CLONE_NEWUSER) != (pass == 0))
				continue;
			if (setns(joins[i].fd, (int)joins[i].type) < 0)
				die_errno("setns(%s)", ns_list(joins[i].type));
			close(joins[i].fd);
			if (pass == 0)
				become_root("joined");
		}
	}
}

static void create_user_namespace(void)
{
	uint32_t type, len;
	char *reply;

	if (unshare(CLONE_NEWUSER) < 0)
		die_errno("unshare(user)");
	/* A non-dumpable task's /proc files belong to root, so a rootless
	 * runtime could not write our uid_map. Nothing else can reach us in
	 * this window: the namespace is brand new and empty. */
	set_dumpable(1);
	if (send_msg(MSG_MAPS_REQUEST, NULL, 0) < 0)
		die_errno("send MAPS_REQUEST");
	type = read_msg(sock, &reply, &len, "MAPS_DONE");
	if (type != MSG_MAPS_DONE)
		die("expected MAPS_DONE, got message type %u", type);
	free(reply);
	set_dumpable(0);
	/* A held namespace only describes a mapping, which need not map 0. */
	if (hold)
		return;
	/* Only the uid for now: like runc, the gid becomes 0 after the other
	 * namespaces exist, so objects they create at unshare time (the ipc
	 * namespace's mqueue root) belong to the overflow gid, as under runc. */
	if (setresuid(0, 0, 0) < 0)
		die_errno("setresuid(0) in new user namespace");
	/* EPERM is expected when the runtime wrote "deny" to setgroups. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		die_errno("setgroups(0) in new user namespace");
}

/*
 * Opened before any setns/unshare: a joined mount namespace may show a
 * /proc of another PID namespace (where "self" does not resolve), and a
 * rootless runtime needs us dumpable to open our own /proc files. Nobody
 * but the runtime can address this process yet, so the brief toggle is safe.
 */
static int open_timens_offsets(void)
{
	int fd;

	set_dumpable(1);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open /proc/self/timens_offsets");
	set_dumpable(0);
	return fd;
}

static void write_timens_offsets(int fd)
{
	/* The kernel parses each write() as a whole, so it must be one call. */
	ssize_t n = write(fd, timens_text, timens_len);

	/* ERANGE (an offset that moves a clock below zero) is the config's fault: name it. */
	if (n < 0)
		die_errno("linux.timeOffsets: write /proc/self/timens_offsets");
	if ((uint32_t)n != timens_len)
		die("linux.timeOffsets: write /proc/self/timens_offsets: short write");
	close(fd);
}

/* exec: the runtime sends the PLAN once it knows our pid (a seccomp
 * listener's state names it). create: the JS init wrote it into a memfd
 * and exec'd us in its place (src/init/handoff.ts). */
static _Noreturn void run_plan(int fd)
{
	struct plan p;
	uint32_t type, len;
	char *buf;

	type = read_msg(fd, &buf, &len, "PLAN");
	if (type != MSG_PLAN)
		die("expected PLAN, got message type %u", type);
	if (fd != sock)
		close(fd);
	parse_plan(&p, buf, len);
	run_stage(&p);
}

/* An fd number from the environment, or -1. */
static int env_fd(const char *name)
{
	const char *env = getenv(name);
	char *end = NULL;
	long fd = env ? strtol(env, &end, 10) : -1;

	if (!env || !*env || *end || fd < 0 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
		return -1;
	return (int)fd;
}

static _Noreturn void child(int sync_fd)
{
	char byte;

	/* Wait until the runtime knows our pid; EOF means the stub failed
	 * and has already reported why. */
	if (read_full(sync_fd, &byte, 1) != 1)
		_exit(1);
	close(sync_fd);
	if (stage)
		run_plan(sock);
	/* init finds itself via /proc/self/exe; the fd must not leak into it. */
	if (fcntl(exe_fd, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("exec init: EXE_FD");
	syscall(SYS_execveat, exe_fd, "", exec_argv, environ, AT_EMPTY_PATH);
	die_errno("exec init");
}

static _Noreturn void parent(pid_t pid, int sync_fd)
{
	uint32_t hostpid = (uint32_t)pid;

	/* If the runtime already killed the child, releasing it must fail
	 * with EPIPE rather than kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (send_msg(MSG_PID, &hostpid, sizeof hostpid) < 0 ||
	    write(sync_fd, "", 1) != 1) {
		int err = errno;

		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		errno = err;
		die_errno("hand over child %d", (int)pid);
	}
	_exit(0);
}

/*
 * HOLD: the namespaces are all the runtime wanted (a user namespace whose
 * fd it opens through /proc/<pid>/ns for an id-mapped mount). Report our
 * own pid and stay until the runtime closes the socket.
 */
static _Noreturn void hold_namespaces(void)
{
	uint32_t self = (uint32_t)getpid();
	char byte;
	ssize_t n;

	if (send_msg(MSG_PID, &self, sizeof self) < 0)
		die_errno("send PID");
	do
		n = read(sock, &byte, 1);
	while (n > 0 || (n < 0 && errno == EINTR));
	_exit(0);
}

int main(void)
{
	int timens_fd = -1, sync_pipe[2], plan_fd;
	uint32_t type, len, rest;
	char *boot;
	pid_t pid;

	/* First of all: a container process must never ptrace us or open our
	 * /proc/<pid>/fd (CVE-2016-9962). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE, 0)");

	sock = env_fd("_OCIRUN_SOCK");
	if (sock < 0)
		die("_OCIRUN_SOCK is missing or not an open fd");
	/* create's JS init handing over its final stage: no namespaces to make. */
	if (getenv("_OCIRUN_PLAN")) {
		plan_fd = env_fd("_OCIRUN_PLAN");
		if (plan_fd < 0)
			die("_OCIRUN_PLAN is not an open fd");
		run_plan(plan_fd);
	}

	type = read_msg(sock, &boot, &len, "BOOTSTRAP");
	if (type != MSG_BOOTSTRAP)
		die("expected BOOTSTRAP, got message type %u", type);
	parse_bootstrap(boot, len);

	rest = clone_flags & ~(uint32_t)CLONE_NEWUSER;
	if ((rest & CLONE_NEWTIME) && timens_text)
		timens_fd = open_timens_offsets();

	join_namespaces();
	if (clone_flags & CLONE_NEWUSER)
		create_user_namespace();
	if (rest && unshare((int)rest) < 0)
		die_errno("unshare(%s)", ns_list(rest));
	if ((clone_flags & CLONE_NEWUSER) && !hold && setresgid(0, 0, 0) < 0)
		die_errno("setresgid(0) in new user namespace");
	if (timens_fd >= 0)
		write_timens_offsets(timens_fd);
	if (hold)
		hold_namespaces();

	/* unshare(CLONE_NEWPID) only affects children: fork to enter it. */
	if (pipe2(sync_pipe, O_CLOEXEC) < 0)
		die_errno("sync pipe");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		close(sync_pipe[1]);
		child(sync_pipe[0]);
	}
	close(sync_pipe[0]);
	parent(pid, sync_pipe[1]);
}
