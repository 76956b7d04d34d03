/* The app messages the agent sends unsolicited (app.ready, app.exited, mem.request) and the
 * app.stop result. */
#include <sys/wait.h>

#include "apps.h"

static json_t *exit_code(const struct app *app)
{
    return WIFEXITED(app->wait_status) ? json_integer(WEXITSTATUS(app->wait_status))
                                       : json_null();
}

static json_t *exit_signal(const struct app *app)
{
    return WIFSIGNALED(app->wait_status) ? json_integer(WTERMSIG(app->wait_status))
                                         : json_null();
}

json_t *build_app_exited(const struct app *app)
{
    return json_pack("{s:s, s:s, s:i, s:o, s:o, s:s}", "type", "app.exited", "name",
                     app->spec.name, "pid", (int)app->pid, "code", exit_code(app), "signal",
                     exit_signal(app), "severity", app->severity);
}

json_t *build_app_exit_result(const struct app *app)
{
    return json_pack("{s:s, s:o, s:o}", "name", app->spec.name, "code", exit_code(app),
                     "signal", exit_signal(app));
}

json_t *build_app_ready(const struct app *app)
{
    return json_pack("{s:s, s:s, s:i}", "type", "app.ready", "name", app->spec.name, "pid",
                     (int)app->pid);
}

json_t *build_mem_request(const struct app *app)
{
    return json_pack("{s:s, s:s, s:I}", "type", "mem.request", "app", app->spec.name, "bytes",
                     (json_int_t)app->mem_request_bytes);
}
