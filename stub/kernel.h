/* stub/kernel.h: kernel ABI values and structs the stub needs and musl's
 * headers lack (musl-gcc sees no linux/ headers). They are ABI: they never change. */
#ifndef OCIRUN_KERNEL_H
#define OCIRUN_KERNEL_H

#include <stdint.h>
#include <sys/syscall.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

#if !defined(SYS_execveat) || !defined(SYS_openat2) || !defined(SYS_close_range) || \
	!defined(SYS_faccessat2) || !defined(SYS_pidfd_open)
#error "a syscall number is missing (they are per-architecture; add them here)"
#endif

/* openat2(2) */
struct open_how {
	uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10

#define CLOSE_RANGE_CLOEXEC (1u << 2)

/* statfs f_type */
#define PROC_SUPER_MAGIC 0x9fa0
#define DEVPTS_SUPER_MAGIC 0x1cd1

/* capget/capset, 64-bit sets */
#define LINUX_CAPABILITY_VERSION_3 0x20080522
struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};

/* seccomp(2) */
#define SECCOMP_SET_MODE_FILTER 1
#define BPF_MAXINSNS 4096
struct sock_fprog {
	unsigned short len;
	const void *filter;
};

#define KEYCTL_JOIN_SESSION_KEYRING 1
#define IOPRIO_WHO_PROCESS 1

/* /dev/ptmx and the pty slaves (UNIX98_PTY_SLAVE_MAJOR and its 7 successors) */
#define PTMX_MAJOR 5
#define PTMX_MINOR 2
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143

#endif
