#ifndef SYSBOX_TREEHASH_H
#define SYSBOX_TREEHASH_H

#include <stddef.h>

#define TREE_HASH_SIZE 32

/* Hashes the tree at `root` into `out`.  Returns 0, or a negative errno with a message that
 * names the entry in `err`.  */
int tree_hash (const char *root, unsigned char out[TREE_HASH_SIZE], char *err, size_t errlen);

#endif
