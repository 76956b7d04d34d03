// `baton check-config FILE`: validates a config file without starting anything, and summarises it.
import { loadConfig } from '../config/load.js';
import type { BatonConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { formatBytes } from '../units.js';
import { renderTable } from './format.js';

/** Exit codes of check-config (the same numbers as the CLI's `ok` and `usage`). */
export const CHECK_CONFIG_EXIT = { valid: 0, invalid: 2 } as const;

export interface CheckConfigOptions {
  /** Print one JSON document on stdout (`{ file, valid, config }` or `{ file, valid, problems }`). */
  json: boolean;
  /** Writes one line to stdout. */
  print: (line: string) => void;
  /** Writes one line to stderr; defaults to process.stderr. */
  printError?: (line: string) => void;
}

/**
 * Loads and validates `path`. Valid: prints a summary (or the config as JSON), returns 0.
 * Invalid or unreadable: prints every problem line to stderr (and, with `json`, the JSON on stdout), returns 2.
 */
export async function runCheckConfig(path: string, options: CheckConfigOptions): Promise<number> {
  const printError = options.printError ?? ((line: string) => process.stderr.write(`${line}\n`));
  let config: BatonConfig;
  try {
    config = await loadConfig(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (options.json)
      options.print(JSON.stringify({ file: path, valid: false, problems: error.problems }, null, 2));
    for (const line of error.problems) printError(line);
    return CHECK_CONFIG_EXIT.invalid;
  }
  const lines = options.json
    ? [JSON.stringify({ file: path, valid: true, config }, null, 2)]
    : summarizeConfig(path, config);
  for (const line of lines) options.print(line);
  return CHECK_CONFIG_EXIT.valid;
}

/** What both VMs boot, for people. */
export function describeImage(config: BatonConfig): string {
  const { image } = config.vms;
  if (image.kind === 'builtin') return "builtin (baton's kernel and busybox initramfs)";
  if (image.isFirmwareBoot) return `${image.diskPath}, firmware boot (the image's own bootloader)`;
  const kernel =
    image.kernelPath === undefined
      ? 'kernel, initrd and cmdline from boot.json beside it'
      : `kernel ${image.kernelPath}${image.initrdPath === undefined ? ', no initrd' : `, initrd ${image.initrdPath}`}`;
  const cmdline = image.cmdline === undefined ? '' : `, cmdline '${image.cmdline}'`;
  return `${image.diskPath}, ${kernel}${cmdline}`;
}

/** What a valid config sets up, for people: the budget and where it goes, the VMs, the apps. */
export function summarizeConfig(path: string, config: BatonConfig): string[] {
  const { vms, detection } = config;
  const appsBytes = config.apps.reduce((total, app) => total + app.memoryBytes, 0);
  const poolBytes = config.budgetBytes - 2 * vms.baseMemoryBytes - config.monitorBytes - appsBytes;
  const facts: Array<[string, string]> = [
    [
      'budget',
      `${formatBytes(config.budgetBytes)}: 2 × ${formatBytes(vms.baseMemoryBytes)} VM base + ${formatBytes(config.monitorBytes)} monitor + ${formatBytes(appsBytes)} apps + ${formatBytes(poolBytes)} free pool`,
    ],
    ['memory', `${config.mechanism}, ${formatBytes(config.blockBytes)} blocks`],
    [
      'VMs',
      `${vms.names[0]} (starts active), ${vms.names[1]}: ${formatBytes(vms.baseMemoryBytes)} base, maxmem ${formatBytes(vms.maxMemoryBytes)}, ${vms.cpus} CPU${vms.cpus === 1 ? '' : 's'} each`,
    ],
    ['image', describeImage(config)],
    ['accel', config.accel],
    ['state dir', config.stateDir],
    [
      'detection',
      `heartbeat ${config.heartbeatMs} ms, hang suspected after ${detection.heartbeatSilenceMs} ms of silence, sync ${detection.syncTimeoutMs} ms`,
    ],
    ['faults', config.isFaultInjectionAllowed ? 'fault injection allowed' : 'fault injection refused'],
    [
      'metrics',
      config.metrics.listen === undefined
        ? 'off'
        : `${config.metrics.listen.host}:${config.metrics.listen.port}`,
    ],
  ];
  const width = Math.max(...facts.map(([key]) => key.length));
  const table = renderTable(
    ['APP', 'SLOT', 'MEMORY', 'SLOT MAX', 'HOT STANDBY', 'GUEST PORT', 'ENDPOINT', 'DATA DISK'],
    config.apps.map((app) => [
      app.name,
      app.slot,
      formatBytes(app.memoryBytes),
      formatBytes(app.slotMaxBytes),
      app.hotStandby ? 'yes' : 'no',
      app.guestPort,
      app.endpointPort === 0 ? 'any' : String(app.endpointPort),
      app.dataDiskBytes === undefined ? '-' : formatBytes(app.dataDiskBytes),
    ]),
  );
  return [
    `${path}: valid`,
    ...facts.map(([key, value]) => `${key.padEnd(width)}  ${value}`),
    '',
    ...table.split('\n'),
  ];
}
