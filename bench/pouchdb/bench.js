/*
 * bench.js: the peer's client side for bench_sync_vs_pouchdb.sh — PouchDB 9 in
 * Node replicating to / from an express-pouchdb server (server.js).
 *
 *   node bench.js load --dir DIR --docs FILE.ndjson [--adapter A]
 *       fills a local PouchDB ("laptop 1") with the documents (not timed).
 *   node bench.js push --dir DIR --url URL [--adapter A]
 *       replicates that local database to URL (one-shot replicate.to). TIMED.
 *   node bench.js pull --dir DIR --url URL --expect N [--adapter A]
 *       a fresh local PouchDB ("laptop 2") replicates everything from URL. TIMED;
 *       fails unless it then holds N documents.
 * Adapter: leveldb (default; LevelDB files in DIR) or memory. Replication uses
 * PouchDB's defaults (batch_size 100, batches_limit 10) unless --batch-size N.
 * Prints one JSON line: {"phase", "ms" (wall), "cpu_ms" (this process, user + system),
 * "docs_read", "docs_written", "doc_count"}.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

function openLocal(dir, adapter) {
  if (adapter === 'memory')
    return new PouchDB('laptop', { adapter: 'memory' });
  fs.mkdirSync(dir, { recursive: true });
  return new PouchDB(path.join(dir, 'laptop'));
}

async function load(db, file) {
  const rl = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let batch = [];
  let n = 0;
  for await (const line of rl) {
    if (!line)
      continue;
    batch.push(JSON.parse(line));
    if (batch.length === 1000) {
      n += await put(db, batch);
      batch = [];
    }
  }
  if (batch.length)
    n += await put(db, batch);
  return n;
}

async function put(db, docs) {
  const res = await db.bulkDocs(docs);
  for (const r of res)
    if (r.error)
      throw new Error('bulkDocs: ' + JSON.stringify(r));
  return res.length;
}

async function main() {
  const phase = process.argv[2];
  const dir = arg('dir', '');
  const adapter = arg('adapter', 'leveldb');
  const url = arg('url', '');
  const opts = {};
  if (arg('batch-size', ''))
    opts.batch_size = Number(arg('batch-size', ''));
  if (!dir || !['load', 'push', 'pull'].includes(phase)) {
    console.error('usage: node bench.js load|push|pull --dir DIR [--docs F] [--url U] [--expect N]');
    process.exit(2);
  }
  const db = openLocal(dir, adapter);
  const out = { phase };
  if (phase === 'load') {
    const t0 = process.hrtime.bigint();
    out.docs_written = await load(db, arg('docs', ''));
    out.ms = Number(process.hrtime.bigint() - t0) / 1e6;
  } else {
    const remote = new PouchDB(url);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const res = phase === 'push' ? await db.replicate.to(remote, opts) : await db.replicate.from(remote, opts);
    out.ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c1 = process.cpuUsage(c0);
    out.cpu_ms = (c1.user + c1.system) / 1000;
    if (res.status !== 'complete' || (res.errors && res.errors.length))
      throw new Error('replication did not complete: ' + JSON.stringify(res).slice(0, 500));
    out.docs_read = res.docs_read;
    out.docs_written = res.docs_written;
  }
  out.doc_count = (await db.info()).doc_count;
  await db.close();
  if (phase === 'pull' && out.doc_count !== Number(arg('expect', '-1')))
    throw new Error('pulled ' + out.doc_count + ' documents, expected ' + arg('expect', '?'));
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  console.error('bench.js: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
