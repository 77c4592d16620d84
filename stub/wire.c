/* stub/wire.c: the stub's side of the wire format (docs/ARCHITECTURE.md):
 * message framing, attribute walking, and how errors leave the process. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "stub.h"

/* Large enough for any PLAN (args and env are bounded by ARG_MAX anyway). */
#define MAX_MESSAGE (64u << 20)
#define ALIGN4(n) (((n) + 3u) & ~3u)

struct wire_hdr {
	uint32_t type;
	uint32_t len;
};

int sock = -1;
static int error_fd = -1;

ssize_t read_full(int fd, void *buf, size_t len)
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

/* All of buf, across short writes and EINTR; on a socket with MSG_NOSIGNAL,
 * so that a vanished runtime gives EPIPE instead of killing us silently. */
static int put_full(int fd, const void *buf, size_t len, int is_sock)
{
	while (len > 0) {
		ssize_t n = is_sock ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	return put_full(fd, buf, len, 0);
}

/* data plus one fd as SCM_RIGHTS, in one sendmsg (a console socket or a
 * seccomp listener reads both at once); 0 when all of data went. */
int send_fd(int to, const void *data, size_t len, int fd)
{
	char control[CMSG_SPACE(sizeof fd)] = { 0 };
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof control;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fd);
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	n = sendmsg(to, &msg, MSG_NOSIGNAL);
	if (n >= 0 && (size_t)n != len)
		errno = EIO;
	return n >= 0 && (size_t)n == len ? 0 : -1;
}

int send_msg(uint32_t type, const void *payload, uint32_t len)
{
	struct wire_hdr h = { type, len };

	if (put_full(sock, &h, sizeof h, 1) < 0)
		return -1;
	return put_full(sock, payload, len, 1);
}

void report_errors_to(int fd)
{
	error_fd = fd;
}

/* Messages can carry a hook's whole output: sized, not truncated. */
static _Noreturn void vdie(int err, const char *fmt, va_list ap)
{
	static char fallback[] = "out of memory for an error message";
	const char *suffix = err ? errtext(err) : NULL;
	va_list copy;
	char *msg;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	msg = n < 0 ? NULL : malloc((size_t)n + (suffix ? strlen(suffix) + 2 : 0) + 1);
	if (msg) {
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		if (suffix)
			sprintf(msg + n, ": %s", suffix);
	} else {
		msg = fallback;
	}
	n = (int)strlen(msg);
	if (error_fd >= 0) {
		/* `start` reads the fifo: everything after the "0" is our error. */
		write_full(error_fd, msg, (size_t)n);
	} else if (sock < 0 || send_msg(MSG_ERROR, msg, (uint32_t)n) < 0) {
		/* Last resort only: fd 2 belongs to the container. */
		write_full(2, "ocirun-stub: ", 13);
		write_full(2, msg, (size_t)n);
		write_full(2, "\n", 1);
	}
	_exit(1);
}

_Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(0, fmt, ap);
}

_Noreturn void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vdie(err, fmt, ap);
}

uint32_t read_msg(int fd, char **buf, uint32_t *len, const char *what)
{
	struct wire_hdr h;
	ssize_t n = read_full(fd, &h, sizeof h);

	if (n < 0)
		die_errno("read %s", what);
	if (n != sizeof h)
		die("read %s: connection closed by runtime", what);
	if (h.len > MAX_MESSAGE)
		die("read %s: payload of %u bytes exceeds %u", what, h.len,
		    MAX_MESSAGE);
	/* One spare byte: the attribute walk may NUL-terminate the last one. */
	*buf = malloc(h.len + 1u);
	if (!*buf)
		die("read %s: out of memory for %u bytes", what, h.len);
	n = read_full(fd, *buf, h.len);
	if (n < 0)
		die_errno("read %s", what);
	if ((uint32_t)n != h.len)
		die("read %s: connection closed mid-message", what);
	if (h.type == MSG_ERROR)
		_exit(1);
	*len = h.len;
	return h.type;
}

uint32_t get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

uint64_t get_u64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

int next_attr(struct attrs *a, uint16_t *type, char **data, uint32_t *len)
{
	uint32_t total = 0;
	uint16_t first = 0;
	char *start = NULL;

	if (a->off >= a->len)
		return 0;
	for (;;) {
		uint16_t t, l;
		char *d;

		if (a->len - a->off < 4)
			die("%s: truncated attribute header", a->what);
		memcpy(&t, a->buf + a->off, 2);
		memcpy(&l, a->buf + a->off + 2, 2);
		if (l > a->len - a->off - 4)
			die("%s: attribute %u overruns the message", a->what,
			    t & ~ATTR_MORE);
		d = a->buf + a->off + 4;
		if (!start) {
			start = d;
			first = t & ~ATTR_MORE;
		} else if ((t & ~ATTR_MORE) != first) {
			die("%s: attribute %u continues as %u", a->what, first,
			    t & ~ATTR_MORE);
		} else {
			/* Only moves data left, over headers already read. */
			memmove(start + total, d, l);
		}
		total += l;
		a->off += 4 + ALIGN4((uint32_t)l);
		if (a->off > a->len)
			a->off = a->len;
		if (!(t & ATTR_MORE))
			break;
		if (a->off >= a->len)
			die("%s: attribute %u continues past the end", a->what,
			    first);
	}
	*type = first;
	*data = start;
	*len = total;
	return 1;
}
