/**
 * Preloaded (`node --import dist/bench/max-rss.js …`) into a process a bench measures: at exit it
 * writes the process's peak resident set size (kB, `process.resourceUsage().maxRSS`) to the file
 * VIGIL_BENCH_MAX_RSS_FILE names. Nothing else; the product never loads it.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.VIGIL_BENCH_MAX_RSS_FILE;
if (file !== undefined && file !== '') process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
