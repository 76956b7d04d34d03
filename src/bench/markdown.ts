// Renders a benchmark report as Markdown: the tables the README quotes, each figure with its accelerator.
import { formatBytes, GiB } from '../units.js';
import { renderRealGuest } from './markdown-real-guest.js';
import { renderScaling } from './markdown-scaling.js';
import { formatRssBytes, formatSpreadMs, renderMarkdownTable } from './markdown-table.js';
import { BENCH_PHASES, type BenchReport, type MemoryFootprint } from './report.js';

const METHOD = [
  '- A client polls the endpoint (a new connection every 20 ms, at most 3 at once) with `GET` of a key written before the fault; an answer still coming from the failed side does not count.',
  "- detect: injection → the failover's start (the guest panic includes the agent's deliberate 100 ms before it panics; the hang, 3 s of heartbeat silence and a 1 s sync). fence: QMP stop/quit and the exit seen; for a single-app move, the app's stop, unplug and disk detach. route: the app healthy → the client's first right answer (table commit, endpoint, client retry).",
  '- app-crash-loop: kvd crashes, is restarted in place, and crashes again at once; timed from that second crash, which moves it alone.',
  "- cold restart: from QEMU's launch with the app's full memory to kvd's first PONG; detecting the fault and fencing are not counted, which favours the baseline.",
].join('\n');

/** The whole report: machine and accelerator, recovery by phase against a cold restart, memory, scaling, overhead. */
export function renderMarkdownReport(report: BenchReport): string {
  const accel = report.accel.accel.toUpperCase();
  const out: string[] = [
    `# baton benchmarks, ${report.startedAt}`,
    '',
    `Command: \`${report.command}\`. Machine: ${report.machine.cpus} cores (${report.machine.cpuModel}), ${(report.machine.memTotalBytes / GiB).toFixed(1)} GiB RAM, Linux ${report.machine.kernel}, Node ${report.machine.node}, ${report.machine.qemu}.`,
    `Accelerator: **${accel}** (${report.accel.reason}). Times under TCG are not comparable with KVM; ratios are.`,
    '',
    ...(report.recovery.length === 0 && report.coldRestart === undefined
      ? []
      : [
          `## Recovery, ms (${accel})`,
          '',
          `From the fault's injection to the first successful request through the stable endpoint; median (min–max) of ${report.runsPerScenario} runs.`,
          '',
          METHOD,
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
        ]),
    ...renderRatios(report),
    ...renderRealGuest(report),
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
  if (r.realGuestRecoveryVsColdRestart !== undefined)
    lines.push(
      `- real guest (Redis in Debian): recovery (guest panic) / cold restart: **${r.realGuestRecoveryVsColdRestart}** (${report.accel.accel.toUpperCase()})`,
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
