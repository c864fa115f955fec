/* sysbox-fs: the files of /proc and /sys that the kernel keeps for the whole host, as one
 * container should see them, served over FUSE.
 *
 *   sysbox-fs MOUNTPOINT ROOT_UID ID
 *
 * One process serves one container.  The runtime starts it before the container's init,
 * waits for the line `ready` on its standard output, binds the files it serves over the
 * container's own, and then writes `pid N` (the container's init) to its standard input.  The
 * server answers for that init's UTS namespace (hostname, domainname), and when the init exits
 * it unmounts and exits.  Settings that are global on the host (kernel.panic,
 * vm.overcommit_memory, ...) start at the host's values; what the container writes is kept
 * here, for it alone, and never reaches the host.  Only the container's root (host uid
 * ROOT_UID) and host root may write.  ID names the container in the product UUID.  */

#define _GNU_SOURCE
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

enum kind
{
  UPTIME,
  HOSTNAME,
  DOMAINNAME,
  SETTING,
  UUID,
};

struct entry
{
  const char *path;
  enum kind kind;
  long long min, max;
  char value[32];
};

/* The files served, each at the path it covers in the container.  */
static struct entry entries[] = {
  { "/proc/uptime", UPTIME, 0, 0, "" },
  { "/proc/sys/kernel/hostname", HOSTNAME, 0, 0, "" },
  { "/proc/sys/kernel/domainname", DOMAINNAME, 0, 0, "" },
  { "/proc/sys/kernel/panic", SETTING, -2147483648LL, 2147483647LL, "" },
  { "/proc/sys/kernel/panic_on_oops", SETTING, 0, 1, "" },
  { "/proc/sys/kernel/pid_max", SETTING, 301, 4194304, "" },
  { "/proc/sys/vm/overcommit_memory", SETTING, 0, 2, "" },
  { "/proc/sys/net/netfilter/nf_conntrack_max", SETTING, 0, 2147483647LL, "" },
  { "/proc/sys/fs/file-max", SETTING, 0, 9223372036854775807LL, "" },
  { "/sys/devices/virtual/dmi/id/product_uuid", UUID, 0, 0, "" },
};

#define NENTRIES (sizeof entries / sizeof entries[0])

static struct
{
  const char *mountpoint;
  uid_t root_uid;
  struct timespec started;
  struct timespec started_real;
  double idle_at_start;
  char uuid[40];
  struct fuse *fuse;
  /* The init's UTS namespace, which the loop's thread joins at the first use (namespaces of
   * this kind are per thread); -1 until the pid comes.  */
  int uts;
  int in_uts;
} server = { .uts = -1 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct entry *
find_entry (const char *path)
{
  for (size_t i = 0; i < NENTRIES; i++)
    if (strcmp (entries[i].path, path) == 0)
      return &entries[i];
  return NULL;
}

/* Whether `path` is a directory of the tree: a proper prefix, at a slash, of some entry.  */
static int
is_dir (const char *path)
{
  size_t len = strlen (path);

  if (strcmp (path, "/") == 0)
    return 1;
  for (size_t i = 0; i < NENTRIES; i++)
    if (strncmp (entries[i].path, path, len) == 0 && entries[i].path[len] == '/')
      return 1;
  return 0;
}

static double
host_idle (void)
{
  double up = 0, idle = 0;
  FILE *f = fopen ("/proc/uptime", "re");

  if (f != NULL)
    {
      if (fscanf (f, "%lf %lf", &up, &idle) != 2)
        idle = 0;
      fclose (f);
    }
  return idle;
}

/* Puts the calling thread, the loop's, in the container's UTS namespace.  */
static int
enter_uts (void)
{
  if (server.in_uts)
    return 0;
  if (server.uts < 0 || setns (server.uts, CLONE_NEWUTS) < 0)
    return -EIO;
  server.in_uts = 1;
  return 0;
}

/* The text of an entry, as the kernel would print it.  */
static int
render (struct entry *e, char *buf, size_t size)
{
  struct timespec now;
  double up;

  switch (e->kind)
    {
    case UPTIME:
      clock_gettime (CLOCK_BOOTTIME, &now);
      up = (double) (now.tv_sec - server.started.tv_sec)
           + (double) (now.tv_nsec - server.started.tv_nsec) / 1e9;
      return snprintf (buf, size, "%.2f %.2f\n", up, host_idle () - server.idle_at_start);
    case HOSTNAME:
    case DOMAINNAME:
      {
        char name[256] = "";
        int err = enter_uts ();

        if (err < 0)
          return err;
        if ((e->kind == HOSTNAME ? gethostname (name, sizeof name)
                                 : getdomainname (name, sizeof name))
            < 0)
          return -errno;
        return snprintf (buf, size, "%s\n", name);
      }
    case SETTING:
      return snprintf (buf, size, "%s\n", e->value);
    case UUID:
      return snprintf (buf, size, "%s\n", server.uuid);
    }
  return -EIO;
}

static int
fs_getattr (const char *path, struct stat *st, struct fuse_file_info *fi)
{
  struct entry *e = find_entry (path);

  memset (st, 0, sizeof *st);
  st->st_uid = server.root_uid;
  st->st_gid = server.root_uid;
  st->st_mtim = st->st_ctim = st->st_atim = server.started_real;
  if (e != NULL)
    {
      int writable = e->kind == SETTING || e->kind == HOSTNAME || e->kind == DOMAINNAME;

      st->st_mode = S_IFREG | (writable ? 0644 : 0444);
      st->st_nlink = 1;
      /* As sysfs: readers that copy with sendfile go by the size, and a read returns less.  */
      st->st_size = 4096;
      return 0;
    }
  if (is_dir (path))
    {
      st->st_mode = S_IFDIR | 0555;
      st->st_nlink = 2;
      return 0;
    }
  return -ENOENT;
}

static int
fs_readdir (const char *path, void *buf, fuse_fill_dir_t fill, off_t offset,
            struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
  size_t len = strcmp (path, "/") == 0 ? 0 : strlen (path);

  if (! is_dir (path))
    return -ENOTDIR;
  fill (buf, ".", NULL, 0, 0);
  fill (buf, "..", NULL, 0, 0);
  for (size_t i = 0; i < NENTRIES; i++)
    {
      const char *p = entries[i].path;
      char name[256];
      const char *end;
      int seen = 0;

      if (strncmp (p, path, len) != 0 || p[len] != '/')
        continue;
      end = strchr (p + len + 1, '/');
      snprintf (name, sizeof name, "%.*s",
                (int) (end ? end - (p + len + 1) : (long) strlen (p + len + 1)), p + len + 1);
      /* A directory shared by several entries is listed once: at its first entry.  */
      for (size_t j = 0; j < i && ! seen; j++)
        seen = strncmp (entries[j].path, p, len + 1 + strlen (name)) == 0
               && (entries[j].path[len + 1 + strlen (name)] == '/'
                   || entries[j].path[len + 1 + strlen (name)] == '\0');
      if (! seen)
        fill (buf, name, NULL, 0, 0);
    }
  return 0;
}

static int
fs_open (const char *path, struct fuse_file_info *fi)
{
  if (find_entry (path) == NULL)
    return -ENOENT;
  /* Every read asks again: the values change, and the kernel must not cache them.  */
  fi->direct_io = 1;
  return 0;
}

static int
fs_read (const char *path, char *out, size_t size, off_t offset, struct fuse_file_info *fi)
{
  struct entry *e = find_entry (path);
  char text[512];
  int len;

  if (e == NULL)
    return -ENOENT;
  pthread_mutex_lock (&lock);
  len = render (e, text, sizeof text);
  pthread_mutex_unlock (&lock);
  if (len < 0)
    return len;
  if (offset >= len)
    return 0;
  if ((size_t) (len - offset) < size)
    size = (size_t) (len - offset);
  memcpy (out, text + offset, size);
  return (int) size;
}

static int
fs_write (const char *path, const char *data, size_t size, off_t offset,
          struct fuse_file_info *fi)
{
  struct entry *e = find_entry (path);
  uid_t caller = fuse_get_context ()->uid;
  char text[256], *end;
  long long value;
  int err = 0;

  if (e == NULL)
    return -ENOENT;
  if (caller != 0 && caller != server.root_uid)
    return -EACCES;
  if (offset != 0 || size >= sizeof text)
    return -EINVAL;
  memcpy (text, data, size);
  text[size] = '\0';
  text[strcspn (text, "\n")] = '\0';

  pthread_mutex_lock (&lock);
  if ((e->kind == HOSTNAME || e->kind == DOMAINNAME) && (err = enter_uts ()) < 0)
    ;
  else if (e->kind == HOSTNAME && sethostname (text, strlen (text)) < 0)
    err = -errno;
  else if (e->kind == DOMAINNAME && setdomainname (text, strlen (text)) < 0)
    err = -errno;
  else if (e->kind == SETTING)
    {
      errno = 0;
      value = strtoll (text, &end, 10);
      if (errno != 0 || end == text || *end != '\0' || value < e->min || value > e->max)
        err = -EINVAL;
      else
        snprintf (e->value, sizeof e->value, "%lld", value);
    }
  else if (e->kind != HOSTNAME && e->kind != DOMAINNAME && e->kind != SETTING)
    err = -EACCES;
  pthread_mutex_unlock (&lock);
  return err < 0 ? err : (int) size;
}

/* `echo 1 > file` truncates first; the value is replaced by the write that follows.  */
static int
fs_truncate (const char *path, off_t size, struct fuse_file_info *fi)
{
  return find_entry (path) != NULL ? 0 : -ENOENT;
}

static const struct fuse_operations operations = {
  .getattr = fs_getattr,
  .readdir = fs_readdir,
  .open = fs_open,
  .read = fs_read,
  .write = fs_write,
  .truncate = fs_truncate,
};

/* The host's value of each setting, which a container starts from.  */
static void
load_settings (void)
{
  for (size_t i = 0; i < NENTRIES; i++)
    {
      struct entry *e = &entries[i];
      FILE *f;

      if (e->kind != SETTING)
        continue;
      /* A setting the host kernel lacks (nf_conntrack_max without the module) reads as 0.  */
      snprintf (e->value, sizeof e->value, "0");
      f = fopen (e->path, "re");
      if (f == NULL)
        continue;
      if (fgets (e->value, sizeof e->value, f) != NULL)
        e->value[strcspn (e->value, "\n")] = '\0';
      fclose (f);
    }
}

/* A UUID that is this container's: FNV-1a of its id, twice, with the version bits of a
 * name-based UUID.  */
static void
make_uuid (const char *id)
{
  uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };

  for (int k = 0; k < 2; k++)
    for (const char *p = id; *p; p++)
      h[k] = (h[k] ^ (unsigned char) *p) * 0x100000001b3ULL;
  h[0] = (h[0] & ~0xf000ULL) | 0x5000ULL;
  h[1] = (h[1] & ~(0xc0ULL << 56)) | (0x80ULL << 56);
  snprintf (server.uuid, sizeof server.uuid,
            "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64, h[0] >> 32,
            (h[0] >> 16) & 0xffff, h[0] & 0xffff, h[1] >> 48, h[1] & (uint64_t) 0xffffffffffff);
}

/* Reads `pid N` from the runtime, then serves that init's UTS namespace and ends the server
 * when it exits; ends it at once if the runtime hangs up without a pid.  */
static void *
watch_init (void *arg)
{
  char line[64] = "";
  ssize_t n = read (STDIN_FILENO, line, sizeof line - 1);
  long pid = 0;
  int pidfd = -1;

  if (n > 0 && sscanf (line, "pid %ld", &pid) == 1 && pid > 0)
    pidfd = (int) syscall (SYS_pidfd_open, (pid_t) pid, 0);
  if (pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      char path[64];

      snprintf (path, sizeof path, "/proc/%ld/ns/uts", pid);
      pthread_mutex_lock (&lock);
      server.uts = open (path, O_RDONLY | O_CLOEXEC);
      pthread_mutex_unlock (&lock);
      while (poll (&pfd, 1, -1) < 0 && errno == EINTR)
        ;
    }
  fuse_exit (server.fuse);
  umount2 (server.mountpoint, MNT_DETACH);
  return NULL;
}

int
main (int argc, char **argv)
{
  /* Other users: the container's processes; their access is checked against the modes.  */
  char *fuse_argv[] = { argv[0], (char *) "-o",
                        (char *) "allow_other,default_permissions,fsname=sysbox-fs",
                        NULL };
  struct fuse_args args = FUSE_ARGS_INIT (3, fuse_argv);
  pthread_t watcher;
  char *end;

  if (argc != 4)
    {
      fprintf (stderr, "usage: sysbox-fs MOUNTPOINT ROOT_UID ID\n");
      return 2;
    }
  server.mountpoint = argv[1];
  server.root_uid = (uid_t) strtoul (argv[2], &end, 10);
  if (*end != '\0')
    {
      fprintf (stderr, "sysbox-fs: root uid `%s` is not a number\n", argv[2]);
      return 2;
    }
  clock_gettime (CLOCK_BOOTTIME, &server.started);
  clock_gettime (CLOCK_REALTIME, &server.started_real);
  server.idle_at_start = host_idle ();
  make_uuid (argv[3]);
  load_settings ();

  server.fuse = fuse_new (&args, &operations, sizeof operations, NULL);
  if (server.fuse == NULL || fuse_mount (server.fuse, server.mountpoint) != 0)
    {
      fprintf (stderr, "sysbox-fs: mount FUSE at `%s` failed\n", server.mountpoint);
      return 1;
    }
  printf ("ready\n");
  fflush (stdout);

  if (pthread_create (&watcher, NULL, watch_init, NULL) != 0)
    {
      fuse_unmount (server.fuse);
      return 1;
    }
  fuse_loop (server.fuse);
  fuse_unmount (server.fuse);
  fuse_destroy (server.fuse);
  return 0;
}
