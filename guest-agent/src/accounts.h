/* Users and groups by name from /etc/passwd and /etc/group (the agent is static: no NSS). */
#ifndef BATON_ACCOUNTS_H
#define BATON_ACCOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

/* One passwd or group line: when its first field is name, writes its third field (uid or gid)
 * and, for passwd (has_gid), its fourth (the primary gid). Returns 1 on a match, 0 when the
 * line is another account, -EINVAL when it names this account but is malformed. */
int parse_account_line(const char *line, const char *name, bool has_gid, unsigned *out_id,
                       unsigned *out_gid);

/* The user's uid and primary gid from root + /etc/passwd: 0, -ENOENT (no such user), -EINVAL
 * (its line is malformed) or -errno of opening the file. */
int lookup_user(const char *root, const char *name, uid_t *uid, gid_t *gid);
/* The group's gid from root + /etc/group, with the same results. */
int lookup_group(const char *root, const char *name, gid_t *gid);

/* What an app runs as. */
struct identity {
    bool is_set; /* false: as the agent (root) */
    uid_t uid;
    gid_t gid;
};

/* Resolves user (may be "") and group (may be "": the user's primary group, or root's) into
 * *out; 0, or -1 with "what failed" in err. */
int resolve_identity(const char *root, const char *user, const char *group,
                     struct identity *out, char *err, size_t cap);

#endif
