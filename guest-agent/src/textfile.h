/* Reading small /proc and /sys text files under the --root prefix into fixed buffers. */
#ifndef BATON_TEXTFILE_H
#define BATON_TEXTFILE_H

#include <stddef.h>
#include <stdint.h>

/* out = root + rel; returns 0, or -ENAMETOOLONG. */
int path_join(char *out, size_t cap, const char *root, const char *rel);

/* printf into out; returns 0, or -ENAMETOOLONG if it does not fit. */
int path_printf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads the whole file (NUL-terminated, at most cap - 1 bytes); returns its length or -errno
 * (-EFBIG if it does not fit). */
long read_text_file(const char *path, char *buf, size_t cap);

/* Parses text that is one unsigned integer apart from surrounding whitespace;
 * returns 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *text, int base, uint64_t *out);

/* Parses a sysfs entry name "<prefix><decimal>" (memory12, node3) exactly; returns 0 or
 * -EINVAL. */
int parse_numbered_name(const char *name, const char *prefix, unsigned *out_id);

#endif
