// Builds the status page: one self-contained HTML file (style and script inlined, no CDN, no
// other request) from src/ui/index.html, src/ui/style.css and the compiled dist/ui/app.js.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (...parts) => readFileSync(path.join(root, ...parts), 'utf8');
const script = read('dist/ui/app.js').replace(/\n\/\/# sourceMappingURL=.*$/m, '').replace(/^export \{\};\n/m, '');
const style = read('src/ui/style.css');
// A function replacement: `$&` and friends in the script must stay as they are.
const page = read('src/ui/index.html')
  .replace('/*STYLE*/', () => style)
  .replace('/*SCRIPT*/', () => script.replaceAll('</script', '<\\/script'));
const out = path.join(root, 'dist/ui/status-page.html');
writeFileSync(out, page);
console.error(`status page: ${out} (${Buffer.byteLength(page)} bytes)`);
