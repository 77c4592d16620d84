/* stub/stub.h: what the stub's files share: the wire protocol (framing,
 * attributes, message and attribute numbers), error reporting, the PLAN. */
#ifndef OCIRUN_STUB_H
#define OCIRUN_STUB_H

#include <stdint.h>
#include <sys/types.h>

/* Message types; docs/ARCHITECTURE.md "The wire format" is the reference. */
enum {
	MSG_BOOTSTRAP = 1, MSG_MAPS_REQUEST, MSG_MAPS_DONE, MSG_PID, MSG_ERROR,
	MSG_PLAN = 6,
	MSG_READY = 19,
};

/* BOOTSTRAP attributes. */
enum {
	ATTR_CLONE_FLAGS = 1, ATTR_NS_JOIN, ATTR_EXE_FD, ATTR_TIMENS_OFFSETS,
	ATTR_ARGV, ATTR_HOLD, ATTR_STAGE,
};

/* PLAN attributes, in the order the stage applies them. */
enum {
	PLAN_SETSID = 32, PLAN_KEYRING, PLAN_KEY_LABEL, PLAN_PROCFS_FD,
	PLAN_CONSOLE, PLAN_SCHED, PLAN_IOPRIO, PLAN_APPARMOR, PLAN_EXEC_LABEL,
	PLAN_RLIMIT, PLAN_CWD, PLAN_SECCOMP, PLAN_SECCOMP_NOTIFY, PLAN_BOUNDING,
	PLAN_USER, PLAN_CAPS, PLAN_NO_NEW_PRIVS, PLAN_ARG, PLAN_ENV, PLAN_UMASK,
	PLAN_PERSONALITY, PLAN_PRESERVE_FDS, PLAN_READY, PLAN_FIFO_FD, PLAN_HOOK,
	PLAN_LAST = PLAN_HOOK,
};

/* Attributes of one PLAN_HOOK, nested in its data. */
enum { HOOK_PATH = 1, HOOK_ARG, HOOK_ENV, HOOK_TIMEOUT, HOOK_NAME, HOOK_STATE };

/* Set on an attribute type: its data continues in the next attribute. */
#define ATTR_MORE 0x8000u

/* The socket to the runtime (-1 when there is none). */
extern int sock;

/* Go's text for an errno ("operation not permitted"), as runc prints it. */
const char *errtext(int err);

/* Reports the error (ERROR message, or into the exec fifo once that is
 * the way to `start`) and exits 1. die_errno appends ": <errtext(errno)>". */
__attribute__((format(printf, 1, 2))) _Noreturn void die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) _Noreturn void die_errno(const char *fmt, ...);
/* From now on errors are written, bare, to fd (the exec fifo). */
void report_errors_to(int fd);

ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
int send_fd(int to, const void *data, size_t len, int fd);
int send_msg(uint32_t type, const void *payload, uint32_t len);
/* One message from fd into a malloc'ed buffer; returns its type. An ERROR
 * from the runtime means it gave up and reports itself: we just exit. */
uint32_t read_msg(int fd, char **buf, uint32_t *len, const char *what);

/* Walks {u16 type; u16 len;} + data attributes, 4-byte aligned. Data of a
 * type marked ATTR_MORE is joined with the next attribute's, in place. */
struct attrs {
	char *buf;
	uint32_t len, off;
	const char *what;
};
int next_attr(struct attrs *a, uint16_t *type, char **data, uint32_t *len);
uint32_t get_u32(const char *p);
uint64_t get_u64(const char *p);

/* A PLAN: the final stage of a container process, computed by the runtime
 * (exec) or the JS init (create). Strings point into the message buffer. */
struct rlimit_step {
	uint32_t resource;
	uint64_t soft, hard;
	const char *what;
};

/* name: "hooks.startContainer[0] (/path)", timeout_text: "1.0" (seconds). */
struct hook {
	const char *path, *name, *timeout_text, *state;
	char **argv, **envp;
	uint32_t timeout_ms;
};

struct plan {
	int setsid;
	const char *keyring, *key_label;
	int procfs_fd;
	int console_fd;
	uint32_t console_rows, console_cols, console_flags;
	const char *sched;
	uint32_t sched_len, sched_cpus_set;
	int has_ioprio;
	uint32_t ioprio;
	const char *apparmor, *exec_label;
	struct rlimit_step *rlimits;
	unsigned nrlimits;
	const char *cwd, *cwd_quoted;
	const char *seccomp;
	uint32_t seccomp_len, seccomp_flags;
	int notify_fd;
	const char *notify_state;
	uint32_t notify_state_len;
	int has_bounding;
	uint32_t last_cap;
	uint64_t bounding;
	int has_user;
	uint32_t uid, gid, ngroups;
	uint32_t *groups;
	int has_caps;
	uint64_t effective, permitted, inheritable, ambient;
	int no_new_privs;
	char **argv, **envp;
	int has_umask;
	uint32_t umask;
	int has_personality;
	uint32_t personality;
	uint32_t preserve_fds;
	int ready;
	int fifo_fd;
	struct hook *hooks;
	unsigned nhooks;
};

#define CONSOLE_CLEAR_ONLCR 1u

void parse_plan(struct plan *p, char *buf, uint32_t len);
_Noreturn void run_stage(const struct plan *p);

/* Pieces of the stage that live in their own files. */
void setup_console(const struct plan *p);
void run_hooks(const struct plan *p);
int proc_open(int procfs_fd, const char *rel, int flags);
int openat2_retry(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

#endif
