/* The conversation between the launcher and a warm worker: a Node process of the runtime that
 * started ahead of time, waits on a socket, and runs one command for one launcher.
 *
 * Each message is one SOCK_SEQPACKET packet of NUL-terminated fields, the first naming it; a
 * packet may carry file descriptors.  In order:
 *
 *   launcher -> worker  request IDENTITY CWD UMASK ARGC ARGV... ENVC ENV...
 *   worker -> launcher  ready | stale | elsewhere
 *   launcher -> worker  go                                         + fds 0, 1, 2
 *   worker -> launcher  spawn PATH ARGC ARGV...      + the fds the child gets from 3 on
 *   launcher -> worker  pid N | failed MESSAGE
 *   launcher -> worker  exited N STATUS
 *   worker -> launcher  exit CODE
 *
 * `stale`: the worker loaded another build of the runtime; `elsewhere`: the launcher's
 * credentials, capabilities or namespaces are not the worker's.  Nothing runs before `go`:
 * until then either side may hang up and the launcher runs the command itself.  After it, the
 * launcher only relays: the container's processes must be its children, because the caller
 * (containerd's shim) reaps them as their subreaper.  */

#ifndef SYSBOX_WARM_H
#define SYSBOX_WARM_H

#define WARM_DIR "/run/sysbox-runc-warm"
#define WARM_SOCKET WARM_DIR "/socket"
#define WARM_LOCK WARM_DIR "/lock"

/* Packets are at most this long, and carry at most this many fds.  */
#define WARM_MAX_PACKET 131072
#define WARM_MAX_FDS 64

#include <stddef.h>

struct warm_packet
{
  char data[WARM_MAX_PACKET];
  size_t len;
  int fds[WARM_MAX_FDS];
  int nfds;
};

/* Append a field; 0 when the packet is full.  */
int warm_add_field (struct warm_packet *p, const char *field);
int warm_add_number (struct warm_packet *p, long long value);

/* Sends the packet and its fds; 0 on failure, with errno set.  */
int warm_send (int sock, const struct warm_packet *p);

/* Receives one packet, its fds close-on-exec, and points `fields` at its fields; returns their
 * count, 0 at end of stream or for a packet that is not NUL-terminated fields or has more than
 * `max_fields`, -1 on error.  */
int warm_recv (int sock, struct warm_packet *p, char **fields, int max_fields);

/* Closes the fds a received packet carried.  */
void warm_close_fds (struct warm_packet *p);

#endif
