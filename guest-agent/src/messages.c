/* Building the agent's outgoing JSON messages and serializing them into line buffers. */
#include "messages.h"

#include <stdio.h>
#include <string.h>

#include "linux_abi.h"
#include "log.h"
#include "sysinfo.h"

size_t serialize_line(json_t *msg, char *out, size_t cap)
{
    size_t len = msg ? json_dumpb(msg, out, cap - 2, JSON_COMPACT) : 0;
    if (len > 0 && len <= LINE_MAX_BYTES - 1 && len <= cap - 2) {
        json_decref(msg);
        out[len++] = '\n';
        out[len] = '\0';
        return len;
    }
    json_t *id = msg ? json_object_get(msg, "id") : NULL;
    int n;
    if (json_is_integer(id)) {
        n = snprintf(out, cap,
                     "{\"type\":\"reply\",\"id\":%" JSON_INTEGER_FORMAT ",\"ok\":false,"
                     "\"error\":{\"code\":\"internal\",\"message\":\"reply too long\"}}\n",
                     json_integer_value(id));
    } else {
        n = snprintf(out, cap, "{\"type\":\"error\",\"code\":\"internal\",\"message\":\"%s\"}\n",
                     msg ? "message too long" : "could not build message");
    }
    log_msg("could not serialize a message: %s", msg ? "too long" : "build failed");
    json_decref(msg);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

json_t *build_error(const char *code, const char *message)
{
    return json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", message);
}

json_t *build_reply_error(json_int_t id, const char *code, const char *message)
{
    return json_pack("{s:s, s:I, s:b, s:{s:s, s:s}}", "type", "reply", "id", id, "ok", 0,
                     "error", "code", code, "message", message);
}

json_t *build_reply_ok(json_int_t id, json_t *result)
{
    /* "o" steals result even when packing fails. */
    return json_pack("{s:s, s:I, s:b, s:o}", "type", "reply", "id", id, "ok", 1, "result",
                     result);
}

static json_int_t uptime_ms_or_zero(const struct agent_config *cfg)
{
    uint64_t uptime_ms = 0;
    int rc = read_uptime_ms(cfg->root, &uptime_ms);
    if (rc < 0) {
        log_msg("reading %s failed: %s", PROC_UPTIME_PATH, strerror(-rc));
    }
    return (json_int_t)uptime_ms;
}

/* [{ id, memTotalBytes[, memFreeBytes] }] */
static json_t *build_numa_nodes(const struct numa_nodes *nodes, bool has_free)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < nodes->count; i++) {
        const struct numa_node *node = &nodes->nodes[i];
        json_t *entry = json_pack("{s:I, s:I}", "id", (json_int_t)node->id, "memTotalBytes",
                                  (json_int_t)node->total_bytes);
        if (entry && has_free) {
            json_object_set_new(entry, "memFreeBytes", json_integer((json_int_t)node->free_bytes));
        }
        if (!entry || json_array_append_new(array, entry) < 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

json_t *build_hello(const struct agent_config *cfg)
{
    char boot_id[BOOT_ID_MAX_CHARS + 1] = "";
    char kernel_release[KERNEL_RELEASE_MAX_CHARS + 1] = "";
    struct mem_info mem = {0};
    uint64_t block_size_bytes = 0;
    struct numa_nodes nodes = {0};
    int rc;
    if ((rc = read_boot_id(cfg->root, boot_id, sizeof(boot_id))) < 0) {
        log_msg("hello: reading %s failed: %s", PROC_BOOT_ID_PATH, strerror(-rc));
    }
    if ((rc = read_kernel_release(cfg->root, kernel_release, sizeof(kernel_release))) < 0) {
        log_msg("hello: reading %s failed: %s", PROC_OSRELEASE_PATH, strerror(-rc));
    }
    bool has_virtio_mem = has_virtio_mem_driver(cfg->root);
    if (!has_virtio_mem) {
        log_msg("hello: no virtio_mem driver (%s missing): the host will refuse this guest",
                SYSFS_VIRTIO_MEM_DRIVER_DIR);
    }
    if ((rc = read_mem_info(cfg->root, &mem)) < 0) {
        log_msg("hello: reading %s failed: %s", PROC_MEMINFO_PATH, strerror(-rc));
    }
    if ((rc = read_memory_block_size(cfg->root, &block_size_bytes)) < 0) {
        log_msg("hello: reading %s failed: %s", SYSFS_MEMORY_BLOCK_SIZE_PATH, strerror(-rc));
    }
    if ((rc = read_numa_nodes(cfg->root, &nodes)) < 0) {
        log_msg("hello: reading %s failed: %s", SYSFS_NODE_DIR, strerror(-rc));
        nodes.count = 0;
    }
    if (nodes.is_truncated) {
        log_msg("hello: more than %d NUMA nodes; reporting the first %d", NUMA_NODES_MAX,
                NUMA_NODES_MAX);
    }
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:i, s:I, s:s, s:b}",
                     "type", "hello",
                     "agentVersion", AGENT_VERSION,
                     "bootId", boot_id,
                     "memTotalBytes", (json_int_t)mem.total_bytes,
                     "memoryBlockSizeBytes", (json_int_t)block_size_bytes,
                     "numaNodes", build_numa_nodes(&nodes, false),
                     "heartbeatMs", cfg->heartbeat_ms,
                     "uptimeMs", uptime_ms_or_zero(cfg),
                     "kernelRelease", kernel_release,
                     "virtioMem", has_virtio_mem);
}

json_t *build_heartbeat(const struct agent_config *cfg, uint64_t seq)
{
    return json_pack("{s:s, s:I, s:I}", "type", "heartbeat", "seq", (json_int_t)seq, "uptimeMs",
                     uptime_ms_or_zero(cfg));
}

json_t *build_mem_status(const struct agent_config *cfg, char *err, size_t err_cap)
{
    struct mem_info mem;
    uint64_t block_size_bytes;
    struct memory_blocks blocks;
    struct numa_nodes nodes;
    const char *source = PROC_MEMINFO_PATH;
    int rc = read_mem_info(cfg->root, &mem);
    if (rc == 0 && (rc = read_memory_block_size(cfg->root, &block_size_bytes)) < 0) {
        source = SYSFS_MEMORY_BLOCK_SIZE_PATH;
    }
    if (rc == 0 && (rc = count_memory_blocks(cfg->root, &blocks)) < 0) {
        source = SYSFS_MEMORY_DIR;
    }
    if (rc == 0 && (rc = read_numa_nodes(cfg->root, &nodes)) < 0) {
        source = SYSFS_NODE_DIR;
    }
    if (rc < 0) {
        snprintf(err, err_cap, "reading %s failed: %s", source, strerror(-rc));
        return NULL;
    }
    json_t *result = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                               "memTotalBytes", (json_int_t)mem.total_bytes,
                               "memFreeBytes", (json_int_t)mem.free_bytes,
                               "memAvailableBytes", (json_int_t)mem.available_bytes,
                               "memoryBlockSizeBytes", (json_int_t)block_size_bytes,
                               "blocksOnline", (json_int_t)blocks.online,
                               "blocksOffline", (json_int_t)blocks.offline,
                               "numaNodes", build_numa_nodes(&nodes, true));
    if (!result) {
        snprintf(err, err_cap, "out of memory");
    }
    return result;
}
