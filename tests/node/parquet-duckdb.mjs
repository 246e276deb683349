// DuckDB as a Parquet oracle for Floe.Parquet's tests.
//   node parquet-duckdb.mjs read <file>...   -> [{ columns: [{name, type}], values: [[...column 0], ...] }, ...]
//   node parquet-duckdb.mjs meta <file>      -> { chunks: parquet_metadata rows, schema: parquet_schema rows, kv: {...}, file: {...} }
//   node parquet-duckdb.mjs write <file> [<copy options>]  (query on stdin)
//        -> COPY (query) TO file (FORMAT parquet, options), then { read: <read of the file>, meta: <meta of the file> }
//   node parquet-duckdb.mjs copy <source> <target> [<copy options>]
//        -> DuckDB reads source and writes its rows to target; { rows, meta: <meta of the target> }
// Values are strings so that nothing is lost in JSON: integers in decimal, floats as the hex of their IEEE
// double bits ("NaN" for NaN), timestamps as integers in the DuckDB type's unit, dates as days, blobs as hex.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const [mode, ...args] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();

const view = new DataView(new ArrayBuffer(8));
function floatBits(v) {
  if (Number.isNaN(v)) return 'NaN';
  view.setFloat64(0, v);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
const quote = s => `'${s.replaceAll("'", "''")}'`;

function encode(v, type) {
  if (v === null || v === undefined) return null;
  if (type === 'FLOAT' || type === 'DOUBLE') return floatBits(v);
  if (typeof v === 'bigint' || typeof v === 'number') return v.toString();
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if ('micros' in v) return v.micros.toString();
  if ('millis' in v) return v.millis.toString();
  if ('nanos' in v) return v.nanos.toString();
  if ('seconds' in v) return v.seconds.toString();
  if ('days' in v) return v.days.toString();
  if ('bytes' in v) return Buffer.from(v.bytes).toString('hex');
  return v.toString();
}

async function read(file) {
  const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet(${quote(file)})`);
  const names = reader.columnNames();
  const types = reader.columnTypes().map(t => t.toString());
  const values = reader.getColumns().map((column, i) => column.map(v => encode(v, types[i])));
  return { columns: names.map((name, i) => ({ name, type: types[i] })), values };
}

async function rows(sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}

async function meta(path) {
  const file = quote(path);
  const chunks = await rows(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, type, num_values, compression, encodings,
      stats_min, stats_max, stats_min_value, stats_max_value, stats_null_count, stats_distinct_count,
      dictionary_page_offset, data_page_offset, total_compressed_size, total_uncompressed_size
    FROM parquet_metadata(${file}) ORDER BY row_group_id, column_id`);
  const schema = await rows(`SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema(${file})`);
  const kvRows = await rows(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${file})`);
  const fileRows = await rows(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${file})`);
  const kv = Object.fromEntries(kvRows.map(r => [r.key, r.value]));
  return { chunks, schema, kv, file: fileRows[0] };
}

if (mode === 'read') {
  const result = [];
  for (const file of args) result.push(await read(file));
  console.log(JSON.stringify(result));
} else if (mode === 'meta') {
  console.log(JSON.stringify(await meta(args[0])));
} else if (mode === 'write') {
  const [file, options] = args;
  const query = readFileSync(0, 'utf8');
  await conn.run(`COPY (${query}) TO ${quote(file)} (FORMAT parquet${options ? ', ' + options : ''})`);
  console.log(JSON.stringify({ read: await read(file), meta: await meta(file) }));
} else if (mode === 'copy') {
  const [source, target, options] = args;
  await conn.run(`COPY (SELECT * FROM read_parquet(${quote(source)})) TO ${quote(target)} (FORMAT parquet${options ? ', ' + options : ''})`);
  const count = await rows(`SELECT count(*) AS n FROM read_parquet(${quote(target)})`);
  console.log(JSON.stringify({ rows: count[0].n, meta: await meta(target) }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
