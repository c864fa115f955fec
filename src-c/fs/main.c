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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <fuse.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/kernel.h"

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

/* Takes a value written to `e`: the container's name, or a setting the kernel would accept.
 * Returns 0 or a negative errno.  */
static int
store (struct entry *e, const char *text)
{
  long long value;
  char *end;
  int err;

  switch (e->kind)
    {
    case HOSTNAME:
    case DOMAINNAME:
      err = enter_uts ();
      if (err < 0)
        return err;
      if ((e->kind == HOSTNAME ? sethostname (text, strlen (text))
                               : setdomainname (text, strlen (text)))
          < 0)
        return -errno;
      return 0;
    case SETTING:
      errno = 0;
      value = strtoll (text, &end, 10);
      if (errno != 0 || end == text || *end != '\0' || value < e->min || value > e->max)
        return -EINVAL;
      snprintf (e->value, sizeof e->value, "%lld", value);
      return 0;
    case UPTIME:
    case UUID:
      break;
    }
  return -EACCES;
}

static int
fs_write (const char *path, const char *data, size_t size, off_t offset,
          struct fuse_file_info *fi)
{
  struct entry *e = find_entry (path);
  uid_t caller = fuse_get_context ()->uid;
  char text[256];
  int err;

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
  err = store (e, text);
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

/* --- /proc and /sys for inner containers -------------------------------------------------------
 *
 * The container's mount(2) calls come here first (the init's mount-notify step).  A mount of a
 * new proc or sysfs is made here, as the caller would have made it (in its user, mount, network
 * and PID namespaces), with the served files bound over the kernel's; every other mount goes
 * on to the kernel untouched.  */

#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6

/* Copies a NUL-terminated string from the caller's memory; 0 if it is not one.  */
static int
read_string (pid_t pid, uint64_t addr, char *out, size_t size)
{
  struct iovec local = { .iov_base = out, .iov_len = size - 1 };
  struct iovec remote = { .iov_base = (void *) (uintptr_t) addr, .iov_len = size - 1 };
  ssize_t n;

  if (addr == 0)
    return 0;
  n = process_vm_readv (pid, &local, 1, &remote, 1, 0);
  if (n <= 0)
    return 0;
  out[n] = '\0';
  return strnlen (out, (size_t) n) < (size_t) n;
}

/* Whether the caller has CAP_SYS_ADMIN (in its own user namespace, which the kernel checks).  */
static int
may_mount (pid_t pid)
{
  char path[64], line[256];
  unsigned long long caps = 0;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, "CapEff: %llx", &caps) == 1)
      break;
  fclose (f);
  return (caps >> 21) & 1;
}

/* An O_PATH fd of the mount target as the caller names it: runc names its own fd through
 * /proc/self/fd, which must be the caller's; other absolute paths resolve in its root.  */
static int
open_target (pid_t pid, int rootfd, const char *target)
{
  char path[PATH_MAX];
  const char *rest = NULL;

  if (strncmp (target, "/proc/self/", 11) == 0)
    rest = target + 11;
  else if (strncmp (target, "/proc/thread-self/", 18) == 0)
    rest = target + 18;
  if (rest != NULL)
    {
      if (snprintf (path, sizeof path, "/proc/%d/%s", pid, rest) >= (int) sizeof path)
        return -1;
      return open (path, O_PATH | O_CLOEXEC);
    }
  if (target[0] != '/')
    return -1;
  struct sb_open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = SB_RESOLVE_IN_ROOT };
  return sb_openat2 (rootfd, target, &how);
}

static unsigned long
mount_attrs (uint64_t flags)
{
  unsigned long attrs = 0;

  if (flags & MS_RDONLY)
    attrs |= 0x1;
  if (flags & MS_NOSUID)
    attrs |= 0x2;
  if (flags & MS_NODEV)
    attrs |= 0x4;
  if (flags & MS_NOEXEC)
    attrs |= 0x8;
  return attrs;
}

/* A new, detached mount of `type` with `options` (comma-separated, as mount(2) takes them).
 * Returns its fd, or -1 with errno set.  */
static int
new_mount (const char *type, const char *options, uint64_t flags)
{
  char opts[256], *save = NULL;
  int fs;

  fs = (int) syscall (SYS_fsopen, type, 1 /* FSOPEN_CLOEXEC */);
  if (fs < 0)
    return -1;
  snprintf (opts, sizeof opts, "%s", options);
  for (char *o = strtok_r (opts, ",", &save); o != NULL; o = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (o, '=');

      if (eq != NULL)
        *eq = '\0';
      if (syscall (SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o,
                   eq ? eq + 1 : NULL, 0)
          < 0)
        return -1;
    }
  if (syscall (SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return -1;
  return (int) syscall (SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, mount_attrs (flags));
}

/* Binds the detached mount `from` over `name` below `dir`.  */
static int
bind_over (int from, int dir, const char *name)
{
  int file = openat (dir, name, O_PATH | O_CLOEXEC);
  int rc;

  if (file < 0)
    return -1;
  rc = sb_move_mount (from, "", file, "", SB_MOVE_MOUNT_F_EMPTY_PATH | 0x40 /* T_EMPTY */);
  close (file);
  return rc;
}

#define MAX_GRAFTED 256

/* The sysfs of a machine without DMI: a tmpfs over devices/virtual holding binds of what it
 * held, plus dmi/id/product_uuid with the served file over it (as the init's graft step).  */
static int
graft_uuid (int sys, int uuid)
{
  int virt = openat (sys, "devices/virtual", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int trees[MAX_GRAFTED], n = 0, tmp, id, file;
  char names[MAX_GRAFTED][256];
  struct dirent *e;
  DIR *dir;

  if (virt < 0 || (dir = fdopendir (dup (virt))) == NULL)
    return -1;
  while ((e = readdir (dir)) != NULL && n < MAX_GRAFTED)
    {
      if (e->d_name[0] == '.' || e->d_type != DT_DIR || strlen (e->d_name) >= 256)
        continue;
      trees[n] = sb_open_tree (virt, e->d_name,
                               SB_OPEN_TREE_CLONE | SB_OPEN_TREE_CLOEXEC | SB_AT_RECURSIVE);
      if (trees[n] < 0)
        continue;
      strcpy (names[n++], e->d_name);
    }
  closedir (dir);

  tmp = new_mount ("tmpfs", "mode=755", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (tmp < 0 || sb_move_mount (tmp, "", virt, "", SB_MOVE_MOUNT_F_EMPTY_PATH | 0x40) < 0)
    return -1;
  for (int i = 0; i < n; i++)
    {
      if (mkdirat (tmp, names[i], 0755) < 0
          || sb_move_mount (trees[i], "", tmp, names[i], SB_MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return -1;
      close (trees[i]);
    }
  if (mkdirat (tmp, "dmi", 0755) < 0 || mkdirat (tmp, "dmi/id", 0755) < 0)
    return -1;
  id = openat (tmp, "dmi/id", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  file = id < 0 ? -1 : openat (id, "product_uuid", O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (file < 0)
    return -1;
  close (file);
  return bind_over (uuid, id, "product_uuid");
}

/* In a child in the caller's namespaces: a new proc or sysfs on `target`, the served files over
 * the kernel's.  Returns an errno value.  */
static int
mount_here (const char *type, int target, const char *options, uint64_t flags,
            const int *served)
{
  int mnt = new_mount (type, options, flags);

  if (mnt < 0 || sb_move_mount (mnt, "", target, "", SB_MOVE_MOUNT_F_EMPTY_PATH | 0x40) < 0)
    return errno;

  for (size_t i = 0; i < NENTRIES; i++)
    {
      const char *root = strcmp (type, "proc") == 0 ? "/proc/" : "/sys/";
      const char *rel = entries[i].path + strlen (root);

      if (served[i] < 0 || strncmp (entries[i].path, root, strlen (root)) != 0)
        continue;
      /* A file this kernel lacks is left out, but for the DMI id, which is made.  */
      if (bind_over (served[i], mnt, rel) < 0 && entries[i].kind == UUID && errno == ENOENT
          && graft_uuid (mnt, served[i]) < 0)
        return errno;
    }
  return 0;
}

/* Joins the caller's user, mount, network and PID namespaces in a child (the server has
 * threads, and setns into a user namespace wants one; a sysfs shows the network namespace of
 * whoever mounts it), then mounts in a grandchild, which is in the PID namespace.  Returns an
 * errno value.  */
static int
mount_for (pid_t pid, const char *type, int target, const char *options, uint64_t flags,
           const int *served)
{
  static const char *const kinds[] = { "user", "mnt", "net", "pid" };
  static const int types[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID };
  int ns[4], status = 0;
  pid_t child;

  for (int i = 0; i < 4; i++)
    {
      char path[64];

      snprintf (path, sizeof path, "/proc/%d/ns/%s", pid, kinds[i]);
      ns[i] = open (path, O_RDONLY | O_CLOEXEC);
      if (ns[i] < 0)
        return errno;
    }
  child = fork ();
  if (child == 0)
    {
      pid_t inner;

      for (int i = 0; i < 4; i++)
        /* EINVAL: the namespace is this process's own (the user one of a caller on the host).  */
        if (setns (ns[i], types[i]) < 0 && errno != EINVAL)
          _exit (errno);
      /* Root of the caller's user namespace: host root has no ID there, and files made in a
       * grafted tmpfs need an owner that has one.  */
      setgroups (0, NULL);
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        _exit (errno);
      inner = fork ();
      if (inner == 0)
        _exit (mount_here (type, target, options, flags, served));
      if (inner < 0 || waitpid (inner, &status, 0) < 0)
        _exit (EIO);
      _exit (WIFEXITED (status) ? WEXITSTATUS (status) : EIO);
    }
  for (int i = 0; i < 4; i++)
    close (ns[i]);
  if (child < 0 || waitpid (child, &status, 0) < 0)
    return EIO;
  return WIFEXITED (status) ? WEXITSTATUS (status) : EIO;
}

/* Answers one trapped mount(2): 0 to let the kernel do it, or the result of doing it here.  */
static void
handle_mount (int listener, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
  pid_t pid = (pid_t) req->pid;
  uint64_t flags = req->data.args[3];
  char fstype[32], target[PATH_MAX], options[256] = "";
  int served[NENTRIES], rootfd, fd, err;

  resp->id = req->id;
  resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (! read_string (pid, req->data.args[2], fstype, sizeof fstype)
      || (strcmp (fstype, "proc") != 0 && strcmp (fstype, "sysfs") != 0)
      || (flags & (MS_BIND | MS_REMOUNT | MS_MOVE)) || ! may_mount (pid)
      || ! read_string (pid, req->data.args[1], target, sizeof target))
    return;
  if (req->data.args[4] != 0 && ! read_string (pid, req->data.args[4], options, sizeof options))
    return;

  char path[64];
  snprintf (path, sizeof path, "/proc/%d/root", pid);
  rootfd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  fd = rootfd < 0 ? -1 : open_target (pid, rootfd, target);
  /* The fds above are the caller's only if it is still the one that asked.  */
  if (fd < 0 || ioctl (listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
    {
      if (rootfd >= 0)
        close (rootfd);
      if (fd >= 0)
        close (fd);
      return;
    }

  for (size_t i = 0; i < NENTRIES; i++)
    {
      char file[PATH_MAX];

      served[i] = -1;
      snprintf (file, sizeof file, "%s%s", server.mountpoint, entries[i].path);
      served[i] = sb_open_tree (AT_FDCWD, file, SB_OPEN_TREE_CLONE | SB_OPEN_TREE_CLOEXEC);
    }
  err = mount_for (pid, fstype, fd, options, flags, served);
  for (size_t i = 0; i < NENTRIES; i++)
    if (served[i] >= 0)
      close (served[i]);
  close (fd);
  close (rootfd);

  resp->flags = 0;
  resp->val = 0;
  resp->error = err ? -err : 0;
}

/* Receives the mount filter's listener on fd 3, then answers what it traps until every process
 * that has the filter is gone.  */
static void *
serve_mounts (void *arg)
{
  char cbuf[CMSG_SPACE (sizeof (int))], name[16];
  struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  struct seccomp_notif_sizes sizes;
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  int listener = -1;

  if (recvmsg (3, &msg, MSG_CMSG_CLOEXEC) <= 0 || CMSG_FIRSTHDR (&msg) == NULL)
    return NULL;
  memcpy (&listener, CMSG_DATA (CMSG_FIRSTHDR (&msg)), sizeof listener);
  close (3);
  /* The kernel's structures may be larger than this program's; it says how large.  */
  if (syscall (SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    return NULL;
  req = calloc (1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
  resp = calloc (1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp
                                                             : sizeof *resp);
  if (req == NULL || resp == NULL)
    return NULL;
  for (;;)
    {
      /* The kernel wants an empty buffer each time.  */
      memset (req, 0, sizes.seccomp_notif);
      if (ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
        {
          /* ENOENT: the caller died before its call was read.  */
          if (errno == EINTR || errno == ENOENT)
            continue;
          break;
        }
      memset (resp, 0, sizes.seccomp_notif_resp);
      handle_mount (listener, req, resp);
      /* ENOENT: the caller was killed meanwhile; nothing waits for the answer.  */
      ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
    }
  free (req);
  free (resp);
  close (listener);
  return NULL;
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
  pthread_t watcher, mounts;
  struct stat sb;
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
  /* Fd 3, when given, is where the container's mount filter will come from.  */
  if (fstat (3, &sb) == 0 && S_ISSOCK (sb.st_mode)
      && pthread_create (&mounts, NULL, serve_mounts, NULL) != 0)
    {
      fuse_unmount (server.fuse);
      return 1;
    }
  fuse_loop (server.fuse);
  fuse_unmount (server.fuse);
  fuse_destroy (server.fuse);
  return 0;
}
