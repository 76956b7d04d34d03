// Renders the resource table and a failover timeline for people.
import type { HistoryView, StatusView, TableView } from '../daemon/views.js';
import { formatBytes, formatMs } from '../units.js';
import { renderTable } from './format.js';

/** The table as the seed's figure 4 draws it: area, size, user, where it goes on failure. */
export function renderResourceTable(table: {
  epoch: number;
  budgetBytes: number;
  areas: ReadonlyArray<Omit<TableView['areas'][number], 'requestedBytes'>>;
}): string {
  const rows = table.areas.map((area) => [
    area.name,
    area.kind,
    formatBytes(area.sizeBytes),
    area.user,
    area.onFailure,
    area.kind === 'app' ? formatBytes(area.pluggedBytes) : '-',
  ]);
  const total = table.areas.reduce((sum, area) => sum + area.sizeBytes, 0);
  return [
    renderTable(['area', 'kind', 'size', 'user', 'on failure', 'plugged (QEMU)'], rows),
    `epoch ${table.epoch}, sum ${formatBytes(total)} of a ${formatBytes(table.budgetBytes)} budget`,
  ].join('\n');
}

/** One line per phase with a bar proportional to its share of the total. */
export function renderTimeline(record: Omit<HistoryView[number], 'app' | 'error'>, widthChars = 40): string {
  const longest = Math.max(1, ...record.phases.map((p) => p.ms));
  const nameWidth = Math.max(...record.phases.map((p) => p.name.length));
  const lines = record.phases.map((p) => {
    const bar = '#'.repeat(Math.max(p.ms > 0 ? 1 : 0, Math.round((p.ms / longest) * widthChars)));
    return `  ${p.name.padEnd(nameWidth)}  ${formatMs(p.ms).padStart(8)}  ${bar}`;
  });
  return [
    `failover ${record.id.slice(0, 8)} (${record.kind}, ${record.trigger}): ${record.fromVm} → ${record.toVm}, ${record.result} in ${formatMs(record.totalMs)}`,
    ...lines,
  ].join('\n');
}

/** `baton status` for people. */
export function renderStatus(status: StatusView): string {
  const vms = status.vms.map((vm) => [
    vm.name,
    vm.role,
    vm.state,
    vm.accel,
    vm.pid ?? '-',
    vm.uid ?? '-',
    formatBytes(vm.baseBytes),
    formatBytes(vm.pluggedBytes),
    vm.heartbeatAgeMs === null ? '-' : formatMs(vm.heartbeatAgeMs),
  ]);
  const apps = status.apps.map((app) => [
    app.name,
    app.vm ?? '-',
    app.reason === null ? app.state : `${app.state}: ${app.reason}`,
    app.restarts,
    `127.0.0.1:${app.endpointPort}`,
  ]);
  return [
    `pair: ${status.state}${status.blocked ? ` (${status.blockedReason ?? 'blocked'})` : ''}, table epoch ${status.epoch}`,
    ...renderMaintenance(status.maintenance),
    '',
    renderTable(['vm', 'role', 'state', 'accel', 'pid', 'uid', 'base', 'plugged', 'heartbeat age'], vms),
    '',
    renderTable(['app', 'vm', 'state', 'restarts', 'endpoint'], apps),
    ...status.apps
      .filter((app) => app.startError !== null)
      .map(
        (app) =>
          `${app.name} did not start on ${app.startError?.vm}: ${app.startError?.code}: ${app.startError?.message}`,
      ),
    ...(status.queued.length === 0
      ? []
      : ['', 'queued faults:', ...status.queued.map((line) => `  ${line}`)]),
  ].join('\n');
}

/** The maintenance line of `baton status` (nothing when it is off and holds nothing). */
export function renderMaintenance(maintenance: StatusView['maintenance'] | undefined): string[] {
  if (maintenance === undefined || (!maintenance.on && maintenance.heldFaults.length === 0)) return [];
  const held = maintenance.heldFaults.map(
    (fault) => `  held since ${fault.heldAt}: ${fault.reason}${fault.app === null ? '' : ` (${fault.app})`}`,
  );
  const head = maintenance.on
    ? `maintenance: on since ${maintenance.since ?? '?'} (automatic failovers held)`
    : 'maintenance: off';
  return [head, ...held];
}
