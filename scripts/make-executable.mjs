// Marks the compiled CLI entry point executable, so `npm link` and the `bin` entry work.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
