/* sysbox-init: the program that becomes a container's first process, or an exec'd process.
 *
 * The runtime hands it a plan: a list of steps, one per line, that it carries out in order.
 * Keeping the decisions in TypeScript and the steps here means this program never parses
 * config.json, and each step is a few syscalls that can be read and tested on their own.  */

#ifndef SYSBOX_INIT_H
#define SYSBOX_INIT_H

#include <stdarg.h>
#include <stddef.h>

struct step
{
  int argc;
  char **argv;
};

struct plan
{
  struct step *steps;
  size_t len;
};

/* State that later steps read from earlier ones.  */
struct init_state
{
  int sync_fd;     /* socket to the runtime, -1 once closed */
  int root_fd;     /* O_PATH fd of the new root while it is being assembled */
  char *root_path; /* path of the new root, relative to the staging tmpfs */
  int console_fd;  /* socket to the caller's console receiver */
  int fifo_fd;      /* the exec fifo that `start` writes: O_PATH, then its read end */
  int fifo_path_fd; /* O_PATH fd of the exec fifo once its read end is open */
  char *cwd;
  char *exec_path;
  char **args;
  size_t nargs;
  char **env;
  size_t nenv;
  void *seccomp; /* scmp_filter_ctx being built */
};

/* Reports the failure to the runtime (or to stderr once the runtime has gone) and exits.  */
__attribute__ ((noreturn, format (printf, 1, 2))) void die (const char *fmt, ...);
__attribute__ ((noreturn, format (printf, 2, 3))) void die_errno (int err, const char *fmt, ...);

void set_sync_fd (int fd);
void sync_send (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void sync_expect (const char *word);
extern long runtime_pid;

int parse_plan (const char *text, struct plan *plan);
int run_plan (struct plan *plan, struct init_state *st);

/* Step handlers, grouped by the file that holds them.  */
int step_is_rootfs (const char *name);
void run_rootfs_step (struct step *s, struct init_state *st);
int step_is_process (const char *name);
void run_process_step (struct step *s, struct init_state *st);

/* Helpers shared by the step files.  */
long parse_long (const char *s, const char *what);
unsigned long long parse_hex (const char *s, const char *what);
void write_proc_file (const char *path, const char *data);

#endif
