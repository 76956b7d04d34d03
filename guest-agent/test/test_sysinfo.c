/* Tests for the /proc and /sys readers against the fixture tree and hand-made text. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "disk.h"
#include "fixture_facts.h"
#include "linux_abi.h"
#include "port.h"
#include "sysinfo.h"
#include "textfile.h"

static void test_meminfo_reads_totals_from_fixture(void)
{
    struct mem_info mem;
    CHECK_INT_EQ(read_mem_info(test_env.fixtures_root, &mem), 0);
    CHECK_INT_EQ(mem.total_bytes, FIX_MEM_TOTAL_BYTES);
    CHECK_INT_EQ(mem.free_bytes, FIX_MEM_FREE_BYTES);
    CHECK_INT_EQ(mem.available_bytes, FIX_MEM_AVAILABLE_BYTES);
}

static void test_meminfo_field_parsing_is_exact(void)
{
    uint64_t bytes = 0;
    const char *node = "Node 3 MemTotal:   2048 kB\nNode 3 MemFree:   16 kB\n";
    CHECK_INT_EQ(find_meminfo_kb(node, "MemTotal", &bytes), 0);
    CHECK_INT_EQ(bytes, 2048 * 1024);
    CHECK_INT_EQ(find_meminfo_kb(node, "MemFree", &bytes), 0);
    CHECK_INT_EQ(bytes, 16 * 1024);
    /* "MemTotal" must not match inside another key, nor a line without a unit. */
    CHECK_INT_EQ(find_meminfo_kb("XMemTotal: 5 kB\n", "MemTotal", &bytes), -ENOENT);
    CHECK_INT_EQ(find_meminfo_kb("MemTotal: 5\n", "MemTotal", &bytes), -EINVAL);
    CHECK_INT_EQ(find_meminfo_kb("MemTotal: -5 kB\n", "MemTotal", &bytes), -EINVAL);
    CHECK_INT_EQ(find_meminfo_kb("MemTotal: 99999999999999999999 kB\n", "MemTotal", &bytes),
                 -ERANGE);
    CHECK_INT_EQ(find_meminfo_kb("", "MemTotal", &bytes), -ENOENT);
}

static void test_numa_nodes_are_sorted_and_include_empty_nodes(void)
{
    struct numa_nodes nodes;
    CHECK_INT_EQ(read_numa_nodes(test_env.fixtures_root, &nodes), 0);
    CHECK_INT_EQ(nodes.count, 3);
    CHECK(!nodes.is_truncated);
    CHECK_INT_EQ(nodes.nodes[0].id, 0);
    CHECK_INT_EQ(nodes.nodes[0].total_bytes, FIX_NODE0_TOTAL_BYTES);
    CHECK_INT_EQ(nodes.nodes[0].free_bytes, FIX_NODE0_FREE_BYTES);
    CHECK_INT_EQ(nodes.nodes[1].id, 1);
    CHECK_INT_EQ(nodes.nodes[1].total_bytes, 0);
    CHECK_INT_EQ(nodes.nodes[2].id, 2);
    CHECK_INT_EQ(nodes.nodes[2].total_bytes, FIX_NODE2_TOTAL_BYTES);
    CHECK_INT_EQ(nodes.nodes[2].free_bytes, FIX_NODE2_FREE_BYTES);
}

/* Creates root/sys/devices/system/node/<name>, with a meminfo of `meminfo` unless it is NULL. */
static void make_node(const char *root, const char *name, const char *meminfo)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/sys/devices/system/node/%s", root, name);
    CHECK_INT_EQ(make_dirs("", path), 0);
    if (meminfo == NULL) {
        return;
    }
    snprintf(path, sizeof(path), "%s/sys/devices/system/node/%s/meminfo", root, name);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    fputs(meminfo, file);
    fclose(file);
}

static void test_numa_node_without_meminfo_is_skipped(void)
{
    char root[] = "/tmp/baton-numa-test-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    make_node(root, "node0", "Node 0 MemTotal: 2048 kB\nNode 0 MemFree: 1024 kB\n");
    make_node(root, "node1", NULL); /* being registered: no meminfo yet */
    make_node(root, "node2", "Node 2 MemTotal: 4096 kB\nNode 2 MemFree: 4096 kB\n");
    struct numa_nodes nodes;
    CHECK_INT_EQ(read_numa_nodes(root, &nodes), 0);
    CHECK_INT_EQ(nodes.count, 2);
    CHECK_INT_EQ(nodes.nodes[0].id, 0);
    CHECK_INT_EQ(nodes.nodes[0].total_bytes, 2048 * 1024);
    CHECK_INT_EQ(nodes.nodes[1].id, 2);
    CHECK_INT_EQ(nodes.nodes[1].free_bytes, 4096 * 1024);
    /* A meminfo that is there but lacks its keys is still an error, not a node to skip. */
    make_node(root, "node3", "Node 3 MemUsed: 1 kB\n");
    CHECK_INT_EQ(read_numa_nodes(root, &nodes), -EINVAL);
    remove_tree(root);
}

static void test_memory_blocks_are_counted_by_state(void)
{
    struct memory_blocks blocks;
    uint64_t block_size = 0;
    CHECK_INT_EQ(count_memory_blocks(test_env.fixtures_root, &blocks), 0);
    CHECK_INT_EQ(blocks.online, FIX_BLOCKS_ONLINE);
    CHECK_INT_EQ(blocks.offline, FIX_BLOCKS_OFFLINE);
    CHECK_INT_EQ(read_memory_block_size(test_env.fixtures_root, &block_size), 0);
    CHECK_INT_EQ(block_size, FIX_BLOCK_SIZE_BYTES);
}

static void test_boot_id_and_uptime_come_from_proc(void)
{
    char boot_id[BOOT_ID_MAX_CHARS + 1];
    uint64_t uptime_ms = 0;
    CHECK_INT_EQ(read_boot_id(test_env.fixtures_root, boot_id, sizeof(boot_id)), 0);
    CHECK_STR_EQ(boot_id, FIX_BOOT_ID);
    CHECK_INT_EQ(read_uptime_ms(test_env.fixtures_root, &uptime_ms), 0);
    CHECK_INT_EQ(uptime_ms, FIX_UPTIME_MS);
}

static void test_kernel_release_and_virtio_mem_come_from_proc_and_sys(void)
{
    char release[KERNEL_RELEASE_MAX_CHARS + 1];
    CHECK_INT_EQ(read_kernel_release(test_env.fixtures_root, release, sizeof(release)), 0);
    CHECK_STR_EQ(release, FIX_KERNEL_RELEASE);
    CHECK(has_virtio_mem_driver(test_env.fixtures_root));
    CHECK(!has_virtio_mem_driver("/nonexistent-baton-root"));
    CHECK_INT_EQ(read_kernel_release("/nonexistent-baton-root", release, sizeof(release)), -ENOENT);
}

static void test_missing_root_gives_enoent(void)
{
    struct mem_info mem;
    struct numa_nodes nodes;
    struct memory_blocks blocks;
    CHECK_INT_EQ(read_mem_info("/nonexistent-baton-root", &mem), -ENOENT);
    CHECK_INT_EQ(read_numa_nodes("/nonexistent-baton-root", &nodes), -ENOENT);
    CHECK_INT_EQ(count_memory_blocks("/nonexistent-baton-root", &blocks), -ENOENT);
}

static void test_cmdline_faults_flag(void)
{
    CHECK(parse_cmdline_faults("console=ttyS0 baton.faults=1 quiet\n"));
    CHECK(parse_cmdline_faults("baton.faults=0 baton.faults=1"));
    CHECK(!parse_cmdline_faults("baton.faults=1 baton.faults=0"));
    CHECK(!parse_cmdline_faults("console=ttyS0 quiet"));
    CHECK(!parse_cmdline_faults("baton.faults=10"));
    CHECK(!parse_cmdline_faults("baton.faults="));
    CHECK(!parse_cmdline_faults("xbaton.faults=1"));
    CHECK(!resolve_faults_enabled(test_env.fixtures_root));
    CHECK(!resolve_faults_enabled("/nonexistent-baton-root"));
}

static void test_cmdline_heartbeat_is_parsed_and_clamped(void)
{
    long ms = 0;
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("quiet baton.heartbeat_ms=250\n", &ms), 1);
    CHECK_INT_EQ(ms, 250);
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("baton.heartbeat_ms=1 baton.heartbeat_ms=75", &ms), 1);
    CHECK_INT_EQ(ms, 75);
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("console=ttyS0 quiet", &ms), 0);
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("xbaton.heartbeat_ms=5", &ms), 0);
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("baton.heartbeat_ms=", &ms), -EINVAL);
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("baton.heartbeat_ms=12ms", &ms), -EINVAL);
    CHECK_INT_EQ(parse_cmdline_heartbeat_ms("baton.heartbeat_ms=-5", &ms), -EINVAL);
    CHECK_INT_EQ(clamp_heartbeat_ms(10), HEARTBEAT_MIN_MS);
    CHECK_INT_EQ(clamp_heartbeat_ms(999999), HEARTBEAT_MAX_MS);
    CHECK_INT_EQ(clamp_heartbeat_ms(1000), 1000);
    CHECK_INT_EQ(resolve_heartbeat_ms(test_env.fixtures_root, 0), FIX_CMDLINE_HEARTBEAT_MS);
    CHECK_INT_EQ(resolve_heartbeat_ms(test_env.fixtures_root, 120), 120);
    CHECK_INT_EQ(resolve_heartbeat_ms("/nonexistent-baton-root", 0), HEARTBEAT_DEFAULT_MS);
}

static void test_port_is_found_by_name(void)
{
    char path[PATH_MAX];
    char expected[PATH_MAX];
    CHECK_INT_EQ(find_agent_port(test_env.fixtures_root, path, sizeof(path)), 0);
    snprintf(expected, sizeof(expected), "%s/dev/%s", test_env.fixtures_root, FIX_PORT_DEV_NAME);
    CHECK_STR_EQ(path, expected);
    CHECK_INT_EQ(find_agent_port("/nonexistent-baton-root", path, sizeof(path)), -ENOENT);
}

static void test_text_file_reader_refuses_oversized_files(void)
{
    char path[PATH_MAX];
    char small[16];
    snprintf(path, sizeof(path), "%s/proc/meminfo", test_env.fixtures_root);
    CHECK_INT_EQ(read_text_file(path, small, sizeof(small)), -EFBIG);
    unsigned id = 0;
    CHECK_INT_EQ(parse_numbered_name("memory12", "memory", &id), 0);
    CHECK_INT_EQ(id, 12);
    CHECK_INT_EQ(parse_numbered_name("memory", "memory", &id), -EINVAL);
    CHECK_INT_EQ(parse_numbered_name("memory1x", "memory", &id), -EINVAL);
    CHECK_INT_EQ(parse_numbered_name("memory_tiers", "memory", &id), -EINVAL);
}

void register_sysinfo_tests(void)
{
    add_test("sysinfo: meminfo totals come from the fixture",
             test_meminfo_reads_totals_from_fixture);
    add_test("sysinfo: meminfo field parsing is exact", test_meminfo_field_parsing_is_exact);
    add_test("sysinfo: NUMA nodes are sorted and include memory-less nodes",
             test_numa_nodes_are_sorted_and_include_empty_nodes);
    add_test("sysinfo: a NUMA node without meminfo (being registered) is skipped",
             test_numa_node_without_meminfo_is_skipped);
    add_test("sysinfo: memory blocks are counted by state",
             test_memory_blocks_are_counted_by_state);
    add_test("sysinfo: boot id and uptime come from /proc", test_boot_id_and_uptime_come_from_proc);
    add_test("sysinfo: kernel release and virtio-mem come from /proc and /sys",
             test_kernel_release_and_virtio_mem_come_from_proc_and_sys);
    add_test("sysinfo: a missing root gives ENOENT", test_missing_root_gives_enoent);
    add_test("sysinfo: baton.faults=1 turns fault injection on; the last one wins",
             test_cmdline_faults_flag);
    add_test("sysinfo: baton.heartbeat_ms is parsed, validated and clamped",
             test_cmdline_heartbeat_is_parsed_and_clamped);
    add_test("sysinfo: the agent port is found by its virtio-serial name",
             test_port_is_found_by_name);
    add_test("sysinfo: oversized files and stray entry names are refused",
             test_text_file_reader_refuses_oversized_files);
}
