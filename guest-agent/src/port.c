/* Finding and opening the agent's channel: the virtio-serial port, or --port PATH. */
#include "port.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "linux_abi.h"
#include "log.h"
#include "textfile.h"

#define PORT_NAME_MAX_BYTES 256

int find_agent_port(const char *root, char *out, size_t cap)
{
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, SYSFS_VIRTIO_PORTS_DIR);
    if (rc < 0) {
        return rc;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        return -errno;
    }
    rc = -ENOENT;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
        char name[PORT_NAME_MAX_BYTES];
        if (entry->d_name[0] == '.' ||
            path_printf(path, sizeof(path), "%s%s/%s/%s", root, SYSFS_VIRTIO_PORTS_DIR,
                        entry->d_name, SYSFS_VIRTIO_PORT_NAME_FILE) < 0 ||
            read_text_file(path, name, sizeof(name)) < 0) {
            continue; /* unnamed or vanished ports are not ours */
        }
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, AGENT_PORT_NAME) == 0) {
            rc = path_printf(out, cap, "%s%s/%s", root, DEV_DIR, entry->d_name);
            break;
        }
    }
    closedir(dir);
    return rc;
}

static int connect_unix_socket(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? (close(fd), -EIO) : fd;
}

/* A tty (a pty in tests, a serial port by hand) must not echo, translate or buffer lines. */
static void make_raw_if_tty(int fd)
{
    struct termios attrs;
    if (!isatty(fd) || tcgetattr(fd, &attrs) < 0) {
        return;
    }
    cfmakeraw(&attrs);
    if (tcsetattr(fd, TCSANOW, &attrs) < 0) {
        log_msg("setting raw mode failed: %s", strerror(errno));
    }
}

int open_port(const char *path, struct port *port)
{
    struct stat st;
    bool is_socket = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    int fd = is_socket ? connect_unix_socket(path)
                       : open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return is_socket ? fd : -errno;
    }
    make_raw_if_tty(fd);
    port->fd = fd;
    port->is_socket = is_socket;
    return path_printf(port->path, sizeof(port->path), "%s", path) < 0 ? -ENAMETOOLONG : 0;
}

static int try_open(const struct agent_config *cfg, struct port *port)
{
    char path[PATH_MAX];
    int rc = 0;
    if (cfg->port_path) {
        rc = path_printf(path, sizeof(path), "%s", cfg->port_path);
    } else {
        rc = find_agent_port(cfg->root, path, sizeof(path));
    }
    return rc < 0 ? rc : open_port(path, port);
}

int open_port_step(const struct agent_config *cfg, struct port *port, struct port_retry *retry)
{
    const char *what = cfg->port_path ? cfg->port_path : AGENT_PORT_NAME;
    int64_t now_ms = monotonic_ms();
    if (!retry->is_retrying) {
        *retry = (struct port_retry){.is_retrying = true,
                                     .slow_after_ms = now_ms + PORT_FAST_RETRY_WINDOW_MS};
    }
    int rc = try_open(cfg, port);
    if (rc == 0) {
        if (cfg->port_path) {
            log_msg("opened %s", port->path);
        } else {
            log_msg("opened %s (port %s)", port->path, AGENT_PORT_NAME);
        }
        retry->is_retrying = false;
        return 0;
    }
    if (rc != retry->last_rc) {
        log_msg("waiting for port %s: %s", what, strerror(-rc));
        retry->last_rc = rc;
    }
    if (!retry->is_slow && now_ms >= retry->slow_after_ms) {
        log_msg("port %s still unavailable after %d ms; retrying every %d ms", what,
                PORT_FAST_RETRY_WINDOW_MS, PORT_SLOW_RETRY_MS);
        retry->is_slow = true;
    }
    return retry->is_slow ? PORT_SLOW_RETRY_MS : PORT_FAST_RETRY_MS;
}

enum port_link probe_port(const struct port *port)
{
    struct pollfd pfd = {.fd = port->fd, .events = POLLIN | POLLOUT};
    int ready = poll(&pfd, 1, 0);
    if (ready < 0) {
        return errno == EINTR ? PORT_LINK_DOWN : PORT_LINK_ERROR;
    }
    if (ready > 0 && (pfd.revents & POLLNVAL)) {
        return PORT_LINK_ERROR;
    }
    return ready > 0 && (pfd.revents & (POLLHUP | POLLERR)) ? PORT_LINK_DOWN : PORT_LINK_UP;
}

void close_port(struct port *port)
{
    if (port->fd >= 0) {
        close(port->fd);
    }
    port->fd = -1;
}
