/* stub/hooks.c: startContainer hooks, run by the final stage after `start`
 * opened the exec fifo, as the container's user, in its namespaces. Owns
 * running one hook as src/process/hook.ts does for the others: path exec'd
 * with argv and exactly env (both computed by the JS side), the state JSON
 * on stdin, stdout and stderr captured for the message, SIGKILL at the
 * timeout, and that module's wording. The first failure stops the list. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "stub.h"
#include "kernel.h"

/* Node's names for a signal death, as the JS runner prints them. */
static const char *const signames[] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
	[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

/* A growing buffer for what the hook writes. */
struct out {
	char *buf;
	size_t len;
};

static int drain(int fd, struct out *o)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof chunk);
	char *grown;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	grown = realloc(o->buf, o->len + (size_t)n + 1);
	if (!grown)
		die("hooks: out of memory");
	o->buf = grown;
	memcpy(o->buf + o->len, chunk, (size_t)n);
	o->len += (size_t)n;
	o->buf[o->len] = '\0';
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* In the child: stdio from the pipes, the rest of our fds are close-on-exec
 * already; an exec failure goes back as errno over err_fd. */
static _Noreturn void exec_hook(const struct hook *h, int in, int out, int err, int err_fd)
{
	int e;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		e = errno;
		write_full(err_fd, &e, sizeof e);
		_exit(127);
	}
	execve(h->path, h->argv, h->envp);
	e = errno;
	write_full(err_fd, &e, sizeof e);
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void run_hook(const struct hook *h)
{
	int in[2], out[2], err[2], report[2], status = 0, exec_errno = 0, exited = 0, pidfd;
	struct out o = { NULL, 0 }, e = { NULL, 0 };
	const char *state = h->state;
	size_t left = strlen(state);
	long long deadline = h->timeout_ms ? now_ms() + h->timeout_ms : 0;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
		die_errno("error running %s: pipe", h->name);
	pid = fork();
	if (pid < 0)
		die_errno("error running %s: fork", h->name);
	if (pid == 0)
		exec_hook(h, in[0], out[1], err[1], report[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(report[1]);
	/* EOF: the exec worked (the pipe is close-on-exec); else its errno. */
	if (read_full(report[0], &exec_errno, sizeof exec_errno) != sizeof exec_errno)
		exec_errno = 0;
	close(report[0]);
	/* Readable once the hook has exited: no SIGCHLD handler needed. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die_errno("error running %s: pidfd_open", h->name);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (exec_errno || !left)
		close_fd(&in[1]);

	/* Until both pipes are at EOF and the hook has exited, or the deadline. */
	while (out[0] >= 0 || err[0] >= 0 || !exited) {
		struct pollfd fds[4] = {
			{ in[1], POLLOUT, 0 }, { out[0], POLLIN, 0 },
			{ err[0], POLLIN, 0 }, { exited ? -1 : pidfd, POLLIN, 0 },
		};
		int wait_ms = -1;

		if (deadline) {
			long long rest = deadline - now_ms();

			if (rest <= 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				die("error running %s: hook ran past specified timeout of %ss",
				    h->name, h->timeout_text);
			}
			wait_ms = rest > 60000 ? 60000 : (int)rest;
		}
		if (poll(fds, 4, wait_ms) < 0 && errno != EINTR)
			die_errno("error running %s: poll", h->name);
		if (fds[0].revents) {
			ssize_t n = write(in[1], state, left);

			/* A hook that never reads its stdin: Go's os/exec ignores that too. */
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				left = 0;
			else if (n > 0)
				state += n, left -= (size_t)n;
			if (!left)
				close_fd(&in[1]);
		}
		if (fds[1].revents && !drain(out[0], &o))
			close_fd(&out[0]);
		if (fds[2].revents && !drain(err[0], &e))
			close_fd(&err[0]);
		if (fds[3].revents && waitpid(pid, &status, 0) == pid)
			exited = 1;
	}
	close_fd(&in[1]);
	close(pidfd);
	if (exec_errno)
		die("error running %s: exec %s: %s", h->name, h->path, errtext(exec_errno));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *name = (size_t)sig < sizeof signames / sizeof *signames &&
				   signames[sig] ? signames[sig] : "unknown";

		die("error running %s: signal: %s, stdout: %s, stderr: %s", h->name, name,
		    o.buf ? o.buf : "", e.buf ? e.buf : "");
	}
	if (WEXITSTATUS(status))
		die("error running %s: exit status %d, stdout: %s, stderr: %s", h->name,
		    WEXITSTATUS(status), o.buf ? o.buf : "", e.buf ? e.buf : "");
	free(o.buf);
	free(e.buf);
}

void run_hooks(const struct plan *p)
{
	/* A hook that exits without reading makes our write fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < p->nhooks; i++)
		run_hook(&p->hooks[i]);
}
