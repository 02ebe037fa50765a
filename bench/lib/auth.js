'use strict'
/**
 * The bench principal's credentials, shared by every bench script: the
 * gateway under test is started with SECRET (bench/gateway-server.js), and
 * clients send AUTH. The principal is not admin, so scope and ownership
 * checks run in full, as for a production client.
 */
const { createSigner } = require('fast-jwt')

const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef'
const PRINCIPAL = 'bench'
const sign = createSigner({ key: SECRET, algorithm: 'HS256' })

/** A token for the bench principal with these scopes, valid for a day. */
const mint = (scope) => sign({ sub: PRINCIPAL, scope, exp: Math.floor(Date.now() / 1000) + 24 * 3600 })

const AUTH = { authorization: `Bearer ${mint('containers:read containers:export')}` }

module.exports = { SECRET, PRINCIPAL, mint, AUTH }
