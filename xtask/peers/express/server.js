// The peer `cargo xtask bench --peers` measures our receivers against: what a careful
// integrator writes today with express. Same checks as our routes, done the usual Node way:
// the raw body (needed for the signature), a timing-safe comparison, JSON.parse, and a
// dedupe map capped by evicting the oldest id. Nothing is queued or stored beyond that.
//
//   PORT=0 node server.js   → prints `listening <port>` once it accepts connections
//
// POST /lp  — LivePerson notification: account/client headers, HMAC-SHA1 (Base64) of the
//             raw body in `X-Liveperson-Signature: sha1=…`, dedupe by `<dialogId>:<sequence>`.
// POST /ece — ECE callback batch: HTTP Basic `Authorization`, dedupe by each message `id`.
'use strict';

const crypto = require('node:crypto');
const express = require('express');

const LP_ACCOUNT = process.env.LP_ACCOUNT || '42257269';
const LP_CLIENT = process.env.LP_CLIENT || '81fad476-88af-4d08-bc0e-20bc69439ed4';
const LP_SECRET = process.env.LP_SECRET || 'rl9hacst6kqilbofup64n11ga3';
const ECE_AUTH = 'Basic ' + Buffer.from(process.env.ECE_BASIC || 'ece:callback-secret').toString('base64');
const DEDUPE_CAP = Number(process.env.DEDUPE_CAP || 1000000);

// A Map keeps insertion order: deleting its first key evicts the oldest id.
const seen = new Map();
function firstTime(id) {
  if (seen.has(id)) return false;
  seen.set(id, true);
  if (seen.size > DEDUPE_CAP) seen.delete(seen.keys().next().value);
  return true;
}

function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

const app = express();
const raw = express.raw({ type: '*/*', limit: '16mb' });

app.post('/lp', raw, (req, res) => {
  if (req.get('x-liveperson-account-id') !== LP_ACCOUNT || req.get('x-liveperson-client-id') !== LP_CLIENT) {
    return res.status(401).send('unauthorized');
  }
  const expected = 'sha1=' + crypto.createHmac('sha1', LP_SECRET).update(req.body).digest('base64');
  if (!safeEqual(req.get('x-liveperson-signature') || '', expected)) return res.status(401).send('bad signature');
  let notification;
  try {
    notification = JSON.parse(req.body);
  } catch (e) {
    return res.status(400).send('malformed: ' + e.message);
  }
  for (const change of (notification.body && notification.body.changes) || []) {
    if (change.dialogId !== undefined && change.sequence !== undefined) firstTime(change.dialogId + ':' + change.sequence);
  }
  res.sendStatus(200);
});

app.post('/ece', raw, (req, res) => {
  if (!safeEqual(req.get('authorization') || '', ECE_AUTH)) return res.status(401).send('unauthorized');
  let batch;
  try {
    batch = JSON.parse(req.body);
  } catch (e) {
    return res.status(400).send('malformed: ' + e.message);
  }
  const messages = Array.isArray(batch.message) ? batch.message : [batch.message || batch];
  let fresh = 0;
  for (const message of messages) if (message && message.id !== undefined && firstTime(String(message.id))) fresh++;
  res.status(200).send(String(fresh));
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});
