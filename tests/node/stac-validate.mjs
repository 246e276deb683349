// Validates STAC documents against the published schemas in ../shared/stac-schemas, offline, with stac-node-validator.
// Input: file paths as arguments, or a JSON array of documents on stdin (ItemCollections are validated item by item).
// Prints {"total": N, "invalid": [{"id", "type", "errors": [...]}]}; a document without stac_version counts as invalid.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const validate = require('stac-node-validator');

const here = path.dirname(fileURLToPath(import.meta.url));
const schemas = path.resolve(process.env.STAC_SCHEMAS ?? path.join(here, '../../../shared/stac-schemas'));
if (!existsSync(path.join(schemas, 'stac-spec/1.0.0'))) {
  throw new Error(`the STAC schemas are not at ${schemas} (../shared/stac-schemas beside the repository); set STAC_SCHEMAS to their folder`);
}
const map = [
  ['https://schemas.stacspec.org/v1.0.0/', path.join(schemas, 'stac-spec/1.0.0/')],
  ['https://geojson.org/schema/', path.join(here, 'node_modules/geojson-schema/')],
  ['https://stac-extensions.github.io/table/v1.2.0/schema.json', path.join(schemas, 'table/v1.2.0/schema.json')],
  ['https://stac-extensions.github.io/datacube/v2.3.0/schema.json', path.join(schemas, 'datacube/v2.3.0/schema.json')],
];

// PROJJSON's schema (referenced by the datacube extension's reference_system) is not among the offline schemas.
// Its stand-in says only what every PROJJSON document is, an object; Floe writes reference_system as the EPSG code
// 4326, which the integer branch of that oneOf checks.
const projjson = 'https://proj.org/schemas/v0.7/projjson.schema.json';

// Every schema comes from disk: an unmapped URL is an error, never a download.
async function loader(uri) {
  if (uri === projjson) return { $id: projjson, type: 'object' };
  const found = map.find(([prefix]) => uri.startsWith(prefix));
  const file = found ? found[1] + uri.substring(found[0].length) : uri;
  if (/^https?:/.test(file)) throw new Error(`no local copy of ${uri}`);
  return JSON.parse(await readFile(file, 'utf8'));
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const inputs = process.argv.length > 2 ? process.argv.slice(2) : await readStdin();
const documents = [];
for (const input of inputs) {
  const doc = typeof input === 'string' ? JSON.parse(await readFile(input, 'utf8')) : input;
  const source = typeof input === 'string' ? input : doc.id;
  if (doc.type === 'FeatureCollection') {
    for (const feature of doc.features ?? []) documents.push([`${source}#${feature.id}`, feature]);
  } else if (Array.isArray(doc.collections)) {
    for (const collection of doc.collections) documents.push([`${source}#${collection.id}`, collection]);
  } else {
    documents.push([source, doc]);
  }
}

const invalid = [];
for (const [source, doc] of documents) {
  const report = await validate(doc, { loader, strict: false });
  const errors = [];
  if (report.skipped || report.valid !== true) {
    errors.push(...report.messages);
    for (const e of report.results.core) errors.push(`core ${e.instancePath ?? ''}: ${e.message}`);
    for (const [schema, list] of Object.entries(report.results.extensions)) {
      for (const e of list) errors.push(`${schema} ${e.instancePath ?? ''}: ${e.message}`);
    }
    if (errors.length === 0) errors.push('not validated');
    invalid.push({ id: source, type: doc.type ?? null, errors });
  }
}
console.log(JSON.stringify({ total: documents.length, invalid }));
