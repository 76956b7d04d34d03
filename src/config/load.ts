// Reads and validates the YAML config (every problem at once, one line each) and maps it to the pair's config.
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isScalar, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import type { AppConfig, PairConfig } from '../pair/config.js';
import { MiB } from '../units.js';
import {
  type ConfigPath,
  type ConfigProblem,
  expectedFromIssue,
  formatProblems,
  problemsFromIssues,
} from './problems.js';
import { checkRules } from './rules.js';
import { type ConfigFile, configFileSchema } from './schema.js';
import type { AppSettings, BatonConfig, VmImageSettings } from './types.js';

/** A config is a page of YAML; anything bigger is not one (and /dev/zero must not hang the reader). */
export const MAX_CONFIG_BYTES = MiB;

/** Reads and validates `path`; ConfigError (code INVALID_CONFIG) lists every problem. */
export async function loadConfig(path: string): Promise<BatonConfig> {
  let text: string;
  try {
    text = await readCapped(path, MAX_CONFIG_BYTES);
  } catch (error) {
    throw new ConfigError(
      { file: path, problems: [`cannot read config ${path}: ${describeReadError(error)}`] },
      { cause: error },
    );
  }
  return parseConfig(text, path);
}

/**
 * Validates config text; `sourceName` starts every problem line (usually the file's path).
 * Relative file paths in it (`vms.image`) resolve against `baseDir`, by default the folder of
 * `sourceName`.
 */
export function parseConfig(
  text: string,
  sourceName: string,
  baseDir: string = dirname(resolve(sourceName)),
): BatonConfig {
  const fail = (problems: readonly ConfigProblem[], cause?: unknown): never => {
    const lines = formatProblems(sourceName, problems);
    throw new ConfigError({ file: sourceName, problems: lines }, cause === undefined ? undefined : { cause });
  };
  const doc = parseDocument(text, { logLevel: 'error', prettyErrors: true });
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) return fail(syntax.map(yamlProblem));
  if (doc.contents === null)
    return fail([{ path: '', message: 'expected a mapping of settings, got an empty file' }]);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return fail([{ path: '', message: `cannot read the YAML: ${(error as Error).message}` }], error);
  }
  const parsed = configFileSchema.safeParse(data, { error: expectedFromIssue });
  if (!parsed.success) {
    const sourceTextAt = (path: ConfigPath) => {
      const node = doc.getIn(path as unknown[], true);
      return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]) : undefined;
    };
    return fail(problemsFromIssues(parsed.error.issues, data, sourceTextAt));
  }
  const config = buildConfig(parsed.data, baseDir);
  const problems = checkRules(config);
  if (problems.length > 0) return fail(problems);
  return deepFreeze(config);
}

/** The running pair's view of a config (memory, VMs, apps, the deadlines it uses today). */
export function toPairConfig(config: BatonConfig): PairConfig {
  return {
    budgetBytes: config.budgetBytes,
    blockBytes: config.blockBytes,
    monitorBytes: config.monitorBytes,
    vmNames: [config.vms.names[0], config.vms.names[1]],
    baseBytes: config.vms.baseMemoryBytes,
    maxMemoryBytes: config.vms.maxMemoryBytes,
    cpus: config.vms.cpus,
    image: config.vms.image,
    tcgCacheBytes: config.vms.tcgCacheBytes,
    heartbeatMs: config.heartbeatMs,
    apps: config.apps.map(
      (app): AppConfig => ({
        name: app.name,
        slot: app.slot,
        sizeBytes: app.memoryBytes,
        slotMaxBytes: app.slotMaxBytes,
        hotStandby: app.hotStandby,
        ...(app.argv === undefined ? {} : { argv: [...app.argv] }),
        ...(app.unit === undefined ? {} : { unit: app.unit }),
        ...(app.user === undefined ? {} : { user: app.user }),
        ...(app.group === undefined ? {} : { group: app.group }),
        ...(app.env === undefined ? {} : { env: { ...app.env } }),
        ...(app.workdir === undefined ? {} : { workdir: app.workdir }),
        ...(app.dataDisk === undefined ? {} : { dataDisk: app.dataDisk }),
        guestPort: app.guestPort,
        endpointPort: app.endpointPort,
        ...(app.dataDiskBytes === undefined ? {} : { diskBytes: app.dataDiskBytes }),
        health: { ...app.health },
        restart: { ...app.restart },
      }),
    ),
    stateDir: config.stateDir,
    isFaultInjectionAllowed: config.isFaultInjectionAllowed,
    helloTimeoutMs: config.detection.helloTimeoutMs,
    healthTimeoutMs: config.detection.healthTimeoutMs,
    hangThresholds: {
      heartbeatSilenceMs: config.detection.heartbeatSilenceMs,
      syncTimeoutMs: config.detection.syncTimeoutMs,
      qmpTimeoutMs: config.detection.qmpTimeoutMs,
    },
  };
}

/** dataDisk as a size, or as a mapping whose size is dataDiskBytes and the rest dataDisk. */
function dataDiskOf(
  disk: ConfigFile['apps'][number]['dataDisk'],
): Pick<AppSettings, 'dataDiskBytes' | 'dataDisk'> {
  if (disk === undefined) return {};
  if (typeof disk === 'number') return { dataDiskBytes: disk };
  const { size, ...rest } = disk;
  return { dataDiskBytes: size, dataDisk: definedOnly(rest) };
}

/** The object without its undefined fields (optional keys of the file are absent, not undefined). */
function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** The file's fields under baton's names, with the defaults that depend on other fields filled in. */
function buildConfig(file: ConfigFile, baseDir: string): BatonConfig {
  const apps = file.apps.map(
    (app, index): AppSettings => ({
      name: app.name,
      slot: `slot${index}`,
      ...(app.argv === undefined ? {} : { argv: app.argv }),
      ...(app.unit === undefined ? {} : { unit: app.unit }),
      ...(app.user === undefined ? {} : { user: app.user }),
      ...(app.group === undefined ? {} : { group: app.group }),
      ...(app.env === undefined ? {} : { env: app.env }),
      ...(app.workdir === undefined ? {} : { workdir: app.workdir }),
      memoryBytes: app.memory,
      slotMaxBytes: app.slotMax ?? app.memory,
      hotStandby: app.hotStandby,
      guestPort: app.port,
      endpointPort: app.endpoint,
      health: definedOnly(app.health),
      restart: app.restart,
      ...dataDiskOf(app.dataDisk),
    }),
  );
  const slotsBytes = apps.reduce((total, app) => total + app.slotMaxBytes, 0);
  return {
    budgetBytes: file.budget,
    blockBytes: file.blockSize,
    monitorBytes: file.monitor,
    mechanism: file.mechanism,
    stateDir: file.stateDir,
    accel: file.accel,
    vms: {
      names: file.vms.names,
      baseMemoryBytes: file.vms.baseMemory,
      maxMemoryBytes: file.vms.maxMemory ?? file.vms.baseMemory + slotsBytes,
      cpus: file.vms.cpus,
      image: buildImage(file.vms.image, baseDir),
      tcgCacheBytes: file.vms.tcgCache,
    },
    heartbeatMs: file.heartbeatMs,
    detection: file.detection,
    isFaultInjectionAllowed: file.faultInjection,
    apps,
    metrics: file.metrics.listen === undefined ? {} : { listen: file.metrics.listen },
  };
}

function buildImage(image: ConfigFile['vms']['image'], baseDir: string): VmImageSettings {
  if (image === 'builtin') return { kind: 'builtin' };
  const at = (path: string | undefined) => (path === undefined ? undefined : resolve(baseDir, path));
  const kernelPath = at(image.kernel);
  const initrdPath = at(image.initrd);
  return {
    kind: 'disk',
    diskPath: resolve(baseDir, image.disk),
    ...(kernelPath === undefined ? {} : { kernelPath }),
    ...(initrdPath === undefined ? {} : { initrdPath }),
    ...(image.cmdline === undefined ? {} : { cmdline: image.cmdline }),
    isFirmwareBoot: image.firmware,
  };
}

function yamlProblem(error: YAMLError): ConfigProblem {
  const message = error.message.split(/ at line \d+, column \d+/)[0]?.trim() ?? error.message;
  const position = error.linePos?.[0];
  const where = position === undefined ? '' : `line ${position.line}, column ${position.col}: `;
  return { path: '', message: `${where}${message}` };
}

/** Reads at most `maxBytes` (one more to notice a longer file) as UTF-8. */
async function readCapped(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new Error(`larger than ${maxBytes / MiB} MiB: not a config file`);
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
  } finally {
    await handle.close();
  }
}

/** `ENOENT: no such file or directory` (Node's message without the repeated path). */
function describeReadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TypeError) return 'not UTF-8 text';
  return message.replace(/, \w+( '.*')?$/s, '');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
