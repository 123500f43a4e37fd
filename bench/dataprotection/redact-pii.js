// Runs the npm package redact-pii over a file, in 64 KB slices (its
// SyncRedactor works on strings), and prints how many characters it
// changed. Used by run.sh for the speed comparison.
const fs = require('fs');
const { SyncRedactor } = require('redact-pii');

const text = fs.readFileSync(process.argv[2], 'utf8');
const redactor = new SyncRedactor();
let changed = 0;
const slice = 64 * 1024;
for (let i = 0; i < text.length; i += slice) {
  const part = text.slice(i, i + slice);
  const out = redactor.redact(part);
  if (out !== part) changed++;
}
console.log(`slices changed: ${changed}`);
