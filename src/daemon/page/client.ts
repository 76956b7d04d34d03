// The status page's script: polls the overview and rebuilds the page with textContent only (never
// innerHTML), so names from the config or a guest stay text. Copied into the page by its source text.
import type { HistoryView } from '../views.js';
import type { PageDeps, PageDocument, PageElement } from './deps.js';
import type { Overview } from './shape.js';

/** Polls `deps.load` every `deps.pollMs` (one request at a time) and renders each answer. */
export function runStatusPage(doc: PageDocument, deps: PageDeps): void {
  const SHOWN_FAILOVERS = 6;
  const AFTER_TEXT = 'after the recovery: not counted in its time';
  const STATE_CLASS: Record<string, string> = { protected: 'good', blocked: 'bad', stopped: 'bad' };
  const KIND_CLASS: Record<string, string> = { os: 'k-os', monitor: 'k-monitor', pool: 'k-pool' };
  const RESULT_CLASS: Record<string, string> = { succeeded: 'good', failed: 'bad', blocked: 'bad' };
  const byId = (id: string) => {
    const found = doc.getElementById(id);
    if (found === null) throw new Error(`status page: no element #${id}`);
    return found;
  };
  const el = (tag: string, className: string, ...children: Array<PageElement | string>) => {
    const made = doc.createElement(tag);
    if (className !== '') made.className = className;
    made.append(...children);
    return made;
  };
  const tagged = (made: PageElement, attribute: string, value: string) => {
    made.setAttribute(attribute, value);
    return made;
  };
  const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;
  const bar = (className: string, offsetPct: number, widthPct: number, text: string, title: string) => {
    const made = el('div', className, text);
    made.style.marginLeft = `${offsetPct}%`;
    made.style.width = `${widthPct}%`;
    made.title = title;
    return made;
  };

  const renderTable = (overview: Overview) => {
    const { table, status } = overview;
    const rows = deps.tableRows(table, status).map((row) => {
      const segments = row.segments.map((s) => {
        const kindClass =
          s.kind === 'app' ? `k-app app-${Math.max(0, s.appIndex) % 6}` : (KIND_CLASS[s.kind] ?? 'k-other');
        const title = `${s.area}: ${deps.formatBytes(s.sizeBytes)}, used by ${s.user}, on failure to ${s.onFailure}${s.kind === 'app' ? `, plugged ${deps.formatBytes(s.pluggedBytes)}` : ''}`;
        const segment = bar(
          `seg ${kindClass}`,
          0,
          s.widthPct,
          `${s.label} ${deps.formatBytes(s.sizeBytes)}`,
          title,
        );
        segment.setAttribute('data-area', s.area);
        segment.setAttribute('data-kind', s.kind);
        return segment;
      });
      const label = el('div', 'row-label', el('b', '', row.user), el('span', 'sub', ` ${row.role}`));
      const total = el('div', 'row-total', deps.formatBytes(row.totalBytes));
      return tagged(
        el('div', 'table-row', label, el('div', 'track', ...segments), total),
        'data-user',
        row.user,
      );
    });
    byId('table-rows').replaceChildren(...rows);
    const sumBytes = table.areas.reduce((sum, area) => sum + area.sizeBytes, 0);
    byId('table-summary').textContent =
      `epoch ${table.epoch}: ${table.areas.length} areas, ${deps.formatBytes(sumBytes)} of a ${deps.formatBytes(table.budgetBytes)} budget, drawn to scale`;
  };

  const cells = (values: string[]) => values.map((value) => el('td', '', value));
  const renderVmsAndApps = (overview: Overview) => {
    const vms = overview.status.vms.map((vm) => {
      const level = deps.heartbeatLevel(vm.heartbeatAgeMs);
      const beat = el(
        'td',
        '',
        el('span', `dot ${level}`),
        vm.heartbeatAgeMs === null ? '-' : deps.formatMs(vm.heartbeatAgeMs),
      );
      const row = el(
        'tr',
        '',
        ...cells([vm.name]),
        el('td', '', el('span', `badge ${vm.role === 'active' ? 'good' : 'plain'}`, vm.role)),
        ...cells([vm.state, vm.pid === null ? '-' : String(vm.pid), vm.accel]),
        ...cells([deps.formatBytes(vm.baseBytes), deps.formatBytes(vm.pluggedBytes)]),
        beat,
      );
      return tagged(row, 'data-vm', vm.name);
    });
    byId('vms-body').replaceChildren(...vms);
    const apps = overview.status.apps.map((app) => {
      const row = el(
        'tr',
        '',
        ...cells([app.name, app.vm ?? '-']),
        el('td', '', el('span', `badge ${app.state === 'running' ? 'good' : 'warn'}`, app.state)),
        ...cells([String(app.restarts), `127.0.0.1:${app.endpointPort}`]),
      );
      return tagged(row, 'data-app', app.name);
    });
    byId('apps-body').replaceChildren(...apps);
  };

  const renderFailover = (record: HistoryView[number]) => {
    const phases = deps.phaseBars(record).map((p) => {
      const line = el(
        'div',
        'phase',
        el('div', 'phase-name', p.name),
        el('div', 'phase-ms', deps.formatMs(p.ms)),
        el(
          'div',
          'track',
          p.isAfterRecovery
            ? bar('pbar after', 0, 100, AFTER_TEXT, `${p.name}: ${deps.formatMs(p.ms)}, ${AFTER_TEXT}`)
            : bar('pbar', p.offsetPct, p.widthPct, '', `${p.name}: ${deps.formatMs(p.ms)}`),
        ),
      );
      return tagged(line, 'data-phase', p.name);
    });
    const heading = el(
      'div',
      'fo-head',
      el('b', '', `${record.kind} failover ${record.id.slice(0, 8)}`),
      ` ${record.fromVm} → ${record.toVm}${record.app === null ? '' : ` (${record.app})`}, ${record.trigger} `,
      el('span', `badge ${RESULT_CLASS[record.result] ?? 'warn'}`, record.result),
      el(
        'span',
        'sub',
        ` in ${deps.formatMs(record.totalMs)}, started ${clock(Date.parse(record.startedAt))}`,
      ),
    );
    const card = el('div', 'failover', heading, ...phases);
    if (record.error !== null) card.append(el('div', 'error', record.error));
    card.setAttribute('data-failover', record.id);
    card.setAttribute('data-result', record.result);
    return card;
  };

  const render = (overview: Overview) => {
    const { status } = overview;
    const state = byId('pair-state');
    state.className = `badge big ${STATE_CLASS[status.state] ?? 'warn'}`;
    state.textContent = status.blocked
      ? `blocked: ${status.blockedReason ?? 'no reason given'}`
      : status.state;
    renderTable(overview);
    renderVmsAndApps(overview);
    const recent = deps.recentFailovers(overview.history, SHOWN_FAILOVERS);
    byId('failovers').replaceChildren(...recent.map(renderFailover));
    const older = overview.history.length - recent.length;
    byId('failovers-summary').textContent =
      overview.history.length === 0
        ? 'none yet'
        : `${overview.history.length} in all${older > 0 ? `, the newest ${recent.length} shown` : ''}, newest first`;
  };

  let lastOkMs: number | undefined;
  const stale = (what: string) => {
    byId('freshness').className = 'stale';
    byId('freshness').textContent =
      `${what}; last update ${lastOkMs === undefined ? 'never' : clock(lastOkMs)}`;
  };
  const poll = () => {
    deps
      .load()
      .then(
        (overview) => {
          // A failure here is the page's own (an answer it cannot draw), not the daemon's.
          try {
            render(overview);
          } catch (error) {
            stale(`the page could not draw the daemon's answer (${String(error)})`);
            return;
          }
          lastOkMs = deps.nowMs();
          byId('freshness').className = 'sub';
          byId('freshness').textContent =
            `updated ${clock(lastOkMs)}, polling every ${deps.formatMs(deps.pollMs)}`;
        },
        (error: unknown) => stale(`the daemon does not answer (${String(error)})`),
      )
      .finally(() => deps.schedule(poll, deps.pollMs));
  };
  poll();
}
