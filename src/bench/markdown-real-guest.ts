// The report's real-guest section: Redis in the Debian pair, a guest panic by phase against a cold restart of the same VM.
import { formatBytes } from '../units.js';
import { formatRssBytes, formatSpreadMs, renderMarkdownTable } from './markdown-table.js';
import { BENCH_PHASES, type BenchReport } from './report.js';

/** The section, or nothing when the run did not measure the real guest. */
export function renderRealGuest(report: BenchReport): string[] {
  const real = report.realGuest;
  if (real === undefined) return [];
  const accel = report.accel.accel.toUpperCase();
  const rows: string[][] = [];
  if (real.recovery !== undefined)
    rows.push([
      `guest panic of the VM running ${real.app} (whole-vm, ${formatBytes(real.appSizeBytes)})`,
      `**${formatSpreadMs(real.recovery.totalMs)}**`,
      ...BENCH_PHASES.map((p) =>
        formatSpreadMs(real.recovery?.phasesMs[p] ?? { median: 0, min: 0, max: 0, runs: 0 }),
      ),
      accel,
    ]);
  if (real.coldRestart !== undefined)
    rows.push([
      `baseline: cold restart of the Debian VM with ${real.app} (${formatBytes(real.coldRestart.appSizeBytes)})`,
      `**${formatSpreadMs(real.coldRestart.totalMs)}**`,
      `boot to agent ${formatSpreadMs(real.coldRestart.bootMs)}`,
      `${real.app} placed and answering ${formatSpreadMs(real.coldRestart.appMs)}`,
      ...BENCH_PHASES.slice(2).map(() => ''),
      accel,
    ]);
  const ratio = report.ratios.realGuestRecoveryVsColdRestart;
  return [
    `## Real guest: ${real.app} in Debian (${accel})`,
    '',
    `The pair from \`${real.config}\`${real.kernelRelease === undefined ? '' : ` (kernel ${real.kernelRelease})`}. A client writes keys through the stable endpoint with a Redis client; after a kernel panic of the VM running ${real.app}, it reads back (\`GET\`) a key written before the fault until the answer is its value. The cold restart boots one fresh VM from the same image with ${real.app}'s full memory and starts ${real.app} on the same data disk, timed from QEMU's launch to the first right \`GET\`.`,
    '',
    rows.length === 0
      ? 'No figures: the section did not get that far (see Not measured).'
      : renderMarkdownTable(['scenario', 'total', ...BENCH_PHASES, 'accel'], rows),
    '',
    ...(ratio === undefined
      ? []
      : [
          `- recovery (guest panic) / cold restart of the same Debian VM: **${ratio}** (${accel}; target ≤ 0.05)`,
        ]),
    `- the distro standby's base memory: **${formatBytes(real.standbyBaseBytes)}**${real.standbyRssBytes === undefined ? '' : `, its QEMU's host RSS while idle ${formatRssBytes(real.standbyRssBytes)}`}`,
    '',
  ];
}
