/* kvd line protocol: one request line in, one response line out. */
#ifndef KVD_PROTO_H
#define KVD_PROTO_H

#include <stddef.h>

#include "store.h"

#define KV_LINE_MAX 512      /* request bytes before "\n", not counting a final "\r" */
#define KV_RESPONSE_MAX 320  /* longest response line, "\n" included */

/* Handles one request line (without its "\n"; a final "\r" is dropped here) and writes the
 * response line, "\n" included, to out (KV_RESPONSE_MAX bytes). Returns the response length. */
size_t kv_handle_line(struct kv_store *store, struct kv_log *log, const char *line, size_t len,
                      char *out);

#endif
