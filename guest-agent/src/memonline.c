/* Makes hot-plugged memory come online by itself: auto_online_blocks "offline" -> "online_movable". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "linux_abi.h"
#include "log.h"
#include "sysinfo.h"
#include "textfile.h"

/* "offline", "online", "online_kernel", "online_movable" and a newline. */
#define AUTO_ONLINE_MAX_BYTES 64

static int write_whole(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int rc = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
    close(fd);
    return rc;
}

int ensure_memory_auto_online(const char *root)
{
    char path[PATH_MAX];
    char text[AUTO_ONLINE_MAX_BYTES];
    int rc = path_join(path, sizeof(path), root, SYSFS_MEMORY_AUTO_ONLINE_PATH);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        if (len != -ENOENT) {
            log_msg("reading %s failed: %s; hot-plugged memory may stay offline",
                    SYSFS_MEMORY_AUTO_ONLINE_PATH, strerror((int)-len));
        }
        return (int)len;
    }
    text[strcspn(text, "\n")] = '\0';
    if (strcmp(text, MEMORY_AUTO_ONLINE_OFFLINE) != 0) {
        return 0;
    }
    rc = write_whole(path, MEMORY_AUTO_ONLINE_MOVABLE);
    if (rc < 0) {
        log_msg("writing %s to %s failed: %s; hot-plugged memory stays offline",
                MEMORY_AUTO_ONLINE_MOVABLE, SYSFS_MEMORY_AUTO_ONLINE_PATH, strerror(-rc));
        return rc;
    }
    log_msg("%s was %s; set to %s", SYSFS_MEMORY_AUTO_ONLINE_PATH, MEMORY_AUTO_ONLINE_OFFLINE,
            MEMORY_AUTO_ONLINE_MOVABLE);
    return 1;
}
