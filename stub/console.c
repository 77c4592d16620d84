/* stub/console.c: an exec's process.terminal: a pty from the container's own
 * devpts, its master sent over the console socket, its slave our controlling
 * terminal and stdio, owned by the process's user (runc's setupConsole for
 * setns, with the runtime's fd checks of src/init/console.ts). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include "stub.h"
#include "kernel.h"

/* The container's multiplexer, resolved in its root and checked by fd: an
 * image or a mount could have put a host node, a file or another devpts'
 * ptmx under that name. Reopened through procfs: what was checked is what
 * gets opened. */
static int open_ptmx(int procfs_fd)
{
	static const char *const names[] = { "dev/pts/ptmx", "dev/ptmx" };
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), handle = -1, dir, master;
	struct statfs sf;
	struct stat st;
	char fdname[16];

	if (root < 0)
		die_errno("open /");
	for (unsigned i = 0; i < 2 && handle < 0; i++) {
		handle = openat2_retry(root, names[i], O_PATH,
				       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (handle < 0 && errno != ENOENT)
			die_errno("open /%s", names[i]);
	}
	close(root);
	if (handle < 0)
		die("open /dev/pts/ptmx: no such file or directory");
	if (fstatfs(handle, &sf) < 0)
		die_errno("fstatfs ptmx");
	if (sf.f_type != DEVPTS_SUPER_MAGIC)
		die("ptmx handle is not on a real devpts mount: super magic is 0x%lx",
		    (unsigned long)sf.f_type);
	if (fstat(handle, &st) < 0)
		die_errno("fstat ptmx");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != PTMX_MAJOR ||
	    minor(st.st_rdev) != PTMX_MINOR)
		die("ptmx handle is not a real char ptmx device: %u:%u",
		    major(st.st_rdev), minor(st.st_rdev));
	dir = proc_open(procfs_fd, "self/fd", O_PATH | O_DIRECTORY);
	if (dir < 0)
		die_errno("open /proc/self/fd");
	snprintf(fdname, sizeof fdname, "%d", handle);
	master = openat(dir, fdname, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno("open ptmx");
	close(dir);
	close(handle);
	return master;
}

/* The slave by TIOCGPTPEER, never by a /dev/pts/N name the container could
 * have replaced. */
static int open_peer(int master)
{
	int unlock = 0, peer;
	struct stat st;

	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die_errno("ioctl(TIOCSPTLCK)");
	peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		die_errno("ioctl(TIOCGPTPEER)");
	if (fstat(peer, &st) < 0)
		die_errno("fstat pty peer");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) < PTY_SLAVE_MAJOR_FIRST ||
	    major(st.st_rdev) > PTY_SLAVE_MAJOR_LAST)
		die("pty peer is not a pty slave: %u:%u", major(st.st_rdev),
		    minor(st.st_rdev));
	return peer;
}

void setup_console(const struct plan *p)
{
	int master = open_ptmx(p->procfs_fd), peer = open_peer(master);
	uid_t uid = p->has_user ? p->uid : 0;
	struct stat st;

	if (p->console_rows && p->console_cols) {
		struct winsize ws = { (unsigned short)p->console_rows,
				      (unsigned short)p->console_cols, 0, 0 };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			die_errno("ioctl(TIOCSWINSZ)");
	}
	/* A foreground exec's proxy gets the master only after the process may
	 * have written: its output processing is cleared here. */
	if (p->console_flags & CONSOLE_CLEAR_ONLCR) {
		struct termios t;

		if (tcgetattr(master, &t) < 0)
			die_errno("tcgetattr");
		t.c_oflag &= ~(tcflag_t)ONLCR;
		if (tcsetattr(master, TCSANOW, &t) < 0)
			die_errno("tcsetattr");
	}
	/* runc's payload: the name "/dev/ptmx" and exactly one fd. */
	if (send_fd(p->console_fd, "/dev/ptmx", 9, master) < 0)
		die_errno("send the pty master over the console socket");
	for (int fd = 0; fd < 3; fd++)
		if (dup3(peer, fd, 0) < 0)
			die_errno("dup3 pty to %d", fd);
	close(peer);
	close(master);
	close(p->console_fd);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		die_errno("ioctl(TIOCSCTTY)");
	/* runc's fixStdioPermissions; a user namespace may leave the owner or
	 * group unmapped, and then the console stays as it is. */
	if (fstat(0, &st) < 0)
		die_errno("fstat console");
	if (st.st_uid != uid && fchown(0, uid, st.st_gid) < 0 &&
	    errno != EINVAL && errno != EPERM)
		die_errno("fchown console");
}
