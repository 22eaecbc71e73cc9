/*
 * server.js: the peer's server for bench_sync_vs_pouchdb.sh — express-pouchdb
 * (the CouchDB replication protocol on Express) on loopback, as its README sets
 * it up: `app.use('/', require('express-pouchdb')(PouchDB))`, in the
 * 'minimumForPouchDB' mode its README suggests when only PouchDB replicates to it.
 *
 * usage: node server.js --port N --dir DIR [--adapter leveldb|memory]
 * leveldb (the default) keeps the databases in DIR (LevelDB files, like the
 * SQLite file of crm-server); memory keeps them in RAM (memdown). Prints
 * "listening PORT" on stdout when ready; SIGTERM/SIGINT stop it.
 */
'use strict';
const path = require('path');
const fs = require('fs');
const express = require('express');
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const port = Number(arg('port', '0'));
const dir = path.resolve(arg('dir', '.'));
const adapter = arg('adapter', 'leveldb');
if (!(port > 0) || (adapter !== 'leveldb' && adapter !== 'memory')) {
  console.error('usage: node server.js --port N --dir DIR [--adapter leveldb|memory]');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const DB = adapter === 'memory'
  ? PouchDB.defaults({ adapter: 'memory' })
  : PouchDB.defaults({ prefix: dir + path.sep });

const app = express();
app.use('/', require('express-pouchdb')(DB, {
  mode: 'minimumForPouchDB',
  configPath: path.join(dir, 'express-pouchdb-config.json'),
  logPath: path.join(dir, 'express-pouchdb-log.txt'),
}));
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write('listening ' + port + '\n');
});
function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
