// A WeChat gateway for tests: wechaty-puppet-service serving wechaty-puppet-mock on 127.0.0.1, without TLS,
// plus a small HTTP control interface so pytest can make mocked residents speak and read what the bot said.
//
//   node server.cjs '{"token": "...", "grpcPort": 0, "controlPort": 0, "user": {...}, "contacts": [...], "rooms": [...]}'
//
// Prints `READY {"grpc": port, "control": port}` once both listen. Control interface (JSON):
//   POST /say        {id?, talker, room?, listener?, text, mentions?, type?, image?}
//                                                                      a contact speaks (type image: image is the
//                                                                      picture's base64); answers {id}
//   POST /redeliver  {id}                                              the same message id arrives again
//   GET  /sent                                                         what the bot sent: [{id, conversationId, text, mentionIds}]
//   POST /befriend   {contact, hello}                                  a contact asks to be the bot's friend; answers {id}
//   GET  /accepted                                                     the friend requests the bot accepted: [id]
'use strict'
const http = require('http')
const net = require('net')
const PUPPET = require('wechaty-puppet')
const { PuppetMock, mock } = require('wechaty-puppet-mock')
const { PuppetServer, log } = require('wechaty-puppet-service')
const { FileBox } = require('file-box')

const world = JSON.parse(process.argv[2])
log.level('silent')

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })
const user = mocker.createContact({ id: world.user.id, name: world.user.name })
for (const c of world.contacts) mocker.createContact({ id: c.id, name: c.name })
for (const r of world.rooms) mocker.createRoom({ id: r.id, topic: r.topic, memberIdList: [user.id, ...r.members] })

// The Python client stops the puppet before starting it, and stopping logs the mocked account out:
// an environment runs on every start, so logging in again belongs there.
mocker.use(() => {
  mocker.login(user)
  return () => {}
})

// Message ids carry the run, so a restarted server never reuses one the bot has seen.
const run = world.run || String(Date.now())
let counter = 0
const sent = []

function deliver (payload) {
  mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: payload.id })
}

// The mock's own messageSendText drops the mentions and returns no id; record and echo like WeChat does.
puppet.messageSendText = async (conversationId, text, mentionIdList) => {
  const id = `${run}-sent-${++counter}`
  const mentionIds = mentionIdList || []
  sent.push({ id, conversationId, text, mentionIds, at: Date.now() })
  const payload = { id, talkerId: user.id, timestamp: Date.now(), type: PUPPET.types.Message.Text, text }
  if (conversationId.includes('@')) Object.assign(payload, { roomId: conversationId, mentionIdList: mentionIds })
  else payload.listenerId = conversationId
  deliver(payload)
  return id
}

// The mock answers every picture with a QR code; a picture sent with its bytes is given back as WeChat would.
const images = {}
const mockImage = puppet.messageImage.bind(puppet)
puppet.messageImage = async (id, type) => images[id] ? FileBox.fromBase64(images[id], `${id}.jpg`) : mockImage(id, type)

// The mock keeps no friend requests; these are the requests contacts made, as WeChat would show them.
const friendships = {}
const accepted = []
puppet.friendshipRawPayload = async id => friendships[id]
puppet.friendshipAccept = async id => { accepted.push(id) }

function body (req) {
  return new Promise((resolve, reject) => {
    let data = ''
    req.on('data', chunk => { data += chunk })
    req.on('end', () => { try { resolve(data ? JSON.parse(data) : {}) } catch (e) { reject(e) } })
  })
}

const control = http.createServer(async (req, res) => {
  const answer = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(value))
  }
  try {
    if (req.method === 'GET' && req.url === '/sent') return answer(200, sent)
    if (req.method === 'GET' && req.url === '/accepted') return answer(200, accepted)
    const input = await body(req)
    if (req.method === 'POST' && req.url === '/say') {
      const id = input.id || `${run}-in-${++counter}`
      const type = { image: PUPPET.types.Message.Image, voice: PUPPET.types.Message.Audio }[input.type] || PUPPET.types.Message.Text
      const payload = { id, talkerId: input.talker, timestamp: Date.now(), type, text: input.text }
      if (input.image) images[id] = input.image
      if (input.room) Object.assign(payload, { roomId: input.room, mentionIdList: input.mentions || [] })
      else payload.listenerId = user.id
      deliver(payload)
      return answer(200, { id })
    }
    if (req.method === 'POST' && req.url === '/befriend') {
      const id = `${run}-friend-${++counter}`
      friendships[id] = { id, contactId: input.contact, hello: input.hello || '', timestamp: Date.now(),
        type: PUPPET.types.Friendship.Receive }
      puppet.emit('friendship', { friendshipId: id })
      return answer(200, { id })
    }
    if (req.method === 'POST' && req.url === '/redeliver') {
      puppet.emit('message', { messageId: input.id })
      return answer(200, { id: input.id })
    }
    answer(404, { error: 'unknown' })
  } catch (e) {
    answer(500, { error: String(e) })
  }
})

function freePort (wanted) {
  if (wanted) return Promise.resolve(wanted)
  return new Promise(resolve => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = probe.address().port
      probe.close(() => resolve(port))
    })
  })
}

async function main () {
  const grpcPort = await freePort(world.grpcPort)
  const server = new PuppetServer({ endpoint: `127.0.0.1:${grpcPort}`, token: world.token, puppet, tls: { disable: true } })
  await server.start()
  await new Promise(resolve => control.listen(world.controlPort || 0, '127.0.0.1', resolve))
  process.stdout.write(`READY ${JSON.stringify({ grpc: grpcPort, control: control.address().port })}\n`)
  const stop = async () => { await server.stop(); process.exit(0) }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch(e => { console.error(e); process.exit(1) })
