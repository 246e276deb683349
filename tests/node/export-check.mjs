// Reads a Floe Parquet export with DuckDB and checks its H3 cells with h3-js: the independent oracles of the
// export tests. stdin: JSON {dir, resolution, sample_modulo, sql: {name: query}, cell_queries: [{name, cells, start_us,
// end_us, column, above}]}. stdout: JSON with per-file aggregates, ordering and partition checks, row-group
// statistics, h3 mismatches, a sample of rows and the answers to the queries.
import { DuckDBInstance } from '@duckdb/node-api';
import * as h3 from 'h3-js';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (d) => { text += d; });
  process.stdin.on('end', () => resolve(text));
}));
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
const all = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const quote = (s) => `'${s.replaceAll("'", "''")}'`;

const files = (await all(`select file from glob(${quote(input.dir + '/**/*.parquet')}) order by file`)).map((r) => r.file);
const result = { files: [], sql: {}, cell_queries: {} };
for (const file of files) {
  const columns = (await all(`describe select * from read_parquet(${quote(file)}, hive_partitioning = false)`)).map((r) => ({ name: r.column_name, type: r.column_type }));
  const values = columns.map((c) => c.name).filter((n) => !['time', 'h3', 'lat', 'lon', 'date'].includes(n));
  const sums = values.map((v) => `sum(${v})::double as "sum_${v}", count(${v}) as "count_${v}"`).join(', ');
  const [aggregate] = await all(`select count(*) as rows, epoch_us(min(time)) as min_time, epoch_us(max(time)) as max_time${sums ? ', ' + sums : ''} from read_parquet(${quote(file)})`);
  const [order] = await all(`select count(*) as violations from (
      select h3, lat, lon, time, lag(h3) over w as ph, lag(lat) over w as plat, lag(lon) over w as plon, lag(time) over w as pt
      from read_parquet(${quote(file)}, file_row_number = true) window w as (order by file_row_number))
    where ph > h3 or (ph = h3 and plat = lat and plon = lon and pt >= time)`);
  const [partition] = await all(`select count(*) as wrong from read_parquet(${quote(file)}, hive_partitioning = true)
    where cast(date as varchar) <> strftime(time, '%Y-%m-%d')`);
  const points = await all(`select distinct lat, lon, h3 from read_parquet(${quote(file)})`);
  let h3Mismatches = 0;
  const mismatchExamples = [];
  for (const p of points) {
    const expected = h3.latLngToCell(p.lat, p.lon, input.resolution);
    const actual = BigInt(p.h3).toString(16);
    if (expected !== actual) {
      h3Mismatches++;
      if (mismatchExamples.length < 5) mismatchExamples.push({ lat: p.lat, lon: p.lon, expected, actual });
    }
  }
  const rowGroups = await all(`select row_group_id, path_in_schema as column, stats_min_value as min, stats_max_value as max, stats_null_count as nulls, row_group_num_rows as rows, compression
    from parquet_metadata(${quote(file)}) order by row_group_id, column_id`);
  const keyValues = await all(`select decode(key) as key, decode(value) as value from parquet_kv_metadata(${quote(file)})`);
  const sample = input.sample_modulo
    ? await all(`select epoch_us(time) as time, lat, lon, h3${values.map((v) => `, ${v}`).join('')} from read_parquet(${quote(file)}) where h3 % ${input.sample_modulo} = 0 order by h3, lat, lon, time limit 400`)
    : [];
  result.files.push({ file, columns, aggregate, order_violations: Number(order.violations), partition_mismatches: Number(partition.wrong), distinct_points: points.length, h3_mismatches: h3Mismatches, mismatch_examples: mismatchExamples, row_groups: rowGroups, key_values: keyValues, sample });
}
for (const [name, sql] of Object.entries(input.sql ?? {})) {
  result.sql[name] = await all(sql.replaceAll('$FILES', quote(input.dir + '/**/*.parquet')));
}
for (const q of input.cell_queries ?? []) {
  const rows = await all(`select h3, ${q.column} as v from read_parquet(${quote(input.dir + '/**/*.parquet')})
    where epoch_us(time) >= ${q.start_us} and epoch_us(time) < ${q.end_us}`);
  let count = 0;
  let sum = 0;
  for (const r of rows) {
    const cell = BigInt(r.h3).toString(16);
    const inside = q.cells.some((c) => h3.cellToParent(cell, h3.getResolution(c)) === c);
    if (inside && r.v !== null && (q.above === undefined || r.v > q.above)) {
      count++;
      sum += r.v;
    }
  }
  result.cell_queries[q.name] = { count, sum };
}
console.log(JSON.stringify(result));
