const fs=require('fs');
const p=JSON.parse(fs.readFileSync(process.argv[2]));
const agg=new Map(); let total=0;
function walk(n, stack){ const f=n.callFrame; const name=`${f.functionName||'(anon)'} ${f.url.replace(/.*node_modules\//,'').replace(/.*\/work\/main\//,'')}:${f.lineNumber+1}`;
 const self=n.selfSize; total+=self; agg.set(name,(agg.get(name)||0)+self); for(const c of n.children||[]) walk(c, stack);}
walk(p.head,[]);
const top=[...agg].sort((a,b)=>b[1]-a[1]).slice(0,30);
for(const [n,v] of top) console.log((v/total*100).toFixed(2).padStart(6), (v/1048576).toFixed(1).padStart(7),'MiB', n);
