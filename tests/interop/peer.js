// The independent side of the Noise interoperability test: a
// Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b peer built on npm's noise-handshake,
// speaking the same 2-byte big-endian length framing as tests/noise-peer.
//
//   node peer.js --role initiator|responder --port P --static HEX32 \
//                --psk HEX32 --prologue HEX [--count N] [--expect-remote HEX32] \
//                [--pattern XXpsk0]
//
// The responder listens on 127.0.0.1:P (P=0: any port, printed as "port N")
// and serves one connection. After the handshake each side prints
// "hash <hex>" and "remote <hex>"; then the initiator sends N transport
// messages, the responder echoes each back, and the initiator checks the echo.
// Exit status 0 only if everything matched.
'use strict'
const net = require('net')
const Noise = require('noise-handshake')
const Cipher = require('noise-handshake/cipher')
const dh = require('noise-handshake/dh')

function args () {
  const a = { count: '8' }
  const v = process.argv.slice(2)
  for (let i = 0; i + 1 < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1]
  for (const k of ['role', 'port', 'static', 'psk', 'prologue']) {
    if (a[k] === undefined) usage('missing --' + k)
  }
  if (a.role !== 'initiator' && a.role !== 'responder') usage('bad --role')
  for (const k of ['static', 'psk', 'expect-remote']) {
    if (a[k] !== undefined && !/^[0-9a-f]{64}$/.test(a[k])) usage('--' + k + ' needs 64 hex digits')
  }
  if (!/^([0-9a-f]{2})*$/.test(a.prologue)) usage('bad --prologue')
  if (!/^[0-9]+$/.test(a.port) || +a.port > 65535) usage('bad --port')
  if (!/^[0-9]+$/.test(a.count)) usage('bad --count')
  // Only the pattern both implementations are tested with.
  const p = a.pattern || 'XXpsk0'
  if (p !== 'XXpsk0' && p !== 'Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b') usage('unsupported --pattern')
  return a
}

function usage (msg) {
  console.error('peer.js: ' + msg)
  process.exit(2)
}

const opt = args()
const initiator = opt.role === 'initiator'
const keypair = dh.generateKeyPair(Buffer.from(opt.static, 'hex'))
const hs = new Noise('XXpsk0', initiator, keypair, { psk: Buffer.from(opt.psk, 'hex') })
hs.initialise(Buffer.from(opt.prologue, 'hex'))

function fail (msg) {
  console.error('peer.js: ' + msg)
  process.exit(1)
}
setTimeout(() => fail('timed out'), 10000).unref()

function frame (buf) {
  const out = Buffer.alloc(2 + buf.length)
  out.writeUInt16BE(buf.length, 0)
  buf.copy(out, 2)
  return out
}

function run (sock) {
  let pending = Buffer.alloc(0)
  let tx = null
  let rx = null
  let sent = 0
  let echoed = 0
  const count = parseInt(opt.count, 10)
  const payloadFor = (i) => Buffer.from('interop message ' + i + ' \u0627\u0644\u0646\u062c\u062f\u0629')

  const afterHandshake = () => {
    console.log('hash ' + Buffer.from(hs.hash).toString('hex'))
    console.log('remote ' + Buffer.from(hs.rs).toString('hex'))
    if (opt['expect-remote'] && Buffer.from(hs.rs).toString('hex') !== opt['expect-remote']) {
      fail('remote static key differs from --expect-remote')
    }
    tx = new Cipher(hs.tx)
    rx = new Cipher(hs.rx)
    if (initiator) {
      if (count === 0) finish()
      else sock.write(frame(tx.encrypt(payloadFor(sent++))))
    }
  }

  const finish = () => {
    console.log('ok ' + echoed + ' messages')
    sock.end()
    process.exit(0)
  }

  const onMessage = (msg) => {
    if (!hs.complete) {
      hs.recv(msg)
      if (!hs.complete) sock.write(frame(hs.send()))
      if (hs.complete) afterHandshake()
      return
    }
    const pt = rx.decrypt(msg)
    if (initiator) {
      if (!Buffer.from(pt).equals(payloadFor(echoed))) fail('echo ' + echoed + ' differs')
      echoed++
      if (echoed === count) finish()
      else sock.write(frame(tx.encrypt(payloadFor(sent++))))
    } else {
      sock.write(frame(tx.encrypt(pt)))
      echoed++
    }
  }

  sock.on('data', (d) => {
    pending = Buffer.concat([pending, d])
    while (pending.length >= 2) {
      const n = pending.readUInt16BE(0)
      if (n === 0) fail('framing error: empty frame')
      if (pending.length < 2 + n) break
      const msg = pending.subarray(2, 2 + n)
      pending = pending.subarray(2 + n)
      try {
        onMessage(msg)
      } catch (e) {
        fail('rejected message: ' + e.message)
      }
    }
  })
  sock.on('end', () => {
    if (!hs.complete) fail('connection closed during the handshake')
    if (!initiator) {
      console.log('ok ' + echoed + ' messages')
      process.exit(0)
    }
    fail('connection closed early')
  })
  sock.on('error', (e) => fail(e.message))

  if (initiator) {
    sock.write(frame(hs.send()))
  }
}

if (initiator) {
  const sock = net.connect(parseInt(opt.port, 10), '127.0.0.1', () => run(sock))
  sock.on('error', (e) => fail(e.message))
} else {
  const srv = net.createServer((sock) => { srv.close(); run(sock) })
  srv.listen(parseInt(opt.port, 10), '127.0.0.1', () => console.log('port ' + srv.address().port))
}
