/* stub/stage.c: the final stage of a container process, run from a PLAN.
 * Owns its order, which is runc's: session and keyring, console, scheduler
 * and I/O priority, LSM exec labels, rlimits, cwd (as root when it can be),
 * seccomp before the user switch unless no_new_privs, bounding set, groups
 * and ids keeping capabilities, cwd as the user, capabilities, no_new_privs,
 * the program looked up and checked as the user, umask, persona, fds; then
 * (create) READY and the exec fifo, startContainer hooks; signals reset,
 * seccomp with no_new_privs, execve. Every message is the one the JS init
 * gave (runc's wording where there is one). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "stub.h"
#include "kernel.h"

int openat2_retry(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { flags | O_CLOEXEC, 0, resolve };

	/* EAGAIN: a rename raced the lookup somewhere; the kernel wants a retry. */
	for (int i = 0; i < 64; i++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			return (int)fd;
	}
	return -1;
}

/* The runtime's rules for its verified procfs handle (src/linux/procfs.ts):
 * beneath it, no other mount, no magic link, and the result on procfs. */
int proc_open(int procfs_fd, const char *rel, int flags)
{
	struct statfs sf;
	int fd = openat2_retry(procfs_fd, rel, (uint64_t)(flags | O_NOFOLLOW),
			       RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);

	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

/* One write(2): procfs attributes take their value only whole. 0 or errno. */
static int write_proc(int procfs_fd, const char *rel, const char *text)
{
	size_t len = strlen(text);
	int fd = proc_open(procfs_fd, rel, O_WRONLY), err = 0;
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, text, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	close(fd);
	return err;
}

static void join_session(const struct plan *p)
{
	int err;

	if (p->setsid && setsid() < 0)
		die_errno("setsid");
	if (!p->keyring)
		return;
	/* The session keyring is created with the process label (runc). */
	if (p->key_label && (err = write_proc(p->procfs_fd, "self/attr/keycreate", p->key_label)))
		die("process.selinuxLabel: can't set key label: write /proc/self/attr/keycreate: %s",
		    errtext(err));
	/* Kernels and profiles that refuse keyctl are common; runc carries on too. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring) < 0 &&
	    errno != ENOSYS && errno != EPERM)
		die_errno("keyctl(JOIN_SESSION_KEYRING) %s", p->keyring);
}

static void apply_attributes(const struct plan *p)
{
	if (p->sched && syscall(SYS_sched_setattr, 0, p->sched, 0) < 0) {
		/* A cpuset narrower than the root domain refuses SCHED_DEADLINE. */
		if (errno == EPERM && p->sched_cpus_set)
			die("process.scheduler: process scheduler can't be used together with AllowedCPUs");
		die_errno("process.scheduler: error setting scheduler");
	}
	if (p->has_ioprio && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, p->ioprio) < 0)
		die_errno("process.ioPriority: failed to set io priority");
}

/* Both are read by the kernel at our next execve. AppArmor's own directory
 * first (stacked LSMs), else the legacy attr/exec, as libapparmor does. */
static void apply_labels(const struct plan *p)
{
	int err;

	if (p->apparmor) {
		const char *attr = "apparmor/exec";
		char *text = malloc(strlen(p->apparmor) + 6);

		if (!text)
			die("apparmor: out of memory");
		sprintf(text, "exec %s", p->apparmor);
		err = write_proc(p->procfs_fd, "self/attr/apparmor/exec", text);
		if (err == ENOENT) {
			attr = "exec";
			err = write_proc(p->procfs_fd, "self/attr/exec", text);
		}
		if (err)
			die("process.apparmorProfile: unable to apply apparmor profile: apparmor failed to apply profile: write /proc/self/attr/%s: %s",
			    attr, errtext(err));
		free(text);
	}
	if (p->exec_label && (err = write_proc(p->procfs_fd, "self/attr/exec", p->exec_label)))
		die("process.selinuxLabel: can't set process label: write /proc/self/attr/exec: %s",
		    errtext(err));
}

/* Without CAP_SYS_RESOURCE a hard limit can only be lowered; runc fails alike. */
static void apply_rlimits(const struct plan *p)
{
	for (unsigned i = 0; i < p->nrlimits; i++) {
		const struct rlimit_step *r = &p->rlimits[i];
		struct rlimit rl = { r->soft, r->hard };

		if (prlimit(0, r->resource, &rl, NULL) < 0)
			die_errno("%s: error setting rlimit type %u", r->what, r->resource);
	}
}

/* runc changes directory before switching user (a cwd only root may enter)
 * and once more after it when that was refused (one only the user may). */
static int enter_cwd_as_root(const struct plan *p)
{
	if (chdir(p->cwd) == 0)
		return 1;
	if (errno == EACCES || errno == EPERM)
		return 0;
	die_errno("process.cwd: chdir to cwd (%s) set in config.json failed", p->cwd_quoted);
}

/* A cwd reached through a leaked fd (/proc/self/fd/N) is outside our root:
 * getcwd then says "(unreachable)..." instead of a path (CVE-2024-21626). */
static void enter_cwd(const struct plan *p, int again)
{
	static char buf[PATH_MAX];

	if (again && chdir(p->cwd) < 0)
		die_errno("process.cwd: chdir to cwd (%s) set in config.json failed", p->cwd_quoted);
	if (syscall(SYS_getcwd, buf, sizeof buf) < 0 || buf[0] != '/')
		die("process.cwd %s: current working directory is outside of container mount namespace root",
		    p->cwd);
}

/* SCMP_ACT_NOTIFY: the listener fd goes to listenerPath (connected by the
 * runtime while the host's paths were visible) with the container's state. */
static void load_seccomp(const struct plan *p)
{
	struct sock_fprog prog = { (unsigned short)(p->seccomp_len / 8), p->seccomp };
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);

	if (fd < 0)
		die_errno("seccomp(SECCOMP_SET_MODE_FILTER)");
	if (p->notify_fd < 0)
		return;
	if (send_fd(p->notify_fd, p->notify_state, p->notify_state_len, (int)fd) < 0)
		die_errno("linux.seccomp.listenerPath: send the listener fd");
	close((int)fd);
	close(p->notify_fd);
}

static void drop_bounding_set(const struct plan *p)
{
	for (uint32_t c = 0; c <= p->last_cap; c++)
		if (!((p->bounding >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			die_errno("prctl %d", PR_CAPBSET_DROP);
}

static void set_user(const struct plan *p)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die_errno("prctl %d", PR_SET_KEEPCAPS);
	/* Denied in a user namespace with setgroups=deny: fine if none are wanted. */
	if (setgroups(p->ngroups, p->groups) < 0 && (p->ngroups || errno != EPERM))
		die_errno("setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		die_errno("setresgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		die_errno("setresuid %u", p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		die_errno("prctl %d", PR_SET_KEEPCAPS);
}

static void apply_capabilities(const struct plan *p)
{
	struct cap_header h = { LINUX_CAPABILITY_VERSION_3, 0 };
	struct cap_data d[2] = {
		{ (uint32_t)p->effective, (uint32_t)p->permitted, (uint32_t)p->inheritable },
		{ (uint32_t)(p->effective >> 32), (uint32_t)(p->permitted >> 32),
		  (uint32_t)(p->inheritable >> 32) },
	};

	if (syscall(SYS_capset, &h, d) < 0)
		die_errno("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die_errno("prctl %d", PR_CAP_AMBIENT);
	/* Raising needs the bit in the inheritable set too; runc skips such ones. */
	for (unsigned c = 0; c < 64; c++)
		if ((p->ambient >> c) & 1)
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

/* Go's filepath.Join(dir, file), as exec.LookPath builds candidates: ""
 * is ".", then Clean: no empty or "." names, ".." removes the name before
 * it (at the root it is dropped; leading ones of a relative path stay). */
static char *join_clean(const char *dir, const char *file)
{
	size_t n = strlen(dir) + strlen(file) + 3;
	char *in = malloc(n), *out = malloc(n), **names = malloc(n * sizeof *names);
	char *name, *save;
	size_t count = 0, len = 0;
	int abs;

	if (!in || !out || !names)
		die("exec: out of memory");
	snprintf(in, n, "%s/%s", *dir ? dir : ".", file);
	abs = in[0] == '/';
	for (name = strtok_r(in, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..") && count && strcmp(names[count - 1], ".."))
			count--;
		else if (!strcmp(name, "..") && abs)
			continue;
		else
			names[count++] = name;
	}
	if (abs)
		out[len++] = '/';
	for (size_t i = 0; i < count; i++)
		len += (size_t)sprintf(out + len, "%s%s", i ? "/" : "", names[i]);
	if (!len)
		out[len++] = '.';
	out[len] = '\0';
	free(names);
	free(in);
	return out;
}

/* As the process's user, from its cwd (PATH may hold relative entries). */
static const char *look_path(const struct plan *p)
{
	const char *file = p->argv[0], *path = NULL;
	char *list, *dir, *next;
	struct stat st;

	if (strchr(file, '/'))
		return file;
	for (char **e = p->envp; *e; e++) {
		if (!strncmp(*e, "PATH=", 5)) {
			path = *e + 5;
			break;
		}
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	list = strdup(path);
	if (!list)
		die("exec: out of memory");
	for (dir = list; dir; dir = next) {
		char *cand;

		next = strchr(dir, ':');
		if (next)
			*next++ = '\0';
		cand = join_clean(dir, file);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return cand;
		free(cand);
	}
	die("exec: \"%s\": executable file not found in $PATH", file);
}

/* Checked as the user with the final capabilities, like runc's eaccess(): a
 * program the user may not run (mode, noexec mount) fails create, not start. */
static void check_executable(const char *file)
{
	struct stat st;

	if (stat(file, &st) < 0)
		die_errno("exec: \"%s\": stat %s", file, file);
	/* A directory, or no execute bit for anyone: execve would say EACCES, and
	 * so does Go's LookPath; podman maps this text to its 126. */
	if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111))
		die("exec: \"%s\": permission denied", file);
	if (syscall(SYS_faccessat2, AT_FDCWD, file, X_OK, AT_EACCESS) < 0)
		die_errno("exec %s", file);
}

/* Everything above stdio and the preserved fds is closed by execve; the
 * ones the process keeps lose close-on-exec (a Node init set it on them). */
static void close_extra_fds(const struct plan *p)
{
	int keep = 3 + (int)p->preserve_fds;

	if (syscall(SYS_close_range, keep, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("close_range");
	for (int fd = 0; fd < keep; fd++)
		if (fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF)
			die_errno("fcntl(F_SETFD) %d", fd);
}

/* create: the runtime gets READY, and `start` opens the fifo for reading.
 * Our end stays open until execve closes it: `start` waits for that EOF,
 * and a failure from here on is written into it for `start` to report. */
static void wait_for_start(const struct plan *p)
{
	char name[16];
	int dir, fifo;

	if (p->ready) {
		if (send_msg(MSG_READY, NULL, 0) < 0)
			die_errno("send READY");
		close(sock);
		sock = -1;
	}
	if (p->fifo_fd < 0)
		return;
	dir = proc_open(p->procfs_fd, "self/fd", O_PATH | O_DIRECTORY);
	if (dir < 0)
		die_errno("open exec fifo: open /proc/self/fd");
	snprintf(name, sizeof name, "%d", p->fifo_fd);
	do
		fifo = openat(dir, name, O_WRONLY | O_CLOEXEC);
	while (fifo < 0 && errno == EINTR);
	if (fifo < 0)
		die_errno("open exec fifo /proc/self/fd/%s", name);
	close(dir);
	if (write_full(fifo, "0", 1) < 0)
		die_errno("write exec fifo /proc/self/fd/%s", name);
	report_errors_to(fifo);
	close(p->fifo_fd);
}

/* Ignored signals survive execve (a Node init ignores SIGPIPE), and so
 * does the mask: the program must start clean. */
static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

_Noreturn void run_stage(const struct plan *p)
{
	const char *file;
	int cwd_done;

	join_session(p);
	if (p->console_fd >= 0)
		setup_console(p);
	apply_attributes(p);
	apply_labels(p);
	apply_rlimits(p);
	cwd_done = enter_cwd_as_root(p);
	/* Without no_new_privs loading a filter needs CAP_SYS_ADMIN: now. */
	if (p->seccomp && !p->no_new_privs)
		load_seccomp(p);
	if (p->has_bounding)
		drop_bounding_set(p);
	if (p->has_user)
		set_user(p);
	enter_cwd(p, !cwd_done);
	if (p->has_caps)
		apply_capabilities(p);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("prctl %d", PR_SET_NO_NEW_PRIVS);
	file = look_path(p);
	check_executable(file);
	if (p->has_umask)
		umask(p->umask);
	if (p->has_personality && personality(p->personality) < 0)
		die_errno("linux.personality: personality");
	close_extra_fds(p);
	wait_for_start(p);
	if (p->nhooks)
		run_hooks(p);
	if (p->procfs_fd >= 0)
		close(p->procfs_fd);
	reset_signals();
	/* With no_new_privs: as late as possible, so that as few of our own
	 * syscalls as possible have to pass the container's filter. */
	if (p->seccomp && p->no_new_privs)
		load_seccomp(p);
	while (execve(file, p->argv, p->envp) < 0 && errno == EINTR)
		;
	die_errno("exec %s", file);
}
