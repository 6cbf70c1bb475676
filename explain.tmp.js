const {Client}=require('pg');
(async()=>{const c=new Client({connectionString:'postgres://postgres:bench@127.0.0.1:46033/console_1795331599479'});await c.connect();
const sql=require('fs').readFileSync(0,'utf8');
const r=await c.query('EXPLAIN (ANALYZE, BUFFERS) '+sql);console.log(r.rows.map(x=>x['QUERY PLAN']).join('\n'));await c.end()})().catch(e=>{console.error(e.message);process.exit(1)});
