/* The launcher's use of warm workers; see relay.c.  */

#ifndef SYSBOX_RELAY_H
#define SYSBOX_RELAY_H

/* Runs `command` in a warm worker and exits with its status; returns only when no worker took
 * it, having started one for the next command if none was there.  */
void relay_to_worker (const char *node, const char *script, const char *command, int argc,
                      char **argv);

/* Starts a worker in the background.  */
void start_worker (const char *node, const char *script);

#endif
