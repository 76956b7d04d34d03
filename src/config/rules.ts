// Cross-field rules of the config: sizes that must add up, ports that must differ, timeouts that must agree.
import { join } from 'node:path';
import { formatBytes, MiB } from '../units.js';
import { checkAppCommands } from './app-rules.js';
import { checkImage } from './image-rules.js';
import { type ConfigProblem, quote } from './problems.js';
import type { BatonConfig } from './types.js';

/** The smallest virtio-mem block on x86 (and the smallest QEMU accepts). */
export const MIN_BLOCK_BYTES = 2 * MiB;
/** mkfs.ext4 needs room for its journal and tables; data disks are whole MiB. */
export const MIN_DATA_DISK_BYTES = 16 * MiB;
/** sun_path of a unix socket holds 107 bytes plus the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;
/** The data disk's virtio serial is `baton-<app>` cut to 20 characters. */
const DISK_SERIAL_NAME_CHARS = 20 - 'baton-'.length;

/** QEMU accepts larger translation caches; past 1 GiB a VM's host memory is all cache. */
const MAX_TCG_CACHE_BYTES = 1024 * MiB;

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** Every cross-field problem of a config whose fields are each valid on their own. */
export function checkRules(config: BatonConfig): ConfigProblem[] {
  return [
    ...checkMemory(config),
    ...checkNamesAndPorts(config),
    ...checkTimeouts(config),
    ...checkPaths(config),
    ...checkImage(config),
    ...checkAppCommands(config),
  ];
}

function checkMemory(config: BatonConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { apps, vms } = config;
  const block = config.blockBytes;
  const isBlockValid = block >= MIN_BLOCK_BYTES && (block & (block - 1)) === 0;
  if (!isBlockValid) {
    problems.push({
      path: 'blockSize',
      message: `expected a power of two of at least 2 MiB, got ${formatBytes(block)}`,
    });
  }
  const sizes: Array<[string, number]> = [
    ['budget', config.budgetBytes],
    ['monitor', config.monitorBytes],
    ['vms.baseMemory', vms.baseMemoryBytes],
    ['vms.maxMemory', vms.maxMemoryBytes],
    ...apps.flatMap(
      (app, index): Array<[string, number]> => [
        [`apps[${index}].memory`, app.memoryBytes],
        [`apps[${index}].slotMax`, app.slotMaxBytes],
      ],
    ),
  ];
  for (const [path, bytes] of isBlockValid ? sizes : []) {
    if (bytes % block !== 0) {
      problems.push({
        path,
        message: `expected a multiple of the ${formatBytes(block)} block size, got ${formatBytes(bytes)}`,
      });
    }
  }
  const appsBytes = sum(apps.map((app) => app.memoryBytes));
  const neededBytes = 2 * vms.baseMemoryBytes + config.monitorBytes + appsBytes;
  if (config.budgetBytes < neededBytes) {
    problems.push({
      path: 'budget',
      message: `expected at least ${formatBytes(neededBytes)} (2 × vms.baseMemory ${formatBytes(vms.baseMemoryBytes)} + monitor ${formatBytes(config.monitorBytes)} + the apps' memory ${formatBytes(appsBytes)}), got ${formatBytes(config.budgetBytes)}`,
    });
  }
  if (vms.tcgCacheBytes % MiB !== 0 || vms.tcgCacheBytes > MAX_TCG_CACHE_BYTES) {
    problems.push({
      path: 'vms.tcgCache',
      message: `expected a whole number of MiB from 1 MiB to ${formatBytes(MAX_TCG_CACHE_BYTES)}, got ${formatBytes(vms.tcgCacheBytes)}`,
    });
  }
  const slotsBytes = sum(apps.map((app) => app.slotMaxBytes));
  if (vms.maxMemoryBytes < vms.baseMemoryBytes + slotsBytes) {
    problems.push({
      path: 'vms.maxMemory',
      message: `expected at least ${formatBytes(vms.baseMemoryBytes + slotsBytes)} (vms.baseMemory ${formatBytes(vms.baseMemoryBytes)} + the apps' slotMax ${formatBytes(slotsBytes)}), got ${formatBytes(vms.maxMemoryBytes)}`,
    });
  }
  apps.forEach((app, index) => {
    if (app.memoryBytes > app.slotMaxBytes) {
      problems.push({
        path: `apps[${index}].memory`,
        message: `expected at most apps[${index}].slotMax (${formatBytes(app.slotMaxBytes)}), got ${formatBytes(app.memoryBytes)}`,
      });
    }
    const disk = app.dataDiskBytes;
    if (disk !== undefined && (disk < MIN_DATA_DISK_BYTES || disk % MiB !== 0)) {
      problems.push({
        path: `apps[${index}].dataDisk`,
        message: `expected a whole number of MiB, at least 16 MiB, got ${formatBytes(disk)}`,
      });
    }
  });
  return problems;
}

/** Problems for values that must differ: the later one is reported, naming the first. */
function findRepeats(
  entries: ReadonlyArray<{ path: string; key: string | number; shown: string }>,
  what: string,
): ConfigProblem[] {
  const firstPathOf = new Map<string | number, string>();
  const problems: ConfigProblem[] = [];
  for (const { path, key, shown } of entries) {
    const first = firstPathOf.get(key);
    if (first === undefined) firstPathOf.set(key, path);
    else problems.push({ path, message: `expected ${what} (${first} has it), got ${shown}` });
  }
  return problems;
}

function checkNamesAndPorts(config: BatonConfig): ConfigProblem[] {
  const { apps } = config;
  const listen = config.metrics.listen;
  return [
    ...findRepeats(
      config.vms.names.map((name, index) => ({ path: `vms.names[${index}]`, key: name, shown: `'${name}'` })),
      'a name the other VM does not have',
    ),
    ...findRepeats(
      apps.map((app, index) => ({ path: `apps[${index}].name`, key: app.name, shown: `'${app.name}'` })),
      'a name no other app has',
    ),
    ...findRepeats(
      apps
        .map((app, index) => ({ app, index }))
        .filter(({ app }) => app.dataDiskBytes !== undefined)
        .map(({ app, index }) => ({
          path: `apps[${index}].name`,
          key: app.name.slice(0, DISK_SERIAL_NAME_CHARS),
          shown: `'${app.name}'`,
        })),
      `a name whose first ${DISK_SERIAL_NAME_CHARS} characters no other app with a data disk has (they name its disk)`,
    ),
    ...findRepeats(
      apps.map((app, index) => ({
        path: `apps[${index}].port`,
        key: app.guestPort,
        shown: String(app.guestPort),
      })),
      'a guest port no other app uses',
    ),
    ...findRepeats(
      [
        ...(listen === undefined
          ? []
          : [{ path: 'metrics.listen', key: listen.port, shown: String(listen.port) }]),
        ...apps
          .map((app, index) => ({
            path: `apps[${index}].endpoint`,
            key: app.endpointPort,
            shown: String(app.endpointPort),
          }))
          .filter(({ key }) => key !== 0),
      ],
      'a host port nothing else in this config uses',
    ),
  ];
}

function checkTimeouts(config: BatonConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { detection } = config;
  if (detection.heartbeatSilenceMs < 2 * config.heartbeatMs) {
    problems.push({
      path: 'detection.heartbeatSilenceMs',
      message: `expected at least 2 × heartbeatMs = ${2 * config.heartbeatMs} (one late heartbeat is not a hang), got ${detection.heartbeatSilenceMs}`,
    });
  }
  if (detection.syncTimeoutMs >= detection.heartbeatSilenceMs) {
    problems.push({
      path: 'detection.syncTimeoutMs',
      message: `expected less than detection.heartbeatSilenceMs (${detection.heartbeatSilenceMs}), got ${detection.syncTimeoutMs}`,
    });
  }
  config.apps.forEach(({ health, restart }, index) => {
    const at = `apps[${index}]`;
    if (health.timeoutMs > health.intervalMs) {
      problems.push({
        path: `${at}.health.timeoutMs`,
        message: `expected at most ${at}.health.intervalMs (${health.intervalMs}), got ${health.timeoutMs}`,
      });
    }
    const firstCheckMs = health.intervalMs + health.timeoutMs;
    if (detection.healthTimeoutMs <= firstCheckMs) {
      problems.push({
        path: 'detection.healthTimeoutMs',
        message: `expected more than ${at}.health.intervalMs + ${at}.health.timeoutMs (${firstCheckMs}), got ${detection.healthTimeoutMs}`,
      });
    }
    const hangLoopMs = (restart.max + 1) * health.intervalMs * health.failuresToUnhealthy;
    if (restart.max > 0 && restart.windowMs < hangLoopMs) {
      problems.push({
        path: `${at}.restart.windowMs`,
        message: `expected at least (${at}.restart.max + 1) × ${at}.health.intervalMs × ${at}.health.failuresToUnhealthy = ${hangLoopMs} (else an app that keeps hanging is never moved), got ${restart.windowMs}`,
      });
    }
  });
  return problems;
}

function checkPaths(config: BatonConfig): ConfigProblem[] {
  const longestName = [...config.vms.names].sort((a, b) => b.length - a.length)[0] ?? '';
  // A VM's sockets live in <stateDir>/run/<vm>-XXXXXX/ (see createRunDir); agent.sock is the longest.
  const socketPath = join(config.stateDir, 'run', `${longestName}-XXXXXX`, 'agent.sock');
  const socketBytes = Buffer.byteLength(socketPath);
  if (socketBytes <= MAX_SOCKET_PATH_BYTES) return [];
  const stateDirBytes = Buffer.byteLength(config.stateDir);
  const maxStateDirBytes = MAX_SOCKET_PATH_BYTES - (socketBytes - stateDirBytes);
  return [
    {
      path: 'stateDir',
      message: `expected a path of at most ${maxStateDirBytes} bytes (the VMs' unix sockets, like <stateDir>/run/${longestName}-XXXXXX/agent.sock, must fit in ${MAX_SOCKET_PATH_BYTES} bytes), got ${quote(config.stateDir)} (${stateDirBytes} bytes)`,
    },
  ];
}
