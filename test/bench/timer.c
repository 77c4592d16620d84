/* Timing helper for the benchmark: a small server that fork/execs the measured runtime calls, reaps them
 * with wait4 and reports wall time (ns, fork to reap) and ru_maxrss, so Node's spawn costs stay out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Protocol on stdin/stdout. A request is a list of NUL-terminated fields ended by an empty field; the first
 * field is the operation. Every reply is one line starting with "ok" or "err".
 *   run   STDIN STDOUT STDERR ARGV...      -> ok STATUS WALL_NS MAXRSS_KIB
 *   batch K STDIN STDOUT STDERR ARGV...    -> ok TOTAL_NS STATUS,WALL_NS,MAXRSS_KIB ... (K children at once;
 *                                             "{}" in STDOUT, STDERR and ARGV becomes the index 0..K-1)
 *   kill  PID STDIN STDOUT STDERR ARGV...  -> ok STATUS WALL_NS MAXRSS_KIB (wall runs until PID has exited)
 *   wait  PID TIMEOUT_MS                   -> ok (PID has exited)
 * STATUS is the exit code, or 128 + the signal number.
 * With --cgroup2-ns as argv[1] the server first enters a private mount namespace with cgroup2 on
 * /sys/fs/cgroup (crun 1.8 refuses the host's hybrid layout), so every call it runs sees that view.
 */

#define MAX_FIELDS 256

static char *fields[MAX_FIELDS + 1];
static int nfields;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads one request; returns 0 on EOF before its first byte. */
static int read_request(void) {
  for (int i = 0; i < nfields; i++) free(fields[i]);
  nfields = 0;
  for (;;) {
    size_t cap = 64, len = 0;
    char *f = malloc(cap);
    int c;
    if (f == NULL) return -1;
    while ((c = getchar()) != EOF && c != '\0') {
      if (len + 1 >= cap) {
        char *g = realloc(f, cap *= 2);
        if (g == NULL) return -1;
        f = g;
      }
      f[len++] = (char)c;
    }
    f[len] = '\0';
    if (c == EOF) {
      free(f);
      return nfields == 0 && len == 0 ? 0 : -1;
    }
    if (len == 0) {
      free(f);
      fields[nfields] = NULL;
      return 1;
    }
    if (nfields == MAX_FIELDS) return -1;
    fields[nfields++] = f;
  }
}

/* Replaces every "{}" in s with index; the result is a fresh string. */
static char *subst(const char *s, int index) {
  char num[16];
  snprintf(num, sizeof num, "%d", index);
  size_t n = strlen(s), nl = strlen(num), out = 0;
  char *r = malloc(n * (nl + 1) + 1);
  if (r == NULL) abort();
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '{' && s[i + 1] == '}') {
      memcpy(r + out, num, nl);
      out += nl;
      i++;
    } else {
      r[out++] = s[i];
    }
  }
  r[out] = '\0';
  return r;
}

static void redirect(const char *file, int fd, int flags) {
  int f = open(file, flags | O_CLOEXEC, 0644);
  if (f < 0 || dup3(f, fd, 0) < 0) {
    dprintf(2, "timer: %s: %s\n", file, strerror(errno));
    _exit(127);
  }
  close(f);
}

/* Forks one measured call; index >= 0 substitutes "{}" in the paths and argv. */
static pid_t spawn(char **io, char **argv, int index) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  char *args[MAX_FIELDS + 1];
  int n = 0;
  for (; argv[n] != NULL; n++) args[n] = index >= 0 ? subst(argv[n], index) : argv[n];
  args[n] = NULL;
  redirect(index >= 0 ? subst(io[0], index) : io[0], 0, O_RDONLY);
  redirect(index >= 0 ? subst(io[1], index) : io[1], 1, O_WRONLY | O_CREAT | O_TRUNC);
  redirect(index >= 0 ? subst(io[2], index) : io[2], 2, O_WRONLY | O_CREAT | O_TRUNC);
  execv(args[0], args);
  dprintf(2, "timer: exec %s: %s\n", args[0], strerror(errno));
  _exit(127);
}

static int status_code(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Blocks until pid has exited (zombies count: a pidfd polls readable once the process is dead). */
static int wait_gone(int pidfd, int timeout_ms) {
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r == 1 ? 0 : -1;
}

static int need(int n) {
  if (nfields >= n) return 1;
  printf("err %s: too few fields\n", fields[0]);
  return 0;
}

static void op_run(void) {
  if (!need(5)) return;
  struct rusage ru;
  int st;
  long long t0 = now_ns();
  pid_t pid = spawn(&fields[1], &fields[4], -1);
  if (pid < 0 || wait4(pid, &st, 0, &ru) != pid) {
    printf("err fork/wait4: %s\n", strerror(errno));
    return;
  }
  printf("ok %d %lld %ld\n", status_code(st), now_ns() - t0, ru.ru_maxrss);
}

static void op_batch(void) {
  if (!need(6)) return;
  int k = atoi(fields[1]);
  if (k < 1 || k > 100000) {
    printf("err batch: bad count %s\n", fields[1]);
    return;
  }
  pid_t *pids = calloc((size_t)k, sizeof *pids);
  long long *start = calloc((size_t)k, sizeof *start), *wall = calloc((size_t)k, sizeof *wall);
  long *rss = calloc((size_t)k, sizeof *rss);
  int *code = calloc((size_t)k, sizeof *code);
  long long t0 = now_ns();
  int started = 0;
  for (; started < k; started++) {
    start[started] = now_ns();
    pids[started] = spawn(&fields[2], &fields[5], started);
    if (pids[started] < 0) break;
  }
  for (int left = started; left > 0; left--) {
    struct rusage ru;
    int st;
    pid_t pid = wait4(-1, &st, 0, &ru);
    if (pid < 0) break;
    for (int i = 0; i < started; i++) {
      if (pids[i] != pid) continue;
      wall[i] = now_ns() - start[i];
      rss[i] = ru.ru_maxrss;
      code[i] = status_code(st);
    }
  }
  long long total = now_ns() - t0;
  if (started < k) {
    printf("err batch: fork: %s\n", strerror(errno));
  } else {
    printf("ok %lld", total);
    for (int i = 0; i < k; i++) printf(" %d,%lld,%ld", code[i], wall[i], rss[i]);
    printf("\n");
  }
  free(pids);
  free(start);
  free(wall);
  free(rss);
  free(code);
}

static void op_kill(void) {
  if (!need(6)) return;
  int pidfd = (int)syscall(SYS_pidfd_open, atoi(fields[1]), 0);
  if (pidfd < 0) {
    printf("err pidfd_open %s: %s\n", fields[1], strerror(errno));
    return;
  }
  struct rusage ru;
  int st;
  long long t0 = now_ns();
  pid_t pid = spawn(&fields[2], &fields[5], -1);
  if (pid < 0 || wait4(pid, &st, 0, &ru) != pid) {
    printf("err fork/wait4: %s\n", strerror(errno));
  } else if (status_code(st) != 0) {
    printf("ok %d %lld %ld\n", status_code(st), now_ns() - t0, ru.ru_maxrss);
  } else if (wait_gone(pidfd, 30000) < 0) {
    printf("err pid %s still alive 30 s after the kill call\n", fields[1]);
  } else {
    printf("ok 0 %lld %ld\n", now_ns() - t0, ru.ru_maxrss);
  }
  close(pidfd);
}

static void op_wait(void) {
  if (!need(3)) return;
  int pidfd = (int)syscall(SYS_pidfd_open, atoi(fields[1]), 0);
  if (pidfd < 0) {
    /* ESRCH: gone already (and reaped), which is what the caller waits for. */
    if (errno == ESRCH) printf("ok\n");
    else printf("err pidfd_open %s: %s\n", fields[1], strerror(errno));
    return;
  }
  if (wait_gone(pidfd, atoi(fields[2])) < 0) printf("err pid %s did not exit in %s ms\n", fields[1], fields[2]);
  else printf("ok\n");
  close(pidfd);
}

static int enter_cgroup2_ns(void) {
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
    fprintf(stderr, "timer: private cgroup2 mount namespace: %s\n", strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--cgroup2-ns") == 0 && enter_cgroup2_ns() < 0) return 1;
  /* Interrupts are the harness's to handle: it finishes the call in flight, then cleans up through us. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  for (;;) {
    int r = read_request();
    if (r == 0) return 0;
    if (r < 0) {
      fprintf(stderr, "timer: malformed request\n");
      return 1;
    }
    if (strcmp(fields[0], "run") == 0) op_run();
    else if (strcmp(fields[0], "batch") == 0) op_batch();
    else if (strcmp(fields[0], "kill") == 0) op_kill();
    else if (strcmp(fields[0], "wait") == 0) op_wait();
    else printf("err unknown op %s\n", fields[0]);
    fflush(stdout);
  }
}
