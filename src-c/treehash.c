/* A SHA-256 digest of a directory tree: every name, kind, owner, mode, size, modification time,
 * device number, extended attribute, symlink target, hard link and byte of file content.
 *
 * The shared store of inner images is keyed by this digest, so two trees get the same key only
 * if a container could tell no difference between them.  Names are hashed in byte order, and
 * every field is written with its length, so that no two different trees feed the same bytes.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "treehash.h"

#define CHUNK (1 << 20)

/* What follows an entry's name, owner and mode: a tag, so that the two kinds of record never
 * read the same.  */
#define RECORD_LINK 1
#define RECORD_ENTRY 2
#define LINK_BUCKETS 4096

struct link_seen
{
  dev_t dev;
  ino_t ino;
  char *path;
  struct link_seen *next;
};

struct walk
{
  EVP_MD_CTX *tree;
  EVP_MD_CTX *file;
  unsigned char *buf;
  char *root;
  struct link_seen *links[LINK_BUCKETS];
  char *err;
  size_t errlen;
};

static int
fail (struct walk *w, int err, const char *what, const char *rel)
{
  snprintf (w->err, w->errlen, "%s `%s`: %s", what, *rel ? rel : ".", strerror (err));
  return -err;
}

static void
feed (struct walk *w, const void *data, size_t len)
{
  uint64_t n = len;

  EVP_DigestUpdate (w->tree, &n, sizeof n);
  EVP_DigestUpdate (w->tree, data, len);
}

static void
feed_u64 (struct walk *w, uint64_t v)
{
  EVP_DigestUpdate (w->tree, &v, sizeof v);
}

static void
feed_str (struct walk *w, const char *s)
{
  feed (w, s, strlen (s));
}

static int
by_name (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The first path of an inode with several links in this tree, or NULL when this is the first
 * (and then remembered under `rel`).  */
static const char *
first_link (struct walk *w, const struct stat *st, const char *rel)
{
  size_t b = (size_t) ((st->st_ino ^ st->st_dev) % LINK_BUCKETS);
  struct link_seen *l;

  for (l = w->links[b]; l != NULL; l = l->next)
    if (l->ino == st->st_ino && l->dev == st->st_dev)
      return l->path;

  l = malloc (sizeof *l);
  if (l == NULL || (l->path = strdup (rel)) == NULL)
    {
      free (l);
      return NULL;
    }
  l->dev = st->st_dev;
  l->ino = st->st_ino;
  l->next = w->links[b];
  w->links[b] = l;
  return NULL;
}

static int
feed_xattrs (struct walk *w, const char *abs, const char *rel)
{
  char *names = NULL, **sorted = NULL;
  ssize_t len, vlen;
  size_t count = 0;
  int rc = 0;

  len = llistxattr (abs, NULL, 0);
  if (len < 0)
    return errno == ENOTSUP ? 0 : fail (w, errno, "list the xattrs of", rel);
  if (len > 0)
    {
      names = malloc ((size_t) len);
      if (names == NULL || (len = llistxattr (abs, names, (size_t) len)) < 0)
        {
          rc = fail (w, names ? errno : ENOMEM, "list the xattrs of", rel);
          goto out;
        }
      for (ssize_t i = 0; i < len; i += (ssize_t) strlen (names + i) + 1)
        count++;
      sorted = calloc (count ? count : 1, sizeof *sorted);
      if (sorted == NULL)
        {
          rc = fail (w, ENOMEM, "list the xattrs of", rel);
          goto out;
        }
      count = 0;
      for (ssize_t i = 0; i < len; i += (ssize_t) strlen (names + i) + 1)
        sorted[count++] = names + i;
      qsort (sorted, count, sizeof *sorted, by_name);
    }

  feed_u64 (w, count);
  for (size_t i = 0; i < count; i++)
    {
      vlen = lgetxattr (abs, sorted[i], w->buf, CHUNK);
      if (vlen < 0)
        {
          rc = fail (w, errno, "read an xattr of", rel);
          goto out;
        }
      feed_str (w, sorted[i]);
      feed (w, w->buf, (size_t) vlen);
    }

out:
  free (sorted);
  free (names);
  return rc;
}

static int
feed_content (struct walk *w, int dirfd, const char *name, const char *rel)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  ssize_t n;
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    return fail (w, errno, "open", rel);
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  EVP_DigestInit_ex (w->file, EVP_sha256 (), NULL);
  while ((n = read (fd, w->buf, CHUNK)) > 0)
    EVP_DigestUpdate (w->file, w->buf, (size_t) n);
  if (n < 0)
    {
      int err = errno;
      close (fd);
      return fail (w, err, "read", rel);
    }
  close (fd);
  EVP_DigestFinal_ex (w->file, digest, &dlen);
  feed (w, digest, dlen);
  return 0;
}

static int walk_dir (struct walk *w, int dirfd, const char *rel);

static int
walk_entry (struct walk *w, int dirfd, const char *name, const char *rel)
{
  char *abs = NULL;
  struct stat st;
  int rc = 0;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return fail (w, errno, "stat", rel);
  if (asprintf (&abs, "%s/%s", w->root, rel) < 0)
    return fail (w, ENOMEM, "name", rel);

  feed_str (w, rel);
  feed_u64 (w, st.st_mode);
  feed_u64 (w, st.st_uid);
  feed_u64 (w, st.st_gid);

  if (! S_ISDIR (st.st_mode) && st.st_nlink > 1)
    {
      const char *first = first_link (w, &st, rel);
      if (first != NULL)
        {
          /* Another name of an inode already hashed: only where it points.  */
          feed_u64 (w, RECORD_LINK);
          feed_str (w, first);
          goto out;
        }
    }

  feed_u64 (w, RECORD_ENTRY);
  feed_u64 (w, (uint64_t) st.st_mtim.tv_sec);
  feed_u64 (w, (uint64_t) st.st_mtim.tv_nsec);
  rc = feed_xattrs (w, abs, rel);
  if (rc < 0)
    goto out;

  if (S_ISREG (st.st_mode))
    {
      feed_u64 (w, (uint64_t) st.st_size);
      rc = feed_content (w, dirfd, name, rel);
    }
  else if (S_ISLNK (st.st_mode))
    {
      ssize_t n = readlinkat (dirfd, name, (char *) w->buf, CHUNK);
      if (n < 0)
        rc = fail (w, errno, "read the symlink", rel);
      else
        feed (w, w->buf, (size_t) n);
    }
  else if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    {
      feed_u64 (w, major (st.st_rdev));
      feed_u64 (w, minor (st.st_rdev));
    }
  else if (S_ISDIR (st.st_mode))
    {
      int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        rc = fail (w, errno, "open the directory", rel);
      else
        rc = walk_dir (w, fd, rel);
      /* The end of a directory is hashed too, so that moving an entry up a level changes it.  */
      feed_str (w, "/");
    }

out:
  free (abs);
  return rc;
}

/* Takes ownership of `dirfd`.  */
static int
walk_dir (struct walk *w, int dirfd, const char *rel)
{
  DIR *dir = fdopendir (dirfd);
  struct dirent *e;
  char **names = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;

  if (dir == NULL)
    {
      int err = errno;
      close (dirfd);
      return fail (w, err, "read the directory", rel);
    }

  errno = 0;
  while ((e = readdir (dir)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (len == cap)
        {
          char **more = realloc (names, (cap = cap ? cap * 2 : 64) * sizeof *names);
          if (more == NULL)
            {
              rc = fail (w, ENOMEM, "read the directory", rel);
              goto out;
            }
          names = more;
        }
      if ((names[len] = strdup (e->d_name)) == NULL)
        {
          rc = fail (w, ENOMEM, "read the directory", rel);
          goto out;
        }
      len++;
    }
  qsort (names, len, sizeof *names, by_name);

  for (size_t i = 0; i < len && rc == 0; i++)
    {
      char *child = NULL;
      if (asprintf (&child, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0)
        {
          rc = fail (w, ENOMEM, "name", rel);
          break;
        }
      rc = walk_entry (w, dirfd, names[i], child);
      free (child);
    }

out:
  for (size_t i = 0; i < len; i++)
    free (names[i]);
  free (names);
  closedir (dir);
  return rc;
}

int
tree_hash (const char *root, unsigned char out[TREE_HASH_SIZE], char *err, size_t errlen)
{
  struct walk w = { .err = err, .errlen = errlen };
  unsigned int dlen = 0;
  struct stat st;
  int rc, fd;

  w.tree = EVP_MD_CTX_new ();
  w.file = EVP_MD_CTX_new ();
  w.buf = malloc (CHUNK);
  w.root = strdup (root);
  if (w.tree == NULL || w.file == NULL || w.buf == NULL || w.root == NULL)
    {
      rc = fail (&w, ENOMEM, "hash", root);
      goto out;
    }

  fd = open (root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      rc = fail (&w, errno, "open the directory", root);
      if (fd >= 0)
        close (fd);
      goto out;
    }

  EVP_DigestInit_ex (w.tree, EVP_sha256 (), NULL);
  /* The top directory's own owner, mode and xattrs belong to the tree as well; its times do
   * not, since it is made anew wherever the tree is put.  */
  feed_u64 (&w, st.st_mode);
  feed_u64 (&w, st.st_uid);
  feed_u64 (&w, st.st_gid);
  rc = feed_xattrs (&w, root, "");
  if (rc == 0)
    rc = walk_dir (&w, fd, "");
  else
    close (fd);
  if (rc == 0)
    EVP_DigestFinal_ex (w.tree, out, &dlen);

out:
  for (size_t b = 0; b < LINK_BUCKETS; b++)
    while (w.links[b] != NULL)
      {
        struct link_seen *next = w.links[b]->next;
        free (w.links[b]->path);
        free (w.links[b]);
        w.links[b] = next;
      }
  EVP_MD_CTX_free (w.tree);
  EVP_MD_CTX_free (w.file);
  free (w.buf);
  free (w.root);
  return rc;
}
