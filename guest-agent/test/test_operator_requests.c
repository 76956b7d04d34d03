/* In-process tests of the operator-app fields (v3): user, group, env, workdir, unit, disk
 * owner and prepare, health kinds; passwd/group lines; http status lines; paths. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "accounts.h"
#include "answer.h"
#include "check.h"
#include "health.h"
#include "request_fields.h"

#define START(fields) "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\"," fields "}"
#define ARGV "\"argv\":[\"/usr/bin/kv\"]"
#define HEALTH(fields) \
    START(ARGV ",\"health\":{\"port\":80,\"intervalMs\":100,\"timeoutMs\":100," fields "}")
#define ACCOUNT_RULE "must be a name of 1-32 characters [A-Za-z0-9_.-]"
#define UNIT_RULE                                                                             \
    "unit must be a systemd service name of 1-255 characters [A-Za-z0-9:_.\\@-] ending in " \
    ".service"

static void rejected(const char *file, int at, const char *line, const char *message)
{
    check_failure(file, at, line, 1, "bad-request", message);
}
#define REJECTED(line, message) rejected(__FILE__, __LINE__, line, message)

static json_t *parsed(const char *line, struct app_spec *spec)
{
    json_t *request = json_loads(line, 0, NULL);
    char err[256] = "";
    CHECK(request != NULL);
    if (!parse_app_start(request, spec, err, sizeof(err))) {
        check_fail(__FILE__, __LINE__, "refused %s: %s", line, err);
    }
    return request;
}

static void test_identity_fields(void)
{
    REJECTED(START(ARGV ",\"user\":\"\""), "user " ACCOUNT_RULE);
    REJECTED(START(ARGV ",\"user\":\"-rf\""), "user " ACCOUNT_RULE);
    REJECTED(START(ARGV ",\"user\":\"a:b\""), "user " ACCOUNT_RULE);
    REJECTED(START(ARGV ",\"group\":\"abcdefghijklmnopqrstuvwxyz0123456\""),
             "group " ACCOUNT_RULE);
    REJECTED(START(ARGV ",\"workdir\":\"var/lib\""),
             "workdir must be an absolute path of at most 256 bytes without ..");
    REJECTED(START(ARGV ",\"workdir\":\"/var/../etc\""),
             "workdir must be an absolute path of at most 256 bytes without ..");
    REJECTED(START(ARGV ",\"env\":{\"A\":\"b\"}"), "env must be an array of 0-32 strings");
    REJECTED(START(ARGV ",\"env\":[\"NOEQUALS\"]"),
             "env[0] must be KEY=VALUE with KEY of [A-Za-z0-9_]");
    REJECTED(START(ARGV ",\"env\":[\"A=1\",\"=x\"]"),
             "env[1] must be KEY=VALUE with KEY of [A-Za-z0-9_]");
    REJECTED(START(ARGV ",\"env\":[\"1A=x\"]"),
             "env[0] must be KEY=VALUE with KEY of [A-Za-z0-9_]");
    REJECTED(START(ARGV ",\"env\":[\"A-B=x\"]"),
             "env[0] must be KEY=VALUE with KEY of [A-Za-z0-9_]");
    struct app_spec spec;
    json_t *request = parsed(START(ARGV ",\"user\":\"redis\",\"group\":\"www-data\","
                                        "\"env\":[\"A=1\",\"B_2=x=y\",\"C=\"],"
                                        "\"workdir\":\"/var/lib/redis\""),
                             &spec);
    CHECK_STR_EQ(spec.user, "redis");
    CHECK_STR_EQ(spec.group, "www-data");
    CHECK_INT_EQ(spec.env.count, 3);
    CHECK_STR_EQ(string_at(&spec.env, 1), "B_2=x=y");
    CHECK_STR_EQ(spec.workdir, "/var/lib/redis");
    CHECK_STR_EQ(spec.unit, "");
    json_decref(request);
}

static void test_unit_fields(void)
{
    REJECTED(START("\"unit\":\"redis\""), UNIT_RULE);
    REJECTED(START("\"unit\":\"-x.service\""), UNIT_RULE);
    REJECTED(START("\"unit\":\"a b.service\""), UNIT_RULE);
    REJECTED(START("\"unit\":\"a/b.service\""), UNIT_RULE);
    REJECTED(START("\"unit\":\"redis.socket\""), UNIT_RULE);
    REJECTED(START("\"unit\":\".service\""), UNIT_RULE);
    REJECTED(START("\"unit\":\"a.service\",\"user\":\"redis\""),
             "user is for argv apps; a unit sets it in its own file");
    REJECTED(START("\"unit\":\"a.service\",\"env\":[]"),
             "env is for argv apps; a unit sets it in its own file");
    struct app_spec spec;
    json_t *request = parsed(START("\"unit\":\"postgresql@15-main.service\""), &spec);
    CHECK_STR_EQ(spec.unit, "postgresql@15-main.service");
    CHECK_INT_EQ(spec.argc, 0);
    json_decref(request);
}

static void test_disk_owner_and_prepare(void)
{
#define DISK(fields) START(ARGV ",\"disk\":{\"serial\":\"d\",\"mountPoint\":\"/srv/d\"," fields "}")
#define OWNER_RULE \
    "disk.owner must be user or user:group (names of 1-32 characters [A-Za-z0-9_.-])"
    REJECTED(DISK("\"owner\":\"\""), OWNER_RULE);
    REJECTED(DISK("\"owner\":\":g\""), OWNER_RULE);
    REJECTED(DISK("\"owner\":\"u:\""), OWNER_RULE);
    REJECTED(DISK("\"owner\":\"u:g:h\""), OWNER_RULE);
    REJECTED(DISK("\"owner\":7"), OWNER_RULE);
    REJECTED(DISK("\"prepare\":[]"), "disk.prepare must be an array of 1-32 strings");
    REJECTED(DISK("\"prepare\":[\"initdb\"]"),
             "disk.prepare[0] must be an absolute path without ..");
    struct app_spec spec;
    json_t *request = parsed(DISK("\"owner\":\"postgres:postgres\",\"prepare\":["
                                  "\"/usr/bin/initdb\",\"-D\",\"/srv/d/main\"]"),
                             &spec);
    CHECK_STR_EQ(spec.mount_point, "/srv/d");
    CHECK_STR_EQ(spec.owner_user, "postgres");
    CHECK_STR_EQ(spec.owner_group, "postgres");
    CHECK_INT_EQ(spec.prepare.count, 3);
    CHECK_STR_EQ(string_at(&spec.prepare, 2), "/srv/d/main");
    json_decref(request);
    request = parsed(DISK("\"owner\":\"redis\""), &spec);
    CHECK_STR_EQ(spec.owner_user, "redis");
    CHECK_STR_EQ(spec.owner_group, "");
    CHECK_INT_EQ(spec.prepare.count, 0);
    json_decref(request);
}

static void test_health_kinds(void)
{
    REJECTED(HEALTH("\"kind\":\"udp\""), "health.kind must be one of line, tcp, http, exec");
    REJECTED(HEALTH("\"kind\":7"), "health.kind must be one of line, tcp, http, exec");
    REJECTED(HEALTH("\"send\":\"\""), "health.send must be printable text of 1-64 bytes");
    REJECTED(HEALTH("\"expect\":\"a\\nb\""), "health.expect must be printable text of 1-64 bytes");
    REJECTED(HEALTH("\"kind\":\"http\",\"path\":\"healthz\""),
             "health.path must start with / and have no spaces");
    REJECTED(HEALTH("\"kind\":\"http\",\"path\":\"/a b\""),
             "health.path must start with / and have no spaces");
    REJECTED(HEALTH("\"kind\":\"exec\""), "health.argv must be an array of 1-32 strings");
    REJECTED(HEALTH("\"kind\":\"exec\",\"argv\":[\"pg_isready\"]"),
             "health.argv[0] must be an absolute path without ..");
    struct app_spec spec;
    json_t *request = parsed(HEALTH("\"failuresToUnhealthy\":2"), &spec);
    CHECK_INT_EQ(spec.health.kind, HEALTH_KIND_LINE);
    CHECK_STR_EQ(spec.health.send, "PING\n"); /* today's default */
    CHECK_STR_EQ(spec.health.expect, "PONG");
    json_decref(request);
    request = parsed(HEALTH("\"send\":\"PING\",\"expect\":\"+PONG\""), &spec);
    CHECK_STR_EQ(spec.health.expect, "+PONG");
    json_decref(request);
    request = parsed(HEALTH("\"kind\":\"http\""), &spec);
    CHECK_STR_EQ(spec.health.path, "/");
    json_decref(request);
    request = parsed(START(ARGV ",\"health\":{\"kind\":\"exec\",\"argv\":[\"/usr/bin/pg_isready\","
                                "\"-q\"],\"intervalMs\":100,\"timeoutMs\":100}"),
                     &spec);
    CHECK_INT_EQ(spec.health.kind, HEALTH_KIND_EXEC);
    CHECK_INT_EQ(spec.health.port, 0); /* exec needs no port */
    CHECK_INT_EQ(spec.health.argv.count, 2);
    json_decref(request);
    REJECTED(START(ARGV ",\"health\":{\"kind\":\"tcp\",\"intervalMs\":100,\"timeoutMs\":100}"),
             "health.port must be an integer in 1..65535");
}

static void test_account_lines(void)
{
    unsigned id = 0;
    unsigned gid = 0;
    CHECK_INT_EQ(parse_account_line("redis:x:101:102:Redis:/var/lib/redis:/usr/sbin/nologin\n",
                                    "redis", true, &id, &gid),
                 1);
    CHECK_INT_EQ(id, 101);
    CHECK_INT_EQ(gid, 102);
    CHECK_INT_EQ(parse_account_line("redis2:x:1:1::/:/bin/sh", "redis", true, &id, &gid), 0);
    CHECK_INT_EQ(parse_account_line("re:x:1:1::/:/bin/sh", "redis", true, &id, &gid), 0);
    CHECK_INT_EQ(parse_account_line("redis:x:-1:1::/:/bin/sh", "redis", true, &id, &gid), -EINVAL);
    CHECK_INT_EQ(parse_account_line("redis:x:4294967295:1::/:", "redis", true, &id, &gid),
                 -EINVAL); /* (uid_t)-1 is "unchanged" */
    CHECK_INT_EQ(parse_account_line("redis:x:99999999999:1::/:", "redis", true, &id, &gid),
                 -EINVAL);
    CHECK_INT_EQ(parse_account_line("redis:x:1", "redis", true, &id, &gid), -EINVAL);
    CHECK_INT_EQ(parse_account_line("redis:x::1::/:", "redis", true, &id, &gid), -EINVAL);
    CHECK_INT_EQ(parse_account_line("redis:x: 1:1::/:", "redis", true, &id, &gid), -EINVAL);
    CHECK_INT_EQ(parse_account_line("www-data:x:33:\n", "www-data", false, &id, NULL), 1);
    CHECK_INT_EQ(id, 33);
    CHECK_INT_EQ(parse_account_line("www-data:x:33:alice,bob", "www-data", false, &id, NULL), 1);
    CHECK_INT_EQ(parse_account_line("www-data:x:3a:", "www-data", false, &id, NULL), -EINVAL);
}

static void test_http_status_and_answers(void)
{
    CHECK_INT_EQ(parse_http_status("HTTP/1.0 200 OK"), 200);
    CHECK_INT_EQ(parse_http_status("HTTP/1.1 204"), 204);
    CHECK_INT_EQ(parse_http_status("HTTP/1.1 404 Not Found"), 404);
    CHECK_INT_EQ(parse_http_status("HTTP/2 200"), -1);
    CHECK_INT_EQ(parse_http_status("HTTP/1.1 2000 OK"), -1);
    CHECK_INT_EQ(parse_http_status("HTTP/1.1 20"), -1);
    CHECK_INT_EQ(parse_http_status("http/1.1 200 OK"), -1);
    CHECK_INT_EQ(parse_http_status(""), -1);
    CHECK(is_expected_answer("+PONG", "+PONG"));
    CHECK(is_expected_answer("PONG extra", "PONG"));
    CHECK(!is_expected_answer("PON", "PONG"));
    CHECK(!is_expected_answer("-ERR", "+PONG"));
    char answer[] = "  +PONG\r\nmore";
    CHECK_STR_EQ(answer_line(answer, strlen(answer)), "+PONG");
}

static void test_absolute_paths(void)
{
    CHECK(is_absolute_path("/usr/bin/redis-server", 256));
    CHECK(is_absolute_path("/var/lib/a..b", 256)); /* ".." inside a name is a name */
    CHECK(is_absolute_path("/a/..b/c", 256));
    CHECK(!is_absolute_path("/", 256));
    CHECK(!is_absolute_path("/a/../b", 256));
    CHECK(!is_absolute_path("/a/..", 256));
    CHECK(!is_absolute_path("relative", 256));
    CHECK(!is_absolute_path("/a\tb", 256));
    CHECK(!is_absolute_path("/abc", 3));
    CHECK(!is_absolute_path(NULL, 256));
}

void register_operator_request_tests(void)
{
    add_test("operator requests: user, group, env and workdir are validated",
             test_identity_fields);
    add_test("operator requests: a unit name is a strict .service name, without argv fields",
             test_unit_fields);
    add_test("operator requests: disk owner is user[:group]; prepare is an absolute argv",
             test_disk_owner_and_prepare);
    add_test("operator requests: health kinds line, tcp, http, exec and their fields",
             test_health_kinds);
    add_test("operator requests: passwd and group lines are parsed strictly",
             test_account_lines);
    add_test("operator requests: http status lines and line answers are judged",
             test_http_status_and_answers);
    add_test("operator requests: absolute paths without .. components", test_absolute_paths);
}
