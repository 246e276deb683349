// Batch oracle over h3-js for the Floe.H3 tests.
// stdin: [{ "fn": "<h3-js export>", "calls": [[arg, ...], ...] }, ...]
// stdout: one array per request, one entry per call: the result, or { "error": message }.
import * as h3 from 'h3-js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const requests = JSON.parse(input);

const output = requests.map(({ fn, calls }) => {
  const f = h3[fn];
  if (typeof f !== 'function') throw new Error(`h3-js has no function ${fn}`);
  return calls.map((args) => {
    try {
      const result = f(...args);
      return result === undefined ? null : result;
    } catch (e) {
      return { error: String(e && e.message ? e.message : e) };
    }
  });
});
process.stdout.write(JSON.stringify(output));
