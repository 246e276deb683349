// What DuckDB and h3-js say about exported Parquet files, for the STAC catalog tests: per file, the row count, the
// extent of lat and lon, the value column's min, max, mean, present and wet counts, the time range, and the
// resolution-1 parents of its H3 cells. stdin: {"files": [...], "value": "tp_mm"}. stdout: [{file, ...}].
import { DuckDBInstance } from '@duckdb/node-api';
import * as h3 from 'h3-js';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
const all = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const v = `"${input.value}"`;

const out = [];
for (const file of input.files) {
  const source = `read_parquet(${quote(file)}, hive_partitioning = false)`;
  const [a] = await all(`select count(*) as rows, min(lat) as south, max(lat) as north,
      min(${v})::double as min, max(${v})::double as max, avg(${v})::double as mean, count(${v}) as present,
      count(*) filter (where ${v} > 0) as wet, epoch_us(min(time)) as first_us, epoch_us(max(time)) as last_us from ${source}`);
  const lons = (await all(`select distinct lon from ${source} order by lon`)).map((r) => Number(r.lon));
  const cells = (await all(`select distinct h3 from ${source}`)).map((r) => BigInt(r.h3).toString(16));
  const coarse = [...new Set(cells.map((c) => h3.cellToParent(c, Math.min(1, h3.getResolution(c)))))].sort();
  // Counts and microseconds arrive as strings (64-bit); every one here is below 2^53.
  const numbers = Object.fromEntries(Object.entries(a).map(([k, x]) => [k, x === null ? null : Number(x)]));
  out.push({ file, ...numbers, lons, coarse });
}
console.log(JSON.stringify(out));
