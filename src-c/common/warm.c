/* Packets of the launcher-worker conversation: see warm.h.  */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "warm.h"

int
warm_add_field (struct warm_packet *p, const char *field)
{
  size_t n = strlen (field) + 1;

  if (p->len + n > sizeof p->data)
    return 0;
  memcpy (p->data + p->len, field, n);
  p->len += n;
  return 1;
}

int
warm_add_number (struct warm_packet *p, long long value)
{
  char text[32];

  snprintf (text, sizeof text, "%lld", value);
  return warm_add_field (p, text);
}

int
warm_send (int sock, const struct warm_packet *p)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * WARM_MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = (void *) p->data, .iov_len = p->len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (p->nfds > 0)
    {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * p->nfds);
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int) * p->nfds);
      memcpy (CMSG_DATA (cmsg), p->fds, sizeof (int) * p->nfds);
    }
  return sendmsg (sock, &msg, MSG_NOSIGNAL) == (ssize_t) p->len;
}

/* Receives one packet into `p` and splits it into fields; returns their count, 0 on end of
 * stream or a packet that is not NUL-terminated fields, -1 on error.  */
int
warm_recv (int sock, struct warm_packet *p, char **fields, int max_fields)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * WARM_MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = p->data, .iov_len = sizeof p->data };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  ssize_t n;
  int count = 0;

  p->nfds = 0;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;

  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        int k = (int) ((c->cmsg_len - CMSG_LEN (0)) / sizeof (int));

        memcpy (p->fds + p->nfds, CMSG_DATA (c), sizeof (int) * k);
        p->nfds += k;
      }

  p->len = (size_t) n;
  if (n == 0 || p->data[n - 1] != '\0' || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
    return 0;
  for (size_t at = 0; at < p->len; at += strlen (p->data + at) + 1)
    {
      if (count == max_fields)
        return 0;
      fields[count++] = p->data + at;
    }
  return count;
}

void
warm_close_fds (struct warm_packet *p)
{
  for (int i = 0; i < p->nfds; i++)
    close (p->fds[i]);
  p->nfds = 0;
}

