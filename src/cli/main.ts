// The `baton` command line: parses arguments, runs a command, prints for people or as JSON.
import { Command, Option } from 'commander';
import { InvalidInputError, isBatonError } from '../errors.js';
import { createLogger } from '../log.js';
import { loadNative } from '../native/binding.js';
import { decideAccel, parseAccelRequest } from '../vm/accel.js';
import { runDemo } from './demo.js';

/** Exit codes (documented in --help and the README). */
export const EXIT = { ok: 0, failed: 1, usage: 2, missingDependency: 3 } as const;

const accelOption = () =>
  new Option('--accel <mode>', 'accelerator: auto (KVM when usable, else TCG), kvm or tcg')
    .default('auto')
    .argParser(parseAccelRequest);

function parsePositiveInt(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidInputError(`Invalid ${what}: expected a whole number of at least 1, got '${text}'`);
  return value;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function buildProgram(): Command {
  const program = new Command('baton')
    .description('Single-host hot-standby manager for QEMU/KVM')
    .option('--json', 'print JSON for scripts instead of text for people', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 the command failed, 2 bad arguments, 3 a dependency is missing (QEMU, guest image, native addon).',
    );

  program
    .command('demo')
    .description(
      'boot the pair, run kvd behind its stable endpoint, panic the active guest, show the hand-off',
    )
    .addOption(accelOption())
    .option(
      '--keys <n>',
      'keys written before the fault',
      (text: string) => parsePositiveInt(text, '--keys'),
      100,
    )
    .action(async (options: { accel: ReturnType<typeof parseAccelRequest>; keys: number }) => {
      await runDemo({
        accel: options.accel,
        keys: options.keys,
        log: createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' }),
        print,
      });
    });

  program
    .command('probe')
    .description('probe /dev/kvm and show which accelerator --accel auto would choose, and why')
    .action(async () => {
      const probe = await loadNative().probeKvm();
      const decision = decideAccel('auto', probe);
      if (program.opts<{ json: boolean }>().json) {
        print(JSON.stringify({ probe, decision }, null, 2));
        return;
      }
      print(`/dev/kvm: ${probe.present ? 'present' : 'absent'}, API version ${probe.apiVersion ?? 'n/a'}`);
      print(`KVM usable for a stock kernel: ${probe.usable ? 'yes' : 'no'} (${probe.reason})`);
      print(`--accel auto chooses ${decision.accel.toUpperCase()}`);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT.ok;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
    process.stderr.write(`baton: ${(error as Error).message}\n`);
    if (isBatonError(error, 'MISSING_DEPENDENCY') || isBatonError(error, 'NATIVE_LOAD_FAILED'))
      return EXIT.missingDependency;
    if (isBatonError(error, 'INVALID_INPUT')) return EXIT.usage;
    return EXIT.failed;
  }
}
