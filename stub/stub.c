/* stub/stub.c: the static pre-init helper. Owns creating/joining namespaces,
 * the fork into the new PID namespace and the re-exec as `ocirun init` (or,
 * in HOLD mode, keeping a new user namespace alive for the runtime). */

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
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* musl's headers trail the kernel; these values are ABI and never change. */
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef SYS_execveat
#error "SYS_execveat is missing (its number is per-architecture; add it here)"
#endif

enum { MSG_BOOTSTRAP = 1, MSG_MAPS_REQUEST, MSG_MAPS_DONE, MSG_PID, MSG_ERROR };
enum {
	ATTR_CLONE_FLAGS = 1, ATTR_NS_JOIN, ATTR_EXE_FD, ATTR_TIMENS_OFFSETS,
	ATTR_ARGV, ATTR_HOLD
};

#define MAX_PAYLOAD 65536
#define ALIGN4(n) (((n) + 3u) & ~3u)

struct wire_hdr {
	uint32_t type;
	uint32_t len;
};

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

/* The parsed BOOTSTRAP message; strings point into boot_buf. */
static int sock = -1;
static uint32_t clone_flags;
static struct {
	int fd;
	uint32_t type;
} joins[NS_COUNT];
static unsigned njoins;
static int exe_fd = -1;
static int hold;
static const char *timens_text;
static uint32_t timens_len;
static char *exec_argv[MAX_PAYLOAD + 1];

static _Alignas(8) char boot_buf[MAX_PAYLOAD];
static _Alignas(8) char reply_buf[MAX_PAYLOAD];

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

/* Returns bytes read, short only at EOF, or -1. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* MSG_NOSIGNAL: a vanished runtime must give EPIPE, not kill us silently. */
static int send_full(const void *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(uint32_t type, const void *payload, uint32_t len)
{
	struct wire_hdr h = { type, len };

	if (send_full(&h, sizeof h) < 0)
		return -1;
	return send_full(payload, len);
}

static _Noreturn void vdie(int err, const char *fmt, va_list ap)
{
	char msg[512];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);

	if (err && n >= 0 && (size_t)n < sizeof msg)
		n += snprintf(msg + n, sizeof msg - n, ": %s", strerror(err));
	if (n < 0 || (size_t)n >= sizeof msg)
		n = n < 0 ? 0 : (int)sizeof msg - 1;
	if (sock < 0 || send_msg(MSG_ERROR, msg, (uint32_t)n) < 0) {
		/* Last resort only: fd 2 belongs to the container. */
		write(2, "ocirun-stub: ", 13);
		write(2, msg, (size_t)n);
		write(2, "\n", 1);
	}
	_exit(1);
}

__attribute__((format(printf, 1, 2))) static _Noreturn void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(0, fmt, ap);
}

__attribute__((format(printf, 1, 2))) static _Noreturn void
die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vdie(err, fmt, ap);
}

/* Reads one message into buf and returns its type; *len gets its size. */
static uint32_t read_msg(char *buf, uint32_t *len, const char *what)
{
	struct wire_hdr h;
	ssize_t n = read_full(sock, &h, sizeof h);

	if (n < 0)
		die_errno("read %s", what);
	if (n != sizeof h)
		die("read %s: connection closed by runtime", what);
	if (h.len > MAX_PAYLOAD)
		die("read %s: payload of %u bytes exceeds %u", what, h.len,
		    MAX_PAYLOAD);
	n = read_full(sock, buf, h.len);
	if (n < 0)
		die_errno("read %s", what);
	if ((uint32_t)n != h.len)
		die("read %s: connection closed mid-message", what);
	/* The runtime gave up and reports the failure itself: just leave. */
	if (h.type == MSG_ERROR)
		_exit(1);
	*len = h.len;
	return h.type;
}

static uint32_t get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static void parse_bootstrap(uint32_t len)
{
	unsigned seen = 0, join_types = 0;
	uint32_t off = 0;

	while (off < len) {
		uint16_t attr, alen;
		const char *data;

		if (len - off < 4)
			die("BOOTSTRAP: truncated attribute header");
		memcpy(&attr, boot_buf + off, 2);
		memcpy(&alen, boot_buf + off + 2, 2);
		if (alen > len - off - 4)
			die("BOOTSTRAP: attribute %u overruns the message", attr);
		data = boot_buf + off + 4;
		off += 4 + ALIGN4((uint32_t)alen);

		if (attr < ATTR_CLONE_FLAGS || attr > ATTR_HOLD)
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
			for (uint32_t i = 0; i < alen; i += strlen(data + i) + 1)
				exec_argv[argc++] = (char *)data + i;
			exec_argv[argc] = NULL;
			break;
		}
		case ATTR_HOLD:
			if (alen != 0)
				die("BOOTSTRAP: HOLD takes no data");
			hold = 1;
			break;
		}
	}
	if (hold)
		return;
	if (exe_fd < 0)
		die("BOOTSTRAP: missing EXE_FD");
	if (!exec_argv[0])
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

	if (unshare(CLONE_NEWUSER) < 0)
		die_errno("unshare(user)");
	/* A non-dumpable task's /proc files belong to root, so a rootless
	 * runtime could not write our uid_map. Nothing else can reach us in
	 * this window: the namespace is brand new and empty. */
	set_dumpable(1);
	if (send_msg(MSG_MAPS_REQUEST, NULL, 0) < 0)
		die_errno("send MAPS_REQUEST");
	type = read_msg(reply_buf, &len, "MAPS_DONE");
	if (type != MSG_MAPS_DONE)
		die("expected MAPS_DONE, got message type %u", type);
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

static _Noreturn void child(int sync_fd)
{
	char byte;

	/* Wait until the runtime knows our pid; EOF means the stub failed
	 * and has already reported why. */
	if (read_full(sync_fd, &byte, 1) != 1)
		_exit(1);
	close(sync_fd);
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
	const char *env = getenv("_OCIRUN_SOCK");
	char *end = NULL;
	long fd = env ? strtol(env, &end, 10) : -1;
	int timens_fd = -1, sync_pipe[2];
	uint32_t type, len, rest;
	pid_t pid;

	/* First of all: a container process must never ptrace us or open our
	 * /proc/<pid>/fd (CVE-2016-9962). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE, 0)");

	if (!env || !*env || *end || fd < 0 || fd > INT_MAX ||
	    fcntl((int)fd, F_GETFD) < 0)
		die("_OCIRUN_SOCK is missing or not an open fd");
	sock = (int)fd;

	type = read_msg(boot_buf, &len, "BOOTSTRAP");
	if (type != MSG_BOOTSTRAP)
		die("expected BOOTSTRAP, got message type %u", type);
	parse_bootstrap(len);

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
