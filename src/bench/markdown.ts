// Renders a benchmark report as Markdown: the tables the README quotes, each figure with its accelerator.
import { formatBytes } from '../units.js';
import { formatRssBytes, formatSpreadMs, renderMarkdownTable } from './markdown-table.js';
import { givenMemoryOf } from './ratios.js';
import { BENCH_PHASES, type BenchReport, type MemoryFootprint } from './report.js';

/** The whole report: machine and accelerator, recovery by phase against a cold restart, memory, scaling, overhead. */
export function renderMarkdownReport(report: BenchReport): string {
  const accel = report.accel.accel.toUpperCase();
  const out: string[] = [
    `# baton benchmarks, ${report.startedAt}`,
    '',
    `Command: \`${report.command}\`. Machine: ${report.machine.cpus} cores (${report.machine.cpuModel}), ${formatBytes(report.machine.memTotalBytes)} RAM, Linux ${report.machine.kernel}, Node ${report.machine.node}, ${report.machine.qemu}.`,
    `Accelerator: **${accel}** (${report.accel.reason}). Times under TCG are not comparable with KVM; ratios are.`,
    '',
    `## Recovery, ms (${accel})`,
    '',
    `From the fault's injection to the first successful request through the stable endpoint; median (min–max) of ${report.runsPerScenario} runs.`,
    '',
    renderMarkdownTable(
      ['scenario', 'total', ...BENCH_PHASES, 'accel'],
      [
        ...report.recovery.map((r) => [
          `${r.scenario} (${r.kind}, ${formatBytes(r.appSizeBytes)})`,
          `**${formatSpreadMs(r.totalMs)}**`,
          ...BENCH_PHASES.map((p) => formatSpreadMs(r.phasesMs[p])),
          accel,
        ]),
        ...(report.coldRestart === undefined
          ? []
          : [
              [
                `baseline: cold restart (${formatBytes(report.coldRestart.appSizeBytes)})`,
                `**${formatSpreadMs(report.coldRestart.totalMs)}**`,
                `boot to agent ${formatSpreadMs(report.coldRestart.bootMs)}`,
                `app placed and answering ${formatSpreadMs(report.coldRestart.appMs)}`,
                ...BENCH_PHASES.slice(2).map(() => ''),
                accel,
              ],
            ]),
      ],
    ),
    '',
    ...renderRatios(report),
    ...renderMemory(report),
    ...renderScaling(report),
    ...renderOverhead(report),
    ...(report.errors.length === 0
      ? []
      : ['## Not measured', '', ...report.errors.map((e) => `- ${e.section}: ${e.message}`), '']),
  ];
  return `${out.join('\n').trimEnd()}\n`;
}

function renderRatios(report: BenchReport): string[] {
  const r = report.ratios;
  const lines: string[] = [];
  if (r.recoveryVsColdRestart !== undefined)
    lines.push(
      `- recovery (guest panic) / cold restart: **${r.recoveryVsColdRestart}** (${report.accel.accel.toUpperCase()})`,
    );
  if (r.pairGivenVsStaticStandby !== undefined)
    lines.push(`- pair memory given to guests / static full-size standby: **${r.pairGivenVsStaticStandby}**`);
  if (r.pairRssVsStaticStandby !== undefined)
    lines.push(
      `- pair host RSS (QEMUs + monitor) / static full-size standby: **${r.pairRssVsStaticStandby}**`,
    );
  if (r.recoveryGrowth !== undefined) {
    const g = r.recoveryGrowth;
    lines.push(
      `- whole-VM recovery grows from ${Math.round(g.fromMs)} ms at ${formatBytes(g.fromBytes)} to ${Math.round(g.toMs)} ms at ${formatBytes(g.toBytes)}: **×${g.factor}** (${report.accel.accel.toUpperCase()})`,
    );
  }
  return lines.length === 0 ? [] : ['## Ratios', '', ...lines, ''];
}

function renderMemory(report: BenchReport): string[] {
  const m = report.memory;
  if (m === undefined) return [];
  const row = (what: string, f: MemoryFootprint) => [
    what,
    Object.entries(f.qemuRssBytes)
      .map(([vm, rss]) => `${vm} ${formatRssBytes(rss)}`)
      .join(', '),
    formatRssBytes(f.processRssBytes),
    `**${formatRssBytes(f.totalRssBytes)}**`,
    `**${formatBytes(f.guestGivenBytes)}**`,
  ];
  return [
    `## Host memory, app of ${formatBytes(m.appSizeBytes)} (${report.accel.accel.toUpperCase()})`,
    '',
    'RSS counts only the guest memory a guest has touched: an idle standby stays small in RSS whatever it is given, and kvd uses little of its area. The memory given to the guests is what the host must be able to back once they use it.',
    '',
    renderMarkdownTable(
      ['setup', 'QEMU RSS', 'monitor process RSS', 'total RSS', 'memory given to guests'],
      [
        row("baton's pair (active + tiny standby)", m.baton),
        row('static full-size hot standby', m.staticStandby),
      ],
    ),
    '',
  ];
}

function renderScaling(report: BenchReport): string[] {
  const accel = report.accel.accel.toUpperCase();
  const { bySize, byAppCount } = report.scaling;
  const out: string[] = [];
  if (bySize.length > 0)
    out.push(
      `## Whole-VM recovery against the app's memory, ms (${accel}, ${report.scalingRuns} runs each)`,
      '',
      renderMarkdownTable(
        [
          'app memory',
          'standby base',
          'standby QEMU RSS',
          'recovery total',
          'plug',
          'given to guests: pair / static standby',
          'accel',
        ],
        bySize.map((p) => [
          formatBytes(p.appSizeBytes),
          formatBytes(p.standbyBaseBytes),
          p.standbyRssBytes === 0 ? 'n/a' : formatRssBytes(p.standbyRssBytes),
          p.error === undefined ? formatSpreadMs(p.totalMs) : `failed: ${p.error}`,
          p.error === undefined ? formatSpreadMs(p.plugMs) : '',
          formatGiven(p.standbyBaseBytes, p.appSizeBytes),
          accel,
        ]),
      ),
      '',
    );
  const footprints = report.scaling.standbyFootprint ?? [];
  if (footprints.length > 0)
    out.push(
      `## Standby footprint against the largest app it took over (${accel})`,
      '',
      renderMarkdownTable(
        ['standby base memory', 'standby QEMU RSS', 'largest app taken over in this run', 'accel'],
        footprints.map((f) => [
          formatBytes(f.standbyBaseBytes),
          formatRssBytes(f.standbyRssBytes),
          formatBytes(f.largestAppBytes),
          accel,
        ]),
      ),
      '',
    );
  if (byAppCount.length > 0)
    out.push(
      `## Whole-VM recovery against the number of apps, ms (${accel}, ${report.scalingRuns} runs each)`,
      '',
      'Total: until every app answers through its endpoint; plug: the sum over the apps.',
      '',
      renderMarkdownTable(
        ['apps', 'memory each', 'recovery total', 'plug', 'accel'],
        byAppCount.map((p) => [
          String(p.apps),
          formatBytes(p.appSizeBytes),
          p.error === undefined ? formatSpreadMs(p.totalMs) : `failed: ${p.error}`,
          p.error === undefined ? formatSpreadMs(p.plugMs) : '',
          accel,
        ]),
      ),
      '',
    );
  return out;
}

function renderOverhead(report: BenchReport): string[] {
  const o = report.overhead;
  if (o === undefined) return [];
  const accel = report.accel.accel.toUpperCase();
  return [
    `## Overhead (${accel}, ${Math.round(o.windowMs / 1000)} s windows)`,
    '',
    renderMarkdownTable(
      ['what', 'figure', 'accel'],
      [
        [
          'monitor process idle (no pair)',
          `RSS ${formatRssBytes(o.idle.rssBytes)}, CPU ${o.idle.cpuPercent}%`,
          accel,
        ],
        [
          'monitor process with the pair protected (heartbeats every 500 ms from both guests)',
          `RSS ${formatRssBytes(o.heartbeats.rssBytes)}, CPU ${o.heartbeats.cpuPercent}%`,
          accel,
        ],
        [
          'idle guests (QEMU CPU)',
          Object.entries(o.heartbeats.qemuCpuPercent)
            .map(([vm, cpu]) => `${vm} ${cpu}%`)
            .join(', '),
          accel,
        ],
        [
          `QMP query-status round trip (${o.qmpRoundTripMs.runs} calls)`,
          `median ${o.qmpRoundTripMs.median} ms, min ${o.qmpRoundTripMs.min}, p99 ${o.qmpRoundTripMs.p99}, max ${o.qmpRoundTripMs.max}`,
          accel,
        ],
      ],
    ),
    '',
  ];
}

/** `4480 MiB / 8576 MiB (0.52)`: what the guests are given, baton's pair against a static full-size standby. */
function formatGiven(baseBytes: number, appBytes: number): string {
  const given = givenMemoryOf(baseBytes, appBytes);
  return `${formatBytes(given.pairBytes)} / ${formatBytes(given.staticBytes)} (${given.ratio ?? 'n/a'})`;
}
