/* Users and groups by name from /etc/passwd and /etc/group (the agent is static: no NSS). */
#include "accounts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "linux_abi.h"
#include "textfile.h"

/* A field of decimal digits only, at most ACCOUNT_ID_MAX. */
static bool parse_id(const char *start, size_t len, unsigned *out)
{
    if (len == 0 || len > 10) {
        return false;
    }
    unsigned long long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (start[i] < '0' || start[i] > '9') {
            return false;
        }
        value = value * 10 + (unsigned)(start[i] - '0');
    }
    if (value > ACCOUNT_ID_MAX) {
        return false;
    }
    *out = (unsigned)value;
    return true;
}

int parse_account_line(const char *line, const char *name, bool has_gid, unsigned *out_id,
                       unsigned *out_gid)
{
    size_t name_len = strlen(name);
    if (strncmp(line, name, name_len) != 0 || line[name_len] != ':') {
        return 0;
    }
    /* Fields 2 (password), 3 (id), 4 (gid for passwd, members for group). */
    const char *fields[4] = {line + name_len + 1, NULL, NULL, NULL};
    for (size_t i = 1; i < 4; i++) {
        const char *colon = strchr(fields[i - 1], ':');
        if (!colon) {
            break;
        }
        fields[i] = colon + 1;
    }
    if (!fields[1] || (has_gid && !fields[2])) {
        return -EINVAL;
    }
    size_t id_len = strcspn(fields[1], ":\n");
    if (!parse_id(fields[1], id_len, out_id)) {
        return -EINVAL;
    }
    if (has_gid && (!fields[3] || !parse_id(fields[2], strcspn(fields[2], ":\n"), out_gid))) {
        return -EINVAL;
    }
    return 1;
}

/* Finds name in root + rel; the first matching line counts, as for getpwnam. */
static int lookup(const char *root, const char *rel, const char *name, bool has_gid,
                  unsigned *id, unsigned *gid)
{
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, rel);
    if (rc < 0) {
        return rc;
    }
    FILE *file = fopen(path, "re");
    if (!file) {
        return -errno;
    }
    char line[ACCOUNT_LINE_MAX_BYTES];
    bool is_skipping = false; /* the rest of an overlong line */
    rc = -ENOENT;
    while (rc == -ENOENT && fgets(line, sizeof(line), file)) {
        bool is_whole = strchr(line, '\n') != NULL || feof(file);
        if (!is_skipping && is_whole) {
            int found = parse_account_line(line, name, has_gid, id, gid);
            rc = found == 1 ? 0 : found < 0 ? found : -ENOENT;
        }
        is_skipping = !is_whole;
    }
    fclose(file);
    return rc;
}

int lookup_user(const char *root, const char *name, uid_t *uid, gid_t *gid)
{
    unsigned id = 0;
    unsigned group = 0;
    int rc = lookup(root, ETC_PASSWD_PATH, name, true, &id, &group);
    *uid = (uid_t)id;
    *gid = (gid_t)group;
    return rc;
}

int lookup_group(const char *root, const char *name, gid_t *gid)
{
    unsigned id = 0;
    int rc = lookup(root, ETC_GROUP_PATH, name, false, &id, NULL);
    *gid = (gid_t)id;
    return rc;
}

static int describe(int rc, const char *what, const char *name, const char *file, char *err,
                    size_t cap)
{
    if (rc == -ENOENT) {
        snprintf(err, cap, "%s %s is not in %s", what, name, file);
    } else if (rc == -EINVAL) {
        snprintf(err, cap, "the line of %s %s in %s is malformed", what, name, file);
    } else {
        snprintf(err, cap, "reading %s for %s %s failed: %s", file, what, name, strerror(-rc));
    }
    return -1;
}

int resolve_identity(const char *root, const char *user, const char *group,
                     struct identity *out, char *err, size_t cap)
{
    *out = (struct identity){.is_set = user[0] != '\0' || group[0] != '\0'};
    int rc;
    if (user[0] != '\0' && (rc = lookup_user(root, user, &out->uid, &out->gid)) < 0) {
        return describe(rc, "user", user, ETC_PASSWD_PATH, err, cap);
    }
    if (group[0] != '\0' && (rc = lookup_group(root, group, &out->gid)) < 0) {
        return describe(rc, "group", group, ETC_GROUP_PATH, err, cap);
    }
    return 0;
}
