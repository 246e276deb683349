// The peer of `floe bench export`: DuckDB (@duckdb/node-api) in this process. Loaded with createRequire from the
// node_modules folder in FLOE_NODE_DIR (tests/node). stdin: JSON {threads, write: {files, out, level, row_group_rows},
// query: {glob, date, lo, hi, column, rounds}}; lo and hi are strings, as H3 indexes do not fit a JSON number. stdout: one JSON document of timings and answers.
import { createRequire } from 'node:module';
import { statSync, mkdirSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

const require = createRequire(join(process.env.FLOE_NODE_DIR, 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (d) => { text += d; });
  process.stdin.on('end', () => resolve(text));
}));
const db = await DuckDBInstance.create(':memory:', { threads: String(input.threads) });
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const result = {};

if (input.write) {
  // Each day is loaded into a table first (not timed), then written with the same compression and row-group size.
  let seconds = 0;
  let rows = 0;
  let bytes = 0;
  for (const file of input.write.files) {
    await con.run(`create or replace table day as select * from read_parquet(${quote(file)})`);
    const target = join(input.write.out, basename(dirname(file)), basename(file));
    mkdirSync(dirname(target), { recursive: true });
    const started = process.hrtime.bigint();
    await con.run(`copy day to ${quote(target)} (format parquet, compression zstd, compression_level ${input.write.level}, row_group_size ${input.write.row_group_rows})`);
    seconds += Number(process.hrtime.bigint() - started) / 1e9;
    rows += Number((await con.runAndReadAll('select count(*) as n from day')).getRowObjectsJson()[0].n);
    bytes += statSync(target).size;
  }
  await con.run('drop table if exists day');
  result.write = { seconds, rows, bytes };
}

if (input.query) {
  const q = input.query;
  const sql = `select count(*) as n, sum(${q.column})::double as total from read_parquet(${quote(q.glob)}, hive_partitioning = true)
    where date = ${quote(q.date)} and h3 between ${q.lo} and ${q.hi}`;
  const times = [];
  let answer = null;
  for (let r = 0; r < q.rounds; r++) {
    const started = process.hrtime.bigint();
    answer = (await con.runAndReadAll(sql)).getRowObjectsJson()[0];
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  result.query = { ms: times, rows: Number(answer.n), sum: answer.total };
}

console.log(JSON.stringify(result));
