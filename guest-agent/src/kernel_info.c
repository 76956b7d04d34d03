/* Readers for kernel facts: boot id, release, virtio-mem, uptime, and the baton.* keys on the command line. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "linux_abi.h"
#include "log.h"
#include "sysinfo.h"
#include "textfile.h"

/* The first line of a small /proc file under root, which must be non-empty and fit in cap. */
static int read_first_line(const char *root, const char *file, char *out, size_t cap)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_join(path, sizeof(path), root, file);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    text[strcspn(text, "\n")] = '\0';
    size_t id_len = strlen(text);
    if (id_len == 0 || id_len >= cap) {
        return -EINVAL;
    }
    memcpy(out, text, id_len + 1);
    return 0;
}

int read_boot_id(const char *root, char *out, size_t cap)
{
    return read_first_line(root, PROC_BOOT_ID_PATH, out, cap);
}

int read_kernel_release(const char *root, char *out, size_t cap)
{
    int rc = read_first_line(root, PROC_OSRELEASE_PATH, out, cap);
    if (rc < 0) {
        return rc;
    }
    /* Reported to the host as is: keep it printable ASCII. */
    for (char *c = out; *c != '\0'; c++) {
        if (*c < 0x20 || *c > 0x7e) {
            *c = '?';
        }
    }
    return 0;
}

bool has_virtio_mem_driver(const char *root)
{
    char path[PATH_MAX];
    struct stat st;
    return path_join(path, sizeof(path), root, SYSFS_VIRTIO_MEM_DRIVER_DIR) == 0 &&
           stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int read_uptime_ms(const char *root, uint64_t *out_ms)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_join(path, sizeof(path), root, PROC_UPTIME_PATH);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    /* "12345.67 ..." parsed as integers so no precision is lost. */
    if (!isdigit((unsigned char)text[0])) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long long seconds = strtoull(text, &end, 10);
    if (errno == ERANGE || seconds > UINT64_MAX / UPTIME_MS_PER_SECOND) {
        return -ERANGE;
    }
    uint64_t ms = seconds * UPTIME_MS_PER_SECOND;
    if (*end == '.') {
        uint64_t scale = UPTIME_MS_PER_SECOND / 10;
        for (const char *digit = end + 1; isdigit((unsigned char)*digit); digit++) {
            ms += (uint64_t)(*digit - '0') * scale;
            scale /= 10;
        }
    }
    *out_ms = ms;
    return 0;
}

/* The value of the last word starting with key (kernel parameters: the last one wins), or
 * NULL when no word does. */
static const char *find_cmdline_value(const char *cmdline, const char *key)
{
    size_t key_len = strlen(key);
    const char *value = NULL;
    for (const char *word = cmdline; *word != '\0';) {
        while (isspace((unsigned char)*word)) {
            word++;
        }
        if (strncmp(word, key, key_len) == 0) {
            value = word + key_len;
        }
        while (*word != '\0' && !isspace((unsigned char)*word)) {
            word++;
        }
    }
    return value;
}

static bool is_word_end(char c)
{
    return c == '\0' || isspace((unsigned char)c);
}

int parse_cmdline_heartbeat_ms(const char *cmdline, long *out_ms)
{
    const char *value = find_cmdline_value(cmdline, CMDLINE_HEARTBEAT_KEY);
    if (!value) {
        return 0;
    }
    size_t digits = strspn(value, "0123456789");
    if (digits == 0 || digits > 9 || !is_word_end(value[digits])) {
        return -EINVAL;
    }
    *out_ms = strtol(value, NULL, 10);
    return 1;
}

bool parse_cmdline_faults(const char *cmdline)
{
    const char *value = find_cmdline_value(cmdline, CMDLINE_FAULTS_KEY);
    size_t on_len = strlen(CMDLINE_FAULTS_ON);
    return value && strncmp(value, CMDLINE_FAULTS_ON, on_len) == 0 && is_word_end(value[on_len]);
}

int clamp_heartbeat_ms(long ms)
{
    if (ms < HEARTBEAT_MIN_MS) {
        return HEARTBEAT_MIN_MS;
    }
    return ms > HEARTBEAT_MAX_MS ? HEARTBEAT_MAX_MS : (int)ms;
}

int resolve_heartbeat_ms(const char *root, long option_ms)
{
    long ms = option_ms;
    const char *source = "--heartbeat-ms ";
    if (ms <= 0) {
        char path[PATH_MAX];
        char cmdline[PROC_CMDLINE_MAX_BYTES];
        int rc = path_join(path, sizeof(path), root, PROC_CMDLINE_PATH);
        long len = rc < 0 ? rc : read_text_file(path, cmdline, sizeof(cmdline));
        if (len < 0) {
            log_msg("reading %s failed: %s; heartbeat %d ms", PROC_CMDLINE_PATH,
                    strerror((int)-len), HEARTBEAT_DEFAULT_MS);
            return HEARTBEAT_DEFAULT_MS;
        }
        rc = parse_cmdline_heartbeat_ms(cmdline, &ms);
        if (rc < 0) {
            log_msg("ignoring %s: not a number; heartbeat %d ms", CMDLINE_HEARTBEAT_KEY,
                    HEARTBEAT_DEFAULT_MS);
        }
        if (rc <= 0) {
            return HEARTBEAT_DEFAULT_MS;
        }
        source = CMDLINE_HEARTBEAT_KEY;
    }
    int clamped = clamp_heartbeat_ms(ms);
    if (clamped != ms) {
        log_msg("%s%ld is outside %d..%d; heartbeat %d ms", source, ms, HEARTBEAT_MIN_MS,
                HEARTBEAT_MAX_MS, clamped);
    }
    return clamped;
}

bool resolve_faults_enabled(const char *root)
{
    char path[PATH_MAX];
    char cmdline[PROC_CMDLINE_MAX_BYTES];
    int rc = path_join(path, sizeof(path), root, PROC_CMDLINE_PATH);
    long len = rc < 0 ? rc : read_text_file(path, cmdline, sizeof(cmdline));
    if (len < 0) {
        log_msg("reading %s failed: %s; fault injection off", PROC_CMDLINE_PATH,
                strerror((int)-len));
        return false;
    }
    bool is_enabled = parse_cmdline_faults(cmdline);
    if (is_enabled) {
        log_msg("fault injection on (%s%s)", CMDLINE_FAULTS_KEY, CMDLINE_FAULTS_ON);
    }
    return is_enabled;
}
