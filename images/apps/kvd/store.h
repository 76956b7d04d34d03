/* kvd store: a fixed-capacity hash table in memory, made durable by an append-only log. */
#ifndef KVD_STORE_H
#define KVD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KV_KEY_MAX 64
#define KV_VALUE_MAX 256
#define KV_MAX_KEYS 65536 /* default and upper bound of --max-keys */
#define KV_LOG_NAME "kv.log"

struct kv_slot {
    char *data; /* "key\0value\0" in one allocation; NULL = empty slot */
    uint64_t hash;
    uint8_t key_len;
    uint16_t value_len;
};

struct kv_store {
    struct kv_slot *slots;
    uint32_t mask; /* slot count - 1 (a power of two, at least twice max_keys) */
    uint32_t count;
    uint32_t max_keys;
    uint64_t seed;
};

struct kv_log {
    int fd;
    off_t size;  /* bytes of well-formed records; every write lands here */
    bool failed; /* an fsync failed: nothing more is appended */
};

struct kv_replay {
    uint32_t records;   /* well-formed lines applied */
    uint32_t malformed; /* complete lines that were skipped */
    off_t torn_bytes;   /* unterminated tail cut off */
};

/* Keys: 1-64 of [A-Za-z0-9_.:-]. Values: 1-256 printable ASCII characters, no spaces. */
bool kv_key_valid(const char *key, size_t len);
bool kv_value_valid(const char *value, size_t len);

int kv_store_init(struct kv_store *store, uint32_t max_keys);
/* The value for key, or NULL; *value_len receives its length. */
const char *kv_get(const struct kv_store *store, const char *key, size_t key_len,
                   size_t *value_len);

enum kv_set_result { KV_SET_OK, KV_SET_FULL, KV_SET_NOMEM, KV_SET_IO };

/* Validated key and value: appends the record to the log (write + fsync) and only then updates
 * the table. Returns KV_SET_IO with errno set when the log could not be written. */
enum kv_set_result kv_set(struct kv_store *store, struct kv_log *log, const char *key,
                          size_t key_len, const char *value, size_t value_len);

/* Opens (creating it if needed, then fsyncing dir) dir/kv.log and takes an exclusive lock.
 * Returns 0, or -1 with errno set and *what naming the failed step (EWOULDBLOCK: another
 * process holds the lock). */
int kv_log_open(struct kv_log *log, const char *dir, const char **what);
/* Loads every record into store (last write wins) and cuts off a torn tail. Returns 0, or -1 with
 * errno set and *what naming the failed step (EOVERFLOW: more keys than max_keys). */
int kv_log_replay(struct kv_log *log, struct kv_store *store, struct kv_replay *stats,
                  const char **what);

#endif
