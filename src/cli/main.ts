// The `baton` command line: parses arguments, runs a command, prints for people or as JSON.
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from '../config/defaults.js';
import { loadConfig, toPairConfig } from '../config/load.js';
import { runDaemon } from '../daemon/daemon.js';
import type { HistoryView, StatusView, TableView } from '../daemon/views.js';
import { InvalidInputError, isBatonError } from '../errors.js';
import { createLogger } from '../log.js';
import { loadNative } from '../native/binding.js';
import { parseSizeBytes } from '../units.js';
import { type AccelRequest, decideAccel, parseAccelRequest } from '../vm/accel.js';
import { buildBenchCommand } from './bench-command.js';
import { runCheckConfig } from './check-config.js';
import { callApi } from './client.js';
import { runDemo } from './demo.js';
import { renderResourceTable, renderStatus, renderTimeline } from './render.js';
import { buildMaintenanceCommand, buildSwitchoverCommand } from './switchover-command.js';

/** Exit codes (documented in --help and the README). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  missingDependency: 3,
  daemonNotRunning: 4,
  refused: 5,
} as const;

export const DEFAULT_STATE_DIR = '/var/lib/baton';

const EXIT_HELP = `
Exit codes:
  0  ok
  1  the command failed
  2  bad arguments, config or request
  3  a dependency is missing (QEMU, the guest image, the native addon, mkfs.ext4)
  4  no daemon is running on the state directory
  5  the daemon refused the request in its current state (blocked, busy, unknown app, pool too small)`;

const accelOption = () =>
  new Option('--accel <mode>', 'accelerator: auto (KVM when usable, else TCG), kvm or tcg')
    .default('auto')
    .argParser(parseAccelRequest);

function parsePositiveInt(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(`Invalid ${what}: expected a whole number of at least 1, got '${text}'`);
  }
  return value;
}

/** Ends a command with an exit code after it has printed its own explanation. */
class CommanderExit extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface GlobalOptions {
  json: boolean;
  stateDir: string;
}

export function buildProgram(): Command {
  const program = new Command('baton')
    .description('Single-host hot-standby manager for QEMU/KVM')
    .option('--json', 'print JSON for scripts instead of text for people', false)
    .option(
      '--state-dir <dir>',
      'the daemon state directory',
      process.env.BATON_STATE_DIR ?? DEFAULT_STATE_DIR,
    )
    .addHelpText('after', EXIT_HELP)
    .exitOverride(); // Inherited by the subcommands below: main() maps commander's errors to exit codes.
  const globals = () => program.opts<GlobalOptions>();
  const logger = () => createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' });
  const show = <T>(value: T, human: (value: T) => string) =>
    print(globals().json ? JSON.stringify(value, null, 2) : human(value));

  program
    .command('up')
    .description('run the daemon in the foreground: boot the pair, start the apps, serve the control API')
    .option('--config <file>', 'the YAML config (default: the built-in demo pair, see contrib/baton.yaml)')
    .addOption(accelOption())
    .option(
      '--leave-running',
      'on SIGTERM/SIGINT leave the VMs and apps running for the next `up` to re-attach',
    )
    .action(
      async (options: { config?: string; accel: AccelRequest; leaveRunning?: boolean }, command: Command) => {
        const config = options.config === undefined ? DEFAULT_CONFIG : await loadConfig(options.config);
        const isStateDirGiven = program.getOptionValueSource('stateDir') !== 'default';
        const pairConfig = {
          ...toPairConfig(config),
          ...(isStateDirGiven || options.config === undefined ? { stateDir: globals().stateDir } : {}),
        };
        const accel = command.getOptionValueSource('accel') === 'default' ? config.accel : options.accel;
        await runDaemon({
          config: pairConfig,
          accel,
          log: createLogger(),
          print,
          leaveRunning: options.leaveRunning === true,
          ...(config.metrics.listen === undefined ? {} : { metricsListen: config.metrics.listen }),
        });
      },
    );

  program
    .command('check-config')
    .description('validate a config file without starting anything')
    .argument('<file>', 'the YAML config')
    .action(async (file: string) => {
      const code = await runCheckConfig(file, { json: globals().json, print });
      if (code !== 0) throw new CommanderExit(code);
    });

  program
    .command('status')
    .description('the pair, its VMs and its apps')
    .action(async () =>
      show((await callApi(globals().stateDir, 'GET', '/v1/status')) as StatusView, renderStatus),
    );

  program
    .command('table')
    .description('the resource table: every memory area, its user and where it goes on failure')
    .action(async () =>
      show((await callApi(globals().stateDir, 'GET', '/v1/table')) as TableView, renderResourceTable),
    );

  program
    .command('history')
    .description('every failover with its trigger and phases')
    .action(async () =>
      show((await callApi(globals().stateDir, 'GET', '/v1/history')) as HistoryView, (records) =>
        records.length === 0 ? 'no failovers yet' : records.map((r) => renderTimeline(r)).join('\n\n'),
      ),
    );

  program
    .command('failover')
    .description('fail the active VM over to the standby now, or with --app move that app alone')
    .option('--app <name>', 'move only this app')
    .action(async (options: { app?: string }) => {
      const body = options.app === undefined ? {} : { app: options.app };
      const result = (await callApi(globals().stateDir, 'POST', '/v1/failover', body)) as {
        id: string;
        joined: boolean;
      };
      show(
        result,
        (r) =>
          `failover ${r.id} ${r.joined ? 'already under way' : 'started'}: follow it with \`baton history\``,
      );
    });

  const switchoverDeps = {
    stateDir: () => globals().stateDir,
    show,
    exitWith: (code: number) => new CommanderExit(code),
    parseCount: parsePositiveInt,
  };
  program.addCommand(buildSwitchoverCommand(switchoverDeps));
  program.addCommand(buildMaintenanceCommand(switchoverDeps));

  program
    .command('request')
    .description("grow an app's memory from the monitor's pool (seed claim 5)")
    .requiredOption('--app <name>', 'the app')
    .requiredOption('--memory <size>', "the app's new total size, e.g. 192MiB")
    .action(async (options: { app: string; memory: string }) => {
      parseSizeBytes(options.memory); // Refuse a bad size before talking to the daemon.
      const result = await callApi(globals().stateDir, 'POST', '/v1/request', {
        app: options.app,
        memory: options.memory,
      });
      show(
        result as { grantedBytes: number; epoch: number },
        (r) => `granted ${r.grantedBytes} bytes; table epoch ${r.epoch}`,
      );
    });

  program
    .command('inject')
    .description('inject a fault (only when the config allows fault injection)')
    .addOption(
      new Option('--fault <kind>', 'the fault')
        .choices(['panic', 'hang', 'app-crash', 'app-hang', 'app-fail'])
        .makeOptionMandatory(),
    )
    .option('--app <name>', 'the app, for app faults')
    .action(async (options: { fault: string; app?: string }) => {
      await callApi(globals().stateDir, 'POST', '/v1/inject', {
        fault: options.fault,
        ...(options.app === undefined ? {} : { app: options.app }),
      });
      show({ ok: true }, () => `injected ${options.fault}`);
    });

  program
    .command('down')
    .description('stop the daemon and both VMs')
    .action(async () => {
      await callApi(globals().stateDir, 'POST', '/v1/down', {});
      show({ ok: true }, () => 'the daemon is stopping the pair');
    });

  program
    .command('demo')
    .description(
      'the main job: boot the pair, run kvd and cache under client traffic, then an app crash, a crash loop and a guest panic, with the table and timelines',
    )
    .addOption(accelOption())
    .option(
      '--keys <n>',
      'writes acknowledged before the first fault',
      (text: string) => parsePositiveInt(text, '--keys'),
      100,
    )
    .action(async (options: { accel: AccelRequest; keys: number }) => {
      const result = await runDemo({
        accel: options.accel,
        keys: options.keys,
        json: globals().json,
        log: logger(),
        print,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      // Every acknowledged write must survive the faults: anything less is a failed demo.
      if (result.writesReadable < result.writesAcknowledged) throw new CommanderExit(EXIT.failed);
    });

  program.addCommand(
    buildBenchCommand({ accelOption, parseCount: parsePositiveInt, isJson: () => globals().json }),
  );

  program
    .command('probe')
    .description('probe /dev/kvm and show which accelerator --accel auto would choose, and why')
    .action(async () => {
      const probe = await loadNative().probeKvm();
      const decision = decideAccel('auto', probe);
      show({ probe, decision }, () =>
        [
          `/dev/kvm: ${probe.present ? 'present' : 'absent'}, API version ${probe.apiVersion ?? 'n/a'}`,
          `KVM usable for a stock kernel: ${probe.usable ? 'yes' : 'no'} (${probe.reason})`,
          `--accel auto chooses ${decision.accel.toUpperCase()}`,
        ].join('\n'),
      );
    });
  return program;
}

const EXIT_BY_CODE: Record<string, number> = {
  MISSING_DEPENDENCY: EXIT.missingDependency,
  NATIVE_LOAD_FAILED: EXIT.missingDependency,
  INVALID_INPUT: EXIT.usage,
  INVALID_CONFIG: EXIT.usage,
  DAEMON_NOT_RUNNING: EXIT.daemonNotRunning,
  CONFLICT: EXIT.refused,
  NOT_FOUND: EXIT.refused,
  TABLE_REQUEST_REFUSED: EXIT.refused,
  MEMORY_REQUEST_REFUSED: EXIT.refused,
  APP_MOVE_REFUSED: EXIT.refused,
};

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderExit) return error.exitCode;
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return EXIT.ok;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
    process.stderr.write(`baton: ${(error as Error).message}\n`);
    return isBatonError(error) ? (EXIT_BY_CODE[error.code] ?? EXIT.failed) : EXIT.failed;
  }
}
