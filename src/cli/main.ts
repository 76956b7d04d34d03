// The `baton` command line: parses arguments, runs a command, prints for people or as JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from '../config/defaults.js';
import { loadConfig, toPairConfig } from '../config/load.js';
import type { HistoryView, StatusView, TableView } from '../daemon/views.js';
import { InvalidInputError } from '../errors.js';
import { createLogger } from '../log.js';
import { loadNative } from '../native/binding.js';
import { PACKAGE_ROOT } from '../paths.js';
import { parseSizeBytes } from '../units.js';
import { type AccelRequest, decideAccel, parseAccelRequest } from '../vm/accel.js';
import { buildBenchCommand } from './bench-command.js';
import { runCheckConfig } from './check-config.js';
import { callApi } from './client.js';
import { DEMO_GUESTS, type DemoGuest } from './demo-guests.js';
import { buildEventsCommand } from './events-command.js';
import { describeFailure, EXIT, EXIT_HELP, isJsonRequested } from './exit.js';
import { buildFailoverCommand } from './failover-command.js';
import { renderResourceTable, renderStatus, renderTimeline } from './render.js';
import { buildMaintenanceCommand, buildSwitchoverCommand } from './switchover-command.js';

export { EXIT } from './exit.js';

export const DEFAULT_STATE_DIR = '/var/lib/baton';

/** baton's version, from package.json. */
export function readVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

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

/**
 * The `baton` program. With `isJsonErrors`, commander does not print its own argument errors:
 * main() prints them as JSON.
 */
export function buildProgram(options: { isJsonErrors?: boolean } = {}): Command {
  const program = new Command('baton')
    .description('Single-host hot-standby manager for QEMU/KVM')
    .version(readVersion(), '-V, --version', "print baton's version")
    .configureOutput({
      outputError: (text, write) => {
        if (options.isJsonErrors !== true) write(text);
      },
    })
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
        // Loaded here: the CLI's other commands start without the daemon (scripts call them often).
        const { runDaemon } = await import('../daemon/daemon.js');
        await runDaemon({
          config: pairConfig,
          accel,
          log: createLogger({ isDaemon: true }),
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

  program.addCommand(
    buildFailoverCommand({
      stateDir: () => globals().stateDir,
      isJson: () => globals().json,
      print,
      progress: (line) => process.stderr.write(`${line}\n`),
      exit: (code) => {
        throw new CommanderExit(code);
      },
    }).copyInheritedSettings(program),
  );

  program.addCommand(
    buildEventsCommand({ stateDir: () => globals().stateDir, print }).copyInheritedSettings(program),
  );

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
      'the main job: boot the pair (Redis in Debian guests, or kvd in the built-in ones) under client traffic, then an app crash, a crash loop and a guest panic, with the table and timelines',
    )
    .addOption(accelOption())
    .addOption(
      new Option(
        '--guest <kind>',
        'debian: Redis in the Debian 12 guests from contrib/examples/redis.yaml (needs `make images`); builtin: kvd in the busybox guests (fast)',
      )
        .choices(DEMO_GUESTS)
        .default('debian'),
    )
    .option(
      '--keys <n>',
      'writes acknowledged before the first fault',
      (text: string) => parsePositiveInt(text, '--keys'),
      100,
    )
    .action(async (options: { accel: AccelRequest; guest: DemoGuest; keys: number }) => {
      const { runDemo } = await import('./demo.js');
      const result = await runDemo({
        accel: options.accel,
        guest: options.guest,
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
    buildBenchCommand({
      accelOption,
      parseCount: parsePositiveInt,
      isJson: () => globals().json,
    }).copyInheritedSettings(program),
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

export async function main(argv: string[]): Promise<number> {
  const isJson = isJsonRequested(argv.slice(2));
  const program = buildProgram({ isJsonErrors: isJson });
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderExit) return error.exitCode;
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return EXIT.ok;
    const failure = describeFailure(error);
    if (isJson) print(JSON.stringify({ error: failure.json }, null, 2));
    // Commander has printed its own argument errors already (unless JSON was asked for).
    else if (typeof code !== 'string' || !code.startsWith('commander.'))
      process.stderr.write(`baton: ${failure.json.message}\n`);
    return failure.exitCode;
  }
}
