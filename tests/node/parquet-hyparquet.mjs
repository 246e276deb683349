// hyparquet (with hyparquet-compressors for zstd and gzip) as a Parquet oracle for Floe.Parquet's tests.
//   node parquet-hyparquet.mjs <file>...  -> [{ columns: [{name, type, convertedType, logicalType}], values: [[...column 0], ...], createdBy, kv }, ...]
// Values are encoded as in parquet-duckdb.mjs: integers in decimal, floats as the hex of their IEEE double bits,
// timestamps and dates as the stored integers, strings as strings, other byte arrays as hex.
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const view = new DataView(new ArrayBuffer(8));
function floatBits(v) {
  if (Number.isNaN(v)) return 'NaN';
  view.setFloat64(0, v);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

// Keep timestamps and dates as their stored integers.
const parsers = {
  timestampFromMilliseconds: v => ({ raw: v }),
  timestampFromMicroseconds: v => ({ raw: v }),
  timestampFromNanoseconds: v => ({ raw: v }),
  dateFromDays: v => ({ raw: v }),
};

function encode(v, element) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && 'raw' in v) return v.raw.toString();
  if (element.type === 'FLOAT' || element.type === 'DOUBLE') return floatBits(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return typeof v === 'string' || typeof v === 'boolean' ? v : v.toString();
}

const results = [];
for (const path of process.argv.slice(2)) {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const leaves = metadata.schema.slice(1);
  const rows = await parquetReadObjects({ file, metadata, compressors, parsers, utf8: false });
  const columns = leaves.map(e => ({
    name: e.name,
    type: e.type,
    repetition: e.repetition_type,
    convertedType: e.converted_type ?? null,
    logicalType: e.logical_type ?? null,
  }));
  const values = leaves.map(e => rows.map(row => encode(row[e.name], e)));
  const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map(p => [p.key, p.value]));
  results.push({ columns, values, createdBy: metadata.created_by ?? null, kv, numRows: metadata.num_rows.toString() });
}
console.log(JSON.stringify(results, (key, value) => typeof value === 'bigint' ? value.toString() : value));
