/**
 * The page's stylesheet and script, inline in the one HTML file (no network, no server). Colours: text on
 * every state colour is at least 4.5:1 (WCAG AA); each state also has its own glyph, so colour is never the
 * only cue. Task colours in the run-time chart are the Okabe-Ito palette (distinct for colour-blind readers).
 */
/** Each state's glyph: the shape carries the state as well as the colour. */
export const STATE_GLYPH = {
  succeeded: '✓',
  failed: '✕',
  running: '▶',
  skipped: '↷',
  waiting: '○',
} as const;

export const PAGE_CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;--accent:#0550ae;
--ok-bg:#dafbe1;--ok-fg:#116329;--fail-bg:#ffebe9;--fail-fg:#a40e26;--run-bg:#ddf4ff;--run-fg:#0550ae;
--skip-bg:#eaeef2;--skip-fg:#424a53;--wait-bg:#fff;--wait-fg:#57606a;
--t1:#E69F00;--t2:#56B4E9;--t3:#009E73;--t4:#C9B200;--t5:#0072B2;--t6:#D55E00;--t7:#CC79A7}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header.top{padding:16px 24px;border-bottom:1px solid var(--line);background:var(--panel)}
header.top h1{margin:0 0 4px;font-size:20px}
.meta{color:var(--muted);font-size:12px;word-break:break-all}
main{padding:8px 24px 32px;max-width:1400px}
h2{font-size:16px;margin:24px 0 8px}
h3{font-size:14px;margin:0 0 4px}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin-top:12px}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:var(--bg);min-width:150px;max-width:420px}
.tile b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.tile.alert{border-color:var(--fail-fg);background:var(--fail-bg);color:var(--fail-fg)}
.tile code{word-break:break-all}
.skipped{margin-top:10px;font-size:12px}.skipped ul{margin:4px 0;padding-left:20px}
.tile.good{border-color:var(--ok-fg);background:var(--ok-bg);color:var(--ok-fg)}
code{font-family:"DejaVu Sans Mono",ui-monospace,monospace;font-size:12px}
.scroll{overflow-x:auto;max-width:100%}
.box{max-height:min(70vh,640px);overflow-y:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;white-space:nowrap}
thead th{background:var(--panel);font-weight:600;font-size:12px;position:sticky;top:0;z-index:2}
tbody th{font-weight:normal;background:var(--bg);position:sticky;left:0;z-index:1}
tbody th a{font-family:"DejaVu Sans Mono",ui-monospace,monospace;color:var(--accent)}
td.num{text-align:right}
.grid{width:max-content;font-variant-numeric:tabular-nums;border-left:1px solid var(--line)}
.gr{display:grid;grid-template-columns:136px 168px repeat(7,92px) 80px}
.gr>*{padding:4px 8px;border-right:1px solid var(--line);border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.gr:not(.head){content-visibility:auto;contain-intrinsic-size:auto 29px}
.gr.head{position:sticky;top:0;z-index:2;background:var(--panel);font-weight:600;font-size:12px;border-top:1px solid var(--line)}
.gr.head>*{white-space:normal;display:flex;align-items:flex-end}
.gr>a{font-family:"DejaVu Sans Mono",ui-monospace,monospace;color:var(--accent);background:var(--bg);position:sticky;left:0;z-index:1}
.gr.selected>a,.gr.selected>.overall{box-shadow:inset 4px 0 0 var(--accent)}
.gr .num{text-align:right}
.c{font-size:12px;cursor:default}
.c b{font-weight:600}
.c::before{display:inline-block;width:1.2em;font-weight:700;text-align:center}
${Object.entries(STATE_GLYPH).map(([state, glyph]) => `.c[data-state=${state}]::before{content:"${glyph}"}`).join('')}
.c:focus,.gr>a:focus{outline:3px solid var(--accent);outline-offset:-3px}
#tip{display:none;position:fixed;z-index:10;white-space:pre-line;max-width:32em;padding:6px 8px;border-radius:4px;background:#1b1f24;color:#fff;
 font-size:12px;box-shadow:0 2px 8px rgba(0,0,0,.25);pointer-events:none}
#tip.on{display:block}
section.later{content-visibility:auto;contain-intrinsic-size:auto 700px}
.s-succeeded,.c[data-state=succeeded]{background:var(--ok-bg);color:var(--ok-fg)}
.s-failed,.c[data-state=failed]{background:var(--fail-bg);color:var(--fail-fg)}
.s-running,.c[data-state=running]{background:var(--run-bg);color:var(--run-fg)}
.s-skipped,.c[data-state=skipped]{background:var(--skip-bg);color:var(--skip-fg)}
.s-waiting,.c[data-state=waiting]{background:var(--wait-bg);color:var(--wait-fg)}
.s-waiting{border-style:dashed}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:6px 0;font-size:12px;color:var(--muted);padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:4px}
.legend .sw{display:inline-block;min-width:1.6em;padding:0 3px;text-align:center;border:1px solid var(--line);border-radius:3px;font-weight:700}
.legend .dot{display:inline-block;width:12px;height:12px;border-radius:2px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:16px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:var(--bg);break-inside:avoid}
figcaption{font-weight:600;font-size:13px}
svg{display:block;width:100%;height:auto;font:11px system-ui,"DejaVu Sans",sans-serif}
svg.gantt-chart{max-width:900px;min-width:560px;font-size:12px}
table.figures thead th{white-space:normal;max-width:7.5em;vertical-align:bottom}
svg .gridline{stroke:#d8dee4;stroke-width:1}
svg .axis{fill:var(--muted)}
svg .value,svg .bar-label{fill:var(--fg);font-weight:600}
svg .task-label{fill:var(--fg)}
svg .hit{fill:transparent}
svg .bar:hover rect:not(.hit){opacity:.8}
.f-t1{fill:var(--t1)}.f-t2{fill:var(--t2)}.f-t3{fill:var(--t3)}.f-t4{fill:var(--t4)}.f-t5{fill:var(--t5)}.f-t6{fill:var(--t6)}.f-t7{fill:var(--t7)}
.dot.f-t1{background:var(--t1)}.dot.f-t2{background:var(--t2)}.dot.f-t3{background:var(--t3)}.dot.f-t4{background:var(--t4)}
.dot.f-t5{background:var(--t5)}.dot.f-t6{background:var(--t6)}.dot.f-t7{background:var(--t7)}
.f-orders{fill:#0072B2}.f-customers{fill:#E69F00}.dot.f-orders{background:#0072B2}.dot.f-customers{background:#E69F00}
.f-orphans{fill:#a40e26}.dot.f-orphans{background:#a40e26}
.gbar rect{stroke-width:1.5}
.gbar.s-succeeded rect{fill:#2da44e;stroke:#116329}
.gbar.s-failed rect{fill:#cf222e;stroke:#a40e26}
.gbar.s-running rect{fill:#218bff;stroke:#0550ae}
.gbar.s-skipped rect{fill:#afb8c1;stroke:#57606a}
.gbar.retry rect{fill:url(#hatch);stroke:#a40e26;stroke-dasharray:3 2}
.gbar .open-end{fill:#0550ae}
#gantt dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 0;font-size:12px}
#gantt dt{color:var(--muted)}
#gantt dd{margin:0;white-space:pre-wrap;word-break:break-word}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.hint{color:var(--muted);font-size:12px;margin:4px 0}
@media (max-width:720px){
 header.top,main{padding-left:12px;padding-right:12px}
 .charts{grid-template-columns:1fr}
 .tile{min-width:0;flex:1 1 40%}
 .gr{grid-template-columns:128px 120px repeat(7,72px) 72px}
}
@media print{
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 body{font-size:10pt}
 header.top{background:none}
 main{max-width:none;padding:0 8px}
 .scroll,.box{overflow:visible;max-height:none;border:0}
 thead th,tbody th{position:static}
 #tip{display:none!important}
 section.later{content-visibility:visible}
 .gr>a{position:static}
 .hint{display:none}
 a{color:inherit;text-decoration:none}
 section,figure,table{break-inside:avoid}
 .charts{grid-template-columns:1fr 1fr}
}
`;

/**
 * The page's one script. The Gantt chart of the selected batch is drawn here from the JSON in #page-data
 * (one small array per task attempt), so the page grows by a few hundred bytes per batch instead of one SVG
 * each. Keyboard navigation of the grid: arrow keys, Home/End, PageUp/PageDown move a roving focus; Enter or
 * Space on a cell selects its batch; a batch id link does the same (#run-<id>).
 */
export const PAGE_SCRIPT = `
(function(){
var dataNode=document.getElementById('page-data');var DATA=dataNode?JSON.parse(dataNode.textContent):{batches:{},tasks:[]};
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function nice(m){if(!(m>0))return 1;var e=Math.pow(10,Math.floor(Math.log(m)/Math.LN10));var k=[1,1.5,2,2.5,3,4,5,6,8,10];
 for(var i=0;i<k.length;i++)if(k[i]*e>=m)return k[i]*e;return 10*e;}
function dur(ms){if(ms<1000)return Math.round(ms)+' ms';if(ms<60000)return (ms/1000).toFixed(1)+' s';
 return Math.floor(ms/60000)+' min '+Math.round((ms%60000)/1000)+' s';}
function axis(ms){if(ms===0)return '0';var r=function(v){return Math.round(v*100)/100;};if(ms<1000)return r(ms)+' ms';
 if(ms<60000)return r(ms/1000)+' s';if(ms<3600000)return r(ms/60000)+' min';return r(ms/3600000)+' h';}
function r1(v){return Math.round(v*10)/10;}
function utc(ms){var d=new Date(ms).toISOString();return d.slice(0,10)+' '+d.slice(11,19)+' UTC';}
// bar: [task index, state, attempt, start offset, end offset or -1 (up to now), 1 = an earlier attempt, error, 1 = no end recorded]
function gantt(id){
 var b=DATA.batches[id];var head='<h3>Batch <code>'+esc(id)+'</code>: '+esc(b.state)+'</h3>';
 if(!b.bars.length)return head+'<p>No task of this batch has started yet.</p>';
 var W=720,rowH=26,labelW=128,right=96,top=8,h=top+DATA.tasks.length*rowH+26,pw=W-labelW-right,now=DATA.now-b.t0,t1=1;
 b.bars.forEach(function(x){t1=Math.max(t1,x[4]<0?now:x[4]);});
 var span=4*nice(t1/4);function X(t){return labelW+t/span*pw;}
 var o=['<svg class="gantt-chart" id="gantt-'+esc(id)+'" viewBox="0 0 '+W+' '+h+'" role="img" aria-labelledby="gantt-title"><title id="gantt-title">Gantt chart of batch '+esc(id)+': each task from start to end, earlier attempts hatched</title>'];
 for(var q=0;q<=4;q++){var gx=r1(labelW+pw*q/4);o.push('<line class="gridline" x1="'+gx+'" x2="'+gx+'" y1="'+top+'" y2="'+(h-22)+'"/><text class="axis" x="'+gx+'" y="'+(h-8)+'" text-anchor="middle">'+esc(axis(span*q/4))+'</text>');}
 DATA.tasks.forEach(function(task,row){var y=top+row*rowH;
  o.push('<text class="task-label" x="'+(labelW-8)+'" y="'+(y+rowH/2+4)+'" text-anchor="end">'+esc(task)+'</text>');
  var mine=b.bars.filter(function(x){return x[0]===row;});
  if(!mine.length)o.push('<text class="axis" x="'+(labelW+4)+'" y="'+(y+rowH/2+4)+'">waiting: not started</text>');
  mine.forEach(function(x){var open=x[7]===1,end=x[4]<0?now:x[4],x0=X(x[3]),w=Math.max(2,X(end)-x0),retry=x[5]===1;
   var word=open?(retry?'interrupted':'running'):x[1];
   var tip=task+' attempt '+x[2]+': '+word+(open?(retry?', no end recorded':''):' in '+dur(end-x[3]))+', started '+utc(b.t0+x[3])+(x[6]?': '+x[6]:'');
   o.push('<g class="gbar'+(retry?' retry':'')+' s-'+esc(x[1])+'" data-task="'+esc(task)+'" data-attempt="'+x[2]+'"'+(retry?' data-retry="true"':'')+'><title>'+esc(tip)+'</title>'+
    '<rect x="'+r1(x0)+'" y="'+(y+5)+'" width="'+r1(w)+'" height="'+(rowH-10)+'" rx="3"/>'+
    (open?'<path class="open-end" d="M'+r1(x0+w)+' '+(y+5)+'l6 '+((rowH-10)/2)+'l-6 '+((rowH-10)/2)+'z"/>':'')+
    (retry?'':'<text class="bar-label" x="'+r1(x0+w+(open?10:5))+'" y="'+(y+rowH/2+4)+'">'+esc(open?'running':dur(end-x[3])+(x[2]>1?' · attempt '+x[2]:''))+'</text>')+'</g>');});});
 o.push('</svg>');
 var errs=b.bars.filter(function(x){return x[5]===0&&x[6];}).map(function(x){return '<dt>'+esc(DATA.tasks[x[0]])+'</dt><dd>'+esc(x[6])+'</dd>';});
 return head+'<p class="hint">From '+esc(utc(b.t0))+'. Hatched bars are earlier attempts that failed or were interrupted; hover a bar for its times.</p><div class="scroll">'+o.join('')+'</div>'+(errs.length?'<dl>'+errs.join('')+'</dl>':'');}
var grid=document.getElementById('grid');var rows=grid?[].slice.call(grid.querySelectorAll('.gr[data-batch]')):[];
var cells=rows.map(function(r){return [].slice.call(r.querySelectorAll('a,.c'));});
function show(){var id=(location.hash||'').replace(/^#run-/,'');if(!DATA.batches[id])id=DATA.newest;var box=document.getElementById('gantt');
 if(box&&id&&box.getAttribute('data-batch')!==id){box.innerHTML=gantt(id);box.setAttribute('data-batch',id);}
 rows.forEach(function(r){r.classList.toggle('selected',r.getAttribute('data-batch')===id);});}
window.addEventListener('hashchange',function(){show();var g=document.getElementById('gantt');if(g&&g.getBoundingClientRect().top>window.innerHeight)g.scrollIntoView({block:'nearest'});});show();
if(!grid)return;
function focusAt(i,j){i=Math.max(0,Math.min(rows.length-1,i));var row=cells[i];if(!row||!row.length)return;j=Math.max(0,Math.min(row.length-1,j));
 grid.querySelectorAll('[tabindex="0"]').forEach(function(e){e.setAttribute('tabindex','-1');});row[j].setAttribute('tabindex','0');row[j].focus();}
grid.addEventListener('keydown',function(ev){
 var t=ev.target,i=-1,j=-1;for(var a=0;a<cells.length&&i<0;a++){var b=cells[a].indexOf(t);if(b>=0){i=a;j=b;}}
 if(i<0)return;var k=ev.key,page=10;
 if(k==='ArrowRight')focusAt(i,j+1);else if(k==='ArrowLeft')focusAt(i,j-1);
 else if(k==='ArrowDown')focusAt(i+1,j);else if(k==='ArrowUp')focusAt(i-1,j);
 else if(k==='Home')focusAt(ev.ctrlKey?0:i,0);else if(k==='End')focusAt(ev.ctrlKey?rows.length-1:i,cells[i].length-1);
 else if(k==='PageDown')focusAt(i+page,j);else if(k==='PageUp')focusAt(i-page,j);
 else if((k==='Enter'||k===' ')&&t.classList.contains('c')){location.hash='run-'+rows[i].getAttribute('data-batch');}
 else return;ev.preventDefault();});
grid.addEventListener('click',function(ev){var c=ev.target.closest&&ev.target.closest('.c');if(c){var i=rows.indexOf(c.parentNode);focusAt(i,cells[i].indexOf(c));}});
// One tooltip for every cell (a cell's own box would be clipped by its row's containment): its aria-label.
var tip=document.getElementById('tip');
function showTip(c){if(!tip)return;tip.textContent=c.getAttribute('aria-label');tip.classList.add('on');var b=c.getBoundingClientRect(),w=tip.offsetWidth,h=tip.offsetHeight;
 var x=Math.max(4,Math.min(b.left,window.innerWidth-w-4)),y=b.bottom+4+h>window.innerHeight?b.top-h-4:b.bottom+4;tip.style.left=x+'px';tip.style.top=y+'px';}
function hideTip(){if(tip)tip.classList.remove('on');}
function back(){var f=document.activeElement;if(f&&f.classList&&f.classList.contains('c'))showTip(f);else hideTip();}
grid.addEventListener('mouseover',function(ev){var c=ev.target.closest&&ev.target.closest('.c');if(c)showTip(c);else back();});
grid.addEventListener('mouseleave',back);
grid.addEventListener('focusin',function(ev){if(ev.target.classList.contains('c'))showTip(ev.target);else hideTip();});
grid.addEventListener('focusout',hideTip);
document.getElementById('grid-box').addEventListener('scroll',hideTip);
})();
`;
