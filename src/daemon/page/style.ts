// The status page's stylesheet (inline in the page, allowed by its hash in the Content-Security-Policy).
export const STATUS_PAGE_CSS = `
:root { --fg: #1d2330; --sub: #5d6678; --line: #dde1e8; --bg: #f6f7f9; --card: #fff;
  --good: #1f8a4c; --warn: #b86e00; --bad: #c0392b; --phase: #3b6fd6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 14px; padding: 12px 24px; background: #1d2330; color: #fff; }
header h1 { margin: 0; font-size: 20px; letter-spacing: .5px; }
header .sub, header .stale { color: #c6ccd8; margin-left: auto; }
header .stale { color: #ffb4a8; font-weight: 600; }
main { padding: 16px 24px; display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
h2 { margin: 0 0 2px; font-size: 15px; }
.legend { float: right; color: var(--sub); font-size: 12px; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 4px 0 12px; vertical-align: -2px; }
.sub { color: var(--sub); font-weight: normal; }
.two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; background: none; border: 0; padding: 0; }
.two > div { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.table-row { display: grid; grid-template-columns: 130px minmax(0, 1fr) 70px; align-items: center; gap: 10px; margin-top: 8px; }
.row-total { text-align: right; color: var(--sub); font-variant-numeric: tabular-nums; }
.track { display: flex; height: 28px; background: #eef0f4; border-radius: 4px; overflow: hidden; }
.seg { height: 100%; padding: 0 6px; color: #fff; font-size: 12px; line-height: 28px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; border-right: 2px solid #fff; min-width: 2px; }
.k-os { background: #5b6b86; } .k-monitor { background: #7d55c7; } .k-other { background: #999; }
.k-pool { background: repeating-linear-gradient(45deg, #cfd5df, #cfd5df 6px, #dfe3ea 6px, #dfe3ea 12px); color: #3a4252; }
.app-0 { background: #168a7a; } .app-1 { background: #d9822b; } .app-2 { background: #c2457a; }
.app-3 { background: #3b6fd6; } .app-4 { background: #6a8f1f; } .app-5 { background: #8a5a44; }
table { width: 100%; border-collapse: collapse; margin-top: 6px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--sub); font-weight: 600; font-size: 12px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; line-height: 20px;
  background: #e4e7ed; color: var(--fg); }
.badge.big { font-size: 14px; line-height: 24px; padding: 0 12px; }
.badge.good { background: var(--good); color: #fff; } .badge.warn { background: var(--warn); color: #fff; }
.badge.bad { background: var(--bad); color: #fff; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: #bbb; }
.dot.ok { background: var(--good); } .dot.late { background: var(--warn); } .dot.silent { background: var(--bad); }
.failover { border-top: 1px solid var(--line); padding: 8px 0 4px; }
.failover:first-child { border-top: 0; }
.fo-head { margin-bottom: 4px; overflow-wrap: anywhere; }
.phase { display: grid; grid-template-columns: 130px 70px minmax(0, 1fr); gap: 10px; align-items: center; margin: 2px 0; }
.phase-ms { text-align: right; font-variant-numeric: tabular-nums; color: var(--sub); }
.phase .track { height: 14px; }
.pbar { height: 100%; background: var(--phase); border-radius: 3px; min-width: 2px; }
.pbar.after { background: none; color: var(--sub); font-size: 11px; line-height: 14px; padding-left: 6px; }
.error { color: var(--bad); margin-top: 4px; }
`;
