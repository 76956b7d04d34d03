/* An app's data disk: found by its virtio serial, mounted ext4, unmounted when the app ends. */
#ifndef BATON_DISK_H
#define BATON_DISK_H

#include <stdbool.h>
#include <stddef.h>

/* Longest block device name the agent handles (vda, vdaa, ...). */
#define DISK_NAME_MAX_BYTES 32

/* Whether the contents of a sysfs serial file name serial: leading and trailing whitespace
 * and trailing NULs are ignored. */
bool is_serial_match(const char *text, size_t len, const char *serial);

/* Writes the name (vdX) of the virtio disk whose serial is serial under root/sys/block.
 * Returns 0, -ENOENT when there is none (yet), or another -errno. */
int find_disk_by_serial(const char *root, const char *serial, char *name, size_t cap);

/* Creates root + path and every missing parent; returns 0 or -errno. */
int make_dirs(const char *root, const char *path);

/* Creates root + mount_point if missing and mounts root/dev/<name> on it as ext4. Returns 0,
 * or -1 with "what failed: errno text" in err. */
int mount_disk(const char *root, const char *name, const char *mount_point, char *err,
               size_t cap);

/* Unmounts root + mount_point; when busy (or otherwise refused) detaches it lazily and logs
 * that. */
void unmount_disk(const char *root, const char *mount_point);

#endif
