// The peer in the performance comparison (bench/README.md): what a user would write
// instead of labelwatchd. It polls the same simulator URLs at the same rate with
// Huawei's official Node.js SDK core for AK/SK signing (BasicCredentials and its
// processAuthRequest, the path every SDK service client takes) and a keep-alive https
// agent, and parses each body with JSON.parse. It tracks nothing; it only polls.
//
//   node peer.js PLAN.json        (AK/SK from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK)
//
// PLAN: {"base_url", "ca_file", "project_id", "rate" (requests/s), "duration_s",
//        "max_sockets", "targets": [{"path": "/v2/{project_id}/...", "query": {k: v}}]}
// Prints one JSON summary line on stdout when done.
'use strict';

const fs = require('fs');
const https = require('https');
const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ak = process.env.HUAWEICLOUD_SDK_AK;
const sk = process.env.HUAWEICLOUD_SDK_SK;
if (!ak || !sk) {
  console.error('peer: HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK must be set');
  process.exit(2);
}
if (!Array.isArray(plan.targets) || plan.targets.length === 0) {
  console.error('peer: the plan has no targets');
  process.exit(2);
}

const credentials = new BasicCredentials().withAk(ak).withSk(sk).withProjectId(plan.project_id);
const agent = new https.Agent({
  keepAlive: true,
  maxSockets: plan.max_sockets || 64,
  ca: fs.readFileSync(plan.ca_file),
});

const stats = { sent: 0, ok: 0, http_errors: 0, network_errors: 0, parse_errors: 0,
                statuses: {}, in_flight_max: 0 };
let inFlight = 0;
let next = 0;

async function pollOne(target) {
  const request = {
    endpoint: plan.base_url,
    url: target.path,
    method: 'GET',
    headers: {},
    queryParams: target.query || {},
  };
  const signed = await credentials.processAuthRequest(null, request);
  const url = new URL(signed.endpoint);
  const query = new URLSearchParams(signed.queryParams).toString();
  return new Promise((resolve) => {
    const req = https.request({
      agent,
      host: url.hostname,
      port: url.port,
      method: 'GET',
      path: url.pathname + (query ? '?' + query : ''),
      headers: signed.headers,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const code = String(res.statusCode);
        stats.statuses[code] = (stats.statuses[code] || 0) + 1;
        try {
          const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (res.statusCode === 200 && doc && typeof doc === 'object') stats.ok++;
          else stats.http_errors++;
        } catch (e) {
          stats.parse_errors++;
        }
        resolve();
      });
      res.on('error', () => { stats.network_errors++; resolve(); });
    });
    req.on('error', () => { stats.network_errors++; resolve(); });
    req.end();
  });
}

function launch() {
  const target = plan.targets[next];
  next = (next + 1) % plan.targets.length;
  stats.sent++;
  inFlight++;
  if (inFlight > stats.in_flight_max) stats.in_flight_max = inFlight;
  pollOne(target).catch(() => { stats.network_errors++; }).finally(() => { inFlight--; });
}

// Every target once per len(targets) / rate seconds, evenly paced: a 5 ms tick sends
// what is due by now, so the rate holds without bunching a whole second together.
const started = process.hrtime.bigint();
const durationNs = BigInt(Math.round(plan.duration_s * 1e9));
const timer = setInterval(() => {
  const elapsed = process.hrtime.bigint() - started;
  if (elapsed >= durationNs) {
    clearInterval(timer);
    const finish = () => {
      if (inFlight > 0) return setTimeout(finish, 10);
      agent.destroy();
      stats.duration_s = Number(process.hrtime.bigint() - started) / 1e9;
      process.stdout.write(JSON.stringify(stats) + '\n');
    };
    finish();
    return;
  }
  const due = Math.floor(Number(elapsed) / 1e9 * plan.rate);
  while (stats.sent < due) launch();
}, 5);
