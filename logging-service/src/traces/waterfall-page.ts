import type { TraceView } from './trace-view';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON inside a <script> block: '<' is escaped so no value can close the tag. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028|\u2029/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));

export const WATERFALL_CSS = `
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:16px;margin:0 0 4px} .meta{color:#666;margin-bottom:12px}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.row{display:flex;align-items:center;height:24px;cursor:pointer;border-bottom:1px solid #f0f0f0}
.row:hover,.row.sel{background:#f4f8ff}
.label{width:38%;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;padding-right:8px}
.track{position:relative;flex:1;height:14px}
.bar{position:absolute;height:14px;border-radius:2px;min-width:2px}
.bar.error{outline:2px solid #d33}
.dur{position:absolute;font-size:11px;color:#555;white-space:nowrap;top:-1px;padding-left:4px}
#detail{margin-top:16px;border-top:2px solid #ddd;padding-top:8px}
table{border-collapse:collapse}td{padding:2px 8px;border-bottom:1px solid #eee;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}
.lvl-error{color:#c00}.lvl-warn{color:#a60}
`;

/**
 * The client half: draws bars from the embedded trace and shows a span's details on click. Served
 * as its own file (/assets/waterfall.js) so the page's CSP can forbid inline script.
 */
export const WATERFALL_JS = `
const t=JSON.parse(document.getElementById('trace-data').textContent);
const palette=['#4e79a7','#f28e2b','#59a14f','#b07aa1','#76b7b2','#edc948','#ff9da7','#9c755f','#bab0ac','#e15759'];
const colour=s=>palette[t.services.indexOf(s)%palette.length];
const start=s=>Date.parse(s.startTime);
const t0=Math.min(...t.spans.map(start));
const t1=Math.max(...t.spans.map(s=>start(s)+s.durationMs));
const total=Math.max(t1-t0,0.001);
const byId=new Map(t.spans.map(s=>[s.spanId,s]));
const depth=s=>{let d=0,p=s;const seen=new Set();while(p&&p.parentSpanId&&byId.has(p.parentSpanId)&&!seen.has(p.spanId)){seen.add(p.spanId);p=byId.get(p.parentSpanId);d++}return d};
const el=(tag,props={},...kids)=>{const e=document.createElement(tag);Object.assign(e,props);for(const k of kids)e.append(k);return e};
document.getElementById('legend').append(...t.services.map(s=>{const i=el('i');i.style.background=colour(s);return el('span',{},i,s)}));
const rows=document.getElementById('rows');
for(const s of t.spans){
  const label=el('div',{className:'label',title:s.name},s.service+' · '+s.name);label.style.paddingLeft=(depth(s)*14)+'px';
  const bar=el('div',{className:'bar'+(s.status==='error'?' error':'')});
  const left=(start(s)-t0)/total*100,width=s.durationMs/total*100;
  Object.assign(bar.style,{left:left+'%',width:width+'%',background:colour(s.service)});
  const dur=el('span',{className:'dur'},s.durationMs.toFixed(2)+' ms');
  if(left+width>85){dur.style.right=(100-left)+'%';dur.style.paddingRight='4px'}else dur.style.left=(left+width)+'%';
  const row=el('div',{className:'row'},label,el('div',{className:'track'},bar,dur));
  row.dataset.spanId=s.spanId;row.addEventListener('click',()=>show(s,row));rows.append(row);
}
function show(s,row){
  for(const r of rows.children)r.classList.toggle('sel',r===row);
  const d=document.getElementById('detail');d.replaceChildren();
  d.append(el('h2',{},s.name),el('div',{className:'meta'},s.service+' · '+s.kind+' · status '+s.status+' · '+s.durationMs.toFixed(3)+' ms · span '+s.spanId+(s.parentSpanId?' · parent '+s.parentSpanId:'')));
  const attrs=el('table');for(const [k,v] of Object.entries(s.attributes))attrs.append(el('tr',{},el('td',{},k),el('td',{},typeof v==='string'?v:JSON.stringify(v))));
  d.append(el('h3',{},'Attributes'),attrs.children.length?attrs:el('div',{className:'meta'},'No attributes.'));
  const logs=el('table');for(const l of s.logs)logs.append(el('tr',{className:'lvl-'+l.level},el('td',{},l.time),el('td',{},l.level),el('td',{},l.message)));
  d.append(el('h3',{},'Logs ('+s.logs.length+')'),s.logs.length?logs:el('div',{className:'meta'},'No logs for this span.'));
}
if(t.spans[0])show(t.spans[0],rows.children[0]);
`;

/** Where the page's script and style are served (same origin; see trace-router.ts). */
export const ASSETS = { js: '/assets/waterfall.js', css: '/assets/waterfall.css' } as const;

/**
 * Sent with every page: scripts and styles only from this origin, no inline script, nothing else
 * loaded, not framable. The trace travels as a JSON data block, which CSP does not execute.
 */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HEAD = `<link rel="stylesheet" href="${ASSETS.css}">`;

/** A page with no inline script: the trace as a JSON data block, drawn by /assets/waterfall.js. */
export function waterfallPage(trace: TraceView): string {
  const first = trace.spans[0];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trace ${escapeHtml(trace.traceId)}</title>${HEAD}</head>
<body>
<h1>Trace ${escapeHtml(trace.traceId)}</h1>
<div class="meta">${trace.spans.length} spans · ${trace.services.length} services${first ? ` · started ${escapeHtml(first.startTime)}` : ''}</div>
<div class="legend" id="legend"></div>
<div id="rows"></div>
<div id="detail"></div>
<script type="application/json" id="trace-data">${scriptJson(trace)}</script>
<script src="${ASSETS.js}"></script>
</body></html>`;
}

export function notFoundPage(traceId: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trace not found</title>${HEAD}</head>
<body><h1>Trace not found</h1><p class="meta">No spans are stored for trace <code>${escapeHtml(traceId)}</code>. Spans arrive a few seconds after the work they describe; reload shortly.</p></body></html>`;
}
