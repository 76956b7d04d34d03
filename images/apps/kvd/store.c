/* kvd store: open-addressing hash table (linear probing, no deletes) and the append-only log. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

bool kv_key_valid(const char *key, size_t len)
{
    if (len < 1 || len > KV_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool kv_value_valid(const char *value, size_t len)
{
    if (len < 1 || len > KV_VALUE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

/* FNV-1a with a per-process seed and a final avalanche, so chosen keys cannot be aimed at one
 * probe chain in advance. */
static uint64_t hash_key(uint64_t seed, const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

int kv_store_init(struct kv_store *store, uint32_t max_keys)
{
    uint32_t slots = 2;
    while (slots < 2 * max_keys)
        slots *= 2;
    memset(store, 0, sizeof *store);
    store->slots = calloc(slots, sizeof *store->slots);
    if (!store->slots)
        return -1;
    store->mask = slots - 1;
    store->max_keys = max_keys;
    if (getrandom(&store->seed, sizeof store->seed, GRND_NONBLOCK) != (ssize_t)sizeof store->seed)
        store->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
    return 0;
}

/* The slot holding key, or the empty slot where it would go. The table is at most half full, so
 * the probe always ends. */
static struct kv_slot *find_slot(const struct kv_store *store, const char *key, size_t len,
                                 uint64_t hash)
{
    for (uint32_t i = (uint32_t)hash & store->mask;; i = (i + 1) & store->mask) {
        struct kv_slot *slot = &store->slots[i];
        if (!slot->data)
            return slot;
        if (slot->hash == hash && slot->key_len == len && memcmp(slot->data, key, len) == 0)
            return slot;
    }
}

const char *kv_get(const struct kv_store *store, const char *key, size_t key_len,
                   size_t *value_len)
{
    if (key_len < 1 || key_len > KV_KEY_MAX)
        return NULL;
    const struct kv_slot *slot = find_slot(store, key, key_len, hash_key(store->seed, key, key_len));
    if (!slot->data)
        return NULL;
    *value_len = slot->value_len;
    return slot->data + slot->key_len + 1;
}

static char *make_entry(const char *key, size_t key_len, const char *value, size_t value_len)
{
    char *data = malloc(key_len + 1 + value_len + 1);
    if (!data)
        return NULL;
    memcpy(data, key, key_len);
    data[key_len] = '\0';
    memcpy(data + key_len + 1, value, value_len);
    data[key_len + 1 + value_len] = '\0';
    return data;
}

static void install(struct kv_store *store, struct kv_slot *slot, char *data, uint64_t hash,
                    size_t key_len, size_t value_len)
{
    if (slot->data)
        free(slot->data);
    else
        store->count++;
    slot->data = data;
    slot->hash = hash;
    slot->key_len = (uint8_t)key_len;
    slot->value_len = (uint16_t)value_len;
}

/* Appends "key value\n" and fsyncs. A failed write is cut back off so the log stays well formed;
 * a failed fsync leaves the file's state unknown, so the log refuses further appends. */
static int log_append(struct kv_log *log, const char *key, size_t key_len, const char *value,
                      size_t value_len)
{
    char record[KV_KEY_MAX + 1 + KV_VALUE_MAX + 1];
    size_t len = key_len + 1 + value_len + 1, done = 0;
    memcpy(record, key, key_len);
    record[key_len] = ' ';
    memcpy(record + key_len + 1, value, value_len);
    record[len - 1] = '\n';
    while (done < len) {
        ssize_t n = write(log->fd, record + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            if (ftruncate(log->fd, log->size) != 0)
                log->failed = true;
            errno = saved;
            return -1;
        }
        done += (size_t)n;
    }
    if (fsync(log->fd) != 0) {
        log->failed = true;
        return -1;
    }
    log->size += (off_t)len;
    return 0;
}

enum kv_set_result kv_set(struct kv_store *store, struct kv_log *log, const char *key,
                          size_t key_len, const char *value, size_t value_len)
{
    if (log->failed) {
        errno = EIO;
        return KV_SET_IO;
    }
    uint64_t hash = hash_key(store->seed, key, key_len);
    struct kv_slot *slot = find_slot(store, key, key_len, hash);
    if (!slot->data && store->count >= store->max_keys)
        return KV_SET_FULL;
    char *data = make_entry(key, key_len, value, value_len);
    if (!data)
        return KV_SET_NOMEM;
    if (log_append(log, key, key_len, value, value_len) != 0) {
        int saved = errno;
        free(data);
        errno = saved;
        return KV_SET_IO;
    }
    install(store, slot, data, hash, key_len, value_len);
    return KV_SET_OK;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int kv_log_open(struct kv_log *log, const char *dir, const char **what)
{
    char path[PATH_MAX];
    memset(log, 0, sizeof *log);
    log->fd = -1;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, KV_LOG_NAME) >= sizeof path) {
        *what = "data directory path";
        errno = ENAMETOOLONG;
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT) {
            *what = "stat data directory";
            return -1;
        }
        /* A missing directory (one level) is created, and made durable in its parent. */
        if (mkdir(dir, 0755) != 0) {
            *what = "create data directory";
            return -1;
        }
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        if (fsync_dir(dirname(parent)) != 0) {
            *what = "fsync parent of data directory";
            return -1;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        *what = "data directory";
        errno = ENOTDIR;
        return -1;
    }
    log->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log->fd < 0) {
        *what = "open log";
        return -1;
    }
    if (flock(log->fd, LOCK_EX | LOCK_NB) != 0) {
        *what = "lock log";
        goto fail;
    }
    /* The log's directory entry must be durable before any write is acknowledged. Done on every
     * start, which also covers a previous run killed between creating the log and this fsync. */
    if (fsync_dir(dir) != 0) {
        *what = "fsync data directory";
        goto fail;
    }
    return 0;
fail:;
    int saved = errno;
    close(log->fd);
    log->fd = -1;
    errno = saved;
    return -1;
}

/* One complete log line (without its newline). */
static int replay_line(struct kv_store *store, const char *line, size_t len,
                       struct kv_replay *stats)
{
    const char *space = memchr(line, ' ', len);
    if (!space) {
        stats->malformed++;
        return 0;
    }
    size_t key_len = (size_t)(space - line), value_len = len - key_len - 1;
    const char *value = space + 1;
    if (!kv_key_valid(line, key_len) || !kv_value_valid(value, value_len)) {
        stats->malformed++;
        return 0;
    }
    uint64_t hash = hash_key(store->seed, line, key_len);
    struct kv_slot *slot = find_slot(store, line, key_len, hash);
    if (!slot->data && store->count >= store->max_keys) {
        errno = EOVERFLOW;
        return -1;
    }
    char *data = make_entry(line, key_len, value, value_len);
    if (!data)
        return -1;
    install(store, slot, data, hash, key_len, value_len);
    stats->records++;
    return 0;
}

int kv_log_replay(struct kv_log *log, struct kv_store *store, struct kv_replay *stats,
                  const char **what)
{
    static char buf[65536];
    size_t len = 0;     /* bytes in buf */
    off_t pos = 0;      /* file offset of buf[0] */
    off_t good_end = 0; /* file offset just past the last newline */
    bool skipping = false; /* inside a line longer than buf: drop it up to its newline */
    memset(stats, 0, sizeof *stats);
    if (lseek(log->fd, 0, SEEK_SET) != 0) {
        *what = "seek log";
        return -1;
    }
    for (;;) {
        ssize_t n = read(log->fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *what = "read log";
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        size_t start = 0;
        char *nl;
        while ((nl = memchr(buf + start, '\n', len - start))) {
            size_t line_len = (size_t)(nl - (buf + start));
            if (skipping) {
                stats->malformed++;
                skipping = false;
            } else if (replay_line(store, buf + start, line_len, stats) != 0) {
                *what = "load log";
                return -1;
            }
            start += line_len + 1;
            good_end = pos + (off_t)start;
        }
        if (start == 0 && len == sizeof buf) {
            skipping = true;
            pos += (off_t)len;
            len = 0;
        } else {
            memmove(buf, buf + start, len - start);
            pos += (off_t)start;
            len -= start;
        }
    }
    off_t end = pos + (off_t)len;
    if (end > good_end) {
        /* A record without its newline was never acknowledged: drop it, so the next append
         * starts on a line of its own. */
        if (ftruncate(log->fd, good_end) != 0 || fsync(log->fd) != 0) {
            *what = "truncate torn tail of log";
            return -1;
        }
        stats->torn_bytes = end - good_end;
    }
    log->size = good_end;
    return 0;
}
