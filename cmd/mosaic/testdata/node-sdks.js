// Sends events to a Mosaic server with the real published Node.js SDKs of
// Segment and RudderStack, unchanged but for the host. Usage:
//   node node-sdks.js URL WRITE_KEY
// Exits non-zero if either SDK reports an error.
'use strict'
const { Analytics } = require('@segment/analytics-node')
const RudderAnalytics = require('@rudderstack/rudder-sdk-node')

const [url, writeKey] = process.argv.slice(2)
let failed = false

async function segment () {
  const analytics = new Analytics({ writeKey, host: url, flushAt: 5, flushInterval: 100 })
  analytics.on('error', (err) => { failed = true; console.error('segment:', err) })
  analytics.identify({ userId: 'node-seg-user', traits: { email: 'node@example.com', plan: 'pro' } })
  for (let i = 0; i < 7; i++) {
    analytics.track({ userId: 'node-seg-user', event: 'Node Segment Event', properties: { i } })
  }
  await analytics.closeAndFlush({ timeout: 10000 })
}

async function rudder () {
  const client = new RudderAnalytics(writeKey, {
    dataPlaneUrl: url, flushAt: 5, flushInterval: 100, retryCount: 0,
    errorHandler: (err) => { failed = true; console.error('rudderstack:', err && err.message) }
  })
  for (let i = 0; i < 6; i++) {
    client.track({ anonymousId: 'node-rud-anon', event: 'Node Rudder Event', properties: { i } })
  }
  await new Promise((resolve, reject) => client.flush((err) => err ? reject(err) : resolve()))
}

Promise.all([segment(), rudder()]).then(
  () => process.exit(failed ? 1 : 0),
  (err) => { console.error(err); process.exit(1) }
)
