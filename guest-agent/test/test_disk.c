/* Tests for finding a disk by its virtio serial and creating mount points, in-process. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "disk.h"

static void test_serial_match_ignores_padding(void)
{
    CHECK(is_serial_match("kv-data", 7, "kv-data"));
    CHECK(is_serial_match("kv-data\n", 8, "kv-data"));
    CHECK(is_serial_match("kv-data \t\n", 10, "kv-data"));
    CHECK(is_serial_match("kv-data\0\0\0", 10, "kv-data"));
    CHECK(is_serial_match("  kv-data", 9, "kv-data"));
    CHECK(!is_serial_match("kv-dat", 6, "kv-data"));
    CHECK(!is_serial_match("kv-data2", 8, "kv-data"));
    CHECK(!is_serial_match("kv\0data", 7, "kv-data"));
    CHECK(!is_serial_match("kv\0data", 7, "kv"));
    CHECK(!is_serial_match("", 0, "kv-data"));
    CHECK(!is_serial_match("\n", 1, "kv-data"));
}

static void check_found(const char *serial, const char *expected)
{
    char name[DISK_NAME_MAX_BYTES] = "";
    int rc = find_disk_by_serial(test_env.fixtures_root, serial, name, sizeof(name));
    if (rc != 0 || strcmp(name, expected) != 0) {
        check_fail(__FILE__, __LINE__, "serial %s: rc %d, name \"%s\", wanted %s", serial, rc,
                   name, expected);
    }
}

static void test_disks_are_found_by_serial_in_the_fixture(void)
{
    check_found("boot-disk", "vda");   /* no newline */
    check_found("kv-data", "vdb");     /* trailing whitespace */
    check_found("padded", "vdc");      /* padded with NULs to 20 bytes */
    char name[DISK_NAME_MAX_BYTES];
    const char *root = test_env.fixtures_root;
    CHECK_INT_EQ(find_disk_by_serial(root, "scsi-disk", name, sizeof(name)), -ENOENT); /* sda */
    CHECK_INT_EQ(find_disk_by_serial(root, "missing", name, sizeof(name)), -ENOENT);
    CHECK_INT_EQ(find_disk_by_serial(root, "kv", name, sizeof(name)), -ENOENT);
    CHECK_INT_EQ(find_disk_by_serial("/nonexistent-baton-root", "kv-data", name, sizeof(name)),
                 -ENOENT);
}

static void test_make_dirs_creates_missing_parents(void)
{
    char root[] = "/tmp/baton-disk-test-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char path[PATH_MAX];
    struct stat st;
    CHECK_INT_EQ(make_dirs(root, "/data/apps/kv"), 0);
    snprintf(path, sizeof(path), "%s/data/apps/kv", root);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT_EQ(make_dirs(root, "/data/apps/kv/"), 0); /* existing, trailing slash */
    snprintf(path, sizeof(path), "%s/data/file", root);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    fclose(file);
    CHECK_INT_EQ(make_dirs(root, "/data/file/kv"), -ENOTDIR);
    char err[256];
    CHECK_INT_EQ(mount_disk(root, "vdb", "/data/file/kv", err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "creating mount point /data/file/kv failed: Not a directory");
    remove_tree(root);
}

void register_disk_tests(void)
{
    add_test("disk: a serial matches despite whitespace and NUL padding",
             test_serial_match_ignores_padding);
    add_test("disk: vd* disks are found by serial under /sys/block",
             test_disks_are_found_by_serial_in_the_fixture);
    add_test("disk: mount points are created with their parents",
             test_make_dirs_creates_missing_parents);
}
