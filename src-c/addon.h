/* What the addon's source files share: the checking macro and the helpers that turn errno
 * into JavaScript errors.  */

#ifndef SYSBOX_ADDON_H
#define SYSBOX_ADDON_H

#include <node_api.h>

#define NAPI_CALL(env, call)                                                                   \
  do                                                                                           \
    {                                                                                          \
      if ((call) != napi_ok)                                                                   \
        {                                                                                      \
          throw_last_napi_error (env);                                                         \
          return NULL;                                                                         \
        }                                                                                      \
    }                                                                                          \
  while (0)

/* Arguments longer than this are refused: nothing the runtime passes comes close.  */
#define MAX_STRING 65536

void throw_last_napi_error (napi_env env);

/* Throws an Error whose code is the errno name and whose message names `what` and `path`.  */
napi_value throw_errno (napi_env env, int err, const char *what, const char *path);

/* Rejects an async call's promise the way throw_errno throws.  */
void reject_errno (napi_env env, napi_deferred deferred, int err, const char *message);

/* Makes the promise of an async call and queues its work on Node's thread pool.  */
napi_value queue_work (napi_env env, const char *label, napi_async_execute_callback execute,
                       napi_async_complete_callback complete, void *data, napi_async_work *work,
                       napi_deferred *deferred);

/* Copies a string argument into a malloc'd buffer, or throws and returns NULL.  */
char *get_string (napi_env env, napi_value value, const char *name);

/* Registers the warm-worker functions (warm-addon.c) on `exports`.  */
napi_value define_warm_functions (napi_env env, napi_value exports);

#endif
