/* An app's data disk: found by its virtio serial, mounted ext4, unmounted when the app ends. */
#include "disk.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "linux_abi.h"
#include "log.h"
#include "textfile.h"

/* A serial file holds at most 20 bytes; anything longer is not one we could match. */
#define SERIAL_FILE_MAX_BYTES 256

bool is_serial_match(const char *text, size_t len, const char *serial)
{
    while (len > 0 && (text[len - 1] == '\0' || isspace((unsigned char)text[len - 1]))) {
        len--;
    }
    while (len > 0 && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    return len == strlen(serial) && memcmp(text, serial, len) == 0;
}

int find_disk_by_serial(const char *root, const char *serial, char *name, size_t cap)
{
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, SYSFS_BLOCK_DIR);
    if (rc < 0) {
        return rc;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        return -errno;
    }
    size_t prefix_len = strlen(VIRTIO_BLOCK_PREFIX);
    rc = -ENOENT;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
        char text[SERIAL_FILE_MAX_BYTES];
        long len;
        if (strncmp(entry->d_name, VIRTIO_BLOCK_PREFIX, prefix_len) != 0 ||
            path_printf(path, sizeof(path), "%s%s/%s/%s", root, SYSFS_BLOCK_DIR, entry->d_name,
                        SYSFS_BLOCK_SERIAL_FILE) < 0 ||
            (len = read_text_file(path, text, sizeof(text))) < 0) {
            continue; /* not virtio, no serial, or gone again: not the disk we want */
        }
        if (is_serial_match(text, (size_t)len, serial)) {
            rc = path_printf(name, cap, "%s", entry->d_name);
            break;
        }
    }
    closedir(dir);
    return rc;
}

int make_dirs(const char *root, const char *path)
{
    char full[PATH_MAX];
    int rc = path_join(full, sizeof(full), root, path);
    if (rc < 0) {
        return rc;
    }
    /* Every prefix ending before a '/', then the whole path; existing ones are fine. */
    for (char *slash = strchr(full + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash) {
            *slash = '\0';
        }
        if (full[0] != '\0' && mkdir(full, DISK_MOUNT_DIR_MODE) < 0 && errno != EEXIST) {
            return -errno;
        }
        if (!slash) {
            return 0;
        }
        *slash = '/';
    }
}

int mount_disk(const char *root, const char *name, const char *mount_point, char *err,
               size_t cap)
{
    char device[PATH_MAX];
    char target[PATH_MAX];
    int rc = make_dirs(root, mount_point);
    if (rc < 0) {
        snprintf(err, cap, "creating mount point %s failed: %s", mount_point, strerror(-rc));
        return -1;
    }
    if (path_printf(device, sizeof(device), "%s%s/%s", root, DEV_DIR, name) < 0 ||
        path_join(target, sizeof(target), root, mount_point) < 0) {
        snprintf(err, cap, "mounting %s on %s failed: %s", name, mount_point,
                 strerror(ENAMETOOLONG));
        return -1;
    }
    if (mount(device, target, DISK_FS_TYPE, 0, NULL) < 0) {
        snprintf(err, cap, "mounting %s/%s (%s) on %s failed: %s", DEV_DIR, name, DISK_FS_TYPE,
                 mount_point, strerror(errno));
        return -1;
    }
    log_msg("mounted %s/%s on %s", DEV_DIR, name, mount_point);
    return 0;
}

void unmount_disk(const char *root, const char *mount_point)
{
    char target[PATH_MAX];
    if (path_join(target, sizeof(target), root, mount_point) < 0) {
        log_msg("unmounting %s failed: %s", mount_point, strerror(ENAMETOOLONG));
        return;
    }
    if (umount2(target, 0) == 0) {
        log_msg("unmounted %s", mount_point);
        return;
    }
    int err = errno;
    if (umount2(target, MNT_DETACH) == 0) {
        log_msg("unmounting %s failed: %s; detached it instead (MNT_DETACH)", mount_point,
                strerror(err));
    } else {
        log_msg("unmounting %s failed: %s; detaching failed too: %s", mount_point,
                strerror(err), strerror(errno));
    }
}
